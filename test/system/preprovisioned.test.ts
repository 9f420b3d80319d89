// The preprovisioned path on the built bundles: a board whose Storage holds `edgent.token`
// (written at the factory by `npm run fleet -- token`) asks only for WiFi and logs in with
// that token. preprovisioned.e2e.ts runs the fleet tool's token writer against the fake board and
// boots the simulator from exactly the Storage it produced.
import assert from "node:assert/strict";
import { world, BOARDS, TOKEN, OTHER_TOKEN, HOME } from "./helpers.ts";

const wifiOnly = "/config?ssid=" + encodeURIComponent(HOME.ssid) + "&pass=" + encodeURIComponent(HOME.password);

for (const b of BOARDS) {
  describe(`preprovisioned token on ${b.board} (${b.chip})`, function () {
    this.timeout(120_000);
    let env: Awaited<ReturnType<typeof world>> | undefined;
    afterEach(async () => {
      env?.sim.stop();
      await env?.cloud.close();
      env = undefined;
    });

    async function boardInfo(): Promise<any> {
      return JSON.parse((await env!.sim.fetch("/board_info.json")).body);
    }

    it("says preprovisioned, asks only for WiFi, and logs in with the factory token", async () => {
      env = await world({ board: b, storage: { "edgent.token": TOKEN } });
      const { sim, cloud } = env;
      await sim.advance(3000);
      assert.ok(sim.console.some((l: string) => /Firmware is preprovisioned/.test(l)));
      const info = await boardInfo();
      assert.equal(info.preprovisioned, true);
      assert.ok(!JSON.stringify(info).includes(TOKEN), "the token is never reported");
      const page = (await sim.fetch("/")).body;
      assert.ok(!/name="blynk"/.test(page), "no token field");
      assert.match(page, /already holds its Blynk auth token/);
      assert.match(page, /name="ssid"/);
      const r = await sim.fetch(wifiOnly);
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(JSON.parse(r.body), { status: "ok", msg: "Trying to connect..." });
      assert.ok(await sim.until(() => sim.console.some((l: string) => /=> RUNNING/.test(l)), 60000), "reaches RUNNING");
      assert.deepEqual(cloud.logins.map((l: any) => l.token), [TOKEN]);
      assert.ok(!sim.console.some((l: string) => l.includes(TOKEN)), "token never printed whole");
    });

    it("a token given in /config wins over the factory token", async () => {
      env = await world({ board: b, storage: { "edgent.token": TOKEN }, tokens: [TOKEN, OTHER_TOKEN] });
      const { sim, cloud } = env;
      await sim.advance(3000);
      assert.equal((await sim.fetch(wifiOnly + "&blynk=" + OTHER_TOKEN)).status, 200);
      assert.ok(await sim.until(() => cloud.logins.length > 0, 60000));
      assert.equal(cloud.logins[0].token, OTHER_TOKEN);
    });

    it("a factory token the cloud does not know ends as last_error 703 in the portal", async () => {
      env = await world({ board: b, storage: { "edgent.token": TOKEN }, tokens: [OTHER_TOKEN] });
      const { sim } = env;
      await sim.advance(3000);
      assert.equal((await sim.fetch(wifiOnly)).status, 200);
      assert.ok(await sim.until(() => sim.console.some((l: string) => /Invalid auth token/.test(l)), 60000));
      await sim.advance(1000);
      assert.equal((await boardInfo()).last_error, 703);
      assert.equal(sim.wifi.apRunning(), true);
    });

    for (const [what, storage] of [
      ["no token file", undefined],
      ["a token file with a trailing newline", { "edgent.token": TOKEN + "\n" }],
      ["a token file one character short", { "edgent.token": TOKEN.slice(1) }],
    ] as const) {
      it(`with ${what}: not preprovisioned, the token field is back, and /config without a token is refused`, async () => {
        env = await world({ board: b, storage });
        const { sim, cloud } = env;
        await sim.advance(3000);
        assert.equal((await boardInfo()).preprovisioned, false);
        assert.match((await sim.fetch("/")).body, /name="blynk"/);
        const r = await sim.fetch(wifiOnly);
        assert.notEqual(r.status, 200);
        assert.match(r.body, /Auth token is missing/);
        await sim.advance(5000);
        assert.equal(cloud.logins.length, 0);
      });
    }
  });
}
