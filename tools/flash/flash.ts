// `npm run flash`: bundle -> probe (family, free Storage) -> write .bootcde (erase .wificfg and,
// on request, the config) -> restart -> console. Each device step is one espruino CLI run made by
// tools/lib/espruino.ts; with dryRun the same steps are printed and no port is opened.
import { readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import {
  checkFamily, checkPort, checkSpace, consoleCommand, familyOf, formatCommand, probeBoard, restart as restartBoard,
  storeBundle, streamConsole, EspruinoCliError, type EspruinoTarget, type Restart,
} from "../lib/espruino.ts";
import { bundleState, buildCommand, findProfile, loadProfiles, runBuild, type BoardProfile } from "./bundle.ts";

export const BOOT_FILE = ".bootcde";
/** Espruino's saved WiFi settings: restored after the boot code runs, so it would fight the firmware. */
export const WIFI_FILE = ".wificfg";
/** The firmware's two alternating config slots and the factory token (firmware/core/config.ts). */
export const CONFIG_FILES = ["edgent.cfg0", "edgent.cfg1"];
export const TOKEN_FILE = "edgent.token";
/** Storage kept free beside the bundle for the config slots, one rewrite in flight and the token. */
export const CONFIG_HEADROOM = 2048;

export interface FlashOptions {
  root: string; // repository root
  board: string;
  port: string;
  baud: number;
  build: boolean; // rebuild dist/<board>.js when missing or stale
  dist?: string; // take bundles from here instead of <root>/dist (never rebuilt)
  eraseConfig: boolean;
  eraseToken: boolean;
  restart: Restart;
  console: boolean;
  dryRun: boolean;
  force: boolean; // skip the board-family check
  verbose: boolean;
}

export interface FlashIO {
  say: (line: string) => void; // progress and plan lines
  write: (text: string) => void; // console output of the board, verbatim
  signal: AbortSignal; // Ctrl-C: ends the console
  onConsole?: () => void; // the console phase starts: Ctrl-C now ends it normally
}

function show(p: string): string {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") && !isAbsolute(r) ? r : p;
}

function familyPattern(b: BoardProfile): string {
  return `process.env.BOARD must start with ${b.chip}`;
}

export function filesToErase(o: Pick<FlashOptions, "eraseConfig" | "eraseToken">): string[] {
  return [WIFI_FILE, ...(o.eraseConfig ? CONFIG_FILES : []), ...(o.eraseToken ? [TOKEN_FILE] : [])];
}

/** Boards of `family`, for the hint when the bundle and the board disagree. */
function sameFamily(root: string, family: string | undefined): string {
  if (!family) return "this is not an ESP32/ESP8266 build of Espruino; check --port, or pass --force to flash it anyway";
  const ids = loadProfiles(root).filter((p) => p.chip === family).map((p) => p.id);
  return `flash an ${family} bundle instead (--board ${ids.join(" or --board ")}), or check that --port is the board you mean`;
}

export async function flash(o: FlashOptions, io: FlashIO): Promise<void> {
  const board = findProfile(o.root, o.board);
  const target: EspruinoTarget = { port: o.port, baud: o.baud };
  if (!o.port)
    throw new EspruinoCliError("--port is missing", "pass --port /dev/ttyUSB0 (Linux), /dev/cu.usbserial-* (macOS), COM3 (Windows) or tcp://<host>:23");
  const distDir = o.dist ?? join(o.root, "dist");
  const canBuild = o.build && !o.dist;
  const erase = filesToErase(o);
  const say = io.say;

  // 1. bundle
  const state = o.dist ? { ...bundleState(o.root, distDir, board.id), staleBecause: undefined } : bundleState(o.root, distDir, board.id);
  const needsBuild = !state.exists || !!state.staleBecause;
  const why = !state.exists ? `${show(state.path)} is missing` : `${show(state.path)} is older than ${state.staleBecause}`;
  if (o.dryRun) say(`flash ${board.id} (${board.name}, ${board.chip}) on ${o.port} at ${o.baud} baud: dry run, no port is opened`);
  if (needsBuild && canBuild) {
    if (o.dryRun) say(`1. build   ${buildCommand(board.id)}   (${why})`);
    else {
      say(`building ${show(state.path)} (${why})`);
      await runBuild(o.root, board.id);
    }
  } else if (!state.exists) {
    throw new EspruinoCliError(`${show(state.path)} does not exist`, o.dist ? `build it first: npm run build` : "run npm run build, or drop --no-build");
  } else if (state.staleBecause) {
    say(`warning: ${why}; flashing it anyway (--no-build)`);
  }
  // A dry run that would rebuild cannot know the new bundle's size and CRC32 yet.
  const bundle = o.dryRun && (!state.exists || (needsBuild && canBuild)) ? undefined : readFileSync(state.path);
  const size = bundle?.length;
  if (o.dryRun && !(needsBuild && canBuild)) say(`1. bundle  ${show(state.path)}: ${size!.toLocaleString("en-US")} bytes${o.dist ? " (--dist: never rebuilt)" : ""}`);

  // 2. probe and checks
  const sizeText = size === undefined ? "the built bundle" : `${size.toLocaleString("en-US")} bytes`;
  const checks = [
    o.force ? "board-family check skipped (--force)" : familyPattern(board),
    `Storage must have room for ${BOOT_FILE} (${sizeText}) plus ${CONFIG_HEADROOM.toLocaleString("en-US")} bytes for the config`,
  ];
  if (o.dryRun) {
    const { steps } = await probeBoard(target, [BOOT_FILE], { dryRun: true });
    say(`2. probe   ${steps[0]}`);
    for (const c of checks) say(`          then: ${c}`);
  } else {
    await checkPort(target);
    say(`probing ${o.port}`);
    const { info } = await probeBoard(target, [BOOT_FILE], { verbose: o.verbose, log: say });
    say(`found Espruino ${info!.version} for ${info!.board}, Storage ${info!.storage.free.toLocaleString("en-US")} of ${info!.storage.total.toLocaleString("en-US")} bytes free`);
    const what = `${show(state.path)} (${board.name})`;
    if (!o.force) checkFamily(target, info!, board.chip, what, sameFamily(o.root, familyOf(info!.board)));
    checkSpace(target, info!, [{ name: BOOT_FILE, size: size! }], CONFIG_HEADROOM);
  }

  // 3. write .bootcde, erase .wificfg (+ config), verify; the restart comes with the console
  const writeOpts = { erase, restart: "none" as Restart, verbose: o.verbose, log: say, device: (l: string) => io.write(l + "\n") };
  if (o.dryRun) {
    let steps = await storeBundle(target, bundle ?? Buffer.from("(bundle)"), { ...writeOpts, dryRun: true });
    if (!bundle) // not built yet: its length and CRC32 are unknown
      steps = steps.map((s) => s.startsWith(`  ${BOOT_FILE} <- `) ? `  ${BOOT_FILE} <- file0: the built bundle, sent as require("Storage").write() chunks of 1024 bytes`
        : s.replace(/\{"\.bootcde":\[\d+,\d+\]\}/, '{".bootcde":[<length>,<crc32>]}'));
    say(`3. write   ${steps[0]}`);
    for (const s of steps.slice(1)) say(`        ${s}`);
  } else {
    say(`writing ${BOOT_FILE} (${sizeText}) and erasing ${erase.join(", ")}`);
    await storeBundle(target, bundle!, { ...writeOpts, log: o.verbose ? say : undefined });
    say(`verified ${BOOT_FILE} on the board (length and CRC32)`);
  }

  // 4. restart + console
  const restartText = o.restart === "load" ? "load()" : o.restart === "reboot" ? "E.reboot()" : "";
  if (o.console) {
    if (o.dryRun) {
      say(`4. console ${formatCommand(consoleCommand(target))}`);
      say(`          ${restartText ? `types ${restartText} once connected, then streams` : "streams"} the console until Ctrl-C (reconnects if the link drops)`);
      return;
    }
    io.onConsole?.();
    await streamConsole(target, { write: io.write, signal: io.signal, restart: o.restart, log: say, verbose: o.verbose });
  } else if (o.restart !== "none") {
    if (o.dryRun) {
      const steps = await restartBoard(target, o.restart, { dryRun: true });
      say(`4. restart ${steps[0]}`);
      return;
    }
    await restartBoard(target, o.restart, { verbose: o.verbose, log: say });
    say(`restarted with ${restartText}`);
  } else if (o.dryRun) {
    say(`4. done    (--restart none: the board stays stopped at its prompt)`);
  }
}
