// A fake clock, pins and button for the LED/button code in Node. It keeps Espruino's rules that
// bite (espruino.md §0.7, §3): clearTimeout(undefined) throws, timer ids are reused (a new id is
// the highest live id + 1, so a stale id cancels somebody else's timer), a timeout created in a
// callback counts from the callback's own time, setInterval does not drift, and setWatch's
// debounce reports an edge only once the level has been stable, stamped with the edge's time.
// Creating a FakeHw installs it: the fake platform module serves its pins and clock, and the
// global setTimeout/setInterval/clearTimeout are its timers until FakeHw.restore() (afterEach).
import { useHw } from "./fake-platform.ts";
import type { PinWrite } from "../system/device.ts";

const real = { setTimeout: globalThis.setTimeout, setInterval: globalThis.setInterval, clearTimeout: globalThis.clearTimeout, clearInterval: globalThis.clearInterval };

/** A pin write as the system tests record it, plus the PWM frequency the fake pins were given. */
export interface Write extends PinWrite {
  freq?: number;
}

interface Timer {
  id: number;
  due: number;
  fn: () => void;
  every: number; // 0 = timeout
}

interface Watch {
  id: number;
  pin: number;
  debounce: number;
  cb: (e: { state: boolean; time: number }) => void;
  state: boolean; // last reported level
  pending?: { due: number; state: boolean; edgeAt: number };
}

export class FakeHw {
  t = 0;
  writes: Write[] = [];
  wakeUps = 0; // timer callbacks run
  modes: Record<number, string> = {};
  private timers: Timer[] = [];
  private watches: Watch[] = [];
  private levels: Record<number, number> = {};

  /**
   * `idle` is the level a button pin reads when nobody presses it; `edgeClock` is added to the
   * time setWatch reports (getTime() can run on another base than the firmware's ms clock).
   */
  constructor(private idle: Record<number, number> = {}, private edgeClock = 0) {
    const g = globalThis as any;
    g.setTimeout = this.after;
    g.setInterval = this.every;
    g.clearTimeout = this.cancel;
    g.clearInterval = this.cancel;
    useHw(this);
  }

  /** Puts Node's own timers back (call in afterEach). */
  static restore(): void {
    Object.assign(globalThis, real);
    useHw(undefined);
  }

  // ---- clock
  now = (): number => this.t;
  after = (fn: () => void, ms: number): number => this.add(fn, ms, 0);
  every = (fn: () => void, ms: number): number => this.add(fn, ms, ms);
  cancel = (...args: number[]): void => {
    if (args.length === 0) throw new Error("clearTimeout() with no argument clears every timer");
    const id = args[0];
    if (id === undefined) throw new Error("clearTimeout(undefined) throws in Espruino");
    this.timers = this.timers.filter((t) => t.id !== id);
  };

  private add(fn: () => void, ms: number, every: number): number {
    if (typeof fn !== "function") throw new Error("Function or String not supplied!");
    const id = this.timers.reduce((m, t) => Math.max(m, t.id), 0) + 1;
    this.timers.push({ id, due: this.t + Math.max(ms, 0.1), fn, every });
    return id;
  }

  timerCount(): number {
    return this.timers.length + this.watches.filter((w) => w.pending).length;
  }

  /** Runs every timer and debounce due up to now + ms, in time order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.timers) if (!next || t.due < next.due) next = t;
      let deb: Watch | undefined;
      for (const w of this.watches) if (w.pending && (!deb || w.pending.due < deb.pending!.due)) deb = w;
      const tDue = next ? next.due : Infinity;
      const dDue = deb ? deb.pending!.due : Infinity;
      if (Math.min(tDue, dDue) > end) break;
      if (dDue <= tDue) {
        const w = deb!;
        const p = w.pending!;
        this.t = Math.max(this.t, p.due);
        w.pending = undefined;
        if (p.state !== w.state) {
          w.state = p.state;
          w.cb({ state: p.state, time: (p.edgeAt + this.edgeClock) / 1000 });
        }
        continue;
      }
      const tm = next!;
      this.t = Math.max(this.t, tm.due);
      if (tm.every) tm.due += tm.every;
      else this.timers = this.timers.filter((x) => x !== tm);
      this.wakeUps++;
      tm.fn();
    }
    this.t = end;
  }

  // ---- outputs
  out = (pin: number, level: number): void => {
    this.writes.push({ t: this.t, pin, kind: "digital", value: level });
  };
  pwm = (pin: number, duty: number, freq: number): void => {
    this.writes.push({ t: this.t, pin, kind: "pwm", value: duty, freq });
  };
  pixel = (pin: number, grb: number[]): void => {
    this.writes.push({ t: this.t, pin, kind: "pixel", value: grb.slice() });
  };

  // ---- button
  input = (pin: number, mode: "input_pullup" | "input_pulldown" | "input"): void => {
    this.modes[pin] = mode;
  };
  read = (pin: number): number => (pin in this.levels ? this.levels[pin] : this.idle[pin] ?? 0);
  watch = (pin: number, debounceMs: number, cb: (e: { state: boolean; time: number }) => void): number => {
    const id = this.watches.reduce((m, w) => Math.max(m, w.id), 0) + 1;
    this.watches.push({ id, pin, debounce: debounceMs, cb, state: this.read(pin) === 1 });
    return id;
  };
  unwatch = (id: number): void => {
    if (id === undefined) throw new Error("clearWatch(undefined) not allowed");
    const n = this.watches.length;
    this.watches = this.watches.filter((w) => w.id !== id);
    if (this.watches.length === n) throw new Error("Unknown Watch " + id);
  };
  watchCount(): number {
    return this.watches.length;
  }

  /** The level the button pin reads changes now (Espruino's view, after any pin negation). */
  setLevel(pin: number, level: number): void {
    if (this.read(pin) === level) return;
    this.levels[pin] = level;
    for (const w of this.watches) {
      if (w.pin !== pin) continue;
      w.pending = { due: this.t + w.debounce, state: level === 1, edgeAt: this.t };
    }
  }

  /** Holds `level` for `ms`, then puts the idle level back, letting time run. */
  pulse(pin: number, level: number, ms: number): void {
    this.setLevel(pin, level);
    this.advance(ms);
    this.setLevel(pin, this.idle[pin] ?? 0);
  }
}
