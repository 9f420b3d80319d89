import assert from "node:assert/strict";
import { State } from "../../firmware/core/state.ts";
import { Col, Pat, patternTable, patternName, levelAt } from "../../firmware/led/patterns.ts";
import { panelSpec, BOOT_GRACE_MS, QA_STEP_MS } from "../../firmware/led/spec.ts";
import type { Indicator } from "../../firmware/led/indicator-core.ts";
import { DEBOUNCE_MS } from "../../firmware/button/hold.ts";
import { FakeHw } from "./fake-hw.ts";
import "./hook.ts";

const core = await import("../../firmware/led/indicator-core.ts");
/** The indicator's functions as one object (the firmware calls them directly). */
function createIndicator(...a: Parameters<typeof core.createIndicator>) {
  core.createIndicator(...a);
  return { setState: core.setState, heldMs: core.heldMs, qa: core.startQa, led: core.userLed, close: core.close };
}
import { expected, replay, same, type Rgb } from "./eye.ts";
import { loadBoards, type Board } from "./boards.ts";

const rows = patternTable();
let boards: Board[] = [];
const board = (id: string) => boards.find((b) => b.id === id)!;

interface Rig {
  hw: FakeHw;
  ind: Indicator;
  resets: number[];
  log: string[];
  pin: number;
  down: number; // level read while pressed
  up: number;
  press(ms: number): void;
}

/** A device on `id`'s profile; the reset callback does what the firmware does (reference §3). */
function rig(id: string, opts: { heldAtBoot?: boolean; state?: State; edgeClock?: number } = {}): Rig {
  const b = board(id);
  const spec = panelSpec(b);
  const pin = spec.button!.pin;
  const down = spec.button!.level;
  const up = 1 - down;
  const hw = new FakeHw({ [pin]: up }, opts.edgeClock ?? 0);
  if (opts.heldAtBoot) hw.setLevel(pin, down);
  const resets: number[] = [];
  const log: string[] = [];
  const r: Rig = {
    hw, resets, log, pin, down, up,
    ind: createIndicator(spec.led, spec.button, () => {
      resets.push(hw.t);
      r.ind.setState(State.RESET_CONFIG);
      r.ind.setState(State.WAIT_CONFIG);
    }, (l) => log.push(l)),
    press(ms: number) {
      hw.pulse(pin, down, ms);
      hw.advance(DEBOUNCE_MS + 5);
    },
  };
  r.ind.setState(opts.state ?? State.WAIT_CONFIG);
  return r;
}

/** The pattern the LED shows over [from, from + ms): checked against the table, starting at `from`. */
function assertShows(r: Rig, id: string, p: Pat, from: number, ms: number): void {
  const b = board(id);
  const row = rows[p];
  const timeline = replay(b, r.hw.writes);
  for (let t = from; t < from + ms; t++) {
    let got: Rgb = [0, 0, 0];
    for (const e of timeline) if (e.t <= t) got = e.light;
    const want = expected(b, row[Col.COLOUR], levelAt(row, t - from));
    assert.ok(same(got, want), `${id} at ${t} ms should show ${patternName(p)} (+${t - from} ms)`);
  }
}

describe("LED and button (fake clock)", () => {
  before(async () => {
    boards = await loadBoards();
  });
  afterEach(() => FakeHw.restore());

  describe("reset button (fake clock)", () => {
    for (const id of ["nodemcu", "esp32-devkitc", "esp32-wrover-kit"]) {
      describe(id, () => {
        it("erases nothing after a 9.9 s hold", () => {
          const r = rig(id);
          r.hw.advance(1000);
          r.press(9900);
          r.hw.advance(5000);
          assert.deepEqual(r.resets, []);
          assert.ok(r.log.includes("Hold the button for 10 seconds to reset configuration..."));
        });

        it("erases on release after a 10.1 s hold, then the LED shows the waiting pattern", () => {
          const r = rig(id, { state: State.RUNNING });
          r.hw.advance(1000);
          r.hw.setLevel(r.pin, r.down);
          r.hw.advance(10100);
          assert.deepEqual(r.resets, [], "Edgent acts on release, not at 10 s");
          r.hw.setLevel(r.pin, r.up);
          const released = r.hw.t;
          r.hw.advance(3000);
          assert.deepEqual(r.resets, [released + DEBOUNCE_MS]);
          assertShows(r, id, Pat.WAIT_CONFIG, released + DEBOUNCE_MS, 2000);
        });

        it("resets exactly once for 12 bounces of 5 ms followed by a 10.2 s hold", () => {
          const r = rig(id);
          r.hw.advance(500);
          for (let i = 0; i < 12; i++) {
            r.hw.pulse(r.pin, r.down, 5);
            r.hw.advance(5);
          }
          r.press(10200);
          r.hw.advance(15000);
          assert.equal(r.resets.length, 1);
        });

        it("ignores 30 glitches shorter than the debounce spread over a minute", () => {
          const r = rig(id);
          let seed = 42;
          const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
          for (let i = 0; i < 30; i++) {
            r.hw.advance(200 + rnd(1800));
            r.hw.pulse(r.pin, r.down, 1 + rnd(DEBOUNCE_MS - 2));
          }
          r.hw.advance(60000 - r.hw.t + 20000);
          assert.deepEqual(r.resets, []);
          assert.equal(r.log.length, 0, r.log.join("\n"));
          assert.equal(r.ind.heldMs(), 0);
        });

        it("ignores a button held at power-on until it is released and held again", () => {
          const r = rig(id, { heldAtBoot: true });
          r.hw.advance(15000);
          assert.equal(r.ind.heldMs(), 0);
          assertShows(r, id, Pat.WAIT_CONFIG, 0, 15000); // no hold indication either
          r.hw.setLevel(r.pin, r.up);
          r.hw.advance(2000);
          assert.deepEqual(r.resets, []);
          r.press(10200);
          assert.equal(r.resets.length, 1);
        });
      });
    }

    it("shows a white breathe from 3 s and a fast white blink from 10 s, then the state again", () => {
      const id = "esp32-wrover-kit";
      const r = rig(id, { state: State.CONNECTING_CLOUD });
      r.hw.advance(1000);
      r.hw.setLevel(r.pin, r.down);
      r.hw.advance(DEBOUNCE_MS);
      assert.ok(r.ind.heldMs() >= DEBOUNCE_MS);
      r.hw.advance(12000);
      const pressed = 1000;
      const timeline = replay(board(id), r.hw.writes);
      const white = (t: number) => timeline.filter((e) => e.t <= t).pop()!.light;
      // before 3 s: the state's pattern; from 3 s: white wave (R=G, B slightly lower); from 10 s: 100/100 white
      assert.ok(same(white(pressed + 2990), expected(board(id), 0x2effb9, levelAt(rows[Pat.CONNECTING_CLOUD], pressed + 2990 - 0))));
      const waveSample = white(pressed + 3000 + 300);
      assert.ok(waveSample[0] > 0 && Math.abs(waveSample[0] - waveSample[1]) < 1e-9, "white wave");
      assertShows(r, id, Pat.HOLD_10S, pressed + 10000, 2000);
      assert.equal(r.ind.heldMs(), DEBOUNCE_MS + 12000);
      r.hw.setLevel(r.pin, r.up);
      r.hw.advance(100);
      assert.equal(r.ind.heldMs(), 0);
      assert.equal(r.resets.length, 1);
    });

    it("times holds right when getTime() is not the firmware clock (after setTime)", () => {
      const r = rig("nodemcu", { edgeClock: 1.7e12 });
      r.hw.advance(1000);
      r.press(9990);
      assert.deepEqual(r.resets, []);
      r.press(10010);
      assert.equal(r.resets.length, 1);
      r.hw.setLevel(r.pin, r.down);
      r.hw.advance(DEBOUNCE_MS + 3000);
      assert.equal(r.ind.heldMs(), DEBOUNCE_MS + 3000);
    });

    it("uses the pull each wiring needs, and reads ESP32's D0 inverted", () => {
      const spec = (chip: "ESP32" | "ESP8266", pin: number, activeLow: boolean) =>
        panelSpec({ chip, dev: chip, led: { type: "none", pins: [], inverted: false, brightness: 255 }, button: { pin, activeLow } }).button;
      assert.deepEqual(spec("ESP32", 0, true), { pin: 0, level: 1, mode: "input_pulldown" }); // Espruino turns it into a pull-up on D0
      assert.deepEqual(spec("ESP32", 15, true), { pin: 15, level: 0, mode: "input_pullup" });
      assert.deepEqual(spec("ESP32", 15, false), { pin: 15, level: 1, mode: "input_pulldown" });
      assert.deepEqual(spec("ESP32", 0, false), { pin: 0, level: 0, mode: "input_pullup" });
      assert.deepEqual(spec("ESP8266", 0, true), { pin: 0, level: 0, mode: "input_pullup" });
      assert.deepEqual(spec("ESP8266", 5, false), { pin: 5, level: 1, mode: "input" }); // no pull-downs on ESP8266
      assert.equal(panelSpec({ ...board("esp32-c3-devkitm") }).button!.level, 0); // D9 on the C3 is not negated
    });

    it("puts the pull back after setWatch (ESP32's watch forces a pull-up)", () => {
      const r = rig("esp32-devkitc");
      assert.equal(r.hw.modes[0], "input_pulldown");
    });
  });

  describe("indicator", () => {
    it("keeps the LED dark while booting and shows INIT's pattern only if no state follows", () => {
      const b = board("nodemcu");
      const hw = new FakeHw({ 0: 1 });
      createIndicator(panelSpec(b).led, panelSpec(b).button, () => {}, () => {});
      hw.advance(BOOT_GRACE_MS - 1);
      assert.deepEqual(replay(b, hw.writes).pop()!.light, [0, 0, 0]);
      hw.advance(1 + 3000);
      const r = { hw } as Rig;
      assertShows(r, "nodemcu", Pat.ERROR, BOOT_GRACE_MS, 3000);
    });

    it("never flashes INIT's red when the first state comes in time", () => {
      const r = rig("esp32-wrover-kit");
      r.hw.advance(5000);
      assertShows(r, "esp32-wrover-kit", Pat.WAIT_CONFIG, 0, 5000);
    });

    it("restarts the pattern on a state change, and not on a repeated state", () => {
      const r = rig("esp32-devkitc", { state: State.CONFIGURING });
      r.hw.advance(300);
      r.ind.setState(State.CONFIGURING);
      r.hw.advance(300);
      assertShows(r, "esp32-devkitc", Pat.CONFIGURING, 0, 600);
      r.ind.setState(State.RESET_CONFIG);
      r.ind.setState(State.WAIT_CONFIG);
      r.hw.advance(2000);
      assertShows(r, "esp32-devkitc", Pat.WAIT_CONFIG, 600, 2000);
    });

    it("shows every state's pattern from the table", () => {
      for (const id of ["esp32-wrover-kit", "nodemcu", "esp32-c3-devkitm"]) {
        for (const [s, p] of [[State.CONNECTING_NET, Pat.CONNECTING_NET], [State.CONNECTING_CLOUD, Pat.CONNECTING_CLOUD],
          [State.RUNNING, Pat.RUNNING], [State.OTA_UPGRADE, Pat.OTA_UPGRADE], [State.ERROR, Pat.ERROR], [State.SWITCH_TO_STA, Pat.ERROR]] as const) {
          const r = rig(id, { state: s });
          r.hw.advance(3000);
          if (p !== Pat.RUNNING) assertShows(r, id, p, 0, 3000);
          else assert.ok(r.hw.writes.length > 20, "the breathe ticks");
        }
      }
    });

    it("QA mode shows every pattern for a few seconds, names it, measures presses and erases nothing", () => {
      const id = "esp32-wrover-kit";
      const r = rig(id, { state: State.RUNNING });
      r.hw.advance(1000);
      r.ind.qa();
      const start = r.hw.t;
      r.hw.advance(500);
      r.press(1234);
      r.ind.setState(State.CONNECTING_CLOUD); // the firmware goes on; QA keeps the LED
      r.hw.advance(start + 2 * QA_STEP_MS + 100 - r.hw.t);
      r.press(12000);
      r.hw.advance(start + Pat.COUNT * QA_STEP_MS - 1 - r.hw.t);
      for (let p = 0; p < Pat.COUNT; p++)
        assert.ok(r.log.some((l) => l.startsWith(`QA ${p + 1}/${Pat.COUNT} ${patternName(p)}:`)), `QA names ${patternName(p)}`);
      assert.ok(r.log.includes("QA 1/9 wait-config: 0D36FF 50/500 ms"), r.log.join("\n"));
      assert.ok(r.log.includes("QA 5/9 running: 2EFFB9 wave 4864 ms"), r.log.join("\n"));
      for (const p of [Pat.WAIT_CONFIG, Pat.ERROR, Pat.HOLD_10S]) assertShows(r, id, p, start + p * QA_STEP_MS, 3000);
      assert.ok(r.log.includes("QA: button held 1234 ms"), r.log.join("\n"));
      assert.ok(r.log.some((l) => /^QA: button held 1200\d ms \(would reset\)$/.test(l)), r.log.join("\n"));
      assert.deepEqual(r.resets, []);
      r.hw.advance(1);
      assert.ok(r.log.includes("QA: done"));
      r.hw.advance(3000);
      assertShows(r, id, Pat.CONNECTING_CLOUD, start + Pat.COUNT * QA_STEP_MS, 3000);
    });

    it("a hold still going on when QA ends cannot reset", () => {
      const r = rig("nodemcu");
      r.ind.qa();
      r.hw.advance(Pat.COUNT * QA_STEP_MS - 2000);
      r.hw.setLevel(r.pin, r.down);
      r.hw.advance(14000);
      r.hw.setLevel(r.pin, r.up);
      r.hw.advance(100);
      assert.deepEqual(r.resets, []);
      r.press(10100);
      assert.equal(r.resets.length, 1);
    });

    it("close() clears every timer and the watch, is safe twice, and nothing fires afterwards", () => {
      const r = rig("esp32-wrover-kit", { state: State.RUNNING });
      r.ind.qa();
      r.hw.setLevel(r.pin, r.down);
      r.hw.advance(4000);
      r.ind.close();
      r.ind.close();
      assert.equal(r.hw.timerCount(), 0);
      assert.equal(r.hw.watchCount(), 0);
      const n = r.hw.writes.length;
      r.ind.setState(State.ERROR);
      r.ind.qa();
      r.hw.advance(20000);
      assert.equal(r.hw.writes.length, n);
      assert.deepEqual(replay(board("esp32-wrover-kit"), r.hw.writes).pop()!.light, [0, 0, 0]);
    });
  });
});
