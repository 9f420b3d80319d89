// The sign-in sheet pops up on every phone: wildcard DNS, OS probe URLs and foreign Hosts. In the
// simulator and on the real interpreter (test/system/device.ts).
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { TOKEN, HOME } from "./helpers.ts";
import { systemSuite, type TestDevice } from "./device.ts";

const PROBES: [string, string][] = [
  ["connectivitycheck.gstatic.com", "/generate_204"],
  ["www.google.com", "/gen_204"],
  ["captive.apple.com", "/hotspot-detect.html"],
  ["www.apple.com", "/library/test/success.html"],
  ["www.msftconnecttest.com", "/connecttest.txt"],
  ["www.msftncsi.com", "/ncsi.txt"],
  ["www.msftconnecttest.com", "/redirect"],
  ["detectportal.firefox.com", "/canonical.html"],
  ["detectportal.firefox.com", "/success.txt"],
];

function dnsQuery(name: string, type = 1): Buffer {
  const parts = [Buffer.from([0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of name.split(".")) parts.push(Buffer.from([l.length]), Buffer.from(l));
  parts.push(Buffer.from([0, 0, type, 0, 1]));
  return Buffer.concat(parts);
}

async function resolve(d: TestDevice, name: string, type = 1): Promise<Buffer> {
  const port = d.dnsPort();
  assert.ok(port, "the captive DNS has a socket");
  const sock = createSocket("udp4");
  let got: Buffer | undefined;
  sock.on("message", (m) => (got = got || m));
  // as a phone's resolver does: the query again each second without an answer (a datagram is not a
  // connection; a busy device or host may miss one), five times
  for (let i = 0; i < 5 && !got; i++) {
    sock.send(dnsQuery(name, type), port, "127.0.0.1");
    await d.until(() => !!got, 1000);
  }
  sock.close();
  assert.ok(got, "DNS answered");
  return got!;
}

systemSuite("captive portal", ({ shared, boot }) => {
  const dev = shared();
  before(async () => assert.ok(await dev().portal()));

  it("resolves every name to the AP address, blynk.setup included", async () => {
    for (const name of ["blynk.setup", "connectivitycheck.gstatic.com", "captive.apple.com"]) {
      const r = await resolve(dev(), name);
      assert.deepEqual([...r.subarray(-4)], [192, 168, 4, 1], name);
    }
  });
  it("gives dns.msftncsi.com its expected address and AAAA an empty answer", async () => {
    assert.deepEqual([...(await resolve(dev(), "dns.msftncsi.com")).subarray(-4)], [131, 107, 255, 255]);
    const aaaa = await resolve(dev(), "example.com", 28);
    assert.equal(aaaa.readUInt16BE(6), 0);
    assert.equal(aaaa[3] & 15, 0);
  });
  it("ignores malformed DNS packets and keeps answering", async () => {
    const sock = createSocket("udp4");
    for (const junk of [Buffer.alloc(0), Buffer.from([1, 2, 3]), Buffer.alloc(300, 0xff), dnsQuery("x").subarray(0, 15)]) sock.send(junk, dev().dnsPort(), "127.0.0.1");
    await dev().advance(300);
    sock.close();
    assert.deepEqual([...(await resolve(dev(), "blynk.setup")).subarray(-4)], [192, 168, 4, 1]);
    assert.deepEqual(dev().errors(), []);
  });

  for (const [host, path] of PROBES)
    it(`redirects the probe http://${host}${path} to the portal while unprovisioned`, async () => {
      const r = await dev().fetch(path, { headers: { Host: host } });
      assert.equal(r.status, 302);
      assert.equal(r.headers.location, "http://192.168.4.1/");
    });
  it("redirects any page on a foreign host", async () => {
    const r = await dev().fetch("/some/page?x=1", { headers: { Host: "example.com" } });
    assert.equal(r.status, 302);
  });
  it("answers 404 for favicon.ico and wpad.dat", async () => {
    for (const p of ["/favicon.ico", "/wpad.dat"]) assert.equal((await dev().fetch(p, { headers: { Host: "192.168.4.1" } })).status, 404);
  });
  it("never shows the word Success before setup is done", async () => {
    for (const p of ["/", "/status", "/status.json", "/board_info.json"]) assert.ok(!/success/i.test((await dev().fetch(p)).body), p);
  });
  it("gives the probes their online answers after a successful setup", async () => {
    const d = await boot();
    assert.ok(await d.portal());
    await d.fetch("/config?ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + TOKEN);
    assert.ok(await d.waitForLog(/=> RUNNING/, 60000));
    const apple = await d.fetch("/hotspot-detect.html", { headers: { Host: "captive.apple.com" } });
    assert.equal(apple.status, 200);
    assert.match(apple.body, /<TITLE>Success<\/TITLE>/);
    assert.equal((await d.fetch("/generate_204", { headers: { Host: "connectivitycheck.gstatic.com" } })).status, 204);
    assert.equal((await d.fetch("/connecttest.txt", { headers: { Host: "www.msftconnecttest.com" } })).body, "Microsoft Connect Test");
  });
});

systemSuite("captive DNS under empty datagrams", ({ boot }) => {
  it("keeps answering after empty UDP datagrams arrive while an answer is going out (Espruino's ESP32 socket layer closes the socket then)", async () => {
    const d = await boot();
    assert.ok(await d.portal());
    const sock = createSocket("udp4");
    for (let i = 0; i < 5; i++) {
      sock.send(dnsQuery("blynk.setup"), d.dnsPort(), "127.0.0.1");
      sock.send(Buffer.alloc(0), d.dnsPort(), "127.0.0.1");
      await d.advance(200);
    }
    sock.close();
    assert.ok(await d.until(async () => {
      try {
        return [...(await resolve(d, "blynk.setup")).subarray(-4)].join(".") === "192.168.4.1";
      } catch {
        return false;
      }
    }, 10000), "the captive DNS answers again");
    assert.deepEqual(d.errors(), []);
  });
});
