// LED driver load in the breathe pattern (RUNNING), per board, and the RAM the LED, button and QA
// code hold. `npm run bench` calls benchLed(); `npx tsx scripts/bench-led.ts` prints the details.
//
// What is measured, and how:
//  - Ticks and pin writes per second: the driver against a fake clock (always), and the built
//    bundle in the simulator when sim/ is available (QA mode shows the breathe for 5 s).
//  - Interpreter time per tick: the firmware (dist/<board>.js) on the Espruino LINUX build
//    (ESPRUINO_BIN, through test/real's harness), in QA mode's breathe step, with setInterval
//    wrapped to time each LED tick (the fastest of ~100 ticks: other load on the host only adds).
//    Host microseconds are scaled to the chip with a calibration workload: the mandelbrot of
//    espruino/Espruino benchmark/mandelbrot.js, which EspruinoDocs (boards/EspruinoESP8266.md,
//    "Performance") times at 70 ms on an ESP-12 at 80 MHz (38 ms at the default 160 MHz).
//    (The fastest of 5 runs, in the same interpreter.) We scale with the 80 MHz figure, the
//    pessimistic one; a tick is mostly name lookups and calls, a mandelbrot arithmetic, so treat
//    the result as +-50 %. ESP32 at 160-240 MHz is assumed to
//    be 3x an ESP8266 at 80 MHz (a rough figure; its LED costs little either way).
//    Not included: the timer dispatch in Espruino's idle loop (C, small next to the JS call),
//    analogWrite's own C code (no-op on LINUX), WS2812 bit-banging on the C3 (~30 us per write).
//  - ESP8266 software PWM interrupts: 2 per PWM period while 0 < duty < 1, assumed 10 us each
//    (FRC1 interrupt, task list walk and re-arm; an estimate, not a measurement).
//  - RAM: process.memory(true).usage with the indicator started, minus the same bundle without
//    it, on ESPRUINO_BIN_1600 (1600 JsVars, like ESP8266_4MB) when set, else ESPRUINO_BIN.
//  Optional: LED_BENCH_BOARDS=nodemcu,... limits the boards; LED_BENCH_DEBUG=1 prints raw figures.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { State } from "../firmware/core/state.ts";
import { Pat, patternTable, cycleMs } from "../firmware/led/patterns.ts";
import { panelSpec, waveTick, ESP8266_PWM_HZ, QA_STEP_MS, type BoardIo } from "../firmware/led/spec.ts";
import { FakeHw } from "../test/led/fake-hw.ts";
import "../test/led/hook.ts";
import { loadBoards, type Board } from "../test/led/boards.ts";
import { executable } from "../test/real/espruino.ts";
import { BOOT0_FILE, BOOT_FILE } from "../shared/names.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const MANDELBROT_MS_ESP8266_80MHZ = 70;
const ESP32_SPEEDUP = 3;
const SOFT_PWM_IRQ_US = 10;

export interface LedBenchRow {
  board: string;
  chip: string;
  led: string;
  "tick ms": number;
  "ticks/s": number;
  "writes/s": number;
  "sim writes/s"?: number | string;
  "host us/tick"?: number;
  "chip us/tick"?: number;
  "JS %"?: number;
  "PWM IRQ %"?: number;
  "LED %"?: number | string;
  "RAM vars"?: number;
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Breathe ticks and pin writes per second, from the driver against a fake clock. */
async function fakeClockRates(board: BoardIo): Promise<{ tick: number; ticks: number; writes: number }> {
  const { createLed } = await import("../firmware/led/led.ts");
  const spec = panelSpec(board).led;
  const hw = new FakeHw();
  const show = createLed(spec);
  const row = patternTable()[Pat.RUNNING];
  show(row);
  hw.writes = [];
  hw.wakeUps = 0;
  const span = 10 * cycleMs(row);
  hw.advance(span);
  show(undefined);
  FakeHw.restore();
  const isWaveDriver = board.led.type !== "gpio" && board.led.type !== "none";
  return {
    tick: isWaveDriver ? waveTick(row, spec.tick) : 0,
    ticks: round((hw.wakeUps * 1000) / span, 1),
    writes: round((hw.writes.filter((w) => w.t < span).length * 1000) / span, 1),
  };
}

/** Pin writes per second of the built bundle in the simulator, during QA mode's breathe step. */
async function simRates(board: Board): Promise<number | string> {
  const simFile = path.join(ROOT, "sim/index.ts");
  const bundle = path.join(ROOT, "dist", board.id + ".js");
  if (!fs.existsSync(simFile)) return "no simulator";
  if (!fs.existsSync(bundle)) return "not built";
  const { Sim } = (await import(pathToFileURL(simFile).href)) as { Sim: any };
  const sim = await Sim.boot({ bundle, chip: board.chip });
  try {
    await sim.advance(1000);
    sim.repl("edgent.qa()");
    const from = sim.now() + Pat.RUNNING * QA_STEP_MS + 100;
    const span = cycleMs(patternTable()[Pat.RUNNING]);
    await sim.advance(from + span - sim.now());
    const pins = new Set(board.led.pins);
    const n = sim.pins.log.filter((e: { t: number; pin: number }) => pins.has(e.pin) && e.t >= from && e.t < from + span).length;
    return round((n * 1000) / span, 1);
  } finally {
    sim.stop();
  }
}

// ---------------------------------------------------------------- real interpreter

interface Built {
  code: string;
}

/**
 * Builds `entry` (ES5 JavaScript importing firmware modules) through the firmware's own rollup
 * pipeline (board constants, TypeScript to ES5, terser), minus the type check: the emitted code
 * is the same, and a half-edited file elsewhere in the tree must not stop the bench.
 */
async function buildLike(board: Board, entry: string): Promise<Built> {
  const { rollup } = await import("rollup");
  const { default: typescript } = await import("@rollup/plugin-typescript");
  const configs = (await import(pathToFileURL(path.join(ROOT, "rollup.config.js")).href)).default as any[];
  const cfg = configs.find((c) => c.output.file.endsWith("/" + board.id + ".js"));
  if (!cfg) throw new Error("no build config for " + board.id);
  const id = "\0led-bench-entry";
  const ts = (typescript as any)({ tsconfig: path.join(ROOT, "tsconfig.json"), outDir: undefined, noEmitOnError: false, noCheck: true });
  const b = await rollup({
    ...cfg,
    input: id,
    onwarn: () => {},
    plugins: [
      { name: "led-bench-entry", resolveId: (s: string) => (s === id ? id : null), load: (s: string) => (s === id ? entry : null) },
      ...cfg.plugins.map((p: { name: string }) => (p.name === "typescript" ? ts : p)),
    ],
  });
  const { output } = await b.generate({ ...cfg.output, file: undefined });
  await b.close();
  return { code: output[0].code };
}

function fw(rel: string): string {
  return JSON.stringify(path.join(ROOT, "firmware", rel));
}

/** Copies files into the LINUX build's emulated Storage (espruino.flash in `dir`), 1 KB at a time. */
function install(bin: string, dir: string, files: Record<string, string>): void {
  const lines = ['var S = require("Storage");'];
  for (const [name, content] of Object.entries(files)) {
    const host = path.join(dir, "file" + lines.length + ".js");
    fs.writeFileSync(host, content, "latin1");
    lines.push(
      `(function(){ var f = E.openFile(${JSON.stringify(host)}, "r"), c, off = 0; S.erase(${JSON.stringify(name)});`,
      `  while ((c = f.read(1024)) !== undefined && c.length) { S.write(${JSON.stringify(name)}, c, off, ${Buffer.byteLength(content, "latin1")}); off += c.length; }`,
      "  f.close(); })();",
    );
  }
  const helper = path.join(dir, "install.js");
  fs.writeFileSync(helper, lines.join("\n") + "\n");
  const r = spawnSync(bin, [helper], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], timeout: 60000, encoding: "latin1" });
  if (r.status !== 0) throw new Error("installing files into Storage failed:\n" + r.stdout + r.stderr);
}

/** Boots .bootcde, runs `code`, returns the lines it printed that start with "@@". */
function boot(bin: string, dir: string, code: string, timeoutMs = 60000): string[] {
  const r = spawnSync(bin, ["-e", code], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, encoding: "latin1" });
  const out = (r.stdout || "").split("\n");
  const marks = out.filter((l) => l.includes("@@")).map((l) => l.slice(l.indexOf("@@") + 2).trim());
  if (!marks.length) throw new Error("the interpreter printed no result (status " + r.status + "):\n" + out.slice(-20).join("\n") + (r.stderr || ""));
  if (out.some((l) => /OUT OF MEMORY|Uncaught/.test(l))) throw new Error(out.filter((l) => /OUT OF MEMORY|Uncaught/.test(l)).join("\n"));
  return marks;
}

/** Fakes for what the LINUX build lacks (no NEOPIXEL library). */
const PRELUDE = 'Modules.addCached("neopixel", function () { exports.write = function (pin, data) {}; });\n';

/** A mandelbrot of the same size and arithmetic as espruino/Espruino benchmark/mandelbrot.js; returns ms. */
const CALIBRATE = [
  "function(){var t0=getTime();",
  "for (y=0;y<32;y++) {",
  "  line=\"\";",
  "  for (x=0;x<32;x++) {",
  "    var Xr=0;",
  "    var Xi=0;",
  "    var Cr=(4.0*x/32)-2.0;",
  "    var Ci=(4.0*y/32)-2.0;",
  "    var i=0;",
  "    while ((i<8) && ((Xr*Xr+Xi*Xi)<4)) {",
  "      var t=Xr*Xr - Xi*Xi + Cr;",
  "      Xi=2*Xr*Xi+Ci;",
  "      Xr=t;",
  "      i++;",
  "    }",
  "    if (i&1)",
  "\tline += \"*\";",
  "    else",
  "        line += \" \";",
  "   }",
  "}",
  "return (getTime()-t0)*1000;}",
].join("\n");

interface RealFigures {
  hostUsPerTick: number;
  hostMandelMs: number;
  ramVars: number;
  ramVarsWait: number;
  ramVarsQa: number;
  bin: string;
}

const baselines: Record<string, number> = {};

async function realFigures(board: Board, bin: string, memBin: string): Promise<RealFigures> {
  // Interpreter time per breathe tick, measured inside the whole firmware (dist/<board>.js): a
  // name lookup walks the bundle's scopes, so a small test bundle would flatter the tick. The
  // prelude wraps setInterval for the LED's interval only; QA mode shows the breathe at step 5.
  const { RealDevice } = await import("../test/real/espruino.ts");
  const tick = waveTick(patternTable()[Pat.RUNNING], panelSpec(board).led.tick);
  const prelude =
    PRELUDE +
    "var __si = setInterval; __led = { n: 0, s: 0, m: 1e9 };\n" +
    // (a plain `setInterval = ...` cannot replace an Espruino built-in; a property of global can)
    "global.setInterval = function (f, ms) { if (ms !== " + tick + ") return __si(f, ms);\n" +
    "  return __si(function () { var t = getTime(); f(); t = getTime() - t; __led.s += t; __led.n++; if (t < __led.m) __led.m = t; }, ms); };\n";
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const dev = await RealDevice.start({ bundle: path.join(ROOT, "dist", board.id + ".js"), chip: board.chip, bin, extraPrelude: prelude, pins: false, tracePins: false });
  let hostUsPerTick: number;
  let hostMandelMs: number;
  try {
    await sleep(1500);
    await dev.eval("edgent.qa()");
    await sleep(Pat.RUNNING * QA_STEP_MS + 500);
    await dev.eval("__led.n = 0, __led.s = 0, __led.m = 1e9");
    await sleep(4000);
    const r = JSON.parse(await dev.eval("__led")) as { n: number; s: number; m: number };
    if (!r.n) throw new Error("the breathe did not tick in QA mode");
    // Other work on the host only ever adds time, so the fastest tick and the fastest
    // calibration run are the interpreter's own cost, whatever else the machine is doing.
    hostUsPerTick = r.m * 1e6;
    const m: number[] = [];
    for (let i = 0; i < 5; i++) m.push(Number(await dev.eval("(" + CALIBRATE + ")()", 60000)));
    hostMandelMs = Math.min(...m);
  } finally {
    await dev.stop();
    await dev.cleanup();
  }

  // RAM held by LED + button (+ QA code) at rest, and while QA runs: a bundle of the indicator
  // alone, minus one of the platform module alone, on the 1600-variable build if there is one.
  const ramEntry = (withIndicator: boolean) =>
    [
      `import { startIndicator } from ${fw("indicator.ts")};`,
      `import { now } from ${fw("platform/espruino.ts")};`,
      withIndicator ? "global.__ind = startIndicator(function () {}, function (l) {});" : "global.__ind = now();",
    ].join("\n");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "led-bench-"));
  try {
    const usage = (code: string, evalCode: string) => {
      install(memBin, dir, { [BOOT0_FILE]: PRELUDE, [BOOT_FILE]: code });
      const out = boot(memBin, dir, `setTimeout(function () { ${evalCode} setTimeout(function () { print("@@" + process.memory(true).usage); quit(); }, 1500); }, 700);`);
      if (process.env.LED_BENCH_DEBUG) console.error("usage", evalCode || "(baseline)", out);
      return Number(out[0]);
    };
    baselines[board.chip] ??= usage((await buildLike(board, ramEntry(false))).code, "");
    const base = baselines[board.chip]!;
    const ind = (await buildLike(board, ramEntry(true))).code;
    const wait = usage(ind, `__ind.setState(${State.WAIT_CONFIG});`);
    const run = usage(ind, `__ind.setState(${State.RUNNING});`);
    const qa = usage(ind, `__ind.setState(${State.RUNNING}); __ind.qa();`);
    return { hostUsPerTick, hostMandelMs, ramVars: run - base, ramVarsWait: wait - base, ramVarsQa: qa - base, bin };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- report

export async function benchLedRows(): Promise<LedBenchRow[]> {
  const only = process.env.LED_BENCH_BOARDS ? process.env.LED_BENCH_BOARDS.split(",") : undefined;
  const boards = (await loadBoards()).filter((b) => !only || only.includes(b.id));
  const bin = executable(process.env.ESPRUINO_BIN);
  const memBin = executable(process.env.ESPRUINO_BIN_1600) || bin;
  const rows: LedBenchRow[] = [];
  for (const board of boards) {
    const f = await fakeClockRates(board);
    const row: LedBenchRow = {
      board: board.id,
      chip: board.chip,
      led: board.led.type,
      "tick ms": f.tick,
      "ticks/s": f.ticks,
      "writes/s": f.writes,
    };
    try {
      row["sim writes/s"] = await simRates(board);
    } catch (e) {
      row["sim writes/s"] = "sim failed: " + (e as Error).message.split("\n")[0];
    }
    if (bin && memBin) {
      const r = await realFigures(board, bin, memBin);
      const slowdown = MANDELBROT_MS_ESP8266_80MHZ / r.hostMandelMs / (board.chip === "ESP32" ? ESP32_SPEEDUP : 1);
      const chipUs = r.hostUsPerTick * slowdown;
      const js = (chipUs * f.ticks) / 1e4;
      const irq = board.chip === "ESP8266" && board.led.type === "pwm" ? (2 * ESP8266_PWM_HZ * SOFT_PWM_IRQ_US) / 1e4 : 0;
      row["host us/tick"] = round(r.hostUsPerTick);
      row["chip us/tick"] = round(chipUs, 0);
      row["JS %"] = round(js);
      row["PWM IRQ %"] = round(irq);
      row["LED %"] = round(js + irq);
      row["RAM vars"] = r.ramVars;
      (row as any)["RAM vars (wait-config)"] = r.ramVarsWait;
      (row as any)["RAM vars (QA running)"] = r.ramVarsQa;
      (row as any)["host mandelbrot ms"] = round(r.hostMandelMs);
    } else row["LED %"] = "ESPRUINO_BIN not set";
    rows.push(row);
  }
  return rows;
}

/** For npm run bench: one summary cell per board. */
export async function benchLed(): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  for (const r of await benchLedRows()) {
    out[r.board] =
      (typeof r["LED %"] === "number" ? r["LED %"] + " % CPU" : String(r["LED %"])) +
      ` | ${r["ticks/s"]} ticks/s | ${r["writes/s"]} writes/s` +
      (typeof r["sim writes/s"] === "number" ? ` (sim ${r["sim writes/s"]})` : "") +
      (r["RAM vars"] !== undefined ? ` | ${r["RAM vars"]} vars` : "");
  }
  out.target = "ESP8266 < 5 % CPU";
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await benchLedRows();
  console.log("LED driver in the breathe pattern (RUNNING), per board:");
  console.table(rows);
  console.log(
    "JS % = chip us/tick x ticks/s; chip us/tick = host us/tick x (" + MANDELBROT_MS_ESP8266_80MHZ +
      " ms / host mandelbrot ms), /" + ESP32_SPEEDUP + " on ESP32. PWM IRQ % = 2 x " + ESP8266_PWM_HZ + " Hz x " + SOFT_PWM_IRQ_US +
      " us (estimate). RAM vars: JsVars held by LED + button + QA at rest in RUNNING (1600-var build when ESPRUINO_BIN_1600 is set).",
  );
}
