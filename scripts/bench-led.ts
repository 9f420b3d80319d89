// LED driver load in the breathe pattern (RUNNING), per board, and the RAM the LED, button and QA
// code hold. `npm run bench` calls benchLed(); `npx tsx scripts/bench-led.ts` prints the details.
//
// What is measured, and how:
//  - Ticks and pin writes per second: the driver against a fake clock (always), and the built
//    bundle in the simulator when test/sim is available (QA mode shows the breathe for 5 s).
//  - Interpreter time per tick: the tick function of a bundle built exactly like the firmware
//    (same rollup/terser pipeline), called N times on the Espruino LINUX build (ESPRUINO_BIN).
//    Host microseconds are scaled to the chip with a calibration workload: the mandelbrot of
//    espruino/Espruino benchmark/mandelbrot.js, which EspruinoDocs (boards/EspruinoESP8266.md,
//    "Performance") times at 70 ms on an ESP-12 at 80 MHz (38 ms at the default 160 MHz).
//    We scale with the 80 MHz figure, the pessimistic one. ESP32 at 160-240 MHz is assumed to
//    be 3x an ESP8266 at 80 MHz (a rough figure; its LED costs little either way).
//    Not included: the timer dispatch in Espruino's idle loop (C, small next to the JS call),
//    analogWrite's own C code (no-op on LINUX), WS2812 bit-banging on the C3 (~30 us per write).
//  - ESP8266 software PWM interrupts: 2 per PWM period while 0 < duty < 1, assumed 10 us each
//    (FRC1 interrupt, task list walk and re-arm; an estimate, not a measurement).
//  - RAM: process.memory(true).usage with the indicator started, minus the same bundle without
//    it, on ESPRUINO_BIN_1600 (1600 JsVars, like ESP8266_4MB) when set, else ESPRUINO_BIN.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { State } from "../firmware/core/state.ts";
import { Pat, patternTable, cycleMs } from "../firmware/led/patterns.ts";
import { createLed, waveTick } from "../firmware/led/led.ts";
import { panelSpec, ESP8266_PWM_HZ, type BoardIo } from "../firmware/led/indicator-core.ts";
import { FakeHw } from "../test/led/fake-hw.ts";
import { loadBoards, type Board } from "../test/led/boards.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const MANDELBROT_MS_ESP8266_80MHZ = 70;
const ESP32_SPEEDUP = 3;
const SOFT_PWM_IRQ_US = 10;
const TICKS_TIMED = 2000;

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

function executable(p: string | undefined): string | undefined {
  if (!p) return undefined;
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile() ? p : undefined;
  } catch {
    return undefined;
  }
}

/** Breathe ticks and pin writes per second, from the driver against a fake clock. */
function fakeClockRates(board: BoardIo): { tick: number; ticks: number; writes: number } {
  const spec = panelSpec(board).led;
  const hw = new FakeHw();
  const led = createLed(spec, hw);
  const row = patternTable()[Pat.RUNNING];
  led.show(row);
  hw.writes = [];
  hw.wakeUps = 0;
  const span = 10 * cycleMs(row);
  hw.advance(span);
  led.close();
  const isWaveDriver = board.led.type !== "gpio" && board.led.type !== "none";
  return {
    tick: isWaveDriver ? waveTick(row, spec.tick) : 0,
    ticks: round((hw.wakeUps * 1000) / span, 1),
    writes: round((hw.writes.filter((w) => w.t < span).length * 1000) / span, 1),
  };
}

/** Pin writes per second of the built bundle in the simulator, during QA mode's breathe step. */
async function simRates(board: Board): Promise<number | string> {
  const simFile = path.join(ROOT, "test/sim/index.ts");
  const bundle = path.join(ROOT, "dist", board.id + ".js");
  if (!fs.existsSync(simFile)) return "no simulator";
  if (!fs.existsSync(bundle)) return "not built";
  const { Sim } = (await import(pathToFileURL(simFile).href)) as { Sim: any };
  const { QA_STEP_MS } = await import("../firmware/led/indicator-core.ts");
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
  "function calib(){var t0=getTime();",
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

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

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
  const running = Pat.RUNNING;
  const tickEntry = [
    `import { createLed } from ${fw("led/led.ts")};`,
    `import { panelSpec } from ${fw("led/indicator-core.ts")};`,
    `import { patternTable } from ${fw("led/patterns.ts")};`,
    `import { now, pinOutput, pinPwm, pixelWrite } from ${fw("platform/espruino.ts")};`,
    "var tick;",
    "var hw = { now: now, out: pinOutput, pwm: pinPwm, pixel: pixelWrite, cancel: clearTimeout,",
    "  after: function (f, ms) { return setTimeout(f, ms); },",
    "  every: function (f, ms) { tick = f; return setTimeout(function () {}, 1e9); } };",
    "var led = createLed(panelSpec({ chip: __BUILD__.chip, dev: __BUILD__.dev, led: __BUILD__.led, button: __BUILD__.button }).led, hw);",
    `led.show(patternTable()[${running}]);`,
    "global.__ledTicks = function (n) { var t = getTime(); for (var i = 0; i < n; i++) tick(); return (getTime() - t) * 1e6 / n; };",
  ].join("\n");
  const ramEntry = (withIndicator: boolean) =>
    [
      `import { startIndicator } from ${fw("indicator.ts")};`,
      `import { now } from ${fw("platform/espruino.ts")};`,
      withIndicator ? "global.__ind = startIndicator(function () {}, function (l) {});" : "global.__ind = now();",
    ].join("\n");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "led-bench-"));
  try {
    // interpreter time per tick, and the calibration workload, on the same binary
    install(bin, dir, { ".boot0": PRELUDE, ".bootcde": (await buildLike(board, tickEntry)).code });
    const us: number[] = [];
    const mandel: number[] = [];
    for (let i = 0; i < 5; i++) {
      const m = boot(bin, dir, `${CALIBRATE}\nprint("@@" + __ledTicks(${TICKS_TIMED}) + " " + calib()); quit();`);
      const [a, b] = m[0].split(" ").map(Number);
      us.push(a);
      mandel.push(b);
    }
    // RAM held by LED + button (+ QA code) at rest, and while QA runs
    const usage = (code: string, evalCode: string) => {
      install(memBin, dir, { ".boot0": PRELUDE, ".bootcde": code });
      const m = boot(memBin, dir, `setTimeout(function () { ${evalCode} setTimeout(function () { print("@@" + process.memory(true).usage); quit(); }, 1500); }, 700);`);
      return Number(m[0]);
    };
    baselines[board.chip] ??= usage((await buildLike(board, ramEntry(false))).code, "");
    const base = baselines[board.chip]!;
    const ind = (await buildLike(board, ramEntry(true))).code;
    const wait = usage(ind, `__ind.setState(${State.WAIT_CONFIG});`);
    const run = usage(ind, `__ind.setState(${State.RUNNING});`);
    const qa = usage(ind, `__ind.setState(${State.RUNNING}); __ind.qa();`);
    return { hostUsPerTick: median(us), hostMandelMs: median(mandel), ramVars: run - base, ramVarsWait: wait - base, ramVarsQa: qa - base, bin };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- report

export async function benchLedRows(): Promise<LedBenchRow[]> {
  const boards = await loadBoards();
  const bin = executable(process.env.ESPRUINO_BIN);
  const memBin = executable(process.env.ESPRUINO_BIN_1600) || bin;
  const rows: LedBenchRow[] = [];
  for (const board of boards) {
    const f = fakeClockRates(board);
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
