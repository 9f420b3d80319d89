// What the LED and button drivers need to know about a board, derived from its profile
// (boards/*.json, compiled in as __BUILD__), with the chip's quirks settled here once.
import { Col, WAVE_STEPS } from "./patterns.js";

/** The subset of the build record the LED and button depend on. */
export interface BoardIo {
  chip: "ESP32" | "ESP8266";
  dev: string;
  led: { type: "none" | "gpio" | "pwm" | "rgb" | "ws2812"; pins: number[]; inverted: boolean; brightness: number };
  button: { pin: number; activeLow: boolean } | null;
}

export const enum Kind {
  NONE,
  GPIO,
  PWM,
  RGB,
  WS2812,
}

export interface LedSpec {
  kind: Kind;
  pins: number[]; // RGB: red, green, blue
  inv: number; // bit i set: channel i lights when its pin is low (inverted wiring, or a pin Espruino negates)
  brightness: number; // 1..255, scales every colour (Edgent BOARD_LED_BRIGHTNESS)
  freq: number; // PWM frequency (Hz)
  tick: number; // shortest wave update interval (ms)
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

/** ESP32: LEDC's default 5 kHz group, so the LED takes none of the 3 custom-frequency timers. */
export const ESP32_PWM_HZ = 5000;
/**
 * ESP8266 PWM is software: two timer interrupts per period whenever 0 < duty < 1 (a full-on or
 * full-off LED costs none). 50 Hz, Espruino's default, flickers to the eye and on camera; 200 Hz
 * does not, and its interrupt load stays small (npm run bench).
 */
export const ESP8266_PWM_HZ = 200;
/** Shortest breathe update interval: 2 of Edgent's 19 ms steps, 26 updates a second (npm run bench). */
export const ESP8266_TICK_MS = 38;
/** ESP32 is fast enough for every Edgent step (19 ms, 53 updates a second). */
export const ESP32_TICK_MS = 19;
/** The firmware starts in INIT; its (red) pattern only shows if no state follows within this time. */
export const BOOT_GRACE_MS = 500;
/** QA mode shows each pattern this long: one full 5 s breathe. */
export const QA_STEP_MS = 5000;

/** Espruino's classic ESP32 builds mark D0 (the BOOT button, BTN1) NEGATED: reads, writes and PWM on it are inverted. */
export function negatesD0(b: BoardIo): boolean {
  var family = b.dev.substr(0, 7);
  return b.chip === "ESP32" && family !== "ESP32-C" && family !== "ESP32-S";
}

export function espruinoNegates(b: BoardIo, pin: number): boolean {
  return pin === 0 && negatesD0(b);
}

/** Derives pins, levels and rates from the board profile. */
export function panelSpec(b: BoardIo): PanelSpec {
  var esp32 = b.chip === "ESP32";
  var d0 = negatesD0(b);
  var inv = 0;
  for (var i = 0; i < b.led.pins.length; i++) if (b.led.inverted !== (d0 && b.led.pins[i] === 0)) inv |= 1 << i;
  var kind = ["none", "gpio", "pwm", "rgb", "ws2812"].indexOf(b.led.type);
  var btn = b.button;
  var neg = !!btn && d0 && btn.pin === 0;
  // Edgent: active-low -> pull-up, active-high -> pull-down (none on ESP8266, which has no
  // pull-downs). On a negated pin Espruino applies the opposite pull to the one asked for.
  var up = !btn || btn.activeLow;
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
      ? { pin: btn.pin, level: (up ? 0 : 1) ^ (neg ? 1 : 0), mode: !up && !esp32 ? "input" : up !== neg ? "input_pullup" : "input_pulldown" }
      : null,
  };
}

/** Wave update interval: the smallest multiple of Edgent's step that is at least `tick` ms. */
export function waveTick(row: number[], tick: number): number {
  var step = Math.floor(row[Col.TIMES] / WAVE_STEPS);
  return step * Math.ceil(tick / step);
}
