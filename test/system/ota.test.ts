// Firmware updates over the air on the built bundles: Blynk.Air's `ota` command (and MQTT's
// downlink/ota/json) with the fake Blynk.Air server; the download into an update slot, the switch
// by the update record, the trial of the new image and the reports (sys_ota events), on both
// backends.
import assert from "node:assert/strict";
import { provisionedFlash } from "./helpers.ts";
import { systemSuite } from "./device.ts";
import type { AirFaults } from "../../sim/fake-cloud/air.ts";
import { air, otaEvents, updateFiles, online, cloudVersion, offer } from "./ota-helpers.ts";
import { otaFile, throwsAtBoot, neverLogsIn } from "./ota-images.ts";
import { readIdentity } from "../../scripts/identity.js";

const OLD = readIdentity().firmwareVersion;
const NEW = "0.2.0";

systemSuite("firmware update over the air", ({ boot, board, simOnly }) => {
  // the builds of the other versions (half a minute each the first time) before the tests' clocks
  before(function () {
    this.timeout(300000);
    otaFile(board.board, NEW);
  });
  const device = () => boot({ files: provisionedFlash(), servers: ["127.0.0.1:" + air.port] });

  it("a good update: OTA started, downloaded and switched to, then 'Firmware updated' once and the new version online", async () => {
    air.serve("fw.js", otaFile(board.board, NEW));
    const d = await device();
    assert.ok(await online(d), "online before the update");
    assert.equal(await cloudVersion(d), OLD);
    offer(d, air, "fw.js");
    assert.ok(await d.waitForLog(/=> OTA_UPGRADE/, 20000), "enters OTA_UPGRADE");
    assert.ok(await d.waitForLog(/=== Update successfully completed\. Rebooting\./, 120000), d.console.slice(-8).join("\n"));
    assert.ok(await d.until(() => otaEvents(d).length >= 2, 120000), "reported once online again: " + otaEvents(d).join(" | "));
    assert.ok(await online(d));
    assert.deepEqual(otaEvents(d), ["OTA started", `Firmware updated from ${OLD} to ${NEW}`]);
    assert.equal(await cloudVersion(d), NEW, "the info message carries the new version");
    assert.equal(d.restarts(), 1);
    assert.deepEqual(await updateFiles(d), ["edgent.img1", "edgent.upd0", "edgent.upd1"], "the new image and its record (two alternating files), nothing else");
    // a restart later: still the new version, nothing reported again
    await d.powerCycle();
    assert.ok(await online(d));
    assert.equal(await cloudVersion(d), NEW);
    assert.equal(otaEvents(d).length, 2);
    assert.deepEqual(d.errors(), []);
  });

  it("an update offered while one runs is ignored; offered again once it is in, the same version is not switched to (or, without room for a third image, refused)", async () => {
    air.serve("fw.js", otaFile(board.board, NEW));
    const d = await device();
    assert.ok(await online(d));
    const requests = air.requests.length;
    offer(d, air, "fw.js");
    offer(d, air, "fw.js"); // arrives in the 2 s before the download (after them the link is closed)
    assert.ok(await d.waitForLog(/OTA ignored: an update is under way/, 20000));
    assert.ok(await d.waitForLog(/=== Update successfully completed/, 120000));
    assert.ok(await d.until(() => otaEvents(d).length >= 2, 120000));
    assert.ok(await online(d));
    assert.equal(air.requests.length - requests, 1, "one download");
    // an ESP8266's 192 KB of Storage holds the firmware flashed over USB and one update, not a third
    // image (the real interpreter's Storage is bigger): the room decides which answer comes
    const st = await d.repl('require("Storage").getStats()');
    const third = st.freeBytes + st.trashBytes - 4096 >= otaFile(board.board, NEW).length;
    assert.equal(third, board.chip === "ESP32" || d.backend === "real", `room for a third image: ${JSON.stringify(st)}`);
    const from = d.console.length;
    offer(d, air, "fw.js");
    const why = !third ? /Firmware update failed: Storage full: \d+ bytes needed, \d+ free; this board has room for the firmware flashed over USB and one update only/ : /Firmware update failed: firmware 0\.2\.0 is running already$/;
    assert.ok(await d.waitForLog(why, 60000, from), d.console.slice(from).join("\n"));
    assert.ok(await d.until(() => otaEvents(d).length >= 4, 60000));
    assert.deepEqual(otaEvents(d).slice(0, 3), ["OTA started", `Firmware updated from ${OLD} to ${NEW}`, "OTA started"]);
    assert.match(otaEvents(d)[3], why);
    assert.equal(d.restarts(), 1, "one restart: the first update's");
    assert.equal(await cloudVersion(d), NEW);
    assert.deepEqual(await updateFiles(d), ["edgent.img1", "edgent.upd0", "edgent.upd1"]);
  });

  it("a new firmware that throws at boot is rolled back after 3 boots, and the failure reported", async () => {
    air.serve("fw.js", throwsAtBoot(otaFile(board.board, NEW), "0.3.0"));
    const d = await device();
    assert.ok(await online(d));
    offer(d, air, "fw.js");
    assert.ok(await d.waitForLog(/=== Update successfully completed/, 120000));
    assert.ok(await d.waitForLog(/Firmware update to 0\.3\.0 failed: it did not reach the cloud in 3 boots; back to /, 120000), d.console.slice(-10).join("\n"));
    assert.ok(await d.until(() => otaEvents(d).length >= 2, 120000));
    assert.ok(await online(d));
    assert.deepEqual(otaEvents(d), ["OTA started", `Firmware update to 0.3.0 failed: it did not reach the cloud in 3 boots; back to ${OLD}`]);
    assert.equal(d.restarts(), 4, "the switch and 3 trial boots");
    assert.equal(d.console.filter((l) => /the firmware failed to start: .*this build is broken/.test(l)).length, 3);
    assert.equal(await cloudVersion(d), OLD);
    assert.deepEqual(await updateFiles(d), [], "nothing left in Storage");
  });

  simOnly("a new firmware that never logs in is rolled back after 3 boots of 3 minutes", "9 minutes of device time", async () => {
    air.serve("fw.js", neverLogsIn(otaFile(board.board, NEW), "0.3.0"));
    const d = await device();
    assert.ok(await online(d));
    offer(d, air, "fw.js");
    assert.ok(await d.waitForLog(/=== Update successfully completed/, 120000));
    assert.ok(await d.waitForLog(/firmware 0\.3\.0 on trial, boot 1 of 3/, 60000));
    assert.ok(await d.waitForLog(/Firmware update to 0\.3\.0 failed: it did not reach the cloud in 3 boots/, 12 * 60000));
    assert.ok(await d.until(() => otaEvents(d).length >= 2, 120000));
    assert.deepEqual(otaEvents(d), ["OTA started", `Firmware update to 0.3.0 failed: it did not reach the cloud in 3 boots; back to ${OLD}`]);
    assert.equal(d.restarts(), 4);
    assert.equal(await cloudVersion(d), OLD);
    assert.deepEqual(await updateFiles(d), []);
  });
});

/** A file of random bytes (not a firmware image). */
function junk(n: number): string {
  let x = 12345;
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode((x = (x * 1103515245 + 12345) >>> 0) >>> 24);
  return s;
}

// Each failure on one device, in turn: the download fails, the running firmware goes back online,
// says why (sys_ota), and nothing of the download stays in Storage.
systemSuite("a failed firmware download", ({ shared, board }) => {
  const dev = shared({ files: provisionedFlash(), servers: ["127.0.0.1:" + air.port] });
  const other = board.chip === "ESP32" ? "nodemcu" : "esp32-devkitc";
  const cases: [string, () => [string | Buffer, AirFaults], RegExp][] = [
    ["HTTP 404", () => [otaFile(board.board), { status: 404 }], /HTTP 404/],
    ["no Content-Length", () => [otaFile(board.board), { contentLength: null }], /no Content-Length/],
    ["a body cut short", () => [otaFile(board.board), { cutAt: 30000 }], /body ended at 30000 of \d+ bytes/],
    ["a wrong SHA-256", () => [otaFile(board.board), { sha256: Buffer.alloc(32, 7).toString("base64") }], /SHA-256 mismatch/],
    ["no data for 10 s", () => [otaFile(board.board), { stallAt: 20000 }], /timeout after 10 s without data/],
    ["Storage full", () => [otaFile(board.board), { contentLength: 4000000 }], /Storage full: 4000000 bytes needed, \d+ free/],
    ["a file that is no firmware image", () => [junk(20000), {}], /not a whole Edgent firmware image/],
    ["another board's firmware", () => [otaFile(other), {}], new RegExp(`built for ${other}, this device is ${board.board}`)],
  ];
  before(async function () {
    this.timeout(300000);
    otaFile(board.board); // (the build, half a minute the first time)
    assert.ok(await online(dev()), "online");
  });
  for (const [what, file, why] of cases)
    it(`${what}: the running firmware stays, goes online again and reports why; nothing left in Storage`, async () => {
      const d = dev();
      const [bytes, faults] = file();
      air.serve("bad.js", bytes, faults);
      const events = otaEvents(d).length;
      const restarts = d.restarts();
      const from = d.console.length;
      offer(d, air, "bad.js");
      assert.ok(await d.waitForLog(/Firmware update failed: /, 60000, from), d.console.slice(from).join("\n"));
      assert.match(d.console.slice(from).find((l) => /Firmware update failed: /.test(l))!, why);
      assert.ok(await d.until(() => otaEvents(d).length >= events + 2, 60000), "reported once online again");
      assert.deepEqual(otaEvents(d).slice(events), ["OTA started", d.console.slice(from).find((l) => /Firmware update failed: /.test(l))!.replace(/^\[\d+\] /, "")]);
      assert.ok(await online(d));
      assert.equal(d.restarts(), restarts, "no restart");
      assert.equal(await cloudVersion(d), OLD);
      assert.ok(await d.until(async () => (await updateFiles(d)).length === 0, 10000), "left in Storage: " + (await updateFiles(d)).join(", "));
      assert.deepEqual(d.errors(), []);
    });
});
