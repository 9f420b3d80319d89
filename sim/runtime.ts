/**
 * One JS session of the device: a `vm` context whose globals reproduce the Espruino 2v29 API
 * (print/console, timers, pins, E, process, require, Modules, url, btoa/atob...), the
 * Espruino event emitter built into every object, and the idle loop (jsiIdle).
 *
 * A session ends on load()/reset() (RAM cleared, radio and clock kept) and on a hardware
 * reboot or power cut (everything but the flash is lost).
 */
import * as vm from 'node:vm';
import { HaltSignal, crc32, fromBytes, jsException, toBytes, typeName } from './bytes.ts';
import { Clock, TIMER_MAX_INTERVAL, TIMER_MIN_INTERVAL, type JsTimer } from './clock.ts';
import type { Host } from './host.ts';
import { NetStack, streamBuffers, type NetEnv } from './net.ts';
import type { Pins } from './pins.ts';
import { Flash, makeStorageModule, storageName } from './storage.ts';
import type { Chip } from './types.ts';
import { decodeURIComponentEspruino, encodeURIComponentEspruino, urlParse } from './url.ts';
import { enterDevice, leaveDevice } from './watchdog.ts';
import type { Radio } from './wifi.ts';

/** Real (wall-clock) ms that code evaluated at global scope (boot files, REPL) may run. */
const JS_EVAL_TIMEOUT_MS = 10000;
/** Queued events executed per idle-loop iteration at most (host safety valve, not an Espruino limit). */
const MAX_EVENTS_PER_ITERATION = 10000;
/** Object.emit passes at most 4 arguments (jswrap_object_emit). */
const MAX_EMIT_ARGS = 4;

/** The hardware of one power-on (survives load()/reset(), not a reboot). */
export interface PowerSession {
  clock: Clock;
  pins: Pins;
  radio: Radio;
  /** setTime() offset: getTime() = (clock.now + timeOffsetMs) / 1000 */
  timeOffsetMs: number;
  /** E.setTimeZone hours */
  tzHours: number;
  /** set when the machine is dead (power cut / rebooting): every native call throws */
  halted?: string;
  firstBoot: boolean;
  /** ESP8266.getResetInfo().reason */
  resetReason: string;
  /** TelnetServer console on port 23: on at every power-on, as in Espruino's ESP builds */
  telnet?: 'on' | 'off';
}

/** What the runtime needs from the Sim (persistent across sessions). */
export interface SimServices {
  readonly chip: Chip;
  readonly mac: string;
  readonly tls: boolean;
  readonly flash: Flash;
  readonly netEnvBase: Omit<NetEnv, 'chip' | 'linkUp' | 'staUp' | 'block' | 'tls'>;
  printLine(line: string): void;
  recordUncaught(e: unknown): void;
  recordError(msg: string): void;
  /** E.reboot / ESP32.reboot: restart the chip after the current JS call. */
  requestRestart(why: string, emitKill: boolean): void;
  requestSoftReset(kind: 'load' | 'reset', file?: string, clearFlash?: boolean): void;
  onActivity(): void;
  /** Espruino-compatibility check for code evaluated from Storage (cached). */
  bundleFunctionCount: number;
}

type Listeners = Map<string, unknown[]>;

/** Pretty-print like Espruino's console.log for objects: { "a": 1, "b": [ 1, 2 ] } */
function formatValue(v: unknown, nested = false, seen: unknown[] = []): string {
  if (typeof v === 'string') return nested ? JSON.stringify(v) : v;
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'function') return nested ? 'function () { ... }' : String(v);
  if (typeof v === 'object') {
    if (seen.includes(v)) return '~';
    const s = [...seen, v];
    if (Array.isArray(v)) return v.length ? `[ ${v.map((x) => formatValue(x, true, s)).join(', ')} ]` : '[  ]';
    if (ArrayBuffer.isView(v)) return `new ${v.constructor?.name ?? 'Uint8Array'}([${Array.from(v as unknown as ArrayLike<number>).join(', ')}])`;
    const e = v as { message?: unknown; name?: unknown };
    if (typeof e.message === 'string' && typeof e.name === 'string' && Object.keys(v).length === 0) return `${e.name}: ${e.message}`;
    const keys = Object.keys(v);
    if (!keys.length) return '{  }';
    return `{ ${keys.map((k) => `${JSON.stringify(k)}: ${formatValue((v as Record<string, unknown>)[k], true, s)}`).join(', ')} }`;
  }
  return String(v);
}

/** Re-escape V8's JSON.stringify output the way Espruino's jsonStyle escapeCharacter does. */
export function espruinoJsonEscapes(out: string): string {
  return out.replace(/\\\\|\\u([0-9a-f]{4})|[\x7f-\xff]/g, (m: string, h?: string) => {
    if (m === '\\\\') return m;
    if (h) return '\\u' + h.toUpperCase();
    return '\\u00' + m.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
  });
}

const PRELUDE = `
(function (g, nowMs, tzMs) {
  "use strict";
  function del(o, names) { for (var i = 0; i < names.length; i++) { try { delete o[names[i]]; } catch (e) {} } }
  // Built-ins Espruino 2v29 does not have (reference §5): code that relies on them must fail here too.
  del(g, ['Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry', 'Symbol', 'Proxy', 'Reflect', 'Intl',
    'RangeError', 'encodeURI', 'decodeURI', 'SharedArrayBuffer', 'Atomics', 'BigInt', 'BigInt64Array', 'BigUint64Array',
    'AggregateError', 'WebAssembly', 'queueMicrotask', 'structuredClone']);
  del(Array, ['from', 'of']);
  del(Array.prototype, ['lastIndexOf', 'reduceRight', 'keys', 'entries', 'values', 'flat', 'flatMap', 'at', 'findLast',
    'findLastIndex', 'copyWithin', 'toSorted', 'toReversed', 'toSpliced', 'with']);
  del(Number, ['isInteger', 'isFinite', 'isNaN', 'isSafeInteger', 'EPSILON', 'MAX_SAFE_INTEGER', 'MIN_SAFE_INTEGER']);
  del(Math, ['trunc', 'log2', 'log10', 'hypot', 'cbrt']);
  del(Object, ['freeze', 'seal', 'is', 'getOwnPropertySymbols']);
  del(Promise, ['race', 'allSettled', 'any']);
  del(Promise.prototype, ['finally']);
  del(String, ['raw']);
  del(String.prototype, ['search', 'localeCompare', 'normalize', 'at', 'matchAll', 'concat', 'trimStart', 'trimEnd',
    'trimLeft', 'trimRight', 'codePointAt']);
  del(ArrayBuffer.prototype, ['slice']);
  // Espruino 2v29's String.indexOf (jswrap_string.c, the string-iterator search of builds without
  // SAVE_ON_FLASH, ESP32 and ESP8266 included) compares with jsvCompareStringIt(..., equalAtEnd):
  // a haystack that ENDS in the first characters of the needle counts as a match there, so
  // "abcd".indexOf("dz") is 3. includes() and replace()/replaceAll() with a string pattern use it.
  var strIndexOf = String.prototype.indexOf;
  function espIndexOf(s, sub, from) {
    sub = String(sub);
    if (sub.length > s.length) return -1;
    var idx = 0;
    if (typeof from === 'number' || (typeof from === 'string' && from !== '' && !isNaN(from))) {
      idx = Math.floor(Number(from));
      if (idx < 0) idx = 0;
      if (idx > s.length - sub.length + 1) idx = s.length - sub.length + 1;
    }
    for (; idx < s.length; idx++) {
      var k = 0;
      while (k < sub.length && idx + k < s.length && s.charCodeAt(idx + k) === sub.charCodeAt(k)) k++;
      if (k === sub.length || idx + k === s.length) return idx;
    }
    return -1;
  }
  Object.defineProperty(String.prototype, 'indexOf', { configurable: true, writable: true, value: function indexOf(sub, from) {
    return espIndexOf(String(this), sub, from);
  } });
  Object.defineProperty(String.prototype, 'includes', { configurable: true, writable: true, value: function includes(sub, from) {
    return espIndexOf(String(this), sub, from) >= 0;
  } });
  var strReplace = String.prototype.replace, strReplaceAll = String.prototype.replaceAll;
  function espReplace(all) {
    return function (pat, rep) {
      var s = String(this);
      if (pat instanceof g.RegExp || typeof rep === 'function') return (all ? strReplaceAll : strReplace).call(s, pat, rep);
      pat = String(pat);
      rep = String(rep);
      var idx = espIndexOf(s, pat);
      while (idx >= 0) {
        s = s.substr(0, idx) + rep + s.substr(idx + pat.length);
        idx = all ? espIndexOf(s, pat, idx + rep.length) : -1;
      }
      return s;
    };
  }
  Object.defineProperty(String.prototype, 'replace', { configurable: true, writable: true, value: espReplace(false) });
  Object.defineProperty(String.prototype, 'replaceAll', { configurable: true, writable: true, value: espReplace(true) });
  void strIndexOf;
  // Date runs on the device clock (1970 + uptime unless setTime()), in E.setTimeZone() time, not the host's.
  var RealDate = g.Date;
  var SimDate = class Date extends RealDate {
    constructor(a, b, c, d, e, f, h) {
      var n = arguments.length;
      if (n === 0) super(nowMs());
      else if (n === 1) super(a);
      else super(RealDate.UTC(a, b, n > 2 ? c : 1, n > 3 ? d : 0, n > 4 ? e : 0, n > 5 ? f : 0, n > 6 ? h : 0) - tzMs());
    }
    static now() { return nowMs(); }
  };
  var local = ['FullYear', 'Month', 'Date', 'Day', 'Hours', 'Minutes', 'Seconds', 'Milliseconds'];
  local.forEach(function (k) {
    Object.defineProperty(SimDate.prototype, 'get' + k, { configurable: true, writable: true, value: function () {
      return new RealDate(this.getTime() + tzMs())['getUTC' + k]();
    } });
  });
  Object.defineProperty(SimDate.prototype, 'getTimezoneOffset', { configurable: true, writable: true, value: function () { return -tzMs() / 60000; } });
  var DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  function p2(n) { return (n < 10 ? '0' : '') + n; }
  Object.defineProperty(SimDate.prototype, 'toString', { configurable: true, writable: true, value: function () {
    var t = this.getTime(), o = tzMs() / 60000, s = o < 0 ? '-' : '+';
    o = Math.abs(o);
    var u = new RealDate(t + tzMs());
    return DAYS[u.getUTCDay()] + ' ' + MONTHS[u.getUTCMonth()] + ' ' + p2(u.getUTCDate()) + ' ' + u.getUTCFullYear() + ' ' +
      p2(u.getUTCHours()) + ':' + p2(u.getUTCMinutes()) + ':' + p2(u.getUTCSeconds()) + ' GMT' + s + p2(Math.floor(o / 60)) + p2(o % 60);
  } });
  g.Date = SimDate;
})
`;

/** `function` keywords in a text: the simulator's rough measure of the function objects it makes. */
export function countFunctions(code: string): number {
  return (code.match(/function\b/g) ?? []).length;
}

export class Runtime implements Host {
  readonly chip: Chip;
  readonly context: vm.Context;
  readonly global: any;
  readonly net: NetStack;
  readonly clock: Clock;
  readonly Uint8Array: Uint8ArrayConstructor;
  private readonly listenersOf = new WeakMap<object, Listeners>();
  private readonly vmObject: ObjectConstructor;
  private readonly vmArray: ArrayConstructor;
  private readonly vmJSON: JSON;
  private readonly vmPromise: PromiseConstructor;
  private modules = new Map<string, unknown>();
  /** Functions in each cached module's text (process.memory()'s rough estimate counts those loaded). */
  private moduleFunctions = new Map<string, number>();
  private builtins = new Map<string, unknown>();
  private E: any;
  private processObj: any;
  private ended = false;
  /** JS ran during the current loop pass. */
  private worked = false;
  private errorFlags = new Set<string>();

  constructor(private sim: SimServices, readonly power: PowerSession) {
    this.chip = sim.chip;
    this.clock = power.clock;
    this.context = vm.createContext({}, { name: `espruino-${sim.chip}`, codeGeneration: { strings: true, wasm: false } });
    this.global = vm.runInContext('this', this.context);
    this.vmObject = this.global.Object;
    this.vmArray = this.global.Array;
    this.vmJSON = this.global.JSON;
    this.vmPromise = this.global.Promise;
    this.Uint8Array = this.global.Uint8Array;
    const prelude = vm.runInContext(PRELUDE, this.context, { filename: 'sim-prelude' }) as Function;
    prelude(this.global, () => this.epochMs(), () => this.power.tzHours * 3600000);
    this.net = new NetStack(this, {
      ...sim.netEnvBase,
      chip: sim.chip,
      tls: sim.tls,
      linkUp: () => this.power.radio.linkUp(),
      staUp: () => this.power.radio.staIpAddress() !== undefined,
      block: (ms) => {
        this.clock.now += ms;
      },
    });
    this.net.onActivity = () => sim.onActivity();
    this.power.pins.bind(this, this.clock);
    this.installEmitter();
    this.installGlobals();
  }

  // ================================================================== Host

  now(): number {
    return this.clock.now;
  }

  epochMs(): number {
    return this.clock.now + this.power.timeOffsetMs;
  }

  timeSec(): number {
    return this.epochMs() / 1000;
  }

  toSec = (ms: number): number => (ms + this.power.timeOffsetMs) / 1000;

  print(line: string): void {
    for (const l of line.split('\n')) this.sim.printLine(l);
  }

  jsError(msg: string): void {
    this.print(`ERROR: ${msg}`);
    this.sim.recordError(msg);
  }

  jsWarn(msg: string): void {
    this.print(`WARNING: ${msg}`);
  }

  listeners(obj: object, ev: string): unknown[] {
    return this.listenersOf.get(obj)?.get(ev)?.slice() ?? [];
  }

  queueEvent(obj: object, ev: string, args: unknown[]): void {
    if (this.ended) return;
    const fns = this.listeners(obj, ev);
    if (fns.length) this.clock.queue(fns, obj, args);
  }

  queueCall(fn: unknown, args: unknown[], thisArg?: unknown): void {
    if (this.ended) return;
    if (typeof fn === 'function' || typeof fn === 'string') this.clock.queue([fn], thisArg, args);
  }

  later(ms: number, fn: () => void): number {
    return this.clock.at(ms, fn);
  }

  cancel(handle: number | undefined): void {
    this.clock.cancel(handle);
  }

  obj(props?: Record<string, unknown>): any {
    const o: any = new this.vmObject();
    if (props) for (const k of Object.keys(props)) o[k] = props[k];
    return o;
  }

  arr(items?: unknown[]): any {
    const a = new this.vmArray();
    if (items) for (const i of items) a.push(i);
    return a;
  }

  data<T>(value: T): T {
    if (value === undefined) return value;
    return this.vmJSON.parse(JSON.stringify(value));
  }

  alive(): void {
    if (this.power.halted) throw new HaltSignal(this.power.halted);
  }

  powerCutNow(why: string): never {
    throw new HaltSignal(why);
  }

  /** Run a device function from the idle loop; exceptions print "Uncaught ...". */
  call(fn: unknown, thisArg: unknown, args: unknown[]): unknown {
    if (this.power.halted || this.ended) return undefined;
    this.worked = true;
    try {
      if (typeof fn === 'string') return vm.runInContext(fn, this.context, { filename: 'callback', timeout: JS_EVAL_TIMEOUT_MS });
      if (typeof fn !== 'function') return undefined;
      return this.invoke(fn as Function, thisArg, args);
    } catch (e) {
      this.uncaught(e);
      return undefined;
    }
  }

  /** A plain call into device code, watched by the process watchdog. */
  private invoke(fn: Function, thisArg: unknown, args: unknown[]): unknown {
    enterDevice();
    try {
      return Reflect.apply(fn, thisArg, args);
    } finally {
      leaveDevice();
    }
  }

  /** jsiCheckErrors: hand to process.on('uncaughtException') or print "Uncaught ...". */
  uncaught(e: unknown): void {
    if (e instanceof HaltSignal || this.power.halted) return;
    if (e instanceof Error && /Script execution timed out/.test(e.message)) {
      e = jsException('InternalError', `JS blocked the interpreter for more than ${JS_EVAL_TIMEOUT_MS / 1000} s (the chip's watchdog would reset it)`);
    }
    const handlers = this.processObj ? this.listeners(this.processObj, 'uncaughtException') : [];
    if (handlers.length) {
      for (const h of handlers) {
        try {
          if (typeof h === 'function') this.invoke(h, this.processObj, [e]);
        } catch (e2) {
          this.sim.recordUncaught(e2);
          this.print(`Uncaught ${this.errString(e2)}`);
        }
      }
      return;
    }
    this.sim.recordUncaught(e);
    this.print(`Uncaught ${this.errString(e)}`);
  }

  errString(e: unknown): string {
    try {
      return String(e);
    } catch {
      return Object.prototype.toString.call(e);
    }
  }

  /** The device realm's Promise (to recognise the device's unhandled rejections). */
  get promiseConstructor(): PromiseConstructor {
    return this.vmPromise;
  }

  // ================================================================== evaluation

  /**
   * Evaluate code at global scope (boot files, REPL); exceptions print "Uncaught ..." and are returned.
   * Boot files run under vm's own time limit. `watched`: under the process watchdog only, like a
   * callback, for REPL lines, which tests send on every step of a poll (vm's per-call time limit
   * costs about 0.1 ms, most of the cost of a poll over minutes of virtual time).
   */
  evaluate(code: string, filename: string, watched = false): { value?: unknown; error?: unknown } {
    try {
      enterDevice();
      try {
        return { value: vm.runInContext(code, this.context, watched ? { filename } : { filename, timeout: JS_EVAL_TIMEOUT_MS }) };
      } finally {
        leaveDevice();
      }
    } catch (e) {
      this.uncaught(e);
      return { error: e };
    }
  }

  private storageText(name: string): string | undefined {
    const b = this.sim.flash.readFile(storageName(name));
    return b ? fromBytes(b) : undefined;
  }

  /** jsiSoftInit: .bootPowerOn (first boot), .boot0-3, .bootrst or .bootcde (or `file`), E 'init', onInit(). */
  boot(opts: { isReset: boolean; file?: string }): void {
    if (this.power.firstBoot) {
      const c = this.storageText('.bootPowerOn');
      if (c !== undefined) this.evaluate(c, '.bootPowerOn');
    }
    for (let i = 0; i < 4; i++) {
      const c = this.storageText(`.boot${i}`);
      if (c !== undefined) this.evaluate(c, `.boot${i}`);
    }
    if (opts.file !== undefined) {
      const c = this.storageText(opts.file);
      if (c !== undefined) this.evaluate(c, opts.file);
    } else {
      const rst = this.storageText('.bootrst');
      const code = rst ?? (opts.isReset ? undefined : this.storageText('.bootcde'));
      if (code !== undefined) this.evaluate(code, rst !== undefined ? '.bootrst' : '.bootcde');
    }
    for (const f of this.listeners(this.E, 'init')) this.call(f, this.E, []);
    const onInit = this.global.onInit;
    if (typeof onInit === 'function') this.call(onInit, undefined, []);
  }

  // ================================================================== idle loop

  /**
   * One pass of jsiIdle: driver events, pin watches, timers, sockets, then the event queue.
   * Returns true when the pass did work (ran JS or moved socket data): such a pass costs the
   * device time, see LOOP_COST_MS in sim.ts.
   */
  loopOnce(): boolean {
    if (this.ended) return false;
    this.worked = false;
    const alive = () => !this.power.halted && !this.ended;
    this.clock.runTasks(alive);
    if (!alive()) return this.worked;
    this.power.pins.processEvents(this.toSec);
    if (!alive()) return this.worked;
    this.clock.runTimers((t) => this.execTimer(t), alive);
    if (!alive()) return this.worked;
    if (this.net.idle()) this.worked = true;
    this.runEvents();
    return this.worked;
  }

  runEvents(): void {
    const q = this.clock.events;
    // bounded so a firmware that emits events forever cannot hang the host: the rest waits for the next iteration
    for (let n = 0; n < MAX_EVENTS_PER_ITERATION && q.length && !this.power.halted && !this.ended; n++) {
      const ev = q.shift()!;
      for (const f of ev.fns) this.call(f, ev.thisArg, ev.args);
    }
  }

  private execTimer(t: JsTimer): void {
    if (t.debounce) this.power.pins.fireDebounce(t, this.toSec);
    else this.call(t.fn, undefined, t.args);
  }

  busy(): boolean {
    if (this.ended || this.power.halted) return false;
    return this.clock.events.length > 0 || this.power.pins.hasPendingEvents() || this.clock.nextTimerDue() <= this.clock.now ||
      this.clock.nextTaskDue() <= this.clock.now || this.net.busy();
  }

  timerCount(): number {
    return this.clock.timers.filter((t) => !t.debounce).length;
  }

  /** E.on('kill') handlers (jsiKill), run synchronously. */
  emitKill(): void {
    for (const f of this.listeners(this.E, 'kill')) this.call(f, this.E, []);
  }

  /** End this JS session: sockets closed, timers and watches cleared, queued events dropped. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.net.kill();
    this.clock.clearAllTimers();
    this.clock.events.length = 0;
    this.power.pins.clearWatches();
    this.power.radio.unbind();
  }

  // ================================================================== emitter

  private installEmitter(): void {
    const self = this;
    const proto = this.vmObject.prototype;
    const check = (parent: unknown, event: unknown) => {
      if (parent === null || (typeof parent !== 'object' && typeof parent !== 'function')) {
        throw jsException('TypeError', 'Parent must be an object - not a String, Integer, etc');
      }
      if (typeof event !== 'string') throw jsException('TypeError', 'First argument must be String');
    };
    const add = function (this: object, event: unknown, listener: unknown, first: boolean) {
      check(this, event);
      if (typeof listener !== 'function' && typeof listener !== 'string') {
        throw jsException('TypeError', 'Second argument must be a function or a String');
      }
      let m = self.listenersOf.get(this);
      if (!m) {
        m = new Map();
        self.listenersOf.set(this, m);
      }
      const old = m.get(event as string) ?? [];
      // a new array each time: a handler added while the event runs is not called for it
      m.set(event as string, first ? [listener, ...old] : [...old, listener]);
      if (event === 'data') {
        const st = streamBuffers.get(this);
        if (st && st.buf) {
          const buf = st.buf;
          st.buf = '';
          self.queueEvent(this, 'data', [buf]);
        }
      }
    };
    const define = (name: string, fn: Function) => Object.defineProperty(proto, name, { value: fn, enumerable: false, writable: true, configurable: true });
    define('on', function (this: object, event: unknown, listener: unknown) {
      add.call(this, event, listener, false);
    });
    define('addListener', function (this: object, event: unknown, listener: unknown) {
      add.call(this, event, listener, false);
    });
    define('prependListener', function (this: object, event: unknown, listener: unknown) {
      add.call(this, event, listener, true);
    });
    define('emit', function (this: object, event: unknown, ...args: unknown[]) {
      check(this, event);
      if (args.length > MAX_EMIT_ARGS) throw jsException('TypeError', `Too many arguments (>${MAX_EMIT_ARGS})`);
      self.queueEvent(this, event as string, args);
    });
    define('removeListener', function (this: object, event: unknown, listener: unknown) {
      check(this, event);
      const m = self.listenersOf.get(this);
      const l = m?.get(event as string);
      if (!l) return;
      const i = l.indexOf(listener);
      if (i >= 0) m!.set(event as string, [...l.slice(0, i), ...l.slice(i + 1)]);
    });
    define('removeAllListeners', function (this: object, event?: unknown) {
      if (this === null || (typeof this !== 'object' && typeof this !== 'function')) {
        throw jsException('TypeError', 'Parent must be an object - not a String, Integer, etc');
      }
      const m = self.listenersOf.get(this);
      if (!m) return;
      if (event === undefined) m.clear();
      else if (typeof event === 'string') m.delete(event);
      else throw jsException('TypeError', 'First argument must be String');
    });
  }

  // ================================================================== globals

  private installGlobals(): void {
    const g = this.global;
    const sim = this.sim;
    const pins = this.power.pins;
    const chip = this.chip;
    const def = (name: string, v: unknown) => {
      g[name] = v;
    };
    const printArgs = (args: unknown[]) => this.print(args.map((a) => formatValue(a)).join(' '));
    // the interpreter's hidden root: only its server-connection list is modelled
    const hidden = this.obj();
    Object.defineProperty(hidden, 'HttpSC', { get: () => this.net.hiddenServerConnections(), enumerable: true });
    Object.defineProperty(g, '\xFF', { value: hidden, enumerable: false, configurable: true, writable: false });

    // ---- JSON.stringify escapes like Espruino: chars < 32 and >= 127 as \u00XX (upper case)
    const v8Stringify = this.vmJSON.stringify;
    Object.defineProperty(this.vmJSON, 'stringify', {
      value: function stringify(this: unknown, v: unknown, r?: unknown, sp?: unknown) {
        const out = v8Stringify.call(this, v, r as never, sp as never) as string | undefined;
        return typeof out === 'string' ? espruinoJsonEscapes(out) : out;
      },
      writable: true, configurable: true, enumerable: false,
    });

    // ---- console
    def('print', (...a: unknown[]) => {
      this.alive();
      printArgs(a);
    });
    const con = this.obj();
    for (const k of ['log', 'info', 'debug', 'warn', 'error', 'trace']) {
      con[k] = (...a: unknown[]) => {
        this.alive();
        printArgs(a);
      };
    }
    def('console', con);
    def('global', g);

    // ---- timers
    const addTimer = (fn: unknown, ms: unknown, args: unknown[], interval: boolean) => {
      this.alive();
      if (typeof fn !== 'function' && typeof fn !== 'string') throw jsException('Error', 'Function or String not supplied!');
      let period = Number(ms);
      if (Number.isNaN(period) || period < TIMER_MIN_INTERVAL) period = TIMER_MIN_INTERVAL;
      if (period > TIMER_MAX_INTERVAL) throw jsException('Error', 'Interval is too long (>100 years)');
      return this.clock.addTimer({ due: this.clock.now + period, interval: interval ? period : undefined, fn, args });
    };
    def('setTimeout', (fn: unknown, ms?: unknown, ...args: unknown[]) => addTimer(fn, ms, args, false));
    def('setInterval', (fn: unknown, ms?: unknown, ...args: unknown[]) => addTimer(fn, ms, args, true));
    const clear = (name: string) => (...args: unknown[]) => {
      this.alive();
      if (args.length === 0) {
        this.clock.clearUserTimers();
        return;
      }
      const id = args[0];
      if (id === undefined) throw jsException('Error', `clear${name}(undefined) not allowed. Use clear${name}() instead`);
      const n = typeof id === 'number' ? id : typeof id === 'string' && /^\d+$/.test(id) ? Number(id) : NaN;
      const t = this.clock.findTimer(n);
      if (t) this.clock.removeTimer(t);
      this.clock.markTimersChanged();
    };
    def('clearTimeout', clear('Timeout'));
    def('clearInterval', clear('Interval'));
    def('changeInterval', (id: unknown, ms: unknown) => {
      this.alive();
      let period = Number(ms);
      if (!(period >= TIMER_MIN_INTERVAL)) period = TIMER_MIN_INTERVAL;
      const t = typeof id === 'number' ? this.clock.findTimer(id) : undefined;
      if (!t) throw jsException('Error', 'Unknown Interval');
      t.interval = period;
      t.due = this.clock.now + period;
      this.clock.markTimersChanged();
    });

    // ---- time
    def('getTime', () => this.timeSec());
    def('setTime', (sec: unknown) => {
      this.alive();
      this.power.timeOffsetMs = Number(sec) * 1000 - this.clock.now;
    });

    // ---- pins
    for (let i = 0; i < pins.count; i++) {
      if (chip === 'ESP8266' && i === 17) def('A0', 17);
      else def(`D${i}`, i);
    }
    if (chip === 'ESP32') {
      def('BTN1', 0); // boards/ESP32.py
      def('LED1', 2);
    }
    def('pinMode', (p: unknown, m?: unknown, a?: unknown) => pins.pinMode(p, m, a));
    def('getPinMode', (p: unknown) => pins.getPinMode(p));
    def('digitalWrite', (p: unknown, v: unknown) => pins.digitalWrite(p, v));
    def('digitalRead', (p: unknown) => pins.digitalRead(p));
    def('analogWrite', (p: unknown, v: unknown, o?: unknown) => pins.analogWrite(p, v, o));
    def('analogRead', (p: unknown) => pins.analogRead(p));
    def('setWatch', (fn: unknown, p: unknown, o?: unknown) => pins.setWatch(fn, p, o));
    def('clearWatch', (...a: unknown[]) => pins.clearWatch(a));
    // Pins are objects with methods on Espruino: D2.set(), D2.read()... (here: methods on Number)
    const np = this.global.Number.prototype;
    const pinMethod = (name: string, fn: (pin: number, ...a: unknown[]) => unknown) =>
      Object.defineProperty(np, name, { value: function (this: number, ...a: unknown[]) { return fn(Number(this), ...a); }, enumerable: false, configurable: true, writable: true });
    pinMethod('set', (p) => pins.digitalWrite(p, 1));
    pinMethod('reset', (p) => pins.digitalWrite(p, 0));
    pinMethod('write', (p, v) => pins.digitalWrite(p, v));
    pinMethod('writeAtTime', (p, v) => pins.digitalWrite(p, v));
    pinMethod('read', (p) => pins.digitalRead(p) === 1);
    pinMethod('toggle', (p) => {
      const v = pins.logical(p) ? 0 : 1;
      pins.digitalWrite(p, v);
      return v === 1;
    });
    pinMethod('mode', (p, m) => pins.pinMode(p, m));
    pinMethod('getMode', (p) => pins.getPinMode(p));

    // ---- identity, process
    const macHex = sim.mac.replace(/:/g, '').toLowerCase();
    def('getSerial', () => `${macHex.slice(0, 8)}-${macHex.slice(8)}`);
    const modulesList = chip === 'ESP32'
      ? 'Flash,Storage,heatshrink,net,dgram,http,NetworkJS,Wifi,ESP32,TelnetServer,neopixel' + (sim.tls ? ',tls,crypto' : '')
      : 'Flash,Storage,heatshrink,net,dgram,http,NetworkJS,Wifi,ESP8266,TelnetServer,neopixel';
    const total = chip === 'ESP32' ? 16000 : 1600;
    const processObj = this.obj({
      version: '2v29',
      env: this.obj({
        VERSION: '2v29', GIT_COMMIT: 'sim', BOARD: chip, RAM: chip === 'ESP32' ? 524288 : 81920,
        FLASH: chip === 'ESP32' ? 4194304 : 4194304, SPIFLASH: 0, STORAGE: sim.flash.size,
        SERIAL: `${macHex.slice(0, 8)}-${macHex.slice(8)}`, CONSOLE: 'Serial1', MODULES: modulesList, EXPTR: 0,
      }),
    });
    processObj.memory = () => {
      // A rough estimate, NOT a measurement: function overhead of the bundle plus live objects.
      let functions = sim.bundleFunctionCount;
      for (const n of this.moduleFunctions.values()) functions += n;
      const usage = Math.min(total, 150 + functions * 4 + this.clock.timers.length * 5 +
        pins.watchCount() * 6 + this.net.socketCount() * 25 + Object.keys(g).length * 2);
      return this.data({ free: total - usage, usage, total, history: 0, gc: 0, gctime: 0, blocksize: chip === 'ESP32' ? 14 : 12,
        rx: { used: 0, total: 1024 }, tx: { used: 0, total: 1024 } });
    };
    this.processObj = processObj;
    def('process', processObj);

    // ---- E
    const E = this.obj();
    this.E = E;
    E.reboot = () => {
      this.alive();
      this.emitKill();
      sim.requestRestart('E.reboot()', false);
      throw new HaltSignal('E.reboot()');
    };
    E.getErrorFlags = () => {
      const f = this.arr([...this.errorFlags]);
      this.errorFlags.clear();
      return f;
    };
    E.CRC32 = (d: unknown) => crc32(this.bytesOf(d));
    E.toString = (...args: unknown[]) => fromBytes(Uint8Array.from(this.flatBytes(args)));
    E.toUint8Array = (...args: unknown[]) => {
      const b = this.flatBytes(args);
      const u = new this.Uint8Array(b.length);
      u.set(b);
      return u;
    };
    E.getSizeOf = (v: unknown) => {
      let n = 1;
      try {
        n += Math.ceil((JSON.stringify(v)?.length ?? 0) / 10);
      } catch {
        n += 10;
      }
      return n;
    };
    E.hwRand = () => (Math.random() * 0x100000000) | 0;
    E.enableWatchdog = () => {};
    E.kickWatchdog = () => {};
    E.setFlags = () => {};
    E.getFlags = () => this.obj({ pretokenise: 0 });
    E.setTimeZone = (h: unknown) => {
      this.power.tzHours = Number(h) || 0;
    };
    E.setBootCode = (code: unknown, alwaysExec?: unknown) => {
      this.alive();
      sim.flash.eraseFile(storageName('.bootcde'));
      sim.flash.eraseFile(storageName('.bootrst'));
      const s = code === undefined ? '' : String(code);
      if (s) sim.flash.writeFile(storageName(alwaysExec ? '.bootrst' : '.bootcde'), toBytes(s, 'E.setBootCode'), 0, 0, 0);
    };
    def('E', E);

    // ---- chip objects
    if (chip === 'ESP32') {
      const esp = this.obj();
      esp.reboot = () => {
        this.alive();
        sim.requestRestart('ESP32.reboot()', false);
        throw new HaltSignal('ESP32.reboot()');
      };
      esp.getState = () => this.data({ sdkVersion: 'v4.4.8', freeHeap: 120000, BLE: false, Wifi: true, minHeap: 100000 });
      esp.getWakeupCause = () => 0;
      const enable = (name: string) => () => {
        this.alive();
        // jsfRemoveCodeFromFlash + reboot
        for (const f of ['.bootcde', '.bootrst', '.varimg']) sim.flash.eraseFile(storageName(f));
        sim.requestRestart(`ESP32.${name}()`, false);
        throw new HaltSignal(`ESP32.${name}()`);
      };
      esp.enableWifi = enable('enableWifi');
      esp.enableBLE = enable('enableBLE');
      def('ESP32', esp);
    } else {
      const esp = this.obj();
      esp.reboot = () => {
        this.alive();
        sim.requestRestart('ESP8266.reboot()', false);
        throw new HaltSignal('ESP8266.reboot()');
      };
      esp.getState = () => this.data({ sdkVersion: '2.2.1', cpuFrequency: 160, freeHeap: 14000, maxCon: 10, flashMap: '4MB:1024/1024', flashKB: 4096, flashChip: '0xe0 0x4016' });
      esp.getResetInfo = () => this.data({ reason: this.power.resetReason, exccause: 0, epc1: 0, epc2: 0, epc3: 0, excvaddr: 0, depc: 0 });
      esp.logDebug = () => {};
      esp.setCPUFreq = () => {};
      def('ESP8266', esp);
    }

    // ---- lifecycle
    def('load', (file?: unknown) => {
      this.alive();
      sim.requestSoftReset('load', file === undefined ? undefined : String(file));
    });
    def('reset', (clearFlash?: unknown) => {
      this.alive();
      sim.requestSoftReset('reset', undefined, !!clearFlash);
    });
    def('save', () => {
      this.alive();
      if (sim.flash.fileInfo(storageName('.bootcde'))) throw jsException('Error', 'Cannot save: .bootcde file already exists. Please remove it first.');
      throw jsException('Error', 'save() (RAM image) is not emulated by the simulator');
    });

    // ---- strings, url
    def('url', this.obj({ parse: (u: unknown, q?: unknown) => urlParse(this, u, q) }));
    def('decodeURIComponent', (s: unknown) => decodeURIComponentEspruino(s));
    def('encodeURIComponent', (s: unknown) => encodeURIComponentEspruino(s));
    def('btoa', (s: unknown) => toBytes(String(s), 'btoa').toString('base64'));
    def('atob', (s: unknown) => {
      const str = String(s).replace(/\s/g, '');
      if (/[^A-Za-z0-9+/=]/.test(str)) throw jsException('Error', 'Invalid base64');
      return Buffer.from(str, 'base64').toString('latin1');
    });

    // ---- modules
    const Modules = this.obj();
    Modules.addCached = (id: unknown, src: unknown) => {
      this.alive();
      if (typeof id !== 'string' || (typeof src !== 'string' && typeof src !== 'function')) {
        throw jsException('Error', 'args must be addCached(string, string|function)');
      }
      this.modules.set(id, this.evaluateModule(src, id));
      this.moduleFunctions.set(id, typeof src === 'string' ? countFunctions(src) : 0);
    };
    Modules.removeCached = (id: unknown) => {
      if (!this.modules.delete(String(id))) throw jsException('Error', `Module ${JSON.stringify(String(id))} not found`);
      this.moduleFunctions.delete(String(id));
    };
    Modules.removeAllCached = () => {
      this.modules.clear();
      this.moduleFunctions.clear();
    };
    Modules.getCached = () => this.arr([...this.modules.keys()]);
    def('Modules', Modules);
    def('require', (name: unknown) => this.require(name));
  }

  /** jspEvaluateModule: run the module text (or a function's code) with `exports` and `module` in scope. */
  private evaluateModule(src: string | Function, id: string): unknown {
    const code = typeof src === 'function' ? `(${Function.prototype.toString.call(src)}).call(this);` : src;
    const module = this.obj({ exports: this.obj() });
    const wrapper = vm.runInContext(`(function (exports, module) {\n${code}\n})`, this.context, { filename: `module ${id}` });
    this.invoke(wrapper, module.exports, [module.exports, module]);
    return module.exports;
  }

  private require(name: unknown): unknown {
    this.alive();
    if (typeof name !== 'string') throw jsException('TypeError', `Expecting module name as a string, got ${typeName(name)}`);
    if (name.length > 128) throw jsException('TypeError', 'Module name too long (max 128 chars)');
    if (this.modules.has(name)) return this.modules.get(name);
    const b = this.builtin(name);
    if (b !== undefined) return b;
    const text = this.storageText(name);
    if (text !== undefined) {
      const m = this.evaluateModule(text, name);
      this.modules.set(name, m);
      return m;
    }
    throw jsException('Error', `Module ${JSON.stringify(name)} not found`);
  }

  private builtin(name: string): unknown {
    if (this.builtins.has(name)) return this.builtins.get(name);
    let m: unknown;
    switch (name) {
      case 'Wifi':
        m = this.power.radio.makeModule(this);
        break;
      case 'Storage':
        m = makeStorageModule(this, this.sim.flash, this.vmJSON);
        break;
      case 'http':
        m = this.net.makeHttp();
        break;
      case 'net':
        m = this.net.makeNet();
        break;
      case 'dgram':
        m = this.net.makeDgram();
        break;
      case 'tls':
        if (!this.sim.tls) return undefined;
        m = this.net.makeTls();
        break;
      case 'TelnetServer': {
        // jswrap_telnet_setOptions: an object with mode "on" or "off"
        const t = this.obj();
        t.setOptions = (o: any) => {
          if (typeof o !== 'object' || o === null) throw jsException('Error', `Expecting Object, got ${typeName(o)}`);
          if (typeof o.mode === 'string') {
            if (o.mode !== 'on' && o.mode !== 'off') throw jsException('Error', 'Unknown mode value');
            this.power.telnet = o.mode;
          }
        };
        m = t;
        break;
      }
      case 'neopixel': {
        const np = this.obj();
        np.write = (pin: unknown, data: unknown) => this.power.pins.neopixelWrite(pin, data);
        m = np;
        break;
      }
      default:
        return undefined;
    }
    this.builtins.set(name, m);
    if (name === 'Wifi') this.power.radio.storage = () => this.builtin('Storage') as never;
    return m;
  }

  /** Make sure the Wifi module exists (the radio needs somewhere to emit events, e.g. for Wifi.restore at boot). */
  ensureWifi(): void {
    this.builtin('Wifi');
    this.power.radio.storage = () => this.builtin('Storage') as never;
  }

  private bytesOf(d: unknown): Uint8Array {
    if (typeof d === 'string') return toBytes(d, 'E.CRC32');
    return Uint8Array.from(this.flatBytes([d]));
  }

  /** E.toString / E.toUint8Array argument flattening. */
  private flatBytes(args: unknown[]): number[] {
    const out: number[] = [];
    const add = (v: unknown) => {
      if (typeof v === 'string') for (const b of toBytes(v, 'E.toString')) out.push(b);
      else if (typeof v === 'number') out.push(v & 0xff);
      else if (typeof v === 'boolean') out.push(v ? 1 : 0);
      else if (Array.isArray(v)) v.forEach(add);
      else if (ArrayBuffer.isView(v)) for (const x of Array.from(v as unknown as ArrayLike<number>)) out.push(Number(x) & 0xff);
      else if (Object.prototype.toString.call(v) === '[object ArrayBuffer]') for (const x of new Uint8Array(v as ArrayBuffer)) out.push(x);
      else if (v && typeof v === 'object' && 'data' in v) {
        const o = v as { data: unknown; count?: unknown };
        const n = Number(o.count ?? 1);
        for (let i = 0; i < n; i++) add(o.data);
      }
    };
    args.forEach(add);
    return out;
  }
}
