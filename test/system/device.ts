// One test body, two backends: a system test boots the built bundle through bootDevice() and gets the
// same asynchronous device either in the Node simulator ("sim", always) or in the real Espruino
// interpreter ("real": ESPRUINO_BIN, the 64-bit LINUX build, for the ESP32 profiles; ESPRUINO_BIN_1600,
// the 1600-JsVar 12-byte-block ESP8266 model, for the ESP8266 profiles). On the real side the radio
// world, the cloud's address and the Storage contents come from the test prelude (test/real/), the
// clock is the wall clock, and the ESP8266 model runs the lean prelude, which fits in 1600 JsVars.
//
// systemSuite(title, fn) runs fn once per backend that is available and records how many tests ran
// where; test/system/backends.test.ts prints the count at the end of `npm test`.
import { connect } from "node:net";
import { Sim } from "../../sim/index.ts";
import { parseHttpResponse } from "../../sim/sim.ts";
import type { FetchInit, FetchResult } from "../../sim/types.ts";
import { startFakeCloud, type FakeCloud } from "../../sim/fake-cloud/server.ts";
import { RealDevice, executable } from "../real/espruino.ts";
import { BOARDS, HOME, TOKEN, bundlePath } from "./helpers.ts";

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
  /** the simulator itself, for assertions only it can make (undefined on the real backend) */
  sim?: any;
  /** interpreter errors printed so far (Uncaught ..., OUT OF MEMORY) */
  errors(): string[];
  stop(): Promise<void>;
}

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

export function systemSuite(title: string, fn: (ctx: SuiteContext) => void): void {
  for (const board of BOARDS) {
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
  try {
    return backend === "sim" ? await bootSim(o, cloud) : await bootReal(o, cloud);
  } catch (e) {
    await cloud.close();
    throw e;
  }
}

async function bootSim(o: BootOptions, cloud: FakeCloud): Promise<TestDevice> {
  const addr = "127.0.0.1:" + cloud.port;
  let powerCycles = 0;
  const sim: any = await Sim.boot({
    bundle: o.bundle || bundlePath(o.board.board),
    chip: o.board.chip,
    mac: o.board.mac,
    networks: o.networks || DEFAULT_NETWORKS,
    hosts: { "blynk.cloud:80": addr, "blynk.cloud:443": addr, ...Object.fromEntries((o.servers || []).map((a) => [a, a])) },
    storage: o.files ? Sim.flashWith(o.files, o.board.chip) : undefined,
  });
  const d: TestDevice = {
    backend: "sim",
    board: o.board,
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
    sim,
    errors: () => sim.uncaught.map(String).concat(sim.console.filter((l: string) => /^Uncaught|OUT OF MEMORY|LOW_MEMORY/.test(l))),
    async stop() {
      sim.stop();
      await cloud.close();
    },
  };
  return d;
}

async function bootReal(o: BootOptions, cloud: FakeCloud): Promise<TestDevice> {
  const esp8266 = o.board.chip === "ESP8266";
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
  };
  return d;
}

/** Tries a TCP connection to a local port while the device runs: "refused", "accepted" or "error CODE". */
async function knock(d: TestDevice, port: number): Promise<string> {
  let result = "";
  const s = connect(port, "127.0.0.1");
  s.on("connect", () => (result = "accepted"));
  s.on("error", (e: NodeJS.ErrnoException) => (result ||= e.code === "ECONNREFUSED" ? "refused" : "error " + e.code));
  await d.until(() => result !== "", 3000);
  s.destroy();
  return result;
}

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
