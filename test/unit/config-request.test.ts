import assert from "node:assert/strict";
import { parseConfigRequest, Pending } from "../../firmware/ap-portal/config-request.ts";
import { TEST_TOKEN } from "../../shared/names.ts";

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
