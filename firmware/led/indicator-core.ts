// The device's whole user interface, one LED and one button, with its hardware injected:
// state -> pattern, the reset button (a continuous debounced hold, acted on at release), and the
// QA mode that shows every pattern and measures presses. firmware/indicator.ts binds it to the
// chip; tests bind it to a fake clock.
import { State } from "../core/state.js";
import { Col, Hold, Pat, patternFor, patternName, patternTable, cycleMs, isWave } from "./patterns.js";
import { Led, LedHw, LedSpec, Kind, createLed, cancelTimer } from "./led.js";
import { HoldState, Release, DEBOUNCE_MS, holdInit, holdEdge, holdCancel, holdMs, holdLevel, holdNextChange } from "../button/hold.js";

export interface Indicator {
  setState(s: State): void; // every state change; the pattern restarts cleanly
  heldMs(): number; // current continuous hold time, 0 when released
  qa(): void; // QA mode: every pattern in turn, button presses measured, nothing erased
  close(): void; // clears every timer and watch; safe to call twice
}

export interface PanelHw extends LedHw {
  input(pin: number, mode: "input_pullup" | "input_pulldown" | "input"): void;
  read(pin: number): number;
  watch(pin: number, debounceMs: number, cb: (e: { state: boolean; time: number }) => void): number;
  unwatch(id: number): void;
}

export interface ButtonSpec {
  pin: number;
  level: number; // the level Espruino reports while the button is pressed
  mode: "input_pullup" | "input_pulldown" | "input"; // pinMode giving the pull the wiring needs
}

export interface PanelSpec {
  led: LedSpec;
  button: ButtonSpec | null;
}

/** The subset of the build record (__BUILD__) the panel depends on. */
export interface BoardIo {
  chip: "ESP32" | "ESP8266";
  dev: string;
  led: { type: "none" | "gpio" | "pwm" | "rgb" | "ws2812"; pins: number[]; inverted: boolean; brightness: number };
  button: { pin: number; activeLow: boolean } | null;
}

/** ESP32: LEDC's default 5 kHz group, so the LED takes none of the 3 custom-frequency timers. */
export const ESP32_PWM_HZ = 5000;
/**
 * ESP8266 PWM is software: two timer interrupts per period whenever 0 < duty < 1 (a full-on or
 * full-off LED costs none). 50 Hz, Espruino's default, flickers to the eye and on camera; 200 Hz
 * does not, and its interrupt load stays small (npm run bench).
 */
export const ESP8266_PWM_HZ = 200;
/** Shortest wave update interval: about 25 updates a second keep a 5 s breathe smooth (npm run bench). */
export const ESP8266_TICK_MS = 38;
export const ESP32_TICK_MS = 19;
/** The firmware starts in INIT; its (red) pattern only shows if no state follows within this time. */
export const BOOT_GRACE_MS = 500;
/** QA mode shows each pattern this long: one full 5 s breathe. */
export const QA_STEP_MS = 5000;

/** Espruino's classic ESP32 builds mark D0 (the BOOT button) NEGATED: reads, writes and PWM on it are inverted. */
export function espruinoNegates(b: BoardIo, pin: number): boolean {
  return b.chip === "ESP32" && pin === 0 && b.dev.indexOf("ESP32-C") !== 0 && b.dev.indexOf("ESP32-S") !== 0;
}

/** Derives pins, levels and rates from the board profile. */
export function panelSpec(b: BoardIo): PanelSpec {
  var esp32 = b.chip === "ESP32";
  var inv = 0;
  for (var i = 0; i < b.led.pins.length; i++) if (b.led.inverted !== espruinoNegates(b, b.led.pins[i])) inv |= 1 << i;
  var kind = ["none", "gpio", "pwm", "rgb", "ws2812"].indexOf(b.led.type);
  var btn = b.button;
  var neg = btn ? espruinoNegates(b, btn.pin) : false;
  // Edgent: active-low -> pull-up, active-high -> pull-down (none on ESP8266, which has no
  // pull-downs). On a negated pin Espruino applies the opposite pull to the one asked for.
  var up = btn ? btn.activeLow : true;
  return {
    led: {
      kind: kind,
      pins: b.led.pins,
      inv: kind === Kind.WS2812 ? 0 : inv, // Edgent ignores the inverse flag for WS2812
      brightness: b.led.brightness,
      freq: esp32 ? ESP32_PWM_HZ : ESP8266_PWM_HZ,
      tick: esp32 ? ESP32_TICK_MS : ESP8266_TICK_MS,
    },
    button: btn
      ? {
          pin: btn.pin,
          level: (up ? 0 : 1) ^ (neg ? 1 : 0),
          mode: !up && !esp32 ? "input" : up !== neg ? "input_pullup" : "input_pulldown",
        }
      : null,
  };
}

function hex6(c: number): string {
  return ("00000" + c.toString(16).toUpperCase()).substr(-6);
}

/** "wait-config: 0D36FF 50/500 ms" - how QA mode names a pattern on the console. */
export function patternLabel(p: Pat): string {
  var row = patternTable()[p];
  return patternName(p) + ": " + hex6(row[Col.COLOUR]) + (isWave(row) ? " wave " + cycleMs(row) : " " + row.slice(Col.TIMES).join("/")) + " ms";
}

export function createIndicator(spec: PanelSpec, hw: PanelHw, onReset: () => void, log: (line: string) => void): Indicator {
  var led: Led = createLed(spec.led, hw);
  var btn = spec.button;
  var state = State.INIT;
  var shown = -1; // Pat on the LED, -1 = none yet
  var qaStep = -1; // Pat shown by QA mode, -1 = QA off
  var wakeTimer: number | undefined; // boot grace, then the hold's 3 s / 10 s marks
  var qaTimer: number | undefined;
  var watchId: number | undefined;
  var closed = false;
  var hs: HoldState;

  function apply(restart: boolean): void {
    if (closed) return;
    var level = holdLevel(hs, hw.now());
    var p = qaStep >= 0 ? qaStep : patternFor(state, level);
    if (p !== shown || (restart && qaStep < 0 && level === Hold.NONE)) {
      shown = p;
      led.show(patternTable()[p]);
    }
  }

  // One timer serves the boot grace and the hold marks; a stale wake-up only re-applies.
  function wake(): void {
    wakeTimer = undefined;
    var now = hw.now();
    // A lost release edge must not leave a "reset" hold standing: the pin has the last word.
    if (btn && holdLevel(hs, now) === Hold.RESET && hw.read(btn.pin) !== btn.level) holdCancel(hs);
    apply(false);
    var at = holdNextChange(hs, now);
    if (at >= 0) wakeTimer = hw.after(wake, at - now);
  }

  function onEdge(e: { state: boolean; time: number }): void {
    if (closed) return;
    // e.time is on getTime()'s clock, which need not be the firmware's: place the edge on the
    // firmware clock by the debounce that delayed this callback, and measure holds with e.time.
    var t = hw.now() - DEBOUNCE_MS;
    var pressed = (e.state ? 1 : 0) === btn!.level;
    var r = holdEdge(hs, pressed, t, Math.floor(e.time * 1000));
    if (pressed && hs.d === t) {
      log(qaStep >= 0 ? "QA: button pressed" : "Hold the button for 10 seconds to reset configuration...");
      wakeTimer = cancelTimer(hw, wakeTimer);
      wake();
    } else if (r !== Release.NONE) {
      if (qaStep >= 0) log("QA: button held " + hs.h + " ms" + (r === Release.NOISE ? " (noise)" : r === Release.RESET ? " (would reset)" : ""));
      apply(false);
      if (r === Release.RESET && qaStep < 0) onReset();
    }
  }

  function qaNext(): void {
    qaTimer = undefined;
    if (++qaStep >= Pat.COUNT) {
      qaStep = -1;
      if (hs.d >= 0) holdCancel(hs); // a hold going on in QA mode never resets
      log("QA: done");
    } else {
      log("QA " + (qaStep + 1) + "/" + Pat.COUNT + " " + patternLabel(qaStep));
      qaTimer = hw.after(qaNext, QA_STEP_MS);
    }
    apply(true);
  }

  if (btn) {
    hw.input(btn.pin, btn.mode);
    hs = holdInit(hw.read(btn.pin) === btn.level);
    watchId = hw.watch(btn.pin, DEBOUNCE_MS, onEdge);
    hw.input(btn.pin, btn.mode); // ESP32's setWatch forces a pull-up; put the wiring's pull back
  } else hs = holdInit(false);
  led.show(undefined);
  wakeTimer = hw.after(wake, BOOT_GRACE_MS);

  return {
    setState: function (s: State) {
      if (s === state) return;
      state = s;
      apply(true);
    },
    heldMs: function () {
      return holdMs(hs, hw.now());
    },
    qa: function () {
      if (closed) return;
      qaTimer = cancelTimer(hw, qaTimer);
      qaStep = -1;
      shown = -1;
      log("QA: every LED pattern for " + QA_STEP_MS / 1000 + " s; button presses are measured, nothing is erased");
      qaNext();
    },
    close: function () {
      if (closed) return;
      closed = true;
      wakeTimer = cancelTimer(hw, wakeTimer);
      qaTimer = cancelTimer(hw, qaTimer);
      if (watchId !== undefined) hw.unwatch(watchId);
      watchId = undefined;
      led.close();
    },
  };
}
