// The setup portal opens even when the access point is already running as the firmware starts:
// after load() in the Web IDE the radio keeps its AP, and Espruino on ESP32 then never
// calls startAP's callback (no new AP_START event).
import assert from "node:assert/strict";
import { systemSuite } from "./device.ts";

systemSuite("access point already running at start", ({ boot, simOnly }) => {
  simOnly("serves the portal again within 15 s after load() in the IDE", "the real-interpreter prelude's fake radio is reset by load(), a real radio keeps its AP", async () => {
    const d = await boot();
    const sim = d.sim;
    await sim.advance(3000);
    assert.equal((await sim.fetch("/board_info.json")).status, 200);
    const from = sim.markLog();
    sim.repl("load()");
    await sim.advance(100);
    assert.equal(sim.wifi.apRunning(), true, "the radio kept its AP");
    assert.ok(await sim.until(() => sim.console.slice(from).some((l: string) => /AP IP: {3}192\.168\.4\.1/.test(l)), 15000), "portal reopened:\n" + sim.console.slice(from).join("\n"));
    assert.equal((await sim.fetch("/board_info.json")).status, 200);
    assert.equal(sim.wifi.ap()!.authMode, "open");
    await sim.advance(20000);
    assert.equal(sim.bootCount, 1, "no restart needed");
    assert.deepEqual(sim.uncaught, []);
  });
});
