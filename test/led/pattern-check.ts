// Does the LED of a booted device (test/system/device.ts) follow a row of the pattern table? Two
// checks over a window of device time, on the light replayed from the device's pin writes:
//
//  - moment by moment: at every ms the LED shows what the row shows at most `late` ms earlier;
//  - change by change: the lights the LED changes to are, in order, the ones the driver is due to
//    show (the row's edges; for a wave on a dimmable LED, its level at each tick), each change at
//    most `late` ms after it was due and none extra.
//
// In the simulator `late` is one timer tick (a wave on a dimmable LED: one wave tick more), as the
// virtual clock is exact. The real interpreter's timers run late when the host is busy, for up to
// a tenth of a second now and then (measured under load on a 2-core machine; the ESP8266 model runs
// under qemu): there `late` is REAL_STALL_MS, so a stall does not fail the test. The timing is still
// checked: the row may start up to REAL_START_MS after t0 (the device logs a state, does the state's
// work, then shows its pattern: tens of ms in the ESP8266 model), and from that start the changes'
// median lateness must stay within REAL_LATE_MS. The moment-by-moment check there starts
// REAL_START_MS into the window (until the switch the previous pattern may still change); the changes
// are checked from the window's start.
import assert from "node:assert/strict";
import { Col, isWave, levelAt, nextEdge } from "../../firmware/led/patterns.ts";
import { panelSpec, waveTick } from "../../firmware/led/spec.ts";
import { expected, light, replay, same, type Rgb } from "./eye.ts";
import type { Board as LedBoard } from "./boards.ts";
import type { TestDevice, PinWrite } from "../system/device.ts";

/** Blink edges may land this late in the simulator's idle loop (one timer tick). */
export const EDGE_TOL_MS = 1;
/** The longest a real interpreter's timer may run late under load (a stall of the host). */
export const REAL_STALL_MS = 250;
/** The median lateness of the LED's changes on the real interpreter, from the row's own start... */
export const REAL_LATE_MS = { ESP32: 10, ESP8266: 25 };
/** ... which may come this long after the time the test has for it. */
export const REAL_START_MS = 100;

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
function steps(board: LedBoard, writes: PinWrite[]): { t: number; light: Rgb }[] {
  const last = new Map<number, number | number[]>();
  const out: { t: number; light: Rgb }[] = [];
  let pins = new Set<number>();
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i];
    if (pins.has(w.pin) || (out.length && w.t !== out[out.length - 1].t)) pins = new Set();
    last.set(w.pin, w.value);
    const l = light(board, last, true);
    if (pins.size) out[out.length - 1].light = l;
    else out.push({ t: w.t, light: l });
    pins.add(w.pin);
  }
  return out;
}

/** The LED follows `row` started at device time t0, over [t0 + skip, t0 + ms). */
export function assertPattern(d: TestDevice, board: LedBoard, row: number[], t0: number, ms: number, skip = 0): void {
  const real = d.backend === "real";
  const wave = isWave(row) && board.led.type !== "gpio";
  const tick = wave ? waveTick(row, panelSpec(board).led.tick) : 0;
  const late = (real ? REAL_STALL_MS : EDGE_TOL_MS) + tick;
  const name = `${board.id} (${d.backend})`;
  const writes = d.pinWrites(board.led.pins);
  const timeline = replay(board, writes, true);
  const want = (t: number): Rgb => expected(board, row[Col.COLOUR], levelAt(row, t));

  // moment by moment; on the real interpreter not while the switch to the row may still be on its
  // way (what the LED shows then is the previous pattern's business)
  const from = real ? Math.max(skip, REAL_START_MS) : skip;
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
  const cycle = wave ? waveTick(row, panelSpec(board).led.tick) : 0;
  for (let u = 0; u < ms + late; u = wave ? u + cycle : nextEdge(row, u)) {
    const light = want(u);
    if (!last || !same(light, last)) due.push({ t: t0 + u, light });
    last = light;
  }
  const changes = steps(board, writes).filter((c, i, all) => i === 0 || !same(c.light, all[i - 1].light));
  const lateness: number[] = [];
  let j = 0;
  for (const e of due) {
    if (e.t <= t0 + skip || e.t > t0 + ms - late) continue;
    while (j < changes.length && changes[j].t < e.t - EDGE_TOL_MS) j++;
    const c = changes[j];
    assert.ok(c && c.t <= e.t + late && same(c.light, e.light), `${name}: the change to ${e.light.map((x) => x.toFixed(3))} due at ${e.t} ms (+${e.t - t0}) is missing; next: ${c ? `${c.light.map((x) => x.toFixed(3))} at ${c.t} ms` : "none"}`);
    lateness.push(c.t - e.t);
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
