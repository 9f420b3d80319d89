/**
 * The Espruino simulator: boots a firmware bundle like an ESP32/ESP8266 running Espruino 2v29,
 * drives it on a virtual clock, and exposes test hooks (pins, radio world, flash, sockets).
 * See README.md.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as nodeNet from 'node:net';
import { HaltSignal, fromBytes, jsException, toBytes } from './bytes.ts';
import { Clock } from './clock.ts';
import { lintBundle, type LintIssue } from './lint.ts';
import type { NetStats } from './net.ts';
import { Pins } from './pins.ts';
import { Runtime, countFunctions, type PowerSession, type SimServices } from './runtime.ts';
import { Flash, storageName, type FailNextWrite, type StorageStats } from './storage.ts';
import type { Chip, FetchInit, FetchResult, FlashImage, PinLogEntry, SimOptions, WifiCallRecord, WifiMode } from './types.ts';
import { Radio, World } from './wifi.ts';

const DEFAULT_MAC: Record<Chip, string> = { ESP32: '24:0a:c4:12:34:56', ESP8266: '5c:cf:7f:01:02:03' };
const DEFAULT_STORAGE_BYTES: Record<Chip, number> = { ESP32: 896 * 1024, ESP8266: 192 * 1024 };
/** Longest idle step between two yields to the Node event loop while real sockets are open (virtual ms). */
const IO_STEP_MS = 10;
/**
 * Virtual time one idle-loop pass that did work (ran JS, moved socket data) costs the device.
 * A chip is not infinitely fast: without this, clients hammering the portal would be served in
 * zero device time. 1 ms is on the kind side for an ESP32 handling an HTTP request.
 */
const LOOP_COST_MS = 1;
/** Passes at one virtual instant without work before we force time forward by 1 ms anyway. */
const SPIN_LIMIT = 200;

const yieldToNode = () => new Promise<void>((r) => setImmediate(r));

// Unhandled rejections of promises created inside a device are reported by that device, like
// Espruino's "Unhandled promise rejection"; anything else keeps Node's default (throw).
const liveSims = new Set<Sim>();
let rejectionHookInstalled = false;
function installRejectionHook(): void {
  if (rejectionHookInstalled) return;
  rejectionHookInstalled = true;
  process.on('unhandledRejection', (reason, promise) => {
    for (const s of liveSims) if (s.ownsPromise(promise)) return s.unhandledRejection(reason);
    if (process.listenerCount('unhandledRejection') === 1) throw reason;
  });
}

/**
 * The functions of a bundle, for process.memory()'s rough estimate: every "function" of its text but
 * those of a firmware image's module "ota" (scripts/image.js), which Espruino loads only while a
 * firmware update runs (what it costs then is measured on the real interpreter: npm run bench).
 */
function residentFunctions(bundle: string): number {
  // a firmware image: what stays loaded is the loader and whichever modules are in Modules' cache
  // (the runtime counts those as they come and go), not every module the image holds
  const m = /^\/\*EDGENT1 .*"m":"([^"]*)"/.exec(bundle.slice(0, 1000));
  const parts = m ? m[1].split(',') : [];
  return countFunctions(parts.length >= 3 ? bundle.slice(0, Number(parts[1])) : bundle);
}

/** Lint results per bundle text: system tests boot the same bundle many times. */
const lintCache = new Map<string, LintIssue[]>();

type Pending = { type: 'restart'; why: string } | { type: 'load' | 'reset'; file?: string; clearFlash?: boolean };

function loadBundle(bundle: string): string {
  if (!bundle.includes('\n') && bundle.length < 4096 && fs.existsSync(bundle)) return fs.readFileSync(bundle, 'latin1');
  if (/^[\w./\\:-]+\.m?js$/.test(bundle)) throw new Error(`bundle file not found: ${bundle} (run the build first?)`);
  return bundle;
}

function assertAscii(code: string): void {
  const m = /[^\x00-\x7f]/.exec(code);
  if (!m) return;
  const before = code.slice(0, m.index);
  const line = before.split('\n').length;
  const col = m.index - before.lastIndexOf('\n');
  throw new Error(`bundle is not ASCII-only: char U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at line ${line}, column ${col}. ` +
    'ESP builds have no unicode; build with terser format.ascii_only and write UTF-8 bytes as \\xNN escapes.');
}

export class Sim {
  readonly chip: Chip;
  readonly mac: string;
  /** Every console line printed since the Sim was created (all boots). */
  readonly console: string[] = [];
  /** Uncaught exceptions (as thrown) since the Sim was created. */
  readonly uncaught: unknown[] = [];
  /** Messages Espruino prints as "ERROR: ..." (e.g. "Headers have already been sent", "no PWM channel available anymore"). */
  readonly errors: string[] = [];
  readonly world: World;
  /** The heap TLS sockets need: `short` makes every tls.connect throw "Not enough memory" (see SimOptions.tlsShortOfMemory). */
  readonly tlsMemory = { short: false };
  /** Number of boots (power-ons and reboots). */
  bootCount = 0;
  readonly netStats: NetStats = { tlsConnects: 0, rxBytes: 0, txBytes: 0, refused: 0, sent: [], received: [] };

  readonly pins: {
    readonly log: PinLogEntry[];
    level(pin: number): number;
    setInput(pin: number, level: 0 | 1 | boolean): void;
    setAnalog(pin: number, value: number): void;
    mode(pin: number): string;
  };
  readonly storage: {
    read(name: string): string | undefined;
    list(): string[];
    image(): FlashImage;
    failNextWrite(f: FailNextWrite): void;
    stats(): StorageStats;
    readonly writes: number;
    readonly noopWrites: number;
    readonly erases: number;
    readonly compactions: number;
  };
  readonly wifi: {
    readonly log: WifiCallRecord[];
    mode(): WifiMode;
    apSsid(): string | undefined;
    apRunning(): boolean;
    staSsid(): string | undefined;
    staIp(): string | undefined;
    ap(): ReturnType<Radio['apInfo']> | undefined;
  };

  private readonly opts: SimOptions;
  private readonly bundle: string;
  private readonly flash: Flash;
  private readonly pinLog: PinLogEntry[] = [];
  private readonly wifiLog: WifiCallRecord[] = [];
  private readonly events = new EventEmitter();
  private readonly services: SimServices;
  private readonly vmPromises: PromiseConstructor[] = [];
  private sdkOpmode: number | undefined;
  private power: PowerSession | undefined;
  private rt: Runtime | undefined;
  private pending: Pending | undefined;
  private advancing = false;
  private advanceChain: Promise<void> = Promise.resolve();
  private iterationWaiters: (() => void)[] = [];
  /** Virtual ms run since the Sim was created (monotonic across reboots). */
  private elapsed = 0;
  private stopped = false;
  private realtimeOn = false;
  private realtimeTimer: ReturnType<typeof setTimeout> | undefined;
  private portPrefs = new Map<string, number>();

  /**
   * A flash image holding the given Storage files (byte strings), as if they had been written
   * by an earlier firmware: pass it as `storage` to Sim.boot.
   */
  static flashWith(files: Record<string, string>, chip: Chip, storageBytes?: number): FlashImage {
    const flash = new Flash(storageBytes ?? DEFAULT_STORAGE_BYTES[chip]);
    for (const [name, data] of Object.entries(files)) {
      flash.writeFile(storageName(name), toBytes(data, `flashWith ${name}`), 0, 0, 0);
    }
    return { bytes: flash.bytes.slice() };
  }

  /** Boot a device: upload the bundle as .bootcde, then power on. */
  static async boot(opts: SimOptions): Promise<Sim> {
    const sim = new Sim(opts);
    await sim.powerOnInternal('power on');
    return sim;
  }

  private constructor(opts: SimOptions) {
    this.opts = opts;
    this.chip = opts.chip;
    if (this.chip !== 'ESP32' && this.chip !== 'ESP8266') throw new Error(`chip must be 'ESP32' or 'ESP8266', got ${JSON.stringify(opts.chip)}`);
    this.mac = (opts.mac ?? DEFAULT_MAC[this.chip]).toLowerCase();
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(this.mac)) throw new Error(`mac must look like 'aa:bb:cc:dd:ee:ff', got ${JSON.stringify(opts.mac)}`);
    this.bundle = loadBundle(opts.bundle);
    assertAscii(this.bundle);
    if (opts.lint !== false) {
      let issues = lintCache.get(this.bundle);
      if (!issues) {
        issues = lintBundle(this.bundle);
        lintCache.set(this.bundle, issues);
      }
      if (issues.length) {
        const shown = issues.slice(0, 20).map((i) => `  ${i.line}:${i.column} ${i.message}`).join('\n');
        throw new Error(`bundle uses JavaScript that Espruino 2v29 cannot run (${issues.length} issue(s); pass lint:false to skip this check):\n${shown}`);
      }
    }
    const size = opts.storageBytes ?? DEFAULT_STORAGE_BYTES[this.chip];
    this.flash = new Flash(size, opts.storage?.bytes);
    this.sdkOpmode = opts.storage?.sdkOpmode;
    // the espruino CLI's `--storage .bootcde:-` upload (identical content = no flash write)
    if (this.bundle) this.flash.writeFile(storageName('.bootcde'), toBytes(this.bundle, 'bundle'), 0, 0, 0);
    else this.flash.eraseFile(storageName('.bootcde'));
    this.flash.writes = this.flash.noopWrites = this.flash.erases = this.flash.compactions = 0;
    this.flash.onMessage = (l) => this.printLine(l);
    this.flash.onPowerCut = (why) => {
      this.cutPower(why);
      throw new HaltSignal(why);
    };
    this.world = new World(opts.networks ?? []);
    this.tlsMemory.short = !!opts.tlsShortOfMemory;
    for (const [dev, real] of Object.entries(opts.portMap ?? {})) {
      this.portPrefs.set(`tcp:${dev}`, real);
      this.portPrefs.set(`udp:${dev}`, real);
    }
    const hosts = opts.hosts ?? {};
    this.services = {
      chip: this.chip,
      mac: this.mac,
      tls: opts.tls ?? this.chip === 'ESP32',
      flash: this.flash,
      netEnvBase: {
        hosts,
        connectThrowsSync: opts.connectThrowsSync ?? this.chip === 'ESP32',
        tlsMemory: this.tlsMemory,
        requireLink: opts.requireLink ?? true,
        reapAbandonedConnections: opts.reapAbandonedConnections ?? false,
        stats: this.netStats,
        portPrefs: this.portPrefs,
      },
      printLine: (l) => this.printLine(l),
      recordUncaught: (e) => this.uncaught.push(e),
      recordError: (m) => this.errors.push(m),
      requestRestart: (why) => this.requestRestart(why),
      requestSoftReset: (kind, file, clearFlash) => {
        this.pending ??= { type: kind, file, clearFlash };
      },
      onActivity: () => {},
      bundleFunctionCount: residentFunctions(this.bundle),
    };
    const self = this;
    this.pins = {
      log: this.pinLog,
      level: (pin) => self.hw().pins.level(pin),
      setInput: (pin, level) => self.hw().pins.setInput(pin, level),
      setAnalog: (pin, v) => self.hw().pins.setAnalog(pin, v),
      mode: (pin) => self.hw().pins.mode(pin),
    };
    this.storage = {
      read: (name) => {
        const b = self.flash.readFile(storageName(name));
        return b ? fromBytes(b) : undefined;
      },
      list: () => self.flash.list().map((f) => f.name),
      image: () => ({ bytes: self.flash.bytes.slice(), sdkOpmode: self.power?.radio.persistedOpmode ?? self.sdkOpmode }),
      failNextWrite: (f) => self.flash.failNextWrite(f),
      stats: () => self.flash.stats(),
      get writes() {
        return self.flash.writes;
      },
      get noopWrites() {
        return self.flash.noopWrites;
      },
      get erases() {
        return self.flash.erases;
      },
      get compactions() {
        return self.flash.compactions;
      },
    };
    this.wifi = {
      log: this.wifiLog,
      mode: () => self.power?.radio.wifiMode() ?? 'off',
      apSsid: () => self.power?.radio.apSsid(),
      apRunning: () => self.power?.radio.isApRunning() ?? false,
      staSsid: () => self.power?.radio.staSsid(),
      staIp: () => self.power?.radio.staIpAddress(),
      ap: () => self.power?.radio.apInfo(),
    };
    installRejectionHook();
    liveSims.add(this);
  }

  // ================================================================== lifecycle

  private hw(): PowerSession {
    if (!this.power) throw new Error('the device is powered off (call sim.powerOn())');
    return this.power;
  }

  private printLine(line: string): void {
    this.console.push(line);
    this.opts.log?.(line);
    this.events.emit('line', line);
  }

  private async powerOnInternal(reason: string): Promise<void> {
    if (this.stopped) throw new Error('this Sim was stopped');
    const clock = new Clock();
    const pins = new Pins(this.chip, this.pinLog, () => this.bootCount);
    const hosts = this.services.netEnvBase.hosts;
    const radio = new Radio(this.chip, this.mac, this.world, clock, this.wifiLog, this.sdkOpmode,
      (name) => Object.keys(hosts).some((k) => k.slice(0, k.lastIndexOf(':')) === name));
    this.power = { clock, pins, radio, timeOffsetMs: 0, tzHours: 0, firstBoot: true, resetReason: reason === 'power on' ? 'power on' : 'restart' };
    this.bootCount++;
    // first boot only: a storage area that fails jsfIsStorageValid is wiped
    if (!this.flash.isValid()) {
      this.printLine('Storage is corrupt.');
      this.flash.eraseAll();
    }
    await this.startSession({ isReset: false });
    const power = this.power as PowerSession | undefined;
    if (power && !power.halted && this.rt && this.flash.fileInfo(storageName('.wificfg'))) {
      // main.c: Wifi.restore() runs after all the JS boot code
      this.rt.ensureWifi();
      power.radio.restore();
    }
    if (power) power.firstBoot = false;
    await this.processPending();
  }

  private async startSession(o: { isReset: boolean; file?: string }): Promise<void> {
    const rt = new Runtime(this.services, this.power!);
    this.rt = rt;
    this.vmPromises.push(rt.promiseConstructor);
    rt.boot(o);
    await rt.net.ready();
  }

  private requestRestart(why: string): void {
    if (!this.power || this.power.halted) return;
    this.power.halted = why;
    this.pending = { type: 'restart', why };
  }

  /** Everything of the current power session goes away (RAM, sockets, radio, timers). */
  private teardown(): void {
    if (this.rt) this.rt.end();
    this.rt = undefined;
    if (this.power) {
      this.sdkOpmode = this.power.radio.persistedOpmode;
      this.power.clock.cancelAllTasks();
      this.power.halted ??= 'powered off';
    }
    this.power = undefined;
  }

  private cutPower(why: string): void {
    if (!this.power) return;
    this.power.halted = why;
    this.pending = undefined;
    this.teardown();
    this.events.emit('powercut', why);
  }

  private async processPending(): Promise<void> {
    while (this.pending && !this.stopped) {
      const p = this.pending;
      this.pending = undefined;
      if (p.type === 'restart') {
        this.teardown();
        await this.powerOnInternal(p.why);
        this.events.emit('reboot', { bootCount: this.bootCount, why: p.why });
        continue;
      }
      const rt = this.rt;
      if (!rt || !this.power) continue;
      rt.emitKill();
      rt.end();
      if (p.type === 'reset' && p.clearFlash) for (const f of ['.bootcde', '.bootrst', '.varimg']) this.flash.eraseFile(storageName(f));
      await this.startSession({ isReset: p.type === 'reset' || p.file !== undefined, file: p.file });
    }
  }

  /** Cut the power now: no 'kill' event, RAM lost, flash kept. The device stays off until powerOn(). */
  powerCut(): void {
    this.cutPower('power cut');
  }

  /** Power the device on again (boots from the flash as it is). */
  async powerOn(): Promise<void> {
    if (this.power) throw new Error('the device is already powered on');
    await this.powerOnInternal('power on');
  }

  /** Close every real socket and server, stop all timers. Call in afterEach. */
  stop(): void {
    this.pause();
    this.pending = undefined;
    if (this.power) this.power.halted = 'stopped';
    this.teardown();
    this.stopped = true;
    liveSims.delete(this);
  }

  get running(): boolean {
    return !!this.rt && !!this.power && !this.power.halted;
  }

  on(event: 'reboot', fn: (info: { bootCount: number; why: string }) => void): this;
  on(event: 'line', fn: (line: string) => void): this;
  on(event: 'powercut', fn: (why: string) => void): this;
  on(event: string, fn: (...a: any[]) => void): this {
    this.events.on(event, fn);
    return this;
  }

  ownsPromise(p: unknown): boolean {
    return this.vmPromises.some((P) => p instanceof P);
  }

  unhandledRejection(reason: unknown): void {
    if (!this.rt) return;
    let msg: string;
    try {
      msg = String(reason);
    } catch {
      msg = Object.prototype.toString.call(reason);
    }
    this.rt.uncaught(jsException('Error', `Unhandled promise rejection: ${msg}`));
  }

  // ================================================================== time

  /** Virtual ms since the current power-on (0 while powered off). */
  now(): number {
    return this.power?.clock.now ?? 0;
  }

  /**
   * Advance virtual time by `ms`, running the device's idle loop: due timers fire in time order,
   * and between iterations (at least every 10 virtual ms while real sockets are open) we yield to
   * Node so real socket I/O is delivered at the current virtual time. Concurrent calls run one
   * after the other.
   */
  advance(ms: number): Promise<void> {
    const run = this.advanceChain.then(() => this.advanceNow(ms));
    this.advanceChain = run.catch(() => {});
    return run;
  }

  private async advanceNow(ms: number): Promise<void> {
    this.advancing = true;
    try {
      let remaining = Math.max(0, ms);
      let spins = 0;
      for (;;) {
        await yieldToNode();
        if (!this.rt || !this.power || this.stopped) break;
        const worked = this.rt.loopOnce();
        if (this.pending) await this.processPending();
        this.wakeIterationWaiters();
        const rt = this.rt as Runtime | undefined;
        const power = this.power as PowerSession | undefined;
        if (!rt || !power || power.halted) break;
        const clock = power.clock;
        if (worked && remaining > 1e-9) {
          const cost = Math.min(LOOP_COST_MS, remaining);
          clock.now += cost;
          this.elapsed += cost;
          remaining -= cost;
        }
        if (rt.busy()) {
          if (++spins < SPIN_LIMIT) continue;
          clock.now += 1; // a device that is always busy still spends time
          this.elapsed += 1;
          remaining -= 1;
          spins = 0;
          if (remaining <= 1e-9) break;
          continue;
        }
        spins = 0;
        if (remaining <= 1e-9) break;
        let step = Math.min(clock.nextTimerDue(), clock.nextTaskDue()) - clock.now;
        step = Math.min(step, remaining);
        if (rt.net.hasOpenRealSockets() || this.realtimeOn) step = Math.min(step, IO_STEP_MS);
        step = Math.max(step, 0);
        clock.now += step;
        this.elapsed += step;
        remaining -= step;
      }
    } finally {
      this.advancing = false;
      this.wakeIterationWaiters();
    }
  }

  private wakeIterationWaiters(): void {
    const w = this.iterationWaiters;
    this.iterationWaiters = [];
    for (const f of w) f();
  }

  /** Let the device run a little: piggyback on a running advance(), or advance 1 ms ourselves. */
  private pump(): Promise<void> {
    if (this.advancing) return new Promise<void>((r) => this.iterationWaiters.push(r));
    return this.advance(1);
  }

  /** Advance in steps until pred() is true (checked before each step). Resolves false after maxMs. */
  async until(pred: () => boolean, maxMs: number, stepMs = 10): Promise<boolean> {
    let waited = 0;
    for (;;) {
      if (pred()) return true;
      if (waited >= maxMs) return false;
      const s = Math.min(stepMs, maxMs - waited);
      await this.advance(s);
      waited += s;
    }
  }

  /** Index to pass to waitForLog to only look at lines printed from now on. */
  markLog(): number {
    return this.console.length;
  }

  /** Wait until a console line (from index `from`) matches; returns it, throws after maxMs. */
  async waitForLog(re: RegExp, maxMs: number, from = 0): Promise<string> {
    const find = () => this.console.slice(from).find((l) => re.test(l));
    await this.until(() => find() !== undefined, maxMs);
    const l = find();
    if (l === undefined) {
      throw new Error(`no console line matching ${re} within ${maxMs} virtual ms; last lines:\n${this.console.slice(-15).join('\n')}`);
    }
    return l;
  }

  /** Advance virtual time with the wall clock (x speed) until pause(). For the interactive virtual board. */
  realtime(speed = 1): void {
    this.pause();
    this.realtimeOn = true;
    let last = performance.now();
    const tick = async () => {
      if (!this.realtimeOn) return;
      const wall = performance.now();
      if (!this.advancing) {
        // (a test may be advancing by hand meanwhile: then we just wait for it)
        const dt = (wall - last) * speed;
        last = wall;
        try {
          await this.advance(dt);
        } catch (e) {
          this.printLine(`sim: ${String(e)}`);
        }
      }
      if (this.realtimeOn) this.realtimeTimer = setTimeout(tick, 5);
    };
    void tick();
  }

  pause(): void {
    this.realtimeOn = false;
    if (this.realtimeTimer) clearTimeout(this.realtimeTimer);
    this.realtimeTimer = undefined;
  }

  // ================================================================== device inspection

  /** Evaluate code on the device like the Web IDE console; an exception is printed and returned as an Error. */
  repl(code: string): any {
    if (!this.rt || !this.running) throw new Error('the device is not running');
    const r = this.rt.evaluate(code, 'repl', true);
    if (r.error !== undefined) {
      const e = r.error;
      if (e instanceof Error) return e;
      const o = (e ?? {}) as { name?: unknown; message?: unknown };
      const err = new Error(typeof o.message === 'string' ? o.message : this.rt.errString(e));
      err.name = typeof o.name === 'string' ? o.name : 'Error';
      (err as Error & { cause?: unknown }).cause = e;
      return err;
    }
    return r.value;
  }

  /** Live JS timers (setTimeout/setInterval; not watch debounce timers). */
  timerCount(): number {
    return this.rt?.timerCount() ?? 0;
  }

  /** Sockets in use (servers + connections + UDP), out of 10. */
  socketCount(): number {
    return this.rt?.net.socketCount() ?? 0;
  }

  /** What each open socket is doing (servers, HTTP requests, client sockets, UDP), for diagnosis. */
  sockets(): Record<string, unknown>[] {
    return this.rt?.net.describe() ?? [];
  }

  /** Espruino's telnet console (TelnetServer) in this power session: "on" unless the firmware turned it off. */
  get telnet(): 'on' | 'off' {
    return this.power?.telnet ?? 'on';
  }

  get tlsConnects(): number {
    return this.netStats.tlsConnects;
  }

  /** A phone joins the device's access point (emits 'sta_joined'). Returns false when the AP is full (4). */
  stationJoin(mac: string): boolean {
    return this.hw().radio.stationJoin(mac);
  }

  stationLeave(mac: string): void {
    this.hw().radio.stationLeave(mac);
  }

  // ================================================================== sockets

  /** Real 127.0.0.1 port the firmware's TCP listen(devicePort) is bound to. */
  httpPort(devicePort = 80): number {
    const p = this.rt?.net.httpPort(devicePort);
    if (p === undefined) throw new Error(`nothing listens on device TCP port ${devicePort} (yet)`);
    return p;
  }

  /** Real 127.0.0.1 port of the firmware's dgram socket bound to devicePort. */
  udpPort(devicePort: number): number {
    const p = this.rt?.net.udpPort(devicePort);
    if (p === undefined) throw new Error(`no UDP socket bound to device port ${devicePort} (yet)`);
    return p;
  }

  /**
   * Send a real HTTP request to the device's port 80 while advancing virtual time in 1 ms steps
   * until the device closes the connection (Espruino always closes after the response).
   */
  async fetch(path: string, init: FetchInit = {}, devicePort = 80): Promise<FetchResult> {
    await this.rt?.net.ready();
    const port = this.httpPort(devicePort);
    const timeoutMs = init.timeoutMs ?? 30000;
    let chunks: Buffer[];
    if (init.chunks) chunks = init.chunks.map((c) => (typeof c === 'string' ? toBytes(c, 'fetch chunk') : c));
    else {
      const method = init.method ?? 'GET';
      const body = init.body === undefined ? undefined : typeof init.body === 'string' ? toBytes(init.body, 'fetch body') : init.body;
      const hdrs: [string, string][] = Array.isArray(init.headers) ? init.headers : Object.entries(init.headers ?? {});
      const has = (n: string) => hdrs.some(([k]) => k.toLowerCase() === n);
      if (!has('host')) hdrs.unshift(['Host', '192.168.4.1']);
      if (body && !has('content-length') && !has('transfer-encoding')) hdrs.push(['Content-Length', String(body.length)]);
      const head = `${method} ${path} HTTP/1.1\r\n${hdrs.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
      chunks = [Buffer.concat([toBytes(head, 'fetch headers'), body ?? Buffer.alloc(0)])];
    }
    const raw = await this.exchange(port, chunks, timeoutMs);
    return parseHttpResponse(raw);
  }

  /** Send raw chunks (each in its own TCP segment, consumed by the device before the next) and read until close. */
  private async exchange(port: number, chunks: Buffer[], timeoutMs: number): Promise<string> {
    const sock = nodeNet.connect(port, '127.0.0.1');
    const rx: Buffer[] = [];
    let closed = false;
    let error: Error | undefined;
    let connected = false;
    sock.on('connect', () => (connected = true));
    sock.on('data', (b) => rx.push(b));
    sock.on('error', (e) => (error = e));
    sock.on('close', () => (closed = true));
    const start = this.elapsed;
    const inTime = () => this.elapsed - start < timeoutMs && !this.stopped && this.running;
    try {
      while (!connected && !closed && inTime()) await this.pump();
      for (let i = 0; i < chunks.length && !closed; i++) {
        const base = this.netStats.rxBytes;
        sock.write(chunks[i]);
        if (i < chunks.length - 1) {
          // let the device receive and process this segment before the next one is sent
          while (this.netStats.rxBytes < base + chunks[i].length && !closed && inTime()) await this.pump();
          await this.pump();
          await this.pump();
        }
      }
      while (!closed && inTime()) await this.pump();
    } finally {
      if (!closed) sock.destroy();
    }
    const raw = Buffer.concat(rx).toString('latin1');
    if (!closed) throw new Error(`no complete response within ${timeoutMs} virtual ms (connection still open); received ${raw.length} bytes: ${JSON.stringify(raw.slice(0, 200))}`);
    if (!raw) {
      throw new Error(`the device closed the connection without answering${error ? ` (${error.message})` : ''}: ` +
        'is a link up (AP running or STA connected) and a socket free?');
    }
    return raw;
  }
}

/** Parse a raw HTTP response (status line, headers, body; chunked bodies decoded). */
export function parseHttpResponse(raw: string): FetchResult {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`response has no header terminator: ${JSON.stringify(raw.slice(0, 200))}`);
  const lines = raw.slice(0, end).split('\r\n');
  const m = /^HTTP\/\d\.\d (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
  const rawHeaders: [string, string][] = [];
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i < 0) continue;
    const k = l.slice(0, i);
    const v = l.slice(i + 1).trim();
    rawHeaders.push([k, v]);
    headers[k.toLowerCase()] = v;
  }
  let body = raw.slice(end + 4);
  if ((headers['transfer-encoding'] ?? '').toLowerCase() === 'chunked') {
    let out = '';
    let rest = body;
    for (;;) {
      const nl = rest.indexOf('\r\n');
      if (nl < 0) break;
      const len = parseInt(rest.slice(0, nl), 16);
      if (!len) break;
      out += rest.slice(nl + 2, nl + 2 + len);
      rest = rest.slice(nl + 2 + len + 2);
    }
    body = out;
  }
  return { status: Number(m[1]), statusText: m[2] ?? '', headers, rawHeaders, body, raw };
}
