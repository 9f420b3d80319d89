// The cloud link of the BUILT firmware (dist/<board>.js) in the simulator, against the fake cloud:
// a provisioned device boots, logs in, and survives the faults of the issue. After each fault it is
// online again (or in the portal where that is the specified outcome) with the timers and sockets it
// had before. Needs `npm run build` first; skipped for a board whose bundle is missing.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { Sim } from "../sim/index.ts";
import { startFakeCloud, FakeCloud } from "../fake-cloud/server.ts";
import { encodeRecord, defaultConfig, Flag } from "../../firmware/core/config.ts";
import { TOKEN, vectors, bytes } from "./vectors.ts";

const HOME = { ssid: "HomeNet", password: "correct horse", rssi: -48, channel: 6 };
const BOARDS = [
  { board: "esp32-devkitc", chip: "ESP32" as const, dev: "ESP32", tls: true },
  { board: "nodemcu", chip: "ESP8266" as const, dev: "NodeMCU", tls: false },
];
/** A redirect target the device can resolve (the simulator blackholes unmapped IP addresses). */
const OTHER_HOST = "sgp1.blynk.cloud";

interface Device {
  sim: any;
  cloud: FakeCloud;
  other: FakeCloud;
  /** Port the device uses for the cloud: 443 with TLS (ESP32), 80 without (ESP8266). */
  port: number;
  online(): boolean;
  state(): string;
  /** Waits until RUNNING and logged in, then a little longer so every timer is in its steady state. */
  settle(maxMs?: number): Promise<void>;
  counts(): { timers: number; sockets: number };
}

const bundlePath = (board: string) => new URL(`../../dist/${board}.js`, import.meta.url).pathname;

async function boot(b: (typeof BOARDS)[number]): Promise<Device> {
  const cloud = await startFakeCloud({ tokens: [TOKEN] });
  const other = await startFakeCloud({ tokens: [TOKEN] });
  const port = b.tls ? 443 : 80;
  const c = defaultConfig();
  c.n = [{ s: HOME.ssid, p: HOME.password }];
  c.t = TOKEN;
  c.f = Flag.VALID | Flag.META_SENT;
  const sim = await Sim.boot({
    bundle: bundlePath(b.board),
    chip: b.chip,
    networks: [HOME],
    // only the port the board should use leads to the cloud: the other one refuses
    hosts: {
      ["blynk.cloud:" + port]: "127.0.0.1:" + cloud.port,
      ["blynk.cloud:" + (b.tls ? 80 : 443)]: "refuse",
      [OTHER_HOST + ":" + port]: "127.0.0.1:" + other.port,
    },
    storage: Sim.flashWith({ "edgent.cfg1": encodeRecord(1, c) }, b.chip),
  });
  const status = () => JSON.parse(sim.repl("JSON.stringify(edgent.status())") as string);
  const d: Device = {
    sim,
    cloud,
    other,
    port,
    online: () => status().cloud === true,
    state: () => status().state,
    async settle(maxMs = 180000) {
      assert.ok(await sim.until(() => d.state() === "RUNNING" && d.online(), maxMs), "online within " + maxMs + " ms:\n" + sim.console.slice(-20).join("\n"));
      await sim.advance(3000);
    },
    counts: () => ({ timers: sim.timerCount(), sockets: sim.socketCount() }),
  };
  devices.push(d);
  return d;
}

const devices: Device[] = [];
const lines = (d: Device, re: RegExp, from = 0) => d.sim.console.slice(from).filter((l: string) => re.test(l));

afterEach(async () => {
  for (const d of devices.splice(0)) {
    d.sim.stop();
    await d.cloud.close();
    await d.other.close();
  }
});

for (const b of BOARDS) {
  describe(`cloud link of the built ${b.board} bundle (${b.chip}, simulator)`, function () {
    before(function () {
      if (!existsSync(bundlePath(b.board))) {
        this.test!.parent!.title += " (skipped: run npm run build first)";
        this.skip();
      }
    });

    it(`logs in ${b.tls ? "over TLS to port 443" : "over plain TCP to port 80"} with the reference bytes, then the info message`, async () => {
      const d = await boot(b);
      await d.settle();
      const login = bytes(vectors[0].hex);
      assert.equal(d.cloud.sessions[0].bytes.subarray(0, login.length).toString("latin1"), login, "HW_LOGIN id 1 with the token");
      const info = d.cloud.sessions[0].info!;
      assert.deepEqual(Object.keys(info), ["mcu", "fw-type", "build", "blynk", "h-beat", "buff-in", "dev", "tmpl"]);
      assert.equal(info.dev, b.dev);
      assert.equal(info["h-beat"], "40");
      assert.equal(info["buff-in"], "1024");
      assert.match(info.tmpl, /^TMPL/);
      assert.equal(d.sim.tlsConnects > 0, b.tls);
      assert.ok(lines(d, /Ready \(ping: \d+ms\)\./).length === 1);
    });

    it("a 10-minute session: a PING every 40 s, answered, no reconnect, no leaked timer or socket", async () => {
      const d = await boot(b);
      await d.settle();
      const before = d.counts();
      const pings = d.cloud.count("ping");
      await d.sim.advance(600000);
      assert.ok(d.cloud.count("ping") - pings >= 14, "pings: " + (d.cloud.count("ping") - pings));
      assert.equal(d.cloud.sessions.length, 1);
      assert.ok(d.online());
      assert.deepEqual(d.counts(), before);
    });

    it("a server that goes silent: Heartbeat timeout after 58 s, then online again", async () => {
      const d = await boot(b);
      await d.settle();
      const before = d.counts();
      const from = d.sim.markLog();
      d.cloud.silent(true);
      const t0 = d.sim.now();
      await d.sim.waitForLog(/Heartbeat timeout/, 70000, from);
      assert.ok(d.sim.now() - t0 <= 58000 && d.sim.now() - t0 > 50000, "after " + (d.sim.now() - t0) + " ms");
      d.cloud.silent(false);
      await d.settle();
      assert.deepEqual(d.counts(), before);
    });

    it("the server closes the socket: Disconnected, then online again", async () => {
      const d = await boot(b);
      await d.settle();
      const before = d.counts();
      const from = d.sim.markLog();
      d.cloud.closeSockets();
      await d.sim.waitForLog(/Disconnected/, 5000, from);
      await d.settle();
      assert.equal(d.cloud.logins.length, 2);
      assert.deepEqual(d.counts(), before);
    });

    it(`the server refuses connections${b.chip === "ESP32" ? " (connect throws synchronously on ESP32)" : ""}: back-off, then online again`, async () => {
      const d = await boot(b);
      await d.settle();
      const before = d.counts();
      const from = d.sim.markLog();
      await d.cloud.refuse(true);
      d.cloud.closeSockets();
      await d.sim.advance(120000);
      const attempts = lines(d, /Connecting to blynk\.cloud/, from).length;
      assert.ok(attempts >= 3 && attempts <= 7, "attempts in 2 minutes: " + attempts + "\n" + d.sim.console.slice(from).join("\n"));
      assert.ok(lines(d, /connection failed: /i, from).length >= 3, "failures logged");
      assert.equal(d.sim.uncaught.length, 0, "nothing thrown out of the loop");
      await d.cloud.refuse(false);
      await d.settle(120000);
      assert.deepEqual(d.counts(), before);
    });

    it("REDIRECT: goes to the other server at once", async () => {
      const d = await boot(b);
      await d.settle();
      const before = d.counts();
      d.cloud.redirect(OTHER_HOST, d.port);
      assert.ok(await d.sim.until(() => d.other.current() !== undefined, 5000));
      assert.equal(lines(d, new RegExp("Redirecting to " + OTHER_HOST.replace(/\./g, "\\.") + ":" + d.port)).length, 1);
      await d.settle();
      assert.equal(d.cloud.openCount(), 0);
      assert.deepEqual(d.counts(), before);
    });

    it("a 2 KB frame: Packet too big, reconnect, online again", async () => {
      const d = await boot(b);
      await d.settle();
      const before = d.counts();
      d.cloud.sendBig(2048);
      await d.sim.waitForLog(/Packet too big: 2048/, 5000);
      await d.settle();
      assert.equal(d.cloud.logins.length, 2);
      assert.deepEqual(d.counts(), before);
    });

    it("an unknown command: reconnect, online again", async () => {
      const d = await boot(b);
      await d.settle();
      const before = d.counts();
      d.cloud.sendUnknown(99);
      await d.sim.waitForLog(/Invalid header type: 99/, 5000);
      await d.settle();
      assert.equal(d.cloud.logins.length, 2);
      assert.deepEqual(d.counts(), before);
    });

    it("INVALID_TOKEN (9) after a server restart: back to the portal with last_error 703, no more logins", async () => {
      const d = await boot(b);
      await d.settle();
      d.cloud.invalidate(TOKEN);
      d.cloud.closeSockets();
      await d.sim.waitForLog(/Invalid auth token/, 30000);
      assert.ok(await d.sim.until(() => d.sim.wifi.apRunning(), 30000), "portal open");
      const info = JSON.parse((await d.sim.fetch("/board_info.json")).body);
      assert.equal(info.last_error, 703);
      const logins = d.cloud.logins.length;
      await d.sim.advance(120000);
      assert.equal(d.cloud.logins.length, logins, "no login attempts from the portal");
      assert.equal(d.cloud.openCount(), 0);
    });

    it("dbg \"config erase\" from the cloud: config erased, portal open", async () => {
      const d = await boot(b);
      await d.settle();
      d.cloud.dbg("config erase");
      assert.ok(await d.sim.until(() => d.sim.wifi.apRunning(), 30000), "portal open");
      await d.sim.advance(2000);
      assert.ok(!d.sim.storage.list().some((n: string) => n.startsWith("edgent.cfg")), "config erased: " + d.sim.storage.list());
      assert.equal(d.cloud.openCount(), 0);
    });

    it("dbg \"config start\" from the cloud: portal open, config kept", async () => {
      const d = await boot(b);
      await d.settle();
      const cfg = d.sim.storage.read("edgent.cfg1");
      d.cloud.dbg("config start");
      assert.ok(await d.sim.until(() => d.sim.wifi.apRunning(), 30000), "portal open");
      assert.equal(d.sim.storage.read("edgent.cfg1"), cfg);
    });

    it("user virtual pin round trip: the app writes V1, the device's handler answers on V1", async () => {
      const d = await boot(b);
      await d.settle();
      d.sim.repl("edgent.onWrite(1, function (v) { edgent.virtualWrite(1, v[0] * 2); })");
      d.cloud.virtualWrite(1, 21);
      assert.ok(await d.sim.until(() => (d.cloud.values["1"] || [])[0] === "42", 5000), "V1 = " + d.cloud.values["1"]);
      const reply = d.cloud.frames.filter((f) => f.cmd === 20).pop()!;
      const sent = d.cloud.events.filter((e) => e.kind === "sent" && e.cmd === 20).pop()!;
      assert.equal(reply.id, sent.id, "the reply reuses the write's message id");
      assert.equal(d.sim.repl("edgent.virtualWrite(2, 'on', 3.5)"), true);
      assert.equal(d.sim.repl("edgent.logEvent('hello')"), true);
      // the bytes travel over real loopback TCP, where a small write can wait for an ACK (Nagle) while
      // virtual time runs ahead: wait for them rather than for a fixed virtual time
      assert.ok(await d.sim.until(() => (d.cloud.values["2"] || []).length === 2 && d.cloud.count("event") === 1, 60000));
      assert.deepEqual(d.cloud.values["2"], ["on", "3.5"]);
      assert.equal(d.cloud.count("event"), 1);
    });
  });
}
