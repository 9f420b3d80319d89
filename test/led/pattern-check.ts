// Does the LED of a booted device (test/system/device.ts) follow a row of the pattern table? Two
// checks over a window of device time, on the light replayed from the device's pin writes:
//
//  - moment by moment: at every ms the LED shows what the row shows at most `late` ms earlier;
//  - change by change: the lights the LED changes to are, in order, the ones the driver is due to
//    show (the row's edges; for a wave on a dimmable LED, its level at each tick), each change at
//    most `late` ms after it was due and none extra.
//
// In the simulator `late` is one timer tick (a wave on a dimmable LED: one wave tick more), as the
// virtual clock is exact. On the real interpreter a row may start up to REAL_START_MS after the time
// the test has for it (the device logs a state, does the state's work, then shows its pattern: tens
// of ms in the ESP8266 model, which runs under qemu), and a change may come REAL_TOL_MS after that.
// Its timers also run late when the host is busy: a tenth of a second now and then on a loaded 2-core
// machine, seconds when it is overloaded. So the pin panel (test/real/pins.js) reports each timer the
// interpreter ran late and stamps a write made in a timer's callback with the time that timer was
// due: when the firmware meant it to happen. The change-by-change check holds that time to the row
// (REAL_START_MS + REAL_TOL_MS, and from the row's start a median within REAL_LATE_MS); a change the
// firmware rightly skipped, its timer having run past the next change, may be missing. The
// moment-by-moment check allows the longest lateness of the host in its window, and starts
// REAL_START_MS into the window (until the switch, the previous pattern may still change).
import assert from "node:assert/strict";
import { Col, isWave, levelAt, nextEdge } from "../../firmware/led/patterns.ts";
import { panelSpec, waveTick } from "../../firmware/led/spec.ts";
import { expected, light, replay, same, type Rgb } from "./eye.ts";
import type { Board as LedBoard } from "./boards.ts";
import type { TestDevice, PinWrite } from "../system/device.ts";

/** Blink edges may land this late in the simulator's idle loop (one timer tick). */
export const EDGE_TOL_MS = 1;
/** On the real interpreter a row may start this long after the time the test has for it... */
export const REAL_START_MS = 100;
/** ... and a change come this long after it was due, on top of that start and of the lateness of its timer... */
export const REAL_TOL_MS = { ESP32: 40, ESP8266: 60 };
/** ... while from the row's start the changes' median lateness (their timers' own lateness taken off) is at most this. */
export const REAL_LATE_MS = { ESP32: 20, ESP8266: 30 };

/** The light at device time t, from pin writes (physical levels). */
export function lightAt(board: LedBoard, writes: PinWrite[], t: number): Rgb {
  let cur: Rgb = [0, 0, 0];
  for (const e of replay(board, writes, true)) {
    if (e.t > t) break;
    cur = e.light;
  }
  return cur;
}

/**
 * The light after each step of the driver: a step writes each of the LED's pins at most once, at one
 * time. (replay() merges writes of one ms; a late device catching up may run several steps in one.)
 */
function steps(board: LedBoard, writes: PinWrite[]): { t: number; due?: number; light: Rgb }[] {
  const last = new Map<number, number | number[]>();
  const out: { t: number; due?: number; light: Rgb }[] = [];
  let pins = new Set<number>();
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i];
    if (pins.has(w.pin) || (out.length && w.t !== out[out.length - 1].t)) pins = new Set();
    last.set(w.pin, w.value);
    const l = light(board, last, true);
    if (pins.size) out[out.length - 1].light = l;
    else out.push({ t: w.t, due: w.due, light: l });
    pins.add(w.pin);
  }
  return out;
}

/** The LED follows `row` started at device time t0, over [t0 + skip, t0 + ms). */
export function assertPattern(d: TestDevice, board: LedBoard, row: number[], t0: number, ms: number, skip = 0): void {
  const real = d.backend === "real";
  const wave = isWave(row) && board.led.type !== "gpio";
  const tick = wave ? waveTick(row, panelSpec(board).led.tick) : 0;
  const name = `${board.id} (${d.backend})`;
  const writes = d.pinWrites(board.led.pins);
  const timeline = replay(board, writes, true);
  const want = (t: number): Rgb => expected(board, row[Col.COLOUR], levelAt(row, t));
  // how late the interpreter ran the timers due around device time t, and the writes made in them
  // (none in the simulator)
  const lateTimers = d.lateTimers().concat(writes.filter((w) => w.due !== undefined).map((w) => ({ t: w.due!, late: w.t - w.due! })));
  const stall = (from: number, to: number) => lateTimers.reduce((m, x) => (x.t >= from && x.t <= to ? Math.max(m, x.late) : m), 0);
  const base = (real ? REAL_START_MS + REAL_TOL_MS[board.chip] : EDGE_TOL_MS) + tick;
  const late = base + stall(t0 - 5, t0 + ms + (real ? REAL_START_MS : 0) + 5);

  // moment by moment; on the real interpreter not while the switch to the row may still be on its
  // way (what the LED shows then is the previous pattern's business), nor while the switch's own
  // timer ran late
  const from = real ? Math.max(skip, REAL_START_MS + stall(t0 - 5, t0 + 5)) : skip;
  let k = 0;
  let cur: Rgb = [0, 0, 0];
  for (let t = t0 + from; t < t0 + ms; t++) {
    while (k < timeline.length && timeline[k].t <= t) cur = timeline[k++].light;
    let ok = false;
    for (let back = -EDGE_TOL_MS; back <= late && !ok; back++) if (t - t0 - back >= 0) ok = same(cur, want(t - t0 - back));
    assert.ok(ok, `${name}: at ${t} ms (+${t - t0}) the LED shows ${cur.map((x) => x.toFixed(3))}`);
  }

  // change by change: when the driver is due to change the light, and to what
  const due: { t: number; light: Rgb }[] = [];
  let last: Rgb | undefined;
  for (let u = 0; u < ms + late; u = wave ? u + tick : nextEdge(row, u)) {
    const light = want(u);
    if (!last || !same(light, last)) due.push({ t: t0 + u, light });
    last = light;
  }
  const changes = steps(board, writes).filter((c, i, all) => i === 0 || !same(c.light, all[i - 1].light));
  const lateness: number[] = [];
  let j = 0;
  let shown: Rgb | undefined; // what the LED shows after the changes matched so far
  for (let i = 0; i < due.length; i++) {
    const e = due[i];
    if (e.t > t0 + ms - late) break;
    // the row's first light (or one due before the window) may have shown before the window, or late in it
    const optional = e.t <= t0 + skip;
    // a blink whose timer ran later than its next change shows what is due by then: the changes
    // it slept through never show (and one back to what the LED shows is no change)
    if (shown && same(e.light, shown)) continue;
    // its timer was due when the change was, counted from the row's own start (up to REAL_START_MS later)
    const timer = stall(e.t - 5, e.t + (real ? REAL_START_MS : 0) + 5);
    const sleptThrough = !wave && i + 1 < due.length && e.t + timer >= due[i + 1].t;
    while (j < changes.length && changes[j].t < e.t - EDGE_TOL_MS) j++;
    // the row's first light may come after a last change of the previous pattern
    if (optional)
      for (let n = j; n < changes.length && changes[n].t <= e.t + base + timer; n++)
        if (same(changes[n].light, e.light)) {
          j = n;
          break;
        }
    const c = changes[j];
    // when the firmware meant the change to happen: its timer's due time (real interpreter), or when it did
    const meant = c ? (c.due ?? c.t - timer) : 0;
    const ok = c && meant <= e.t + base && same(c.light, e.light);
    if (!ok && (sleptThrough || optional)) continue;
    assert.ok(
      ok,
      `${name}: the change to ${e.light.map((x) => x.toFixed(3))} due at ${e.t} ms (+${e.t - t0}) is missing; next: ${c ? `${c.light.map((x) => x.toFixed(3))} at ${c.t} ms` : "none"}` +
        (timer ? ` (its timer ran ${timer} ms late)` : ""),
    );
    if (!optional) lateness.push(meant - e.t);
    shown = c.light;
    j++;
  }
  for (const c of changes) {
    if (c.t <= t0 + skip + late || c.t >= t0 + ms) continue;
    assert.ok(due.some((e) => e.t >= c.t - late && e.t <= c.t + EDGE_TOL_MS && same(e.light, c.light)), `${name}: a change to ${c.light.map((x) => x.toFixed(3))} at ${c.t} ms (+${c.t - t0}) is not in the pattern`);
  }
  if (real && lateness.length) {
    lateness.sort((a, b) => a - b);
    const start = Math.max(0, lateness[0]);
    const median = lateness[Math.floor(lateness.length / 2)] - start;
    assert.ok(start <= REAL_START_MS, `${name}: the row started ${start} ms late, more than ${REAL_START_MS} ms`);
    assert.ok(median <= REAL_LATE_MS[board.chip], `${name}: the LED's changes come ${median} ms late (median) after the row's start, more than ${REAL_LATE_MS[board.chip]} ms`);
  }
}
