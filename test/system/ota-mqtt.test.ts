// A firmware update offered over Blynk's MQTT API (downlink/ota/json): the same update as over the
// Blynk protocol (test/system/ota.test.ts), its reports published as event/sys_ota and the new
// version in info/mcu.
import assert from "node:assert/strict";
import { provisionedFlash } from "./helpers.ts";
import { systemSuite } from "./device.ts";
import { Flag } from "../../firmware/core/config.ts";
import { startFakeMqttCloud, type FakeMqttCloud } from "../../sim/fake-cloud/mqtt-blynk.ts";
import { TOKEN } from "./helpers.ts";
import { air } from "./ota-helpers.ts";
import { otaFile } from "./ota-images.ts";
import { readIdentity } from "../../scripts/identity.js";

const OLD = readIdentity().firmwareVersion;
const NEW = "0.2.0";

systemSuite("firmware update over Blynk's MQTT API", ({ boot, board }) => {
  // the builds of the other versions (half a minute each the first time) before the tests' clocks
  before(function () {
    this.timeout(300000);
    otaFile(board.board, NEW);
  });
  let c: FakeMqttCloud | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  it("downlink/ota/json: downloaded and switched to, event/sys_ota 'Firmware updated' once, info/mcu with the new version", async () => {
    c = await startFakeMqttCloud({ tokens: [TOKEN] });
    const mqtt = c;
    const d = await boot({ files: provisionedFlash({ h: "127.0.0.1", p: c.port, q: 0, f: Flag.VALID | Flag.META_SENT | Flag.MQTT }), servers: ["127.0.0.1:" + c.port, "127.0.0.1:" + air.port] });
    const events = () => mqtt.publishes.filter((p) => p.topic === "event/sys_ota").map((p) => p.payload);
    const version = () => mqtt.current()?.info?.ver;
    assert.ok(await d.until(() => version() !== undefined, 30000), "online over MQTT:\n" + d.console.slice(-8).join("\n"));
    assert.equal(version(), OLD);
    const f = air.serve("fw-mqtt.js", otaFile(board.board, NEW));
    mqtt.otaJson({ url: air.url("fw-mqtt.js"), size: f.size, type: readIdentity().templateId, ver: NEW, build: "x" });
    assert.ok(await d.waitForLog(/=== Update successfully completed/, 40000), d.console.slice(-8).join("\n"));
    assert.ok(await d.until(() => events().length >= 2, 40000), "reported: " + events().join(" | ") + "\n" + d.console.slice(-12).join("\n"));
    assert.deepEqual(events(), ["OTA started", `Firmware updated from ${OLD} to ${NEW}`]);
    assert.ok(await d.until(() => version() === NEW, 10000), "info/mcu says " + version());
    assert.equal(d.restarts(), 1);
    assert.deepEqual(d.errors(), []);
  });
});
