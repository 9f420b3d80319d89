/**
 * GPIO: digital IO, PWM (ESP32 LEDC channel pool / ESP8266 software PWM), neopixel, and
 * setWatch with Espruino's debounce state machine.
 *
 * Ported from espruino/Espruino src/jswrap_io.c (setWatch, digitalWrite), src/jsinteractive.c
 * (jsiIdle watch/debounce handling), targets/esp32/jshardware.c + jshardwarePWM.c (negated D0,
 * watch limits, LEDC pools) and targets/esp8266/jshardware.c (software PWM).
 */
import { jsException } from './bytes.ts';
import type { Clock, JsTimer } from './clock.ts';
import type { Host } from './host.ts';
import type { Chip, PinLogEntry } from './types.ts';

const OUTPUT_MODES = new Set(['output', 'opendrain', 'af_output', 'af_opendrain', 'opendrain_pullup']);
const ALL_MODES = new Set(['input', 'input_pullup', 'input_pulldown', 'output', 'opendrain', 'opendrain_pullup',
  'analog', 'af_output', 'af_opendrain']);
/** ESP32 LEDC: 5 channels share the default 5 kHz timer, 3 more channels get a timer each (jshardwarePWM.h). */
const ESP32_PWM_DEFAULT_CHANNELS = 5;
const ESP32_PWM_FREQ_CHANNELS = 3;
const ESP32_PWM_DEFAULT_FREQ = 5000;
const SOFT_PWM_DEFAULT_FREQ = 50;
/** The watch limit the brief asks for (Espruino's IO event queue / EXTI bookkeeping). */
const MAX_WATCHES = 16;
/** setWatch default debounce for a board button (IS_PIN_A_BUTTON), ms. */
const BUTTON_DEBOUNCE_MS = 25;

interface PinState {
  /** Mode string as pinMode/getPinMode know it. */
  mode: string;
  /** pinMode() was called without `automatic`: digitalRead/Write no longer change the mode. */
  manual: boolean;
  /** Output latch (physical level the pin drives when in an output mode). */
  latch: 0 | 1;
  /** Level an external circuit applies (button, pull-up) when the pin is not driving. */
  input: 0 | 1;
  pwm?: { duty: number; freq?: number; soft: boolean };
  analog: number;
}

interface Watch {
  id: number;
  pin: number;
  cb: unknown;
  recur: boolean;
  /** ms; 0 = none */
  debounce: number;
  edge: -1 | 0 | 1;
  /** Last (debounced) logical level. */
  state: boolean;
  lastTime: number | undefined;
  timeout?: JsTimer;
}

interface PinEvent {
  pin: number;
  /** virtual ms */
  t: number;
  /** logical level (after D0 negation on ESP32) */
  high: boolean;
}

export class Pins {
  readonly count: number;
  private pins: PinState[] = [];
  private esp32Channels: number[] = [];
  private esp32FreqChannels: number[] = [];
  /** Every output change (persists across reboots; entries carry the boot number). */
  readonly log: PinLogEntry[];
  private watches: Watch[] = [];
  private events: PinEvent[] = [];
  private lastLogged = new Map<number, string>();
  private host: Host | undefined;
  private clock: Clock | undefined;

  constructor(readonly chip: Chip, log: PinLogEntry[], private bootNumber: () => number) {
    this.log = log;
    this.count = chip === 'ESP32' ? 40 : 18; // ESP8266: D0..D16 + A0 (17)
    for (let i = 0; i < this.count; i++) {
      this.pins.push({
        mode: chip === 'ESP32' ? 'input_pullup' : 'input',
        manual: false,
        latch: 0,
        // ESP32 defaults every pin to input with pull-up; on ESP8266 boards GPIO0/2 have
        // external pull-ups and GPIO15 a pull-down; leave the rest reading 1 like a pulled-up button.
        input: chip === 'ESP8266' && (i === 15 || i === 16) ? 0 : 1,
        analog: 0,
      });
    }
  }

  /** Attach to a JS session (watches/timers live there). */
  bind(host: Host, clock: Clock): void {
    this.host = host;
    this.clock = clock;
    this.watches = [];
    this.events = [];
  }

  negated(pin: number): boolean {
    return this.chip === 'ESP32' && pin === 0;
  }

  isValid(pin: number): boolean {
    return Number.isInteger(pin) && pin >= 0 && pin < this.count;
  }

  private canWatch(pin: number): boolean {
    if (this.chip === 'ESP32') return !(pin >= 6 && pin <= 12); // SPI flash pins
    return pin !== 16 && pin !== 17;
  }

  private isButton(pin: number): boolean {
    return this.chip === 'ESP32' && pin === 0; // BTN1
  }

  // ------------------------------------------------------------------ levels

  private driving(p: PinState): boolean {
    return OUTPUT_MODES.has(p.mode);
  }

  /** Physical level 0/1 (PWM counts as its duty > 0.5 for watches). */
  physical(pin: number): 0 | 1 {
    const p = this.pins[pin];
    if (p.pwm && this.driving(p)) return p.pwm.duty >= 0.5 ? 1 : 0;
    if (!this.driving(p)) return p.input;
    if (p.mode.startsWith('opendrain') || p.mode === 'af_opendrain') return p.latch ? p.input : 0;
    return p.latch;
  }

  logical(pin: number): boolean {
    return (this.physical(pin) === 1) !== this.negated(pin);
  }

  /** Test API: sim.pins.level(pin) -> physical level, or the PWM duty. */
  level(pin: number): number {
    const p = this.pins[pin];
    if (!p) throw new Error(`pin ${pin} does not exist on ${this.chip}`);
    if (p.pwm && this.driving(p)) return p.pwm.duty;
    return this.physical(pin);
  }

  mode(pin: number): string {
    return this.pins[pin].mode;
  }

  /** Run a change of `pin`'s state; queue a watch event if its physical level changed. */
  private withEdges(pin: number, fn: () => void): void {
    const before = this.physical(pin);
    fn();
    const p = this.pins[pin];
    if (!this.driving(p)) this.lastLogged.delete(pin);
    const now = this.physical(pin);
    if (now !== before && this.watches.some((w) => w.pin === pin)) {
      this.events.push({ pin, t: this.clock?.now ?? 0, high: (now === 1) !== this.negated(pin) });
    }
  }

  /** Test API: an external circuit drives the pin to a physical level (0/1) now. */
  setInput(pin: number, level: 0 | 1 | boolean): void {
    if (!this.isValid(pin)) throw new Error(`pin ${pin} does not exist on ${this.chip}`);
    this.withEdges(pin, () => {
      this.pins[pin].input = level ? 1 : 0;
    });
  }

  setAnalog(pin: number, value: number): void {
    this.pins[pin].analog = value;
  }

  /** Append to the log unless it repeats the pin's last logged state (pixel writes always log). */
  private record(pin: number, e: Omit<PinLogEntry, 't' | 'boot' | 'pin'>): void {
    const key = e.kind === 'pixel' ? undefined : JSON.stringify([e.kind, e.value, e.freq, e.soft]);
    if (key !== undefined && this.lastLogged.get(pin) === key) return;
    if (key !== undefined) this.lastLogged.set(pin, key);
    this.log.push({ t: this.clock?.now ?? 0, boot: this.bootNumber(), pin, ...e });
  }

  /** Soft reset keeps pin levels; hardware reset re-creates Pins. */
  clearWatches(): void {
    this.watches = [];
    this.events = [];
  }

  hasPendingEvents(): boolean {
    return this.events.length > 0;
  }

  watchCount(): number {
    return this.watches.length;
  }

  // ------------------------------------------------------------------ JS API

  pinArg(v: unknown): number {
    if (typeof v === 'string') {
      const m = /^D(\d+)$/.exec(v);
      if (m) return Number(m[1]);
      if (v === 'A0' && this.chip === 'ESP8266') return 17;
      return -1;
    }
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    return -1;
  }

  private pinOrThrow(v: unknown): number {
    const pin = this.pinArg(v);
    if (!this.isValid(pin)) throw jsException('Error', 'Invalid pin!');
    return pin;
  }

  private output(pin: number, value: boolean): void {
    const p = this.pins[pin];
    const phys: 0 | 1 = value !== this.negated(pin) ? 1 : 0;
    this.withEdges(pin, () => {
      if (!p.manual) p.mode = 'output';
      p.latch = phys;
      p.pwm = undefined;
    });
    if (this.driving(p)) this.record(pin, { kind: 'digital', value: this.physical(pin) });
  }

  digitalWrite(pinVar: unknown, valueVar: unknown): void {
    this.host?.alive();
    let value = typeof valueVar === 'boolean' ? (valueVar ? 0xffffffff : 0) : Number(valueVar) || 0;
    if (Array.isArray(pinVar)) {
      for (let i = pinVar.length - 1; i >= 0; i--) {
        this.output(this.pinOrThrow(pinVar[i]), (value & 1) === 1);
        value = Math.floor(value / 2);
      }
      return;
    }
    this.output(this.pinOrThrow(pinVar), value !== 0);
  }

  private input(pin: number): boolean {
    const p = this.pins[pin];
    if (!p.manual && this.driving(p)) {
      // digitalRead on an auto-mode output switches it back to an input (jshPinInput)
      this.withEdges(pin, () => {
        p.mode = this.chip === 'ESP32' ? 'input_pullup' : 'input';
        p.pwm = undefined;
      });
    }
    return this.logical(pin);
  }

  digitalRead(pinVar: unknown): number {
    this.host?.alive();
    if (Array.isArray(pinVar)) {
      let v = 0;
      for (const p of pinVar) v = v * 2 + (this.input(this.pinOrThrow(p)) ? 1 : 0);
      return v;
    }
    return this.input(this.pinOrThrow(pinVar)) ? 1 : 0;
  }

  pinMode(pinVar: unknown, mode: unknown, automatic?: unknown): void {
    this.host?.alive();
    const pin = this.pinArg(pinVar);
    if (!this.isValid(pin)) throw jsException('Error', 'Invalid pin');
    const p = this.pins[pin];
    if (typeof mode === 'string' && ALL_MODES.has(mode)) {
      this.withEdges(pin, () => {
        p.mode = mode;
        p.manual = !automatic;
        if (!OUTPUT_MODES.has(mode)) p.pwm = undefined;
      });
      return;
    }
    if (mode !== undefined && mode !== 'auto') throw jsException('Error', 'Unknown pin mode');
    p.manual = false;
  }

  getPinMode(pinVar: unknown): string | undefined {
    const pin = this.pinArg(pinVar);
    if (!this.isValid(pin)) throw jsException('Error', 'Invalid pin');
    return this.pins[pin].mode;
  }

  /**
   * Pins with an ADC: ESP8266's A0 (17); on ESP32 the ADC1 pins 32-39 (Espruino does not drive ADC2,
   * boards/ESP32.py). Elsewhere jshPinAnalog returns NaN (targets/esp32|esp8266/jshardware.c).
   */
  private hasAdc(pin: number): boolean {
    return this.chip === 'ESP32' ? pin >= 32 && pin <= 39 : pin === 17;
  }

  analogRead(pinVar: unknown): number {
    const pin = this.pinOrThrow(pinVar);
    return this.hasAdc(pin) ? this.pins[pin].analog : NaN;
  }

  analogWrite(pinVar: unknown, valueArg: unknown, opts?: unknown): void {
    this.host?.alive();
    const pin = this.pinOrThrow(pinVar);
    const o = (typeof opts === 'object' && opts) ? opts as { freq?: unknown; soft?: unknown; forceSoft?: unknown } : {};
    let value = Number(valueArg);
    let freq = Number(o.freq);
    if (!Number.isFinite(freq)) freq = 0;
    const soft = !!o.soft || !!o.forceSoft;
    if (this.negated(pin)) value = 1 - value;
    if (!(value >= 0)) value = 0;
    if (value > 1) value = 1;
    let rec: { duty: number; freq?: number; soft: boolean };
    if (this.chip === 'ESP32') {
      if (pin === 25 || pin === 26) {
        if (soft) this.host?.jsError('pin does not support software PWM');
        rec = { duty: Math.floor(value * 256) / 256, soft: false }; // 8-bit DAC
      } else if (soft) {
        rec = { duty: value, freq: freq > 0 ? freq : SOFT_PWM_DEFAULT_FREQ, soft: true };
      } else {
        const pool = freq === ESP32_PWM_DEFAULT_FREQ || freq === 0 ? this.esp32Channels : this.esp32FreqChannels;
        const max = pool === this.esp32Channels ? ESP32_PWM_DEFAULT_CHANNELS : ESP32_PWM_FREQ_CHANNELS;
        if (!pool.includes(pin)) {
          // LEDC channels are never released (not even by digitalWrite): jshardwarePWM.c
          if (pool.length >= max) {
            this.host?.jsError('no PWM channel available anymore');
            return;
          }
          pool.push(pin);
        }
        rec = { duty: Math.floor(value * 1024) / 1024, freq: freq || ESP32_PWM_DEFAULT_FREQ, soft: false };
      }
    } else {
      rec = { duty: value, freq: freq > 0 ? freq : SOFT_PWM_DEFAULT_FREQ, soft: true };
    }
    const p = this.pins[pin];
    const prev = p.pwm;
    this.withEdges(pin, () => {
      if (!p.manual) p.mode = 'output';
      p.pwm = rec;
    });
    if (!prev || prev.duty !== rec.duty || prev.freq !== rec.freq || prev.soft !== rec.soft) {
      this.record(pin, { kind: 'pwm', value: rec.duty, freq: rec.freq, soft: rec.soft });
    }
  }

  neopixelWrite(pinVar: unknown, data: unknown): void {
    this.host?.alive();
    const pin = this.pinOrThrow(pinVar);
    let bytes: number[];
    if (typeof data === 'string') bytes = Array.from(data, (c) => c.charCodeAt(0) & 0xff);
    else if (Array.isArray(data) || ArrayBuffer.isView(data)) bytes = Array.from(data as ArrayLike<number>, (x) => Number(x) & 0xff);
    else throw jsException('Error', 'Data must be an array, typed array or string');
    if (!this.pins[pin].manual) this.pins[pin].mode = 'output';
    this.record(pin, { kind: 'pixel', value: bytes });
  }

  // ------------------------------------------------------------------ setWatch

  setWatch(fn: unknown, pinVar: unknown, opts: unknown): number | undefined {
    const host = this.host!;
    host.alive();
    const pin = this.pinArg(pinVar);
    if (!this.isValid(pin)) {
      host.jsError('Invalid pin');
      return undefined;
    }
    const watchingPin = this.watches.some((w) => w.pin === pin);
    if ((!watchingPin && !this.canWatch(pin)) || this.watches.length >= MAX_WATCHES) {
      host.jsWarn('Unable to set watch. You may already have a watch on a pin with the same number (eg. A0 and B0),\nor this pin cannot be used with watch');
      return undefined;
    }
    let repeat = false;
    let debounce = 0;
    let edge: number = 0;
    if (this.isButton(pin)) {
      edge = 1;
      debounce = BUTTON_DEBOUNCE_MS;
    }
    if (typeof opts === 'object' && opts !== null && !Array.isArray(opts)) {
      const o = opts as Record<string, unknown>;
      if ('repeat' in o && o.repeat !== undefined) repeat = !!o.repeat;
      if ('debounce' in o && o.debounce !== undefined) debounce = Number(o.debounce);
      if (!(debounce >= 0)) debounce = 0;
      const e = o.edge;
      if (e === undefined) {
        // default
      } else if (typeof e === 'number' || typeof e === 'boolean') {
        const i = Math.trunc(Number(e));
        edge = i > 0 ? 1 : i < 0 ? -1 : 0;
      } else if (e === 'rising') edge = 1;
      else if (e === 'falling') edge = -1;
      else if (e === 'both') edge = 0;
      else throw jsException('TypeError', "'edge' in setWatch should be 1, -1, 0, 'rising', 'falling' or 'both'");
    } else repeat = !!opts;
    if (typeof fn !== 'function' && typeof fn !== 'string') throw jsException('Error', 'Function or String not supplied!');
    if (!watchingPin) {
      const p = this.pins[pin];
      this.withEdges(pin, () => {
        if (this.chip === 'ESP32') {
          p.mode = 'input_pullup'; // jshPinWatch forces input + pull-up on ESP32
          p.pwm = undefined;
        } else if (!p.manual) p.mode = 'input';
      });
    }
    const last = this.watches[this.watches.length - 1];
    const id = last ? last.id + 1 : 1;
    this.watches.push({
      id, pin, cb: fn, recur: repeat, debounce: Math.trunc(debounce * 1000) / 1000,
      edge: edge as -1 | 0 | 1, state: this.logical(pin), lastTime: undefined,
    });
    return id;
  }

  clearWatch(args: unknown[]): void {
    this.host?.alive();
    if (args.length === 0) {
      this.watches = [];
      return;
    }
    const id = args[0];
    if (id === undefined) throw jsException('Error', 'clearWatch(undefined) not allowed. Use clearWatch() instead');
    const i = this.watches.findIndex((w) => w.id === id);
    if (i < 0) throw jsException('Error', `Unknown Watch ${String(id)}`);
    this.watches.splice(i, 1);
  }

  private shouldExecute(w: Watch, high: boolean): boolean {
    return w.edge === 0 || (w.edge === 1 && high) || (w.edge === -1 && !high);
  }

  private removeWatch(w: Watch): void {
    const i = this.watches.indexOf(w);
    if (i >= 0) this.watches.splice(i, 1);
  }

  /** jsiIdle, EXTI branch: process queued edges (call once per loop iteration). */
  processEvents(toSec: (ms: number) => number): void {
    const host = this.host!;
    const clock = this.clock!;
    const events = this.events;
    this.events = [];
    for (const ev of events) {
      for (const w of this.watches.slice()) {
        if (w.pin !== ev.pin || !this.watches.includes(w)) continue;
        let eventTime = ev.t;
        const high = ev.high;
        let executeNow = false;
        if (w.debounce <= 0) {
          executeNow = true;
          w.state = high;
        } else {
          const oldState = w.state;
          if (w.timeout && !w.timeout.removed) {
            const oldDue = w.timeout.due;
            w.timeout.due = eventTime + w.debounce;
            w.timeout.debounce!.state = high;
            clock.markTimersChanged();
            if (eventTime > oldDue && high !== oldState) {
              // the timeout should have fired but we did not get round to it
              executeNow = true;
              eventTime = oldDue - w.debounce;
              w.state = high;
              clock.removeTimer(w.timeout);
              w.timeout = undefined;
            }
          } else if (high !== oldState) {
            const id = clock.addTimer({ due: eventTime + w.debounce, fn: w.cb, args: [], debounce: { watch: w, state: high } });
            w.timeout = clock.findTimer(id);
          }
        }
        if (executeNow) {
          const time = toSec(eventTime);
          if (this.shouldExecute(w, high)) {
            const data = host.obj({ state: high, lastTime: w.lastTime, time, pin: w.pin });
            host.call(w.cb, undefined, [data]);
            if (!w.recur) this.removeWatch(w);
          }
          w.lastTime = time;
        }
      }
    }
  }

  /** A debounce timeout from the timer table fired (jsiIdle timer branch with a 'watch'). */
  fireDebounce(t: JsTimer, toSec: (ms: number) => number): void {
    const host = this.host!;
    const w = t.debounce!.watch as Watch;
    const watchState = w.state;
    const timerState = t.debounce!.state;
    w.state = timerState;
    let data: unknown;
    if (watchState !== timerState) {
      const time = toSec(t.due - w.debounce);
      if (this.shouldExecute(w, timerState)) data = host.obj({ state: timerState, lastTime: w.lastTime, time, pin: w.pin });
      w.lastTime = time;
    }
    if (data) host.call(t.fn, undefined, [data]);
    if (w.timeout === t) w.timeout = undefined;
    if (data && !w.recur) this.removeWatch(w);
  }
}
