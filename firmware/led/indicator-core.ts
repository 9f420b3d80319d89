// The device's whole user interface, one LED and one button: state -> pattern, the reset button
// (a continuous debounced hold, acted on at release), and the QA mode that shows every pattern
// and measures presses. firmware/indicator.ts starts it with the board profile.
//
// RAM: the board has one LED and one button, so this is module state (ints, not booleans: an
// int costs one JsVar, a boolean two) with one decision function, update(), which the timer,
// the pin watch and the API all call; the pure helpers are each called from one place, so the
// minifier folds them in and they cost nothing while the device runs.
import { now, pinInput, pinRead, pinWatch, pinUnwatch } from "../platform/espruino.js";
import { State } from "../core/state.js";
import { Hold, Pat, Colour, patternFor, patternRow, patternLabel } from "./patterns.js";
import { createLed } from "./led.js";
import { LedSpec, ButtonSpec, BOOT_GRACE_MS, QA_STEP_MS } from "./spec.js";
import { HoldState, Release, DEBOUNCE_MS, RESET_MS, holdInit, holdEdge, holdCancel, holdMs, holdLevel, holdNextChange } from "../button/hold.js";

export interface Indicator {
  setState(s: State): void; // every state change; the pattern restarts cleanly
  heldMs(): number; // current continuous hold time, 0 when released
  qa(): void; // QA mode: every pattern in turn, button presses measured, nothing erased
  led(on?: any): void; // user code drives the LED while online: led(1) lit, led(0) dark, led() gives it back
  close(): void; // clears every timer and watch; safe to call twice
}

var state = State.INIT;
var shown = -1; // Pat on the LED, -1 = none yet
var restart = 0; // 1: the state changed, show its pattern from the first step
var user = -1; // led(): 1 lit, 0 dark, -1 the status pattern; shown only while RUNNING
var qa = -1; // QA mode: the next step to show (the LED shows step qa - 1); -1 = off
var qaDue = 0; // when that step starts (ms)
var timer: any; // the boot grace, the hold's 3 s / 10 s marks, QA steps; undefined when idle
var watch: any; // the button's setWatch id
var closed = 0;
var btnPin = -1; // -1: no button
var btnLevel = 0; // the level Espruino reports while the button is pressed
var hs: HoldState;
var onReset: () => void;
var log: (line: string) => void;
var ledShow: (row: number[] | undefined) => void;

/**
 * The one place the indicator decides anything. The pin watch calls it with the debounced edge;
 * the timer and the API call it without one. It acts on the edge, does what is due (QA steps,
 * the hold's marks), shows the pattern for the state and the hold, and sleeps until the next
 * thing is due.
 */
function update(e?: { state: boolean; time: number }): void {
  if (timer !== undefined) clearTimeout(timer); // clearTimeout(undefined) throws in Espruino
  timer = undefined;
  if (closed) return;
  var t = now();
  var r = Release.NONE;
  if (e) {
    // e.time is on getTime()'s clock, which need not be the firmware's: place the edge on the
    // firmware clock by the debounce that delayed this call, and measure holds with e.time.
    var at = t - DEBOUNCE_MS;
    var pressed = (e.state ? 1 : 0) === btnLevel;
    r = holdEdge(hs, pressed, at, Math.floor(e.time * 1000));
    if (pressed && hs.d === at) log(qa >= 0 ? "QA: button pressed" : "Hold the button for 10 seconds to reset configuration...");
    if (r !== Release.NONE && qa >= 0) log("QA: button held " + hs.h + " ms" + (r === Release.NOISE ? " (noise)" : r === Release.RESET ? " (would reset)" : ""));
  }
  var qaStep = qa >= 0 && t >= qaDue;
  if (qaStep) {
    if (qa < Pat.COUNT) {
      log("QA " + (qa + 1) + "/" + Pat.COUNT + " " + patternLabel(qa));
      qa++;
      qaDue += QA_STEP_MS;
    } else {
      qa = -1;
      log("QA: done");
    }
  }
  // A hold going on when QA ends never resets; and at the 10 s mark the pin has the last word,
  // so a lost release edge cannot leave a "reset" hold standing.
  if ((qaStep && qa < 0 && hs.d >= 0) || (btnPin >= 0 && hs.d >= 0 && t - hs.d >= RESET_MS && pinRead(btnPin) !== btnLevel)) holdCancel(hs);
  var level = holdLevel(hs, t);
  var p = qa > 0 ? qa - 1 : patternFor(state, level);
  // the user's LED (-2 dark, -3 lit) only while online: any other state and a hold show as usual
  if (p === Pat.RUNNING && qa < 0 && user >= 0) p = -2 - user;
  if (p !== shown || qaStep || (restart && qa < 0 && level === Hold.NONE)) {
    shown = p;
    // lit: a "blink" whose lit step lasts 2^30 ms (12 days) - one timer, as the breathing has
    ledShow(p === -2 ? undefined : p === -3 ? [0, Colour.WHITE, 1073741824, 0] : patternRow(p));
  }
  restart = 0;
  var next = holdNextChange(hs, t);
  if (qa >= 0 && (next < 0 || qaDue < next)) next = qaDue;
  if (next >= 0) timer = setTimeout(update, next - t);
  if (r === Release.RESET && qa < 0) onReset(); // Edgent acts on release; the LED is already back
}

export function setState(s: State): void {
  if (s === state) return;
  state = s;
  restart = 1;
  update();
}

export function heldMs(): number {
  return holdMs(hs, now());
}

export function startQa(): void {
  if (closed) return;
  log("QA: every LED pattern for " + QA_STEP_MS / 1000 + " s; button presses are measured, nothing is erased");
  qa = 0;
  qaDue = now();
  update();
}

export function userLed(on?: any): void {
  user = on === undefined ? -1 : on ? 1 : 0;
  update();
}

export function close(): void {
  if (closed) return;
  closed = 1;
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  if (watch !== undefined) pinUnwatch(watch);
  watch = undefined;
  ledShow(undefined);
}

/** Starts the LED and the button (the board has one of each: a second call starts them afresh). */
export function createIndicator(led: LedSpec, btn: ButtonSpec | null, reset: () => void, logLine: (line: string) => void): void {
  onReset = reset;
  log = logLine;
  timer = undefined;
  state = State.INIT;
  shown = qa = user = -1;
  restart = closed = 0;
  btnPin = btn ? btn.pin : -1;
  btnLevel = btn ? btn.level : 0;
  ledShow = createLed(led);
  if (btn) pinInput(btn.pin, btn.mode);
  hs = holdInit(btn ? pinRead(btn.pin) === btn.level : false);
  watch = undefined;
  if (btn) {
    watch = pinWatch(btn.pin, DEBOUNCE_MS, update);
    pinInput(btn.pin, btn.mode); // ESP32's setWatch forces a pull-up; put the wiring's pull back
  }
  ledShow(undefined);
  timer = setTimeout(update, BOOT_GRACE_MS);
}
