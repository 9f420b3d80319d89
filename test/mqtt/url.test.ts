import assert from "node:assert/strict";
import { parseBrokerUrl } from "../../firmware/mqtt/url.ts";

const ok = (tls: boolean, host: string, port: number, user = "", pass = "", prefix = "", ha = "homeassistant") => ({ tls, host, port, user, pass, prefix, ha });

describe("broker URL", () => {
  describe("accepted", () => {
    const cases: [string, ReturnType<typeof ok>][] = [
      ["mqtt://192.168.1.10", ok(false, "192.168.1.10", 1883)],
      ["mqtts://broker.example.org", ok(true, "broker.example.org", 8883)],
      ["mqtt://homeassistant.local:1884", ok(false, "homeassistant.local", 1884)],
      ["mqtts://ny3.blynk.cloud:8883", ok(true, "ny3.blynk.cloud", 8883)],
      ["mqtt://ha:secret@10.0.0.2", ok(false, "10.0.0.2", 1883, "ha", "secret")],
      ["mqtt://ha@10.0.0.2", ok(false, "10.0.0.2", 1883, "ha", "")],
      ["mqtt://:only-pass@h", ok(false, "h", 1883, "", "only-pass")],
      ["mqtt://h/", ok(false, "h", 1883)],
      ["MQTTS://H:1", ok(true, "H", 1)],
      ["mqtt://h:65535", ok(false, "h", 65535)],
      ["mqtt://u:p@h/garden/pump", ok(false, "h", 1883, "u", "p", "garden/pump")],
      ["mqtt://h:1884/lamp?ha=0", ok(false, "h", 1884, "", "", "lamp", "")],
      ["mqtt://h?ha=", ok(false, "h", 1883, "", "", "", "")],
      ["mqtt://h/?ha=ha-test/disc", ok(false, "h", 1883, "", "", "", "ha-test/disc")],
      ["mqtts://u@h/" + "p".repeat(64), ok(true, "h", 8883, "u", "", "p".repeat(64))],
    ];
    for (const [url, want] of cases) it(url, () => assert.deepEqual(parseBrokerUrl(url), want));

    it("user and password are %-decoded to bytes, as a URL's user info is", () => {
      assert.deepEqual(parseBrokerUrl("mqtt://us%40er:p%3Ass%2F%25%20w@h"), ok(false, "h", 1883, "us@er", "p:ss/% w"));
    });
    it("%-escapes above 7F give single bytes (UTF-8 stays UTF-8 bytes), not characters", () => {
      assert.deepEqual(parseBrokerUrl("mqtt://u:%C3%A9%FF@h"), ok(false, "h", 1883, "u", "\xC3\xA9\xFF"));
    });
    it("a \"+\" in the user info is a plus, not a space", () => {
      assert.deepEqual(parseBrokerUrl("mqtt://a+b:c+d@h"), ok(false, "h", 1883, "a+b", "c+d"));
    });
    it("the last @ ends the user info (an unescaped @ in the password)", () => {
      assert.deepEqual(parseBrokerUrl("mqtt://u:p@ss@h"), ok(false, "h", 1883, "u", "p@ss"));
    });
    it("a : in the password is part of it (the first : ends the user name)", () => {
      assert.deepEqual(parseBrokerUrl("mqtt://u:a:b@h:1"), ok(false, "h", 1, "u", "a:b"));
    });
  });

  describe("refused, saying what is wrong", () => {
    const cases: [string, RegExp][] = [
      ["", /must start with mqtt:\/\/ \(or mqtts:\/\/ for TLS\)/],
      ["broker.local:1883", /must start with mqtt:\/\//],
      ["http://broker.local", /must start with mqtt:\/\//],
      ["ws://broker.local/mqtt", /must start with mqtt:\/\//],
      ["mqtt://", /has no host/],
      ["mqtt://u:p@", /has no host/],
      ["mqtt://:1883", /has no host/],
      ["mqtt://h:", /port must be a number from 1 to 65535 \(got ""\); leave it out for 1883/],
      ["mqtts://h:0", /port must be a number from 1 to 65535 \(got "0"\); leave it out for 8883/],
      ["mqtt://h:65536", /port must be a number from 1 to 65535/],
      ["mqtt://h:12ab", /port must be a number/],
      ["mqtt://h:-1", /port must be a number/],
      ["mqtt://h?x=1", /has "\?x=1": the only option is \?ha= \(Home Assistant's discovery prefix, or \?ha=0 for none\)/],
      ["mqtt://h/a?retain=1&ha=0", /has "\?retain=1&ha=0": the only option is \?ha=/],
      ["mqtt://h#frag", /has a "#" part: MQTT topics cannot hold "#"/],
      ["mqtt://h/a/#", /has a "#" part/],
      ["mqtt://h/a/+/b", /The topic prefix \(the URL's path\) must be at most 64 characters of letters, digits, - and _ in levels split by single \//],
      ["mqtt://h/a//b", /The topic prefix/],
      ["mqtt://h/a/", /The topic prefix/],
      ["mqtt://h/" + "p".repeat(65), /The topic prefix/],
      ["mqtt://h/caf%C3%A9", /The topic prefix/],
      ["mqtt://h?ha=home assistant", /The \?ha= discovery prefix must be/],
      ["mqtt://[::1]:1883", /IPv6 addresses are not supported/],
      ["mqtt://bro ker", /host must be a DNS name or IPv4 address of at most 64 characters/],
      ["mqtt://h_x", /host must be a DNS name/],
      ["mqtt://" + "a".repeat(65), /at most 64 characters/],
      ["mqtt://u:100%@h", /The password has a bad %-escape at "%": write a % sign as %25/],
      ["mqtt://u%zz:p@h", /The user name has a bad %-escape at "%zz"/],
      ["mqtt://" + "u".repeat(65) + "@h", /The user name is 65 bytes; the limit is 64/],
      ["mqtt://u:" + "%41".repeat(65) + "@h", /The password is 65 bytes; the limit is 64/],
    ];
    for (const [url, re] of cases)
      it(JSON.stringify(url.length > 40 ? url.slice(0, 40) + "..." : url), () => {
        const r = parseBrokerUrl(url);
        assert.equal(typeof r, "string", JSON.stringify(r));
        assert.match(r as string, re);
      });
  });

  it("64 bytes of host, user and password are accepted", () => {
    const r = parseBrokerUrl("mqtt://" + "u".repeat(64) + ":" + "p".repeat(64) + "@" + "h".repeat(64));
    assert.equal(typeof r, "object");
  });
});
