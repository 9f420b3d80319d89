// LED drivers: turn a row of the pattern table into pin writes, with as few wake-ups as the
// pattern allows. A blink (and a wave on a plain GPIO LED) sleeps until its next edge; only a
// wave on a dimmable LED needs a periodic tick, and that tick allocates nothing.
// Pins and timers come in through LedHw, so the same code runs on the chip, in the simulator
// and against a fake clock in Node.
import { Col, GPIO_THRESHOLD, isWave, levelAt, nextEdge, waveLevel, waveStep } from "./patterns.js";

export interface LedHw {
  now(): number; // ms
  out(pin: number, level: number): void; // digitalWrite
  pwm(pin: number, duty: number, freq: number): void; // analogWrite
  pixel(pin: number, grb: number[]): void; // one WS2812
  after(fn: () => void, ms: number): number; // setTimeout
  every(fn: () => void, ms: number): number; // setInterval
  cancel(id: number): void; // clearTimeout / clearInterval (the same in Espruino)
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

export interface Led {
  /** Starts a pattern row from its beginning; undefined turns the LED off. */
  show(row: number[] | undefined): void;
  close(): void;
}

/** Espruino throws on clearTimeout(undefined) and clears every timer on clearTimeout(). */
export function cancelTimer(hw: LedHw, id: number | undefined): undefined {
  if (id !== undefined) hw.cancel(id);
  return undefined;
}

/** Wave update interval: the smallest multiple of Edgent's step that is at least `tick` ms. */
export function waveTick(row: number[], tick: number): number {
  var step = waveStep(row);
  return step * Math.max(1, Math.ceil(tick / step));
}

export function createLed(spec: LedSpec, hw: LedHw): Led {
  var kind = spec.kind;
  var pins = spec.pins;
  var scale = [0, 0, 0]; // per channel: duty (0..1) at level 255
  var px = [0, 0, 0]; // WS2812 buffer (GRB), reused for every write
  var colour = -1;
  var last = -1; // level last written
  var row: number[] | undefined;
  var t0 = 0; // pattern start (ms)
  var due = 0; // pattern time of the edge the timer was set for
  var n = 0; // wave step counter
  var k = 1; // wave steps per tick
  var timer: number | undefined;

  function put(level: number): void {
    if (level === last || kind === Kind.NONE) return;
    last = level;
    if (kind === Kind.GPIO) return hw.out(pins[0], (level >= GPIO_THRESHOLD ? 1 : 0) ^ (spec.inv & 1));
    if (kind === Kind.WS2812) {
      px[0] = Math.round(scale[1] * level);
      px[1] = Math.round(scale[0] * level);
      px[2] = Math.round(scale[2] * level);
      return hw.pixel(pins[0], px);
    }
    for (var i = 0; i < pins.length; i++) {
      var d = (scale[i] * level) / 255;
      hw.pwm(pins[i], (spec.inv >> i) & 1 ? 1 - d : d, spec.freq);
    }
  }

  // One timeout per edge; the delay is taken from the pattern's own clock so edges do not drift
  // by the callback latency (Espruino bases a new timeout on the time it is created).
  function edge(): void {
    timer = undefined;
    var t = hw.now() - t0;
    if (t < due) t = due; // ms rounding of now() must not repeat the previous step
    put(levelAt(row!, t));
    due = nextEdge(row!, t);
    timer = hw.after(edge, due - t);
  }

  // setInterval does not drift in Espruino, so counting steps keeps the wave on Edgent's curve
  // without reading the clock.
  function tick(): void {
    n = (n + k) & 255;
    put(waveLevel(n));
  }

  function show(r: number[] | undefined): void {
    timer = cancelTimer(hw, timer);
    row = r;
    if (!r || kind === Kind.NONE) return put(0);
    if (r[Col.COLOUR] !== colour) {
      colour = r[Col.COLOUR];
      var mono = kind === Kind.GPIO || kind === Kind.PWM;
      for (var i = 0; i < 3; i++) scale[i] = ((mono ? 255 : (colour >> (16 - 8 * i)) & 255) * spec.brightness) / 65025;
      last = -1;
    }
    t0 = hw.now();
    due = 0;
    if (isWave(r) && kind !== Kind.GPIO) {
      n = 0;
      k = waveTick(r, spec.tick) / waveStep(r);
      put(0);
      timer = hw.every(tick, waveTick(r, spec.tick));
    } else edge();
  }

  return {
    show: show,
    close: function () {
      show(undefined);
    },
  };
}
