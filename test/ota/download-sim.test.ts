// The OTA downloader inside the Espruino simulator (sim/): the bundled test firmware
// (./device.ts) downloads from the fake Blynk.Air server with the simulator's http client into its
// Storage, with Espruino's shapes (statusCode a string, 268/536-byte chunks, Storage.write with
// offset and size) and on the simulator's virtual clock.
import assert from "node:assert/strict";
import { Sim } from "../../sim/index.ts";
import type { Chip } from "../../sim/index.ts";
import { startFakeAir, FakeAir, AirFaults } from "../../sim/fake-cloud/air.ts";
import { otaBundle, parseOtaLine } from "./device.ts";
import { rng } from "./helpers.ts";

const HOME = { ssid: "HomeNet", password: "correct horse", rssi: -48, channel: 6 };
const FILE = Buffer.from(Array.from({ length: 40960 }, ((r) => () => Math.floor(r() * 256))(rng(21))));
const AIR_HOST = "air.blynk.test";

describe("OTA download in the Espruino simulator", function () {
  this.timeout(60000);
  let air: FakeAir;
  let bundle: string;
  const sims: Sim[] = [];

  before(async () => {
    bundle = await otaBundle({ wifi: { ssid: HOME.ssid, password: HOME.password } });
  });
  beforeEach(async () => {
    air = await startFakeAir();
  });
  afterEach(async () => {
    while (sims.length) sims.pop()!.stop();
    await air.close();
  });

  async function device(chip: Chip): Promise<Sim> {
    const sim = await Sim.boot({ bundle, chip, networks: [HOME], hosts: { [AIR_HOST + ":80"]: "127.0.0.1:" + air.port, [AIR_HOST + ":443"]: "127.0.0.1:" + air.port } });
    sims.push(sim);
    await sim.waitForLog(/^@@WIFI null$/, 10000);
    return sim;
  }

  const url = (name = "fw.js") => `http://${AIR_HOST}/air/${name}`;

  /** Starts a download on the device and waits (virtual time) for its one outcome. */
  async function ota(sim: Sim, options: Record<string, unknown> = {}, name = "fw.js") {
    const from = sim.markLog();
    const r = sim.repl(`__ota.start(${JSON.stringify(url(name))}, ${JSON.stringify(options)})`);
    assert.ok(!(r instanceof Error), String(r));
    const line = await sim.waitForLog(/^@@OTA \{/, 120000, from);
    await sim.advance(2000);
    assert.equal(sim.console.slice(from).filter((l) => l.startsWith("@@OTA")).length, 1, "exactly one outcome");
    return parseOtaLine(line);
  }

  for (const chip of ["ESP8266", "ESP32"] as const) {
    it(`${chip}: downloads 40 KB into Storage in ${chip === "ESP8266" ? 268 : 536}-byte chunks and verifies its SHA-256`, async () => {
      const s = air.serve("fw.js", FILE);
      const sim = await device(chip);
      const writes = sim.storage.writes;
      const r = await ota(sim);
      assert.deepEqual([r.ok, r.size, r.hash, r.digest], [true, FILE.length, "sha256", s.sha256]);
      assert.deepEqual(Buffer.from(sim.storage.read("fw.new") ?? "", "latin1"), FILE, "the file in Storage is the served file");
      const chunk = chip === "ESP8266" ? 268 : 536;
      assert.ok(sim.storage.writes - writes >= FILE.length / chunk, `one Storage.write per chunk (${sim.storage.writes - writes})`);
      assert.equal(sim.timerCount(), 0, "no timer left");
    });
  }

  it("ESP8266: verifies the MD5 when asked to prefer it", async () => {
    const s = air.serve("fw.js", FILE);
    const r = await ota(await device("ESP8266"), { prefer: "md5" });
    assert.deepEqual([r.ok, r.hash, r.digest], [true, "md5", s.md5]);
  });

  const failures: [string, AirFaults, Record<string, unknown>, string, RegExp][] = [
    ["HTTP 404", { status: 404 }, {}, "http", /^HTTP 404$/],
    ["no Content-Length", { contentLength: null }, {}, "length", /^no Content-Length$/],
    ["a body that ends early", { cutAt: 12000 }, {}, "short", /^body ended at 12000 of 40960 bytes$/],
    ["a stalled body", { stallAt: 5000 }, { idleMs: 10000 }, "timeout", /^timeout after 10 s without data$/],
    ["a wrong x-md5", { sha256: null, md5: "0".repeat(32) }, {}, "mismatch", /^MD5 mismatch: got [0-9a-f]{32}, expected 0{32}$/],
    ["a wrong x-sha256", { sha256: Buffer.alloc(32).toString("base64") }, {}, "mismatch", /^SHA-256 mismatch/],
    ["a body longer than Content-Length", { extra: 600 }, {}, "long", /^body longer than its Content-Length of 40960 bytes$/],
  ];
  for (const [what, faults, options, code, message] of failures) {
    it(`ESP8266: reports ${what} as "${code}"`, async () => {
      air.serve("fw.js", FILE, faults);
      const r = await ota(await device("ESP8266"), options);
      assert.equal(r.ok, false);
      assert.equal(r.code, code);
      assert.match(String(r.message), message);
    });
  }

  it("ESP8266: reports 'Storage full' when the file is bigger than the free flash", async () => {
    air.serve("fw.js", Buffer.alloc(250 * 1024, 0x41));
    const sim = await device("ESP8266");
    const r = await ota(sim);
    assert.equal(r.code, "room");
    assert.match(String(r.message), /^Storage full: 256000 bytes needed, \d+ free$/);
    assert.equal(sim.storage.read("fw.new"), undefined, "nothing written");
  });

  it("ESP8266: fetches an https:// URL over plain HTTP with scheme 'http' (no TLS on the chip)", async () => {
    air.serve("fw.js", FILE);
    const sim = await device("ESP8266");
    const from = sim.markLog();
    sim.repl(`__ota.start(${JSON.stringify(url().replace("http://", "https://"))}, {scheme: "http"})`);
    const r = parseOtaLine(await sim.waitForLog(/^@@OTA \{/, 120000, from));
    assert.equal(r.ok, true);
    assert.equal(sim.netStats.tlsConnects, 0);
  });

  it("ESP32: fetches over TLS with scheme 'https'", async () => {
    air.serve("fw.js", FILE);
    const sim = await device("ESP32");
    const r = await ota(sim, { scheme: "https" });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(sim.netStats.tlsConnects, 1);
  });

  it("close() during the download: no outcome, no timer, no more Storage writes", async () => {
    air.serve("fw.js", FILE, { trickle: { bytes: 1024, everyMs: 50 } });
    const sim = await device("ESP8266");
    const from = sim.markLog();
    sim.repl(`__ota.start(${JSON.stringify(url())}, {})`);
    // the fake Air trickles in real time: device time must not run ahead of it, or the download's
    // own timeout ends it before close() is called
    const stored = () => (sim.storage.read("fw.new") ?? "").replace(/\xff+$/, "").length;
    for (const end = Date.now() + 20000; stored() <= 2000 && Date.now() < end; ) {
      await sim.advance(5);
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(stored() > 2000, "2 KB arrived before close()");
    const timersBefore = sim.timerCount();
    sim.repl("__ota.close()");
    const writes = sim.storage.writes;
    await sim.advance(5000);
    assert.ok(timersBefore >= 1, "the download had its timer");
    assert.equal(sim.timerCount(), 0, "no timer left");
    assert.equal(sim.storage.writes, writes, "no Storage write after close()");
    assert.deepEqual(sim.console.slice(from).filter((l) => l.startsWith("@@OTA")), ["@@OTA closed"], "no outcome after close()");
  });
});
