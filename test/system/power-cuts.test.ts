// Power cuts while a setup's configuration goes to flash: whatever moment the power goes, the device
// comes back either provisioned (and online) or in the portal with nothing half-stored, never
// stranded. On both backends the power goes at seeded moments around the commit (on the real
// interpreter the process is killed); in the simulator a flash write is also torn part way at each
// stage, which cannot be done to the real interpreter's flash file from outside.
import assert from "node:assert/strict";
import { HOME, TOKEN } from "./helpers.ts";
import { systemSuite, type TestDevice } from "./device.ts";
import type { TornWriteStage } from "../../sim/storage.ts";

const SETUP = "/config?ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + TOKEN;

/** After power-on: online with the new configuration, or the portal answering and nothing stored. */
async function cameBack(d: TestDevice, logins: number): Promise<"online" | "portal"> {
  const ok = await d.until(async () => {
    const s = await d.status().catch(() => undefined);
    return !!s && ((s.state === "RUNNING" && s.cloud) || (s.state === "WAIT_CONFIG" && (await d.ap()).up));
  }, 60000);
  assert.ok(ok, "neither online nor in the portal:\n" + d.console.slice(-10).join("\n"));
  const s = await d.status();
  if (s.state === "RUNNING") {
    assert.ok(d.cloud.logins.length > logins, "logged in again after the power came back");
    return "online";
  }
  assert.ok(await d.portal());
  assert.equal((await d.fetch("/board_info.json")).status, 200, "the portal answers");
  assert.ok(!Object.keys(await d.flash()).some((n) => n.startsWith("edgent.cfg")) || (await d.status()).last_error === 0, "no half-stored configuration in use");
  // and the setup can simply be done again
  assert.equal((await d.fetch(SETUP)).status, 200);
  assert.ok(await d.until(async () => (await d.status()).state === "RUNNING", 60000), "set up again after the cut");
  return "portal";
}

systemSuite("power cuts during a setup's commit", ({ boot, simOnly }) => {
  // 0 ms to 560 ms after the login: the configuration is stored 300 ms after it
  for (const cutMs of [0, 150, 280, 300, 320, 400, 560])
    it(`power lost ${cutMs} ms after the login of a new setup: back online or in the portal`, async () => {
      const d = await boot();
      assert.ok(await d.portal());
      assert.equal((await d.fetch(SETUP)).status, 200);
      assert.ok(await d.waitForLog(/Ready \(ping/, 60000));
      await d.advance(cutMs);
      await d.powerCut();
      const logins = d.cloud.logins.length;
      await d.powerOn();
      await cameBack(d, logins);
      assert.deepEqual(d.errors(), []);
    });

  for (const stage of ["afterDelete", "midHeader", "midData"] as TornWriteStage[])
    simOnly(`the commit's flash write torn ${stage}: back online or in the portal`, "tears a flash write part way", async () => {
      const d = await boot();
      assert.ok(await d.portal());
      d.sim.storage.failNextWrite({ at: stage });
      assert.equal((await d.fetch(SETUP)).status, 200);
      assert.ok(await d.until(() => !d.sim.running, 60000), "the write was torn (power lost)");
      const logins = d.cloud.logins.length;
      await d.powerOn();
      await cameBack(d, logins);
    });
});
