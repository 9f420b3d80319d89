// The one place that drives the espruino CLI (npm package `espruino`, EspruinoTools).
//
// Every device operation is one run of the CLI in a temporary folder holding the files it needs:
//   -p <port> -b <baud> --no-ble --board board.json --config SERIAL_THROTTLE_SEND=1
//   [--storage <name>:fileN ...] (program.js | -e <program>)
// and the device answers through one line it prints, `@@EDGENT{json}`. Why these flags:
//   --no-ble        without it the CLI crashes on machines without a D-Bus system socket.
//   --board <file>  stops the CLI from asking the board for process.env and downloading its board
//                   JSON from espruino.com on every connect; the file says Storage is built in, so a
//                   require("Storage") in our code is never looked up online.
//   --config SERIAL_THROTTLE_SEND=1  keeps the CLI's slow write on: with it off, a send of at most 19
//                   characters never reports completion and the CLI hangs (EspruinoTools 0.1.67).
//   --storage n:f   the CLI's own file upload: `require("Storage").write(n, atob(...), offset, size)` in
//                   1 KB chunks, byte exact, with a pause after each chunk while the board writes flash.
//   program.js      a program file makes the CLI send `reset()` first (it does not with -e alone), so the
//                   running firmware can neither write Storage during the upload nor hold the RAM it needs.
// The CLI exits 0 whatever happens, so success is read from the device's marker line and failures from
// the CLI's messages; see explainFailure().
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, writeFileSync, readdirSync, statSync, accessSync, readFileSync, constants as fsc } from "node:fs";
import net from "node:net";
import { tmpdir, platform } from "node:os";
import { delimiter, join } from "node:path";
import { BOOT_FILE, MAX_STORAGE_NAME } from "../../shared/names.ts";

export interface EspruinoTarget {
  port: string; // /dev/ttyUSB0, COM3, or tcp://host:port (Espruino's telnet console)
  baud?: number; // default 115200
}

export class EspruinoCliError extends Error {
  hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = "EspruinoCliError";
    this.hint = hint;
  }
}

export const DEFAULT_BAUD = 115200;
/** Storage file header size; every file occupies header + data rounded up to 4 bytes. */
export const STORAGE_HEADER = 32;
export const MARKER = "@@EDGENT";
/** The marker as device source: split so that an echoed copy of the program never matches it. */
const MARKER_JS = '"@@"+"EDGENT"';

const PROBE_TIMEOUT_MS = 20_000;
/** A write gets this much time plus WRITE_MS_PER_KB per KB; ESP8266 serial needs about 0.45 s/KB. */
const WRITE_TIMEOUT_MS = 30_000;
const WRITE_MS_PER_KB = 1_500;
const RECONNECT_DELAY_MS = 2_000;
/** How long the board's output is still relayed after its answer before the CLI is stopped. */
const AFTER_ANSWER_MS = 1_000;

export type Restart = "load" | "reboot" | "none";

export interface StepOptions {
  dryRun?: boolean; // return the steps, touch no port
  log?: (line: string) => void; // progress and, with verbose, the CLI's own output
  device?: (line: string) => void; // console lines the board printed during the step
  verbose?: boolean; // pass -v to the CLI and forward its output to log
  timeoutMs?: number;
}

export interface WriteOptions extends StepOptions {
  erase?: string[]; // Storage files to erase after the upload
  reset?: boolean; // reset() before writing (default true): stops the running program first
  restart?: Restart; // after a verified upload (default "load": the board runs its boot code again)
}

export interface BoardInfo {
  board: string; // process.env.BOARD, e.g. ESP8266_BOARD, ESP8266_4MB, ESP32, ESP32_IDF4, LINUX
  version: string; // process.env.VERSION, e.g. 2v29
  storage: { total: number; free: number; trash: number };
  sizes: Record<string, number>; // length of each asked-for file, -1 when missing
}

export type Family = "ESP32" | "ESP8266";

// ---------------------------------------------------------------------------------------------
// Pure helpers

/** Bytes a file of `size` bytes occupies in Storage (header + data aligned to 4). */
export function storageFootprint(size: number): number {
  return STORAGE_HEADER + ((size + 3) & ~3);
}

export function isTcp(port: string): boolean {
  return port.startsWith("tcp://");
}

/** Splits tcp://host[:port] at the last colon (port 23 when absent); the CLI splits at the first, see checkPort(). */
export function parseTcp(port: string): { host: string; port: number } {
  const rest = port.slice("tcp://".length).replace(/\/$/, "");
  const i = rest.lastIndexOf(":");
  const host = (i >= 0 ? rest.slice(0, i) : rest) || "localhost";
  const p = i >= 0 ? Number(rest.slice(i + 1)) : 23;
  if (!Number.isInteger(p) || p < 1 || p > 65535)
    throw new EspruinoCliError(`${port}: "${rest.slice(i + 1)}" is not a TCP port number`, "write it as tcp://<host>:<port>, e.g. tcp://192.168.1.50:23");
  return { host, port: p };
}

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) {
    c ^= data[i];
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}

export function shellQuote(arg: string): string {
  return /^[\w/.:=@%+,-]+$/.test(arg) ? arg : "'" + arg.replace(/'/g, "'\\''") + "'";
}

export function formatCommand(args: string[]): string {
  return ["espruino", ...args].map(shellQuote).join(" ");
}

function kb(n: number): string {
  return n.toLocaleString("en-US");
}

/** Device source that prints the marker line followed by the JSON of `expr`. */
function printMarked(expr: string): string {
  return `print(${MARKER_JS}+JSON.stringify(${expr}))`;
}

/** The JSON value of the last marker line in the CLI output, or undefined when the board never answered. */
export function readMarked(stdout: string): unknown {
  const at = stdout.lastIndexOf(MARKER);
  if (at < 0) return undefined;
  const line = stdout.slice(at + MARKER.length).split(/\r?\n/)[0];
  try {
    return JSON.parse(line.trim());
  } catch {
    return undefined;
  }
}

/** Lines the board printed, as the CLI relays them ("--] " prefix), without prompts and marker lines. */
export function deviceLines(stdout: string): string[] {
  const out: string[] = [];
  for (const raw of stdout.split("\n")) {
    if (!raw.startsWith("--] ")) continue;
    const line = raw.slice(4).replace(/\r$/, "").replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/^\r/, "");
    if (line === ">" || line === "" || line.includes(MARKER)) continue;
    out.push(line.replace(/^>/, ""));
  }
  return out;
}

/** First "Uncaught ..." error the board printed, e.g. `Error: Unable to find or create file`. */
export function uncaughtError(stdout: string): string | undefined {
  const m = /Uncaught ([^\r\n]+)/.exec(stdout);
  return m ? m[1].trim() : undefined;
}

function validateTarget(target: EspruinoTarget): void {
  if (!target.port) throw new EspruinoCliError("no port given", "pass --port /dev/ttyUSB0 (Linux), /dev/cu.usbserial-* (macOS), COM3 (Windows) or tcp://<host>:23");
  if (isTcp(target.port)) parseTcp(target.port);
  const baud = target.baud ?? DEFAULT_BAUD;
  if (!Number.isInteger(baud) || baud <= 0)
    throw new EspruinoCliError(`baud rate ${target.baud} is not a positive whole number`, "Espruino on ESP32/ESP8266 talks at 115200 baud");
}

function validateStorageName(name: string): void {
  const bytes = Buffer.byteLength(name, "latin1");
  if (bytes === 0 || bytes > MAX_STORAGE_NAME)
    throw new EspruinoCliError(`Storage file name "${name}" is ${bytes} bytes; the limit is ${MAX_STORAGE_NAME}`, "use a shorter name (Espruino truncates longer names silently)");
  if (name.includes(":")) throw new EspruinoCliError(`Storage file name "${name}" contains ":"`, "the espruino CLI splits --storage name:file at the first colon; choose a name without one");
}

// ---------------------------------------------------------------------------------------------
// Planning a CLI run: argv + files staged next to it

interface Staged {
  file: string; // name in the temp folder
  data: Buffer;
}

interface Invocation {
  args: string[];
  staged: Staged[];
  steps: string[]; // human-readable, exact: the command line and what it sends
  timeoutMs: number;
}

/** Board JSON for --board: Storage is built in (so no module download); nothing else is claimed. */
const BOARD_JSON = JSON.stringify({ info: { builtin_modules: ["Storage"] } });

function baseArgs(target: EspruinoTarget, verbose?: boolean): string[] {
  const a = ["-p", target.port, "-b", String(target.baud ?? DEFAULT_BAUD), "--no-ble", "--board", "board.json", "--config", "SERIAL_THROTTLE_SEND=1"];
  if (verbose) a.push("-v");
  return a;
}

/** An -e run: no reset, the program runs at the prompt. */
function evalInvocation(target: EspruinoTarget, program: string, opts: StepOptions): Invocation {
  const args = [...baseArgs(target, opts.verbose), "-e", program];
  return { args, staged: [{ file: "board.json", data: Buffer.from(BOARD_JSON) }], steps: [formatCommand(args)], timeoutMs: opts.timeoutMs ?? PROBE_TIMEOUT_MS };
}

// ---------------------------------------------------------------------------------------------
// Running the CLI

/** What one CLI run printed; explainFailure() reads it. */
export interface CliResult {
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

let cliPath: string | undefined;
function espruinoCli(): string {
  if (!cliPath) {
    try {
      cliPath = createRequire(import.meta.url).resolve("espruino/bin/espruino-cli.js");
    } catch {
      throw new EspruinoCliError("the espruino CLI (npm package `espruino`) is not installed", "run npm install in the repository");
    }
  }
  return cliPath;
}

/** Messages of the CLI (stderr) that mean the run cannot succeed: stop it at once instead of waiting. */
const FATAL_STDERR = /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|ECONNRESET|Permission denied|EACCES|EBUSY|Resource busy|Cannot lock port|Port .* not found|Unable to connect/;

function runCli(target: EspruinoTarget, inv: Invocation, opts: StepOptions): Promise<CliResult> {
  const cli = espruinoCli();
  const dir = mkdtempSync(join(tmpdir(), "espruino-edgent-"));
  for (const s of inv.staged) writeFileSync(join(dir, s.file), s.data);
  return new Promise<CliResult>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [cli, ...inv.args], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      return reject(e);
    }
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const stop = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
    };
    const stopIn = (ms: number) => timers.push(setTimeout(stop, ms));
    timers.push(setTimeout(() => {
      timedOut = true;
      stop();
    }, inv.timeoutMs));
    let pending = "";
    let answered = false; // lines before the marker are the reset banner and the upload's echo
    child.stdout!.setEncoding("latin1");
    child.stderr!.setEncoding("latin1");
    child.stdout!.on("data", (d: string) => {
      stdout += d;
      pending += d;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const l of lines) {
        if (opts.verbose && opts.log) opts.log("espruino| " + l.replace(/\r$/, ""));
        else if (answered && opts.device) for (const dl of deviceLines(l + "\n")) opts.device(dl);
        if (l.includes(MARKER) && !answered) {
          answered = true;
          // The CLI only exits after 500 ms of silence, which a chatty firmware never gives it.
          stopIn(AFTER_ANSWER_MS);
        }
      }
    });
    child.stderr!.on("data", (d: string) => {
      stderr += d;
      if (opts.verbose && opts.log) for (const l of d.split("\n")) if (l.trim()) opts.log("espruino! " + l);
      // A refused connection or a missing port is final; the CLI would otherwise idle until it times out.
      if (FATAL_STDERR.test(stderr)) stopIn(200);
    });
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
      if (err) reject(err);
      else resolve({ stdout, stderr, timedOut });
    };
    child.on("error", finish);
    child.on("close", () => finish());
  });
}

// ---------------------------------------------------------------------------------------------
// Ports

/** Serial ports as the CLI lists them (`espruino --list --no-ble --scan-timeout 0`). */
async function cliPorts(): Promise<string[]> {
  const found: string[] = [];
  const cli = espruinoCli();
  await new Promise<void>((resolve) => {
    const child = spawn(process.execPath, [cli, "--list", "--no-ble", "--scan-timeout", "0"], { stdio: ["ignore", "pipe", "ignore"], windowsHide: true });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill(), 15_000);
    const done = () => {
      clearTimeout(timer);
      for (const m of out.matchAll(/^ {2}(\S+) {2}\(/gm)) found.push(m[1]);
      resolve();
    };
    child.on("close", done);
    child.on("error", done);
  });
  return found;
}

/** Serial ports as the CLI lists them, plus the usual USB-serial device nodes. */
export async function listPorts(): Promise<string[]> {
  const found = new Set(await cliPorts());
  if (platform() !== "win32") {
    try {
      for (const f of readdirSync("/dev"))
        if (/^(ttyUSB\d+|ttyACM\d+|cu\.usbserial.*|cu\.SLAB_USBtoUART.*|cu\.wchusbserial.*|cu\.usbmodem.*)$/.test(f)) found.add("/dev/" + f);
    } catch {
      // no /dev: nothing more to add
    }
  }
  return [...found].sort();
}

function portsHint(ports: string[]): string {
  if (ports.length) return `serial ports found: ${ports.join(", ")} (or use tcp://<host>:23)`;
  return "no serial ports found: plug the board in with a data USB cable (not a charge-only one) and install its USB-serial driver (CP210x or CH340)";
}

async function noSuchPort(port: string): Promise<EspruinoCliError> {
  return new EspruinoCliError(`no such port ${port}`, portsHint(await listPorts()));
}

function groupOf(gid: number): string | undefined {
  try {
    for (const line of readFileSync("/etc/group", "utf8").split("\n")) {
      const f = line.split(":");
      if (Number(f[2]) === gid) return f[0];
    }
  } catch {
    // no /etc/group (macOS keeps groups elsewhere)
  }
  return undefined;
}

function permissionDenied(port: string): EspruinoCliError {
  let group = "dialout";
  try {
    group = groupOf(statSync(port).gid) ?? group;
  } catch {
    // keep the usual Linux group
  }
  const hint = platform() === "linux"
    ? `add yourself to the group that owns the port: sudo usermod -aG ${group} $USER, then log out and back in`
    : "check that your user may open the port";
  return new EspruinoCliError(`permission denied on ${port}`, hint);
}

/**
 * The CLI splits tcp://host:port at the first colon, so an IPv6 address makes it crash. Find out
 * what the user would want to know instead: whether anything listens there at all.
 */
async function ipv6Target(target: EspruinoTarget, host: string, port: number): Promise<EspruinoCliError> {
  const outcome = await new Promise<string>((resolve) => {
    const socket = net.connect({ host: host.replace(/^\[|\]$/g, ""), port });
    socket.setTimeout(5000, () => (socket.destroy(), resolve("ETIMEDOUT")));
    socket.once("connect", () => (socket.destroy(), resolve("connected")));
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
  });
  if (outcome === "ECONNREFUSED") return notAnswering(target, "connection refused", "");
  if (outcome === "EHOSTUNREACH" || outcome === "ENETUNREACH") return notAnswering(target, "host unreachable", "");
  if (outcome === "ETIMEDOUT") return notAnswering(target, "connection timed out", "");
  return new EspruinoCliError(`the espruino CLI cannot connect to an IPv6 address (${host})`, "use the board's IPv4 address, e.g. tcp://192.168.1.50:23");
}

/** Cheap local checks before the CLI runs: the device node exists and we may open it; an address the CLI can use. */
export async function checkPort(target: EspruinoTarget): Promise<void> {
  validateTarget(target);
  const port = target.port;
  if (isTcp(port)) {
    const { host, port: tcpPort } = parseTcp(port);
    if (host.includes(":")) throw await ipv6Target(target, host, tcpPort);
    return;
  }
  if (!port.startsWith("/")) return; // a Windows COM port: the CLI decides
  try {
    statSync(port);
  } catch {
    throw await noSuchPort(port);
  }
  try {
    accessSync(port, fsc.R_OK | fsc.W_OK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EACCES" || (e as NodeJS.ErrnoException).code === "EPERM") throw permissionDenied(port);
  }
}

/** True when `name` is an executable on PATH (what the serialport library spawns). */
function onPath(name: string): boolean {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    try {
      accessSync(join(dir, name), fsc.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** The device node exists, but the CLI does not list it among the serial ports it may open. */
async function unlistedPort(port: string): Promise<EspruinoCliError> {
  const message = `the espruino CLI does not list ${port} as a serial port`;
  // On Linux the serialport library lists ports with `udevadm info -e`; without udevadm it lists none.
  if (platform() === "linux" && !onPath("udevadm"))
    return new EspruinoCliError(message, "on Linux it lists ports with udevadm, which is not installed: install udev (sudo apt install udev)");
  const ports = await cliPorts();
  const listed = ports.length ? `it lists ${ports.join(", ")}` : "it lists no serial ports at all";
  return new EspruinoCliError(message,
    `${listed}; a board appears as a USB serial adapter (/dev/ttyUSB*, /dev/ttyACM*, COM*): plug it in with a data USB cable and install its driver (CP210x or CH340)`);
}

// ---------------------------------------------------------------------------------------------
// Failures

function notAnswering(target: EspruinoTarget, why: string, stdout: string): EspruinoCliError {
  if (isTcp(target.port))
    return new EspruinoCliError(`board not answering at ${target.port}: ${why}`,
      "check the address and that the board is on this network; Espruino's telnet console (port 23) is in the ESP32, ESP32-S3 and ESP8266_4MB builds, not in ESP8266 512K/1M or ESP32-C3 ones");
  // Bytes outside printable ASCII from a serial port are what a wrong baud rate looks like.
  const garbled = /[\x80-\xff]/.test(deviceLines(stdout).join(""));
  const baud = target.baud ?? DEFAULT_BAUD;
  return new EspruinoCliError(`board not answering on ${target.port}: ${why}`,
    (garbled ? `it sent unreadable bytes, which is what a wrong baud rate looks like (using ${baud}); ` : "") +
    `Espruino on ESP32/ESP8266 talks at 115200 baud${baud !== DEFAULT_BAUD ? ` (you asked for ${baud})` : ""}; ` +
    "if the board runs other firmware (Arduino, MicroPython, AT) flash Espruino itself first, see docs/flashing.md");
}

/** Turns what the CLI printed into the one error the user can act on, or undefined if nothing went wrong. */
export async function explainFailure(target: EspruinoTarget, r: CliResult, expectMarker: boolean): Promise<EspruinoCliError | undefined> {
  // The board answered: a connection reset after that is E.reboot() taking the telnet link down.
  if (expectMarker && readMarked(r.stdout) !== undefined) return undefined;
  const err = r.stderr;
  const port = target.port;
  if (/ECONNREFUSED/.test(err)) return notAnswering(target, "connection refused", r.stdout);
  if (/EHOSTUNREACH|ENETUNREACH/.test(err)) return notAnswering(target, "host unreachable", r.stdout);
  if (/ETIMEDOUT/.test(err)) return notAnswering(target, "connection timed out", r.stdout);
  if (/ECONNRESET/.test(err)) return notAnswering(target, "connection reset", r.stdout);
  if (/ENOTFOUND|EAI_AGAIN/.test(err))
    return new EspruinoCliError(`cannot resolve the host name in ${port}`, "use the board's IP address, e.g. tcp://192.168.1.50:23");
  if (/Permission denied|EACCES/.test(err)) return permissionDenied(port);
  if (/EBUSY|Resource busy|Cannot lock port/.test(err))
    return new EspruinoCliError(`${port} is in use by another program`, "close the Web IDE, Arduino serial monitor, screen or minicom that has it open");
  if (/Port .* not found/.test(err)) {
    let exists = false;
    try {
      statSync(port);
      exists = true;
    } catch {
      // absent
    }
    if (exists && !isTcp(port)) return unlistedPort(port);
    if (isTcp(port)) return new EspruinoCliError(`the espruino CLI cannot open ${port}`, "write it as tcp://<host>:<port>; run with --verbose to see the CLI's output");
    return noSuchPort(port);
  }
  if (r.timedOut) return notAnswering(target, "no reply in time", r.stdout);
  if (/Unable to connect/.test(err)) return notAnswering(target, "the connection could not be opened", r.stdout);
  if (expectMarker && readMarked(r.stdout) === undefined) {
    const uncaught = uncaughtError(r.stdout);
    if (uncaught) return reported(target, uncaught);
    return notAnswering(target, "no reply from Espruino", r.stdout);
  }
  return undefined;
}

/** An exception the board printed ("Uncaught Error: ..."), storage exhaustion singled out. */
function reported(target: EspruinoTarget, uncaught: string): EspruinoCliError {
  if (/Unable to find or create file|Not enough free space/.test(uncaught))
    return new EspruinoCliError(`not enough Storage on ${target.port}: the board reported ${uncaught}`,
      `free space with require("Storage").eraseAll() (erases everything, config included) or shrink the firmware`);
  return new EspruinoCliError(`${target.port}: the board reported ${uncaught}`, "run with --verbose to see the whole exchange");
}

async function run(target: EspruinoTarget, inv: Invocation, opts: StepOptions): Promise<CliResult> {
  await checkPort(target);
  const r = await runCli(target, inv, opts);
  const failure = await explainFailure(target, r, true);
  if (failure) throw failure;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Operations

/** Evaluates a JS expression on the board and returns its JSON value. */
export async function evaluate(target: EspruinoTarget, expr: string, opts: StepOptions = {}): Promise<{ value: unknown; steps: string[] }> {
  validateTarget(target);
  const inv = evalInvocation(target, printMarked(`(${expr})`), opts);
  if (opts.dryRun) return { value: undefined, steps: inv.steps };
  const r = await run(target, inv, opts);
  return { value: readMarked(r.stdout), steps: inv.steps };
}

function probeExpression(files: string[]): string {
  return "(function(){var S=require(\"Storage\"),t=S.getStats?S.getStats():{totalBytes:0,freeBytes:S.getFree(),trashBytes:0},n=" +
    JSON.stringify(files) + ",c={};n.forEach(function(f){var d=S.read(f);c[f]=d===undefined?-1:d.length});" +
    "return {b:process.env.BOARD,v:process.env.VERSION,t:t.totalBytes,f:t.freeBytes,x:t.trashBytes,c:c}})()";
}

/** Reads process.env.BOARD/VERSION, the Storage statistics and the sizes of `files` (to know what a rewrite frees). */
export async function probeBoard(target: EspruinoTarget, files: string[] = [BOOT_FILE], opts: StepOptions = {}): Promise<{ info?: BoardInfo; steps: string[] }> {
  const { value, steps } = await evaluate(target, probeExpression(files), opts);
  if (opts.dryRun) return { steps };
  const v = value as { b?: string; v?: string; t?: number; f?: number; x?: number; c?: Record<string, number> } | undefined;
  if (!v || typeof v.b !== "string")
    throw new EspruinoCliError(`the board on ${target.port} answered, but not with its process.env`, "it may run a very old Espruino: flash a current release (docs/flashing.md)");
  return { info: { board: v.b, version: v.v ?? "?", storage: { total: v.t ?? 0, free: v.f ?? 0, trash: v.x ?? 0 }, sizes: v.c ?? {} }, steps };
}

/**
 * Throws unless the files fit: each rewrite frees the old copy (it becomes trash, which the firmware
 * compacts when it must), and `headroom` bytes stay free for files the firmware writes itself.
 */
export function checkSpace(target: EspruinoTarget, info: BoardInfo, files: { name: string; size: number }[], headroom: number): void {
  const needed = files.reduce((n, f) => n + storageFootprint(f.size), 0) + headroom;
  const freed = files.reduce((n, f) => n + ((info.sizes[f.name] ?? -1) >= 0 ? storageFootprint(info.sizes[f.name]) : 0), 0);
  const available = info.storage.free + info.storage.trash + freed;
  if (needed <= available) return;
  const names = files.map((f) => `${f.name} (${kb(f.size)} bytes)`).join(", ");
  const total = info.storage.total;
  const msg = `not enough Storage on ${target.port}: ${names} plus ${kb(headroom)} bytes for the config need ${kb(needed)} bytes; ${kb(available)} of ${kb(total)} are available`;
  if (total && needed > total) {
    const hint = /^ESP8266/.test(info.board)
      ? `ESP8266 boards with 512 KB/1 MB flash have only 16 KB of Storage: use a 4 MB module with the ESP8266_4MB Espruino build (192 KB), or shrink the firmware`
      : `the bundle is larger than this board's whole Storage; shrink the firmware`;
    throw new EspruinoCliError(msg, hint);
  }
  throw new EspruinoCliError(msg, `other files use the space: list them with require("Storage").list(), erase what you do not need, or wipe everything with require("Storage").eraseAll()`);
}

function restartCode(how: Restart): string {
  return how === "load" ? "load()" : how === "reboot" ? "E.reboot()" : "";
}

/** The program sent after the uploads: erase, verify each file (length and CRC32), restart only if all arrived intact. */
function writeProgram(expected: Record<string, [number, number]>, erase: string[], restart: Restart): string[] {
  const lines = erase.map((n) => `require("Storage").erase(${JSON.stringify(n)});`);
  const go = restartCode(restart);
  lines.push(
    "(function(){var S=require(\"Storage\"),x=" + JSON.stringify(expected) + ",r={},ok=1;" +
    "for(var n in x){var d=S.read(n);r[n]=d===undefined?null:[d.length,E.CRC32?E.CRC32(d):x[n][1]];" +
    "if(!r[n]||r[n][0]!=x[n][0]||r[n][1]!=x[n][1])ok=0}" +
    `print(${MARKER_JS}+JSON.stringify({ok:ok,r:r}));` + (go ? `if(ok)${go}` : "") + "})();");
  return lines;
}

/**
 * Writes the files to Storage with the CLI's --storage upload, then erases `opts.erase`, verifies every
 * file (length and CRC32, on the board) and restarts it (default load()) only when all arrived intact.
 * With reset (default) the running program is stopped with reset() first. Returns the exact steps.
 */
export async function writeStorageFiles(target: EspruinoTarget, files: { name: string; content: string | Uint8Array }[], opts: WriteOptions = {}): Promise<string[]> {
  validateTarget(target);
  if (!files.length) throw new EspruinoCliError("no files to write", "pass at least one {name, content}");
  const erase = opts.erase ?? [];
  for (const f of files) validateStorageName(f.name);
  for (const n of erase) validateStorageName(n);
  const restart = opts.restart ?? "load";
  const reset = opts.reset ?? true;

  const staged: Staged[] = [{ file: "board.json", data: Buffer.from(BOARD_JSON) }];
  const expected: Record<string, [number, number]> = {};
  const storageArgs: string[] = [];
  const described: string[] = [];
  files.forEach((f, i) => {
    const data = typeof f.content === "string" ? Buffer.from(f.content, "latin1") : Buffer.from(f.content);
    if (data.length === 0)
      throw new EspruinoCliError(`${f.name} is empty`, "Espruino cannot create a zero-length Storage file; erase it instead");
    staged.push({ file: `file${i}`, data });
    storageArgs.push("--storage", `${f.name}:file${i}`);
    const crc = crc32(data);
    expected[f.name] = [data.length, crc];
    const chunks = Math.ceil(data.length / 1024);
    described.push(`${f.name} <- file${i}: ${kb(data.length)} bytes, CRC32 ${crc.toString(16).padStart(8, "0")}, sent as ${chunks} require("Storage").write() chunk${chunks === 1 ? "" : "s"}`);
  });
  const program = writeProgram(expected, erase, restart);
  const total = staged.reduce((n, s) => n + s.data.length, 0);
  const timeoutMs = opts.timeoutMs ?? WRITE_TIMEOUT_MS + Math.ceil(total / 1024) * WRITE_MS_PER_KB;

  let args: string[];
  const steps: string[] = [];
  if (reset) {
    staged.push({ file: "program.js", data: Buffer.from(program.join("\n") + "\n") });
    args = [...baseArgs(target, opts.verbose), ...storageArgs, "program.js"];
    steps.push(formatCommand(args), "  sends reset(), then:", ...described.map((d) => "  " + d), "  then program.js:", ...program.map((l) => "    " + l));
  } else {
    args = [...baseArgs(target, opts.verbose), ...storageArgs, "-e", program.join("\n")];
    steps.push(formatCommand(args), "  sends:", ...described.map((d) => "  " + d), "  then the -e program");
  }
  if (opts.dryRun) return steps;

  opts.log?.(`writing ${files.map((f) => f.name).join(", ")} to ${target.port}`);
  const r = await run(target, { args, staged, steps, timeoutMs }, opts);
  const uncaught = uncaughtError(r.stdout);
  const res = readMarked(r.stdout) as { ok?: number; r?: Record<string, [number, number] | null> } | undefined;
  if (!res || !res.ok) {
    if (uncaught) throw reported(target, uncaught);
    const bad = Object.entries(expected).filter(([n, [len, crc]]) => {
      const got = res?.r?.[n];
      return !got || got[0] !== len || got[1] !== crc;
    }).map(([n, [len]]) => `${n} arrived as ${res?.r?.[n] ? `${kb(res.r[n]![0])} bytes with another CRC32` : "nothing"} (expected ${kb(len)} bytes)`);
    throw new EspruinoCliError(`upload to ${target.port} was corrupted: ${bad.join("; ")}`,
      isTcp(target.port) ? "retry; if it keeps failing, flash over USB" : "retry with a shorter or better USB cable; the board was not restarted");
  }
  return steps;
}

/** Stores a firmware bundle as `.bootcde` (what `--storage .bootcde:-` and the Web IDE's "save to flash" produce). */
export function storeBundle(target: EspruinoTarget, bundle: string | Uint8Array, opts: WriteOptions = {}): Promise<string[]> {
  return writeStorageFiles(target, [{ name: BOOT_FILE, content: bundle }], opts);
}

/** Erases Storage files (missing ones are fine); restart "none" by default. */
export async function eraseStorageFiles(target: EspruinoTarget, names: string[], opts: StepOptions & { restart?: Restart } = {}): Promise<string[]> {
  validateTarget(target);
  for (const n of names) validateStorageName(n);
  const go = restartCode(opts.restart ?? "none");
  const program = names.map((n) => `require("Storage").erase(${JSON.stringify(n)});`).join("") + `print(${MARKER_JS}+"{}");` + go;
  const inv = evalInvocation(target, program, opts);
  if (opts.dryRun) return inv.steps;
  await run(target, inv, opts);
  return inv.steps;
}

/** Restarts the JS interpreter from Storage (load()) or the whole chip (E.reboot()). */
export async function restart(target: EspruinoTarget, how: Exclude<Restart, "none"> = "load", opts: StepOptions = {}): Promise<string[]> {
  validateTarget(target);
  // The marker makes the send longer than 19 characters, which the CLI needs to finish (see top).
  const inv = evalInvocation(target, `print(${MARKER_JS}+"{}");${restartCode(how)}`, opts);
  if (opts.dryRun) return inv.steps;
  await run(target, inv, opts);
  return inv.steps;
}

export function consoleCommand(target: EspruinoTarget): string[] {
  return ["-p", target.port, "-b", String(target.baud ?? DEFAULT_BAUD), "--no-ble", "--board", "board.json"];
}

/**
 * Streams the board's console (the CLI's terminal mode, our keyboard not forwarded) until `signal`
 * aborts. `restart` is typed into the first connection, so the boot output is seen from its start.
 * When the link drops (E.reboot() over tcp://, USB unplugged) it reconnects every 2 s.
 */
export async function streamConsole(target: EspruinoTarget, opts: { write: (text: string) => void; signal: AbortSignal; restart?: Restart; log?: (line: string) => void; verbose?: boolean }): Promise<void> {
  validateTarget(target);
  const cli = espruinoCli();
  const dir = mkdtempSync(join(tmpdir(), "espruino-edgent-"));
  writeFileSync(join(dir, "board.json"), BOARD_JSON);
  let child: ChildProcess | undefined;
  const kill = () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill();
  };
  opts.signal.addEventListener("abort", kill, { once: true });
  try {
    let announced = false;
    let lastNote = "";
    while (!opts.signal.aborted) {
      const connected = await new Promise<boolean>((resolve) => {
        // stdin stays an open pipe: on a closed stdin the CLI's terminal mode quits at once.
        child = spawn(process.execPath, [cli, ...consoleCommand(target)], { cwd: dir, stdio: ["pipe", "pipe", "pipe"], windowsHide: true, detached: platform() !== "win32" });
        let seenConnected = false;
        let head = "";
        child.stdout!.setEncoding("latin1");
        child.stdout!.on("data", (d: string) => {
          if (seenConnected) return opts.write(d.replace("No process.stdin.setRawMode() - Ctrl-C/etc won't function correctly\n", ""));
          head += d;
          const i = head.indexOf("Connected\n");
          if (i < 0) return;
          seenConnected = true;
          if (!announced) {
            opts.log?.(`console of ${target.port} (Ctrl-C to stop)`);
            const go = restartCode(opts.restart ?? "none");
            if (go) child!.stdin!.write(`\x10${go}\n`); // DLE: run without echo
          }
          announced = true;
          const rest = head.slice(i + "Connected\n".length).replace("No process.stdin.setRawMode() - Ctrl-C/etc won't function correctly\n", "");
          if (rest) opts.write(rest);
        });
        child.stderr!.setEncoding("latin1");
        const current = child;
        child.stderr!.on("data", (d: string) => {
          if (opts.verbose) opts.log?.("espruino! " + d.trim());
          if (FATAL_STDERR.test(d)) current.kill(); // refused, reset, port gone: the CLI would idle on
        });
        child.on("error", () => resolve(seenConnected));
        child.on("close", () => resolve(seenConnected));
      });
      if (opts.signal.aborted) break;
      const note = connected ? `console of ${target.port} closed; reconnecting (Ctrl-C to stop)` : `waiting for ${target.port} (Ctrl-C to stop)`;
      if (connected || note !== lastNote) opts.log?.(note);
      lastNote = note;
      await new Promise<void>((r) => {
        const done = () => {
          clearTimeout(t);
          opts.signal.removeEventListener("abort", done);
          r();
        };
        const t = setTimeout(done, RECONNECT_DELAY_MS);
        opts.signal.addEventListener("abort", done);
      });
    }
  } finally {
    opts.signal.removeEventListener("abort", kill);
    kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
