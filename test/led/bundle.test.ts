// The LED and button scenarios on the built firmware (dist/<board>.js), in the simulator and
// on the real interpreter (test/system/device.ts; the real side's pins are the pin panel,
// test/real/pins.js). Run `npm run build` first.
//
// The LED is checked against the pattern table millisecond by millisecond and change by change, within
// one timer tick in the simulator; on the real interpreter, whose timers run late when the host is
// busy, with the allowance test/led/pattern-check.ts explains.
import assert from "node:assert/strict";
import { Pat, patternTable, patternName } from "../../firmware/led/patterns.ts";
import { QA_STEP_MS } from "../../firmware/led/spec.ts";
import { DEBOUNCE_MS } from "../../firmware/button/hold.ts";
import { encodeRecord, defaultConfig, Flag } from "../../firmware/core/config.ts";
import { assertPattern as check } from "./pattern-check.ts";
import { loadBoards, type Board as LedBoard } from "./boards.ts";
import { TEST_TOKEN } from "../../shared/names.ts";
import { BOARDS } from "../system/helpers.ts";
import { systemSuite, MORE_BOARDS, type Board, type BootOptions, type TestDevice } from "../system/device.ts";

const rows = patternTable();
const TOKEN = TEST_TOKEN;
const [devkitc, nodemcu] = BOARDS;
const { wroverKit, c3, d1mini } = MORE_BOARDS;

let profiles: LedBoard[] = [];

interface Device {
  d: TestDevice;
  board: LedBoard;
  /** the button's physical levels */
  btn: { pin: number; down: 0 | 1; up: 0 | 1 };
}

/** A provisioned device: it keeps trying a WiFi network that is not there (CONNECTING_NET). */
function provisioned(): Record<string, string> {
  const c = defaultConfig();
  c.n = [{ s: "AbsentNet", p: "password1" }];
  c.t = TOKEN;
  c.f = Flag.VALID | Flag.META_SENT;
  return { "edgent.cfg1": encodeRecord(1, c) };
}

/** Boots the board with its pins watched, no network in range; `files`: its flash. */
async function start(b: Board, boot: (o: Omit<BootOptions, "board">) => Promise<TestDevice>, files?: Record<string, string>): Promise<Device> {
  if (!profiles.length) profiles = await loadBoards();
  const board = profiles.find((p) => p.id === b.board)!;
  const d = await boot({ networks: [], files, pins: true });
  const btn = board.button!;
  const down: 0 | 1 = btn && btn.activeLow ? 0 : 1;
  return { d, board, btn: { pin: btn ? btn.pin : -1, down, up: (1 - down) as 0 | 1 } };
}

/** The LED follows pattern p started at t0, over [t0 + skip, t0 + ms) (test/led/pattern-check.ts). */
const assertPattern = (dev: Device, p: Pat, t0: number, ms: number, skip = 0) => check(dev.d, dev.board, rows[p], t0, ms, skip);

/** Device time at which a console line matching re was printed. */
function lineTime(d: TestDevice, re: RegExp, from = 0): number {
  const t = d.lineTime(re, from);
  assert.ok(t !== undefined && !Number.isNaN(t), `no console line matching ${re}:\n${d.console.slice(-10).join("\n")}`);
  return t!;
}

/** A hold of the button for `ms`, timed on the device. */
const hold = (dev: Device, ms: number) => dev.d.pulse(dev.btn.pin, dev.btn.down, ms);
const press = (dev: Device) => dev.d.setInput(dev.btn.pin, dev.btn.down);
const release = (dev: Device) => dev.d.setInput(dev.btn.pin, dev.btn.up);
const resets = (dev: Device) => dev.d.console.filter((l) => /Resetting configuration/.test(l)).length;
const stored = async (dev: Device) => (await dev.d.flash())["edgent.cfg1"];

systemSuite(
  "LED of the built bundle: a fresh device",
  ({ board: b, boot }) => {
    it("blinks the waiting pattern from the table", async () => {
      const dev = await start(b, boot);
      await dev.d.advance(4000);
      const t0 = lineTime(dev.d, /=> WAIT_CONFIG/);
      assertPattern(dev, Pat.WAIT_CONFIG, t0, 3500);
    });
  },
  { boards: [devkitc, wroverKit, c3, nodemcu, d1mini] },
);

systemSuite(
  "LED of the built bundle: the app's first request",
  ({ board: b, boot }) => {
    it("GET /board_info.json restarts the LED in the configuring pattern", async () => {
      const dev = await start(b, boot);
      const { d } = dev;
      assert.ok(await d.until(() => d.console.some((l: string) => /AP URL/.test(l)), 10000), "portal up");
      assert.ok(await d.portal(), "portal serving");
      await d.stationJoin("aa:bb:cc:00:11:22");
      const r = await d.fetch("/board_info.json");
      assert.equal(r.status, 200);
      await d.advance(2000);
      const t0 = lineTime(d, /=> CONFIGURING/);
      assertPattern(dev, Pat.CONFIGURING, t0, 2000);
    });
  },
  { boards: [wroverKit, nodemcu] },
);

systemSuite(
  "LED of the built bundle: QA mode",
  ({ board: b, boot }) => {
    it("shows every pattern of the table, each over its whole slot", async () => {
      const dev = await start(b, boot);
      const { d } = dev;
      await d.advance(1000);
      const mark = d.console.length;
      await d.repl("(edgent.qa(), 1)");
      // QA starts when the call arrives: the device's time of its first line
      assert.ok(await d.waitForLog(new RegExp(`QA 1/${Pat.COUNT} `), 5000, mark), "QA started");
      const t0 = lineTime(d, new RegExp(`QA 1/${Pat.COUNT} `), mark);
      await d.advance(Pat.COUNT * QA_STEP_MS + 500);
      for (let p = 0; p < Pat.COUNT; p++) {
        lineTime(d, new RegExp(`QA ${p + 1}/${Pat.COUNT} ${patternName(p)}:`), mark);
        // the first wave tick may lag the slot start by a tick; the checks allow that
        assertPattern(dev, p, t0 + p * QA_STEP_MS, QA_STEP_MS);
      }
      lineTime(d, /QA: done/, mark);
      assertPattern(dev, Pat.WAIT_CONFIG, t0 + Pat.COUNT * QA_STEP_MS, 400);
    });
  },
  { boards: [devkitc, wroverKit, c3, nodemcu] },
);

systemSuite(
  "button of the built bundle",
  ({ board: b, boot }) => {
    it("a 9.9 s hold erases nothing", async () => {
      const dev = await start(b, boot, provisioned());
      await dev.d.advance(1000);
      await hold(dev, 9900);
      await dev.d.advance(3000);
      assert.equal(resets(dev), 0);
      assert.ok(await stored(dev), "config kept");
      assert.ok(dev.d.console.some((l) => l.includes("Hold the button for 10 seconds to reset configuration...")));
    });

    it("a 10.1 s hold erases on release and the LED goes back to the waiting pattern", async () => {
      const dev = await start(b, boot, provisioned());
      const { d } = dev;
      await d.advance(1000);
      const pressed = await press(dev);
      await d.advance(10100);
      // still held: nothing erased yet
      assert.equal(resets(dev), 0, "nothing before the release");
      assert.ok(await stored(dev));
      await release(dev);
      assertPattern(dev, Pat.HOLD_10S, pressed + 10000, 100, 1); // fast white blink while held
      await d.advance(3000);
      assert.equal(resets(dev), 1);
      assert.equal(await stored(dev), undefined, "config erased");
      const t0 = lineTime(d, /=> WAIT_CONFIG/);
      assert.ok(t0 >= pressed + 10100 + DEBOUNCE_MS);
      assertPattern(dev, Pat.WAIT_CONFIG, t0, 2500);
    });

    it("12 bounces of 5 ms and a 10.2 s hold reset exactly once", async () => {
      const dev = await start(b, boot, provisioned());
      await dev.d.advance(1000);
      for (let i = 0; i < 12; i++) {
        await hold(dev, 5);
        await dev.d.advance(5);
      }
      await hold(dev, 10200);
      await dev.d.advance(5000);
      assert.equal(resets(dev), 1);
    });

    it("30 glitches shorter than the debounce over a minute change nothing", async () => {
      const dev = await start(b, boot, provisioned());
      let seed = 1234;
      const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
      for (let i = 0; i < 30; i++) {
        await dev.d.advance(1000 + rnd(1000));
        await hold(dev, 1 + rnd(DEBOUNCE_MS - 2));
      }
      await dev.d.advance(Math.max(0, 60000 - dev.d.now()) + 12000);
      assert.equal(resets(dev), 0);
      assert.ok(await stored(dev));
      assert.ok(!dev.d.console.some((l) => l.includes("Hold the button")), "no press was seen");
    });

    it("a button held while the firmware starts erases nothing until released and held again", async () => {
      const dev = await start(b, boot, provisioned());
      const { d } = dev;
      await d.advance(500);
      // start the firmware again with load() (a soft reset keeps the button held), like a board
      // reset while the button is down
      await press(dev);
      await d.softReset();
      await d.advance(100);
      assert.equal(d.console.filter((l) => /Blynk Edgent for Espruino/.test(l)).length, 2, "the firmware started again");
      assert.equal(await d.pinLevel(dev.btn.pin), dev.btn.down, "with the button still held");
      await d.advance(14900);
      assert.ok(!d.console.some((l) => l.includes("Hold the button")), "the held button is not a press");
      await release(dev);
      await d.advance(2000);
      assert.equal(resets(dev), 0);
      assert.ok(await stored(dev));
      await hold(dev, 10200);
      await d.advance(2000);
      assert.equal(resets(dev), 1);
    });
  },
  { boards: [devkitc, nodemcu, wroverKit] },
);
