// First-setup flow on the built bundles (ESP32 and ESP8266 profiles) in the simulator.
import assert from "node:assert/strict";
import { world, BOARDS, TOKEN, OTHER_TOKEN, HOME, expectedSsid, provisionedFlash } from "./helpers.ts";

const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
const appQuery = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => k + "=" + encodeURIComponent(v)).join("&");

for (const b of BOARDS) {
  describe(`first setup on ${b.board} (${b.chip})`, function () {
    let env: Awaited<ReturnType<typeof world>>;
    afterEach(async () => {
      env?.sim.stop();
      await env?.cloud.close();
    });

    it("opens an open access point named from the chip id at 192.168.4.1", async () => {
      env = await world({ board: b });
      const { sim } = env;
      await sim.advance(3000);
      assert.equal(sim.wifi.apRunning(), true);
      assert.equal(sim.wifi.apSsid(), expectedSsid(b.mac, b.chip));
      assert.ok((sim.wifi.apSsid() ?? "").endsWith("-" + b.suffix));
      assert.ok(sim.console.some((l) => /^\[\d+\] AP SSID: /.test(l)));
      assert.ok(sim.console.some((l) => /^\[\d+\] AP IP:   192\.168\.4\.1$/.test(l)));
      assert.ok(sim.console.some((l) => /^\[\d+\] INIT => WAIT_CONFIG$/.test(l)));
    });

    it("describes itself in /board_info.json with Edgent's keys and switches to CONFIGURING", async () => {
      env = await world({ board: b });
      await env.sim.advance(3000);
      const r = await env.sim.fetch("/board_info.json");
      assert.equal(r.status, 200);
      assert.match(r.headers["content-type"], /application\/json/);
      const info = JSON.parse(r.body);
      assert.deepEqual(Object.keys(info).slice(0, 10), ["board", "tmpl_id", "fw_type", "fw_ver", "ssid", "bssid", "mac", "last_error", "wifi_scan", "static_ip"]);
      assert.equal(info.ssid, expectedSsid(b.mac, b.chip));
      assert.equal(info.mac, b.mac.toUpperCase());
      assert.equal(info.last_error, 0);
      assert.ok(env.sim.console.some((l) => /WAIT_CONFIG => CONFIGURING/.test(l)));
    });

    it("lists scanned networks strongest first", async () => {
      env = await world({ board: b });
      await env.sim.advance(3000);
      const list = JSON.parse((await env.sim.fetch("/wifi_scan.json")).body);
      assert.deepEqual(list.map((n: any) => n.ssid), ["HomeNet", "Neighbour"]);
      assert.equal(list[0].rssi, -48);
      assert.equal(typeof list[0].ch, "number");
    });

    for (const [how, send] of [
      ["the app's GET with %-encoding", (sim: any, f: Record<string, string>) => sim.fetch("/config?" + appQuery(f))],
      ["a browser form POST", (sim: any, f: Record<string, string>) => sim.fetch("/config", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: form(f) })],
    ] as const) {
      it(`provisions through ${how}, logs in, persists, and boots straight to the cloud next time`, async () => {
        env = await world({ board: b });
        const { sim, cloud } = env;
        await sim.advance(3000);
        const r = await send(sim, { ssid: HOME.ssid, pass: HOME.password, blynk: TOKEN, host: "blynk.cloud", port: "80", port_ssl: "443" });
        assert.equal(r.status, 200);
        assert.deepEqual(JSON.parse(r.body), { status: "ok", msg: "Trying to connect..." });
        assert.ok(await sim.until(() => sim.console.some((l: string) => /=> RUNNING/.test(l)), 60000), "reaches RUNNING");
        assert.equal(cloud.logins.filter((l: any) => l.token === TOKEN).length, 1);
        assert.equal(sim.wifi.staSsid(), HOME.ssid);
        assert.ok(sim.storage.list().some((n: string) => n.startsWith("edgent.cfg")));
        assert.ok(!sim.console.some((l: string) => l.includes(HOME.password)), "password never printed");
        assert.ok(!sim.console.some((l: string) => l.includes(TOKEN)), "token never printed whole");
        await sim.advance(15000);
        assert.equal(sim.wifi.apRunning(), false, "AP closes after the grace period");
        sim.powerCut();
        const from = sim.console.length;
        await sim.powerOn();
        await sim.until(() => cloud.logins.length >= 2, 60000);
        assert.equal(cloud.logins.length, 2, "logged in again after the restart");
        assert.equal(sim.wifi.apRunning(), false, "no portal on a provisioned boot");
        assert.ok(!sim.console.slice(from).some((l: string) => /AP SSID/.test(l)), "no access point after the restart");
      });
    }

    it("reports a wrong password as last_error 701 and stays in the portal", async () => {
      env = await world({ board: b });
      const { sim } = env;
      await sim.advance(3000);
      await sim.fetch("/config?" + appQuery({ ssid: HOME.ssid, pass: "wrong password", blynk: TOKEN }));
      assert.ok(await sim.until(() => sim.console.some((l: string) => /Last error code: 701/.test(l)), 60000));
      assert.equal(sim.wifi.apRunning(), true);
      assert.equal(JSON.parse((await sim.fetch("/board_info.json")).body).last_error, 701);
      assert.equal(JSON.parse((await sim.fetch("/status.json")).body).test, "wrong_password");
    });

    it("reports a rejected token as last_error 703", async () => {
      env = await world({ board: b });
      const { sim } = env;
      await sim.advance(3000);
      await sim.fetch("/config?" + appQuery({ ssid: HOME.ssid, pass: HOME.password, blynk: OTHER_TOKEN }));
      assert.ok(await sim.until(() => sim.console.some((l: string) => /Invalid auth token/.test(l)), 60000));
      await sim.advance(1000);
      assert.equal(JSON.parse((await sim.fetch("/board_info.json")).body).last_error, 703);
      assert.equal(JSON.parse((await sim.fetch("/status.json")).body).test, "token_rejected");
    });

    it("/reset clears the stored error and stays in the portal", async () => {
      env = await world({ board: b, storage: provisionedFlash({ f: 0, e: 701 }) });
      const { sim } = env;
      await sim.advance(3000);
      assert.equal(JSON.parse((await sim.fetch("/board_info.json")).body).last_error, 701);
      assert.deepEqual(JSON.parse((await sim.fetch("/reset")).body), { status: "ok", msg: "Configuration reset" });
      await sim.advance(2000);
      assert.equal(JSON.parse((await sim.fetch("/board_info.json")).body).last_error, 0);
      assert.equal(sim.wifi.apRunning(), true);
    });
  });
}
