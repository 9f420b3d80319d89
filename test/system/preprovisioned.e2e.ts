// The fleet tool's token writer (through the real espruino CLI) against the fake board, then the
// built bundle in the simulator booted from exactly the Storage it produced (see preprovisioned.test.ts).
import assert from "node:assert/strict";
import { world, BOARDS, TOKEN, OTHER_TOKEN, HOME, provisionedFlash } from "./helpers.ts";
import { FakeEspruino } from "../flash/fake-espruino.ts";
import { evaluate, writeStorageFiles } from "../../tools/lib/espruino.ts";
import { boardInspector, writeTokenChecked } from "../../tools/fleet/core/token-batch.ts";

const wifiOnly = "/config?ssid=" + encodeURIComponent(HOME.ssid) + "&pass=" + encodeURIComponent(HOME.password);

for (const b of BOARDS) {
  describe(`preprovisioned token on ${b.board} (${b.chip}), written by the fleet tool`, function () {
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

    it("end to end: the fleet token writer's Storage boots preprovisioned; --overwrite replaces a provisioned board's config", async () => {
      // A board someone already set up with another token: refused, then overwritten.
      const fake = new FakeEspruino({ files: provisionedFlash({ t: OTHER_TOKEN }) });
      await fake.start();
      try {
        const o = { target: { port: fake.url }, token: TOKEN, writer: writeStorageFiles, inspect: boardInspector(evaluate) };
        await assert.rejects(writeTokenChecked(o), /already holds a stored WiFi\/token configuration \(edgent\.cfg1\)/);
        assert.equal((await writeTokenChecked({ ...o, overwrite: true })).written, true);
        assert.deepEqual(fake.storage.list(), ["edgent.token"], "the stored config is gone, so it cannot win over the new token");
        env = await world({ board: b, storage: fake.storage.contents() });
      } finally {
        await fake.close();
      }
      const { sim, cloud } = env;
      await sim.advance(3000);
      assert.equal((await boardInfo()).preprovisioned, true);
      assert.equal((await sim.fetch(wifiOnly)).status, 200);
      assert.ok(await sim.until(() => cloud.logins.length > 0, 60000));
      assert.equal(cloud.logins[0].token, TOKEN);
    });
  });
}
