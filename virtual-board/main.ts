// `npm start`: a virtual board in the terminal and the browser. See docs/virtual-board.md.
import { Command, InvalidArgumentError } from "commander";
import { fileURLToPath } from "node:url";
import { dirname, join, relative, resolve } from "node:path";
import { bundleState, findProfile, runBuild } from "../tools/lib/bundle.ts";
import { EspruinoCliError } from "../tools/lib/espruino.ts";
import { startVirtualBoard, DEFAULT_BOARD, DEFAULT_PORT, DEMO_TOKEN } from "./index.ts";
import { DEFAULT_WORLD } from "./world.ts";
import { defaultFlashFile } from "./flash-file.ts";

function number(what: string, min: number, max: number) {
  return (v: string) => {
    const n = Number(v);
    if (!(n >= min && n <= max)) throw new InvalidArgumentError(`${what} must be a number from ${min} to ${max}`);
    return n;
  };
}

const program = new Command()
  .name("npm start --")
  .description("Run the firmware of a board profile on a virtual board: console here, portal and control page in the browser.")
  .option("-b, --board <id>", "board profile (boards/<id>.json)", DEFAULT_BOARD)
  .option("-w, --world <file>", "networks around the device (JSON)", DEFAULT_WORLD)
  .option("-p, --port <n>", "control page port; the portal is served on the next port", number("--port", 1, 65534), DEFAULT_PORT)
  .option("--listen <address>", "address to listen on (0.0.0.0 lets a phone on your network open the portal)", "127.0.0.1")
  .option("-s, --speed <x>", "virtual time per real time (10 = ten times faster)", number("--speed", 0.01, 1000), 1)
  .option("-t, --token <token>", "auth token the fake Blynk cloud accepts", DEMO_TOKEN)
  .option("--flash <file>", "where the device's flash is kept between runs (default: a file per board in the temp directory)")
  .option("--fresh", "start with an erased flash, as if just flashed")
  .option("--broker <url>", "an MQTT broker of yours the device may reach, mqtt://[user:password@]host[:port]: enter the same URL as Server in the portal's Advanced section")
  .showHelpAfterError();

program.parse();
const o = program.opts<{ board: string; world: string; port: number; listen: string; speed: number; token: string; flash?: string; fresh?: boolean; broker?: string }>();

const dim = process.stdout.isTTY ? (s: string) => `\x1b[2m${s}\x1b[0m` : (s: string) => s;
const bold = process.stdout.isTTY ? (s: string) => `\x1b[1m${s}\x1b[0m` : (s: string) => s;

// Device lines printed while it boots wait until the addresses are on screen.
let held: string[] | undefined = [];
const out = (line: string) => (held ? held.push(line) : process.stdout.write(line + "\n"));
const text = (bytes: string) => Buffer.from(bytes, "latin1").toString("utf8");

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Builds dist/<board>.js when it is missing, older than its sources or built with another identity: only that board. */
async function buildIfStale(board: string): Promise<string> {
  findProfile(ROOT, board); // an unknown board is a one-line error, not a failed build
  const dist = join(ROOT, "dist");
  const state = bundleState(ROOT, dist, board);
  if (state.stale) {
    process.stdout.write(dim(`-- ${relative(process.cwd(), state.path) || state.path} ${state.stale}: building it`) + "\n");
    await runBuild(ROOT, dist, board, "fix the errors above; the virtual board runs the bundle the build makes");
  }
  return state.path;
}

try {
  const bundle = await buildIfStale(o.board);
  const vb = await startVirtualBoard({
    bundle,
    board: o.board,
    worldFile: o.world,
    port: o.port,
    listen: o.listen,
    speed: o.speed,
    tokens: [o.token],
    flashFile: o.flash ?? defaultFlashFile(o.board),
    fresh: !!o.fresh,
    broker: o.broker,
    onConsole: out,
    onNote: (line) => out(dim("-- " + line)),
  });
  process.stdout.write(
    [
      "",
      bold(`Virtual ${vb.board.name} (${vb.board.id})`),
      `  control page: ${bold(vb.controlUrl)}`,
      `  portal:       ${bold(vb.portalUrl)}   (what a phone sees at http://192.168.4.1/)`,
      `  auth token:   ${bold(vb.tokens[0])}   (the fake Blynk cloud accepts this one)`,
      ...(vb.broker ? [`  MQTT broker:  ${bold(vb.broker)}   (as Server under Advanced in the portal, with its password; no token)`] : []),
      `  networks:     ${vb.sim.world.list().map((n) => (n.password ? `${text(n.ssid)} / ${n.password}` : `${text(n.ssid)} (open)`)).join(", ")}`,
      `  flash kept in ${vb.flashFile}${o.fresh ? " (started erased)" : ""}`,
      `  time: ${o.speed}x. Ctrl-C stops.`,
      "",
    ].join("\n") + "\n"
  );
  for (const line of held) process.stdout.write(line + "\n");
  held = undefined;
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1); // a second Ctrl-C: do not wait
    stopping = true;
    process.stdout.write(dim("-- stopping; the flash is saved") + "\n");
    vb.close().then(
      () => process.exit(0),
      (e) => {
        process.stderr.write(String(e) + "\n");
        process.exit(1);
      }
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} catch (e) {
  for (const line of held ?? []) process.stdout.write(line + "\n");
  process.stderr.write(`virtual board: ${(e as Error).message}\n`);
  if (e instanceof EspruinoCliError) process.stderr.write(`  hint: ${e.hint}\n`);
  process.exit(2);
}
