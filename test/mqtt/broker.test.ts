// The MQTT session against a broker a hobbyist already runs: Debian's mosquitto, with a password file
// and an ACL, over real TCP, virtual time on the device. An MQTT.js client logged in as the
// administrator watches the topics as Home Assistant would.
import assert from "node:assert/strict";
import { openMqtt, MqttOptions, MqttLimit, topicPrefix } from "../../firmware/mqtt/session.ts";
import { cloudApi, apiReset } from "../../firmware/cloud/api.ts";
import type { Cloud } from "../../firmware/cloud/session.ts";
import { MqttClock, mqttSockets, MqttSockets, eventually, coreEvents, Callbacks } from "./harness.ts";
import { startMosquitto, mosquittoOrSkip, Mosquitto, Observer } from "./mosquitto.ts";

const INFO = { fwVer: "0.1.0", build: "Jan  1 2025 12:00:00", dev: "ESP8266", tmpl: "TMPL4xxxxxxxx" };
const NAME = "Blynk My Device-PYN6";
const P = "blynk-my-device-pyn6";
const USER = { user: "dev", pass: "s3cret:pw" };
const ACL = `user dev\ntopic readwrite ${P}/#\ntopic write homeassistant/#\n`;

interface Env {
  m: Mosquitto;
  clock: MqttClock;
  net: MqttSockets;
  log: string[];
  logins: number[];
  offline: number[];
  c: Cloud;
  online(maxMs?: number): Promise<void>;
}

let envs: Env[] = [];
let brokers: Mosquitto[] = [];

async function broker(o: Parameters<typeof startMosquitto>[0] = { users: { [USER.user]: USER.pass }, acl: ACL }): Promise<Mosquitto> {
  const m = await startMosquitto(o);
  brokers.push(m);
  return m;
}

async function start(over: Partial<MqttOptions> & Callbacks = {}, m?: Mosquitto): Promise<Env> {
  m = m || (await broker());
  const clock = new MqttClock();
  const net = mqttSockets(clock.now);
  const e = { m, clock, net, log: [] as string[], logins: [] as number[], offline: [] as number[] } as Env;
  e.c = openMqtt({
    host: m.host,
    port: m.port,
    tls: false,
    user: USER.user,
    pass: USER.pass,
    name: NAME,
    info: INFO,
    log: (l) => e.log.push("[" + clock.t + "] " + l),
    ev: coreEvents({
      onLogin: over.onLogin || ((s) => e.logins.push(s)),
      onOffline: over.onOffline || (() => e.offline.push(clock.t)),
      onCommand: () => assert.fail("no commands from a broker"),
    }, (l) => e.log.push("[" + clock.t + "] " + l)),
    connect: net.connect,
    now: clock.now,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    ...over,
  });
  e.online = async (maxMs = 120000) => {
    assert.ok(await clock.until(() => e.c.online(), maxMs), "online within " + maxMs + " ms; log:\n" + e.log.join("\n") + "\nmosquitto:\n" + m!.log.slice(-10).join("\n"));
  };
  envs.push(e);
  return e;
}

const lines = (e: Env, re: RegExp) => e.log.filter((l) => re.test(l));
const pubs = (e: Env, topic: string | RegExp) =>
  e.net.sent.filter((x) => x.p.cmd === "publish" && (typeof topic === "string" ? x.p.topic === topic : topic.test(x.p.topic)));
const status = (o: Observer) => o.messages.filter((x) => x.topic === P + "/status").map((x) => x.payload + (x.retain ? " (retained)" : ""));

beforeEach(() => apiReset());
afterEach(async () => {
  for (const e of envs) e.c.close();
  for (const e of envs) assert.equal(e.clock.pending(), 0, "close() leaves no timer");
  for (const m of brokers) await m.stop();
  envs = [];
  brokers = [];
});

describe("topic prefix", () => {
  it("the default is the device name in lower case, runs of other characters made one -", () => {
    assert.equal(topicPrefix(NAME), P);
    assert.equal(topicPrefix("Küche / Licht #2"), "k-che-licht-2");
  });
});

describe("MQTT session, any broker (mosquitto)", function () {
  before(function () {
    mosquittoOrSkip(this);
  });

  describe("login and availability", () => {
    it("logs in with user name and password; <prefix>/status is \"online\", retained", async () => {
      const e = await start();
      await e.online();
      assert.deepEqual(e.logins, [200]);
      const connect = e.net.sent[0].p;
      assert.deepEqual([connect.clientId, connect.username, connect.password.toString(), connect.keepalive, connect.clean], [P, "dev", "s3cret:pw", 45, true]);
      assert.deepEqual([connect.will.topic, connect.will.payload.toString(), connect.will.qos, connect.will.retain], [P + "/status", "offline", 1, true]);
      // an observer that comes later gets the retained state
      const obs = await e.m.observe(P + "/status");
      await obs.waitFor((x) => x.payload === "online");
      assert.deepEqual(status(obs), ["online (retained)"]);
    });

    it("subscribes <prefix>/+/set and mosquitto grants it", async () => {
      const e = await start();
      await e.online();
      await e.clock.advance(10);
      const sub = e.net.sent.find((x) => x.p.cmd === "subscribe")!;
      assert.deepEqual(sub.p.subscriptions, [{ topic: P + "/+/set", qos: 1 }]);
      assert.deepEqual(e.net.received.find((x) => x.p.cmd === "suback")!.p.granted, [1]);
    });

    for (const [what, user, pass] of [["a wrong password", USER.user, "wrong"], ["an unknown user", "nobody", "x"], ["no credentials", undefined, undefined]] as const)
      it(`${what}: mosquitto refuses (CONNACK 5), onLogin(9), no more attempts`, async () => {
        const e = await start({ user, pass });
        await e.clock.advance(300000);
        assert.deepEqual(e.logins, [9]);
        assert.equal(lines(e, /Bad user name or password \(CONNACK 5\)/).length, 1);
        assert.equal(e.net.created(), 1, "one attempt");
        assert.equal(e.clock.pending(), 0);
        assert.equal(e.net.open(), 0);
      });

    it("the last will: a connection cut without DISCONNECT turns the status \"offline\" (retained); the reconnect turns it \"online\"", async () => {
      const e = await start();
      await e.online();
      const obs = await e.m.observe(P + "/status");
      await obs.waitFor((x) => x.payload === "online");
      e.net.kill();
      await obs.waitFor((x) => x.payload === "offline");
      assert.ok(await e.clock.until(() => e.offline.length > 0, 1000));
      await e.online();
      await obs.waitFor((x) => x.payload === "online" && obs.messages.indexOf(x) > 1);
      assert.deepEqual(status(obs), ["online (retained)", "offline", "online"]);
      // and whoever looks later sees the current state
      const late = await e.m.observe(P + "/status");
      await late.waitFor(() => true);
      assert.deepEqual(status(late), ["online (retained)"]);
    });

    it("close(): \"offline\" (retained) and DISCONNECT, so the broker has no will to send", async () => {
      const e = await start();
      await e.online();
      const obs = await e.m.observe(P + "/status");
      await obs.waitFor((x) => x.payload === "online");
      e.c.close();
      await obs.waitFor((x) => x.payload === "offline");
      assert.ok(await eventually(() => e.net.open() === 0));
      const last = e.net.sent.slice(-2).map((x) => x.p.cmd + (x.p.topic ? " " + x.p.topic + " " + x.p.payload + (x.p.retain ? " retained" : "") : ""));
      assert.deepEqual(last, [`publish ${P}/status offline retained`, "disconnect"]);
      assert.ok(await eventually(() => e.m.log.some((l) => /Client blynk-my-device-pyn6 disconnected\./.test(l))), e.m.log.join("\n"));
      assert.equal(e.m.log.filter((l) => /closed its connection|socket error|exceeded timeout/.test(l) && l.includes(P)).length, 0);
    });

    it("an anonymous broker: no user name or password in CONNECT", async () => {
      const m = await broker({});
      const e = await start({ user: undefined, pass: undefined }, m);
      await e.online();
      const connect = e.net.sent[0].p;
      assert.deepEqual([connect.username, connect.password], [undefined, undefined]);
    });

    it("the prefix and client id options replace the name-derived ones", async () => {
      const m = await broker({});
      const e = await start({ prefix: "garage/door", id: "door-esp" }, m);
      await e.online();
      const connect = e.net.sent[0].p;
      assert.deepEqual([connect.clientId, connect.will.topic], ["door-esp", "garage/door/status"]);
      assert.equal(e.net.sent.find((x) => x.p.cmd === "subscribe")!.p.subscriptions[0].topic, "garage/door/+/set");
    });
  });

  describe("keepalive", () => {
    it("ten minutes: a PINGREQ every 45 s, each answered by mosquitto, no reconnect", async () => {
      const e = await start();
      await e.online();
      await e.clock.advance(600000);
      const pings = e.net.sent.filter((x) => x.p.cmd === "pingreq").map((x) => x.t);
      assert.equal(pings.length, 13);
      for (let i = 1; i < pings.length; i++) assert.equal(pings[i] - pings[i - 1], MqttLimit.KEEPALIVE * 1000);
      assert.equal(e.net.received.filter((x) => x.p.cmd === "pingresp").length, 13);
      assert.equal(e.net.created(), 1);
      assert.equal(e.clock.pending(), 1);
      assert.equal(e.net.open(), 1);
    });
  });

  describe("the user API", () => {
    it("virtualWrite publishes <prefix>/<name> retained: V<pin> for a pin, values joined by \\0", async () => {
      const e = await start();
      await e.online();
      const obs = await e.m.observe(P + "/#");
      assert.ok(cloudApi().virtualWrite(1, 42));
      assert.ok(cloudApi().virtualWrite("temperature", 21.5));
      assert.ok(cloudApi().virtualWrite("rgb", 1, 2, 3));
      await obs.waitFor((x) => x.topic === P + "/rgb");
      assert.deepEqual(obs.messages.filter((x) => x.topic !== P + "/status").map((x) => [x.topic, x.payload]), [
        [P + "/V1", "42"], [P + "/temperature", "21.5"], [P + "/rgb", "1\x002\x003"],
      ]);
      assert.ok(pubs(e, /\/(V1|temperature|rgb)$/).every((x) => x.p.retain && x.p.qos === 0));
    });

    it("<prefix>/<name>/set reaches onWrite(name); <prefix>/V<n>/set reaches onWrite(n)", async () => {
      const e = await start();
      await e.online();
      const got: string[] = [];
      cloudApi().onWrite("light", (v) => got.push("light=" + v.join(",")));
      cloudApi().onWrite(2, (v) => got.push("2=" + v.join(",")));
      const obs = await e.m.observe("#");
      await obs.publish(P + "/light/set", "ON");
      await obs.publish(P + "/V2/set", "7");
      await obs.publish(P + "/light", "not a command");
      await obs.publish("other-device/light/set", "OFF");
      assert.ok(await eventually(() => got.length === 2));
      await obs.publish(P + "/light/set", "OFF");
      assert.ok(await eventually(() => got.length === 3));
      assert.deepEqual(got, ["light=ON", "2=7", "light=OFF"]);
    });

    it("a retained <prefix>/<name>/set arrives at login, and syncVirtual() has the broker send it again", async () => {
      const m = await broker();
      const obs = await m.observe("#");
      await obs.publish(P + "/light/set", "ON", { retain: true });
      const got: string[] = [];
      cloudApi().onWrite("light", (v) => got.push(v[0]));
      const e = await start({}, m);
      await e.online();
      assert.ok(await eventually(() => got.length === 1));
      assert.ok(cloudApi().syncVirtual("light"));
      assert.ok(await eventually(() => got.length === 2));
      assert.deepEqual(got, ["ON", "ON"]);
      assert.equal(e.net.sent.filter((x) => x.p.cmd === "subscribe").length, 2);
    });

    it("logEvent publishes <prefix>/event/<code> with the description, not retained", async () => {
      const e = await start();
      await e.online();
      const obs = await e.m.observe(P + "/event/#");
      assert.ok(cloudApi().logEvent("overheat", "92 C"));
      const msg = await obs.waitFor((x) => x.topic === P + "/event/overheat");
      assert.deepEqual([msg.payload, msg.retain], ["92 C", false]);
    });

    it("setMetadata publishes <prefix>/meta/<field> retained at QoS 1; `written` runs on mosquitto's PUBACK", async () => {
      const e = await start();
      await e.online();
      let written = 0;
      assert.ok(e.c.setMetadata("Hotspot Name", NAME, () => written++));
      assert.ok(await eventually(() => written === 1));
      const p = pubs(e, P + "/meta/Hotspot Name")[0].p;
      assert.deepEqual([p.qos, p.retain, p.payload.toString()], [1, true, NAME]);
      const later = await e.m.observe(P + "/meta/#");
      assert.equal((await later.waitFor(() => true)).payload, NAME);
    });
  });

  describe("Home Assistant discovery (option ha)", () => {
    it("announces the status as a connectivity binary_sensor, retained, on every connection", async () => {
      const e = await start({ ha: "homeassistant" });
      await e.online();
      const obs = await e.m.observe("homeassistant/#");
      const cfg = await obs.waitFor((x) => x.topic === `homeassistant/binary_sensor/${P}/status/config`);
      assert.equal(cfg.retain, true);
      assert.deepEqual(JSON.parse(cfg.payload), {
        name: "Status", stat_t: P + "/status", pl_on: "online", pl_off: "offline", dev_cla: "connectivity", ent_cat: "diagnostic",
        uniq_id: P + "_status", dev: { ids: [P], name: NAME, sw: "0.1.0", mdl: "ESP8266" },
      });
      e.net.kill();
      assert.ok(await e.clock.until(() => e.offline.length > 0, 1000));
      await e.online();
      assert.ok(await eventually(() => pubs(e, /^homeassistant\//).length === 2));
    });

    it("without the option nothing goes to homeassistant/", async () => {
      const e = await start();
      await e.online();
      await e.clock.advance(1000);
      assert.equal(pubs(e, /^homeassistant\//).length, 0);
    });
  });
});
