// The virtual board's Blynk.Air: pushes a firmware update to the device as Blynk.Air does (the
// cloud's `ota` command with a URL on the fake Blynk.Air server), with the new firmware built on
// demand (the board's firmware as the next patch version: 0.1.0 -> 0.1.1 ...), or a download that
// fails in one of the ways the firmware must survive, or a firmware that fails on the device (so a
// person can watch a rollback).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FakeAir, AirFaults } from "../sim/fake-cloud/air.ts";
import type { FakeCloud } from "../sim/fake-cloud/server.ts";
import { assembleImage, parseImage, moduleText } from "../scripts/image.js";
import { withFwTag, findFwTag } from "../scripts/fw-info.js";
import { readIdentity } from "../scripts/identity.js";

/** The host name the device downloads from (the simulator maps it to the fake Blynk.Air). */
export const AIR_HOST = "air.blynk.test";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const INTERNAL = 17;

/** What the control page can push: a good update, each way a download fails, each way a new firmware fails. */
export const UPDATE_KINDS: Record<string, string> = {
  good: "a good update (the next version)",
  http404: "the server answers 404",
  "no-length": "no Content-Length",
  short: "the connection ends half way",
  hash: "a wrong SHA-256",
  stall: "the data stops half way (10 s timeout)",
  full: "too big for the Storage",
  "not-firmware": "a file that is no firmware",
  throws: "a new firmware that throws at boot (rolled back after 3 boots)",
  silent: "a new firmware that never logs in (rolled back after 3 boots of 3 minutes)",
};

export interface AirPusher {
  push(kind: string): Promise<string>;
  close(): void;
}

/** Builds `board`'s firmware as `version` into a temp dir; the .ota.js as a byte string. */
function build(board: string, version: string, dir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "node_modules/rollup/dist/bin/rollup"), "-c", "rollup.config.js"], {
      cwd: ROOT,
      env: { ...process.env, BOARD: board, DIST_DIR: dir, BLYNK_FIRMWARE_VERSION: version },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(readFileSync(join(dir, board + ".ota.js"), "latin1")) : reject(new Error(`building version ${version} failed:\n${err}`))));
  });
}

/** An .ota.js with modules replaced, as a whole image with its tag (scripts/image.js). */
function variant(ota: string, change: Record<string, string>): string {
  const h = parseImage(ota);
  const text = ota.slice(0, h.len);
  const loader = text.slice(text.indexOf("*/\n") + 3, text.indexOf("\n/*\n"));
  const mods = Object.keys(h.mods).map((n) => [n, change[n] ?? moduleText(text, n)] as [string, string]);
  return withFwTag(assembleImage({ fw: h.fw, board: h.board, chip: h.chip, tmpl: h.tmpl, build: h.build }, loader, mods), findFwTag(ota)!.info as any).toString("latin1");
}

export function airPusher(o: { air: FakeAir; cloud: FakeCloud; board: string; note(line: string): void }): AirPusher {
  const dir = mkdtempSync(join(tmpdir(), "edgent-air-"));
  const [maj, min, patch] = readIdentity().firmwareVersion.split(".").map(Number);
  let next = patch + 1;
  let n = 0;
  return {
    async push(kind) {
      if (!UPDATE_KINDS[kind]) throw new Error(`unknown update "${kind}"; one of ${Object.keys(UPDATE_KINDS).join(", ")}`);
      const version = `${maj}.${min}.${next}`;
      o.note(`Blynk.Air: building firmware ${version} for ${o.board}`);
      let file = await build(o.board, version, dir);
      const faults: AirFaults = {};
      if (kind === "good") next++;
      else if (kind === "http404") faults.status = 404;
      else if (kind === "no-length") faults.contentLength = null;
      else if (kind === "short") faults.cutAt = file.length >> 1;
      else if (kind === "hash") faults.sha256 = Buffer.alloc(32, 7).toString("base64");
      else if (kind === "stall") faults.stallAt = file.length >> 1;
      else if (kind === "full") faults.contentLength = 4000000;
      else if (kind === "not-firmware") file = "not a firmware image\n".repeat(200);
      else if (kind === "throws") file = variant(file, { core: 'throw new Error("this build is broken");' });
      else if (kind === "silent") {
        const dead = "exports.open=function(o){return{online:function(){return false},setMetadata:function(){return false},close:function(){}}};";
        file = variant(file, { blynk: dead, mqtt: dead });
      }
      const name = `fw-${++n}.ota.js`;
      o.air.serve(name, file, faults);
      const url = `http://${AIR_HOST}/air/${name}`;
      o.cloud.send(INTERNAL, "ota\0" + url);
      o.note(`Blynk.Air: offered ${version} (${UPDATE_KINDS[kind]}): ${url}`);
      return version;
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
