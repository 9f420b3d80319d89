// Test before commit with an answer on the phone, and a portal that never strands a device. In the
// simulator and on the real interpreter (test/system/device.ts); the tests of minutes offline run in
// the simulator only.
import assert from "node:assert/strict";
import { world, BOARDS, TOKEN, OTHER_TOKEN, HOME, provisionedFlash } from "./helpers.ts";
import { systemSuite } from "./device.ts";

const state = (sim: any) => JSON.parse((sim.repl("JSON.stringify(edgent.status())") as string)).state;
const connects = (sim: any) => sim.wifi.log.filter((c: any) => c.call === "connect").map((c: any) => c.args[0]);
const FORM = { "Content-Type": "application/x-www-form-urlencoded" };

systemSuite("test-before-commit and recovery", ({ boot }) => {
  it("keeps the access point up while testing and reports progress in /status.json", async () => {
    const d = await boot({ networks: [{ ...HOME, joinDelayMs: 4000 }] });
    assert.ok(await d.portal());
    await d.fetch("/config?ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + TOKEN);
    await d.advance(1000);
    const during = JSON.parse((await d.fetch("/status.json")).body);
    assert.equal(during.test, "connecting");
    assert.equal(during.ssid, HOME.ssid);
    assert.equal((await d.ap()).up, true);
    assert.ok(await d.until(async () => (await d.status()).state === "RUNNING", 60000));
    const after = JSON.parse((await d.fetch("/status.json")).body);
    assert.equal(after.test, "online");
    assert.match(after.ip, /^\d+\.\d+\.\d+\.\d+$/);
    assert.notEqual(after.ip, "192.168.4.1");
    if (d.sim) assert.equal(after.ip, "192.168.1.50");
    assert.ok(!JSON.stringify(after).includes(HOME.password) && !JSON.stringify(after).includes(TOKEN), "no secrets in status");
    assert.ok(await d.until(async () => !(await d.ap()).up, 20000), "access point closed after the grace period");
  });

  it("answers the browser form with a status page that refreshes until the outcome is known", async () => {
    const d = await boot();
    assert.ok(await d.portal());
    const r = await d.fetch("/config", { method: "POST", headers: FORM, body: "ui=1&ssid=HomeNet&pass=wrong+horse&blynk=" + TOKEN });
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, "/status");
    const busy = await d.fetch("/status");
    assert.match(busy.body, /Connecting to <b>HomeNet<\/b>|Wrong password for <b>HomeNet<\/b>/);
    if (/Connecting/.test(busy.body)) assert.match(busy.body, /http-equiv="refresh"/);
    assert.ok(await d.until(async () => (await d.status()).test === "wrong_password", 60000));
    const done = await d.fetch("/status");
    assert.match(done.body, /Wrong password for <b>HomeNet<\/b>/);
    assert.ok(!/http-equiv="refresh"/.test(done.body));
  });

  it("shows the form again with the reason when the browser sends a bad value", async () => {
    const d = await boot();
    assert.ok(await d.portal());
    const r = await d.fetch("/config", { method: "POST", headers: FORM, body: "ui=1&ssid=HomeNet&pass=short&blynk=" + TOKEN });
    assert.equal(r.status, 400);
    assert.match(r.body, /<form/);
    assert.match(r.body, /Password is 5 bytes/);
  });

  it("a second /config sent while the first is still joining is the one tested: the first one's outcome never counts for it", async () => {
    const d = await boot({ networks: [{ ...HOME, joinDelayMs: 300 }], tokens: [TOKEN, OTHER_TOKEN] });
    assert.ok(await d.portal());
    await d.fetch("/config?ssid=" + HOME.ssid + "&pass=wrong+horse&blynk=" + TOKEN);
    assert.ok(await d.waitForLog(/Connecting to WiFi: HomeNet/, 5000));
    await d.advance(250); // the first join fails about 50 ms from now, while the second one waits to start
    // (exactly so in the simulator; on the real interpreter the request may take longer than 50 ms
    // on a busy host, and the first attempt's failure is then rightly reported before it arrives:
    // what counts is the console after the second one was applied)
    const r = await d.fetch("/config?ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + OTHER_TOKEN);
    assert.equal(r.status, 200, r.body);
    assert.ok(await d.until(async () => (await d.status()).test === "online", 60000), d.console.slice(-10).join("\n"));
    assert.deepEqual(d.cloud.logins.map((l: any) => l.token), [OTHER_TOKEN]);
    const applied = d.console.map((l) => /Applying configuration/.test(l)).lastIndexOf(true);
    assert.ok(applied > 0, "the second configuration was applied");
    assert.ok(!d.console.slice(applied).some((l) => /Last error code: 701/.test(l)), "the first attempt's failure was not taken for the second's");
  });

  it("tries the strongest known network first", async () => {
    const nets = [
      { ssid: "Weak", password: "password1", rssi: -85, channel: 1 },
      { ssid: "Strong", password: "password2", rssi: -40, channel: 6 },
      { ssid: "Middle", password: "password3", rssi: -60, channel: 11 },
    ];
    const d = await boot({ networks: nets, files: provisionedFlash({ n: [{ s: "Weak", p: "password1" }, { s: "Middle", p: "password3" }, { s: "Strong", p: "password2" }] }) });
    assert.ok(await d.until(async () => (await d.status()).state === "RUNNING", 60000));
    assert.equal(d.joins()[0], "Strong");
  });

  it("keeps the stored config when a new one fails its test", async () => {
    const d = await boot({ files: provisionedFlash() });
    assert.ok(await d.until(async () => (await d.status()).state === "RUNNING", 60000));
    const from = d.console.length;
    await d.repl('edgent.config("start")');
    assert.ok(await d.waitForLog(/AP URL/, 10000, from), "portal reopened");
    assert.ok(await d.portal());
    await d.fetch("/config?ssid=HomeNet&pass=not+the+password&blynk=" + TOKEN);
    assert.ok(await d.waitForLog(/Last error code: 701/, 60000));
    await d.powerCycle();
    assert.ok(await d.until(async () => (await d.status()).state === "RUNNING", 60000), "the old config still works");
  });
});

for (const b of BOARDS) {
  describe(`test-before-commit and recovery on ${b.board} [simulator only: minutes offline]`, function () {
    let env: Awaited<ReturnType<typeof world>>;
    afterEach(async () => {
      env?.sim.stop();
      await env?.cloud.close();
    });

    it("opens the portal after 5 minutes offline, keeps retrying, and closes it when the network is back", async () => {
      env = await world({ board: b, networks: [{ ...HOME, up: false }], storage: provisionedFlash() });
      const { sim } = env;
      await sim.advance(4 * 60000);
      assert.equal(sim.wifi.apRunning(), false, "no portal before 5 minutes");
      await sim.advance(2 * 60000);
      assert.equal(sim.wifi.apRunning(), true, "portal open after 5 minutes offline");
      const tries = connects(sim).length;
      await sim.advance(3 * 60000);
      assert.ok(connects(sim).length > tries, "still retrying the saved network");
      sim.world.set(HOME.ssid, { up: true });
      assert.ok(await sim.until(() => state(sim) === "RUNNING", 5 * 60000));
      await sim.advance(1000);
      assert.equal(sim.wifi.apRunning(), false, "portal closed by itself");
      assert.equal(env.cloud.logins.length, 1);
    });

    it("never erases anything when a provisioned device loses its network", async () => {
      env = await world({ board: b, storage: provisionedFlash() });
      const { sim } = env;
      assert.ok(await sim.until(() => state(sim) === "RUNNING", 60000));
      const before = [sim.storage.read("edgent.cfg0"), sim.storage.read("edgent.cfg1")];
      sim.world.set(HOME.ssid, { up: false });
      await sim.advance(20 * 60000);
      assert.deepEqual([sim.storage.read("edgent.cfg0"), sim.storage.read("edgent.cfg1")], before);
      sim.world.set(HOME.ssid, { up: true });
      assert.ok(await sim.until(() => state(sim) === "RUNNING", 5 * 60000));
    });

  });
}
