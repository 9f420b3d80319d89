// What a person (or a camera) sees: replays recorded pin writes into the light each colour
// channel gives, 0..1, undoing Espruino's pin negation and the board's inverted wiring
// independently of the driver's own arithmetic.
import { espruinoNegates, type BoardIo } from "../../firmware/led/spec.ts";
import { lightOf, type Rgb } from "../../virtual-board/led-view.ts";

export type { Rgb };

export interface PinWrite {
  t: number;
  pin: number;
  kind: "digital" | "pwm" | "pixel";
  value: number | number[];
}

/** Light per channel for the last values written to the LED's pins. `physical`: values are pin levels (the simulator logs those). */
export function light(board: BoardIo, last: Map<number, number | number[]>, physical = false): Rgb {
  if (physical) return lightOf(board, last);
  // values as the firmware wrote them: undo Espruino's negation of the board's inverted pins first
  const levels = new Map<number, number | number[]>();
  for (const [pin, v] of last) levels.set(pin, typeof v === "number" && espruinoNegates(board, pin) ? 1 - v : v);
  return lightOf(board, levels);
}

/** The light the table asks for at `level` (0..255) of `colour`, on this board. */
export function expected(board: BoardIo, colour: number, level: number): Rgb {
  const led = board.led;
  const b = led.brightness / 255;
  const c = (i: number) => ((colour >> (16 - 8 * i)) & 255) / 255;
  switch (led.type) {
    case "gpio": {
      const on = level >= 128 ? 1 : 0;
      return [on, on, on];
    }
    case "pwm": {
      const d = (b * level) / 255;
      return [d, d, d];
    }
    case "rgb":
      return [c(0), c(1), c(2)].map((x) => (x * b * level) / 255) as Rgb;
    case "ws2812":
      return [c(0), c(1), c(2)].map((x) => Math.round((x * 255 * b * level) / 255) / 255) as Rgb;
    default:
      return [0, 0, 0];
  }
}

/** Equal within what the output can resolve (ESP32 LEDC: 10 bits; WS2812: 8 bits). */
export function same(a: Rgb, b: Rgb, tol = 1.5 / 1024): boolean {
  return a.every((x, i) => Math.abs(x - b[i]) <= tol);
}

/** Replays writes in time order; calls `at(t, light)` after the writes of each distinct time. */
export function replay(board: BoardIo, writes: PinWrite[], physical = false): { t: number; light: Rgb }[] {
  const last = new Map<number, number | number[]>();
  const out: { t: number; light: Rgb }[] = [];
  for (let i = 0; i < writes.length; i++) {
    last.set(writes[i].pin, writes[i].value);
    if (i + 1 < writes.length && writes[i + 1].t === writes[i].t) continue;
    out.push({ t: writes[i].t, light: light(board, last, physical) });
  }
  return out;
}
