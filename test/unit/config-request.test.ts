import assert from "node:assert/strict";
import { parseConfigRequest, Pending } from "../../firmware/ap-portal/config-request.ts";
import { TEST_TOKEN } from "../../shared/names.ts";
import { Flag } from "../../firmware/core/config.ts";

const TOKEN = TEST_TOKEN;
const ok = (f: Record<string, string>, factory = "") => {
  const r = parseConfigRequest(f, factory);
  assert.equal(typeof r, "object", String(r));
  return r as Pending;
};
const bad = (f: Record<string, string>) => {
  const r = parseConfigRequest(f, "");
  assert.equal(typeof r, "string");
  return r as string;
};

describe("/config validation", () => {
  it("accepts Edgent's example request", () => {
    const r = ok({ ssid: "HomeNet", pass: "secret12", blynk: TOKEN, host: "blynk.cloud", port: "80", port_ssl: "443" });
    assert.deepEqual(r.c.n, [{ s: "HomeNet", p: "secret12" }]);
    assert.equal(r.c.t, TOKEN);
    assert.equal(r.save, false);
  });
  it("prefers ssidManual when given", () => assert.equal(ok({ ssid: "A", ssidManual: "Hidden", blynk: TOKEN }).c.n[0].s, "Hidden"));
  it("says how long an overlong SSID is", () => assert.equal(bad({ ssid: "x".repeat(34), blynk: TOKEN }), "SSID is 34 bytes; the limit is 32"));
  it("counts bytes, not characters, for UTF-8 SSIDs", () => {
    assert.equal(ok({ ssid: "\xe2\x98\x95".repeat(10) + "ab", blynk: TOKEN }).c.n[0].s.length, 32);
    assert.match(bad({ ssid: "\xe2\x98\x95".repeat(11), blynk: TOKEN }), /33 bytes/);
  });
  it("refuses a token that is not 32 characters of [-_a-zA-Z0-9]", () => {
    assert.match(bad({ ssid: "a", blynk: TOKEN.slice(1) }), /32 characters/);
    assert.match(bad({ ssid: "a", blynk: TOKEN.slice(1) + "!" }), /32 characters/);
  });
  it("accepts a 64-hex PSK and an open network, refuses a short password", () => {
    ok({ ssid: "a", pass: "0123456789abcdef".repeat(4), blynk: TOKEN });
    ok({ ssid: "a", pass: "", blynk: TOKEN });
    assert.match(bad({ ssid: "a", pass: "short", blynk: TOKEN }), /Password is 5 bytes/);
    assert.match(bad({ ssid: "a", pass: "g".repeat(64), blynk: TOKEN }), /64 hex digits/);
  });
  it("uses the factory token when the request has none", () => assert.equal(ok({ ssid: "a" }, TOKEN).c.t, TOKEN));
  it("refuses a missing token without a factory token", () => assert.equal(bad({ ssid: "a" }), "Auth token is missing"));
  it("stores a static IP only with mask and gateway", () => {
    const r = ok({ ssid: "a", blynk: TOKEN, ip: "192.168.1.20", mask: "255.255.255.0", gw: "192.168.1.1", dns: "1.1.1.1" });
    assert.deepEqual(r.c.i, ["192.168.1.20", "255.255.255.0", "192.168.1.1", "1.1.1.1", ""]);
    assert.match(bad({ ssid: "a", blynk: TOKEN, ip: "192.168.1.20" }), /mask and gw/);
    assert.match(bad({ ssid: "a", blynk: TOKEN, ip: "192.168.1.256", mask: "255.255.255.0", gw: "192.168.1.1" }), /ip must be an IPv4/);
  });
  it("checks ports and host", () => {
    assert.match(bad({ ssid: "a", blynk: TOKEN, port: "99999" }), /port must be/);
    assert.match(bad({ ssid: "a", blynk: TOKEN, host: "evil host<" }), /host must be/);
    assert.equal(ok({ ssid: "a", blynk: TOKEN, port_ssl: "8443" }).c.q, 8443);
  });
  it("reads save=1 as persist-now", () => assert.equal(ok({ ssid: "a", blynk: TOKEN, save: "1" }).save, true));
});

describe("/config validation: an MQTT broker as host", () => {
  const TLS = true;
  const mqtt = (f: Record<string, string>, factory = "", tls = TLS) => {
    const r = parseConfigRequest(f, factory, tls);
    assert.equal(typeof r, "object", String(r));
    return (r as Pending).c;
  };
  const refused = (f: Record<string, string>, tls = TLS) => {
    const r = parseConfigRequest(f, "", tls);
    assert.equal(typeof r, "string");
    return r as string;
  };

  it("mqtt://blynk.cloud with a token: Blynk's MQTT API, port 1883, plain, the token kept", () => {
    const c = mqtt({ ssid: "a", blynk: TOKEN, host: "mqtt://blynk.cloud" });
    assert.deepEqual([c.f & Flag.MQTT, c.h, c.p, c.q, c.t, c.u, c.w], [Flag.MQTT, "blynk.cloud", 1883, 0, TOKEN, undefined, undefined]);
  });
  it("mqtts://...:8883 with a token: TLS to that port (where the chip has TLS)", () => {
    const c = mqtt({ ssid: "a", blynk: TOKEN, host: "mqtts://ny3.blynk.cloud:8883" });
    assert.deepEqual([c.h, c.p, c.q], ["ny3.blynk.cloud", 0, 8883]);
  });
  it("mqtts:// on a chip without TLS (ESP8266) is refused with what to write instead", () =>
    assert.match(refused({ ssid: "a", blynk: TOKEN, host: "mqtts://blynk.cloud" }, false), /no TLS: write the broker as mqtt:\/\//));
  it("the app's port and port_ssl do not change an MQTT broker's port", () => {
    const c = mqtt({ ssid: "a", blynk: TOKEN, host: "mqtt://blynk.cloud", port: "80", port_ssl: "443" });
    assert.deepEqual([c.p, c.q], [1883, 0]);
  });
  it("a broker URL with user and password: any broker, no token needed, user and password stored", () => {
    const c = mqtt({ ssid: "a", host: "mqtt://dev:s3cret%3Apw@192.168.1.10:1884" });
    assert.deepEqual([c.f & Flag.MQTT, c.h, c.p, c.t, c.u, c.w], [Flag.MQTT, "192.168.1.10", 1884, "", "dev", "s3cret:pw"]);
  });
  it("a user name in the URL means the user's own broker: a token sent too is not used", () => {
    assert.equal(mqtt({ ssid: "a", blynk: TOKEN, host: "mqtt://dev:pw@broker" }).t, "");
    assert.equal(mqtt({ ssid: "a", host: "mqtt://dev:pw@broker" }, TOKEN).t, "", "nor the factory token");
  });
  it("a broker URL without user and without a token: an anonymous broker", () => {
    const c = mqtt({ ssid: "a", host: "mqtt://broker.local" });
    assert.deepEqual([c.t, c.u, c.w, c.h], ["", undefined, undefined, "broker.local"]);
  });
  it("a broker URL without user takes the factory token: Blynk's MQTT API", () => assert.equal(mqtt({ ssid: "a", host: "mqtt://blynk.cloud" }, TOKEN).t, TOKEN));
  it("a bad broker URL is refused with the URL parser's words", () => {
    assert.match(refused({ ssid: "a", host: "mqtt://broker:99999" }), /port must be a number from 1 to 65535/);
    assert.match(refused({ ssid: "a", host: "http://broker" }), /must start with mqtt:\/\//);
    assert.match(refused({ ssid: "a", host: "mqtt://u:100%@h" }), /bad %-escape/);
  });
  it("a broker of your own: the URL's path is the topic prefix, ?ha= Home Assistant's discovery prefix; stored only when given", () => {
    const c = mqtt({ ssid: "a", host: "mqtt://dev:pw@broker/garden/pump?ha=0" });
    assert.deepEqual([c.x, c.a], ["garden/pump", ""]);
    const d = mqtt({ ssid: "a", host: "mqtt://broker" });
    assert.deepEqual(["x" in d, "a" in d], [false, false], "the defaults: the device name's prefix, discovery under homeassistant/");
    assert.equal(mqtt({ ssid: "a", host: "mqtt://broker?ha=ha" }).a, "ha");
  });
  it("Blynk's MQTT API has its own topics: a path or ?ha= with a token is refused, saying so", () => {
    assert.match(refused({ ssid: "a", blynk: TOKEN, host: "mqtt://blynk.cloud/mine" }), /Blynk's MQTT API has topics of its own: leave the path and \?ha= out/);
    assert.match(refused({ ssid: "a", blynk: TOKEN, host: "mqtt://blynk.cloud?ha=0" }), /topics of its own/);
  });
  it("a bad token is still refused with an MQTT broker", () => assert.match(refused({ ssid: "a", blynk: "short", host: "mqtt://blynk.cloud" }), /32 characters/));
  it("a plain host name is the Blynk protocol as before (no MQTT flag, no user fields)", () => {
    const c = mqtt({ ssid: "a", blynk: TOKEN, host: "mqtt.example.org" });
    assert.deepEqual([c.f & Flag.MQTT, c.h, c.p, c.q, "u" in c, "w" in c], [0, "mqtt.example.org", 80, 443, false, false]);
  });
  it("without a broker URL a token is still required", () => assert.equal(refused({ ssid: "a", host: "blynk.cloud" }), "Auth token is missing"));
});
