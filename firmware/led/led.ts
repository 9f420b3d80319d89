// LED drivers: turn a row of the pattern table into pin writes, with as few wake-ups as the
// pattern allows. A blink (and a wave on a plain GPIO LED) sleeps until its next edge; only a
// wave on a dimmable LED needs a periodic tick, and that tick allocates nothing.
//
// RAM: Espruino keeps function text in flash but charges 5-8 JsVars per function object, so the
// driver has two, show and step, and keeps numbers rather than booleans (an int costs one JsVar).
import { now, pinOutput, pwmOut, pixelWriter } from "../platform/espruino.js";
import { Col, GPIO_THRESHOLD, WAVE_STEPS, levelAt, nextEdge } from "./patterns.js";
import { Kind, LedSpec, waveTick } from "./spec.js";

// The LED's state. The board has one LED, so it lives in module variables and the driver is two
// module functions: functions made inside createLed() would each cost Espruino a copy of their
// scope chain for as long as the device runs.
var o: LedSpec;
var scale = [0, 0, 0]; // per channel: duty (0..1) at level 255
var px: number[] = []; // WS2812 buffer (GRB), reused for every write
var colour = -1;
var last = -1; // level last written
var row: number[] | undefined;
var t0 = 0; // pattern start (ms)
var due = 0; // pattern time of the edge the timer was set for
var n = 0; // wave step counter
var k = 0; // wave steps per tick; 0 while a blink runs
var timer: any; // a timeout (blink) or an interval (wave); undefined when idle
var pwmOptions = { freq: 0 }; // one options object for every PWM write: a fading LED allocates nothing
var pixel: ((pin: number, grb: number[]) => void) | undefined;

// The LED's only timer callback, and the only code that writes pins. A wave ticks from
// setInterval, which does not drift in Espruino, so counting steps keeps it on Edgent's curve
// without reading the clock. A blink sets one timeout per edge, timed from the pattern's own
// start so edges do not drift by the callback latency (Espruino counts a new timeout from the
// moment it is created). Without a row it writes "off". The writes are spelled out here, not
// in a helper: a function called from one place is folded in by the minifier as a function
// expression, which would allocate on every tick.
function step(): void {
  var level = 0;
  if (k) {
    n = (n + k) & (WAVE_STEPS - 1);
    level = (n < 128 ? n : 255 - n) * 2; // Edgent's triangle, as levelAt()
  } else if (row) {
    timer = undefined;
    var t = now() - t0;
    if (t < due) t = due; // ms rounding of now() must not repeat the previous step
    level = levelAt(row, t);
    due = nextEdge(row, t);
    timer = setTimeout(step, due - t);
  }
  if (level === last || o.kind === Kind.NONE) return;
  last = level;
  if (o.kind === Kind.GPIO) return pinOutput(o.pins[0], (level >= GPIO_THRESHOLD ? 1 : 0) ^ (o.inv & 1));
  if (o.kind === Kind.WS2812) {
    px[0] = Math.round(scale[1] * level);
    px[1] = Math.round(scale[0] * level);
    px[2] = Math.round(scale[2] * level);
    return pixel!(o.pins[0], px);
  }
  for (var i = 0; i < o.pins.length; i++) {
    var d = (scale[i] * level) / 255;
    pwmOut(o.pins[i], (o.inv >> i) & 1 ? 1 - d : d, pwmOptions);
  }
}

/** Starts a pattern row from its beginning; show(undefined) turns the LED off. */
function show(r: number[] | undefined): void {
  if (timer !== undefined) clearTimeout(timer); // clearTimeout(undefined) throws in Espruino
  timer = undefined;
  row = o.kind === Kind.NONE ? undefined : r;
  k = 0;
  if (!row) return step(); // off
  if (row[Col.COLOUR] !== colour) {
    colour = row[Col.COLOUR];
    var mono = o.kind === Kind.GPIO || o.kind === Kind.PWM;
    for (var i = 0; i < 3; i++) scale[i] = ((mono ? 255 : (colour >> (16 - 8 * i)) & 255) * o.brightness) / 65025;
    last = -1;
  }
  t0 = now();
  due = 0;
  if (row.length === Col.TIMES + 1 && o.kind !== Kind.GPIO) {
    var ms = waveTick(row, o.tick);
    k = ms / Math.floor(row[Col.TIMES] / WAVE_STEPS);
    n = (WAVE_STEPS - k) & (WAVE_STEPS - 1); // the first step() below shows step 0
    step();
    timer = setInterval(step, ms);
  } else step();
}

/**
 * Sets the driver up for the board's LED (the board has one: a second call starts it afresh) and
 * returns `show(row)`: starts a pattern row from its beginning; show(undefined) turns the LED off.
 */
export function createLed(spec: LedSpec): (row: number[] | undefined) => void {
  if (timer !== undefined) clearTimeout(timer);
  o = spec;
  timer = row = undefined;
  colour = last = -1;
  t0 = due = n = k = 0;
  px = o.kind === Kind.WS2812 ? [0, 0, 0] : [];
  pwmOptions = { freq: o.freq };
  pixel = o.kind === Kind.WS2812 ? pixelWriter() : undefined;
  return show;
}
