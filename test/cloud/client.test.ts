// The cloud client in Node: real TCP to the fake cloud through Espruino-shaped sockets, virtual time.
// After each fault the client must be online again (or stopped, where that is specified) with the
// timer and socket counts it had before the fault.
import assert from "node:assert/strict";
import { openCloud, CloudOptions, Cloud, Limit, PinApi } from "../../firmware/cloud/session.ts";
import { Ev } from "../../firmware/kernel.ts";
import { cloudApi, apiReset, apiLink, apiWrite } from "../../firmware/cloud/api.ts";
import { startFakeCloud, FakeCloud } from "../../sim/fake-cloud/server.ts";
import { FakeClock, nodeSockets, memSockets, Sockets } from "./harness.ts";
import { TOKEN, INFO, INFO_BODY, vectors, bytes } from "./vectors.ts";

// The build record the firmware's bundle gets as constants (rollup.config.js): here the session runs
// as TypeScript in Node, so it reads it as a global. An ESP32 build: the TLS-memory fallback is in.
(globalThis as any).__BUILD__ ??= { chip: "ESP32", dev: "ESP32", fwVer: "0.1.0", build: "Jan  1 2025 12:00:00", tmplId: "TMPL4xxxxxxxx" };

interface Env {
  cloud: FakeCloud;
  clock: FakeClock;
  net: Sockets;
  log: string[];
  logins: number[];
  offline: number[];
  commands: string[];
  c: Cloud;
  /** Virtual times of the "Connecting to" lines. */
  attempts(): number[];
  online(maxMs?: number): Promise<void>;
}

let envs: Env[] = [];
let clouds: FakeCloud[] = [];

async function fakeCloud(tokens = [TOKEN]): Promise<FakeCloud> {
  const cloud = await startFakeCloud({ tokens });
  clouds.push(cloud);
  return cloud;
}

/** The session's events as the three callbacks these tests watch (the firmware passes its step function). */
type Callbacks = { onLogin?: (s: number) => void; onOffline?: () => void; onCommand?: (l: string) => void };
function events(cb: Required<Callbacks>, log: (l: string) => void = () => {}): CloudOptions["ev"] {
  return (e: number, a?: any, b?: any) =>
    e === Ev.LOGIN ? cb.onLogin(a) : e === Ev.OFFLINE ? cb.onOffline() : e === Ev.COMMAND ? cb.onCommand(a) : e === Ev.LINK ? apiLink(a, b, log) : e === Ev.WRITE ? apiWrite(a, b) : undefined;
}

async function start(over: Partial<CloudOptions> & Callbacks = {}, cloud?: FakeCloud): Promise<Env> {
  cloud = cloud || (await fakeCloud());
  const clock = new FakeClock();
  const net = nodeSockets(clock.now);
  const e = { cloud, clock, net, log: [] as string[], logins: [] as number[], offline: [] as number[], commands: [] as string[] } as Env;
  e.c = openCloud({
    token: TOKEN,
    host: "127.0.0.1",
    port: cloud.port,
    tls: false,
    info: INFO,
    log: (l) => e.log.push("[" + clock.t + "] " + l),
    ev: events({
      onLogin: over.onLogin || ((s) => e.logins.push(s)),
      onOffline: over.onOffline || (() => e.offline.push(clock.t)),
      onCommand: over.onCommand || ((l) => e.commands.push(l)),
    }, (l) => e.log.push("[" + clock.t + "] " + l)),
    connect: net.connect,
    now: clock.now,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    ...over,
  });
  e.attempts = () => e.log.filter((l) => l.includes("Connecting to")).map((l) => +l.slice(1, l.indexOf("]")));
  e.online = async (maxMs = 120000) => {
    assert.ok(await clock.until(() => e.c.online(), maxMs), "online within " + maxMs + " ms; log:\n" + e.log.join("\n"));
  };
  envs.push(e);
  return e;
}

const lines = (e: Env, re: RegExp) => e.log.filter((l) => re.test(l));
/** One timer, one socket: the steady state of a session. */
function assertSteady(e: Env) {
  assert.equal(e.clock.pending(), 1, "exactly one timer");
  assert.equal(e.net.open(), 1, "exactly one socket");
  assert.equal(e.cloud.openCount() + clouds.filter((c) => c !== e.cloud).reduce((n, c) => n + c.openCount(), 0), 1, "one connection on the server side");
}

beforeEach(() => apiReset());
afterEach(async () => {
  for (const e of envs) e.c.close();
  for (const e of envs) assert.equal(e.clock.pending(), 0, "close() leaves no timer");
  for (const c of clouds) await c.close();
  envs = [];
  clouds = [];
});

describe("cloud client (Node, fake cloud over TCP)", () => {
  describe("login and the session's bytes", () => {
    it("sends the login, info, ping and vw byte vectors of the reference, in order", async () => {
      const e = await start();
      await e.online();
      assert.deepEqual(e.logins, [200]);
      assert.match(e.log.join("\n"), /Connecting to 127\.0\.0\.1:\d+\n.*Ready \(ping: \d+ms\)\./);
      await e.clock.advance(Limit.HEARTBEAT); // ping id 3
      assert.ok(cloudApi().virtualWrite(1, 42)); // id 4
      await e.clock.advance(100);
      const byName = (n: string) => bytes(vectors.find((v) => v.name.startsWith(n))!.hex);
      const expected = byName("login") + byName("info") + byName("ping") + byName("virtualWrite(1, 42)");
      assert.equal(e.cloud.sessions[0].bytes.toString("hex"), Buffer.from(expected, "latin1").toString("hex"));
    });

    it("the info message carries the current key set", async () => {
      const e = await start();
      await e.online();
      await e.clock.advance(200);
      await e.cloud.waitFor((x) => x.kind === "info");
      assert.deepEqual(e.cloud.sessions[0].info, {
        mcu: "0.1.0", "fw-type": "TMPL4xxxxxxxx", build: "Jan  1 2025 12:00:00", blynk: "1.4.0+espruino",
        "h-beat": "40", "buff-in": "1024", dev: "ESP32", tmpl: "TMPL4xxxxxxxx",
      });
      assert.equal(e.cloud.sessions[0].frames[1].body, INFO_BODY);
    });

    it("ALREADY_REGISTERED (4) also means online", async () => {
      const cloud = await startFakeCloud({ tokens: [TOKEN], loginStatus: 4 });
      clouds.push(cloud);
      const e = await start({}, cloud);
      await e.online();
      assert.deepEqual(e.logins, [4]);
    });

    it("setMetadata sends meta set after the info message, behind the rate limit; `written` runs once it left", async () => {
      let written: number[] = [];
      const e = await start({
        onLogin: (s) => {
          e.logins.push(s);
          e.c.setMetadata("Hotspot Name", "Blynk My Device-PYN6", () => written.push(e.clock.t));
        },
      });
      await e.online();
      assert.deepEqual(written, [], "queued, not written yet");
      await e.clock.advance(500);
      const internal = e.net.sent.filter((f) => f.cmd === 17);
      assert.deepEqual(internal.map((f) => f.body.split("\0")[0]), ["mcu", "meta"]);
      assert.equal(internal[1].body, "meta\0set\0Hotspot Name\0Blynk My Device-PYN6");
      assert.ok(internal[1].t - internal[0].t >= Limit.SEND_SPACING);
      assert.deepEqual(written, [internal[1].t], "written runs once, when the frame went out");
      assert.equal(e.cloud.count("internal"), 1);
    });

    it("setMetadata: a session that ends before the frame left never calls `written`", async () => {
      let written = 0;
      const e = await start({
        onLogin: (s) => {
          e.logins.push(s);
          e.c.setMetadata("Hotspot Name", "x", () => written++);
          e.c.close();
        },
      });
      await e.clock.advance(2000);
      assert.deepEqual(e.logins, [200]);
      assert.equal(e.net.sent.filter((f) => f.cmd === 17 && f.body.startsWith("meta")).length, 0);
      assert.equal(written, 0);
    });

    it("a server that never answers the login: Login timeout after 6 s, then a new attempt", async () => {
      const cloud = await fakeCloud();
      cloud.silent(true);
      const e = await start({}, cloud);
      assert.ok(await e.clock.until(() => lines(e, /Login timeout/).length > 0, 20000));
      assert.equal(e.clock.t, Limit.LOGIN_TIMEOUT + 0, "6 s after the login was sent");
      cloud.silent(false);
      await e.online();
      assertSteady(e);
    });
  });

  describe("heartbeat", () => {
    it("a 10-minute session: PING every 40 s of silence, answered, never reconnects, two wake-ups per cycle", async () => {
      const e = await start();
      await e.online();
      const t0 = e.clock.t;
      const fired0 = e.clock.fired;
      await e.clock.advance(600000 - t0);
      const pings = e.net.sent.filter((f) => f.cmd === 6).map((f) => f.t);
      assert.equal(pings.length, 15);
      pings.forEach((t, i) => assert.equal(t, t0 + 40000 * (i + 1) - (i === 0 ? 0 : 0), "ping " + i));
      assert.equal(e.cloud.count("ping"), 15);
      assert.equal(e.cloud.sessions.length, 1, "no reconnect");
      assert.ok((e.clock.fired - fired0) / pings.length <= 2.2, "wake-ups per heartbeat: " + (e.clock.fired - fired0) / pings.length);
      assertSteady(e);
    });

    it("answers the server's PING with RESPONSE 200 and the same id", async () => {
      const e = await start();
      await e.online();
      e.cloud.send(6, "", 0x1234);
      await e.clock.advance(10);
      const r = e.net.sent.find((f) => f.cmd === 0)!;
      assert.deepEqual([r.id, r.len], [0x1234, 200]);
    });

    it("traffic from the device alone does not stop pings: silence from the server is what counts", async () => {
      const e = await start();
      await e.online();
      const t0 = e.clock.t;
      for (let i = 0; i < 10; i++) {
        cloudApi().virtualWrite(0, i);
        await e.clock.advance(5000);
      }
      const firstPing = e.net.sent.find((f) => f.cmd === 6)!;
      assert.equal(firstPing.t, t0 + 40000);
    });

    it("a server that goes silent: pings at 40, 46, 52 s, disconnect at 58 s, then reconnects", async () => {
      const e = await start();
      await e.online();
      const t0 = e.clock.t; // last byte received: the login reply
      e.cloud.silent(true);
      assert.ok(await e.clock.until(() => lines(e, /Heartbeat timeout/).length > 0, 70000));
      assert.equal(e.clock.t - t0, 58000);
      assert.deepEqual(e.net.sent.filter((f) => f.cmd === 6).map((f) => f.t - t0), [40000, 46000, 52000]);
      assert.deepEqual(e.offline, [e.clock.t]);
      assert.equal(e.c.online(), false);
      e.cloud.silent(false);
      await e.online();
      assert.equal(e.attempts()[1] - e.attempts()[0] >= 5000, true);
      assertSteady(e);
    });
  });

  describe("faults", () => {
    it("server closes the socket: Disconnected, onOffline, online again", async () => {
      const e = await start();
      await e.online();
      e.cloud.closeSockets();
      await e.clock.until(() => e.offline.length > 0, 1000);
      assert.equal(lines(e, /Disconnected/).length, 1);
      await e.online();
      assert.deepEqual(e.logins, [200, 200]);
      assertSteady(e);
    });

    it("refused connections back off 5, 10, 20, 40, 60, 60 s and recover when the server listens again", async () => {
      const cloud = await fakeCloud();
      await cloud.refuse(true);
      const e = await start({}, cloud);
      await e.clock.advance(200000);
      const a = e.attempts();
      const gaps = a.slice(1).map((t, i) => t - a[i]);
      assert.deepEqual(gaps.slice(0, 6), [5000, 10000, 20000, 40000, 60000, 60000]);
      assert.equal(e.net.open(), 0, "no socket left behind by refused attempts");
      assert.equal(e.clock.pending(), 1);
      assert.match(e.log.join("\n"), /Connection failed: .*\(-9\)/);
      await cloud.refuse(false);
      await e.online(61000);
      assertSteady(e);
      // back-off is reset by a successful login: the next failure waits 5 s again
      e.cloud.closeSockets();
      await cloud.refuse(true);
      await e.clock.until(() => e.offline.length > 0, 1000);
      const n = e.attempts().length;
      await e.clock.until(() => e.attempts().length >= n + 2, 30000);
      const b = e.attempts();
      assert.equal(b[n + 1] - b[n], 5000);
    });

    it("a connect that throws synchronously is retried like a refusal (the loop survives)", async () => {
      const e = await start();
      e.net.throwSync(3);
      await e.online(60000);
      assert.equal(lines(e, /Connection failed: Unable to create socket/).length, 3);
      const a = e.attempts();
      assert.deepEqual(a.slice(1).map((t, i) => t - a[i]), [5000, 10000, 20000]);
      assertSteady(e);
    });

    it("REDIRECT: logs Redirecting to h:p and goes there at once", async () => {
      const other = await fakeCloud();
      const e = await start();
      await e.online();
      e.cloud.redirect("127.0.0.1", other.port);
      await e.clock.until(() => other.current() !== undefined, 1000);
      assert.equal(lines(e, new RegExp("Redirecting to 127\\.0\\.0\\.1:" + other.port)).length, 1);
      await e.online();
      assert.ok(e.clock.t < 100, "no back-off for a redirect");
      assert.equal(e.net.dialed[1], "127.0.0.1:" + other.port);
      assertSteady(e);
      // and stays there after a later drop
      other.closeSockets();
      await e.clock.until(() => e.offline.length > 1, 1000);
      await e.online();
      assert.equal(e.net.dialed[2], "127.0.0.1:" + other.port);
    });

    for (const tls of [true, false])
      it(`REDIRECT without a port over ${tls ? "TLS goes to the session's TLS port" : "plain TCP goes to port 80"}`, async () => {
        const e = await start({ tls });
        await e.online();
        e.cloud.send(41, "localhost");
        await e.clock.until(() => e.net.dialed.length > 1, 1000);
        assert.equal(e.net.dialed[1], "localhost:" + (tls ? e.cloud.port : 80));
        assert.equal(lines(e, new RegExp("Redirecting to localhost:" + (tls ? e.cloud.port : 80))).length, 1);
        if (tls) {
          await e.online();
          assertSteady(e);
        }
      });

    it("REDIRECT in answer to the login", async () => {
      const other = await fakeCloud();
      const cloud = await fakeCloud();
      cloud.redirectLogins("127.0.0.1", other.port);
      const e = await start({}, cloud);
      await e.online();
      assert.equal(other.logins.length, 1);
      assert.deepEqual(e.logins, [200]);
    });

    it("a 2 KB frame: Packet too big: 2048, reconnect, online again", async () => {
      const e = await start();
      await e.online();
      e.cloud.sendBig(2048);
      await e.clock.until(() => e.offline.length > 0, 1000);
      assert.equal(lines(e, /Packet too big: 2048/).length, 1);
      await e.online();
      assert.equal(e.cloud.sessions.length, 2);
      assertSteady(e);
    });

    it("an unknown command: reconnect, online again", async () => {
      const e = await start();
      await e.online();
      e.cloud.sendUnknown(99);
      await e.clock.until(() => e.offline.length > 0, 1000);
      assert.equal(lines(e, /Invalid header type: 99/).length, 1);
      await e.online();
      assertSteady(e);
    });

    it("RESPONSE 5 (NOT_AUTHENTICATED) while online: disconnect, reconnect", async () => {
      const e = await start();
      await e.online();
      e.cloud.sendRaw("\x00\x00\x07\x00\x05");
      await e.clock.until(() => e.offline.length > 0, 1000);
      await e.online();
      assertSteady(e);
    });

    it("a message id 0: disconnect, reconnect", async () => {
      const e = await start();
      await e.online();
      e.cloud.sendRaw("\x06\x00\x00\x00\x00");
      await e.clock.until(() => e.offline.length > 0, 1000);
      assert.equal(lines(e, /Invalid message id 0/).length, 1);
      await e.online();
      assertSteady(e);
    });

    it("INVALID_TOKEN (9) after a server restart: Invalid auth token, onLogin(9), no more attempts", async () => {
      const e = await start();
      await e.online();
      e.cloud.invalidate(TOKEN);
      e.cloud.closeSockets();
      await e.clock.until(() => e.logins.length === 2, 60000);
      assert.deepEqual(e.logins, [200, 9]);
      assert.equal(lines(e, /Invalid auth token/).length, 1);
      await e.clock.advance(600000);
      assert.equal(e.cloud.logins.length, 2, "no attempt after 9");
      assert.equal(e.clock.pending(), 0, "no timer while stopped");
      assert.equal(e.net.open(), 0);
    });

    it("other login codes: Connect failed. code: N, retried with back-off", async () => {
      const cloud = await startFakeCloud({ tokens: [TOKEN], loginStatus: 6 });
      clouds.push(cloud);
      const e = await start({}, cloud);
      await e.clock.advance(16000);
      assert.deepEqual(e.logins, [6, 6, 6]);
      assert.equal(lines(e, /Connect failed\. code: 6/).length, 3);
    });

    it("DEBUG_PRINT is logged as Server: text", async () => {
      const e = await start();
      await e.online();
      e.cloud.debugPrint("hello device");
      await e.clock.advance(10);
      assert.equal(lines(e, /Server: hello device$/).length, 1);
      assert.ok(e.c.online());
    });
  });

  describe("console commands from the cloud (INTERNAL dbg)", () => {
    for (const [sent, got] of [["config erase", "config erase"], ["config start", "config start"], ["config", "config start"], ["reboot", "reboot"]]) {
      it(`"${sent}" reaches main as "${got}"`, async () => {
        const e = await start();
        await e.online();
        e.cloud.dbg(sent);
        await e.clock.advance(10);
        assert.deepEqual(e.commands, [got]);
      });
    }
    it("unknown commands are logged, not passed on", async () => {
      const e = await start();
      await e.online();
      e.cloud.dbg("format c:");
      await e.clock.advance(10);
      assert.deepEqual(e.commands, []);
      assert.equal(lines(e, /Unknown command: format c:/).length, 1);
    });
    it("main may close the client inside onCommand (config erase → portal): nothing runs after", async () => {
      const e = await start({ onCommand: (l) => { e.commands.push(l); e.c.close(); } });
      await e.online();
      e.cloud.dbg("config erase");
      e.cloud.virtualWrite(1, 5); // arrives after the command, must not be handled
      let handled = 0;
      cloudApi().onWrite(1, () => handled++);
      await e.clock.advance(120000);
      assert.deepEqual(e.commands, ["config erase"]);
      assert.equal(handled, 0);
      assert.equal(e.clock.pending(), 0);
      assert.equal(e.net.open(), 0);
      assert.equal(e.cloud.logins.length, 1);
    });
  });

  describe("device API", () => {
    it("virtual pin round trip: the app writes V1, the handler answers with the same message id", async () => {
      const e = await start();
      await e.online();
      let got: string[] = [];
      cloudApi().onWrite(1, (v) => {
        got = v;
        cloudApi().virtualWrite(1, Number(v[0]) * 2);
      });
      e.cloud.send(20, "vw\x001\x0021", 0x0777);
      await e.clock.advance(200);
      assert.deepEqual(got, ["21"]);
      const reply = e.net.sent.find((f) => f.cmd === 20)!;
      assert.deepEqual([reply.id, reply.body], [0x0777, "vw\x001\x0042"]);
      assert.deepEqual(e.cloud.values["1"], ["42"]);
    });

    it("syncVirtual: the cloud answers with stored values, delivered to the handlers", async () => {
      const e = await start();
      await e.online();
      e.cloud.values["3"] = ["on"];
      const got: string[][] = [];
      cloudApi().onWrite(3, (v) => got.push(v));
      assert.ok(cloudApi().syncVirtual(3));
      await e.clock.advance(200);
      assert.deepEqual(got, [["on"]]);
      assert.equal(e.net.sent.filter((f) => f.cmd === 16)[0].body, "vr\x003");
    });

    it("logEvent sends EVENT_LOG name\\0description", async () => {
      const e = await start();
      await e.online();
      assert.ok(cloudApi().logEvent("overheat", "92 C"));
      assert.ok(cloudApi().logEvent("door"));
      await e.clock.advance(10);
      assert.deepEqual(e.net.sent.filter((f) => f.cmd === 64).map((f) => f.body), ["overheat\x0092 C", "door"]);
    });

    it("connected and disconnected events", async () => {
      const seen: string[] = [];
      cloudApi().on("connected", () => seen.push("c"));
      cloudApi().on("disconnected", () => seen.push("d"));
      const e = await start();
      await e.online();
      e.cloud.closeSockets();
      await e.online();
      assert.deepEqual(seen, ["c", "d", "c"]);
    });

    it("while offline the API answers false and queues nothing", async () => {
      const cloud = await fakeCloud();
      await cloud.refuse(true);
      const e = await start({}, cloud);
      await e.clock.advance(1000);
      assert.equal(cloudApi().virtualWrite(1, 1), false);
      assert.equal(cloudApi().syncVirtual(1), false);
      assert.equal(cloudApi().logEvent("x"), false);
      assert.equal(e.c.setMetadata("a", "b"), false);
      await cloud.refuse(false);
      await e.online();
      await e.clock.advance(1000);
      assert.equal(e.net.sent.filter((f) => f.cmd === 20 || f.cmd === 16 || f.cmd === 64).length, 0);
    });

    it("rate limit: a burst to one pin goes out 66 ms apart; while one waits, newer values replace it", async () => {
      const e = await start();
      await e.online();
      await e.clock.advance(1000);
      const ok: boolean[] = [];
      for (let i = 0; i < 12; i++) ok.push(cloudApi().virtualWrite(2, i));
      assert.deepEqual(ok, Array(12).fill(true), "nothing refused");
      await e.clock.advance(2000);
      const hw = e.net.sent.filter((f) => f.cmd === 20);
      // 0 leaves at once; 1 waits and is replaced in place by 2, 3, ... 11: the newest value arrives
      assert.deepEqual(hw.map((f) => f.body.split("\0")[2]), ["0", "11"]);
      assert.ok(hw[1].t - hw[0].t >= Limit.SEND_SPACING, "gap " + (hw[1].t - hw[0].t));
      assert.deepEqual(e.cloud.values["2"], ["11"]);
      assert.equal(e.clock.pending(), 1);
    });

    it("rate limit: distinct messages queue in order, 66 ms apart; past 8 waiting the call returns false", async () => {
      const e = await start();
      await e.online();
      await e.clock.advance(1000);
      const ok: boolean[] = [];
      // pins 1..12 (V1 and V10..V12 must not be taken for the same pin), then V3 again: replaces V3's
      for (let i = 1; i <= 12; i++) ok.push(cloudApi().virtualWrite(i, i * 10));
      ok.push(cloudApi().virtualWrite(3, "newest"));
      assert.deepEqual(ok, [true, true, true, true, true, true, true, true, true, false, false, false, true]);
      await e.clock.advance(2000);
      const hw = e.net.sent.filter((f) => f.cmd === 20);
      assert.deepEqual(hw.map((f) => f.body.split("\0").slice(1).join("=")), ["1=10", "2=20", "3=newest", "4=40", "5=50", "6=60", "7=70", "8=80", "9=90"]);
      for (let i = 1; i < hw.length; i++) assert.ok(hw[i].t - hw[i - 1].t >= Limit.SEND_SPACING, "gap " + (hw[i].t - hw[i - 1].t));
      assert.equal(e.clock.pending(), 1);
    });

    it("HARDWARE subcommands other than vw/vr get RESPONSE 2 (ILLEGAL_COMMAND) with the same id; pin commands too without pin functions", async () => {
      const e = await start();
      await e.online();
      e.cloud.send(20, "dw\x002\x001", 0x0042);
      e.cloud.send(20, "xx\x002", 0x0043);
      await e.clock.advance(10);
      const r = e.net.sent.filter((f) => f.cmd === 0);
      assert.deepEqual(r.map((f) => [f.id, f.len]), [[0x42, 2], [0x43, 2]]);
    });

    /** Pin functions in Espruino's shape over a table of levels; "A0" and 0..17 exist, as on an ESP8266. */
    function fakePins() {
      const calls: string[] = [];
      const level: Record<string, number> = { "14": 1, A0: 0.25 };
      const check = (p: number | string) => {
        if (!(p === "A0" || (typeof p === "number" && p >= 0 && p <= 17))) throw new Error("Invalid pin");
      };
      const pins: PinApi = {
        getPinMode: (p) => (check(p), "input"),
        pinMode: (p, m) => void calls.push("pinMode " + p + " " + m),
        digitalWrite: (p, v) => void calls.push("digitalWrite " + p + " " + v),
        digitalRead: (p) => level[p] ?? 0,
        analogWrite: (p, v) => void calls.push("analogWrite " + p + " " + v),
        analogRead: (p) => (p === "A0" ? level[p] : NaN),
      };
      return { pins, calls };
    }

    it("pin commands with pin functions: writes in Espruino's terms, reads answered under the command's id", async () => {
      const f = fakePins();
      const e = await start({ pins: f.pins, own: ",2L,0B," });
      await e.online();
      e.cloud.send(20, "pm\x0014\x00pu\x004\x00out", 0x0101);
      e.cloud.send(20, "dw\x005\x001", 0x0102);
      e.cloud.send(20, "aw\x0012\x00255", 0x0103);
      e.cloud.send(20, "dr\x0014", 0x0104);
      e.cloud.send(20, "ar\x00A0", 0x0105);
      e.cloud.send(20, "dw\x002\x001", 0x0106);
      e.cloud.send(20, "ar\x005", 0x0107);
      await e.clock.advance(1000);
      assert.deepEqual(f.calls, ["pinMode 14 input_pullup", "pinMode 4 output", "pinMode 5 output", "digitalWrite 5 1", "pinMode 12 output", "analogWrite 12 1"]);
      const hw = e.net.sent.filter((x) => x.cmd === 20);
      assert.deepEqual(hw.map((x) => [x.id, x.body]), [[0x0104, "dw\x0014\x001"], [0x0105, "aw\x00A0\x00256"]]);
      assert.deepEqual(lines(e, /Hardware /).map((l) => l.replace(/^\[\d+\] /, "")), ["Hardware dw 2: the status LED's pin, refused", "Hardware ar 5: no ADC on this pin"]);
      assert.equal(e.net.sent.filter((x) => x.cmd === 0).length, 0, "no ILLEGAL_COMMAND");
      assertSteady(e);
    });

    it("a handler that throws is logged and the session goes on", async () => {
      const e = await start();
      await e.online();
      cloudApi().onWrite(4, () => {
        throw new Error("boom");
      });
      e.cloud.virtualWrite(4, 1);
      await e.clock.advance(10);
      assert.equal(lines(e, /Error in V4 handler: Error: boom/).length, 1);
      assert.ok(e.c.online());
    });

    it("a handler may close the client: no callback after close", async () => {
      const e = await start();
      await e.online();
      cloudApi().onWrite(4, () => e.c.close());
      e.cloud.virtualWrite(4, 1);
      e.cloud.closeSockets();
      await e.clock.advance(120000);
      assert.deepEqual(e.offline, []);
      assert.equal(e.clock.pending(), 0);
      assert.equal(e.net.open(), 0);
    });
  });

  describe("close", () => {
    it("is safe twice and at any point; afterwards nothing is sent and no callback runs", async () => {
      const e = await start();
      e.c.close();
      e.c.close();
      await e.clock.advance(60000);
      assert.equal(e.net.created(), 0);
      const f = await start();
      await f.online();
      f.c.close();
      f.c.close();
      assert.equal(f.c.online(), false);
      assert.equal(cloudApi().virtualWrite(1, 1), false);
      await f.clock.advance(120000);
      assert.equal(f.clock.pending(), 0);
      assert.equal(f.net.open(), 0);
      assert.deepEqual(f.offline, [], "close is not an offline event");
      assert.equal(f.cloud.logins.length, 1);
    });

    it("main may close the client inside onOffline: no reconnect, nothing left", async () => {
      const e = await start({ onOffline: () => { e.offline.push(e.clock.t); e.c.close(); } });
      await e.online();
      e.cloud.closeSockets();
      await e.clock.advance(120000);
      assert.equal(e.offline.length, 1);
      assert.equal(e.cloud.logins.length, 1, "no new attempt");
      assert.equal(e.clock.pending(), 0);
      assert.equal(e.net.open(), 0);
    });

    it("close inside onLogin stops before the API goes up", async () => {
      let connected = 0;
      cloudApi().on("connected", () => connected++);
      const e = await start({ onLogin: (s) => { e.logins.push(s); e.c.close(); } });
      await e.clock.advance(10000);
      assert.deepEqual(e.logins, [200]);
      assert.equal(connected, 0);
      assert.equal(e.clock.pending(), 0);
    });

    it("close while connecting (socket not yet up) leaves nothing behind", async () => {
      const e = await start();
      e.clock.tick(0); // opens the socket; no I/O has run yet
      assert.equal(e.net.open(), 1);
      e.c.close();
      await e.clock.advance(10000);
      assert.equal(e.net.open(), 0);
      assert.equal(e.clock.pending(), 0);
      assert.deepEqual(e.logins, []);
    });
  });
});

describe("cloud client (in-memory sockets, long runs)", () => {
  it("message ids wrap from 65535 to 1 and are never 0", () => {
    const clock = new FakeClock();
    const mem = memSockets(clock);
    const c = openCloud({
      token: TOKEN, host: "h", port: 1, tls: false, info: INFO, log() {}, ev: events({ onLogin() {}, onOffline() {}, onCommand() {} }),
      connect: mem.connect, now: clock.now, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout,
    });
    clock.tick(100);
    assert.ok(c.online());
    for (let i = 0; i < 65540; i++) {
      clock.tick(70);
      cloudApi().virtualWrite(1, i);
    }
    clock.tick(1000);
    const ids = mem.frames.filter((f) => f.cmd !== 0).map((f) => f.id);
    assert.ok(!ids.includes(0), "id 0 never used");
    const wrap = ids.indexOf(65535);
    assert.ok(wrap > 0);
    assert.equal(ids[wrap + 1], 1);
    assert.equal(ids[wrap + 2], 2);
    c.close();
    assert.equal(clock.pending() - 0, 0);
    assert.equal(mem.open(), 0);
  });
});
