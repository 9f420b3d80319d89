// Board profiles and their bundles: which boards exist, which Espruino builds each runs on, where
// dist/<board>.js is, whether it must be rebuilt (older than its sources, or built with another
// device identity), and how to rebuild just that board. Used by `npm run flash` and `npm start`.
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { spawn } from "node:child_process";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { EspruinoCliError, type Family } from "./espruino.ts";
import { readIdentity, buildRecord } from "../../scripts/identity.js";

export interface BoardProfile {
  id: string;
  name: string;
  chip: Family;
  dev: string;
}

/** boards/<id>.json, sorted by id; only the fields flashing needs (the build validates the rest). */
export function loadProfiles(root: string): BoardProfile[] {
  const dir = join(root, "boards");
  return readdirSync(dir).filter((f) => f.endsWith(".json")).sort().map((f) => {
    const b = JSON.parse(readFileSync(join(dir, f), "utf8"));
    return { id: b.id, name: b.name || b.id, chip: b.chip, dev: b.dev || b.chip };
  });
}

export function findProfile(root: string, id: string): BoardProfile {
  const all = loadProfiles(root);
  const b = all.find((p) => p.id === id);
  if (!b) throw new EspruinoCliError(`unknown board "${id}"`, `valid boards: ${all.map((p) => p.id).join(", ")}`);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Which Espruino build a bundle runs on. The ESP32 variants are different chips (other pins and
// peripherals, another CPU on the C3), each with its own Espruino build, so "ESP32" is not enough.

/**
 * The chip an Espruino build is made for, from its process.env.BOARD: "ESP8266" (ESP8266_4MB,
 * ESP8266_BOARD), "ESP32" for the classic ESP32 (ESP32, ESP32_IDF4), "ESP32-C3" (ESP32C3_IDF4),
 * "ESP32-S3" (ESP32S3_IDF4); undefined for LINUX and other boards.
 */
export function chipOfBuild(board: string): string | undefined {
  if (/^ESP8266/.test(board)) return "ESP8266";
  const m = /^ESP32([A-Z]\d+)?(_|$)/.exec(board);
  if (m) return m[1] ? `ESP32-${m[1]}` : "ESP32";
  return undefined;
}

/** The chip a profile's bundle is made for: its family, narrowed by `dev` for the ESP32 variants ("ESP32-C3"). */
export function chipOfProfile(b: BoardProfile): string {
  const variant = b.chip === "ESP32" ? /^ESP32-([A-Z]\d+)/.exec(b.dev) : null;
  return variant ? `ESP32-${variant[1]}` : b.chip;
}

/** The process.env.BOARD values of that chip's Espruino builds, in words. */
export function buildNames(chip: string): string {
  if (chip === "ESP8266") return "ESP8266_4MB or ESP8266_BOARD";
  if (chip === "ESP32") return "ESP32 or ESP32_IDF4";
  return chip.replace("-", "") + "_IDF4";
}

// ---------------------------------------------------------------------------------------------
// Bundles and the identity compiled into them

/** <board>.build.json, written by the build beside the bundle (scripts/identity.js, buildRecord). */
export type BuildRecord = ReturnType<typeof buildRecord>;

/** The identity a build would compile in now (environment over edgent.config.json). */
export function wantedRecord(root: string, env: NodeJS.ProcessEnv = process.env): BuildRecord {
  try {
    return buildRecord(readIdentity(env, pathToFileURL(join(root, "edgent.config.json"))));
  } catch (e) {
    const problems = (e as Error).message.split("\n").filter((l) => l.startsWith("  - ")).map((l) => l.slice(4));
    throw new EspruinoCliError(`invalid device identity: ${problems.join("; ") || (e as Error).message}`,
      "set BLYNK_TEMPLATE_ID, BLYNK_TEMPLATE_NAME and BLYNK_FIRMWARE_VERSION from your template in edgent.config.json or the environment");
  }
}

export function readRecord(distDir: string, board: string): BuildRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(distDir, `${board}.build.json`), "utf8"));
  } catch {
    return undefined;
  }
}

/** The identity in one line; the setup code is a password and is never shown. */
export function describeRecord(r: BuildRecord): string {
  return `template ${r.BLYNK_TEMPLATE_ID} ${JSON.stringify(r.BLYNK_TEMPLATE_NAME)}, firmware ${r.BLYNK_FIRMWARE_VERSION}, ` +
    `setup code ${r.EDGENT_SETUP_CODE_SHA256 ? "set (not shown)" : "none"}, telnet ${r.EDGENT_TELNET}` +
    (r.EDGENT_TLS === "require" ? ", TLS required" : "");
}

/** The identity of edgent.config.json as shipped: no Blynk template has it. */
export function isPlaceholder(r: BuildRecord): boolean {
  return r.BLYNK_TEMPLATE_ID === "TMPL4xxxxxxxx" || r.BLYNK_TEMPLATE_NAME === "My Device";
}

/** Why a bundle built with `built` differs from one built with `wanted`, as "was built with ...", or undefined. */
function identityChange(built: BuildRecord, wanted: BuildRecord): string | undefined {
  for (const key of ["BLYNK_TEMPLATE_ID", "BLYNK_TEMPLATE_NAME", "BLYNK_FIRMWARE_VERSION", "EDGENT_TELNET", "EDGENT_TLS"] as const)
    if ((built[key] ?? "auto") !== (wanted[key] ?? "auto")) return `was built with ${key} ${JSON.stringify(built[key])}, not ${JSON.stringify(wanted[key])}`;
  if (built.EDGENT_SETUP_CODE_SHA256 !== wanted.EDGENT_SETUP_CODE_SHA256)
    return !built.EDGENT_SETUP_CODE_SHA256 ? "was built without EDGENT_SETUP_CODE" : !wanted.EDGENT_SETUP_CODE_SHA256 ? "was built with an EDGENT_SETUP_CODE that is now unset" : "was built with another EDGENT_SETUP_CODE";
  return undefined;
}

/** What a bundle is built from; changing any of these makes dist/<board>.js stale. */
function inputs(root: string, board: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(join(root, "firmware"));
  walk(join(root, "scripts"));
  for (const f of [`boards/${board}.json`, "rollup.config.js", "edgent.config.json", "tsconfig.json"]) {
    const p = join(root, f);
    if (existsSync(p)) files.push(p);
  }
  return files;
}

export interface BundleState {
  path: string;
  exists: boolean;
  /** Why it must be rebuilt, as the rest of a sentence about the bundle: "is older than firmware/main.ts". */
  stale?: string;
  /** The identity compiled into it, when its build record is there. */
  built?: BuildRecord;
}

/** The bundle of `board` in `distDir`, compared with its sources in `root` and with the identity `env` asks for. */
export function bundleState(root: string, distDir: string, board: string, env: NodeJS.ProcessEnv = process.env): BundleState {
  const path = join(distDir, `${board}.js`);
  if (!existsSync(path)) return { path, exists: false, stale: "is missing" };
  const built = readRecord(distDir, board);
  // The environment can change the identity without touching a file: compare it first.
  const changed = built ? identityChange(built, wantedRecord(root, env)) : `has no build record (${board}.build.json beside it) to tell its identity`;
  if (changed) return { path, exists: true, stale: changed, built };
  const time = statSync(path).mtimeMs;
  const newer = inputs(root, board).find((f) => statSync(f).mtimeMs > time);
  return { path, exists: true, stale: newer && `is older than ${relative(root, newer)}`, built };
}

/** The command that rebuilds one board (rollup.config.js builds only the boards listed in BOARD). */
export function buildCommand(board: string): string {
  return `BOARD=${board} npx rollup -c rollup.config.js`;
}

/**
 * Builds <distDir>/<board>.js and its build record with the identity `env` gives (as bundleState
 * compared it); rollup's output goes to the terminal. `hint` is for a failed build.
 */
export function runBuild(root: string, distDir: string, board: string, hint: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const rollup = join(root, "node_modules", "rollup", "dist", "bin", "rollup");
  if (!existsSync(rollup)) throw new EspruinoCliError("rollup is not installed", "run npm install in the repository");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [rollup, "-c", "rollup.config.js"], { cwd: root, env: { ...env, BOARD: board, DIST_DIR: distDir }, stdio: "inherit" });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new EspruinoCliError(`building ${relative(root, join(distDir, board + ".js"))} failed (rollup exit ${code})`, hint));
    });
  });
}
