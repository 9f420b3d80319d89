// npm run flash -- --board <id> --port <port> [options]
// Exit codes: 0 done (or console ended with Ctrl-C), 1 the flash failed, 2 bad command line, 130 interrupted.
import { Command, InvalidArgumentError, Option } from "commander";
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";
import { EspruinoCliError, DEFAULT_BAUD, type Restart } from "../lib/espruino.ts";
import { flash } from "./flash.ts";
import { BOOT_FILE, CONFIG_FILES, TOKEN_FILE, WIFI_FILE } from "../../shared/names.ts";
import { loadProfiles } from "../lib/bundle.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Errors the user made on the command line, as opposed to failures while flashing. */
const USAGE = /^(unknown board|--port is missing|--dist|baud rate|no port given|tcp:\/\/|invalid device identity)/;

function parseBaud(v: string): number {
  if (!/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError("expected a whole number such as 115200 (Espruino's rate on ESP32/ESP8266).");
  return Number(v);
}

const program = new Command()
  .name("npm run flash --")
  .description(`Build a board's firmware bundle, store it on an Espruino board as ${BOOT_FILE}, restart it and show its console.`)
  .requiredOption("--board <id>", `board profile from boards/ (${loadProfiles(ROOT).map((b) => b.id).join(", ")})`)
  .option("--port <port>", "serial port (/dev/ttyUSB0, /dev/cu.usbserial-*, COM3) or tcp://host[:port] for Espruino's telnet console (port 23 by default)")
  .option("--baud <rate>", "serial baud rate", parseBaud, DEFAULT_BAUD)
  .option("--no-build", "flash dist/<board>.js as it is, even when older than its sources or built with another identity (BLYNK_*, EDGENT_*)")
  .option("--dist <dir>", "take the bundle from <dir>/<board>.js instead of dist/ (never rebuilt)")
  .option("--erase-config", `erase the stored WiFi/cloud config (${CONFIG_FILES.join(", ")}) so the board starts in provisioning mode; the preprovisioned token ${TOKEN_FILE} is kept`)
  .option("--erase-token", `erase the preprovisioned static token (${TOKEN_FILE}), which is kept otherwise, even with --erase-config`)
  .addOption(new Option("--restart <how>", "how to start the new firmware: load() restarts the interpreter, reboot restarts the chip (E.reboot()), none leaves it stopped").choices(["load", "reboot", "none"]).default("load"))
  .option("--no-console", "exit after the restart instead of streaming the board's console until Ctrl-C")
  .option("--dry-run", "print every step (commands and the program sent) without opening the port")
  .option("--force", "skip the check that process.env.BOARD is an Espruino build for the profile's chip (ESP8266, ESP32, ESP32-C3)")
  .option("--verbose", "show the espruino CLI's own output, and stack traces")
  .addHelpText("after", `
Always erased: ${WIFI_FILE} (Espruino's saved WiFi, restored after the boot code and so fighting the firmware).
Examples:
  npm run flash -- --board nodemcu --port /dev/ttyUSB0
  npm run flash -- --board esp32-devkitc --port COM3 --erase-config
  npm run flash -- --board wemos-d1-mini --port tcp://192.168.1.50:23
  npm run flash -- --board nodemcu --port /dev/ttyUSB0 --dry-run
See docs/flashing.md for flashing Espruino itself and for every error with its fix.`)
  .showHelpAfterError("(npm run flash -- --help for all options)")
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

program.parse();
const o = program.opts<{
  board: string; port?: string; baud: number; build: boolean; dist?: string; eraseConfig?: boolean; eraseToken?: boolean;
  restart: Restart; console: boolean; dryRun?: boolean; force?: boolean; verbose?: boolean;
}>();

const abort = new AbortController();
let streaming = false;
process.on("SIGINT", () => {
  if (streaming) return abort.abort();
  process.stderr.write("\nflash: interrupted\n");
  process.exit(130);
});

try {
  await flash({
    root: ROOT, board: o.board, port: o.port ?? "", baud: o.baud, build: o.build, dist: o.dist && resolve(o.dist),
    eraseConfig: !!o.eraseConfig, eraseToken: !!o.eraseToken, restart: o.restart, console: o.console,
    dryRun: !!o.dryRun, force: !!o.force, verbose: !!o.verbose,
  }, {
    say: (line) => process.stdout.write((o.dryRun ? "" : "flash: ") + line + "\n"),
    write: (text) => process.stdout.write(text),
    signal: abort.signal,
    onConsole: () => (streaming = true),
  });
  process.exit(0);
} catch (e) {
  if (e instanceof EspruinoCliError) {
    process.stderr.write(`flash: ${e.message}\n  hint: ${e.hint}\n`);
    if (o.verbose) process.stderr.write((e.stack ?? "") + "\n");
    process.exit(USAGE.test(e.message) ? 2 : 1);
  }
  const err = e as Error;
  process.stderr.write(`flash: ${err.message ?? String(e)}\n  hint: run again with --verbose for details\n`);
  if (o.verbose) process.stderr.write((err.stack ?? "") + "\n");
  process.exit(1);
}
