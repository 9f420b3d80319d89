// Board profiles and their bundles: which boards exist, where dist/<board>.js is, whether it is older
// than what it is built from, and how to rebuild just that board.
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { spawn } from "node:child_process";
import { join, relative } from "node:path";
import { EspruinoCliError, type Family } from "../lib/espruino.ts";

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
  staleBecause?: string; // repo-relative path of an input newer than the bundle
}

export function bundleState(root: string, distDir: string, board: string): BundleState {
  const path = join(distDir, `${board}.js`);
  if (!existsSync(path)) return { path, exists: false };
  const built = statSync(path).mtimeMs;
  const newer = inputs(root, board).find((f) => statSync(f).mtimeMs > built);
  return { path, exists: true, staleBecause: newer && relative(root, newer) };
}

/** The command that rebuilds one board (rollup.config.js builds only the boards listed in BOARD). */
export function buildCommand(board: string): string {
  return `BOARD=${board} npx rollup -c rollup.config.js`;
}

export function runBuild(root: string, board: string): Promise<void> {
  let rollup: string;
  try {
    rollup = join(root, "node_modules", "rollup", "dist", "bin", "rollup");
    statSync(rollup);
  } catch {
    throw new EspruinoCliError("rollup is not installed", "run npm install in the repository");
  }
  return new Promise((resolve, reject) => {
    // rollup's own output (and compile errors) goes straight to the terminal.
    const child = spawn(process.execPath, [rollup, "-c", "rollup.config.js"], { cwd: root, env: { ...process.env, BOARD: board }, stdio: "inherit" });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new EspruinoCliError(`building dist/${board}.js failed (rollup exit ${code})`, "fix the errors above, or flash the existing bundle with --no-build"));
    });
  });
}
