// tools/lib/espruino.ts against the fake telnet REPL: the real espruino CLI over real TCP (soak tier;
// espruino-lib.test.ts has the parts that open no connection).
import assert from "node:assert/strict";
import { FakeEspruino, withFake, rejectsWith } from "./fake-espruino.ts";
import {
  evaluate, eraseStorageFiles, probeBoard, streamConsole, storeBundle, writeStorageFiles, EspruinoCliError,
} from "../../tools/lib/espruino.ts";

const SLOW = 60_000;

describe("espruino library over tcp:// (fake REPL)", function () {
  this.timeout(SLOW);

  it("writeStorageFiles stores binary content byte for byte", async () => {
    const all = new Uint8Array(3000).map((_, i) => (i * 7) & 255); // every byte value, 3 chunks
    await withFake({}, async (fake) => {
      await writeStorageFiles({ port: fake.url }, [{ name: "blob.bin", content: all }, { name: "edgent.token", content: "tok" }], { restart: "none" });
      assert.deepEqual(new Uint8Array(fake.storage.readBuffer("blob.bin")!), all);
      assert.equal(fake.storage.read("edgent.token"), "tok");
    });
  });

  it("writeStorageFiles resets first, erases the listed files and restarts with load()", async () => {
    await withFake({ files: { ".wificfg": "w", keep: "k" } }, async (fake) => {
      await storeBundle({ port: fake.url }, "print(1)", { erase: [".wificfg"] });
      assert.deepEqual(fake.events, ["connect", "reset", "load .bootcde"]);
      assert.deepEqual(fake.storage.list().sort(), [".bootcde", "keep"]);
    });
  });

  it("a byte changed on the way is caught by the CRC32 check and the board is not restarted", async () => {
    // Flip one base64 character of the uploaded chunk: same length, other content.
    const tamper = (l: string) => l.replace('atob("Q', 'atob("R');
    await withFake({ tamper }, async (fake) => {
      await rejectsWith(storeBundle({ port: fake.url }, "AAAAAAAA"), /upload to .* was corrupted: \.bootcde arrived as 8 bytes with another CRC32/);
      assert.ok(!fake.events.some((e) => e.startsWith("load")));
    });
  });

  it("a full Storage reported by the board becomes 'not enough Storage'", async () => {
    await withFake({ storageBytes: 2048 }, async (fake) => {
      await rejectsWith(storeBundle({ port: fake.url }, "x".repeat(4000)), /not enough Storage on .*Unable to find or create file/, /eraseAll/);
    });
  });

  it("probeBoard reads process.env.BOARD, Storage statistics and file sizes", async () => {
    await withFake({ board: "ESP32", files: { ".bootcde": "abc" } }, async (fake) => {
      const { info: i } = await probeBoard({ port: fake.url }, [".bootcde", "edgent.cfg0"]);
      assert.deepEqual(i, { board: "ESP32", version: "2v29", storage: { total: 16384, free: 16384 - 36, trash: 0 }, sizes: { ".bootcde": 3, "edgent.cfg0": -1 } });
    });
  });

  it("evaluate returns the JSON value of an expression", async () => {
    await withFake({}, async (fake) => {
      const { value } = await evaluate({ port: fake.url }, "[1+1, process.env.VERSION]");
      assert.deepEqual(value, [2, "2v29"]);
    });
  });

  it("eraseStorageFiles erases without resetting the running program", async () => {
    await withFake({ files: { "edgent.cfg0": "a", "edgent.cfg1": "b" } }, async (fake) => {
      await eraseStorageFiles({ port: fake.url }, ["edgent.cfg0", "edgent.cfg1", "missing"]);
      assert.deepEqual(fake.storage.list(), []);
      assert.deepEqual(fake.events, ["connect"]);
    });
  });

  it("a board that never answers is reported as not answering", async () => {
    await withFake({ silent: true }, async (fake) => {
      await rejectsWith(probeBoard({ port: fake.url }), /^board not answering at tcp:\/\/127\.0\.0\.1:\d+: no reply from Espruino$/);
    });
  });

  it("streamConsole types load() into the console, relays the boot output and stops on abort", async () => {
    await withFake({ runBootCode: true, files: { ".bootcde": 'print("booted")' } }, async (fake) => {
      const abort = new AbortController();
      let seen = "";
      await streamConsole({ port: fake.url }, { restart: "load", signal: abort.signal, write: (t) => { seen += t; if (seen.includes("booted")) abort.abort(); } });
      assert.deepEqual(fake.events, ["connect", "load .bootcde"]);
    });
  });

  it("streamConsole reconnects after E.reboot() drops the telnet link", async () => {
    const boot = 'var n=0;setInterval(function(){print("up "+(++n))},100)';
    await withFake({ runBootCode: true, files: { ".bootcde": boot } }, async (fake) => {
      const abort = new AbortController();
      const notes: string[] = [];
      await streamConsole({ port: fake.url }, {
        restart: "reboot", signal: abort.signal, log: (l) => notes.push(l),
        write: (t) => { if (/up \d/.test(t) && fake.events.filter((e) => e === "connect").length >= 2) abort.abort(); },
      });
      assert.deepEqual(fake.events.slice(0, 3), ["connect", "reboot", "connect"]);
      assert.ok(notes.some((n) => /closed; reconnecting/.test(n)), notes.join("\n"));
    });
  });
});
