// The cloud link of the BUILT firmware (dist/<board>.js) against the fake cloud, in the simulator and
// on the real interpreter (test/system/device.ts): a provisioned device boots, logs in, and survives
// the faults of the issue. After each fault it is online again (or in the portal where that is the
// specified outcome) with the timers and sockets it had before. Needs `npm run build` first.
//
// What cannot run on the real side says so in its name: minutes of device time (40 s heartbeats,
// back-off to 60 s, the portal's 10-minute idle limit) that the simulator's virtual clock runs in
// milliseconds, and timing read off the wire (the simulator's netStats). Waits that only prove that
// nothing happens (no logins from the portal) watch for QUIET_MS of device time: two minutes in the
// simulator, a few seconds of wall clock on the real interpreter.
import assert from "node:assert/strict";
import { encodeRecord, decodeRecord, defaultConfig, Flag } from "../../firmware/core/config.ts";
import { TOKEN, vectors, errorVectors, bytes, vectorBytes } from "./vectors.ts";
import { Colour, Pat, patternRow } from "../../firmware/led/patterns.ts";
import { expected, same } from "../led/eye.ts";
import { assertPattern, lightAt } from "../led/pattern-check.ts";
import { loadBoards, type Board as LedBoard } from "../led/boards.ts";
import { BOARDS } from "../system/helpers.ts";
import { systemSuite, MORE_BOARDS, type Backend, type Board, type BootOptions, type TestDevice } from "../system/device.ts";

const HOME = { ssid: "HomeNet", password: "correct horse", rssi: -48, channel: 6 };
/** A redirect target the device can resolve, served by a second fake cloud (TestDevice.other). */
const OTHER_HOST = "sgp1.blynk.cloud";
/** How long a test watches for something that must not happen (no login from the portal). */
const QUIET_MS: Record<Backend, number> = { sim: 120000, real: 10000 };
const DEV: Record<string, string> = { ESP32: "ESP32", ESP8266: "NodeMCU" };

/** TLS to port 443 on ESP32, plain TCP to port 80 on ESP8266 (no TLS in its build). */
const tlsOf = (b: Board) => b.chip === "ESP32";
const portOf = (b: Board) => (tlsOf(b) ? 443 : 80);

/**
 * A provisioned device on the home network; `provisioned: false` boots with no configuration (the
 * portal); `flags` replaces VALID | META_SENT. Only the port the board should use leads to the cloud:
 * the other one refuses.
 */
function deviceOptions(b: Board, opts: { provisioned?: boolean; flags?: number; pins?: boolean } = {}): Omit<BootOptions, "board"> {
  const c = defaultConfig();
  c.n = [{ s: HOME.ssid, p: HOME.password }];
  c.t = TOKEN;
  c.f = opts.flags ?? Flag.VALID | Flag.META_SENT;
  return {
    networks: [HOME],
    cloudPort: portOf(b),
    otherCloud: OTHER_HOST,
    files: opts.provisioned === false ? undefined : { "edgent.cfg1": encodeRecord(1, c) },
    pins: opts.pins,
  };
}

const status = (d: TestDevice) => d.status();
const online = async (d: TestDevice) => (await status(d)).cloud === true;

/** Waits until RUNNING and logged in, then a little longer so every timer is in its steady state. */
async function settle(d: TestDevice, maxMs = 180000): Promise<void> {
  assert.ok(
    await d.until(async () => {
      const s = await status(d);
      return s.state === "RUNNING" && s.cloud === true;
    }, maxMs),
    "online within " + maxMs + " ms:\n" + d.console.slice(-20).join("\n"),
  );
  await d.advance(3000);
}

const lines = (d: TestDevice, re: RegExp, from = 0) => d.console.slice(from).filter((l: string) => re.test(l));
async function waitForLog(d: TestDevice, re: RegExp, maxMs: number, from = 0): Promise<void> {
  assert.ok(await d.waitForLog(re, maxMs, from), "no line matching " + re + ":\n" + d.console.slice(-15).join("\n"));
}
/** Device time of the first console line matching re ("[millis] message"). */
function logTime(d: TestDevice, re: RegExp, from = 0): number {
  const l = lines(d, re, from)[0];
  assert.ok(l, "no line matching " + re + ":\n" + d.console.slice(-15).join("\n"));
  return +/^\[(\d+)\]/.exec(l)![1];
}

interface WireFrame {
  /** Device time the bytes left (sent) or were taken in (received). */
  t: number;
  cmd: number;
  id: number;
  len: number;
  body: string;
  /** The frame's bytes as they travelled. */
  raw: string;
}

/** Frames on the device's cloud connections, parsed from the simulator's socket records (simulator only). */
function wire(d: TestDevice, dir: "sent" | "received", host = "blynk.cloud"): WireFrame[] {
  const out: WireFrame[] = [];
  let buf = "";
  for (const c of d.sim!.netStats[dir] as { t: number; to: string; bytes: Buffer }[]) {
    if (c.to !== host + ":" + portOf(d.board)) continue;
    buf += c.bytes.toString("latin1");
    while (buf.length >= 5) {
      const cmd = buf.charCodeAt(0);
      const len = (buf.charCodeAt(3) << 8) | buf.charCodeAt(4);
      const n = cmd === 0 ? 0 : len;
      if (buf.length < 5 + n) break;
      out.push({ t: c.t, cmd, id: (buf.charCodeAt(1) << 8) | buf.charCodeAt(2), len, body: buf.substr(5, n), raw: buf.substr(0, 5 + n) });
      buf = buf.substr(5 + n);
    }
  }
  return out;
}

/** The configuration record in force (the slot with the higher sequence number). */
async function storedFlags(d: TestDevice): Promise<number> {
  const flash = await d.flash();
  const recs = [0, 1].map((i) => decodeRecord(flash["edgent.cfg" + i])).filter((r) => r) as { q: number; c: { f: number } }[];
  assert.ok(recs.length, "a stored configuration");
  return recs.sort((a, b) => b.q - a.q)[0].c.f;
}

/** Hotspot Name metadata frames the cloud received, over all sessions. */
const metaFrames = (d: TestDevice) => d.cloud.frames.filter((f) => f.cmd === 17 && f.body.startsWith("meta\0"));

systemSuite("cloud link of the built bundle", ({ board: b, backend, boot, simOnly }) => {
  const open = (opts: { provisioned?: boolean; flags?: number; pins?: boolean } = {}) => boot(deviceOptions(b, opts));

  /** Timers and sockets of a device that booted unprovisioned and runs its portal: the state a fault may end in. */
  let portalCounts: { timers: number; sockets: number } | undefined;
  async function portalBaseline(): Promise<{ timers: number; sockets: number }> {
    if (!portalCounts) {
      const d = await open({ provisioned: false });
      assert.ok(await d.until(async () => (await d.ap()).up && (await status(d)).state === "WAIT_CONFIG", 30000), "fresh portal");
      await d.advance(5000);
      portalCounts = await d.counts();
    }
    return portalCounts;
  }

  /**
   * After a fault that ends in the portal: AP up, no cloud socket, timers and sockets of a fresh portal
   * (`extraTimers`: a provisioned device's portal also has the deadline that takes it back online).
   */
  async function assertPortal(d: TestDevice, extraTimers = 0): Promise<void> {
    assert.ok(await d.until(async () => (await d.ap()).up, 30000), "portal open");
    await d.advance(5000);
    assert.equal(d.cloud.openCount(), 0, "no cloud connection on the server side");
    assert.equal(await d.cloudSockets(), 0, "no cloud socket on the device");
    const base = await portalBaseline();
    assert.deepEqual(await d.counts(), { timers: base.timers + extraTimers, sockets: base.sockets }, "timers and sockets of a fresh portal");
  }

  it(`logs in ${tlsOf(b) ? "over TLS to port 443" : "over plain TCP to port 80"} with the reference bytes, then the info message`, async () => {
    const d = await open();
    await settle(d);
    const login = vectorBytes("login (HW_LOGIN");
    assert.equal(d.cloud.sessions[0].bytes.subarray(0, login.length).toString("latin1"), login, "HW_LOGIN id 1 with the token");
    const info = d.cloud.sessions[0].info!;
    assert.deepEqual(Object.keys(info), ["mcu", "fw-type", "build", "blynk", "h-beat", "buff-in", "dev", "tmpl"]);
    assert.equal(info.dev, DEV[b.chip]);
    assert.equal(info["h-beat"], "40");
    assert.equal(info["buff-in"], "1024");
    assert.match(info.tmpl, /^TMPL/);
    assert.equal(d.tlsConnects() > 0, tlsOf(b));
    assert.ok(lines(d, /Ready \(ping: \d+ms\)\./).length === 1);
  });

  simOnly("a 10-minute session: a PING every 40 s, answered, no reconnect, no leaked timer or socket", "10 minutes of device time, ping spacing read off the wire (netStats)", async () => {
    const d = await open();
    await settle(d);
    const before = await d.counts();
    const t0 = d.sim!.now();
    await d.advance(600000);
    const pings = wire(d, "sent").filter((f) => f.cmd === 6 && f.t >= t0);
    // idle for 40 s after each answered ping: 600 / 40 = 15 pings, give or take the phase
    assert.ok(pings.length >= 14 && pings.length <= 16, "pings in 10 minutes: " + pings.length);
    for (let i = 1; i < pings.length; i++) {
      // (virtual times carry fractions of a ms; the spacing is whole ms give or take float noise)
      const gap = Math.round((pings[i].t - pings[i - 1].t) * 1000) / 1000;
      assert.ok(gap >= 40000 && gap <= 40200, "ping spacing " + gap + " ms");
    }
    const replies = wire(d, "received").filter((f) => f.cmd === 0 && f.t >= t0);
    assert.deepEqual(replies.map((f) => f.id + ":" + f.len), pings.map((f) => f.id + ":200"), "every ping answered");
    assert.equal(d.cloud.sessions.length, 1);
    assert.ok(await online(d));
    assert.deepEqual(await d.counts(), before);
  });

  simOnly("a server that goes silent: Heartbeat timeout after 58 s, then online again", "a minute of silence, the timeout measured on the wire (netStats)", async () => {
    const d = await open();
    await settle(d);
    const before = await d.counts();
    const from = d.console.length;
    d.cloud.silent(true);
    await waitForLog(d, /Heartbeat timeout/, 100000, from);
    const lastHeard = wire(d, "received").pop()!.t;
    const gone = logTime(d, /Heartbeat timeout/, from);
    assert.ok(gone - lastHeard >= 58000 && gone - lastHeard <= 58020, "timeout " + (gone - lastHeard) + " ms after the server's last frame");
    // pings at 40, 46 and 52 s of silence went unanswered
    const unanswered = wire(d, "sent").filter((f) => f.cmd === 6 && f.t > lastHeard).map((f) => f.t - lastHeard);
    // the 4th lands on the 58th second when the last reply came a millisecond after its ping
    assert.ok(unanswered.length >= 3 && unanswered.length <= 4 && unanswered[0] >= 39000, "pings after the last frame: " + unanswered);
    d.cloud.silent(false);
    await settle(d);
    assert.deepEqual(await d.counts(), before);
  });

  it("the server closes the socket: Disconnected, then online again", async () => {
    const d = await open();
    await settle(d);
    const before = await d.counts();
    const from = d.console.length;
    d.cloud.closeSockets();
    await waitForLog(d, /Disconnected/, 5000, from);
    await settle(d);
    assert.equal(d.cloud.logins.length, 2);
    assert.deepEqual(await d.counts(), before);
  });

  simOnly(
    `the server refuses connections${b.chip === "ESP32" ? " (connect throws synchronously on ESP32)" : ""}: attempts 5, 10, 20, 40, 60, 60 s apart, capped, then online again`,
    "5 minutes of back-off up to 60 s",
    async () => {
      const d = await open();
      await settle(d);
      const before = await d.counts();
      const from = d.console.length;
      await d.cloud.refuse(true);
      d.cloud.closeSockets();
      await d.advance(300000);
      const starts = lines(d, /Connecting to blynk\.cloud/, from).map((l: string) => +/^\[(\d+)\]/.exec(l)![1]);
      const gaps = starts.slice(1).map((t: number, i: number) => Math.round((t - starts[i]) / 1000));
      assert.deepEqual(gaps.slice(0, 6), [5, 10, 20, 40, 60, 60], "gaps between attempts (s)");
      assert.ok(gaps.slice(6).every((g: number) => g === 60), "capped at 60 s: " + gaps);
      assert.ok(lines(d, /connection failed: /i, from).length >= starts.length - 1, "failures logged");
      assert.deepEqual(d.errors(), [], "nothing thrown out of the loop");
      await d.cloud.refuse(false);
      await settle(d, 120000);
      assert.deepEqual(await d.counts(), before);
    },
  );

  it("REDIRECT: goes to the other server at once", async () => {
    const d = await open();
    await settle(d);
    const before = await d.counts();
    d.cloud.redirect(OTHER_HOST, portOf(b));
    assert.ok(await d.until(() => d.other!.current() !== undefined, 5000));
    assert.equal(lines(d, new RegExp("Redirecting to " + OTHER_HOST.replace(/\./g, "\\.") + ":" + portOf(b))).length, 1);
    await settle(d);
    assert.equal(d.cloud.openCount(), 0);
    assert.deepEqual(await d.counts(), before);
  });

  it("INVALID_TOKEN (9) after a server restart: back to the portal with last_error 703, no more logins", async () => {
    const d = await open();
    await settle(d);
    d.cloud.invalidate(TOKEN);
    d.cloud.closeSockets();
    await waitForLog(d, /Invalid auth token/, 30000);
    assert.ok(await d.until(async () => (await d.ap()).up, 30000), "portal open");
    assert.ok(await d.portal(), "portal serving");
    const info = JSON.parse((await d.fetch("/board_info.json")).body);
    assert.equal(info.last_error, 703);
    const logins = d.cloud.logins.length;
    await d.advance(QUIET_MS[backend]);
    assert.equal(d.cloud.logins.length, logins, "no login attempts from the portal");
    await assertPortal(d);
  });

  it('dbg "config erase" from the cloud: config erased, portal open', async () => {
    const d = await open();
    await settle(d);
    d.cloud.dbg("config erase");
    await assertPortal(d);
    const names = await d.storageNames();
    assert.ok(!names.some((n: string) => n.startsWith("edgent.cfg")), "config erased: " + names);
  });

  it('dbg "config start" from the cloud: portal open, config kept', async () => {
    const d = await open();
    await settle(d);
    const cfg = (await d.flash())["edgent.cfg1"];
    d.cloud.dbg("config start");
    await assertPortal(d, 1);
    assert.equal((await d.flash())["edgent.cfg1"], cfg);
    const logins = d.cloud.logins.length;
    await d.advance(QUIET_MS[backend]);
    assert.equal(d.cloud.logins.length, logins, "no login attempts from the portal");
  });

  simOnly('dbg "config start": with no phone on the setup network for 10 minutes, back to the saved network and online', "the portal's 10-minute idle limit", async () => {
    const d = await open();
    await settle(d);
    d.cloud.dbg("config start");
    await assertPortal(d, 1);
    const logins = d.cloud.logins.length;
    await d.advance(9 * 60000);
    assert.equal(d.cloud.logins.length, logins, "still in the portal after 9 minutes");
    assert.ok(await d.until(async () => d.cloud.logins.length > logins && (await status(d)).state === "RUNNING", 120000), "online again");
    assert.ok(!(await d.ap()).up, "setup access point closed");
    assert.ok(d.console.some((l: string) => /No phone on the setup network for 10 minutes/.test(l)));
  });

  simOnly('dbg "config start" while a phone is connected: the portal stays as long as the phone does', "15 minutes with a phone, then the 10-minute idle limit", async () => {
    const d = await open();
    await settle(d);
    d.cloud.dbg("config start");
    await assertPortal(d, 1);
    assert.ok(await d.stationJoin("aa:bb:cc:00:00:01"));
    const logins = d.cloud.logins.length;
    await d.advance(15 * 60000);
    assert.equal(d.cloud.logins.length, logins, "no login while the phone is there");
    assert.ok((await d.ap()).up, "portal still open");
    await d.stationLeave("aa:bb:cc:00:00:01");
    assert.ok(await d.until(async () => (await status(d)).state === "RUNNING", 11 * 60000), "online again 10 minutes after the phone left");
  });

  simOnly(
    "the reference ping and vw bytes on the wire, and the server's OK and ping replies as the device took them in",
    "40 s of idle before the ping, bytes read off the wire (netStats)",
    async () => {
      const d = await open();
      await settle(d);
      const t0 = d.sim!.now();
      assert.ok(await d.until(() => wire(d, "sent").some((f) => f.cmd === 6), 60000), "a ping within 40 s of idle");
      const ping = wire(d, "sent").find((f) => f.cmd === 6)!;
      assert.ok(ping.t - t0 >= 40000 - 3000 - 100, "first ping after 40 s idle");
      assert.equal(await d.repl("edgent.virtualWrite(1, 42)"), true);
      await d.until(() => wire(d, "sent").some((f) => f.cmd === 20), 5000);
      const sent = wire(d, "sent");
      // login id 1, info id 2, then the ping (id 3) and the vw (id 4) of the reference vectors
      assert.deepEqual(sent.map((f) => f.cmd), [29, 17, 6, 20]);
      assert.equal(sent[2].raw, vectorBytes("ping (PING 6, id 3"), "ping (PING 6, id 3");
      assert.equal(sent[3].raw, vectorBytes("virtualWrite(1, 42)"), "virtualWrite(1, 42)");
      const got = wire(d, "received");
      assert.equal(got[0].raw, vectorBytes("server reply OK to the login"), "server reply OK to the login");
      assert.equal(got[1].raw, vectorBytes("server reply to the ping"), "server reply to the ping");
      // and the server saw the same bytes
      const all = d.cloud.sessions[0].bytes.toString("latin1");
      assert.equal(all, sent.map((f) => f.raw).join(""));
    },
  );

  it("answers the server's PING with RESPONSE 200 and the same id", async () => {
    const d = await open();
    await settle(d);
    d.cloud.sendRaw(vectorBytes("server ping (PING 6, id 0xFFFF)")); // PING id 0xFFFF
    assert.ok(await d.until(() => d.cloud.events.some((e) => e.kind === "response"), 5000), "a response");
    const r = d.cloud.events.find((e) => e.kind === "response")!;
    assert.deepEqual([r.id, r.status], [65535, 200]);
    assert.ok(await online(d));
    assert.equal(d.cloud.sessions.length, 1);
  });

  it("DEBUG_PRINT from the server is logged", async () => {
    const d = await open();
    await settle(d);
    const from = d.console.length;
    d.cloud.sendRaw(bytes(vectors[10].hex)); // DEBUG_PRINT "hello"
    await waitForLog(d, /\] Server: hello$/, 5000, from);
    assert.ok(await online(d));
    assert.equal(d.cloud.sessions.length, 1);
  });

  for (const fault of [
    { name: "a 2 KB frame", send: (d: TestDevice) => d.cloud.sendBig(2048), log: /Packet too big: 2048/ },
    { name: "an unknown command", send: (d: TestDevice) => d.cloud.sendUnknown(99), log: /Invalid header type: 99/ },
    { name: "RESPONSE 5 (not authenticated) while online", send: (d: TestDevice) => d.cloud.sendRaw("\x00\x00\x07\x00\x05"), log: /Not authenticated/ },
    { name: "a frame with message id 0", send: (d: TestDevice) => d.cloud.sendRaw(vectorBytes("message id 0")), log: /Invalid message id 0/ },
  ])
    it(`${fault.name}: disconnect, then online again with the same timers and sockets`, async () => {
      const d = await open();
      await settle(d);
      const before = await d.counts();
      const from = d.console.length;
      fault.send(d);
      await waitForLog(d, fault.log, 5000, from);
      await waitForLog(d, /Disconnected/, 5000, from);
      await settle(d);
      assert.equal(d.cloud.logins.length, 2);
      assert.deepEqual(await d.counts(), before);
    });

  simOnly(
    "a server that never answers the login: Login timeout 6 s after the login went out, then online again",
    "the timeout measured from the login on the wire (netStats)",
    async () => {
      const d = await open();
      await settle(d);
      const before = await d.counts();
      const from = d.console.length;
      d.cloud.silent(true);
      d.cloud.closeSockets();
      await waitForLog(d, /Login timeout/, 30000, from);
      const login = wire(d, "sent").filter((f) => f.cmd === 29).pop()!;
      const gone = logTime(d, /Login timeout/, from);
      // the login is timed from the moment it was written; the socket sends it on the next idle loop
      assert.ok(Math.abs(gone - login.t - 6000) <= 20, "Login timeout " + (gone - login.t) + " ms after the login");
      d.cloud.silent(false);
      await settle(d, 120000);
      assert.deepEqual(await d.counts(), before);
    },
  );

  it("a port-less REDIRECT keeps the board's transport: " + (tlsOf(b) ? "the TLS port" : "port 80"), async () => {
    const d = await open();
    await settle(d);
    const before = await d.counts();
    d.cloud.send(41, OTHER_HOST);
    assert.ok(await d.until(() => d.other!.current() !== undefined, 10000), "logged in at the other server");
    assert.equal(lines(d, new RegExp("Redirecting to " + OTHER_HOST.replace(/\./g, "\\.") + ":" + portOf(b) + "$")).length, 1);
    await settle(d);
    assert.deepEqual(await d.counts(), before);
  });

  it('dbg "reboot" from the cloud: the device restarts and is online again', async () => {
    const d = await open();
    await settle(d);
    const before = await d.counts();
    d.cloud.dbg("reboot");
    assert.ok(await d.until(() => d.reboots() === 1, 5000), "rebooted");
    await settle(d);
    assert.equal(d.cloud.logins.length, 2);
    assert.deepEqual(await d.counts(), before);
  });

  for (const call of ['edgent.config("erase")', "edgent.reset()"])
    it(`REPL ${call}: configuration erased, portal as after a fresh boot`, async () => {
      const d = await open();
      await settle(d);
      assert.equal(await d.repl(call), "Erasing configuration");
      await assertPortal(d);
      assert.ok(!(await d.storageNames()).some((n: string) => n.startsWith("edgent.cfg")), "config erased");
    });

  it('REPL edgent.config("start"): portal, configuration kept', async () => {
    const d = await open();
    await settle(d);
    const cfg = (await d.flash())["edgent.cfg1"];
    assert.match(await d.repl('edgent.config("start")'), /setup portal/);
    await assertPortal(d, 1);
    assert.equal((await d.flash())["edgent.cfg1"], cfg);
  });

  it("REPL edgent.reboot(): the device restarts and is online again", async () => {
    const d = await open();
    await settle(d);
    const before = await d.counts();
    assert.equal(await d.repl("edgent.reboot()"), "Rebooting");
    assert.ok(await d.until(() => d.reboots() === 1, 5000), "rebooted");
    await settle(d);
    assert.equal(d.cloud.logins.length, 2);
    assert.deepEqual(await d.counts(), before);
  });

  it("syncVirtual: the cloud's stored value arrives in the onWrite handler", async () => {
    const d = await open();
    await settle(d);
    assert.equal(await d.repl("edgent.virtualWrite(5, 'stored')"), true);
    assert.ok(await d.until(() => (d.cloud.values["5"] || [])[0] === "stored", 5000));
    await d.repl("(got = [], edgent.onWrite(5, function (v) { got.push(v.join(',')); }), 1)");
    assert.equal(await d.repl("edgent.syncVirtual(5)"), true);
    assert.ok(await d.until(async () => (await d.repl("got.length")) === 1, 5000), "handler called");
    assert.equal(await d.repl("got[0]"), "stored");
    assert.equal(d.cloud.frames.filter((f) => f.cmd === 16).pop()!.body, "vr\0" + "5");
  });

  it("connected and disconnected events around a dropped connection", async () => {
    const d = await open();
    await settle(d);
    await d.repl('(ev = [], edgent.on("connected", function () { ev.push("c"); }), edgent.on("disconnected", function () { ev.push("d"); }), 1)');
    d.cloud.closeSockets();
    await waitForLog(d, /Disconnected/, 5000);
    await settle(d);
    assert.equal(await d.repl("ev.join(',')"), "d,c");
  });

  simOnly(
    "rate limit on the wire: distinct writes 66 ms apart; writes to one pin while one waits keep only the newest",
    "spacing read off the wire (netStats)",
    async () => {
      const d = await open();
      await settle(d);
      const t0 = d.sim!.now();
      const ok = await d.repl("(function () { var r = []; for (var i = 1; i <= 5; i++) r.push(edgent.virtualWrite(i, i)); for (i = 0; i < 50; i++) r.push(edgent.virtualWrite(9, i)); return r.join(','); })()");
      assert.equal(ok, Array(55).fill("true").join(","), "nothing refused");
      assert.ok(await d.until(() => (d.cloud.values["9"] || [])[0] === "49", 10000), "V9 = " + d.cloud.values["9"]);
      await d.advance(1000);
      const hw = wire(d, "sent").filter((f) => f.cmd === 20 && f.t >= t0);
      assert.deepEqual(hw.map((f) => f.body.split("\0").slice(1).join("=")), ["1=1", "2=2", "3=3", "4=4", "5=5", "9=49"]);
      for (let i = 1; i < hw.length; i++) assert.ok(hw[i].t - hw[i - 1].t >= 66, "spacing " + (hw[i].t - hw[i - 1].t) + " ms");
      // more than 8 distinct messages waiting: the call says false
      const capped = await d.repl("(function () { var r = []; for (var i = 20; i < 32; i++) r.push(edgent.virtualWrite(i, i)); return r.join(','); })()");
      assert.equal(capped, "true,true,true,true,true,true,true,true,true,false,false,false");
      await d.advance(2000);
      assert.ok(await online(d));
    },
  );

  it("Hotspot Name: sent once when the stored config is valid but the metadata was not sent; not after a reconnect or a power cycle", async () => {
    const d = await open({ flags: Flag.VALID });
    await settle(d);
    await d.advance(1000);
    const ssid = (await status(d)).name;
    assert.deepEqual(metaFrames(d).map((f) => f.body), ["meta\0set\0Hotspot Name\0" + ssid]);
    assert.ok((await storedFlags(d)) & Flag.META_SENT, "flag stored");
    d.cloud.closeSockets();
    await waitForLog(d, /Disconnected/, 5000);
    await settle(d);
    await d.powerCycle();
    await settle(d);
    assert.equal(d.cloud.logins.length, 3);
    assert.equal(metaFrames(d).length, 1, "sent once in three sessions");
  });

  it("Hotspot Name: a session that ends right after login (metadata still queued) sends it at the next login", async () => {
    const d = await open({ flags: Flag.VALID });
    d.cloud.dropAfterInfo(1);
    await waitForLog(d, /Disconnected/, 30000);
    assert.equal(metaFrames(d).length, 0, "not sent in the dropped session");
    assert.equal((await storedFlags(d)) & Flag.META_SENT, 0, "flag not stored for a frame that never left");
    await settle(d);
    await d.advance(1000);
    assert.equal(metaFrames(d).length, 1);
    assert.equal(metaFrames(d)[0].session, d.cloud.logins[1].session);
    assert.ok((await storedFlags(d)) & Flag.META_SENT);
  });

  it("Hotspot Name: provisioning through the portal's /config sends it exactly once, not again after a power cycle", async () => {
    const d = await open({ provisioned: false });
    assert.ok(await d.until(async () => (await d.ap()).up && (await status(d)).state === "WAIT_CONFIG", 30000), "portal");
    assert.ok(await d.portal(), "portal serving");
    await d.advance(2000);
    const q = "ssid=" + encodeURIComponent(HOME.ssid) + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + TOKEN + "&port=80&port_ssl=443&host=blynk.cloud";
    const r = await d.fetch("/config?" + q);
    assert.equal(r.status, 200, r.body);
    await settle(d);
    await d.advance(15000); // the portal's grace period
    const ssid = (await status(d)).name;
    assert.deepEqual(metaFrames(d).map((f) => f.body), ["meta\0set\0Hotspot Name\0" + ssid]);
    assert.ok((await storedFlags(d)) & Flag.META_SENT);
    await d.powerCycle();
    await settle(d);
    assert.equal(d.cloud.logins.length, 2);
    assert.equal(metaFrames(d).length, 1);
  });

  it("user virtual pin round trip: the app writes V1, the device's handler answers on V1", async () => {
    const d = await open();
    await settle(d);
    await d.repl("(edgent.onWrite(1, function (v) { edgent.virtualWrite(1, v[0] * 2); }), 1)");
    d.cloud.virtualWrite(1, 21);
    assert.ok(await d.until(() => (d.cloud.values["1"] || [])[0] === "42", 5000), "V1 = " + d.cloud.values["1"]);
    const reply = d.cloud.frames.filter((f) => f.cmd === 20).pop()!;
    const sent = d.cloud.events.filter((e) => e.kind === "sent" && e.cmd === 20).pop()!;
    assert.equal(reply.id, sent.id, "the reply reuses the write's message id");
    assert.equal(await d.repl("edgent.virtualWrite(2, 'on', 3.5)"), true);
    assert.equal(await d.repl("edgent.logEvent('hello')"), true);
    // the bytes travel over real loopback TCP, where a small write can wait for an ACK (Nagle) while
    // virtual time runs ahead: wait for them rather than for a fixed virtual time
    assert.ok(await d.until(() => (d.cloud.values["2"] || []).length === 2 && d.cloud.count("event") === 1, 60000));
    assert.deepEqual(d.cloud.values["2"], ["on", "3.5"]);
    assert.equal(d.cloud.count("event"), 1);
  });

  // Blynk's built-in pin commands. Free GPIOs on both boards: 5 (dw), 14 (pm + dr), 12 (aw); the ADC
  // input is Espruino's A0 on ESP8266 and GPIO34 (ADC1) on ESP32. The status LED is on 2, the button on 0.
  const adc = b.chip === "ESP8266" ? "A0" : "34";
  const adcPin = b.chip === "ESP8266" ? 17 : 34;
  /** The device's HARDWARE frame with message id `id`, once it has arrived. */
  async function reply(d: TestDevice, id: number): Promise<string> {
    const hit = () => d.cloud.frames.find((f) => f.cmd === 20 && f.id === id);
    assert.ok(await d.until(() => !!hit(), 5000), "a HARDWARE reply with id " + id);
    return hit()!.body;
  }

  it("pin commands from the app: dw drives a pin, pm pu + dr answers dw with its level, aw sets a PWM duty, ar answers aw 0..1023", async () => {
    const d = await open({ pins: true });
    await settle(d);
    const before = await d.counts();
    // what the pin drives, as the device's pins show it (an undriven pin reads 1 already)
    const driven = () => d.pinWrites([5]).filter((e) => e.kind === "digital").map((e) => e.value);
    d.cloud.send(20, "dw\x005\x001", 0x0101);
    assert.ok(await d.until(() => driven().length === 1, 5000), "GPIO5 driven");
    d.cloud.send(20, "dw\x005\x000", 0x0102);
    assert.ok(await d.until(() => driven().length === 2, 5000), "GPIO5 driven again");
    assert.deepEqual(driven(), [1, 0]);
    assert.equal(await d.pinMode(5), "output");

    d.cloud.send(20, "pm\x0014\x00pu", 0x0103);
    assert.ok(await d.until(async () => (await d.pinMode(14)) === "input_pullup", 5000), "GPIO14 input with pull-up: " + (await d.pinMode(14)));
    await d.setInput(14, 0);
    d.cloud.send(20, "dr\x0014", 0x0201);
    assert.equal(await reply(d, 0x0201), "dw\x0014\x000", "low, under the dr's id");
    await d.setInput(14, 1);
    d.cloud.send(20, "dr\x0014", 0x0202);
    assert.equal(await reply(d, 0x0202), "dw\x0014\x001", "high, under the dr's id");
    assert.equal(await d.pinMode(14), "input_pullup", "reading keeps the mode the app set");

    d.cloud.send(20, "aw\x0012\x00128", 0x0104);
    const pwm = () => d.pinWrites([12]).filter((e) => e.kind === "pwm").pop();
    assert.ok(await d.until(() => !!pwm(), 5000), "a PWM duty on GPIO12");
    // ESP32's LEDC keeps 10 bits of it
    assert.ok(Math.abs((pwm()!.value as number) - 128 / 255) < 1 / 1024, "duty " + pwm()!.value);

    await d.setAnalog(adcPin, 0.5);
    d.cloud.send(20, "ar\x00" + adc, 0x0301);
    assert.equal(await reply(d, 0x0301), "aw\x00" + adc + "\x00512");
    await d.setAnalog(adcPin, 0);
    d.cloud.send(20, "ar\x00" + adc, 0x0302);
    assert.equal(await reply(d, 0x0302), "aw\x00" + adc + "\x000");

    assert.equal(d.cloud.frames.filter((f) => f.cmd === 0 && f.len === 2).length, 0, "no ILLEGAL_COMMAND");
    assert.equal(lines(d, /Hardware /).length, 0, "nothing refused: " + lines(d, /Hardware /));
    assert.ok(await online(d));
    assert.deepEqual(await d.counts(), before);
  });

  it("pin commands to the status LED's or the button's pin are refused and logged; the LED breathes on, the button stays an input", async () => {
    const d = await open({ pins: true });
    await settle(d);
    const buttonMode = await d.pinMode(0);
    const from = d.console.length;
    const t0 = d.now();
    d.cloud.send(20, "dw\x002\x001");
    d.cloud.send(20, "aw\x002\x00255");
    d.cloud.send(20, "pm\x002\x00in\x000\x00out");
    d.cloud.send(20, "dw\x000\x000");
    d.cloud.send(20, "dr\x002");
    await waitForLog(d, /Hardware dr 2: /, 5000, from);
    await d.advance(6000);
    assert.deepEqual(lines(d, /Hardware /, from).map((l: string) => l.replace(/^\[\d+\] /, "")), [
      "Hardware dw 2: the status LED's pin, refused",
      "Hardware aw 2: the status LED's pin, refused",
      "Hardware pm 2: the status LED's pin, refused",
      "Hardware pm 0: the button's pin, refused",
      "Hardware dw 0: the button's pin, refused",
      "Hardware dr 2: the status LED's pin, refused",
    ]);
    assert.equal(d.cloud.frames.filter((f) => f.cmd === 20 && f.body.startsWith("dw\x002")).length, 0, "no reply to the refused dr");
    // the LED driver's own writes go on: PWM steps of the breathing pattern, nothing else on its pin
    const led = d.pinWrites([2]).filter((e) => e.t >= t0);
    assert.ok(led.every((e) => e.kind === "pwm"), "only the LED's PWM on GPIO2: " + JSON.stringify(led.filter((e) => e.kind !== "pwm")));
    assert.ok(new Set(led.map((e) => e.value)).size > 10, "the LED keeps breathing: " + led.length + " steps");
    assert.equal(d.pinWrites([0]).filter((e) => e.t >= t0).length, 0, "nothing written to the button's pin");
    assert.equal(await d.pinMode(0), buttonMode);
    assert.ok(await online(d));
  });

  it("bad pin commands: one log line each, the device stays online with its timers and sockets", async () => {
    const d = await open({ pins: true });
    await settle(d);
    const before = await d.counts();
    const from = d.console.length;
    // 300 would be pin 44 to Espruino (it takes pin numbers modulo 256); D5 is Espruino's name, not Blynk's
    for (const body of ["dw\x0099\x001", "dw\x00300\x001", "dw\x00D5\x001", "ar\x005", "pm\x005\x00fast", "aw\x005", "dr", b.chip === "ESP8266" ? "ar\x00A1" : "ar\x00A0"])
      d.cloud.send(20, body);
    await waitForLog(d, /Hardware ar A[01]: /, 5000, from);
    await d.advance(3000);
    assert.deepEqual(lines(d, /Hardware /, from).map((l: string) => l.replace(/^\[\d+\] /, "")), [
      "Hardware dw 99: Invalid pin",
      "Hardware dw 300: invalid pin",
      "Hardware dw D5: invalid pin",
      "Hardware ar 5: no ADC on this pin",
      "Hardware pm 5: invalid mode fast",
      "Hardware aw 5: no value",
      "Hardware dr undefined: invalid pin",
      "Hardware ar " + (b.chip === "ESP8266" ? "A1" : "A0") + ": Invalid pin",
    ]);
    assert.equal(d.pinWrites([5, 44]).length, 0, "no pin written");
    assert.deepEqual(d.errors(), [], "nothing thrown out of the loop");
    assert.equal(d.cloud.sessions.length, 1, "no reconnect");
    assert.ok(await online(d));
    assert.deepEqual(await d.counts(), before);
  });
});

/** The README's example, as a user would paste it into the Web IDE (V1 switches the board LED). */
const README_EXAMPLE = `
var on = false;
edgent.onWrite(1, function (v) {
  on = v[0] === "1";
  edgent.led(on);
});
`;

systemSuite(
  "README example on the board profile: V1 from the app switches the board LED",
  ({ board: b, boot }) => {
    let ledBoards: LedBoard[] = [];
    before(async () => {
      ledBoards = await loadBoards();
    });

    const lightNow = (d: TestDevice, board: LedBoard) => lightAt(board, d.pinWrites(board.led.pins), d.now());

    it("lit after V1 = 1, dark after V1 = 0, the online breathing again after edgent.led()", async () => {
      const board = ledBoards.find((x) => x.id === b.board)!;
      const d = await boot(deviceOptions(b, { pins: true }));
      await settle(d);
      const before = await d.counts();
      // in a function, so its `var` stays the handler's own on both backends
      await d.repl("(function () {" + README_EXAMPLE + "return 1; })()");
      const lit = expected(board, Colour.WHITE, 255);
      d.cloud.virtualWrite(1, 1);
      assert.ok(await d.until(() => same(lightNow(d, board), lit), 5000), "lit after V1 = 1: " + lightNow(d, board));
      await d.advance(10000);
      assert.ok(same(lightNow(d, board), lit), "stays lit (no breathing over it)");
      d.cloud.virtualWrite(1, 0);
      assert.ok(await d.until(() => same(lightNow(d, board), [0, 0, 0]), 5000), "dark after V1 = 0");
      await d.advance(10000);
      assert.ok(same(lightNow(d, board), [0, 0, 0]), "stays dark");
      // handed back: the breathing of the online state, from its first step
      const { t: t0 } = await d.replAt("(edgent.led(), 1)");
      await d.advance(6000);
      assertPattern(d, board, patternRow(Pat.RUNNING), t0, 6000, 100);
      assert.deepEqual(await d.counts(), before, "the LED's timers as before");
    });
  },
  { boards: [...BOARDS, MORE_BOARDS.c3, MORE_BOARDS.wroverKit, MORE_BOARDS.d1mini] },
);
