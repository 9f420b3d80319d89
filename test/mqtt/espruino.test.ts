// The MQTT session as the device runs it: bundled like the firmware (terser, the conformance check of
// Espruino's traps), booted from Storage on the real interpreter (LINUX builds from ESPRUINO_BIN and
// ESPRUINO_BIN_1600, each skipped when unset), talking TCP to the fake Blynk MQTT cloud.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundle } from "../../scripts/bench-mqtt.ts";
import { checkBundle } from "../../scripts/conformance.js";
import { RealDevice, executable } from "../real/espruino.ts";
import { startFakeMqttCloud, FakeMqttCloud } from "../../sim/fake-cloud/mqtt-blynk.ts";
import { parseBrokerUrl } from "../../firmware/mqtt/url.ts";
import { TOKEN } from "./vectors.ts";
import { Ev } from "../../firmware/kernel.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const p = (f: string) => JSON.stringify(join(ROOT, f));

/**
 * Device side: what the core would do (its events: the user API, the clock) and the module "mqtt" (open())
 * in one bundle. The user's V1 handler answers with twice the value; callbacks print "@@" events.
 */
const ENTRY = `
import { open } from ${p("firmware/mqtt/client.ts")};
import { cloudApi, apiLink, apiWrite } from ${p("firmware/cloud/api.ts")};
import { now } from ${p("firmware/platform/espruino.ts")};
var c;
function log(l) { print("@@MQTT " + l); }
global.__t = {
  start: function () {
    cloudApi().onWrite(1, function (v) { cloudApi().virtualWrite(1, v[0] * 2); });
    c = open({ host: "blynk.cloud", port: 1883, tls: false, token: "${TOKEN}", keepalive: 1, now: now,
      info: { fwVer: "0.1.0", build: "Jan  1 2025 12:00:00", dev: "ESP8266", tmpl: "TMPL4xxxxxxxx" },
      log: log,
      ev: function (e, a, b) {
        if (e === ${Ev.LOGIN}) print("@@LOGIN " + a);
        else if (e === ${Ev.OFFLINE}) print("@@OFFLINE");
        else if (e === ${Ev.COMMAND}) print("@@CMD " + a);
        else if (e === ${Ev.LINK}) apiLink(a, b, log);
        else if (e === ${Ev.WRITE}) apiWrite(a, b);
      },
      onOta: function (j) { print("@@OTA " + j); } });
  },
  stop: function () { c.close(); c = undefined; }
};`;

/** The broker URL parser, as the portal would run it. */
const URL_ENTRY = `
import { parseBrokerUrl } from ${p("firmware/mqtt/url.ts")};
global.__url = function (s) { return JSON.stringify(parseBrokerUrl(s)); };`;
const URLS = [
  "mqtt://192.168.1.10", "mqtts://broker.example.org", "mqtt://homeassistant.local:1884", "mqtt://ha:secret@10.0.0.2",
  "mqtt://us%40er:p%3Ass%2F%25%20w@h", "mqtt://u:%C3%A9%FF@h", "mqtt://u:p@ss@h", "MQTTS://H:1", "mqtt://h/",
  "http://x", "mqtt://", "mqtt://h:0", "mqtt://h:12ab", "mqtt://h/topic", "mqtt://h?x", "mqtt://[::1]", "mqtt://bro ker",
  "mqtt://u:100%@h", "mqtt://" + "u".repeat(65) + "@h", "mqtt:/", "mqtt:", "mqtts:/x", "mqtt",
];

describe("MQTT session bundled for Espruino", function () {
  this.timeout(120000);
  let code = "";
  let dir = "";

  before(async () => {
    code = await bundle(ENTRY);
    dir = mkdtempSync(join(tmpdir(), "mqtt-espruino-"));
    writeFileSync(join(dir, "bundle.js"), code);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("passes the conformance check of Espruino's traps", () => {
    assert.deepEqual(checkBundle(code), []);
  });

  it("the broker URL parser gives on the real interpreter what it gives in Node", async function () {
    const bin = executable(process.env.ESPRUINO_BIN);
    if (!bin) {
      this.test!.title += " (ESPRUINO_BIN not set: skipped)";
      this.skip();
    }
    const urlCode = await bundle(URL_ENTRY);
    assert.deepEqual(checkBundle(urlCode), []);
    writeFileSync(join(dir, "url.js"), urlCode);
    const dev = await RealDevice.start({ bundle: join(dir, "url.js"), chip: "ESP8266", bin, pins: false, tracePins: false });
    try {
      for (const u of URLS) {
        const got = JSON.parse(await dev.evalJSON<string>("__url(" + JSON.stringify(u) + ")"));
        assert.deepEqual(got, parseBrokerUrl(u), u);
      }
      assert.deepEqual(dev.errors(), []);
    } finally {
      await dev.cleanup();
    }
  });

  for (const env of ["ESPRUINO_BIN", "ESPRUINO_BIN_1600"])
    it(`on the real interpreter (${env}): login, info/mcu, keepalive, a V1 round trip, ping, reboot, OTA, a refused big message, close`, async function () {
      const bin = executable(process.env[env]);
      if (!bin) {
        this.test!.title += ` (${env} not set: skipped)`;
        this.skip();
      }
      let cloud: FakeMqttCloud | undefined;
      let dev: RealDevice | undefined;
      try {
        cloud = await startFakeMqttCloud({ tokens: [TOKEN] });
        dev = await RealDevice.start({ bundle: join(dir, "bundle.js"), chip: "ESP8266", bin, pins: false, tracePins: false, cloud: { host: "127.0.0.1", port: cloud.port } });
        await dev.eval("__t.start()");
        await dev.waitForEvent(/^LOGIN 200$/, 20000);
        await cloud.waitFor((e) => e.kind === "info", 10000);
        assert.deepEqual(cloud.sessions[0].info, { tmpl: "TMPL4xxxxxxxx", ver: "0.1.0", build: "Jan  1 2025 12:00:00", type: "TMPL4xxxxxxxx", rxbuff: 1024 });
        assert.equal(cloud.sessions[0].keepalive, 1);
        await cloud.waitFor((e) => e.kind === "ping", 10000);
        cloud.write("V1", 21);
        await cloud.waitFor((e) => e.kind === "publish" && e.topic === "ds/V1", 10000);
        assert.deepEqual(cloud.values.V1, ["42"]);
        await Promise.race([cloud.ping(), new Promise((_, no) => setTimeout(() => no(new Error("no PUBACK for downlink/ping")), 10000))]);
        cloud.reboot();
        await dev.waitForEvent(/^CMD reboot$/, 10000);
        cloud.otaJson({ url: "http://x/fw", size: 1 });
        await dev.waitForEvent(/^OTA \{"url":"http:\/\/x\/fw","size":1\}$/, 10000);
        cloud.sendBig(2048);
        await dev.waitForEvent(/^MQTT Refused a message of 2065 bytes/, 10000);
        cloud.write("V1", 5);
        await cloud.waitFor((e) => e.kind === "publish" && e.topic === "ds/V1" && e.payload === "10", 10000);
        await dev.eval("__t.stop()");
        await cloud.waitFor((e) => e.kind === "disconnect", 10000);
        assert.equal(cloud.sessions.length, 1, "one connection all along");
        assert.equal(dev.events.filter((e) => e === "OFFLINE").length, 0);
        assert.deepEqual(dev.errors(), []);
      } catch (e) {
        throw new Error((e as Error).message + "\ndevice events:\n" + dev?.events.slice(-20).join("\n") + "\nconsole:\n" + dev?.console.slice(-20).join("\n") + "\ncloud:\n" + cloud?.events.slice(-12).map((x) => x.kind + " " + (x.topic ?? "") + " " + (x.payload ?? "")).join("\n"));
      } finally {
        if (dev) await dev.cleanup();
        if (cloud) await cloud.close();
      }
    });
});
