/**
 * Boot-time RAM of a firmware bundle on the real interpreter, for `npm run bench`.
 *
 * Uses ESPRUINO_BIN_1600 (an Espruino LINUX build with a fixed store of 1600
 * JsVars, like ESP8266_4MB) if set, else ESPRUINO_BIN (resizable store; the
 * numbers are then blocks used, but `total`/`free` are not meaningful).
 *
 * The bundle runs exactly as in RealDevice (from Storage .bootcde, after the
 * test prelude in .boot0) without the eval server. The prelude itself uses RAM
 * that a real board would not (fake Wifi, redirects, pin recorders), so the
 * same measurement is made with an empty bundle and subtracted:
 * `firmwareBoot = boot.usage - baseline.boot.usage`.
 *
 * On the constrained binary the prelude (about 380 JsVars) counts against the
 * 1600, so a firmware near the limit runs out of memory earlier than on the
 * board; `freeWithoutPrelude` estimates the board's headroom instead.
 *
 * Note the LINUX builds are 64-bit: a JsVar is 16 bytes (fixed build) or 27
 * (resizable) instead of 12 on ESP8266, and a string block holds about 12
 * (fixed) or 20 (resizable) chars instead of about 8, so string-heavy data
 * needs fewer blocks than on the device.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DeviceBootError, RealDevice, executable, espruinoBin, type Chip, type MemoryInfo, type RealDeviceOptions } from "./espruino.ts";

export interface MemoryBin {
  bin: string;
  /** true when ESPRUINO_BIN_1600 (fixed 1600-var store) is used */
  constrained: boolean;
}

/** ESPRUINO_BIN_1600 if executable, else ESPRUINO_BIN, else undefined. */
export function memoryBin(): MemoryBin | undefined {
  const c = executable(process.env.ESPRUINO_BIN_1600);
  if (c) return { bin: c, constrained: true };
  const b = espruinoBin();
  return b ? { bin: b, constrained: false } : undefined;
}

export interface MemorySample {
  usage: number;
  total: number;
  free: number;
  blocksize: number;
}

export interface BootMemoryRun {
  /** process.memory() right after .bootcde, E 'init' and onInit ran */
  boot?: MemorySample;
  /** process.memory() settleMs later (timers, Wifi callbacks, servers done) */
  settled?: MemorySample;
  /** the interpreter ran out of JsVars ("OUT OF MEMORY" printed) */
  outOfMemory: boolean;
  /** the interpreter exited before the measurement finished */
  exited: boolean;
  /** error-looking console lines */
  errors: string[];
  console: string[];
}

export interface BootMemoryResult extends BootMemoryRun {
  bin: string;
  constrained: boolean;
  chip: Chip;
  /** the bare interpreter: empty Storage, no prelude, no firmware */
  interpreter?: MemorySample;
  /** same run with an empty bundle (interpreter + test prelude) */
  baseline: BootMemoryRun;
  /** JsVars used by the firmware itself at boot / after settling (usage minus baseline) */
  firmwareBoot?: number;
  firmwareSettled?: number;
  /** total - interpreter.usage - firmwareSettled: what would stay free without the test prelude
   *  (constrained binary only, and not after an out-of-memory; strings need more blocks on a real ESP8266) */
  freeWithoutPrelude?: number;
}

export interface BootMemoryOptions {
  chip?: Chip; // default "ESP8266"
  /** ms after boot for the "settled" sample; default 3000 */
  settleMs?: number;
  /** override the binary (default memoryBin()) */
  bin?: string;
  /** extra RealDevice options (networks, cloud, files, ...) */
  device?: Partial<RealDeviceOptions>;
}

function sample(m: MemoryInfo | undefined): MemorySample | undefined {
  if (!m) return undefined;
  return { usage: m.usage, total: m.total, free: m.free, blocksize: Number(m.blocksize ?? 0) };
}

async function run(bundle: string, bin: string, chip: Chip, settleMs: number, extra: Partial<RealDeviceOptions>): Promise<BootMemoryRun> {
  let dev: RealDevice | undefined;
  try {
    dev = await RealDevice.start({ pins: false, ...extra, bundle, chip, bin, debug: false, settleMs, restartOnReboot: false });
    await dev.waitForEvent(/^SETTLED /, settleMs + 10000).catch(() => undefined);
    const lines = dev.console.slice();
    return {
      boot: sample(dev.bootMemory),
      settled: sample(dev.settledMemory),
      outOfMemory: lines.some((l) => l.includes("OUT OF MEMORY")),
      exited: !dev.running,
      errors: dev.errors(),
      console: lines,
    };
  } catch (e) {
    if (!(e instanceof DeviceBootError)) throw e;
    const boot = e.events.find((l) => l.startsWith("BOOTED "));
    return {
      boot: boot ? sample(JSON.parse(boot.slice(7)) as MemoryInfo) : undefined,
      outOfMemory: e.console.some((l) => l.includes("OUT OF MEMORY")),
      exited: true,
      errors: e.console.filter((l) => /^Uncaught |OUT OF MEMORY|New interpreter error|^Execution Interrupted/.test(l)),
      console: e.console,
    };
  } finally {
    if (dev) await dev.cleanup();
  }
}

/** process.memory() of the bare interpreter (empty flash, no prelude). */
function interpreterMemory(bin: string): MemorySample | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espruino-bare-"));
  try {
    const r = spawnSync(bin, ["-e", 'print("@@M "+JSON.stringify(process.memory()))'], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "latin1",
      timeout: 20000,
    });
    const m = /@@M (\{.*\})/.exec(r.stdout ?? "");
    return m ? sample(JSON.parse(m[1]) as MemoryInfo) : undefined;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Boots `bundle` (and an empty baseline) and returns process.memory() numbers. */
export async function measureBootMemory(bundle: string, opts: BootMemoryOptions = {}): Promise<BootMemoryResult> {
  const mb = opts.bin ? { bin: opts.bin, constrained: false } : memoryBin();
  if (!mb) throw new Error("neither ESPRUINO_BIN_1600 nor ESPRUINO_BIN is set");
  const chip = opts.chip ?? "ESP8266";
  const settleMs = opts.settleMs ?? 3000;
  const extra = opts.device ?? {};
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "espruino-mem-"));
  try {
    const empty = path.join(tmp, "empty.js");
    fs.writeFileSync(empty, ";\n");
    const interpreter = interpreterMemory(mb.bin);
    const baseline = await run(empty, mb.bin, chip, settleMs, extra);
    const r = await run(bundle, mb.bin, chip, settleMs, extra);
    const firmwareSettled = r.settled && baseline.settled ? r.settled.usage - baseline.settled.usage : undefined;
    // a resizable store starts at 4096 and grows; a fixed one is smaller
    const constrained = opts.bin ? (interpreter?.total ?? 4096) < 4096 : mb.constrained;
    return {
      ...r,
      bin: mb.bin,
      constrained,
      chip,
      interpreter,
      baseline,
      firmwareBoot: r.boot && baseline.boot ? r.boot.usage - baseline.boot.usage : undefined,
      firmwareSettled,
      freeWithoutPrelude:
        constrained && !r.outOfMemory && interpreter && firmwareSettled !== undefined
          ? interpreter.total - interpreter.usage - firmwareSettled
          : undefined,
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
