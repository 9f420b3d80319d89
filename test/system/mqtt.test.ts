// The MQTT link on the built bundles (ESP32 and ESP8266 profiles), in the simulator and on the real
// interpreter (test/system/device.ts): provisioned through /config with an MQTT broker as host, against
// the fake Blynk MQTT cloud (Blynk's MQTT API: a token) and Debian's mosquitto (a broker of the user's
// own: user and password in the URL, no token).
import assert from "node:assert/strict";
import { TOKEN, OTHER_TOKEN, HOME, expectedSsid } from "./helpers.ts";
import { systemSuite, type TestDevice } from "./device.ts";
import { startFakeMqttCloud, type FakeMqttCloud } from "../../sim/fake-cloud/mqtt-blynk.ts";
import { startMosquitto, mosquittoOrSkip, type Mosquitto, type Observer } from "../mqtt/mosquitto.ts";
import { topicPrefix } from "../../firmware/mqtt/session.ts";
import { decodeRecord, Flag, type Config } from "../../firmware/core/config.ts";
import { CONFIG_FILES } from "../../shared/names.ts";

const appQuery = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => k + "=" + encodeURIComponent(v)).join("&");
const formPost = (o: Record<string, string>) => ({ method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(o).toString() });
const BANNER = /Blynk Edgent for Espruino /;

/** The newest valid configuration record in the device's Storage, or undefined. */
async function storedConfig(d: TestDevice): Promise<Config | undefined> {
  const recs = await d.repl("[" + CONFIG_FILES.map((f) => `require("Storage").read(${JSON.stringify(f)})`).join(",") + "]");
  const all = (recs as (string | null)[]).map((r) => decodeRecord(r ?? undefined)).filter((r) => r !== undefined);
  all.sort((a, b) => b!.q - a!.q);
  return all[0]?.c;
}

/** No console line holds `secret`. */
async function assertNotShown(d: TestDevice, secret: string): Promise<void> {
  assert.ok(!d.console.some((l) => l.includes(secret)), `${JSON.stringify(secret)} printed on the console`);
}

systemSuite("MQTT link, Blynk's MQTT API", ({ board: b, boot }) => {
  let cloud: FakeMqttCloud | undefined;
  afterEach(async () => {
    await cloud?.close();
    cloud = undefined;
  });

  async function start(): Promise<{ d: TestDevice; c: FakeMqttCloud; url: string }> {
    const c = (cloud = await startFakeMqttCloud({ tokens: [TOKEN] }));
    const d = await boot({ servers: ["127.0.0.1:" + c.port] });
    assert.ok(await d.portal(), "the portal answers");
    return { d, c, url: "mqtt://127.0.0.1:" + c.port };
  }

  it("provisions through /config with host=mqtt://127.0.0.1:<port> and a token: RUNNING over MQTT, stored, back over MQTT after downlink/reboot", async () => {
    const { d, c, url } = await start();
    const r = await d.fetch("/config?" + appQuery({ ssid: HOME.ssid, pass: HOME.password, blynk: TOKEN, host: url, port: "80", port_ssl: "443" }));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { status: "ok", msg: "Trying to connect..." });
    assert.ok(await d.waitForLog(/=> RUNNING/, 60000), "reaches RUNNING");
    assert.deepEqual(c.logins.map((l) => [l.token, l.code]), [[TOKEN, 0]], "one login over MQTT, user device, the token as password");
    assert.equal(d.cloud.logins.length, 0, "nothing went to the Blynk-protocol cloud");
    await c.waitFor((e) => e.kind === "info", 10000);
    assert.equal(c.sessions[0].info!.tmpl, c.sessions[0].info!.type, "info/mcu published");
    const s = await d.status();
    assert.equal(s.cloud, true);
    assert.equal(s.link, "Blynk MQTT");
    const cfg = await storedConfig(d);
    assert.ok(cfg && cfg.f & Flag.VALID && cfg.f & Flag.MQTT, "stored as a tested MQTT configuration: " + JSON.stringify(cfg && { ...cfg, t: "-", n: "-" }));
    assert.deepEqual([cfg!.h, cfg!.p, cfg!.q, cfg!.n[0].s], ["127.0.0.1", c.port, 0, HOME.ssid]);
    assert.ok(d.console.some((l) => new RegExp(`Blynk MQTT: ${TOKEN.slice(0, 4)} - \\*\\*\\*\\* - \\*\\*\\*\\* - \\*\\*\\*\\* @ 127\\.0\\.0\\.1:${c.port} \\(plain TCP\\)`).test(l)));
    await assertNotShown(d, TOKEN);
    assert.ok(await d.until(async () => !(await d.ap()).up, 20000), "the access point closes after the grace period");
    const meta = () => c.publishes.filter((p) => p.topic === "meta/Hotspot Name").map((p) => [p.payload, p.qos]);
    assert.deepEqual(meta(), [[expectedSsid(b.mac, b.chip), 1]], "Hotspot Name reported once, at QoS 1");
    assert.ok(await d.until(async () => !!((await storedConfig(d))!.f & Flag.META_SENT), 10000), "and its flag stored on the PUBACK");

    // downlink/reboot: the device restarts, comes back over MQTT from the stored configuration
    const from = d.console.length;
    c.reboot();
    assert.ok(await d.until(() => c.logins.length >= 2, 60000), "a second login after the restart");
    assert.ok(d.console.slice(from).some((l) => BANNER.test(l)), "it restarted");
    assert.ok(await d.waitForLog(/=> RUNNING/, 30000, from));
    assert.deepEqual(c.logins.map((l) => l.code), [0, 0]);
    assert.equal((await d.ap()).up, false, "no portal on a provisioned boot");
    assert.ok(!d.console.slice(from).some((l) => /AP SSID/.test(l)), "no access point after the restart");
    assert.equal(d.cloud.logins.length, 0);
    assert.equal(meta().length, 1, "Hotspot Name not sent again after the restart");
    assert.deepEqual(d.errors(), []);
  });

  it("a token the MQTT cloud refuses (CONNACK 4): last_error 703, token_rejected, the configuration is not stored", async () => {
    const { d, c, url } = await start();
    await d.fetch("/config?" + appQuery({ ssid: HOME.ssid, pass: HOME.password, blynk: OTHER_TOKEN, host: url }));
    assert.ok(await d.waitForLog(/Invalid auth token/, 60000));
    assert.ok(await d.waitForLog(/Last error 703 stored to flash \(configuration kept\)/, 5000));
    assert.deepEqual(c.logins.map((l) => l.code), [4]);
    assert.ok(!d.console.some((l) => /Configuration stored to flash/.test(l)), "no claim that a configuration was stored");
    assert.equal(JSON.parse((await d.fetch("/board_info.json")).body).last_error, 703);
    const st = JSON.parse((await d.fetch("/status.json")).body);
    assert.equal(st.test, "token_rejected");
    assert.equal(st.link, "Blynk MQTT; last attempt: Invalid auth token");
    const cfg = await storedConfig(d);
    assert.ok(!cfg || (!(cfg.f & Flag.VALID) && cfg.n.length === 0 && !(cfg.f & Flag.MQTT)), "nothing of the tested configuration stored");
    assert.equal((await d.ap()).up, true, "the portal stays");
    await d.advance(8000); // past the first retry's 5 s
    assert.equal(c.logins.length, 1, "no more attempts");
  });

  it("a virtualWrite from the user's code reaches the cloud (ds/V1); a value from the cloud reaches onWrite", async () => {
    const { d, c, url } = await start();
    await d.fetch("/config?" + appQuery({ ssid: HOME.ssid, pass: HOME.password, blynk: TOKEN, host: url }));
    assert.ok(await d.waitForLog(/=> RUNNING/, 60000));
    await d.repl('(edgent.onWrite(2, function (v) { edgent.virtualWrite("Doubled", v[0] * 2); }), 0)');
    assert.equal(await d.repl("edgent.virtualWrite(1, 42)"), true);
    assert.ok(await d.until(() => c.values.V1?.[0] === "42", 10000), "ds/V1 42 at the cloud");
    c.write("V2", 21);
    assert.ok(await d.until(() => c.values.Doubled?.[0] === "42", 10000), "onWrite(2) ran and its answer reached the cloud");
    assert.equal(await d.repl("edgent.logEvent(\"overheat\", \"92 C\")"), true);
    assert.ok(await d.until(() => c.publishes.some((p) => p.topic === "event/overheat" && p.payload === "92 C"), 10000));
    assert.deepEqual(d.errors(), []);
  });

  it("edgent.connect(token, ssid, pass, host) on the REPL provisions over MQTT as /config does", async () => {
    const { d, c, url } = await start();
    assert.equal(await d.repl(`edgent.connect(${JSON.stringify(TOKEN)}, ${JSON.stringify(HOME.ssid)}, ${JSON.stringify(HOME.password)}, ${JSON.stringify(url)})`), "Trying to connect...");
    assert.ok(await d.waitForLog(/=> RUNNING/, 60000));
    assert.deepEqual(c.logins.map((l) => l.code), [0]);
    const cfg = await storedConfig(d);
    assert.ok(cfg && cfg.f & Flag.MQTT && cfg.f & Flag.VALID);
    assert.equal(await d.repl('edgent.connect("", "HomeNet", "correct horse", "mqtts://")'), "The broker URL has no host: write mqtt://host or mqtt://host:port", "a bad broker URL is refused, saying why");
    assert.ok(d.console.some((l) => /Configuration invalid: The broker URL has no host/.test(l)));
  });

  it("the broker drops the connection three times: CONNECTING_CLOUD, then RUNNING again over MQTT each time, the user's events fire, nothing left over", async () => {
    const { d, c, url } = await start();
    await d.fetch("/config?" + appQuery({ ssid: HOME.ssid, pass: HOME.password, blynk: TOKEN, host: url }));
    assert.ok(await d.waitForLog(/=> RUNNING/, 60000));
    assert.ok(await d.until(async () => !(await d.ap()).up, 20000), "the access point closes after the grace period");
    await d.repl('(global.ups = 0, global.downs = 0, edgent.on("connected", function () { ups++; }), edgent.on("disconnected", function () { downs++; }), 0)');
    await d.advance(1000);
    const before = (await d.repl("process.memory().usage")) as number;
    for (let i = 1; i <= 3; i++) {
      const from = d.console.length;
      c.closeSockets();
      assert.ok(await d.waitForLog(/RUNNING => CONNECTING_CLOUD/, 10000, from), "drop " + i + " seen");
      assert.ok(await d.waitForLog(/CONNECTING_CLOUD => RUNNING/, 30000, from), "online again after drop " + i);
    }
    assert.equal(c.logins.length, 4);
    assert.deepEqual(await d.repl("[ups, downs]"), [3, 3]);
    await d.advance(1000);
    const after = (await d.repl("process.memory().usage")) as number;
    assert.ok(after <= before + (d.backend === "real" ? 4 : 0), `memory in use before ${before}, after ${after}`);
    assert.deepEqual(d.errors(), []);
  });

  it("downlink/reconfigure opens the setup portal, configuration kept; the link is closed", async () => {
    const { d, c, url } = await start();
    await d.fetch("/config?" + appQuery({ ssid: HOME.ssid, pass: HOME.password, blynk: TOKEN, host: url }));
    assert.ok(await d.waitForLog(/=> RUNNING/, 60000));
    assert.ok(await d.until(async () => !(await d.ap()).up, 20000), "the access point closes after the grace period");
    const from = d.console.length;
    c.reconfigure();
    assert.ok(await d.waitForLog(/=> WAIT_CONFIG/, 10000, from));
    assert.equal((await d.status()).state, "WAIT_CONFIG");
    assert.ok(await d.until(async () => (await d.ap()).up, 20000), "the access point is up again");
    // (the portal's port is listened on after its first scan: on the real interpreter a request can
    // come before it, and d.portal() counts the portal of the first setup too)
    const answers = async () => {
      try {
        return (await d.fetch("/board_info.json", { timeoutMs: 5000 })).status === 200;
      } catch {
        return false;
      }
    };
    assert.ok(await d.until(answers, 20000), "the portal answers again");
    assert.ok(await d.until(() => c.openCount() === 0, 10000), "the MQTT connection is closed");
    const cfg = await storedConfig(d);
    assert.ok(cfg && cfg.f & Flag.VALID && cfg.f & Flag.MQTT, "configuration kept");
  });
});

systemSuite("MQTT link, a broker of the user's own (mosquitto)", ({ board: b, boot }) => {
  const USER = "dev";
  const PASS = "s3cret:pw@home";
  let m: Mosquitto | undefined;
  let obs: Observer | undefined;
  const prefix = topicPrefix(expectedSsid(b.mac, b.chip));

  before(function () {
    mosquittoOrSkip(this);
  });
  afterEach(async () => {
    await m?.stop();
    m = obs = undefined;
  });

  /**
   * Waits for a message the observer got: device time for the device (the simulator runs meanwhile),
   * and real time for mosquitto, a process of its own (a few ms per 50 ms of the device's).
   */
  const got = (d: TestDevice, pred: (x: { topic: string; payload: string; retain: boolean }) => boolean, ms = 10000, from = 0) =>
    d.until(async () => {
      await new Promise((r) => setTimeout(r, 5));
      return obs!.messages.slice(from).some(pred);
    }, ms);

  async function start(): Promise<{ d: TestDevice; url: string; shown: string }> {
    m = await startMosquitto({ users: { [USER]: PASS }, acl: `user ${USER}\ntopic readwrite ${prefix}/#\n` });
    obs = await m.observe(prefix + "/#");
    const d = await boot({ servers: ["127.0.0.1:" + m.port] });
    assert.ok(await d.portal(), "the portal answers");
    return { d, url: `mqtt://${USER}:${encodeURIComponent(PASS)}@127.0.0.1:${m.port}`, shown: `mqtt://${USER}@127.0.0.1:${m.port}` };
  }

  it("provisions through the form's Server field with user:password in the URL and no token: RUNNING, <prefix>/status online, user code's values on the broker", async () => {
    const { d, url } = await start();
    const r = await d.fetch("/config", formPost({ ui: "1", ssid: HOME.ssid, pass: HOME.password, host: url }));
    assert.equal(r.status, 303, r.body);
    assert.ok(await d.waitForLog(/=> RUNNING/, 60000), "reaches RUNNING");
    assert.ok(await got(d, (x) => x.topic === prefix + "/status" && x.payload === "online"), "online on the broker");
    assert.equal(d.cloud.logins.length, 0, "nothing went to the Blynk cloud");
    const s = await d.status();
    assert.equal(s.link, `MQTT broker 127.0.0.1:${m!.port}`);
    const cfg = await storedConfig(d);
    assert.ok(cfg && cfg.f & Flag.VALID && cfg.f & Flag.MQTT);
    assert.deepEqual([cfg!.t, cfg!.u, cfg!.w, cfg!.h, cfg!.p], ["", USER, PASS, "127.0.0.1", m!.port]);
    assert.ok(d.console.some((l) => l.includes(`MQTT broker: ${USER}@127.0.0.1:${m!.port} (plain TCP)`)));
    await assertNotShown(d, PASS);

    // the user's code: a value out, a value in
    await d.repl('(edgent.onWrite("light", function (v) { edgent.virtualWrite("light", v[0]); }), 0)');
    assert.equal(await d.repl("edgent.virtualWrite(1, 42)"), true);
    assert.ok(await got(d, (x) => x.topic === prefix + "/V1"), "V1 on the broker");
    const v1 = obs!.last(prefix + "/V1")!;
    assert.deepEqual([v1.payload, v1.retain], ["42", false], "42 (retained: a later subscriber gets it too)");
    await obs!.publish(prefix + "/light/set", "ON");
    assert.ok(await got(d, (x) => x.topic === prefix + "/light" && x.payload === "ON"), "onWrite(\"light\") answered");
    const late = await m!.observe(prefix + "/V1");
    assert.ok(await got(d, () => late.messages.length > 0), "a later subscriber");
    assert.deepEqual([late.messages[0].payload, late.messages[0].retain], ["42", true]);

    // and after a power cycle, from the stored configuration
    const seen = obs!.messages.length;
    await d.powerCycle();
    assert.ok(await got(d, (x) => x.topic === prefix + "/status" && x.payload === "online", 60000, seen), "online again after a power cycle");
    assert.equal((await d.ap()).up, false, "no portal on a provisioned boot");
    assert.deepEqual(d.errors(), []);
  });

  it("the URL's path is the topic prefix and Home Assistant finds the device (homeassistant/ discovery, retained); ?ha=0 announces nothing", async () => {
    m = await startMosquitto({ users: { [USER]: PASS }, acl: `user ${USER}\ntopic readwrite garden/pump/#\ntopic write homeassistant/#\n` });
    obs = await m.observe("#");
    const d = await boot({ servers: ["127.0.0.1:" + m.port] });
    assert.ok(await d.portal(), "the portal answers");
    const base = `mqtt://${USER}:${encodeURIComponent(PASS)}@127.0.0.1:${m.port}/garden/pump`;
    const r = await d.fetch("/config?" + appQuery({ ssid: HOME.ssid, pass: HOME.password, host: base }));
    assert.equal(r.status, 200, r.body);
    assert.ok(await got(d, (x) => x.topic === "garden/pump/status" && x.payload === "online", 60000), "online under the URL's prefix");
    assert.ok(await got(d, (x) => x.topic === "homeassistant/binary_sensor/garden_pump/status/config"), "Home Assistant's discovery");
    const disc = obs.last("homeassistant/binary_sensor/garden_pump/status/config")!;
    const cfg = JSON.parse(disc.payload);
    assert.deepEqual([cfg.stat_t, cfg.dev_cla, cfg.dev.name], ["garden/pump/status", "connectivity", expectedSsid(b.mac, b.chip)]);
    const late = await m.observe("homeassistant/#");
    assert.ok(await got(d, () => late.messages.length > 0), "retained: Home Assistant started later finds it too");
    assert.ok(!obs.messages.some((x) => x.topic.startsWith(prefix + "/")), "nothing under the device name's prefix");
    // stored a moment after the login (once its frames are out)
    assert.ok(await d.until(async () => (await storedConfig(d))?.x === "garden/pump", 10000), "the prefix stored");
    assert.equal((await storedConfig(d))!.a, undefined, "discovery on by default: nothing stored for it");

    // set up again with ?ha=0: the prefix stays, nothing goes to homeassistant/
    assert.equal(await d.repl(`edgent.connect("", ${JSON.stringify(HOME.ssid)}, ${JSON.stringify(HOME.password)}, ${JSON.stringify(base + "?ha=0")})`), "Trying to connect...");
    const seen = obs.messages.length;
    assert.ok(await got(d, (x) => x.topic === "garden/pump/status" && x.payload === "online", 60000, seen), "online again");
    assert.ok(await d.until(async () => (await storedConfig(d))?.a === "", 10000), "stored with ?ha=0");
    await d.powerCycle();
    assert.ok(await got(d, (x) => x.topic === "garden/pump/status" && x.payload === "online", 60000, seen + 1), "online after a power cycle");
    assert.ok(!obs.messages.slice(seen).some((x) => x.topic.startsWith("homeassistant/")), "no discovery with ?ha=0");
    assert.deepEqual(d.errors(), []);
  });

  it("after a wrong WiFi password the form shows the broker without its password, and sent back so it keeps the one entered before", async () => {
    const { d, url, shown } = await start();
    await d.fetch("/config", formPost({ ui: "1", ssid: HOME.ssid, pass: "wrong password", host: url }));
    assert.ok(await d.waitForLog(/Last error code: 701/, 60000));
    const page = (await d.fetch("/")).body;
    assert.ok(page.includes(`value="${shown}"`), "the Server field shows the URL without its password");
    assert.ok(!page.includes(encodeURIComponent(PASS)) && !page.includes(PASS), "no broker password in the page");
    // the person fixes the WiFi password and sends the form as it is
    const r = await d.fetch("/config", formPost({ ui: "1", ssid: HOME.ssid, pass: HOME.password, host: shown }));
    assert.equal(r.status, 303);
    assert.ok(await d.waitForLog(/=> RUNNING/, 60000), "online with the kept broker password");
    assert.equal((await storedConfig(d))!.w, PASS);
  });

  it("a wrong password: 703, the page says the broker refused the user name or password, nothing stored; the form shows the URL without it", async () => {
    const { d, shown } = await start();
    const wrong = `mqtt://${USER}:wrong-pw@127.0.0.1:${m!.port}`;
    const r = await d.fetch("/config", formPost({ ui: "1", ssid: HOME.ssid, pass: HOME.password, host: wrong }));
    assert.equal(r.status, 303);
    assert.ok(await d.waitForLog(/Bad user name or password \(CONNACK 5\)/, 60000));
    assert.ok(await d.waitForLog(/Last error 703 stored to flash/, 5000));
    const st = JSON.parse((await d.fetch("/status.json")).body);
    assert.equal(st.test, "token_rejected");
    assert.match(st.link, /^MQTT broker 127\.0\.0\.1:\d+; last attempt: Bad user name or password \(CONNACK 5\)$/);
    assert.match((await d.fetch("/status")).body, /The MQTT broker refused the user name or password \(703\)/);
    const cfg = await storedConfig(d);
    assert.ok(!cfg || (!(cfg.f & Flag.VALID) && cfg.n.length === 0 && !(cfg.f & Flag.MQTT)), "nothing of the tested configuration stored");
    const page = (await d.fetch("/")).body;
    assert.ok(page.includes(`value="${shown}"`), "the Server field shows the URL without its password");
    assert.ok(!page.includes("wrong-pw"), "no password in the page");
    await assertNotShown(d, "wrong-pw");
  });
});
