import assert from "node:assert/strict";
import { parseForm, jsonString, html, Fields } from "../../firmware/ap-portal/form.ts";

const parse = (s: string) => {
  const f: Fields = {};
  const err = parseForm(s, f);
  return { f, err };
};

describe("form decoding, byte for byte", () => {
  it("decodes the app's %20 encoding", () => assert.equal(parse("ssid=My%20Net&pass=a%2Bb").f.ssid, "My Net"));
  it("decodes a browser form's + for space and keeps an encoded +", () => {
    const { f } = parse("ssid=My+Net&pass=a%2Bb%26c%3Dd");
    assert.equal(f.ssid, "My Net");
    assert.equal(f.pass, "a+b&c=d");
  });
  it("keeps reserved characters a script left raw", () => assert.equal(parse("ssid=HomeNet&pass=p@ss:w/rd!*'()").f.pass, "p@ss:w/rd!*'()"));
  it("turns %XX into raw bytes so UTF-8 SSIDs pass through", () => assert.equal(parse("ssid=Caf%C3%A9%20%E2%98%95").f.ssid, "Caf\xc3\xa9 \xe2\x98\x95"));
  it("keeps double spaces", () => assert.equal(parse("ssid=Lots+of++Spaces").f.ssid, "Lots of  Spaces"));
  it("refuses a malformed escape with a clear message", () => {
    assert.match(parse("ssid=abc%zz").err, /Malformed %-escape in field "ssid"/);
    assert.match(parse("pass=abc%4").err, /Malformed/);
  });
  it("refuses a duplicate key", () => assert.match(parse("ssid=a&ssid=b").err, /"ssid" appears twice/));
  it("accepts a key without value and empty parts", () => assert.deepEqual(parse("a&&b=").f, { a: "", b: "" }));
  it("decodes without touching other characters", () => {
    const f: Fields = {};
    assert.equal(parseForm("k=a%41b", f), "");
    assert.equal(f.k, "aAb");
  });
});

describe("escaping for JSON and HTML", () => {
  it("JSON-escapes quotes, backslashes, control characters and angle brackets", () =>
    assert.equal(jsonString('a"b\\c\n<script>'), '"a\\"b\\\\c\\u000a\\u003cscript\\u003e"'));
  it("produces JSON that parses back to the same bytes", () => {
    const s = "x\");alert(1)//<img src=x onerror=alert(1)>\x01";
    assert.equal(JSON.parse(jsonString(s)), s);
  });
  it("HTML-escapes everything that can break out of text or an attribute", () =>
    assert.equal(html(`-"onfocus=alert(1) autofocus x="<'&`), "-&quot;onfocus=alert(1) autofocus x=&quot;&lt;&#39;&amp;"));
});
