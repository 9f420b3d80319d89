// The reset button's logic, pure: debounced edges with their times in, decisions out.
// Blynk.Edgent semantics (ResetButton.h, reference blynk-edgent.md §5): the action happens on
// release; >= 10 s erases the configuration, shorter presses do nothing. Unlike Edgent, a reset
// needs one continuous hold that began after boot (blynk-library#411: bounce and interference on
// the pin wiped devices).
import { Hold } from "../led/patterns.js";

/** setWatch debounce: an edge is reported once the level has been stable this long. */
export const DEBOUNCE_MS = 25;
/** Shorter presses are noise (Edgent BUTTON_PRESS_TIME_ACTION). */
export const MIN_PRESS_MS = 50;
/** Held this long: the LED shows a white breathe (Edgent BUTTON_HOLD_TIME_INDICATION). */
export const INDICATE_MS = 3000;
/** Released after this long: erase the configuration (Edgent BUTTON_HOLD_TIME_ACTION). */
export const RESET_MS = 10000;

/** What a release means. */
export const enum Release {
  NONE, // not a release of a counted press (a press, a repeated edge, or a hold from before boot)
  NOISE, // shorter than MIN_PRESS_MS
  PRESS, // a press that does nothing
  RESET, // erase the configuration
}

/** Tracker state; short keys because it lives as long as the device runs. */
export interface HoldState {
  d: number; // press time of the hold being counted, on the firmware clock (ms); -1 when none
  p: number; // the same press, on the pin watch's own clock (ms): hold times are measured on it
  a: number; // 1 = armed: a release has been seen since boot, so a new press counts (an int: 1 JsVar, a boolean 2)
  h: number; // duration of the last counted hold (ms)
}

/** `pressedAtBoot`: a hold that began before boot never counts; the first release arms the button. */
export function holdInit(pressedAtBoot: boolean): HoldState {
  return { d: -1, p: 0, a: pressedAtBoot ? 0 : 1, h: 0 };
}

/**
 * Feeds one debounced edge: `t` is when it happened on the firmware clock, `at` its timestamp from
 * the pin watch (Espruino stamps edges when they happen, so hold times do not depend on how late
 * the callback runs). A press while a hold is counted restarts it (the release in between was
 * lost, so the hold is not provably continuous). Returns what a release means.
 */
export function holdEdge(s: HoldState, pressed: boolean, t: number, at: number): Release {
  if (pressed) {
    if (s.a) {
      s.d = t;
      s.p = at;
    }
    return Release.NONE;
  }
  var d = s.d;
  s.d = -1;
  if (!s.a || d < 0) {
    s.a = 1;
    return Release.NONE;
  }
  s.h = at - s.p;
  return s.h >= RESET_MS ? Release.RESET : s.h >= MIN_PRESS_MS ? Release.PRESS : Release.NOISE;
}

/** Abandons the current hold: it cannot reset any more, and a new press needs a release first. */
export function holdCancel(s: HoldState): void {
  s.d = -1;
  s.a = 0;
}

/** Continuous hold time at `now`, 0 when no counted hold is going on. */
export function holdMs(s: HoldState, now: number): number {
  return s.d < 0 ? 0 : now - s.d;
}

export function holdLevel(s: HoldState, now: number): Hold {
  var h = now - s.d;
  return s.d < 0 ? Hold.NONE : h >= RESET_MS ? Hold.RESET : h >= INDICATE_MS ? Hold.INDICATE : Hold.NONE;
}

/** When the hold level next changes (ms, absolute), or -1 if it will not without an edge. */
export function holdNextChange(s: HoldState, now: number): number {
  if (s.d < 0) return -1;
  return now < s.d + INDICATE_MS ? s.d + INDICATE_MS : now < s.d + RESET_MS ? s.d + RESET_MS : -1;
}
