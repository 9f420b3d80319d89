// A firmware update over the air of the built bundle (dist/<board>.js, updated to the same board's
// .ota.js built as version 0.2.0), offered by the fake Blynk cloud and served by the fake Blynk.Air:
// `npx tsx scripts/bench-update.ts`, or a table of `npm run bench`.
//
// - simulator (both profiles): the update's time on the simulator's link and clock (virtual ms),
//   from the offer to the switch ("=== Update successfully completed") and to the new version online;
// - ESP8266 model (ESPRUINO_BIN_1600: 1600 JsVars of 12 bytes, lean prelude, under qemu): the same
//   times on the wall clock, and the least free JsVars while the update runs: a sampler in the
//   prelude reads process.memory() (garbage collected first) every 5 ms from the offer to the
//   switch, and "free at the peak" is the total minus the highest usage it saw (the sampler and the
//   harness's eval server, about 35 JsVars, are counted as used: on the safe side). Its run without
//   the sampler gives the time.
import { fileURLToPath } from "node:url";
import { Sim } from "../sim/index.ts";
import { startFakeCloud } from "../sim/fake-cloud/server.ts";
import { startFakeAir, type FakeAir } from "../sim/fake-cloud/air.ts";
import { RealDevice, executable } from "../test/real/espruino.ts";
import { provisionedFlash, HOME, TOKEN } from "../test/system/helpers.ts";
import { otaFile } from "../test/system/ota-images.ts";

type Row = Record<string, number | string>;
const INTERNAL = 17;
const BOARDS = [
  { board: "esp32-devkitc", chip: "ESP32" as const },
  { board: "nodemcu", chip: "ESP8266" as const },
];
const dist = (b: string) => fileURLToPath(new URL(`../dist/${b}.js`, import.meta.url));
const SAMPLER = "global.__peak=0;global.__pkOn=0;setInterval(function(){if(!global.__pkOn)return;var u=process.memory().usage;if(u>global.__peak)global.__peak=u;},5)";

async function simRow(b: (typeof BOARDS)[number], air: FakeAir): Promise<Row> {
  const cloud = await startFakeCloud({ tokens: [TOKEN] });
  const addr = "127.0.0.1:" + cloud.port;
  const sim = await Sim.boot({
    bundle: dist(b.board), chip: b.chip, networks: [HOME],
    hosts: { "blynk.cloud:80": addr, "blynk.cloud:443": addr, ["127.0.0.1:" + air.port]: "127.0.0.1:" + air.port },
    storage: Sim.flashWith(provisionedFlash(), b.chip),
  });
  try {
    await sim.waitForLog(/=> RUNNING/, 60000);
    const size = air.serve(b.board + ".js", otaFile(b.board)).size;
    const t0 = sim.now();
    cloud.send(INTERNAL, "ota\0" + air.url(b.board + ".js"));
    await sim.waitForLog(/=== Update successfully completed/, 120000);
    const sw = sim.now() - t0;
    await sim.waitForLog(/Firmware updated from/, 120000);
    return { where: `simulator, ${b.board}`, bytes: size, "offer to switch, ms": sw, "offer to online with the new version, ms": sim.now() - t0 };
  } finally {
    sim.stop();
    await cloud.close();
  }
}

async function realRow(bin: string, air: FakeAir, sample: boolean): Promise<Row> {
  const cloud = await startFakeCloud({ tokens: [TOKEN] });
  const dev = await RealDevice.start({
    bin, bundle: dist("nodemcu"), chip: "ESP8266", lean: true, pins: false, tracePins: false, bootTimeoutMs: 60000,
    networks: [{ ssid: HOME.ssid, password: HOME.password, rssi: HOME.rssi, channel: HOME.channel }],
    cloud: { host: "127.0.0.1", port: cloud.port }, files: provisionedFlash(), extraPrelude: sample ? SAMPLER : undefined,
  });
  try {
    await dev.waitForLog(/=> RUNNING/, 60000);
    const size = air.serve("nodemcu.js", otaFile("nodemcu")).size;
    const total = Number(await dev.eval("process.memory().total"));
    if (sample) await dev.eval("global.__peak=0,global.__pkOn=1");
    const t0 = Date.now();
    cloud.send(INTERNAL, "ota\0" + air.url("nodemcu.js"));
    await dev.waitForLog(/=== Update successfully completed/, 180000);
    const sw = Date.now() - t0;
    const row: Row = { where: "ESP8266 model (qemu), nodemcu", bytes: size };
    if (sample) {
      const peak = Number(await dev.eval("global.__pkOn=0,global.__peak"));
      row["peak JsVars used"] = peak;
      row["free at the peak"] = total - peak;
    } else {
      row["offer to switch, ms"] = sw;
      await dev.waitForLog(/Firmware updated from/, 180000);
      row["offer to online with the new version, ms"] = Date.now() - t0;
    }
    return row;
  } finally {
    await dev.cleanup();
    await cloud.close();
  }
}

export async function benchUpdate(): Promise<Row[]> {
  const air = await startFakeAir();
  const rows: Row[] = [];
  try {
    for (const b of BOARDS) rows.push(await simRow(b, air));
    const bin = executable(process.env.ESPRUINO_BIN_1600);
    if (!bin) rows.push({ where: "ESP8266 model", note: "ESPRUINO_BIN_1600 not set" });
    else {
      rows.push(await realRow(bin, air, false));
      rows.push(await realRow(bin, air, true));
    }
  } finally {
    await air.close();
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) console.table(await benchUpdate());
