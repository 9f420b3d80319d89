// `npm run flash`: bundle (rebuilt when stale) -> probe (chip, free Storage) -> write .bootcde
// (erase .wificfg and, on request, the config) -> restart -> console. Each device step is one
// espruino CLI run made by tools/lib/espruino.ts; with dryRun the same steps are printed and no port
// is opened.
import { existsSync, readFileSync } from "node:fs";
import { basename, isAbsolute, join, relative } from "node:path";
import {
  checkPort, checkSpace, consoleCommand, formatCommand, probeBoard, restart as restartBoard,
  storeBundle, streamConsole, EspruinoCliError, type BoardInfo, type EspruinoTarget, type Restart,
} from "../lib/espruino.ts";
import {
  bundleState, buildCommand, buildNames, chipOfBuild, chipOfProfile, describeRecord, findProfile, isPlaceholder, loadProfiles,
  readRecord, runBuild, wantedRecord, type BoardProfile, type BundleState,
} from "../lib/bundle.ts";
import { BOOT_FILE, CONFIG_FILES, TOKEN_FILE, UPDATE_FILES, WIFI_FILE } from "../../shared/names.ts";

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
  force: boolean; // skip the check that the board runs Espruino for the bundle's chip
  verbose: boolean;
  env?: NodeJS.ProcessEnv; // where the device identity comes from (default process.env), besides edgent.config.json
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

function buildPattern(b: BoardProfile): string {
  const chip = chipOfProfile(b);
  return `process.env.BOARD must be an Espruino build for ${chip} (${buildNames(chip)})`;
}

export function filesToErase(o: Pick<FlashOptions, "eraseConfig" | "eraseToken">): string[] {
  return [WIFI_FILE, ...UPDATE_FILES, ...(o.eraseConfig ? CONFIG_FILES : []), ...(o.eraseToken ? [TOKEN_FILE] : [])];
}

/**
 * Throws unless the board runs Espruino for the chip the bundle is built for: an ESP8266 bundle onto
 * an ESP32, but also a classic ESP32 bundle onto an ESP32-C3 and the other way round.
 */
export function checkBuild(root: string, target: EspruinoTarget, info: BoardInfo, board: BoardProfile, what: string): void {
  const wanted = chipOfProfile(board);
  const actual = chipOfBuild(info.board);
  if (actual === wanted) return;
  const runs = actual ? `Espruino for ${actual} (process.env.BOARD is ${info.board})` : `Espruino for ${info.board}`;
  const fits = loadProfiles(root).filter((p) => chipOfProfile(p) === actual).map((p) => p.id);
  const hint = !actual ? "this is not an ESP32/ESP8266 build of Espruino; check --port, or pass --force to flash it anyway"
    : fits.length ? `flash an ${actual} bundle instead (--board ${fits.join(" or --board ")}), or check that --port is the board you mean`
    : `no profile in boards/ is made for ${actual}; check --port, or pass --force to flash this bundle anyway (its pins may not exist there)`;
  throw new EspruinoCliError(`${what} is built for ${wanted}, but the board on ${target.port} runs ${runs}`, hint);
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

  // 1. bundle (and the identity compiled into it)
  const state: BundleState = o.dist
    ? { path: join(distDir, `${board.id}.js`), exists: existsSync(join(distDir, `${board.id}.js`)), built: readRecord(distDir, board.id) }
    : bundleState(o.root, distDir, board.id, o.env);
  const build = canBuild && !!state.stale;
  const why = `${show(state.path)} ${state.stale}`;
  if (o.dryRun) say(`flash ${board.id} (${board.name}, ${chipOfProfile(board)}) on ${o.port} at ${o.baud} baud: dry run, no port is opened`);
  if (build) {
    if (o.dryRun) say(`1. build   ${buildCommand(board.id)}   (${why})`);
    else {
      say(`building ${show(state.path)} (${why})`);
      await runBuild(o.root, distDir, board.id, "fix the errors above, or flash the existing bundle with --no-build", o.env);
    }
  } else if (!state.exists) {
    if (o.dist && !existsSync(o.dist)) throw new EspruinoCliError(`--dist ${show(o.dist)}: no such folder`, `pass the folder that holds ${board.id}.js, or leave --dist out to use (and build) dist/`);
    if (o.dist) throw new EspruinoCliError(`--dist ${show(o.dist)} holds no ${board.id}.js`, `pass the folder that holds ${board.id}.js, or leave --dist out to use (and build) dist/`);
    throw new EspruinoCliError(`${show(state.path)} does not exist`, "run npm run build, or drop --no-build");
  } else if (state.stale) {
    say(`warning: ${why}; flashing it anyway (--no-build)`);
  }
  // A dry run that would rebuild cannot know the new bundle's size and CRC32 yet.
  const bundle = o.dryRun && build ? undefined : readFileSync(state.path);
  const size = bundle?.length;
  if (o.dryRun && !build) say(`1. bundle  ${show(state.path)}: ${size!.toLocaleString("en-US")} bytes${o.dist ? " (--dist: never rebuilt)" : ""}`);
  // A dry run shows what the build would compile in; a real run what the build wrote.
  const identity = !build ? state.built : o.dryRun ? wantedRecord(o.root, o.env) : readRecord(distDir, board.id);
  const identityText = identity ? describeRecord(identity) : `unknown (no ${basename(state.path, ".js")}.build.json beside the bundle)`;
  say(o.dryRun ? `          identity: ${identityText}` : `identity: ${identityText}`);
  if (identity && isPlaceholder(identity)) {
    say(`warning: the identity is still the placeholder of edgent.config.json (template ${identity.BLYNK_TEMPLATE_ID} "${identity.BLYNK_TEMPLATE_NAME}"); the Blynk app will not match it to your template`);
    io.write(`  hint: set BLYNK_TEMPLATE_ID and BLYNK_TEMPLATE_NAME to your template's (Blynk console, Template, Firmware configuration) in edgent.config.json or the environment\n`);
  }

  // 2. probe and checks
  const sizeText = size === undefined ? "the built bundle" : `${size.toLocaleString("en-US")} bytes`;
  const checks = [
    o.force ? "board check skipped (--force)" : buildPattern(board),
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
    if (!o.force) checkBuild(o.root, target, info!, board, what);
    checkSpace(target, info!, [{ name: BOOT_FILE, size: size! }], CONFIG_HEADROOM);
  }

  // 3. write .bootcde, erase .wificfg (+ config), verify; the restart comes with the console
  const writeOpts = { erase, restart: "none" as Restart, verbose: o.verbose, log: say, device: (l: string) => io.write(l + "\n") };
  if (o.dryRun) {
    let steps = await storeBundle(target, bundle ?? Buffer.from("(bundle)"), { ...writeOpts, dryRun: true });
    if (!bundle) // not built yet: its length and CRC32 are unknown
      steps = steps.map((s) => s.startsWith(`  ${BOOT_FILE} <- `) ? `  ${BOOT_FILE} <- file0: the built bundle, sent as require("Storage").write() chunks of 1024 bytes`
        : s.replace(new RegExp(`\\{"${BOOT_FILE.replace(/\./g, "\\.")}":\\[\\d+,\\d+\\]\\}`), `{"${BOOT_FILE}":[<length>,<crc32>]}`));
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
