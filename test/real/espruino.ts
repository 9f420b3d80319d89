/**
 * Harness: run a firmware bundle on the real Espruino interpreter (LINUX build).
 *
 * The interpreter binary comes from the environment variable ESPRUINO_BIN.
 * Tests that need it call `requireEspruino(this)` (or check `espruinoBin()`)
 * and are skipped when it is not set.
 *
 * How a bundle is run, as the board would run it:
 *  1. A flash directory holds `espruino.flash` (the LINUX build's emulated
 *     Storage). A helper script run as `espruino helper.js` (which boots
 *     without running `.bootcde`) writes the bundle to the Storage file
 *     `.bootcde` and the test prelude (prelude.js + parameters) to `.boot0`,
 *     in 1 KB chunks, skipping files whose content is unchanged.
 *  2. `espruino -e <code>` (stdin: an idle pipe) does a full boot from that flash: `.boot0` (prelude:
 *     fake Wifi, port/cloud redirects, pin recorders) -> `.bootcde` (the
 *     firmware) -> E 'init' -> onInit -> <code>, which prints the boot memory.
 *  3. On E 'init' the prelude schedules a tiny line-based TCP eval server on a
 *     free port; `eval()` and `memory()` use it.
 *
 * Lines printed by the prelude start with "@@" and go to `events`, not to
 * `console`.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as dgram from "node:dgram";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { BOOT0_FILE, BOOT_FILE } from "../../shared/names.ts";

export const SKIP_MESSAGE = "ESPRUINO_BIN not set: skipping real-interpreter test";

/** process.env.ESPRUINO_BIN if it names an executable file. */
export function espruinoBin(): string | undefined {
  return executable(process.env.ESPRUINO_BIN);
}

/** Returns the path if it is an executable regular file. */
export function executable(p: string | undefined): string | undefined {
  if (!p) return undefined;
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile() ? p : undefined;
  } catch {
    return undefined;
  }
}

/**
 * For mocha tests (in `it` or `beforeEach`): returns the binary, or skips the
 * test with SKIP_MESSAGE added to its title.
 */
export function requireEspruino(ctx: Mocha.Context): string {
  const bin = espruinoBin();
  if (!bin) {
    const t = ctx.currentTest ?? ctx.test;
    if (t && !t.title.includes(SKIP_MESSAGE)) t.title += ` (${SKIP_MESSAGE})`;
    ctx.skip();
  }
  return bin as string;
}

export type Chip = "ESP32" | "ESP8266";

export interface WifiNetwork {
  ssid: string;
  password: string; // "" = open network
  rssi: number;
  channel: number;
  authMode?: "open" | "wep" | "wpa" | "wpa2" | "wpa_wpa2"; // default: "wpa2", or "open" without password
  bssid?: string; // "aa:bb:cc:dd:ee:ff"
  hidden?: boolean; // scanned with an empty ssid
}

export interface RealDeviceOptions {
  /** path to the firmware bundle (dist/<board>.js) */
  bundle: string;
  chip: Chip;
  /** STA MAC, "aa:bb:cc:dd:ee:ff" (also accepts "aabbccddeeff"); getSerial() is derived from it */
  mac?: string;
  /** networks the fake Wifi can see and join */
  networks?: WifiNetwork[];
  /** where the firmware's connections to blynk.cloud (and subdomains) go; plain TCP, also for tls/https */
  cloud?: { host: string; port: number };
  /** reuse a flash between runs (kept after stop); default: a fresh temp dir */
  flashDir?: string;
  /** ES5 code appended to the prelude (runs in .boot0 before the firmware) */
  extraPrelude?: string;

  // ---- extras
  /** interpreter binary; default espruinoBin() */
  bin?: string;
  /** process.env.BOARD inside the device; default "ESP32" / "ESP8266_4MB" */
  board?: string;
  /** device TCP ports to remap to free host ports; default [80] */
  tcpPorts?: number[];
  /** device UDP ports to remap; default [53] */
  udpPorts?: number[];
  /** host names redirected to `cloud` (each also matches its subdomains); default ["blynk.cloud"] */
  cloudHosts?: string[];
  /** ESP32 Wifi.connect failure: "2v29" (default, released firmware) never calls the callback,
   *  "2v30" (newer source) calls it with the reason string */
  espruinoVersion?: "2v29" | "2v30";
  /** fake Wifi delays in ms; retry = ESP8266 background reconnect interval (0 = off) */
  timing?: { connect?: number; scan?: number; ap?: number; retry?: number };
  /** replace the pin functions (digitalWrite, setWatch, Pin.prototype.*...) with recorders; default true.
   *  false keeps the LINUX build's own (no-op) pin functions and saves RAM */
  pins?: boolean;
  /** print pin writes as events (-> pinLog); default true */
  tracePins?: boolean;
  /** apply Storage ".wificfg" after boot like the real firmware (Wifi.restore); default true */
  autoRestore?: boolean;
  /** ESP8266.getResetInfo().reason; default "power on" */
  resetReason?: string;
  /** restart the interpreter (same flash and ports) when the firmware calls E.reboot(); default true */
  restartOnReboot?: boolean;
  /** start the eval server (needed for eval()/memory()); default true */
  debug?: boolean;
  /** if set, print process.memory() this many ms after boot (event "SETTLED {...}") */
  settleMs?: number;
  /** extra Storage files written before boot (string = one char per byte) */
  files?: Record<string, string | Uint8Array>;
  /** timeout for the boot (and the eval server) in ms; default 15000 */
  bootTimeoutMs?: number;
  /** use prelude-lean.js, the prelude that needs the least RAM (for ESPRUINO_BIN_1600): ESP8266 only, no pin
   *  recorders (`pins`, `tracePins`, `autoRestore`, `espruinoVersion`, `resetReason` do not apply), no
   *  setNetworks/dropLink/staJoin/setInput/pinValue; the eval server only with `debug` (default true), and
   *  eval() opens a connection per call (no RAM held between calls, no lifeline connection) */
  lean?: boolean;
  /** JsVars the prelude holds for the whole run (lean prelude only): a firmware that still works with
   *  ballast N had at least N JsVars free at its tightest point */
  ballast?: number;
}

export interface MemoryInfo {
  usage: number;
  total: number;
  free: number;
  blocksize?: number;
  [k: string]: unknown;
}

export interface PinEvent {
  pin: string;
  value: string;
  t: number; // Date.now()
}

/** Thrown by RealDevice.start when the interpreter exits or times out during boot. */
export class DeviceBootError extends Error {
  constructor(
    message: string,
    readonly console: string[],
    readonly events: string[],
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

const PRELUDE_PATH = fileURLToPath(new URL("./prelude.js", import.meta.url));
const LEAN_PRELUDE_PATH = fileURLToPath(new URL("./prelude-lean.js", import.meta.url));
const DEFAULT_MAC: Record<Chip, string> = { ESP32: "24:0a:c4:00:12:34", ESP8266: "5c:cf:7f:00:12:34" };
const BOOT_CODE =
  'print("@@BOOTED "+JSON.stringify(process.memory()));' +
  "if(global.__settleMs)setTimeout(function(){print(\"@@SETTLED \"+JSON.stringify(process.memory()));},__settleMs);";

function normMac(mac: string): string {
  const hex = mac.toLowerCase().replace(/[^0-9a-f]/g, "");
  if (hex.length !== 12) throw new Error(`bad MAC address: ${mac}`);
  return hex.match(/../g)!.join(":");
}

function macBytes(mac: string): number[] {
  return mac.split(":").map((h) => parseInt(h, 16));
}

function macString(b: number[]): string {
  return b.map((x) => (x & 255).toString(16).padStart(2, "0")).join(":");
}

/** JSON with every non-ASCII character escaped (the interpreter gets plain ASCII). */
function asciiJSON(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket("udp4");
    s.once("error", reject);
    s.bind(0, () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/** The lean prelude's networks in range (its Storage file "lean.nets"): one JSON object per line. */
function leanNetworks(list: WifiNetwork[]): string {
  return list
    .map((n, i) => asciiJSON({ s: n.ssid, p: n.password, r: n.rssi, c: n.channel, a: n.authMode || (n.password ? "wpa2" : "open"), h: n.hidden ? 1 : 0, b: n.bssid || "02:00:00:00:" + (i >> 8).toString(16).padStart(2, "0") + ":" + (i & 255).toString(16).padStart(2, "0") }) + "\n")
    .join("");
}

/** Clean one line of interpreter output: CR, the prompt and "clear line" escapes. */
function cleanLine(raw: string): string {
  let l = raw.replace(/\r/g, "");
  const i = l.lastIndexOf("\x1b[J");
  if (i >= 0) l = l.slice(i + 3);
  return l;
}

const live = new Set<RealDevice>();
const tempDirs = new Set<string>();
process.on("exit", () => {
  for (const d of live) d.kill();
  for (const t of tempDirs) {
    try {
      fs.rmSync(t, { recursive: true, force: true });
    } catch {
      /* ignore */
    }
  }
});

interface Waiter {
  re: RegExp;
  list: "console" | "events";
  resolve: (line: string) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface Pending {
  resolve: (s: string) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Runs `espruino <script>` (no .bootcde) in dir and returns stdout; throws on failure. */
function runHelper(bin: string, dir: string, script: string, what: string): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "espruino-helper-"));
  try {
    const file = path.join(tmp, "helper.js");
    // cancel whatever an old .boot0 scheduled, so the helper run ends after the script
    fs.writeFileSync(file, 'clearTimeout();\nif (global.__sim && __sim.call) __sim.call("stop", []);\n' + script);
    const r = spawnSync(bin, [file], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60000,
      maxBuffer: 64 * 1024 * 1024,
      encoding: "latin1",
    });
    const out = r.stdout ?? "";
    if (r.error || r.status !== 0) {
      throw new Error(
        `${what} failed (status ${r.status}${r.error ? ", " + r.error.message : ""}):\n${out.split("\n").slice(-30).join("\n")}\n${r.stderr ?? ""}`,
      );
    }
    return out;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The Espruino code of a helper that copies host files into Storage (chunked, skips identical files). */
function installScript(files: { name: string; path: string; size: number }[]): string {
  const lines = [
    'var S = require("Storage");',
    "var put = function (name, path, size) {",
    "  var old = S.read(name), f, c, off = 0, same = old !== undefined && old.length === size;",
    "  if (!size) { if (old !== undefined) S.erase(name); return; }",
    '  if (same) { f = E.openFile(path, "r");',
    "    while (same && (c = f.read(1024)) !== undefined && c.length) { if (old.substr(off, c.length) !== c) same = false; off += c.length; }",
    "    f.close(); }",
    '  if (same) { print("@@SAME " + name); return; }',
    "  if (old !== undefined) S.erase(name);",
    "  old = undefined; off = 0;",
    '  f = E.openFile(path, "r");',
    "  while ((c = f.read(1024)) !== undefined && c.length) { S.write(name, c, off, size); off += c.length; }",
    "  f.close();",
    '  if (off !== size) throw new Error("short write " + name + " " + off + "/" + size);',
    '  print("@@WROTE " + name + " " + off);',
    "};",
  ];
  for (const f of files) lines.push(`put(${asciiJSON(f.name)}, ${asciiJSON(f.path)}, ${f.size});`);
  lines.push('print("@@INSTALLED");');
  return lines.join("\n") + "\n";
}

export class RealDevice {
  /** console lines printed by the interpreter (banner, prompts and "@@" events removed) */
  readonly console: string[] = [];
  /** harness events printed by the prelude, without the "@@" prefix (e.g. "WIFI connect \"Home\"") */
  readonly events: string[] = [];
  /** pin writes recorded by the prelude (tracePins) */
  readonly pinLog: PinEvent[] = [];
  /** stderr of the interpreter */
  readonly stderr: string[] = [];
  /** process.memory() printed right after boot (latest boot) */
  bootMemory?: MemoryInfo;
  /** process.memory() printed settleMs after boot (if settleMs was given) */
  settledMemory?: MemoryInfo;
  /** number of interpreter restarts caused by E.reboot() */
  reboots = 0;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;

  private child?: ChildProcess;
  private partial = "";
  private inBanner = false;
  private waiters: Waiter[] = [];
  private stopping = false;
  private booted = false;
  private exitListeners: (() => void)[] = [];
  private dbgSock?: net.Socket;
  private dbgBuf = "";
  private dbgQueue: Pending[] = [];
  private dbgConnecting?: Promise<net.Socket>;
  private ready: Promise<void> = Promise.resolve();
  private lifeline?: net.Socket;

  private constructor(
    readonly opts: RealDeviceOptions,
    readonly bin: string,
    /** the directory holding espruino.flash (cwd of the interpreter) */
    readonly dir: string,
    private readonly ownsDir: boolean,
    readonly ports: { tcp: Record<number, number>; udp: Record<number, number>; debug: number },
  ) {}

  static async start(opts: RealDeviceOptions): Promise<RealDevice> {
    const bin = opts.bin ?? espruinoBin();
    if (!bin) throw new Error(SKIP_MESSAGE);
    if (!fs.existsSync(opts.bundle)) throw new Error(`bundle not found: ${opts.bundle}`);
    let dir: string;
    let ownsDir = false;
    if (opts.flashDir) {
      dir = path.resolve(opts.flashDir);
      fs.mkdirSync(dir, { recursive: true });
    } else {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "espruino-dev-"));
      ownsDir = true;
      tempDirs.add(dir);
    }
    const ports = { tcp: {} as Record<number, number>, udp: {} as Record<number, number>, debug: 0 };
    for (const p of opts.tcpPorts ?? [80]) ports.tcp[p] = await freeTcpPort();
    for (const p of opts.udpPorts ?? [53]) ports.udp[p] = await freeUdpPort();
    ports.debug = opts.debug === false ? 0 : await freeTcpPort();
    const dev = new RealDevice(opts, bin, dir, ownsDir, ports);
    dev.install();
    live.add(dev);
    try {
      await dev.spawn();
    } catch (e) {
      dev.kill();
      live.delete(dev);
      throw e;
    }
    return dev;
  }

  /** The prelude as stored in .boot0 (prelude.js with its parameters filled in). */
  preludeText(): string {
    const o = this.opts;
    const mac = normMac(o.mac ?? DEFAULT_MAC[o.chip]);
    const b = macBytes(mac);
    // ESP32: AP MAC = base + 1; ESP8266: AP MAC = STA MAC with the locally-administered bit
    const apMac = o.chip === "ESP32" ? macString([...b.slice(0, 5), b[5] + 1]) : macString([b[0] | 2, ...b.slice(1)]);
    const hex = mac.replace(/:/g, "");
    const cfg = {
      chip: o.chip,
      board: o.board ?? (o.chip === "ESP32" ? "ESP32" : "ESP8266_4MB"),
      serial: hex.slice(0, 8) + "-" + hex.slice(8),
      mac,
      apMac,
      staIp: "192.168.1.50",
      staGw: "192.168.1.1",
      apIp: "192.168.4.1",
      networks: o.networks ?? [],
      cloud: o.cloud ?? null,
      cloudHosts: o.cloudHosts ?? ["blynk.cloud"],
      cloudIp: "203.0.113.10",
      ports: { tcp: this.ports.tcp, udp: this.ports.udp },
      debugPort: this.ports.debug,
      timing: { connect: 200, scan: 300, ap: 20, retry: 2000, ...o.timing },
      version: o.espruinoVersion ?? "2v29",
      tracePins: o.tracePins ?? true,
      pins: o.pins ?? true,
      autoRestore: o.autoRestore ?? true,
      resetReason: o.resetReason ?? "power on",
    };
    if (o.lean) return this.leanPreludeText(cfg);
    if (o.ballast) throw new Error("ballast needs the lean prelude (lean: true)");
    const src = fs.readFileSync(PRELUDE_PATH, "utf8");
    if (!src.includes("(__CFG__)")) throw new Error("prelude.js has no (__CFG__) placeholder");
    // a function returning the literal: the object only exists in RAM while used
    let text = src.replace("(__CFG__)", () => "(function () { return " + asciiJSON(cfg) + "; })");
    if (o.settleMs !== undefined) text += `\nglobal.__settleMs = ${Number(o.settleMs)};\n`;
    if (o.extraPrelude) text += "\n" + o.extraPrelude + "\n";
    return text;
  }

  /** prelude-lean.js with every __C_name__ token replaced by its value (constants in the code text cost no RAM). */
  private leanPreludeText(cfg: {
    chip: Chip; serial: string; mac: string; apMac: string; staIp: string; staGw: string; apIp: string; networks: WifiNetwork[];
    cloud: { host: string; port: number } | null; cloudHosts: string[]; cloudIp: string;
    ports: { tcp: Record<number, number>; udp: Record<number, number> }; debugPort: number; timing: { connect: number; scan: number };
  }): string {
    const o = this.opts;
    if (cfg.chip !== "ESP8266") throw new Error("the lean prelude fakes an ESP8266 only (chip: \"ESP8266\")");
    const ballast = Math.max(0, Math.floor(o.ballast ?? 0));
    const values: Record<string, unknown> = {
      serial: cfg.serial, mac: cfg.mac, apMac: cfg.apMac, staIp: cfg.staIp, staGw: cfg.staGw, apIp: cfg.apIp,
      cloud: cfg.cloud, cloudHosts: cfg.cloudHosts, cloudIp: cfg.cloudIp,
      tcp: cfg.ports.tcp, udp: cfg.ports.udp, debugPort: cfg.debugPort, connectMs: cfg.timing.connect, scanMs: cfg.timing.scan, ballast,
    };
    let text = fs.readFileSync(LEAN_PRELUDE_PATH, "utf8").replace(/__C_(\w+)__/g, (m, k: string) => {
      if (!(k in values)) throw new Error(`prelude-lean.js: unknown setting ${m}`);
      return "(" + asciiJSON(values[k]) + ")";
    });
    if (o.settleMs !== undefined) text += `\nglobal.__settleMs = ${Number(o.settleMs)};\n`;
    if (o.extraPrelude) text += "\n" + o.extraPrelude + "\n";
    return text;
  }

  private install(): void {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "espruino-install-"));
    try {
      const files: { name: string; path: string; size: number }[] = [];
      const add = (name: string, data: Buffer) => {
        const p = path.join(tmp, `f${files.length}`);
        fs.writeFileSync(p, data);
        files.push({ name, path: p, size: data.length });
      };
      add(BOOT0_FILE, Buffer.from(this.preludeText(), "utf8"));
      if (this.opts.lean) add("lean.nets", Buffer.from(leanNetworks(this.opts.networks ?? []), "latin1"));
      add(BOOT_FILE, fs.readFileSync(this.opts.bundle));
      for (const [name, data] of Object.entries(this.opts.files ?? {})) {
        add(name, typeof data === "string" ? Buffer.from(data, "latin1") : Buffer.from(data));
      }
      const out = runHelper(this.bin, this.dir, installScript(files), "writing Storage");
      if (!out.includes("@@INSTALLED")) throw new Error(`writing Storage failed:\n${out}`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  private spawn(): Promise<void> {
    this.ready = this.spawnAndBoot();
    this.ready.catch(() => undefined);
    return this.ready;
  }

  private spawnAndBoot(): Promise<void> {
    this.booted = false;
    this.exitCode = null;
    this.exitSignal = null;
    this.partial = "";
    // stdin is a pipe that stays open and silent: with </dev/null the LINUX build's input
    // thread sees EOF as "readable" and keeps pushing junk characters into the console
    // (extra CPU, occasional "New interpreter error: FIFO_FULL")
    // Without the lifeline connection (no eval server, or the lean prelude): where util-linux setpriv exists,
    // the interpreter gets SIGKILL when the test process dies instead (setpriv execs it: same pid, same exit code)
    const args = ["-e", BOOT_CODE];
    const orphanGuard = this.opts.debug === false || this.opts.lean ? setprivPath() : undefined;
    const child = orphanGuard
      ? spawn(orphanGuard, ["--pdeathsig", "KILL", "--", this.bin, ...args], { cwd: this.dir, stdio: ["pipe", "pipe", "pipe"] })
      : spawn(this.bin, args, { cwd: this.dir, stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    child.stdout!.setEncoding("latin1");
    child.stdout!.on("data", (d: string) => this.onData(d));
    child.stderr!.setEncoding("latin1");
    child.stderr!.on("data", (d: string) => {
      for (const l of d.split("\n")) if (l.trim()) this.stderr.push(l);
    });
    child.on("exit", (code, signal) => this.onExit(child, code, signal));
    const timeout = this.opts.bootTimeoutMs ?? 15000;
    const ready = this.opts.debug === false ? /^BOOTED / : /^DEBUG /;
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        reject(
          new DeviceBootError(
            `${why}\n--- console ---\n${this.console.slice(-40).join("\n")}\n--- stderr ---\n${this.stderr.slice(-10).join("\n")}`,
            this.console.slice(),
            this.events.slice(),
            this.exitCode,
          ),
        );
      };
      const since = this.events.length;
      this.waitFor(ready, timeout, since, "events").then(
        () => resolve(),
        () =>
          fail(
            this.exitCode !== null || this.exitSignal
              ? `interpreter exited during boot (code ${this.exitCode}, signal ${this.exitSignal})`
              : `device did not finish booting within ${timeout} ms`,
          ),
      );
    });
  }

  private onData(d: string): void {
    this.partial += d;
    let i: number;
    while ((i = this.partial.indexOf("\n")) >= 0) {
      const raw = this.partial.slice(0, i);
      this.partial = this.partial.slice(i + 1);
      this.onLine(cleanLine(raw));
    }
  }

  private onLine(l: string): void {
    if (this.inBanner) {
      if (l.includes("espruino.com/Donate")) this.inBanner = false;
      return;
    }
    if (l.startsWith(" ____") && this.console.length === 0) {
      this.inBanner = true;
      return;
    }
    if (l.startsWith("@@")) {
      const e = l.slice(2);
      this.events.push(e);
      if (e.startsWith("PIN ")) {
        const m = /^PIN (\S+) (.*)$/.exec(e);
        if (m) this.pinLog.push({ pin: m[1], value: m[2], t: Date.now() });
      } else if (e.startsWith("BOOTED ")) {
        this.booted = true;
        this.bootMemory = JSON.parse(e.slice(7)) as MemoryInfo;
      } else if (e.startsWith("SETTLED ")) {
        this.settledMemory = JSON.parse(e.slice(8)) as MemoryInfo;
      } else if (e.startsWith("DEBUG ") && !this.opts.lean) {
        this.connectLifeline();
      }
      this.check("events", e);
      return;
    }
    this.console.push(l);
    this.check("console", l);
  }

  private check(list: "console" | "events", line: string): void {
    for (const w of this.waiters.slice()) {
      if (w.list === list && w.re.test(line)) {
        this.removeWaiter(w);
        w.resolve(line);
      }
    }
  }

  private removeWaiter(w: Waiter): void {
    clearTimeout(w.timer);
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    if (this.partial) {
      const l = cleanLine(this.partial);
      this.partial = "";
      if (l && l !== ">") this.onLine(l);
    }
    this.exitCode = code;
    this.exitSignal = signal;
    this.child = undefined;
    this.lifeline?.destroy();
    this.lifeline = undefined;
    this.closeDebug(new Error(`device exited (code ${code}, signal ${signal})`));
    // E.reboot() on LINUX: 'kill' handlers, then exit(1). Start again like a rebooted board.
    if (!this.stopping && this.booted && code === 1 && (this.opts.restartOnReboot ?? true)) {
      this.reboots++;
      this.spawn().catch(() => this.failWaiters());
      return;
    }
    live.delete(this);
    this.failWaiters();
    for (const f of this.exitListeners.splice(0)) f();
  }

  private failWaiters(): void {
    if (this.child) return;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(`device exited (code ${this.exitCode}, signal ${this.exitSignal}) while waiting for ${w.re}`));
    }
  }

  /** true while the interpreter process runs */
  get running(): boolean {
    return this.child !== undefined;
  }

  private waitFor(re: RegExp, timeoutMs: number, from: number, list: "console" | "events"): Promise<string> {
    const lines = list === "console" ? this.console : this.events;
    for (let i = Math.max(0, from); i < lines.length; i++) if (re.test(lines[i])) return Promise.resolve(lines[i]);
    if (!this.child) return Promise.reject(new Error(`device is not running (waiting for ${re})`));
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        re,
        list,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.removeWaiter(w);
          reject(new Error(`timeout after ${timeoutMs} ms waiting for ${re} in ${list}; last lines:\n${lines.slice(-15).join("\n")}`));
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
  }

  /** Resolves with the first console line (from index `from`, default 0 = all output so far) matching re. */
  waitForLog(re: RegExp, timeoutMs: number, from = 0): Promise<string> {
    return this.waitFor(re, timeoutMs, from, "console");
  }

  /** Like waitForLog, for prelude events (e.g. /^WIFI connected/, /^LISTEN tcp 80/, /^CLOUD /). */
  waitForEvent(re: RegExp, timeoutMs: number, from = 0): Promise<string> {
    return this.waitFor(re, timeoutMs, from, "events");
  }

  /** Console lines that look like interpreter errors (Uncaught ..., OUT OF MEMORY, interpreter errors). */
  errors(): string[] {
    return this.console.filter((l) => /^Uncaught |OUT OF MEMORY|LOW.MEMORY|New interpreter error|^Execution Interrupted|^ASSERT\(/.test(l));
  }

  /** Host port that the firmware's listen(devicePort) ended up on. */
  httpPort(devicePort = 80): number {
    const p = this.ports.tcp[devicePort];
    if (!p) throw new Error(`device TCP port ${devicePort} is not remapped (add it to tcpPorts)`);
    return p;
  }

  /** Host port that the firmware's dgram bind(devicePort) ended up on. */
  udpPort(devicePort = 53): number {
    const p = this.ports.udp[devicePort];
    if (!p) throw new Error(`device UDP port ${devicePort} is not remapped (add it to udpPorts)`);
    return p;
  }

  private async connectDebug(): Promise<net.Socket> {
    if (this.dbgSock) return this.dbgSock;
    await this.ready; // e.g. still booting again after E.reboot()
    if (this.dbgConnecting) return this.dbgConnecting;
    if (!this.ports.debug) return Promise.reject(new Error("eval() needs the debug server (debug: false was given)"));
    if (!this.child) return Promise.reject(new Error("device is not running"));
    this.dbgConnecting = new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(this.ports.debug, "127.0.0.1");
      s.setEncoding("latin1");
      s.once("connect", () => {
        this.dbgSock = s;
        this.dbgBuf = "";
        this.dbgConnecting = undefined;
        resolve(s);
      });
      s.on("data", (d: string) => {
        this.dbgBuf += d;
        let i: number;
        while ((i = this.dbgBuf.indexOf("\n")) >= 0) {
          const line = this.dbgBuf.slice(0, i);
          this.dbgBuf = this.dbgBuf.slice(i + 1);
          const p = this.dbgQueue.shift();
          if (!p) continue;
          clearTimeout(p.timer);
          if (line[0] === "1") p.resolve(line.slice(1));
          else p.reject(new Error(`device eval error: ${safeParse(line.slice(1))}`));
        }
      });
      s.on("error", (e) => {
        if (this.dbgConnecting) {
          this.dbgConnecting = undefined;
          reject(e);
        }
        this.closeDebug(e);
      });
      s.on("close", () => this.closeDebug(new Error("debug connection closed")));
    });
    return this.dbgConnecting;
  }

  /**
   * A connection the device quits on when it closes, so an interpreter does not
   * outlive a test process that was killed (Ctrl-C) before stop(). Unref'd: it
   * does not keep node running. Renewed whenever the eval server (re)starts.
   */
  private connectLifeline(): void {
    this.lifeline?.destroy();
    const s = net.connect(this.ports.debug, "127.0.0.1");
    s.on("error", () => undefined);
    s.write(JSON.stringify("@@lifeline") + "\n");
    s.unref();
    this.lifeline = s;
  }

  private closeDebug(err: Error): void {
    const s = this.dbgSock;
    this.dbgSock = undefined;
    if (s) s.destroy();
    for (const p of this.dbgQueue.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  /**
   * Evaluates `expr` in the running interpreter and resolves with
   * JSON.stringify(result) as produced by Espruino ("undefined" for undefined).
   * Rejects with the device's error text if it throws.
   * Espruino's eval runs in the scope of the calling function, so `var x` and
   * function declarations stay local to one eval: create globals by plain
   * assignment (`x = 1`, `f = function () {}`).
   */
  async eval(expr: string, timeoutMs = 5000): Promise<string> {
    if (this.opts.lean) return this.evalOnce(expr, timeoutMs);
    const s = await this.connectDebug();
    return new Promise<string>((resolve, reject) => {
      const p: Pending = {
        resolve,
        reject,
        timer: setTimeout(() => {
          // the protocol is strictly ordered: drop the connection so later answers cannot be mismatched
          this.closeDebug(new Error(`eval timeout after ${timeoutMs} ms: ${expr}`));
        }, timeoutMs),
      };
      this.dbgQueue.push(p);
      s.write(asciiJSON(expr) + "\n");
    });
  }

  /** eval() over a connection of its own, closed after the answer (lean prelude: the device holds no connection between calls). */
  private async evalOnce(expr: string, timeoutMs: number): Promise<string> {
    await this.ready;
    if (!this.ports.debug) throw new Error("eval() needs the debug server (debug: false was given)");
    if (!this.child) throw new Error("device is not running");
    return new Promise<string>((resolve, reject) => {
      const s = net.connect(this.ports.debug, "127.0.0.1");
      let buf = "";
      const done = (f: () => void) => {
        clearTimeout(timer);
        s.destroy();
        f();
      };
      const timer = setTimeout(() => done(() => reject(new Error(`eval timeout after ${timeoutMs} ms: ${expr}`))), timeoutMs);
      s.setEncoding("latin1");
      s.on("connect", () => s.write(asciiJSON(expr) + "\n"));
      s.on("data", (d: string) => {
        buf += d;
        const i = buf.indexOf("\n");
        if (i < 0) return;
        const line = buf.slice(0, i);
        if (line[0] === "1") done(() => resolve(line.slice(1)));
        else done(() => reject(new Error(`device eval error: ${safeParse(line.slice(1))}`)));
      });
      s.on("error", (e) => done(() => reject(e)));
      s.on("close", () => done(() => reject(new Error(`debug connection closed before the answer: ${expr}`))));
    });
  }

  /** eval() and JSON.parse the answer (undefined for undefined). */
  async evalJSON<T = unknown>(expr: string, timeoutMs = 5000): Promise<T> {
    const r = await this.eval(expr, timeoutMs);
    return (r === "undefined" ? undefined : JSON.parse(r)) as T;
  }

  private needFullPrelude(what: string): void {
    if (this.opts.lean) throw new Error(`${what}() needs the full prelude (the device was started with lean: true)`);
  }

  /** process.memory() inside the device (this runs a garbage collection). */
  async memory(): Promise<MemoryInfo> {
    return this.evalJSON<MemoryInfo>("process.memory()");
  }

  /** Drive an input pin, firing matching setWatch handlers: setInput("D0", 1) (needs pins: true). */
  async setInput(pin: string, value: 0 | 1 | boolean): Promise<void> {
    this.needFullPrelude("setInput");
    await this.eval(`__sim.pin("setInput",[${JSON.stringify(pin)},${value ? 1 : 0}])`);
  }

  /** Last value written to a pin by the firmware ("D2" -> 1), undefined if never written. */
  async pinValue(pin: string): Promise<number | undefined> {
    this.needFullPrelude("pinValue");
    return this.evalJSON<number | undefined>(`(__sim.pins[${JSON.stringify(pin)}]||{}).value`);
  }

  /** Replace the networks the fake Wifi can see (scan/connect/background retries). */
  async setNetworks(networks: WifiNetwork[]): Promise<void> {
    this.needFullPrelude("setNetworks");
    await this.eval(`__sim.call("setNetworks",[${asciiJSON(networks)}])`);
  }

  /** Drop the STA link (reason code, default 200 = beacon timeout); false if not connected. */
  async dropLink(code = 200): Promise<boolean> {
    this.needFullPrelude("dropLink");
    return this.evalJSON<boolean>(`__sim.call("dropLink",[${code}])`);
  }

  /** A phone joins / leaves the device's AP (sta_joined / sta_left events). */
  async staJoin(mac: string): Promise<void> {
    this.needFullPrelude("staJoin");
    await this.eval(`__sim.call("staJoin",[${JSON.stringify(mac)}])`);
  }

  async staLeave(mac: string): Promise<void> {
    this.needFullPrelude("staLeave");
    await this.eval(`__sim.call("staLeave",[${JSON.stringify(mac)}])`);
  }

  /** Kills the interpreter (SIGTERM, then SIGKILL). Storage stays in `dir`. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child) return;
    const done = new Promise<void>((r) => this.exitListeners.push(r));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 3000);
    await done;
    clearTimeout(t);
  }

  /** Immediate SIGKILL (used at process exit). */
  kill(): void {
    this.stopping = true;
    this.child?.kill("SIGKILL");
  }

  /** Stops (if needed) and boots again from the same flash (unchanged) and ports, like a power cycle. */
  async restart(): Promise<void> {
    await this.stop();
    this.stopping = false;
    live.add(this);
    await this.spawn();
  }

  /** Removes the temp flash dir (not a user-given flashDir). */
  async cleanup(): Promise<void> {
    await this.stop();
    if (this.ownsDir) {
      fs.rmSync(this.dir, { recursive: true, force: true });
      tempDirs.delete(this.dir);
    }
  }

  /**
   * Reads a Storage file as a binary string (one char per byte, Espruino semantics), or undefined.
   * While running this goes through eval(); after stop() it runs the interpreter on the flash file.
   */
  async readStorage(name: string): Promise<string | undefined> {
    const b = await this.readStorageBuffer(name);
    return b === undefined ? undefined : b.toString("latin1");
  }

  async readStorageBuffer(name: string): Promise<Buffer | undefined> {
    const code =
      `var s = require("Storage").read(${asciiJSON(name)});\n` +
      'if (s === undefined) print("@@NONE"); else for (var i = 0; i < s.length; i += 768) print("@@B64 " + btoa(s.substr(i, 768)));\n' +
      'print("@@END");\n';
    if (this.child && this.ports.debug) {
      const n = await this.evalJSON<number | null>(
        `(function(){var s=require("Storage").read(${asciiJSON(name)});return s===undefined?null:s.length;})()`,
      );
      if (n === null) return undefined;
      const parts: Buffer[] = [];
      for (let i = 0; i < n; i += 6144) {
        const b64 = await this.evalJSON<string>(`btoa(require("Storage").read(${asciiJSON(name)},${i},${Math.min(6144, n - i)}))`);
        parts.push(Buffer.from(b64, "base64"));
      }
      return Buffer.concat(parts);
    }
    const out = runHelper(this.bin, this.dir, code, `reading Storage ${name}`);
    const lines = out.split("\n").map(cleanLine);
    if (!lines.includes("@@END")) throw new Error(`reading Storage ${name} failed:\n${out}`);
    if (lines.includes("@@NONE")) return undefined;
    return Buffer.concat(lines.filter((l) => l.startsWith("@@B64 ")).map((l) => Buffer.from(l.slice(6), "base64")));
  }

  /** Storage file names (after stop: runs the interpreter on the flash file). */
  async listStorage(): Promise<string[]> {
    if (this.child && this.ports.debug) return this.evalJSON<string[]>('require("Storage").list()');
    const out = runHelper(this.bin, this.dir, 'print("@@LIST " + JSON.stringify(require("Storage").list()));\n', "listing Storage");
    const l = out.split("\n").map(cleanLine).find((x) => x.startsWith("@@LIST "));
    if (!l) throw new Error(`listing Storage failed:\n${out}`);
    return JSON.parse(l.slice(7)) as string[];
  }
}

let setprivCache: string | null | undefined;
/** util-linux setpriv (for --pdeathsig), or undefined. */
function setprivPath(): string | undefined {
  if (setprivCache === undefined) {
    setprivCache = null;
    for (const d of (process.env.PATH ?? "").split(path.delimiter)) {
      const p = executable(d && path.join(d, "setpriv"));
      if (p) {
        setprivCache = p;
        break;
      }
    }
  }
  return setprivCache ?? undefined;
}

function safeParse(s: string): string {
  try {
    return String(JSON.parse(s));
  } catch {
    return s;
  }
}
