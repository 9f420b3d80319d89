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
import { connect } from "node:net";
import { world, BOARDS, TOKEN, OTHER_TOKEN, HOME, provisionedFlash } from "./helpers.ts";

const state = (sim: any) => JSON.parse(sim.repl("JSON.stringify(edgent.status())") as string).state;
const testOutcome = (sim: any) => JSON.parse(sim.repl("JSON.stringify(edgent.status())") as string).test;
const listening = (sim: any) => sim.sockets().filter((s: any) => /server|udp/.test(s.type));

/** Tries a TCP connection to a real local port while the device runs: "refused" or "accepted". */
async function knock(sim: any, port: number): Promise<string> {
  let result = "";
  const s = connect(port, "127.0.0.1");
  s.on("connect", () => (result = "accepted"));
  s.on("error", (e: NodeJS.ErrnoException) => (result ||= e.code === "ECONNREFUSED" ? "refused" : "error " + e.code));
  await sim.until(() => result !== "", 2000, 1);
  s.destroy();
  return result;
}

for (const b of BOARDS) {
  describe(`no setup endpoints on the home network on ${b.board}`, function () {
    this.timeout(120000);
    let env: Awaited<ReturnType<typeof world>>;
    afterEach(async () => {
      env?.sim.stop();
      await env?.cloud.close();
    });

    it("has nothing listening on port 80 or 53 once online as a station", async () => {
      env = await world({ board: b, storage: provisionedFlash() });
      const { sim } = env;
      assert.ok(await sim.until(() => state(sim) === "RUNNING", 60000));
      await sim.advance(60000);
      assert.equal(sim.wifi.mode(), "sta");
      assert.ok(sim.wifi.staIp());
      assert.throws(() => sim.httpPort(80), /nothing listens on device TCP port 80/);
      assert.throws(() => sim.udpPort(53), /no UDP socket bound to device port 53/);
      assert.deepEqual(listening(sim), []);
      // Espruino's telnet console is a REPL without a password: a default build turns it off
      assert.equal(sim.telnet, "off");
    });

    it("closes the portal after setup: its port refuses connections and DNS is gone", async () => {
      env = await world({ board: b });
      const { sim } = env;
      await sim.advance(3000);
      const port = sim.httpPort(80);
      assert.equal(await knock(sim, port), "accepted");
      await sim.fetch("/config?ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + TOKEN);
      assert.ok(await sim.until(() => state(sim) === "RUNNING", 60000));
      await sim.advance(15000);
      assert.equal(sim.wifi.apRunning(), false);
      assert.equal(await knock(sim, port), "refused");
      assert.deepEqual(listening(sim), []);
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

    it("leaves the home network when the cloud rejects its token, and takes a new one through the portal", async () => {
      env = await world({ board: b, storage: provisionedFlash(), tokens: [TOKEN, OTHER_TOKEN] });
      const { sim, cloud } = env;
      assert.ok(await sim.until(() => state(sim) === "RUNNING", 60000));
      cloud.invalidate(TOKEN); // the device was deleted in the console
      cloud.closeSockets();
      assert.ok(await sim.until(() => sim.wifi.apRunning(), 60000), "portal open");
      await sim.advance(1000);
      assert.equal(sim.wifi.staIp(), undefined, "no home-network address while the portal is open");
      const r = await sim.fetch("/config?ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + OTHER_TOKEN);
      assert.equal(r.status, 200, r.body);
      assert.ok(await sim.until(() => state(sim) === "RUNNING", 60000));
      assert.equal(cloud.logins[cloud.logins.length - 1].token, OTHER_TOKEN);
    });

    it("refuses /config and /reset while it holds a home-network address during setup", async () => {
      env = await world({ board: b });
      const { sim, cloud } = env;
      await sim.advance(3000);
      cloud.silent(true); // the cloud never answers: the test stays in its cloud phase, joined to HomeNet
      await sim.fetch("/config?ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + TOKEN);
      assert.ok(await sim.until(() => testOutcome(sim) === "cloud", 30000));
      assert.ok(sim.wifi.staIp());
      const writes = sim.storage.writes;
      const other = await sim.fetch("/config?ssid=Neighbour&pass=whatever1&blynk=" + TOKEN);
      assert.equal(other.status, 409, other.body);
      assert.match(JSON.parse(other.body).msg, /joined to a WiFi network/);
      const reset = await sim.fetch("/reset");
      assert.equal(reset.status, 409, reset.body);
      const reboot = await sim.fetch("/reboot");
      assert.equal(reboot.status, 409, reboot.body);
      await sim.advance(1000);
      assert.equal(testOutcome(sim), "cloud", "the test goes on");
      assert.equal(sim.storage.writes, writes, "nothing stored or erased");

      // the test gives up and leaves the network: the portal takes a new config again
      assert.ok(await sim.until(() => testOutcome(sim) === "cloud_unreachable", 60000));
      assert.ok(await sim.until(() => sim.wifi.staIp() === undefined, 1000), "left HomeNet");
      cloud.silent(false);
      const again = await sim.fetch("/config?ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + TOKEN);
      assert.equal(again.status, 200, again.body);
      assert.ok(await sim.until(() => testOutcome(sim) === "online", 60000));

      // the grace period: setup network still up so the phone can read the outcome, device on HomeNet
      assert.equal(sim.wifi.apRunning(), true);
      assert.equal((await sim.fetch("/config?ssid=Neighbour&pass=whatever1&blynk=" + TOKEN)).status, 409);
      assert.equal((await sim.fetch("/reset")).status, 409);
      assert.equal(JSON.parse((await sim.fetch("/status.json")).body).test, "online", "the phone still reads the outcome");
      await sim.advance(15000);
      assert.equal(state(sim), "RUNNING");
      assert.equal(sim.wifi.staSsid(), HOME.ssid);
    });
  });
}
