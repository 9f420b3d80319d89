// Cost of the OTA pieces (firmware/ota: download + md5 + sha256) on the real interpreter, standalone:
// `npx tsx scripts/bench-ota.ts` (ESPRUINO_BIN and/or ESPRUINO_BIN_1600 set; valgrind for the
// instruction counts).
//
// RAM (JsVars, process.memory()), on each interpreter that is set; the 1600-JsVar build (the
// ESP8266 memory model) keeps code from Storage in flash like the chip, the resizable 64-bit one
// copies it into RAM, so its code figure is not the chip's:
//   code        boot usage of a bundle holding the OTA modules minus that of an empty bundle (both
//               booted from Storage .bootcde by test/real's harness, lean prelude on the 1600 build);
//   md5, sha256 a hash object alive (created with E.toArrayBuffer), after a GC;
//   peak        highest usage while 40 KB download into Storage (sampled after each chunk is written)
//               minus usage when the download started: connection, chunk, hash, downloader state;
//   left        usage after the download minus before it (0 = nothing stays).
// Time: the download of 40 KB from the fake Blynk.Air server over loopback, start to verified
// outcome, as the device's getTime() sees it (the 1600 build runs under qemu-i386: slower than the
// host, not the chip).
// Hash cost: 40 KB in 268-byte chunks on the resizable build, in x86-64 instructions counted by
// valgrind's callgrind (minus the same script without the hashing) and in host milliseconds.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { RealDevice, executable } from "../test/real/espruino.ts";
import { startFakeAir } from "../sim/fake-cloud/air.ts";
import { bundleEntry, fw } from "../test/ota/bundle.ts";
import { otaBundle, parseOtaLine } from "../test/ota/device.ts";

const SIZE = 40960;
const FILE = Buffer.from(Array.from({ length: SIZE }, (_, i) => (i * 131 + (i >> 7)) & 255));

const MODULES_ENTRY = `
import { download } from ${fw("ota/download.ts")};
import { md5 } from ${fw("ota/md5.ts")};
import { sha256 } from ${fw("ota/sha256.ts")};
global.__m = { download: download, md5: md5, sha256: sha256 };`;

interface Interp {
  name: string;
  bin: string;
  lean: boolean;
}

function interpreters(): Interp[] {
  const out: Interp[] = [];
  const b1600 = executable(process.env.ESPRUINO_BIN_1600);
  const b = executable(process.env.ESPRUINO_BIN);
  if (b1600) out.push({ name: "1600 JsVars (ESP8266 model)", bin: b1600, lean: true });
  if (b) out.push({ name: "resizable 64-bit", bin: b, lean: false });
  return out;
}

async function start(i: Interp, bundle: string): Promise<RealDevice> {
  return RealDevice.start({ bundle, chip: "ESP8266", bin: i.bin, lean: i.lean, bootTimeoutMs: 60000, pins: false, tracePins: false });
}

async function measureRam(i: Interp, dir: string, airUrl: string): Promise<Record<string, number | string>[]> {
  const rows: Record<string, number | string>[] = [];
  const empty = join(dir, "empty.js");
  const modules = join(dir, "modules.js");
  const ota = join(dir, "ota.js");
  writeFileSync(empty, ";\n");
  const modulesCode = await bundleEntry(MODULES_ENTRY);
  writeFileSync(modules, modulesCode);
  writeFileSync(ota, await otaBundle());

  const base = await start(i, empty);
  const baseUsage = (await base.memory()).usage;
  await base.cleanup();

  const m = await start(i, modules);
  try {
    const boot = (await m.memory()).usage;
    const hashState = async (name: string) => {
      await m.eval(`global.__h = __m.${name}(E.toArrayBuffer)`);
      const u = (await m.memory()).usage;
      await m.eval("global.__h = undefined");
      return u - (await m.memory()).usage;
    };
    rows.push({ interpreter: i.name, what: "OTA modules code (download + md5 + sha256)", "bundle bytes": modulesCode.length, JsVars: boot - baseUsage });
    rows.push({ interpreter: i.name, what: "md5() state", JsVars: await hashState("md5") });
    rows.push({ interpreter: i.name, what: "sha256() state", JsVars: await hashState("sha256") });
  } finally {
    await m.cleanup();
  }

  const dev = await start(i, ota);
  try {
    // the first socket creates Espruino's network state, which stays: not the downloader's
    await dev.eval(`__ota.start(${JSON.stringify(airUrl)}, {prefer: "md5"})`, 30000);
    await dev.waitForEvent(/^OTA \{/, 240000);
    for (const [label, options] of [["md5", { prefer: "md5" }], ["sha256 (JS)", {}], ["sha256 (native, stored file)", { native: true }]] as const) {
      const before = (await dev.memory()).usage;
      const from = dev.events.length;
      // started from a timer, outside the eval call, so `base` is the idle usage
      await dev.eval(`setTimeout(function () { __ota.start(${JSON.stringify(airUrl)}, ${JSON.stringify(options)}); }, 10)`, 30000);
      const r = parseOtaLine(await dev.waitForEvent(/^OTA \{/, 300000, from));
      if (!r.ok) throw new Error("download failed: " + JSON.stringify(r));
      await new Promise((res) => setTimeout(res, 300));
      const after = (await dev.memory()).usage;
      rows.push({
        interpreter: i.name,
        what: `download ${SIZE / 1024} KB, ${label}`,
        "peak JsVars": Number(r.peak) - Number(r.base),
        "left JsVars": after - before,
        "ms": Number(r.ms),
      });
    }
    const errors = dev.errors();
    if (errors.length) throw new Error("interpreter errors: " + errors.join("; "));
  } finally {
    await dev.cleanup();
  }
  return rows;
}

// ---------------------------------------------------------------- hash cost on the resizable build

const DATA = `var seed = 12345, chunks = [];
function chunk(n) { var s = ""; for (var i = 0; i < n; i++) { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; seed |= 0; s += String.fromCharCode(seed & 255); } return s; }
for (var i = 0; i < ${SIZE}; i += 268) chunks.push(chunk(Math.min(268, ${SIZE} - i)));
var whole = chunks.join("");
`;

const CASES: Record<string, string> = {
  none: "",
  "md5 (E.toArrayBuffer)": "var h = __m.md5(E.toArrayBuffer); for (var i = 0; i < chunks.length; i++) h.update(chunks[i]); h.digest();",
  "md5 (charCodeAt)": "var h = __m.md5(); for (var i = 0; i < chunks.length; i++) h.update(chunks[i]); h.digest();",
  "sha256 (E.toArrayBuffer)": "var h = __m.sha256(E.toArrayBuffer); for (var i = 0; i < chunks.length; i++) h.update(chunks[i]); h.digest();",
  "sha256 (charCodeAt)": "var h = __m.sha256(); for (var i = 0; i < chunks.length; i++) h.update(chunks[i]); h.digest();",
  'sha256 (native require("crypto").SHA256)': 'require("crypto").SHA256(whole);',
};

function hasValgrind(): boolean {
  return spawnSync("valgrind", ["--version"], { encoding: "utf8" }).status === 0;
}

function runCase(bin: string, dir: string, code: string, body: string, callgrind: boolean): { ms: number; instructions?: number } {
  const file = join(dir, "hash.js");
  writeFileSync(file, code + "\n" + DATA + "var t0 = getTime();\n" + body + "\nprint('@@MS ' + ((getTime() - t0) * 1000).toFixed(1));\n");
  const args = callgrind ? ["--tool=callgrind", "--callgrind-out-file=" + join(dir, "cg.out"), bin, file] : [file];
  const r = spawnSync(callgrind ? "valgrind" : bin, args, { cwd: dir, encoding: "latin1", timeout: 600000, stdio: ["ignore", "pipe", "pipe"] });
  const ms = /@@MS ([\d.]+)/.exec(r.stdout || "");
  if (!ms) throw new Error("hash run failed:\n" + (r.stdout || "").slice(-1500) + (r.stderr || "").slice(-1500));
  const ir = /Collected\s*:\s*(\d+)/.exec(r.stderr || "");
  return { ms: Number(ms[1]), instructions: ir ? Number(ir[1]) : undefined };
}

async function measureHashes(bin: string, dir: string): Promise<Record<string, number | string>[]> {
  const code = await bundleEntry(MODULES_ENTRY);
  const cg = hasValgrind();
  const base = cg ? runCase(bin, dir, code, "", true).instructions : undefined;
  const rows: Record<string, number | string>[] = [];
  for (const [name, body] of Object.entries(CASES)) {
    if (name === "none") continue;
    const wall = runCase(bin, dir, code, body, false).ms;
    const row: Record<string, number | string> = { hash: `${name}, ${SIZE / 1024} KB in 268-byte chunks`, "host ms": wall };
    if (cg && base !== undefined) {
      const ir = runCase(bin, dir, code, body, true).instructions;
      row["x86-64 instructions (M)"] = ir !== undefined ? Math.round((ir - base) / 1e6) : "n/a";
    }
    rows.push(row);
  }
  return rows;
}

export async function benchOta(): Promise<{ ram: Record<string, number | string>[]; hashes: Record<string, number | string>[] }> {
  const ram: Record<string, number | string>[] = [];
  let hashes: Record<string, number | string>[] = [];
  const list = interpreters();
  if (!list.length) {
    console.log("Set ESPRUINO_BIN and/or ESPRUINO_BIN_1600 to measure.");
    return { ram, hashes };
  }
  const dir = mkdtempSync(join(tmpdir(), "bench-ota-"));
  const air = await startFakeAir();
  try {
    air.serve("fw.js", FILE);
    for (const i of list) ram.push(...(await measureRam(i, dir, air.url("fw.js"))));
    const big = executable(process.env.ESPRUINO_BIN);
    if (big) hashes = await measureHashes(big, dir);
  } finally {
    await air.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { ram, hashes };
}

if (import.meta.url === pathToFileURL(process.argv[1] || "").href) {
  const { ram, hashes } = await benchOta();
  console.log(`file: ${SIZE} bytes, sha256 ${createHash("sha256").update(FILE).digest("base64")}`);
  console.table(ram);
  if (hashes.length) console.table(hashes);
}
