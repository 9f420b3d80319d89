import assert from "node:assert/strict";
import { loadConfig, saveConfig, updateConfig, Update, encodeRecord, decodeRecord, defaultConfig, Files, Flag, type Config } from "../../firmware/core/config.ts";

function memFiles(): Files & { data: Map<string, string>; writes: number } {
  const data = new Map<string, string>();
  const f = {
    data,
    writes: 0,
    read: (n: string) => data.get(n),
    // Espruino's Storage.write: offset 0 (or none) makes the file (of `size` bytes, 0xFF), later calls fill it
    write: (n: string, d: string, offset = 0, size?: number) => {
      f.writes++;
      if (!offset) data.set(n, d + "\xff".repeat(Math.max(0, (size ?? d.length) - d.length)));
      else {
        const old = data.get(n)!;
        assert.equal(old.slice(offset, offset + d.length), "\xff".repeat(d.length), "writes only into erased bytes");
        data.set(n, old.slice(0, offset) + d + old.slice(offset + d.length));
      }
    },
    erase: (n: string) => void data.delete(n),
  };
  return f;
}

describe("config store", () => {
  it("loads defaults from an empty flash", () => assert.deepEqual(loadConfig(memFiles()).cfg, defaultConfig()));
  it("round-trips a config through a record", () => {
    const c = defaultConfig();
    c.n = [{ s: "Caf\xc3\xa9", p: "p@ss\"word" }];
    c.t = "A".repeat(32);
    c.f = Flag.VALID;
    assert.deepEqual(decodeRecord(encodeRecord(7, c)), { q: 7, c });
  });
  it("alternates slots so the previous config survives a torn write", () => {
    const files = memFiles();
    const store = loadConfig(files);
    const a = defaultConfig();
    a.t = "a".repeat(32);
    saveConfig(files, store, a);
    const b = defaultConfig();
    b.t = "b".repeat(32);
    saveConfig(files, store, b);
    assert.equal(loadConfig(files).cfg.t, b.t);
    // power cut while writing the third record: its slot holds 0xFF padding
    const slot = store.seq % 2 === 0 ? "edgent.cfg1" : "edgent.cfg0";
    const rec = encodeRecord(store.seq + 1, defaultConfig());
    files.write(slot, rec.slice(0, 20) + "\xff".repeat(rec.length - 20));
    assert.equal(loadConfig(files).cfg.t, b.t);
    files.erase(slot); // cut between marking the old file deleted and writing the new one
    assert.equal(loadConfig(files).cfg.t, b.t);
  });
  it("does not write when nothing changed", () => {
    const files = memFiles();
    const store = loadConfig(files);
    const c = defaultConfig();
    c.t = "x".repeat(32);
    assert.equal(saveConfig(files, store, c), true);
    const writes = files.writes;
    assert.equal(saveConfig(files, store, JSON.parse(JSON.stringify(c))), false);
    assert.equal(files.writes, writes, "no write at all the second time");
  });
  it("writes a record in pieces that read back as one, each piece into erased bytes", () => {
    const files = memFiles();
    const store = loadConfig(files);
    const c = defaultConfig();
    c.n = [{ s: "Caf\xc3\xa9", p: "p@ss\"word" }];
    c.t = "z".repeat(32);
    saveConfig(files, store, c);
    assert.equal(files.data.get("edgent.cfg1"), encodeRecord(1, c), "the same bytes as a record written whole");
    assert.deepEqual(loadConfig(files).cfg, c);
  });
  it("ignores a record whose CRC does not match", () => assert.equal(decodeRecord("00000000{\"q\":1,\"c\":{}}"), undefined));
  it("keeps at most three networks, most recent first, when tested configurations are stored", () => {
    const files = memFiles();
    const store = loadConfig(files);
    const tested = (s: string, p: string): Config => ({ ...defaultConfig(), n: [{ s, p }], t: "x".repeat(32) });
    for (const [s, p] of [["a", ""], ["b", ""], ["c", ""], ["a", "new"], ["d", ""]]) updateConfig(files, store, Update.TESTED, tested(s, p), false);
    const cfg = loadConfig(files).cfg;
    assert.deepEqual(cfg.n.map((n) => n.s), ["d", "a", "c"]);
    assert.equal(cfg.n[1].p, "new");
    assert.equal(cfg.f & Flag.VALID, Flag.VALID);
  });
  it("keeps the saved networks when a configuration stored before its test (save=1) is stored again once it passed", () => {
    const files = memFiles();
    const store = loadConfig(files);
    const tested = (s: string): Config => ({ ...defaultConfig(), n: [{ s, p: "" }], t: "x".repeat(32) });
    updateConfig(files, store, Update.TESTED, tested("old"), false);
    updateConfig(files, store, Update.TESTED, tested("new"), false); // save=1: before the test
    updateConfig(files, store, Update.TESTED, store.cfg, true); // the same configuration after its login
    const cfg = loadConfig(files).cfg;
    assert.deepEqual(cfg.n.map((n) => n.s), ["new", "old"]);
    assert.equal(cfg.f & Flag.META_SENT, Flag.META_SENT);
  });
  it("leaves the stored configuration as it was when the flash refuses a write", () => {
    const files = memFiles();
    const store = loadConfig(files);
    updateConfig(files, store, Update.TESTED, { ...defaultConfig(), n: [{ s: "home", p: "" }], t: "x".repeat(32) }, false);
    const before = JSON.stringify(store.cfg);
    files.write = () => {
      throw new Error("Unable to find or create file");
    };
    assert.throws(() => updateConfig(files, store, Update.LAST_ERROR, 702));
    assert.throws(() => updateConfig(files, store, Update.TESTED, { ...defaultConfig(), n: [{ s: "other", p: "" }], t: "y".repeat(32) }, false));
    assert.equal(JSON.stringify(store.cfg), before);
  });
  it("does not store an error code or a flag that is already stored", () => {
    const files = memFiles();
    const store = loadConfig(files);
    updateConfig(files, store, Update.TESTED, { ...defaultConfig(), n: [{ s: "a", p: "" }], t: "x".repeat(32) }, false);
    assert.equal(updateConfig(files, store, Update.LAST_ERROR, 701), true);
    const writes = files.writes;
    assert.equal(updateConfig(files, store, Update.LAST_ERROR, 701), false);
    assert.equal(updateConfig(files, store, Update.META_SENT), true);
    assert.equal(updateConfig(files, store, Update.META_SENT), false);
    assert.equal(files.writes, writes + 4, "one record (4 pieces) for the flag, none for the repeats");
    assert.equal(loadConfig(files).cfg.e, 701);
  });
});
