// Firmware images for the update tests: the board's bundle built again as another version (what a
// user uploads to Blynk.Air: dist/<board>.ota.js with Blynk's firmware info tag), and broken
// variants of it made from its modules (scripts/image.js), each a whole image with a valid header.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { assembleImage, parseImage, moduleText } from "../../scripts/image.js";
import { withFwTag, findFwTag } from "../../scripts/fw-info.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const built = new Map<string, string>();

/**
 * The directory of a build of every board the tests use with BLYNK_FIRMWARE_VERSION=`version` and
 * more settings (`env`: EDGENT_SETUP_CODE ...), in .tmp/: built once, and again only when dist/ is
 * newer (a changed firmware).
 */
export function buildDir(version = "0.2.0", env: Record<string, string> = {}): string {
  const dir = `${ROOT}.tmp/ota-${version}${Object.keys(env).sort().map((k) => "-" + k + "-" + env[k].replace(/[^\w.-]/g, "_")).join("")}`;
  if (!built.has(dir)) {
    const probe = `${dir}/nodemcu.ota.js`;
    const fresh = existsSync(probe) && existsSync(`${ROOT}dist/nodemcu.js`) && statSync(probe).mtimeMs >= statSync(`${ROOT}dist/nodemcu.js`).mtimeMs;
    if (!fresh) {
      mkdirSync(dir, { recursive: true });
      const r = spawnSync(process.execPath, [`${ROOT}node_modules/rollup/dist/bin/rollup`, "-c", "rollup.config.js"], {
        cwd: ROOT,
        env: { ...process.env, BOARD: "esp32-devkitc,nodemcu", DIST_DIR: dir, BLYNK_FIRMWARE_VERSION: version, ...env },
        encoding: "utf8",
      });
      if (r.status !== 0) throw new Error(`building version ${version} failed:\n${r.stdout}\n${r.stderr}`);
    }
    built.set(dir, dir);
  }
  return dir;
}

/** dist/<board>.ota.js of buildDir(version, env), as a byte string (what a user uploads to Blynk.Air). */
export function otaFile(board: string, version = "0.2.0", env: Record<string, string> = {}): string {
  return readFileSync(`${buildDir(version, env)}/${board}.ota.js`, "latin1");
}

/** The image part of an .ota.js (without its firmware info tag). */
export function imageOf(ota: string): string {
  const h = parseImage(ota)!;
  return ota.slice(0, h.len);
}

/**
 * An image like `ota` (its version `version`) with modules replaced (name -> code, given the old code),
 * tagged for Blynk.Air again.
 */
export function variant(ota: string, version: string, change: Record<string, (code: string) => string>): string {
  const text = imageOf(ota);
  const h = parseImage(text)!;
  const loader = text.slice(text.indexOf("*/\n") + 3, text.indexOf("\n/*\n"));
  const mods = Object.keys(h.mods).map((name) => [name, change[name] ? change[name](moduleText(text, name)!) : moduleText(text, name)!] as [string, string]);
  const info = { fw: version, board: h.board, chip: h.chip, tmpl: h.tmpl, build: h.build };
  const tag = findFwTag(ota)!.info;
  return withFwTag(assembleImage(info, loader, mods), { ...tag, mcu: version } as any).toString("latin1");
}

/** A version whose core throws as soon as the loader starts it. */
export function throwsAtBoot(ota: string, version = "0.3.0"): string {
  return variant(ota, version, { core: () => 'throw new Error("this build is broken");' });
}

/** A version that boots and joins the WiFi but whose cloud link never logs in. */
export function neverLogsIn(ota: string, version = "0.3.0"): string {
  const dead = "exports.open=function(o){return{online:function(){return false},setMetadata:function(){return false},close:function(){}}};";
  return variant(ota, version, { blynk: () => dead, mqtt: () => dead });
}
