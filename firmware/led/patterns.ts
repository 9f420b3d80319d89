// The LED pattern table and the pure functions over it: which pattern a state shows, and the LED
// level at any moment of a pattern. Everything that blinks (the firmware, the docs pictures, the
// tests, QA mode) reads this one table. Patterns, colours and the check order are Blynk.Edgent's
// (Edgent_ESP32/Indicator.h, reference blynk-edgent.md §4).
import { State } from "../core/state.js";

/** Row index in patternTable(); also the order of the docs and of QA mode. */
export const enum Pat {
  WAIT_CONFIG,
  CONFIGURING,
  CONNECTING_NET,
  CONNECTING_CLOUD,
  RUNNING,
  OTA_UPGRADE,
  ERROR,
  HOLD_3S,
  HOLD_10S,
  COUNT,
}

/** How long the button has been held, as far as the LED is concerned. */
export const enum Hold {
  NONE,
  INDICATE, // held >= 3 s: white breathe
  RESET, // held >= 10 s: releasing now erases the configuration
}

/** Edgent's colours, 0xRRGGBB. */
export const enum Colour {
  BLUE = 0x0d36ff,
  BLYNK = 0x2effb9,
  RED = 0xff1008,
  WHITE = 0xffffe7,
  MAGENTA = 0xa700ff,
}

/** Layout of a row of patternTable(). */
export const enum Col {
  STATES, // bit (1 << State) for every state showing this row; 0 = only while the button is held
  COLOUR, // 0xRRGGBB
  TIMES, // first step time (ms); see patternTable()
}

/** Edgent's wave has 256 steps of floor(period / 256) ms each: 0 -> 127 -> 0, doubled to 0..254. */
export const WAVE_STEPS = 256;
/** A plain GPIO LED cannot dim: a wave shows lit while its level is at least this (half of each period). */
export const GPIO_THRESHOLD = 128;

/**
 * THE pattern table, one row per Pat: [states, colour, time, time, ...].
 * Blink: the times alternate lit and dark, starting lit, and repeat (Edgent beatLED).
 * Wave ("breathe", Edgent waveLED): a single time, the nominal period.
 * Written as a function of the row, so the rows stay in flash and a state change allocates the one
 * row it shows (about 6 JsVars) instead of the whole table (about 60) at the busiest moment.
 */
export function patternRow(p: Pat): number[] {
  switch (p) {
    case Pat.WAIT_CONFIG: return [(1 << State.WAIT_CONFIG) | (1 << State.RESET_CONFIG), Colour.BLUE, 50, 500];
    case Pat.CONFIGURING: return [1 << State.CONFIGURING, Colour.BLUE, 200, 200];
    case Pat.CONNECTING_NET: return [1 << State.CONNECTING_NET, Colour.BLYNK, 50, 500];
    case Pat.CONNECTING_CLOUD: return [1 << State.CONNECTING_CLOUD, Colour.BLYNK, 100, 100];
    case Pat.RUNNING: return [1 << State.RUNNING, Colour.BLYNK, 5000];
    case Pat.OTA_UPGRADE: return [1 << State.OTA_UPGRADE, Colour.MAGENTA, 50, 50];
    case Pat.ERROR: return [(1 << State.ERROR) | (1 << State.SWITCH_TO_STA) | (1 << State.INIT), Colour.RED, 80, 100, 80, 1000];
    case Pat.HOLD_3S: return [0, Colour.WHITE, 1000];
    default: return [0, Colour.WHITE, 100, 100]; // Pat.HOLD_10S
  }
}

/** Every row, in Pat order (docs, tests, the virtual board). */
export function patternTable(): number[][] {
  var rows: number[][] = [];
  for (var p = 0; p < Pat.COUNT; p++) rows.push(patternRow(p));
  return rows;
}

/** Short name of a pattern: the console name in QA mode and the docs' file name. */
export function patternName(p: Pat): string {
  return "wait-config configuring connecting-net connecting-cloud running ota-upgrade error hold-3s hold-10s".split(" ")[p];
}

/** The pattern shown in a state, in Edgent's check order: a long button hold overrides every state. */
export function patternFor(state: State, hold: Hold): Pat {
  if (hold === Hold.RESET) return Pat.HOLD_10S;
  if (hold === Hold.INDICATE) return Pat.HOLD_3S;
  for (var p = 0; p < Pat.COUNT; p++) if (patternRow(p)[Col.STATES] & (1 << state)) return p;
  return Pat.ERROR; // Edgent: "anything else"
}

export function isWave(row: number[]): boolean {
  return row.length === Col.TIMES + 1;
}

/** Step length of a wave row (Edgent: integer division). */
export function waveStep(row: number[]): number {
  return Math.floor(row[Col.TIMES] / WAVE_STEPS);
}

/** Length of one cycle in ms: the sum of a blink's steps, or a wave's 256 steps. */
export function cycleMs(row: number[]): number {
  if (isWave(row)) return waveStep(row) * WAVE_STEPS;
  var sum = 0;
  for (var i = Col.TIMES; i < row.length; i++) sum += row[i];
  return sum;
}

/** Wave level 0..254 at step counter n (any integer; taken modulo 256). */
export function waveLevel(n: number): number {
  n = n & (WAVE_STEPS - 1);
  return (n < 128 ? n : 255 - n) * 2;
}

// levelAt() and nextEdge() spell their arithmetic out instead of calling the helpers above: the
// firmware calls each from one place only, so the minifier folds them into that place and they
// hold no RAM while the device runs (every function kept costs Espruino 5-8 JsVars).

/** LED level 0..255 at `ms` after the pattern started: blinks are 0 or 255, waves 0..254. */
export function levelAt(row: number[], ms: number): number {
  var i = Col.TIMES;
  if (row.length === Col.TIMES + 1) {
    var n = Math.floor(ms / Math.floor(row[i] / WAVE_STEPS)) & (WAVE_STEPS - 1);
    return (n < 128 ? n : 255 - n) * 2;
  }
  var cycle = 0;
  for (; i < row.length; i++) cycle += row[i];
  var t = ms % cycle;
  for (i = Col.TIMES; t >= row[i]; i++) t -= row[i];
  return (i - Col.TIMES) & 1 ? 0 : 255;
}

/**
 * The first moment after `ms` at which a two-level LED changes: the next blink step boundary, or
 * for a wave the next crossing of GPIO_THRESHOLD (a quarter and three quarters into each cycle).
 */
export function nextEdge(row: number[], ms: number): number {
  var i = Col.TIMES;
  var cycle = 0;
  if (row.length === Col.TIMES + 1) cycle = Math.floor(row[i] / WAVE_STEPS) * WAVE_STEPS;
  else for (; i < row.length; i++) cycle += row[i];
  var t = ms % cycle;
  var base = ms - t;
  if (row.length === Col.TIMES + 1) {
    var q = cycle / 4;
    return base + (t < q ? q : t < 3 * q ? 3 * q : cycle + q);
  }
  var end = 0;
  for (i = Col.TIMES; end <= t; i++) end += row[i];
  return base + end;
}

function hex6(c: number): string {
  return ("00000" + c.toString(16).toUpperCase()).substr(-6);
}

/** "wait-config: 0D36FF 50/500 ms" - how QA mode names a pattern on the console. */
export function patternLabel(p: Pat): string {
  var row = patternRow(p);
  var wave = row.length === Col.TIMES + 1;
  return patternName(p) + ": " + hex6(row[Col.COLOUR]) + (wave ? " wave " + Math.floor(row[Col.TIMES] / WAVE_STEPS) * WAVE_STEPS : " " + row.slice(Col.TIMES).join("/")) + " ms";
}

/**
 * What each row means and what to do, for docs/led.md; in patternTable()'s order. Only the docs
 * generator imports this, so it never reaches the firmware bundle.
 */
export function patternDocs(): { title: string; meaning: string; todo: string }[] {
  return [
    { title: "Waiting for setup", meaning: "No WiFi configuration (or it was just erased): the setup access point \"Blynk <template>-XXXX\" is open.", todo: "Add the device in the Blynk app, or join its access point and open 192.168.4.1." },
    { title: "Configuring", meaning: "A phone is connected to the setup access point and the app is configuring the device.", todo: "Wait and keep the phone close." },
    { title: "Joining WiFi", meaning: "Connecting to the WiFi network.", todo: "Wait. If it stays, check the network name, the password and that the router offers 2.4 GHz." },
    { title: "Connecting to Blynk", meaning: "On WiFi, connecting to the Blynk cloud.", todo: "Wait. If it stays, check the internet connection and that the device still exists in the Blynk console." },
    { title: "Online", meaning: "Connected to the Blynk cloud: normal operation.", todo: "Nothing." },
    { title: "Firmware update", meaning: "Receiving a firmware update.", todo: "Keep the power on." },
    { title: "Error", meaning: "Setup or a connection failed; the device restarts after 10 s (later while the button is held). Also shown if the firmware stops while booting.", todo: "Read the console log; if it repeats, hold the button 10 s to reset the configuration." },
    { title: "Button held 3 s", meaning: "The button has been held for 3 s.", todo: "Keep holding until the fast white blink to erase the configuration, or release to cancel." },
    { title: "Button held 10 s", meaning: "Releasing the button now erases the WiFi credentials and the auth token.", todo: "Release to reset: the device returns to setup (blue blink)." },
  ];
}
