// What the virtual board's LED shows. The simulator logs physical pin levels; this turns them into
// the light a person would see (through the board's wiring: inverted, RGB, WS2812) and names the
// row of the firmware's pattern table that the light matches, from the light alone. The control
// page draws the light; the name lets a person (and the browser test) check the pattern.
import { State, stateName } from "../firmware/core/state.ts";
import { Col, Hold, Pat, cycleMs, isWave, patternFor, patternName, patternTable } from "../firmware/led/patterns.ts";
import { INDICATE_MS, RESET_MS } from "../firmware/button/hold.ts";
import type { PinLogEntry } from "../sim/types.ts";

export type Rgb = [number, number, number];

/** The part of a board profile (boards/*.json, normalised by scripts/boards.js) the LED view needs. */
export interface LedBoard {
  chip: "ESP32" | "ESP8266";
  notes?: string;
  led: { type: "none" | "gpio" | "pwm" | "rgb" | "ws2812"; pins: number[]; inverted: boolean; brightness: number };
}

/** A change of light at virtual time t (ms on the view's own clock, monotonic across reboots). */
export interface LightSample {
  t: number;
  rgb: Rgb;
}

/** Colour of a single-colour LED, for drawing it: from the profile's notes ("Blue LED on GPIO2"), else blue. */
export function monoColour(board: LedBoard): Rgb {
  const m = /\b(blue|red|green|white|yellow|orange)\b[^.]*\bLED\b/i.exec(board.notes || "");
  const table: Record<string, Rgb> = {
    blue: [0.1, 0.35, 1], red: [1, 0.1, 0.05], green: [0.1, 1, 0.2], white: [1, 1, 0.95], yellow: [1, 0.85, 0.1], orange: [1, 0.5, 0.05],
  };
  return table[m ? m[1].toLowerCase() : "blue"];
}

/**
 * Light per colour channel (0..1) for the last values on the LED's pins. `values` holds physical
 * levels (digital 0/1, PWM duty, WS2812 bytes in GRB order); a pin with no value is not driven,
 * so its LED is dark whatever the wiring.
 */
export function lightOf(board: LedBoard, values: ReadonlyMap<number, number | number[]>): Rgb {
  const led = board.led;
  const drive = (pin: number): number => {
    const v = values.get(pin);
    if (typeof v !== "number") return 0;
    return led.inverted ? 1 - v : v;
  };
  switch (led.type) {
    case "gpio":
    case "pwm": {
      const d = drive(led.pins[0]);
      return [d, d, d];
    }
    case "rgb":
      return [drive(led.pins[0]), drive(led.pins[1]), drive(led.pins[2])];
    case "ws2812": {
      const px = values.get(led.pins[0]);
      return Array.isArray(px) ? [(px[1] ?? 0) / 255, (px[0] ?? 0) / 255, (px[2] ?? 0) / 255] : [0, 0, 0];
    }
    default:
      return [0, 0, 0];
  }
}

const brightness = (rgb: Rgb) => Math.max(rgb[0], rgb[1], rgb[2]);

/**
 * Follows the simulator's pin log: keeps the LED pins' current values and a history of light
 * changes for the last HISTORY_MS. The log's times restart at every boot; the view's clock does not.
 */
export class LedTracker {
  static readonly HISTORY_MS = 15000;
  /** Samples kept for takeNew() (a few seconds of the fastest pattern). */
  static readonly MAX_FRESH = 2000;
  private values = new Map<number, number | number[]>();
  private readonly ledPins: Set<number>;
  private read = 0;
  private boot = -1;
  private base = 0; // view time at the start of the current boot
  private lastT = 0; // newest view time seen
  private history: LightSample[] = [];
  private fresh: LightSample[] = [];

  constructor(readonly board: LedBoard) {
    this.ledPins = new Set(board.led.pins);
  }

  /** View time for a virtual time of the current boot. */
  viewTime(simNow: number): number {
    return this.base + simNow;
  }

  /** Reads new log entries; `boot` and `simNow` are the simulator's current boot number and time. */
  update(log: readonly PinLogEntry[], boot: number, simNow: number): void {
    if (log.length < this.read) this.read = 0; // a new log array (the simulator was rebuilt)
    if (boot !== this.boot) this.newBoot(boot);
    for (; this.read < log.length; this.read++) {
      const e = log[this.read];
      if (!this.ledPins.has(e.pin)) continue;
      if (e.boot !== this.boot) {
        if (e.boot < this.boot) continue;
        this.newBoot(e.boot);
      }
      this.values.set(e.pin, Array.isArray(e.value) ? e.value.slice() : e.value);
      this.push(this.base + e.t);
    }
    this.lastT = Math.max(this.lastT, this.base + simNow);
    const cut = this.lastT - LedTracker.HISTORY_MS;
    let drop = 0;
    while (drop + 1 < this.history.length && this.history[drop + 1].t <= cut) drop++;
    if (drop) this.history.splice(0, drop);
  }

  /** The power is gone: every pin stops driving. */
  powerOff(): void {
    this.values.clear();
    this.push(this.lastT);
  }

  private newBoot(boot: number): void {
    this.boot = boot;
    this.base = this.lastT;
    this.values.clear(); // pins come up as inputs: the LED is dark until the firmware drives it
    this.push(this.base);
  }

  private push(t: number): void {
    const rgb = lightOf(this.board, this.values);
    const last = this.history[this.history.length - 1];
    if (last && last.t >= t) {
      // Writes of one instant (the three pins of an RGB LED): only the light after the last one was ever shown.
      last.rgb = rgb;
      if (!this.fresh.includes(last)) this.fresh.push(last);
      return;
    }
    if (last && last.rgb[0] === rgb[0] && last.rgb[1] === rgb[1] && last.rgb[2] === rgb[2]) return;
    const s: LightSample = { t, rgb };
    this.history.push(s);
    this.fresh.push(s);
    if (this.fresh.length > LedTracker.MAX_FRESH) this.fresh.splice(0, this.fresh.length - LedTracker.MAX_FRESH); // nobody is reading
  }

  now(): number {
    return this.lastT;
  }

  light(): Rgb {
    const last = this.history[this.history.length - 1];
    return last ? last.rgb : [0, 0, 0];
  }

  /** Samples added since the previous call. */
  takeNew(): LightSample[] {
    const out = this.fresh;
    this.fresh = [];
    return out;
  }

  samples(): readonly LightSample[] {
    return this.history;
  }
}

/** What the LED is doing, in words and as a row of the pattern table (-1 = none matches). */
export interface Observed {
  pat: number;
  name: string;
  detail: string;
}

const NONE = -1;
/** Timing tolerance when matching a run of light or dark against the table (ms, and share of it). */
const TOL_MS = 15;
const TOL_SHARE = 0.08;

function nearlyEqual(ms: number, expected: number): boolean {
  return Math.abs(ms - expected) <= Math.max(TOL_MS, expected * TOL_SHARE);
}

/** The lit and dark runs a row produces, lit first; a wave seen through a threshold is half lit, half dark. */
function runsOf(row: number[]): number[] {
  if (isWave(row)) return [cycleMs(row) / 2, cycleMs(row) / 2];
  return row.slice(Col.TIMES);
}

/** Do the observed runs (oldest first, the first one lit or not) fit the row, starting at some step? */
function fits(runs: { ms: number; lit: boolean }[], expected: number[]): boolean {
  for (let shift = 0; shift < expected.length; shift++) {
    if ((shift % 2 === 0) !== runs[0].lit) continue;
    let ok = true;
    for (let i = 0; i < runs.length && ok; i++) ok = nearlyEqual(runs[i].ms, expected[(shift + i) % expected.length]);
    if (ok) return true;
  }
  return false;
}

function sameHue(a: Rgb, colour: number): boolean {
  const m = brightness(a);
  const c = [(colour >> 16) & 255, (colour >> 8) & 255, colour & 255].map((x) => x / 255);
  const cm = Math.max(c[0], c[1], c[2]);
  return a.every((x, i) => Math.abs(x / m - c[i] / cm) <= 0.2);
}

function describe(p: number, colourLed: boolean): string {
  const row = patternTable()[p];
  const hex = "#" + row[Col.COLOUR].toString(16).padStart(6, "0").toUpperCase();
  return (isWave(row) ? `breathing, ${(cycleMs(row) / 1000).toFixed(1)} s` : `blinking ${row.slice(Col.TIMES).join("/")} ms`) + (colourLed ? `, ${hex}` : ` (${hex} on a colour LED)`);
}

/** The pattern the firmware should be showing for a state name and a hold time (Edgent's check order). */
export function expectedPattern(state: string, heldMs: number): number {
  let s = -1;
  for (let i = 0; i <= State.ERROR; i++) if (stateName(i) === state) s = i;
  if (s < 0) return NONE;
  const hold = heldMs >= RESET_MS ? Hold.RESET : heldMs >= INDICATE_MS ? Hold.INDICATE : Hold.NONE;
  return patternFor(s, hold);
}

export function patternLabel(p: number): string {
  return p >= 0 && p < Pat.COUNT ? patternName(p) : "";
}

/**
 * Names the pattern in the recent light, from timing (and hue, on colour LEDs): the last runs of
 * light and dark must fit a row of the table. Where rows differ only in colour and the LED has
 * one colour, the row matching `expected` (the state's pattern) is preferred.
 */
export function classify(board: LedBoard, samples: readonly LightSample[], now: number, expected = NONE): Observed {
  const rows = patternTable();
  const window = samples.filter((s, i) => i + 1 === samples.length || samples[i + 1].t >= now - LedTracker.HISTORY_MS);
  if (!window.length) return { pat: NONE, name: "off", detail: "dark" };
  const peak = window.reduce((m, s) => Math.max(m, brightness(s.rgb)), 0);
  if (peak < 0.01) return { pat: NONE, name: "off", detail: "dark" };
  const half = peak / 2;
  // Runs between crossings of half the peak; the first (begun before the window) and the one
  // still going on are left out.
  const runs: { from: number; ms: number; lit: boolean }[] = [];
  let lit = brightness(window[0].rgb) >= half;
  let since = window[0].t;
  for (const s of window) {
    if ((brightness(s.rgb) >= half) === lit) continue;
    runs.push({ from: since, ms: s.t - since, lit });
    lit = !lit;
    since = s.t;
  }
  runs.shift();
  const longest = Math.max(...rows.map((r) => Math.max(...runsOf(r))));
  if (now - since > longest * 1.5 || runs.length === 0) return { pat: NONE, name: lit ? "steady on" : "off", detail: lit ? "lit, not blinking" : "dark" };
  const colour = board.led.type === "rgb" || board.led.type === "ws2812";
  /** Over the time the last runs cover: does the light take in-between levels, and its brightest colour. */
  const look = (from: number) => {
    const levels = new Set<number>();
    let top: Rgb = [0, 0, 0];
    for (const s of window) {
      if (s.t < from) continue;
      const b = brightness(s.rgb);
      if (b > 0.05 * peak && b < 0.95 * peak) levels.add(Math.round(b * 1000));
      if (b > brightness(top)) top = s.rgb;
    }
    return { wave: levels.size > 4, top };
  };
  const candidates: number[] = [];
  for (let p = 0; p < rows.length; p++) {
    const row = rows[p];
    const expectedRuns = runsOf(row);
    const need = Math.max(expectedRuns.length, 3);
    if (runs.length < need) continue;
    const last = runs.slice(-need);
    if (!fits(last, expectedRuns)) continue;
    const seen = look(last[0].from);
    if (board.led.type !== "gpio" && isWave(row) !== seen.wave) continue;
    if (colour && !sameHue(seen.top, row[Col.COLOUR])) continue;
    candidates.push(p);
  }
  if (!candidates.length) return { pat: NONE, name: "changing", detail: "no row of the pattern table fits (yet)" };
  const p = candidates.includes(expected) ? expected : candidates[0];
  return { pat: p, name: patternName(p), detail: describe(p, colour) };
}
