// Power cuts during a firmware update: whatever moment the power goes (20 seeded moments among the
// update's Storage writes: the download's chunks, the switch, the trial boot's count, the
// confirmation) and whichever Storage change is torn part way, the device boots the old or the
// new firmware, reaches the cloud, and keeps nothing of an update it did not finish. The simulator
// only: it cuts the power between two given flash writes and tears a write, which cannot be done
// to the real interpreter's flash from outside; on both backends the power also goes at seeded
// moments of the device's clock after the offer (on the real interpreter the process is killed).
import assert from "node:assert/strict";
import { provisionedFlash } from "./helpers.ts";
import { systemSuite, type TestDevice } from "./device.ts";
import type { TornWriteStage } from "../../sim/storage.ts";
import { otaFile } from "./ota-images.ts";
import { otaEvents, updateFiles, online, cloudVersion, offer, air } from "./ota-helpers.ts";
import { readIdentity } from "../../scripts/identity.js";
import { rng } from "../ota/helpers.ts";

const OLD = readIdentity().firmwareVersion;
const NEW = "0.2.0";
const SEED = 13;

/**
 * Counts the device's flash writes from now on (the simulator's Flash, kept across power cycles) and
 * calls `at(n, offset, file)` before the n-th one (1, 2, ...); `offset` 0 is a write that makes a file.
 */
function onWrites(d: TestDevice, at: (n: number, offset: number, file: string) => void): { count(): number } {
  const flash = d.sim.flash;
  const write = flash.writeFile;
  let n = 0;
  flash.writeFile = function (name: Uint8Array, data: Uint8Array, flags: number, offset: number, size: number) {
    at(++n, offset, Buffer.from(name).toString("latin1").replace(/\0+$/, ""));
    return write.call(flash, name, data, flags, offset, size);
  };
  return { count: () => n };
}

/** After a cut: powered on again, online with the old or the new firmware, and no leftovers. */
async function cameBack(d: TestDevice): Promise<string> {
  if (d.sim && !d.sim.running) await d.powerOn();
  assert.ok(await online(d, 12 * 60000), "online again:\n" + d.console.slice(-12).join("\n"));
  const v = (await cloudVersion(d))!;
  assert.ok(v === OLD || v === NEW, "old or new firmware: " + v);
  // the report, if any, goes out at the first login; then only a finished update stays in Storage
  await d.advance(2000);
  const want = v === NEW ? ["edgent.img1", "edgent.upd0", "edgent.upd1"] : [];
  const files = await updateFiles(d);
  assert.ok(files.every((f) => want.includes(f)) && (v === OLD || files.includes("edgent.img1")), `left in Storage with ${v}: ${files.join(", ")}`);
  assert.deepEqual(d.errors().filter((e) => !/power cut/.test(e)), []);
  return v;
}

systemSuite("power cuts during a firmware update", ({ boot, board, simOnly }) => {
  const device = () => boot({ files: provisionedFlash(), servers: ["127.0.0.1:" + air.port] });
  let total = 0; // flash writes of a whole update, from the offer to the confirmation ...
  let download = 0; // ... of which the download's (the last chunk written to the slot)

  before(function () {
    this.timeout(300000); // the build of the other version, half a minute the first time
    air.serve("fw.js", otaFile(board.board, NEW));
  });

  simOnly("a whole update's flash writes, counted (the range of the cut points)", "counts flash writes", async () => {
    const d = await device();
    assert.ok(await online(d));
    const w = onWrites(d, (n, offset, file) => {
      if (file === "edgent.img1") download = n;
    });
    offer(d, air, "fw.js");
    assert.ok(await d.until(() => otaEvents(d).length >= 2, 120000));
    total = w.count();
    assert.ok(download > 100 && total > download, `${download} writes of the download, ${total} in all`);
  });

  // 10 moments in the download, 10 in the switch (the record, the restart, the trial boot's count,
  // the confirmation and the erases after it), each a fraction of its phase's writes
  const r = rng(SEED);
  const points = Array.from({ length: 20 }, (_, i) => [i < 10 ? "download" : "switch", r()] as const);
  for (const [phase, p] of points)
    simOnly(`power lost ${Math.round(p * 100)}% into the ${phase}'s flash writes: old or new firmware online, nothing half-stored`, "cuts the power between two flash writes", async () => {
      assert.ok(total > 0, "the count of the first test");
      const k = phase === "download" ? 1 + Math.floor(p * download) : download + 1 + Math.floor(p * (total - download));
      const d = await device();
      assert.ok(await online(d));
      onWrites(d, (n) => {
        if (n === k) d.sim.powerCut();
      });
      offer(d, air, "fw.js");
      assert.ok(await d.until(() => !d.sim.running || otaEvents(d).length >= 2, 120000));
      assert.ok(!d.sim.running, "the power was cut");
      await cameBack(d);
    });

  // seeded moments after the offer: Edgent's 2 s wait, then the download, the switch and the restart
  for (const p of Array.from({ length: 6 }, ((g) => () => g())(rng(SEED + 1))))
    it(`power lost ${2000 + Math.round(p * 2500)} ms after the offer: old or new firmware online, nothing half-stored`, async () => {
      const d = await device();
      assert.ok(await online(d));
      offer(d, air, "fw.js");
      await d.advance(2000 + Math.round(p * 2500));
      await d.powerCut();
      await d.powerOn();
      await cameBack(d);
    });

  // every Storage change that makes a file (the slot's first chunk, the switch, the trial count, the
  // confirmation), torn at each stage jsflash.c can leave it in
  for (const stage of ["afterDelete", "midHeader", "midData"] as TornWriteStage[])
    for (let j = 1; j <= 4; j++)
      simOnly(`file write ${j} of the update torn ${stage}: old or new firmware online, nothing half-stored`, "tears a flash write part way", async () => {
        const d = await device();
        assert.ok(await online(d));
        let made = 0;
        onWrites(d, (n, offset) => {
          if (offset === 0 && ++made === j) d.sim.storage.failNextWrite({ at: stage });
        });
        offer(d, air, "fw.js");
        assert.ok(await d.until(() => !d.sim.running || otaEvents(d).length >= 2, 12 * 60000));
        assert.ok(!d.sim.running || made < j, "torn (or the update made fewer files)");
        await cameBack(d);
      });
});
