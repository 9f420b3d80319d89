// The portal and its endpoints exist only in portal mode: nothing on the home network can
// reconfigure the device.
//
// Espruino's HTTP server listens on every interface and does not tell a handler which one a
// request came in on (nor the client's address), and the simulator has no notion of interfaces
// either. So these tests check what can be told apart: nothing listens while the device is only a
// station, the portal is closed before (or at the latest when) the device gets an address on the
// home network, and while the device holds such an address and the setup network is still up
// (testing a new config, or the grace period after it), the portal refuses /config and /reset
// from anyone.
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { world, BOARDS, TOKEN, OTHER_TOKEN, HOME, provisionedFlash } from "./helpers.ts";
import { systemSuite, knock, type TestDevice } from "./device.ts";

const state = (sim: any) => JSON.parse(sim.repl("JSON.stringify(edgent.status())") as string).state;
const listening = (sim: any) => sim.sockets().filter((s: any) => /server|udp/.test(s.type));

/** Whether anything answers a DNS query on the device's port 53 within 2 s of device time. */
async function dnsAnswers(d: TestDevice, port: number | undefined): Promise<boolean> {
  if (!port) return false;
  const sock = createSocket("udp4");
  let got = false;
  sock.on("message", () => (got = true));
  sock.on("error", () => {});
  sock.send(Buffer.from("abcd0100000100000000000001780000010001", "hex"), port, "127.0.0.1");
  await d.until(() => got, 2000);
  sock.close();
  return got;
}

systemSuite("no setup endpoints on the home network", ({ boot }) => {
  it("has nothing listening on port 80 or 53 once online as a station", async () => {
    const d = await boot({ files: provisionedFlash() });
    assert.ok(await d.until(async () => (await d.status()).state === "RUNNING", 60000));
    await d.advance(15000);
    assert.equal((await d.ap()).up, false);
    assert.ok(await d.staIp());
    if (d.sim) {
      assert.throws(() => d.sim.httpPort(80), /nothing listens on device TCP port 80/);
      assert.throws(() => d.sim.udpPort(53), /no UDP socket bound to device port 53/);
      assert.deepEqual(listening(d.sim), []);
      // Espruino's telnet console is a REPL without a password: a default build turns it off
      assert.equal(d.sim.telnet, "off");
    } else {
      assert.equal(await d.knock(d.httpHostPort()), "refused", "nothing on port 80");
      assert.equal(await dnsAnswers(d, d.dnsPort()), false, "no captive DNS");
    }
  });

  it("closes the portal after setup: its port refuses connections and DNS is gone", async () => {
    const d = await boot();
    assert.ok(await d.portal());
    const port = d.httpHostPort();
    const dns = d.dnsPort();
    assert.equal(await d.knock(port), "accepted");
    assert.equal(await dnsAnswers(d, dns), true);
    await d.fetch("/config?ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + TOKEN);
    assert.ok(await d.waitForLog(/=> RUNNING/, 60000));
    assert.ok(await d.until(async () => !(await d.ap()).up, 20000), "access point closed after the grace period");
    assert.equal(await d.knock(port), "refused");
    assert.equal(await dnsAnswers(d, dns), false);
    if (d.sim) assert.deepEqual(listening(d.sim), []);
  });

  it("leaves the home network when the cloud rejects its token, and takes a new one through the portal", async () => {
    const d = await boot({ files: provisionedFlash(), tokens: [TOKEN, OTHER_TOKEN] });
    const cloud = d.cloud;
    assert.ok(await d.until(async () => (await d.status()).state === "RUNNING", 60000));
    cloud.invalidate(TOKEN); // the device was deleted in the console
    cloud.closeSockets();
    assert.ok(await d.until(async () => (await d.ap()).up, 60000), "portal open");
    assert.ok(await d.portal());
    await d.advance(1000);
    assert.equal(await d.staIp(), undefined, "no home-network address while the portal is open");
    const r = await d.fetch("/config?ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + OTHER_TOKEN);
    assert.equal(r.status, 200, r.body);
    assert.ok(await d.until(async () => (await d.status()).state === "RUNNING", 60000));
    assert.equal(cloud.logins[cloud.logins.length - 1].token, OTHER_TOKEN);
  });

  it("refuses /config and /reset while it holds a home-network address during setup", async () => {
    const d = await boot();
    const cloud = d.cloud;
    assert.ok(await d.portal());
    cloud.silent(true); // the cloud never answers: the test stays in its cloud phase, joined to HomeNet
    await d.fetch("/config?ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + TOKEN);
    assert.ok(await d.until(async () => (await d.status()).test === "cloud", 30000));
    assert.ok(await d.staIp());
    const flash = await d.flash();
    const other = await d.fetch("/config?ssid=Neighbour&pass=whatever1&blynk=" + TOKEN);
    assert.equal(other.status, 409, other.body);
    assert.match(JSON.parse(other.body).msg, /joined to a WiFi network/);
    const reset = await d.fetch("/reset");
    assert.equal(reset.status, 409, reset.body);
    const reboot = await d.fetch("/reboot");
    assert.equal(reboot.status, 409, reboot.body);
    await d.advance(1000);
    assert.equal((await d.status()).test, "cloud", "the test goes on");
    assert.deepEqual(await d.flash(), flash, "nothing stored or erased");

    // the test gives up and leaves the network: the portal takes a new config again
    assert.ok(await d.until(async () => (await d.status()).test === "cloud_unreachable", 60000));
    assert.ok(await d.until(async () => (await d.staIp()) === undefined, 3000), "left HomeNet");
    cloud.silent(false);
    const again = await d.fetch("/config?ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + TOKEN);
    assert.equal(again.status, 200, again.body);
    assert.ok(await d.until(async () => (await d.status()).test === "online", 60000));

    // the grace period: setup network still up so the phone can read the outcome, device on HomeNet
    assert.equal((await d.ap()).up, true);
    assert.equal((await d.fetch("/config?ssid=Neighbour&pass=whatever1&blynk=" + TOKEN)).status, 409);
    assert.equal((await d.fetch("/reset")).status, 409);
    assert.equal(JSON.parse((await d.fetch("/status.json")).body).test, "online", "the phone still reads the outcome");
    await d.advance(15000);
    assert.equal((await d.status()).state, "RUNNING");
    assert.equal((await d.status()).ssid, HOME.ssid);
  });
});

// Minutes of device time offline: virtual time only (the real interpreter would need 6 minutes).
for (const b of BOARDS) {
  describe(`no setup endpoints on the home network on ${b.board} [simulator only: 6 minutes offline]`, function () {
    this.timeout(120000);
    let env: Awaited<ReturnType<typeof world>>;
    afterEach(async () => {
      env?.sim.stop();
      await env?.cloud.close();
    });
    it("opens the offline portal only without a home-network address and closes it before going online", async () => {
      env = await world({ board: b, networks: [{ ...HOME, up: false }], storage: provisionedFlash() });
      const { sim } = env;
      await sim.advance(6 * 60000);
      assert.equal(sim.wifi.apRunning(), true, "offline portal open");
      const port = sim.httpPort(80);
      assert.equal(sim.wifi.staIp(), undefined);
      sim.world.set(HOME.ssid, { up: true });
      // step by step: at no instant does the device hold a home address while port 80 listens
      const overlap: number[] = [];
      const ok = await sim.until(
        () => {
          if (sim.wifi.staIp() && listening(sim).some((s: any) => s.devicePort === 80)) overlap.push(sim.now());
          return state(sim) === "RUNNING";
        },
        5 * 60000,
        1
      );
      assert.ok(ok, "back online");
      assert.deepEqual(overlap.slice(0, 5), [], "port 80 listening while the device had a home-network address");
      assert.equal(await knock(sim, port), "refused");
    });

  });
}
