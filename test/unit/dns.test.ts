import assert from "node:assert/strict";
import { dnsReply } from "../../firmware/ap-portal/dns.ts";

function query(name: string, type = 1, id = 0x1234): string {
  let q = String.fromCharCode(id >> 8, id & 255) + "\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00";
  for (const label of name.split(".")) q += String.fromCharCode(label.length) + label;
  return q + "\x00" + String.fromCharCode(0, type) + "\x00\x01";
}
const ipOf = (r: string) => [...r.slice(-4)].map((c) => c.charCodeAt(0)).join(".");

describe("captive DNS", () => {
  it("answers any A query with the AP address", () => {
    const r = dnsReply(query("connectivitycheck.gstatic.com"), "192.168.4.1");
    assert.equal(r.slice(0, 2), "\x12\x34");
    assert.equal(r.charCodeAt(7), 1, "one answer");
    assert.equal(ipOf(r), "192.168.4.1");
  });
  it("resolves blynk.setup", () => assert.equal(ipOf(dnsReply(query("blynk.setup"), "192.168.4.1")), "192.168.4.1"));
  it("gives Windows its NCSI address", () => assert.equal(ipOf(dnsReply(query("dns.msftncsi.com"), "192.168.4.1")), "131.107.255.255"));
  it("answers AAAA with an empty NOERROR", () => {
    const r = dnsReply(query("example.com", 28), "192.168.4.1");
    assert.equal(r.charCodeAt(3) & 15, 0);
    assert.equal(r.charCodeAt(7), 0);
  });
  it("ignores truncated, oversized and response packets", () => {
    const q = query("example.com");
    for (let n = 0; n < q.length; n++) assert.equal(dnsReply(q.slice(0, n), "192.168.4.1"), "", `cut at ${n}`);
    assert.equal(dnsReply(q.slice(0, 2) + "\x81\x80" + q.slice(4), "192.168.4.1"), "");
    assert.equal(dnsReply(q + "x".repeat(600), "192.168.4.1"), "");
  });
  it("survives random junk", () => {
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256);
    for (let i = 0; i < 2000; i++) {
      let s = "";
      for (let n = rnd() % 80; n > 0; n--) s += String.fromCharCode(rnd());
      dnsReply(s, "192.168.4.1");
    }
  });
});
