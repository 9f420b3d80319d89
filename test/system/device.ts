// One test body, two backends: a system test boots the built bundle through bootDevice() and gets the
// same asynchronous device either in the Node simulator ("sim", always) or in the real Espruino
// interpreter ("real": ESPRUINO_BIN, the 64-bit LINUX build, for the ESP32 profiles; ESPRUINO_BIN_1600,
// the 1600-JsVar 12-byte-block ESP8266 model, for the ESP8266 profiles). On the real side the radio
// world, the cloud's address and the Storage contents come from the test prelude (test/real/), the
// clock is the wall clock, and the ESP8266 model runs the lean prelude, which fits in 1600 JsVars.
//
// systemSuite(title, fn) runs fn once per backend that is available and records how many tests ran
// where; test/system/backends.test.ts prints the count at the end of `npm test`.
import { readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { Sim } from "../../sim/index.ts";
import { parseHttpResponse } from "../../sim/sim.ts";
import type { FetchInit, FetchResult } from "../../sim/types.ts";
import { startFakeCloud, type FakeCloud } from "../../sim/fake-cloud/server.ts";
import { RealDevice, executable } from "../real/espruino.ts";
import { BOARDS, HOME, TOKEN, bundlePath } from "./helpers.ts";
import { negatesD0 } from "../../firmware/led/spec.ts";

export type Backend = "sim" | "real";
export type Board = (typeof BOARDS)[number];

export interface BootOptions {
  board: Board;
  /** networks in range (default HomeNet and a neighbour) */
  networks?: { ssid: string; password: string; rssi: number; channel: number; joinDelayMs?: number; dhcp?: boolean }[];
  /** Storage files before boot ("edgent.cfg1": encodeRecord(...)) */
  files?: Record<string, string>;
  tokens?: string[];
  /** another build of the board's firmware (default dist/<board>.js) */
  bundle?: string;
  /**
   * More servers the device may reach, "127.0.0.1:PORT" (an MQTT broker the test started): the
   * simulator connects to nothing it is not told of; the real interpreter reaches them directly.
   */
  servers?: string[];
  /**
   * Pins the tests can watch and drive: pinWrites(), setInput(), pulse(), setAnalog(), pinMode(),
   * pinLevel(). The simulator always has them; on the real interpreter this loads the pin panel
   * (test/real/pins.js), a model of the chip's GPIOs, into the prelude.
   */
  pins?: boolean;
  /** Only this port of blynk.cloud (80 or 443) leads to the cloud; the other one refuses connections. */
  cloudPort?: number;
  /** A second cloud host name (e.g. "sgp1.blynk.cloud"), served by its own fake cloud: TestDevice.other. */
  otherCloud?: string;
}

/** A pin write as the pin shows it (physical level, PWM duty, or WS2812 bytes), at device time t (ms). */
export interface PinWrite {
  t: number;
  pin: number;
  kind: "digital" | "pwm" | "pixel";
  value: number | number[];
  /**
   * real interpreter: when the timer whose callback made the write was due (device time), i.e. when
   * the firmware meant the write to happen, however late a busy host let the interpreter run it
   */
  due?: number;
}

/** The device as a system test sees it; every call works on both backends. */
export interface TestDevice {
  backend: Backend;
  board: Board;
  cloud: FakeCloud;
  /** console lines ("[millis] message") */
  console: string[];
  /** lets `ms` of device time pass (virtual in the simulator, real on the interpreter) */
  advance(ms: number): Promise<void>;
  /** waits (device time) until pred() holds; false after maxMs */
  until(pred: () => boolean | Promise<boolean>, maxMs: number): Promise<boolean>;
  /** waits for a console line matching re, printed after line `from` */
  waitForLog(re: RegExp, maxMs: number, from?: number): Promise<boolean>;
  /** waits until the setup portal answers on port 80; false after maxMs */
  portal(maxMs?: number): Promise<boolean>;
  /** one HTTP request to the device's port 80, read until the device closes it */
  fetch(path: string, init?: FetchInit): Promise<FetchResult>;
  /** edgent.status() */
  status(): Promise<any>;
  /** runs an expression in the interpreter, returns its JSON */
  repl(expr: string): Promise<any>;
  /** the setup access point: up, and its SSID */
  ap(): Promise<{ up: boolean; ssid?: string; authMode?: string; password?: string }>;
  /** restarts since boot (E.reboot(), /reboot; not power cycles made by the test) */
  restarts(): number;
  storageNames(): Promise<string[]>;
  /** the firmware's own Storage files (not Espruino's dot files) and their contents */
  flash(): Promise<Record<string, string>>;
  /** power off and on again, flash kept */
  powerCycle(): Promise<void>;
  /** power off now (real: the interpreter is killed), flash as it is; powerOn() boots it again */
  powerCut(): Promise<void>;
  powerOn(): Promise<void>;
  /** the device's captive DNS, as a host UDP port */
  dnsPort(): number;
  /** the device's address on the home network, undefined when it has none */
  staIp(): Promise<string | undefined>;
  /** SSIDs the device asked the radio to join, in order */
  joins(): string[];
  /** the host port that reaches the device's port 80 now (the simulator throws when nothing listens) */
  httpHostPort(): number;
  /** a TCP connection to a host port: "accepted" or "refused" */
  knock(hostPort: number): Promise<string>;
  /** interpreter errors printed so far (Uncaught ..., OUT OF MEMORY) */
  errors(): string[];
  stop(): Promise<void>;

  /** the fake cloud that serves BootOptions.otherCloud */
  other?: FakeCloud;
  /** the simulator itself (sim backend only), for assertions only it can make (netStats, telnet, ...) */
  sim?: any;
  /** TLS connections the device opened */
  tlsConnects(): number;
  /** restarts the firmware asked for (E.reboot(), ESP32.reboot()) */
  reboots(): number;
  /** JS timers and sockets (servers, connections, UDP) the firmware holds, for leak checks */
  counts(): Promise<{ timers: number; sockets: number }>;
  /** outgoing TCP connections open on the device (the cloud link) */
  cloudSockets(): Promise<number>;
  /** a phone joins / leaves the setup access point */
  stationJoin(mac: string): Promise<boolean>;
  stationLeave(mac: string): Promise<void>;
  /** load(): RAM cleared, flash and pin levels kept; resolves once the firmware prints again */
  softReset(): Promise<void>;

  // With BootOptions.pins:
  /** device time now (ms), the clock of pinWrites() and lineTime() */
  now(): number;
  /** repl(expr), and the device time at which it ran */
  replAt(expr: string): Promise<{ value: any; t: number }>;
  /** device time at which console line `from` or the first one after it matching re was printed */
  lineTime(re: RegExp, from?: number): number | undefined;
  /** pin writes since the last power-on or reboot that changed what a pin shows */
  pinWrites(pins?: number[]): PinWrite[];
  /**
   * timers the interpreter ran more than 10 ms late since the last power-on or reboot: when each was
   * due (device time) and how late it ran. Only the real interpreter has them (a busy host); the
   * simulator's virtual clock runs every timer on time.
   */
  lateTimers(): { t: number; late: number }[];
  /** what is wired to an input pin drives it to a physical level; resolves to the device time it did */
  setInput(pin: number, level: 0 | 1): Promise<number>;
  /** drives an input pin to `level` for `ms` (timed on the device), then back to its idle level; resolves after */
  pulse(pin: number, level: 0 | 1, ms: number): Promise<void>;
  /** the voltage on an ADC pin, 0..1 */
  setAnalog(pin: number, value: number): Promise<void>;
  /** Espruino's mode of a pin ("output", "input_pullup", ...) */
  pinMode(pin: number): Promise<string>;
  /** physical level of a pin (the PWM duty of a PWM output) */
  pinLevel(pin: number): Promise<number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const DEFAULT_NETWORKS = [HOME, { ssid: "Neighbour", password: "whatever1", rssi: -80, channel: 11 }];

/** The interpreter a board's real backend runs on, or undefined when it is not set. */
export function realInterpreter(board: Board): string | undefined {
  return executable(board.chip === "ESP32" ? process.env.ESPRUINO_BIN : process.env.ESPRUINO_BIN_1600);
}

export function backendsFor(board: Board): Backend[] {
  return realInterpreter(board) ? ["sim", "real"] : ["sim"];
}

/** Tests that ran per backend, and the boards whose real backend was skipped (for the summary). */
export const ran: Record<Backend, number> = { sim: 0, real: 0 };
export const skippedReal = new Set<string>();

/** Board profiles beyond BOARDS a suite can run on (systemSuite's `boards`): the LED kinds of the other boards. */
export const MORE_BOARDS = {
  wroverKit: { board: "esp32-wrover-kit", chip: "ESP32" as const, mac: "24:0a:c4:12:34:56", suffix: "PYN6" },
  c3: { board: "esp32-c3-devkitm", chip: "ESP32" as const, mac: "24:0a:c4:12:34:56", suffix: "PYN6" },
  d1mini: { board: "wemos-d1-mini", chip: "ESP8266" as const, mac: "5c:cf:7f:01:02:03", suffix: "8N4Y" },
};

/**
 * describe() once per board and backend. In fn, `dev(opts)` boots a device on that backend (stopped
 * after each test). A test that cannot run on the real side says why in its name and uses simOnly().
 */
export interface SuiteContext {
  board: Board;
  backend: Backend;
  /** boots a device for this test (stopped after it) */
  boot: (o?: Omit<BootOptions, "board">) => Promise<TestDevice>;
  /** one device for every test of the suite: booted before the first, stopped after the last */
  shared: (o?: Omit<BootOptions, "board">) => () => TestDevice;
  /** a test that runs in the simulator only; `why` goes into its name, and the real backend lists it as pending */
  simOnly: (title: string, why: string, fn: () => Promise<void>) => void;
}

/** `boards`: the board profiles to run on (default BOARDS). */
export function systemSuite(title: string, fn: (ctx: SuiteContext) => void, opts: { boards?: Board[] } = {}): void {
  for (const board of opts.boards ?? BOARDS) {
    const backends = backendsFor(board);
    if (backends.length === 1) skippedReal.add(board.chip === "ESP32" ? "ESP32 profiles (set ESPRUINO_BIN)" : "ESP8266 profiles (set ESPRUINO_BIN_1600)");
    for (const backend of backends) {
      describe(`${title} on ${board.board} [${backend}]`, function () {
        if (backend === "real") this.timeout(board.chip === "ESP8266" ? 240000 : 120000);
        let live: TestDevice[] = [];
        afterEach(async function () {
          if (this.currentTest?.state === "passed") ran[backend]++;
          for (const d of live) await d.stop();
          live = [];
        });
        fn({
          board,
          backend,
          boot: async (o = {}) => {
            const d = await bootDevice(backend, { ...o, board });
            live.push(d);
            return d;
          },
          shared: (o = {}) => {
            let d: TestDevice | undefined;
            before(async () => {
              d = await bootDevice(backend, { ...o, board });
            });
            after(async () => {
              await d?.stop();
            });
            return () => d!;
          },
          simOnly: (t, why, body) => (backend === "sim" ? it(`${t} [simulator only: ${why}]`, body) : it.skip(`${t} [simulator only: ${why}]`)),
        });
      });
    }
  }
}

export async function bootDevice(backend: Backend, o: BootOptions): Promise<TestDevice> {
  const cloud = await startFakeCloud({ tokens: o.tokens || [TOKEN] });
  const other = o.otherCloud ? await startFakeCloud({ tokens: o.tokens || [TOKEN] }) : undefined;
  try {
    const d = backend === "sim" ? await bootSim(o, cloud, other) : await bootReal(o, cloud, other);
    if (other) {
      d.other = other;
      const stop = d.stop;
      d.stop = async () => {
        await stop();
        await other.close();
      };
    }
    return d;
  } catch (e) {
    await cloud.close();
    await other?.close();
    throw e;
  }
}

/** A board profile (boards/<id>.json) as far as the pins need it. */
function profile(board: Board): { dev: string; chip: "ESP32" | "ESP8266"; led: { type: string } } {
  return JSON.parse(readFileSync(new URL(`../../boards/${board.board}.json`, import.meta.url), "utf8"));
}

async function bootSim(o: BootOptions, cloud: FakeCloud, other?: FakeCloud): Promise<TestDevice> {
  const addr = "127.0.0.1:" + cloud.port;
  let powerCycles = 0;
  const hosts: Record<string, string> = { "blynk.cloud:80": addr, "blynk.cloud:443": addr, ...Object.fromEntries((o.servers || []).map((a) => [a, a])) };
  if (o.cloudPort) hosts["blynk.cloud:" + (o.cloudPort === 443 ? 80 : 443)] = "refuse";
  if (other) for (const p of [80, 443]) hosts[o.otherCloud + ":" + p] = "127.0.0.1:" + other.port;
  // console lines and the virtual time each was printed at (Sim.boot prints before it returns)
  const times: number[] = [];
  let sim: any;
  sim = await Sim.boot({
    bundle: o.bundle || bundlePath(o.board.board),
    chip: o.board.chip,
    mac: o.board.mac,
    networks: o.networks || DEFAULT_NETWORKS,
    hosts,
    storage: o.files ? Sim.flashWith(o.files, o.board.chip) : undefined,
    log: () => times.push(sim ? sim.now() : 0),
  });
  let reboots = 0;
  sim.on("reboot", () => reboots++);
  const d: TestDevice = {
    backend: "sim",
    board: o.board,
    sim,
    cloud,
    console: sim.console,
    advance: (ms) => sim.advance(ms),
    async until(pred, maxMs) {
      const end = sim.now() + maxMs;
      for (;;) {
        if (await pred()) return true;
        if (sim.now() >= end) return false;
        await sim.advance(50);
      }
    },
    waitForLog: (re, maxMs, from = 0) => d.until(() => sim.console.slice(from).some((l: string) => re.test(l)), maxMs),
    portal: (maxMs = 20000) =>
      d.until(() => {
        try {
          return sim.httpPort(80) > 0;
        } catch {
          return false;
        }
      }, maxMs),
    fetch: (path, init) => sim.fetch(path, init),
    status: async () => JSON.parse(sim.repl("JSON.stringify(edgent.status())")),
    repl: async (expr) => JSON.parse(sim.repl("JSON.stringify(" + expr + ")") ?? "null"),
    ap: async () => {
      const a = sim.wifi.ap();
      return { up: sim.wifi.apRunning(), ssid: sim.wifi.apSsid(), authMode: a?.authMode, password: a?.password };
    },
    restarts: () => sim.bootCount - 1 - powerCycles,
    storageNames: async () => sim.storage.list(),
    flash: async () => Object.fromEntries(sim.storage.list().filter((n: string) => !n.startsWith(".")).map((n: string) => [n, sim.storage.read(n)])),
    async powerCycle() {
      powerCycles++;
      sim.powerCut();
      await sim.powerOn();
    },
    async powerCut() {
      powerCycles++;
      if (sim.running) sim.powerCut();
    },
    powerOn: () => sim.powerOn(),
    dnsPort: () => sim.udpPort(53),
    staIp: async () => sim.wifi.staIp(),
    joins: () => sim.wifi.log.filter((c: any) => c.call === "connect").map((c: any) => c.args[0]),
    httpHostPort: () => sim.httpPort(80),
    knock: (port) => knock(d, port),
    errors: () => sim.uncaught.map(String).concat(sim.console.filter((l: string) => /^Uncaught|OUT OF MEMORY|LOW_MEMORY/.test(l))),
    async stop() {
      sim.stop();
      await cloud.close();
    },
    tlsConnects: () => sim.tlsConnects,
    reboots: () => reboots,
    counts: async () => ({ timers: sim.timerCount(), sockets: sim.socketCount() }),
    cloudSockets: async () => sim.sockets().filter((s: any) => s.type === "net socket").length,
    stationJoin: async (mac) => sim.stationJoin(mac),
    stationLeave: async (mac) => sim.stationLeave(mac),
    async softReset() {
      const n = sim.console.length;
      sim.repl("load()");
      for (let i = 0; i < 1000 && sim.console.length === n; i++) await sim.advance(1);
    },
    now: () => sim.now(),
    async replAt(expr) {
      const t = sim.now();
      return { value: await d.repl(expr), t };
    },
    lineTime(re, from = 0) {
      for (let i = from; i < sim.console.length; i++) if (re.test(sim.console[i])) return times[i];
      return undefined;
    },
    pinWrites: (pins) =>
      sim.pins.log
        .filter((e: any) => e.boot === sim.bootCount && (!pins || pins.includes(e.pin)))
        .map((e: any) => ({ t: e.t, pin: e.pin, kind: e.kind, value: e.value })),
    async setInput(pin, level) {
      sim.pins.setInput(pin, level);
      return sim.now();
    },
    async pulse(pin, level, ms) {
      const idle = sim.pins.level(pin);
      sim.pins.setInput(pin, level);
      await sim.advance(ms);
      sim.pins.setInput(pin, idle);
    },
    lateTimers: () => [],
    setAnalog: async (pin, value) => sim.pins.setAnalog(pin, value),
    pinMode: async (pin) => sim.pins.mode(pin),
    pinLevel: async (pin) => sim.pins.level(pin),
  };
  return d;
}

/** The pin panel (test/real/pins.js) for a board, with its settings written in. */
function pinPanel(board: Board): string {
  const p = profile(board);
  const values: Record<string, number> = {
    pins: board.chip === "ESP32" ? 40 : 18,
    neg0: negatesD0({ chip: p.chip, dev: p.dev } as any) ? 1 : 0,
    pixel: p.led.type === "ws2812" ? 1 : 0,
  };
  return readFileSync(new URL("../real/pins.js", import.meta.url), "utf8").replace(/__P_(\w+)__/g, (m, k: string) => {
    if (!(k in values)) throw new Error(`pins.js: unknown setting ${m}`);
    return String(values[k]);
  });
}

/**
 * Connections to chosen host names (and ports) sent to chosen local ports, ahead of the prelude's own
 * redirect of blynk.cloud; on the full prelude also the TLS count ("@@TLS host:port" per tls.connect).
 * routes: [host, port (0 = any), local port].
 */
function routesPrelude(routes: [string, number, number][], tls: boolean): string {
  return (
    `global.__rt = function (o) {
  var R = ${JSON.stringify(routes)}, i;
  for (i = 0; o && i < R.length; i++)
    if (o.host === R[i][0] && (!R[i][1] || o.port === R[i][1])) { print("@@ROUTE " + o.host + ":" + o.port + " -> " + R[i][2]); return { host: "127.0.0.1", port: R[i][2] }; }
  return o;
};
__rt.n = require("net").connect;
require("net").connect = function () { return __rt.n(__rt(arguments[0]), arguments[1]); };
` +
    (tls
      ? `__rt.t = require("tls").connect;
require("tls").connect = function () {
  var o = arguments[0], r = __rt(o);
  print("@@TLS " + (o && o.host) + ":" + (o && o.port));
  return r !== o ? __rt.n(r, arguments[1]) : __rt.t(o, arguments[1]);
};
`
      : "")
  );
}

/** A local TCP port nothing listens on (connections to it are refused). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function bootReal(o: BootOptions, cloud: FakeCloud, other?: FakeCloud): Promise<TestDevice> {
  const esp8266 = o.board.chip === "ESP8266";
  const routes: [string, number, number][] = [];
  if (o.cloudPort) routes.push(["blynk.cloud", o.cloudPort === 443 ? 80 : 443, await closedPort()]);
  if (other) routes.push([o.otherCloud!, 0, other.port]);
  let extra = "";
  // the lean prelude has no TLS (require("tls") gives 0): routes only when asked for
  if (!esp8266 || routes.length) extra += routesPrelude(routes, !esp8266);
  if (o.pins) extra += pinPanel(o.board);
  const dev = await RealDevice.start({
    bin: realInterpreter(o.board),
    bundle: o.bundle || bundlePath(o.board.board),
    chip: o.board.chip,
    mac: o.board.mac,
    networks: (o.networks || DEFAULT_NETWORKS).map((n) => ({ ssid: n.ssid, password: n.password, rssi: n.rssi, channel: n.channel })),
    cloud: { host: "127.0.0.1", port: cloud.port },
    files: o.files,
    // a join takes as long as the slowest network says (the real prelude has one delay for all)
    timing: { connect: Math.max(200, ...(o.networks || []).map((n) => n.joinDelayMs || 0)) },
    // the ESP8266 model has 1600 JsVars: the lean prelude, which leaves the firmware its room
    lean: esp8266,
    pins: !esp8266,
    tracePins: false,
    bootTimeoutMs: esp8266 ? 60000 : 15000,
    extraPrelude: extra || undefined,
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // events of the interpreter's latest run (a restart is a new process with a fresh radio)
  let since = 0;
  const restart = async () => {
    since = dev.events.length;
    await dev.restart();
  };
  const apState = () => {
    let up = false;
    let ap: { ssid?: string; authMode?: string; password?: string } = {};
    for (const e of dev.events.slice(since)) {
      if (e.startsWith("WIFI startAP ")) {
        up = true;
        ap = JSON.parse(e.slice(13));
      } else if (e === "WIFI stopAP") up = false;
    }
    return { up, ssid: ap.ssid, authMode: ap.authMode, password: ap.password };
  };
  const d: TestDevice = {
    backend: "real",
    board: o.board,
    cloud,
    console: dev.console,
    advance: async (ms) => void (await sleep(ms)),
    async until(pred, maxMs) {
      const end = Date.now() + maxMs;
      for (;;) {
        if (await pred()) return true;
        if (Date.now() >= end) return false;
        await sleep(100);
      }
    },
    waitForLog: (re, maxMs, from = 0) => d.until(() => dev.console.slice(from).some((l) => re.test(l)), maxMs),
    portal: (maxMs = 30000) => d.until(() => dev.events.slice(since).some((e) => e.startsWith("LISTEN tcp 80")), maxMs),
    fetch: (path, init = {}) => rawFetch(dev.httpPort(80), path, init),
    status: async () => JSON.parse(JSON.parse(await dev.eval("JSON.stringify(edgent.status())"))),
    repl: async (expr) => JSON.parse(await dev.eval(expr)),
    ap: async () => apState(),
    restarts: () => dev.reboots,
    storageNames: () => dev.listStorage(),
    flash: async () => JSON.parse(JSON.parse(await dev.eval('(function(){var S=require("Storage"),o={};S.list().forEach(function(n){if(n[0]!==".")o[n]=S.read(n);});return JSON.stringify(o);})()'))),
    powerCycle: restart,
    async powerCut() {
      dev.kill();
      await dev.stop();
    },
    powerOn: restart,
    dnsPort: () => dev.udpPort(53),
    async staIp() {
      const ip = JSON.parse(await dev.eval('require("Wifi").getIP().ip'));
      return ip && ip !== "0.0.0.0" ? ip : undefined;
    },
    joins: () => dev.events.filter((e) => e.startsWith("WIFI connect ")).map((e) => JSON.parse(e.slice(13))),
    httpHostPort: () => dev.httpPort(80),
    knock: (port) => knock(d, port),
    errors: () => dev.errors(),
    async stop() {
      await dev.cleanup();
      await cloud.close();
    },
    tlsConnects: () => dev.events.filter((e) => e.startsWith("TLS ")).length,
    reboots: () => dev.reboots,
    counts: () => dev.evalJSON<{ timers: number; sockets: number }>(REAL_COUNTS.replace("DEBUG_PORT", String(dev.ports.debug))),
    cloudSockets: () => dev.evalJSON<number>(REAL_CLOUD_SOCKETS),
    async stationJoin(mac) {
      if (esp8266) await dev.eval(`require("Wifi").emit("sta_joined",{mac:${JSON.stringify(mac)}}),1`);
      else await dev.staJoin(mac);
      return true;
    },
    async stationLeave(mac) {
      if (esp8266) await dev.eval(`require("Wifi").emit("sta_left",{mac:${JSON.stringify(mac)}}),1`);
      else await dev.staLeave(mac);
    },
    async softReset() {
      const n = dev.console.length;
      const servers = () => dev.events.filter((e) => e.startsWith("DEBUG ")).length;
      const m = servers();
      await dev.eval("setTimeout(function () { if (global.__pn) __pn.keep(); load(); }, 10), 1");
      // the firmware prints, and the prelude's eval server listens again
      if (!(await d.until(() => dev.console.length > n && servers() > m, 30000))) throw new Error("the firmware did not start again after load()");
    },
    now: () => Date.now() - panel().clock,
    async replAt(expr) {
      const [value, ms] = await dev.evalJSON<[any, number]>(`[(${expr}), Math.floor(getTime() * 1000)]`);
      return { value, t: ms - panel().clock };
    },
    lineTime(re, from = 0) {
      for (let i = from; i < dev.console.length; i++) if (re.test(dev.console[i])) return Number((/^\[(\d+)\]/.exec(dev.console[i]) ?? [])[1] ?? NaN);
      return undefined;
    },
    pinWrites: (pins) => panel().writes.filter((w) => !pins || pins.includes(w.pin)),
    setInput: async (pin, level) => (await dev.evalJSON<number>(`(__pn.set(${pin},${level}), Math.floor(getTime() * 1000))`)) - panel().clock,
    async pulse(pin, level, ms) {
      const idle = await d.pinLevel(pin);
      await dev.eval(`__pn.pulse(${pin},${level},${ms}),1`);
      await sleep(ms);
      if (!(await d.until(async () => (await d.pinLevel(pin)) === idle, 5000))) throw new Error(`pin ${pin} did not go back to ${idle}`);
    },
    lateTimers: () => panel().late,
    setAnalog: async (pin, value) => void (await dev.eval(`__pn.a[${pin}]=${value},1`)),
    pinMode: (pin) => dev.evalJSON<string>(`__pn.mode(${pin})`),
    pinLevel: (pin) => dev.evalJSON<number>(`__pn.level(${pin})`),
  };

  /**
   * The pin panel's record of the latest boot: its writes on the firmware's clock (each "[ms]" line of
   * the firmware gives getTime() at its 0 ms, a little late: the smallest is the best), without
   * repeats of what a pin already shows.
   */
  function panel(): { clock: number; writes: PinWrite[]; late: { t: number; late: number }[] } {
    if (!o.pins) throw new Error("pin writes need the boot option pins: true");
    let start = -1;
    for (let i = dev.events.length - 1; i >= 0 && start < 0; i--) if (dev.events[i] === "PANEL") start = i;
    let clock = NaN;
    const raw: { ms: number; due?: number; pin: number; kind: PinWrite["kind"]; value: number | number[] }[] = [];
    const lateMs: [number, number][] = [];
    for (let i = start + 1; i < dev.events.length; i++) {
      const e = dev.events[i];
      if (e.startsWith("CLOCK ")) clock = Math.min(Number(e.slice(6)), Number.isNaN(clock) ? Infinity : clock);
      if (e.startsWith("LATE ")) lateMs.push(e.slice(5).split(" ").map(Number) as [number, number]);
      const m = /^PW (\d+) ([dax]) (\S+) (\d+)(?: (\d+))?$/.exec(e);
      if (m)
        raw.push({ ms: Number(m[4]), due: m[5] === undefined ? undefined : Number(m[5]), pin: Number(m[1]), kind: m[2] === "d" ? "digital" : m[2] === "a" ? "pwm" : "pixel", value: JSON.parse(m[3]) });
    }
    const last = new Map<number, string>();
    const writes: PinWrite[] = [];
    let step = new Set<number>();
    let stepMs = NaN;
    for (const w of raw) {
      // writes to different pins in one go (an RGB LED's three channels, every one written at each
      // step) share a time, as the simulator's do, even when the device's clock ticked on between them
      if (step.has(w.pin) || !(w.ms - stepMs <= 50)) {
        step = new Set();
        stepMs = w.ms;
      }
      step.add(w.pin);
      const key = JSON.stringify([w.kind, w.value]);
      if (w.kind !== "pixel" && last.get(w.pin) === key) continue;
      last.set(w.pin, key);
      writes.push({ t: stepMs - clock, pin: w.pin, kind: w.kind, value: w.value, ...(w.due === undefined ? {} : { due: w.due - clock }) });
    }
    return { clock, writes, late: lateMs.map(([due, late]) => ({ t: due - clock, late })) };
  }
  return d;
}

/**
 * Tries a TCP connection to a local port while the device runs: "refused", "accepted" or "error
 * CODE". `d` lets device time pass while it waits: a TestDevice, or the simulator itself.
 */
export async function knock(d: { until(pred: () => boolean, maxMs: number): Promise<boolean> }, port: number): Promise<string> {
  let result = "";
  const s = connect(port, "127.0.0.1");
  s.on("connect", () => (result = "accepted"));
  s.on("error", (e: NodeJS.ErrnoException) => (result ||= e.code === "ECONNREFUSED" ? "refused" : "error " + e.code));
  await d.until(() => result !== "", 3000);
  s.destroy();
  return result;
}
/**
 * Timers and sockets on the real interpreter, from Espruino's hidden root: its timer list, and the
 * sockets of its socket server lists (HttpS servers, HttpSC accepted connections, HttpCC client
 * connections; a UDP socket is in both of the last two) without the harness's eval server and the
 * connections it accepted (net connections without options).
 */
const REAL_COUNTS = `(function () {
  var h = global["\\xFF"], s = {}, n = 0, k, e;
  for (k in h.HttpS) { e = h.HttpS[k]; if (e.port !== DEBUG_PORT) s[e.sckt] = 1; }
  for (k in h.HttpSC) s[h.HttpSC[k].sckt] = 1;
  for (k in h.HttpCC) { e = h.HttpCC[k]; if (e.type !== 0 || e.opt) s[e.sckt] = 1; }
  for (k in s) n++;
  return { timers: Object.keys(h.timers || {}).length, sockets: n };
})()`;
const REAL_CLOUD_SOCKETS = `(function () {
  var h = global["\\xFF"], n = 0, k, e;
  for (k in h.HttpCC) { e = h.HttpCC[k]; if (e.type === 0 && e.opt) n++; }
  return n;
})()`;

/** An HTTP exchange with the interpreter's port 80, as the simulator's fetch() does it. */
function rawFetch(port: number, path: string, init: FetchInit): Promise<FetchResult> {
  const method = init.method ?? "GET";
  const hdrs: [string, string][] = Array.isArray(init.headers) ? init.headers : Object.entries(init.headers ?? {});
  const body = init.body === undefined ? undefined : Buffer.from(init.body as string, "latin1");
  if (!hdrs.some(([k]) => k.toLowerCase() === "host")) hdrs.unshift(["Host", "192.168.4.1"]);
  if (body && !hdrs.some(([k]) => k.toLowerCase() === "content-length")) hdrs.push(["Content-Length", String(body.length)]);
  const head = Buffer.from(`${method} ${path} HTTP/1.1\r\n${hdrs.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`, "latin1");
  const chunks = init.chunks ? init.chunks.map((c) => (typeof c === "string" ? Buffer.from(c, "latin1") : c)) : [Buffer.concat([head, body ?? Buffer.alloc(0)])];
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    const rx: Buffer[] = [];
    const timer = setTimeout(() => (sock.destroy(), reject(new Error(`no answer to ${method} ${path} within ${init.timeoutMs ?? 30000} ms`))), init.timeoutMs ?? 30000);
    sock.on("connect", async () => {
      for (const c of chunks) {
        sock.write(c);
        if (chunks.length > 1) await new Promise((r) => setTimeout(r, 50));
      }
    });
    sock.on("data", (b) => rx.push(b));
    sock.on("error", () => {});
    sock.on("close", () => {
      clearTimeout(timer);
      const raw = Buffer.concat(rx).toString("latin1");
      try {
        resolve(parseHttpResponse(raw));
      } catch (e) {
        reject(new Error(`${method} ${path}: ${(e as Error).message}`));
      }
    });
  });
}
