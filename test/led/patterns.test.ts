import assert from "node:assert/strict";
import { State } from "../../firmware/core/state.ts";
import {
  Pat, Hold, Col, patternTable, patternName, patternDocs, patternLabel, patternFor, levelAt, nextEdge, cycleMs, waveStep, isWave, waveLevel, GPIO_THRESHOLD,
} from "../../firmware/led/patterns.ts";

const ALL_STATES = [State.INIT, State.WAIT_CONFIG, State.CONFIGURING, State.CONNECTING_NET, State.CONNECTING_CLOUD, State.RUNNING,
  State.OTA_UPGRADE, State.SWITCH_TO_STA, State.RESET_CONFIG, State.ERROR];
const rows = patternTable();

/** Blink edges straight from the table: [ms, level] for `cycles` cycles. */
function tableEdges(row: number[], cycles: number): [number, number][] {
  const out: [number, number][] = [];
  let t = 0;
  for (let c = 0; c < cycles; c++)
    for (let i = Col.TIMES; i < row.length; i++) {
      out.push([t, (i - Col.TIMES) % 2 ? 0 : 255]);
      t += row[i];
    }
  return out;
}

describe("LED pattern table (Edgent Indicator.h)", () => {
  it("has one row, one name and one docs entry per pattern", () => {
    assert.equal(rows.length, Pat.COUNT);
    assert.equal(patternDocs().length, Pat.COUNT);
    const names = new Set(rows.map((_, p) => patternName(p)));
    assert.equal(names.size, Pat.COUNT);
    for (const n of names) assert.match(n, /^[a-z0-9-]+$/);
  });

  it("uses Edgent's timings and colours", () => {
    const expect: Record<string, [number, number[]]> = {
      "wait-config": [0x0d36ff, [50, 500]],
      configuring: [0x0d36ff, [200, 200]],
      "connecting-net": [0x2effb9, [50, 500]],
      "connecting-cloud": [0x2effb9, [100, 100]],
      running: [0x2effb9, [5000]],
      "ota-upgrade": [0xa700ff, [50, 50]],
      error: [0xff1008, [80, 100, 80, 1000]],
      "hold-3s": [0xffffe7, [1000]],
      "hold-10s": [0xffffe7, [100, 100]],
    };
    rows.forEach((row, p) => {
      const [colour, times] = expect[patternName(p)];
      assert.equal(row[Col.COLOUR], colour, patternName(p));
      assert.deepEqual(row.slice(Col.TIMES), times, patternName(p));
    });
  });

  it("gives every state exactly one row, or the error row like Edgent's 'anything else'", () => {
    for (const s of ALL_STATES) {
      const owners = rows.filter((r) => r[Col.STATES] & (1 << s));
      assert.ok(owners.length <= 1, `state ${s} is in ${owners.length} rows`);
      assert.equal(patternFor(s, Hold.NONE), owners.length ? rows.indexOf(owners[0]) : Pat.ERROR);
    }
    assert.equal(patternFor(State.WAIT_CONFIG, Hold.NONE), Pat.WAIT_CONFIG);
    assert.equal(patternFor(State.RESET_CONFIG, Hold.NONE), Pat.WAIT_CONFIG);
    assert.equal(patternFor(State.CONFIGURING, Hold.NONE), Pat.CONFIGURING);
    assert.equal(patternFor(State.CONNECTING_NET, Hold.NONE), Pat.CONNECTING_NET);
    assert.equal(patternFor(State.CONNECTING_CLOUD, Hold.NONE), Pat.CONNECTING_CLOUD);
    assert.equal(patternFor(State.RUNNING, Hold.NONE), Pat.RUNNING);
    assert.equal(patternFor(State.OTA_UPGRADE, Hold.NONE), Pat.OTA_UPGRADE);
    assert.equal(patternFor(State.ERROR, Hold.NONE), Pat.ERROR);
    assert.equal(patternFor(State.SWITCH_TO_STA, Hold.NONE), Pat.ERROR);
    assert.equal(patternFor(State.INIT, Hold.NONE), Pat.ERROR);
  });

  it("lets a button hold override every state, 10 s before 3 s (Edgent's order)", () => {
    for (const s of ALL_STATES) {
      assert.equal(patternFor(s, Hold.RESET), Pat.HOLD_10S);
      assert.equal(patternFor(s, Hold.INDICATE), Pat.HOLD_3S);
    }
  });
});

describe("QA labels", () => {
  it("name each pattern with its colour and timing", () => {
    assert.equal(patternLabel(Pat.WAIT_CONFIG), "wait-config: 0D36FF 50/500 ms");
    assert.equal(patternLabel(Pat.ERROR), "error: FF1008 80/100/80/1000 ms");
    assert.equal(patternLabel(Pat.RUNNING), "running: 2EFFB9 wave 4864 ms");
    assert.equal(patternLabel(Pat.HOLD_3S), "hold-3s: FFFFE7 wave 768 ms");
  });
});

describe("LED level over time", () => {
  it("blinks exactly the table's steps, lit first, over several cycles", () => {
    rows.forEach((row, p) => {
      if (isWave(row)) return;
      const edges = tableEdges(row, 4);
      for (let i = 0; i < edges.length; i++) {
        const [t, level] = edges[i];
        const end = i + 1 < edges.length ? edges[i + 1][0] : t + row[Col.TIMES];
        for (let ms = t; ms < end; ms++) assert.equal(levelAt(row, ms), level, `${patternName(p)} at ${ms} ms`);
      }
    });
  });

  it("waves like Edgent: 256 steps of floor(period/256) ms, triangle 0 -> 254 -> 0", () => {
    const running = rows[Pat.RUNNING];
    assert.equal(waveStep(running), 19);
    assert.equal(cycleMs(running), 4864);
    assert.equal(waveStep(rows[Pat.HOLD_3S]), 3);
    assert.equal(cycleMs(rows[Pat.HOLD_3S]), 768);
    for (let cnt = 0; cnt < 512; cnt++) {
      const b = cnt % 256 < 128 ? cnt % 256 : 255 - (cnt % 256);
      for (let j = 0; j < 19; j++) assert.equal(levelAt(running, cnt * 19 + j), b * 2);
      assert.equal(waveLevel(cnt), b * 2);
    }
    assert.equal(levelAt(running, 0), 0);
    assert.equal(levelAt(running, 127 * 19), 254);
    assert.equal(levelAt(running, 128 * 19), 254);
    assert.equal(levelAt(running, 255 * 19), 0);
  });

  it("finds the next edge exactly where the level changes (blink steps, wave threshold crossings)", () => {
    rows.forEach((row, p) => {
      const span = 3 * cycleMs(row);
      const lit: boolean[] = [];
      for (let ms = 0; ms <= span + cycleMs(row); ms++) lit.push(levelAt(row, ms) >= GPIO_THRESHOLD);
      let change = lit.length; // first ms after `ms` whose level differs from the one before it
      for (let ms = lit.length - 2; ms >= 0; ms--) {
        if (lit[ms + 1] !== lit[ms]) change = ms + 1;
        if (ms < span) assert.equal(nextEdge(row, ms), change, `${patternName(p)}: nextEdge(${ms})`);
      }
    });
  });

  it("shows a wave on a plain GPIO LED as a slow blink: lit for the middle half of each cycle", () => {
    const running = rows[Pat.RUNNING];
    assert.equal(nextEdge(running, 0), 64 * 19);
    assert.equal(nextEdge(running, 64 * 19), 192 * 19);
    assert.equal(nextEdge(running, 192 * 19), 256 * 19 + 64 * 19);
  });
});
