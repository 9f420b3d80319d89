// A firmware update over the air of the built bundle (dist/<board>.js, updated to the same board's
// .ota.js built as version 0.2.0), offered by the fake Blynk cloud and served by the fake Blynk.Air:
// `npx tsx scripts/bench-update.ts`, or a table of `npm run bench`.
//
// - simulator (both profiles): the update's time on the simulator's link and clock (virtual ms),
//   from the offer to the switch ("=== Update successfully completed": Edgent's 2 s wait, the download
//   and the checks, of which "download and check" is the part after the wait) and to the new version
//   online;
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
  // console lines and the virtual time each was printed at, on a clock that goes on across the
  // restart (the simulator's starts again at each power-on; the restart itself counts as 0 ms)
  const at: [string, number][] = [];
  let sim: Sim | undefined;
  let base = 0;
  let last = 0;
  const clock = () => {
    const n = sim ? sim.now() : 0;
    if (n < last) base += last;
    last = n;
    return base + n;
  };
  sim = await Sim.boot({
    log: (line: string) => at.push([line, clock()]),
    bundle: dist(b.board), chip: b.chip, networks: [HOME],
    hosts: { "blynk.cloud:80": addr, "blynk.cloud:443": addr, ["127.0.0.1:" + air.port]: "127.0.0.1:" + air.port },
    storage: Sim.flashWith(provisionedFlash(), b.chip),
  });
  try {
    await sim.waitForLog(/=> RUNNING/, 60000);
    const size = air.serve(b.board + ".js", otaFile(b.board)).size;
    const t0 = clock();
    cloud.send(INTERNAL, "ota\0" + air.url(b.board + ".js"));
    await sim.waitForLog(/Firmware updated from/, 120000);
    const when = (re: RegExp) => at.find(([l, t]) => t >= t0 && re.test(l))![1] - t0;
    return {
      where: `simulator, ${b.board}`, bytes: size, "download and check, ms": when(/=== Update successfully completed/) - when(/Firmware update URL/),
      "offer to switch, ms": when(/=== Update successfully completed/), "offer to online with the new version, ms": when(/Firmware updated from/),
    };
  } finally {
    sim!.stop();
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
    const ms = (re: RegExp) => Number((/^\[(\d+)\]/.exec(dev.console.filter((l) => re.test(l)).pop() ?? "") ?? [])[1]);
    const row: Row = { where: "ESP8266 model (qemu), nodemcu", bytes: size };
    if (sample) {
      const peak = Number(await dev.eval("global.__pkOn=0,global.__peak"));
      row["peak JsVars used"] = peak;
      row["free at the peak"] = total - peak;
    } else {
      row["download and check, ms"] = ms(/=== Update successfully completed/) - ms(/Firmware update URL/);
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
