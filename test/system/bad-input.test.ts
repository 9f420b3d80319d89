// Bad input gets a clear JSON error, nothing is saved, and the portal keeps serving. In the simulator
// and on the real interpreter (test/system/device.ts).
import assert from "node:assert/strict";
import { TOKEN } from "./helpers.ts";
import { systemSuite } from "./device.ts";

const HOSTILE_SSIDS = ['Quote"Net', "<script>alert(1)</script>", "-\"onfocus=alert(1) autofocus x=\"", "x');alert(1)//"];

systemSuite("bad input", ({ shared }) => {
  const dev = shared({ networks: HOSTILE_SSIDS.map((ssid, i) => ({ ssid, password: "password1", rssi: -40 - i, channel: 1 })) });
  before(async () => assert.ok(await dev().portal()));
  const expectError = async (path: string, init: any, status: number, msg: RegExp) => {
    const flash = await dev().flash();
    const r = await dev().fetch(path, init);
    assert.equal(r.status, status, r.body);
    const j = JSON.parse(r.body);
    assert.equal(j.status, "error");
    assert.match(j.msg, msg);
    assert.deepEqual(await dev().flash(), flash, "nothing written to flash");
    assert.equal((await dev().fetch("/board_info.json")).status, 200, "portal still serving");
  };

  it("refuses an SSID over 32 bytes", () => expectError("/config?ssid=" + "x".repeat(33) + "&blynk=" + TOKEN, {}, 500, /SSID is 33 bytes; the limit is 32/));
  it("refuses a token that is not 32 characters", () => expectError("/config?ssid=Home&blynk=short", {}, 500, /32 characters/));
  it("refuses a token with other characters", () => expectError("/config?ssid=Home&blynk=" + TOKEN.slice(0, 31) + "%21", {}, 500, /32 characters/));
  it("refuses a malformed %-escape", () => expectError("/config?ssid=Home%zz&blynk=" + TOKEN, {}, 400, /Malformed %-escape/));
  it("refuses a 16 KB body", () => expectError("/config", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "ssid=" + "a".repeat(16384) }, 413, /over 1024 bytes/));
  it("reads a POST without Content-Length as far as it arrived, and refuses what is invalid", async () => {
    const flash = await dev().flash();
    const r = await dev().fetch("", { chunks: ["POST /config HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nssid=Home&blynk=short"] });
    assert.equal(r.status, 500);
    assert.match(JSON.parse(r.body).msg, /32 characters|SSID is missing/);
    assert.deepEqual(await dev().flash(), flash);
  });

  it("escapes quotes and <script> from scanned SSIDs in JSON", async () => {
    const r = await dev().fetch("/wifi_scan.json");
    assert.ok(!r.body.includes("<script>"));
    assert.deepEqual(JSON.parse(r.body).map((n: any) => n.ssid), HOSTILE_SSIDS);
  });
  it("escapes scanned SSIDs in the HTML page", async () => {
    await dev().fetch("/wifi_scan.json");
    const page = (await dev().fetch("/")).body;
    assert.ok(page.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert.ok(!page.includes("<script>"));
    assert.ok(!page.includes('"onfocus'));
    assert.ok(page.includes("x&#39;);alert(1)//"));
  });
  it("has printed no interpreter error after all of it", () => assert.deepEqual(dev().errors(), []));
});
