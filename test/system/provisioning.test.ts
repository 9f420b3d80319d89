// First-setup flow on the built bundles (ESP32 and ESP8266 profiles), in the simulator and on the real
// interpreter (test/system/device.ts).
import assert from "node:assert/strict";
import { TOKEN, OTHER_TOKEN, HOME, expectedSsid, provisionedFlash } from "./helpers.ts";
import { systemSuite } from "./device.ts";

const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
const appQuery = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => k + "=" + encodeURIComponent(v)).join("&");

systemSuite("first setup", ({ board: b, boot, simOnly }) => {
  it("opens an open access point named from the chip id at 192.168.4.1", async () => {
    const d = await boot();
    assert.ok(await d.waitForLog(/INIT => WAIT_CONFIG$/, 20000));
    assert.ok(await d.until(async () => (await d.ap()).ssid === expectedSsid(b.mac, b.chip), 10000));
    const ap = await d.ap();
    assert.equal(ap.up, true);
    assert.equal(ap.ssid, expectedSsid(b.mac, b.chip));
    assert.ok((ap.ssid ?? "").endsWith("-" + b.suffix));
    assert.ok(d.console.some((l) => /^\[\d+\] AP SSID: /.test(l)));
    assert.ok(d.console.some((l) => /^\[\d+\] AP IP:   192\.168\.4\.1$/.test(l)));
  });

  it("describes itself in /board_info.json with Edgent's keys and switches to CONFIGURING", async () => {
    const d = await boot();
    assert.ok(await d.portal());
    const r = await d.fetch("/board_info.json");
    assert.equal(r.status, 200);
    assert.match(r.headers["content-type"], /application\/json/);
    const info = JSON.parse(r.body);
    assert.deepEqual(Object.keys(info).slice(0, 10), ["board", "tmpl_id", "fw_type", "fw_ver", "ssid", "bssid", "mac", "last_error", "wifi_scan", "static_ip"]);
    assert.equal(info.ssid, expectedSsid(b.mac, b.chip));
    assert.equal(info.mac, b.mac.toUpperCase());
    assert.equal(info.last_error, 0);
    assert.ok(await d.waitForLog(/WAIT_CONFIG => CONFIGURING/, 2000));
  });

  it("lists scanned networks strongest first, and the setup page lists them on its first load", async () => {
    const d = await boot();
    assert.ok(await d.portal());
    const page = await d.fetch("/");
    assert.equal(page.status, 200);
    assert.match(page.body, /<option value="HomeNet">HomeNet \(-48 dBm\)<\/option>/, "the network list is there on the first page load");
    const list = JSON.parse((await d.fetch("/wifi_scan.json")).body);
    assert.deepEqual(list.map((n: any) => n.ssid), ["HomeNet", "Neighbour"]);
    assert.equal(list[0].rssi, -48);
    assert.equal(typeof list[0].ch, "number");
  });

  for (const [how, send] of [
    ["the app's GET with %-encoding", (d: any, f: Record<string, string>) => d.fetch("/config?" + appQuery(f))],
    ["a browser form POST", (d: any, f: Record<string, string>) => d.fetch("/config", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: form(f) })],
  ] as const) {
    it(`provisions through ${how}, logs in, persists, and boots straight to the cloud next time`, async () => {
      const d = await boot();
      assert.ok(await d.portal());
      const r = await send(d, { ssid: HOME.ssid, pass: HOME.password, blynk: TOKEN, host: "blynk.cloud", port: "80", port_ssl: "443" });
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { status: "ok", msg: "Trying to connect..." });
      assert.ok(await d.waitForLog(/=> RUNNING/, 60000), "reaches RUNNING");
      assert.equal(d.cloud.logins.filter((l: any) => l.token === TOKEN).length, 1);
      assert.equal((await d.status()).ssid, HOME.ssid);
      assert.ok((await d.storageNames()).some((n: string) => n.startsWith("edgent.cfg")));
      assert.ok(!d.console.some((l: string) => l.includes(HOME.password)), "password never printed");
      assert.ok(!d.console.some((l: string) => l.includes(TOKEN)), "token never printed whole");
      assert.ok(await d.until(async () => !(await d.ap()).up, 20000), "AP closes after the grace period");
      const from = d.console.length;
      await d.powerCycle();
      assert.ok(await d.until(() => d.cloud.logins.length >= 2, 60000));
      assert.equal(d.cloud.logins.length, 2, "logged in again after the restart");
      assert.equal((await d.ap()).up, false, "no portal on a provisioned boot");
      assert.ok(!d.console.slice(from).some((l: string) => /AP SSID/.test(l)), "no access point after the restart");
      assert.deepEqual(d.errors(), []);
    });
  }

  it("reports a wrong password as last_error 701, stays in the portal, and its form keeps what was sent but the password", async () => {
    const d = await boot();
    assert.ok(await d.portal());
    const sent = await d.fetch("/config", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: form({ ui: "1", ssid: HOME.ssid, pass: "wrong password", blynk: TOKEN, host: "my.blynk.example" }) });
    assert.equal(sent.status, 303);
    assert.ok(await d.waitForLog(/Last error code: 701/, 60000));
    assert.equal((await d.ap()).up, true);
    assert.equal(JSON.parse((await d.fetch("/board_info.json")).body).last_error, 701);
    assert.equal(JSON.parse((await d.fetch("/status.json")).body).test, "wrong_password");
    const page = (await d.fetch("/")).body;
    assert.match(page, /id="ssid" name="ssid"[^>]* value="HomeNet"/, "network name kept");
    assert.match(page, /id="host" name="host"[^>]* value="my.blynk.example"/, "server kept");
    assert.match(page, /Leave empty to keep the token you entered before/, "token kept on the device, not retyped");
    assert.ok(!page.includes(TOKEN) && !page.includes("wrong password"), "no secret in the page");
  });

  it("reports a network that is not in range as last_error 701 with the words for it", async () => {
    const d = await boot();
    assert.ok(await d.portal());
    await d.fetch("/config?" + appQuery({ ssid: "Nowhere", pass: "whatever1", blynk: TOKEN }));
    assert.ok(await d.waitForLog(/Last error code: 701/, 60000));
    assert.equal(JSON.parse((await d.fetch("/status.json")).body).test, "not_found");
    assert.match((await d.fetch("/status")).body, /Network <b>Nowhere<\/b> was not found/);
    assert.equal((await d.ap()).up, true);
  });

  simOnly("reports a network that gives no address (DHCP) as last_error 701 with the words for it", "the real-interpreter prelude's fake radio always hands out an address", async () => {
    const d = await boot({ networks: [{ ...HOME, dhcp: false } as any] });
    assert.ok(await d.portal());
    await d.fetch("/config?" + appQuery({ ssid: HOME.ssid, pass: HOME.password, blynk: TOKEN }));
    assert.ok(await d.waitForLog(/Last error code: 701/, 90000));
    assert.equal(JSON.parse((await d.fetch("/status.json")).body).test, "no_dhcp");
    assert.match((await d.fetch("/status")).body, /got no IP address from the router \(DHCP\)/);
  });

  it("reports a rejected token as last_error 703, and logs that only the error code was stored", async () => {
    const d = await boot();
    assert.ok(await d.portal());
    await d.fetch("/config?" + appQuery({ ssid: HOME.ssid, pass: HOME.password, blynk: OTHER_TOKEN }));
    assert.ok(await d.waitForLog(/Invalid auth token/, 60000));
    assert.ok(await d.waitForLog(/Last error 703 stored to flash \(configuration kept\)/, 5000));
    assert.ok(!d.console.some((l) => /Configuration stored to flash/.test(l)), "no claim that a configuration was stored");
    assert.equal(JSON.parse((await d.fetch("/board_info.json")).body).last_error, 703);
    assert.equal(JSON.parse((await d.fetch("/status.json")).body).test, "token_rejected");
  });

  it("a /config with a port and no port_ssl connects over plain TCP to that port (a script, a local server)", async () => {
    const d = await boot();
    assert.ok(await d.portal());
    assert.equal((await d.fetch("/config?" + appQuery({ ssid: HOME.ssid, pass: HOME.password, blynk: TOKEN, host: "blynk.cloud", port: "80" }))).status, 200);
    assert.ok(await d.waitForLog(/Blynk cloud: .* @ blynk\.cloud:80 \(plain TCP\)$/, 5000));
    assert.ok(await d.waitForLog(/Connecting to blynk\.cloud:80$/, 30000));
    assert.ok(await d.until(async () => (await d.status()).state === "RUNNING", 60000));
    assert.equal((await d.status()).link, "plain TCP");
    if (d.sim) assert.equal(d.sim.netStats.tlsConnects, 0, "no TLS");
  });

  it("an access point that does not start ends in ERROR with last_error 704, and the device restarts 10 s later", async () => {
    const d = await boot({ files: provisionedFlash() });
    assert.ok(await d.until(async () => (await d.status()).state === "RUNNING", 60000));
    await d.repl('(function(){require("Wifi").startAP = function () { throw new Error("radio busy"); }; return 1;})()');
    await d.repl("edgent.config()");
    assert.ok(await d.waitForLog(/Last error code: 704/, 20000), d.console.slice(-8).join("\n"));
    assert.ok(await d.waitForLog(/=> ERROR$/, 2000));
    assert.ok(await d.waitForLog(/Restarting after error\./, 15000));
    assert.ok(await d.until(() => d.restarts() >= 1, 10000), "restarted");
    assert.ok(await d.until(() => d.cloud.logins.length >= 2, 60000), "online again after the restart (the radio works again)");
  });

  it("/reset clears the stored error and stays in the portal", async () => {
    const d = await boot({ files: provisionedFlash({ f: 0, e: 701 }) });
    assert.ok(await d.portal());
    assert.equal(JSON.parse((await d.fetch("/board_info.json")).body).last_error, 701);
    assert.deepEqual(JSON.parse((await d.fetch("/reset")).body), { status: "ok", msg: "Configuration reset" });
    assert.ok(await d.until(async () => JSON.parse((await d.fetch("/board_info.json")).body).last_error === 0, 5000));
    assert.equal((await d.ap()).up, true);
  });

  it("answers 404 for any path it does not know (favicon.ico, wpad.dat, anything)", async () => {
    const d = await boot();
    assert.ok(await d.portal());
    for (const p of ["/favicon.ico", "/wpad.dat", "/anything"]) assert.equal((await d.fetch(p)).status, 404, p);
    assert.equal((await d.fetch("/")).status, 200, "and keeps serving");
    assert.deepEqual(d.errors(), []);
  });

  it('"config start" right after a setup (within the access point\'s grace period) ends in the portal, never stranded', async () => {
    const d = await boot();
    assert.ok(await d.portal());
    await d.fetch("/config?" + appQuery({ ssid: HOME.ssid, pass: HOME.password, blynk: TOKEN }));
    assert.ok(await d.waitForLog(/=> RUNNING/, 60000));
    assert.equal(await d.repl("edgent.config()"), "Starting the setup portal (configuration kept)");
    await d.advance(15000); // past the grace period that closed the access point after a setup
    const s = await d.status();
    assert.equal(s.state, "WAIT_CONFIG");
    assert.equal((await d.ap()).up, true, "the portal stays open");
    assert.equal((await d.fetch("/board_info.json")).status, 200, "and answers");
  });
});
