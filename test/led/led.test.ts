import assert from "node:assert/strict";
import { Col, Pat, patternTable, patternName, levelAt, cycleMs, isWave } from "../../firmware/led/patterns.ts";
import { Kind, panelSpec, espruinoNegates, waveTick, type BoardIo } from "../../firmware/led/spec.ts";
import { FakeHw } from "./fake-hw.ts";
import "./hook.ts";

const { createLed } = await import("../../firmware/led/led.ts");
import { expected, replay, same, type Rgb } from "./eye.ts";
import { loadBoards, type Board } from "./boards.ts";

const rows = patternTable();
let boards: Board[] = [];

function run(board: BoardIo, row: number[], ms: number) {
  const hw = new FakeHw();
  const show = createLed(panelSpec(board).led);
  hw.advance(1234); // the pattern's clock must not assume the device clock starts at 0
  const t0 = hw.t;
  hw.writes = [];
  hw.wakeUps = 0;
  show(row);
  hw.advance(ms);
  return { hw, show, t0, timeline: replay(board, hw.writes.filter((w) => w.t < t0 + ms)) };
}

/** The light on at `t` according to a replayed timeline. */
function at(timeline: { t: number; light: Rgb }[], t: number): Rgb {
  let cur: Rgb = [0, 0, 0];
  for (const e of timeline) {
    if (e.t > t) break;
    cur = e.light;
  }
  return cur;
}

function fmt(l: Rgb): string {
  return l.map((x) => x.toFixed(4)).join(",");
}

describe("LED drivers (fake clock)", () => {
  afterEach(() => FakeHw.restore());
  // Boards from boards/*.json plus the drivers no profile uses yet.
  before(async () => {
    boards = await loadBoards();
    const d1 = boards.find((b) => b.id === "wemos-d1-mini")!;
    boards.push({ ...d1, id: "gpio-inverted", led: { ...d1.led, type: "gpio" } });
    boards.push({ ...d1, id: "gpio-esp32", chip: "ESP32", dev: "ESP32", led: { type: "gpio", pins: [4], inverted: false, brightness: 255 } });
    boards.push({ ...d1, id: "pwm-on-negated-d0", chip: "ESP32", dev: "ESP32", led: { type: "pwm", pins: [0], inverted: false, brightness: 200 } });
  });

  it("light every blink pattern exactly on the table's edges, with one wake-up per edge, on every board", () => {
    for (const board of boards) {
      for (let p = 0; p < Pat.COUNT; p++) {
        const row = rows[p];
        const stepped = !isWave(row) || board.led.type === "gpio";
        if (!stepped) continue;
        const span = 3 * cycleMs(row);
        const { hw, t0, timeline } = run(board, row, span);
        let changes = 0;
        let prev: Rgb | undefined;
        for (let ms = 0; ms < span; ms++) {
          const want = expected(board, row[Col.COLOUR], levelAt(row, ms));
          const got = at(timeline, t0 + ms);
          assert.ok(same(got, want), `${board.id} ${patternName(p)} at +${ms} ms: ${fmt(got)} instead of ${fmt(want)}`);
          if (!prev || !same(prev, want)) changes++;
          prev = want;
        }
        if (board.led.type !== "none") {
          assert.equal(timeline.length, changes, `${board.id} ${patternName(p)}: ${timeline.length} writes for ${changes} changes`);
          assert.ok(hw.wakeUps <= changes, `${board.id} ${patternName(p)}: ${hw.wakeUps} wake-ups for ${changes} edges`);
        }
      }
    }
  });

  it("follow Edgent's wave within one update tick on dimmable LEDs", () => {
    for (const board of boards) {
      if (board.led.type === "gpio" || board.led.type === "none") continue;
      for (const p of [Pat.RUNNING, Pat.HOLD_3S]) {
        const row = rows[p];
        const tick = waveTick(row, panelSpec(board).led.tick);
        const span = 3 * cycleMs(row);
        const { hw, t0, timeline } = run(board, row, span);
        for (let ms = 0; ms < span; ms++) {
          const got = at(timeline, t0 + ms);
          let ok = false;
          for (let back = 0; back <= tick && back <= ms && !ok; back++) ok = same(got, expected(board, row[Col.COLOUR], levelAt(row, ms - back)));
          assert.ok(ok, `${board.id} ${patternName(p)} at +${ms} ms shows ${fmt(got)}, not the wave of the last ${tick} ms`);
        }
        assert.ok(hw.wakeUps <= Math.ceil(span / tick), `${board.id}: ${hw.wakeUps} ticks`);
        assert.ok(hw.wakeUps >= Math.floor(span / tick) - 1, `${board.id}: ${hw.wakeUps} ticks`);
      }
    }
  });

  it("drive inverted and Espruino-negated pins the right way round", () => {
    const nodemcu = boards.find((b) => b.id === "nodemcu")!;
    let r = run(nodemcu, rows[Pat.WAIT_CONFIG], 60);
    assert.deepEqual(r.hw.writes.map((w) => [w.t - r.t0, w.pin, w.value]), [[0, 2, 0], [50, 2, 1]]); // lit = low
    const wrover = boards.find((b) => b.id === "esp32-wrover-kit")!;
    assert.ok(espruinoNegates(wrover, 0));
    r = run(wrover, rows[Pat.ERROR], 1);
    // red FF at brightness 128 on D0, which Espruino inverts: ask for 1 - duty to get duty
    const byPin = new Map(r.hw.writes.map((w) => [w.pin, w.value as number]));
    assert.ok(Math.abs(byPin.get(0)! - (1 - 128 / 255)) < 1e-9, `D0 got ${byPin.get(0)}`);
    assert.ok(Math.abs(byPin.get(2)! - (0x10 * 128) / 65025) < 1e-9);
    assert.ok(Math.abs(byPin.get(4)! - (0x08 * 128) / 65025) < 1e-9);
  });

  it("show every colour of the table on the RGB LED and the WS2812 pixel", () => {
    for (const id of ["esp32-wrover-kit", "esp32-c3-devkitm"]) {
      const board = boards.find((b) => b.id === id)!;
      for (let p = 0; p < Pat.COUNT; p++) {
        const row = rows[p];
        const { t0, timeline } = run(board, row, cycleMs(row));
        // the brightest moment is the table's colour at the highest level the pattern reached
        const brightest = timeline.reduce((a, e) => (e.light[0] + e.light[1] + e.light[2] > a[0] + a[1] + a[2] ? e.light : a), [0, 0, 0] as Rgb);
        let level = isWave(row) ? 200 : 255;
        while (level <= 255 && !same(brightest, expected(board, row[Col.COLOUR], level), 0.5 / 255 + 1.5 / 1024)) level++;
        assert.ok(level <= 255, `${id} ${patternName(p)}: brightest ${fmt(brightest)} is not the colour ${row[Col.COLOUR].toString(16)}`);
      }
    }
    const c3 = boards.find((b) => b.id === "esp32-c3-devkitm")!;
    const { hw } = run(c3, rows[Pat.WAIT_CONFIG], 1);
    // 0D36FF at brightness 32, sent as G, R, B
    assert.deepEqual(hw.writes[0].value, [Math.round((0x36 * 32) / 255), Math.round((0x0d * 32) / 255), 32]);
  });

  it("restart a pattern cleanly: the new one starts at once and the old timer is gone", () => {
    const board = boards.find((b) => b.id === "esp32-devkitc")!;
    const hw = new FakeHw();
    const show = createLed(panelSpec(board).led);
    show(rows[Pat.CONFIGURING]); // lit 0..200
    hw.advance(230); // dark since 200
    show(rows[Pat.ERROR]);
    assert.equal(hw.timerCount(), 1);
    const w = hw.writes[hw.writes.length - 1];
    assert.deepEqual([w.t, w.value], [230, 1]); // lit at once
    hw.writes = [];
    hw.advance(80 + 100 + 80 + 1000);
    assert.deepEqual(hw.writes.map((x) => [x.t - 230, x.value]), [[80, 0], [180, 1], [260, 0], [1260, 1]]);
  });

  it("never leave the LED lit or a timer running when states change quickly", () => {
    for (const board of boards) {
      const hw = new FakeHw();
      const show = createLed(panelSpec(board).led);
      let seed = 7;
      const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
      for (let i = 0; i < 300; i++) {
        show(rows[rnd(Pat.COUNT)]);
        assert.ok(hw.timerCount() <= 1, `${board.id}: ${hw.timerCount()} timers`);
        hw.advance(rnd(40));
      }
      show(undefined);
      assert.equal(hw.timerCount(), 0, board.id);
      const n = hw.writes.length;
      hw.advance(10000);
      assert.equal(hw.writes.length, n, `${board.id}: writes after close`);
      const off = replay(board, hw.writes);
      assert.deepEqual(off[off.length - 1]?.light ?? [0, 0, 0], [0, 0, 0], `${board.id} is left lit`);
      show(undefined); // twice is fine
    }
  });

  it("writes nothing and keeps no timer for a board without an LED", () => {
    const board = { ...boards[0], led: { type: "none" as const, pins: [], inverted: false, brightness: 255 } };
    const spec = panelSpec(board).led;
    assert.equal(spec.kind, Kind.NONE);
    const hw = new FakeHw();
    const show = createLed(spec);
    for (let p = 0; p < Pat.COUNT; p++) show(rows[p]);
    hw.advance(20000);
    assert.equal(hw.writes.length, 0);
    assert.equal(hw.timerCount(), 0);
  });
});
