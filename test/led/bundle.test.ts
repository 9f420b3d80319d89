// The LED and button scenarios on the built firmware (dist/<board>.js) in the simulator.
// Run `npm run build` first; without a bundle these tests are skipped with a message.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import { Sim } from "../../sim/index.ts";
import { Col, Pat, patternTable, patternName, levelAt, cycleMs, isWave } from "../../firmware/led/patterns.ts";
import { panelSpec, QA_STEP_MS, waveTick } from "../../firmware/led/spec.ts";
import { DEBOUNCE_MS } from "../../firmware/button/hold.ts";
import { encodeRecord, defaultConfig, Flag } from "../../firmware/core/config.ts";
import { expected, replay, same, type Rgb, type PinWrite } from "./eye.ts";
import { loadBoards, type Board } from "./boards.ts";
import { TEST_TOKEN } from "../../shared/names.ts";

const rows = patternTable();
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TOKEN = TEST_TOKEN;
/** Blink edges may land this late in the simulator's idle loop (one timer tick). */
const EDGE_TOL_MS = 1;
let boards: Board[] = [];


function bundleOf(board: Board, ctx: Mocha.Context): string {
  const file = ROOT + "dist/" + board.id + ".js";
  if (!fs.existsSync(file)) {
    if (ctx.test) ctx.test.title += " (skipped: run npm run build first)";
    ctx.skip();
  }
  return file;
}

interface Device {
  sim: Sim;
  board: Board;
  /** [virtual ms, line] of every console line */
  lines: { t: number; line: string }[];
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

async function boot(board: Board, ctx: Mocha.Context, files?: Record<string, string>): Promise<Device> {
  const lines: { t: number; line: string }[] = [];
  let sim: Sim | undefined;
  sim = await Sim.boot({
    bundle: bundleOf(board, ctx),
    chip: board.chip,
    networks: [],
    storage: files ? Sim.flashWith(files, board.chip) : undefined,
    log: (line) => lines.push({ t: sim ? sim.now() : 0, line }),
  });
  const b = board.button!;
  // physical levels: the simulator negates GPIO0 on ESP32 itself
  const down: 0 | 1 = b.activeLow ? 0 : 1;
  return { sim, board, lines, btn: { pin: b.pin, down, up: (1 - down) as 0 | 1 } };
}

function ledWrites(d: Device, from = 0): PinWrite[] {
  const pins = new Set(d.board.led.pins);
  return d.sim.pins.log
    .filter((e) => e.boot === d.sim.bootCount && pins.has(e.pin) && e.t >= from)
    .map((e) => ({ t: e.t, pin: e.pin, kind: e.kind, value: e.value }));
}

/** The light at `t` from the log (the simulator records physical pin levels). */
function lightAt(d: Device, t: number): Rgb {
  const timeline = replay(d.board, ledWrites(d), true);
  let cur: Rgb = [0, 0, 0];
  for (const e of timeline) {
    if (e.t > t) break;
    cur = e.light;
  }
  return cur;
}

/** The LED follows pattern p started at t0, over [t0 + skip, t0 + ms), within one timer tick. */
function assertPattern(d: Device, p: Pat, t0: number, ms: number, skip = 0): void {
  const row = rows[p];
  const tol = isWave(row) && d.board.led.type !== "gpio" ? waveTick(row, panelSpec(d.board).led.tick) + EDGE_TOL_MS : EDGE_TOL_MS;
  const timeline = replay(d.board, ledWrites(d), true);
  let k = 0;
  let cur: Rgb = [0, 0, 0];
  for (let t = t0 + skip; t < t0 + ms; t++) {
    while (k < timeline.length && timeline[k].t <= t) cur = timeline[k++].light;
    let ok = false;
    for (let back = -EDGE_TOL_MS; back <= tol && !ok; back++)
      if (t - t0 - back >= 0) ok = same(cur, expected(d.board, row[Col.COLOUR], levelAt(row, t - t0 - back)));
    assert.ok(ok, `${d.board.id}: at ${t} ms (+${t - t0} in ${patternName(p)}) the LED shows ${cur.map((x) => x.toFixed(3))}`);
  }
}

/** Virtual time at which a console line matching re was printed. */
function lineTime(d: Device, re: RegExp, from = 0): number {
  const l = d.lines.slice(from).find((x) => re.test(x.line));
  assert.ok(l, `no console line matching ${re}:\n${d.lines.slice(-10).map((x) => x.line).join("\n")}`);
  return l!.t;
}

async function hold(d: Device, ms: number): Promise<void> {
  d.sim.pins.setInput(d.btn.pin, d.btn.down);
  await d.sim.advance(ms);
  d.sim.pins.setInput(d.btn.pin, d.btn.up);
}

const resets = (d: Device) => d.lines.filter((l) => /Resetting configuration/.test(l.line)).length;

describe("LED and button on the built bundle (simulator)", function () {
  this.timeout(300000);
  before(async () => {
    boards = await loadBoards();
  });
  let dev: Device | undefined;
  afterEach(() => {
    dev?.sim.stop();
    dev = undefined;
  });

  describe("LED", () => {
    for (const id of ["esp32-devkitc", "esp32-wrover-kit", "esp32-c3-devkitm", "nodemcu", "wemos-d1-mini"]) {
      it(`${id}: a fresh device blinks the waiting pattern from the table`, async function () {
        const board = boards.find((b) => b.id === id)!;
        dev = await boot(board, this);
        await dev.sim.advance(4000);
        const t0 = lineTime(dev, /=> WAIT_CONFIG/);
        assertPattern(dev, Pat.WAIT_CONFIG, t0, 3500);
      });
    }

    for (const id of ["esp32-wrover-kit", "nodemcu"]) {
      it(`${id}: GET /board_info.json restarts the LED in the configuring pattern`, async function () {
        const board = boards.find((b) => b.id === id)!;
        dev = await boot(board, this);
        const sim = dev.sim;
        assert.ok(await sim.until(() => sim.console.some((l: string) => /AP URL/.test(l)), 10000), "portal up");
        sim.stationJoin("aa:bb:cc:00:11:22");
        const r = await dev.sim.fetch("/board_info.json");
        assert.equal(r.status, 200);
        await dev.sim.advance(2000);
        const t0 = lineTime(dev, /=> CONFIGURING/);
        assertPattern(dev, Pat.CONFIGURING, t0, 2000);
      });
    }

    for (const id of ["esp32-devkitc", "esp32-wrover-kit", "esp32-c3-devkitm", "nodemcu"]) {
      it(`${id}: QA mode shows every pattern of the table, each over its whole slot`, async function () {
        const board = boards.find((b) => b.id === id)!;
        dev = await boot(board, this);
        await dev.sim.advance(1000);
        const mark = dev.lines.length;
        const t0 = dev.sim.now();
        dev.sim.repl("edgent.qa()");
        await dev.sim.advance(Pat.COUNT * QA_STEP_MS + 500);
        for (let p = 0; p < Pat.COUNT; p++) {
          lineTime(dev, new RegExp(`QA ${p + 1}/${Pat.COUNT} ${patternName(p)}:`), mark);
          // the first wave tick may lag the slot start by a tick; the checks allow that
          assertPattern(dev, p, t0 + p * QA_STEP_MS, QA_STEP_MS);
        }
        lineTime(dev, /QA: done/, mark);
        assertPattern(dev, Pat.WAIT_CONFIG, t0 + Pat.COUNT * QA_STEP_MS, 400);
      });
    }
  });

  describe("button", () => {
    for (const id of ["esp32-devkitc", "nodemcu", "esp32-wrover-kit"]) {
      describe(id, () => {
        it("a 9.9 s hold erases nothing", async function () {
          dev = await boot(boards.find((b) => b.id === id)!, this, provisioned());
          await dev.sim.advance(1000);
          await hold(dev, 9900);
          await dev.sim.advance(3000);
          assert.equal(resets(dev), 0);
          assert.ok(dev.sim.storage.read("edgent.cfg1"), "config kept");
          assert.ok(dev.lines.some((l) => l.line.includes("Hold the button for 10 seconds to reset configuration...")));
        });

        it("a 10.1 s hold erases on release and the LED goes back to the waiting pattern", async function () {
          dev = await boot(boards.find((b) => b.id === id)!, this, provisioned());
          await dev.sim.advance(1000);
          const pressed = dev.sim.now();
          await hold(dev, 10100);
          assert.equal(resets(dev), 0, "nothing before the release");
          assert.ok(dev.sim.storage.read("edgent.cfg1"));
          assertPattern(dev, Pat.HOLD_10S, pressed + 10000, 100, 1); // fast white blink while held
          await dev.sim.advance(3000);
          assert.equal(resets(dev), 1);
          assert.equal(dev.sim.storage.read("edgent.cfg1"), undefined, "config erased");
          const t0 = lineTime(dev, /=> WAIT_CONFIG/);
          assert.ok(t0 >= pressed + 10100 + DEBOUNCE_MS);
          assertPattern(dev, Pat.WAIT_CONFIG, t0, 2500);
        });

        it("12 bounces of 5 ms and a 10.2 s hold reset exactly once", async function () {
          dev = await boot(boards.find((b) => b.id === id)!, this, provisioned());
          await dev.sim.advance(1000);
          for (let i = 0; i < 12; i++) {
            await hold(dev, 5);
            await dev.sim.advance(5);
          }
          await hold(dev, 10200);
          await dev.sim.advance(5000);
          assert.equal(resets(dev), 1);
        });

        it("30 glitches shorter than the debounce over a minute change nothing", async function () {
          dev = await boot(boards.find((b) => b.id === id)!, this, provisioned());
          let seed = 1234;
          const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
          for (let i = 0; i < 30; i++) {
            await dev.sim.advance(1000 + rnd(1000));
            await hold(dev, 1 + rnd(DEBOUNCE_MS - 2));
          }
          await dev.sim.advance(Math.max(0, 60000 - dev.sim.now()) + 12000);
          assert.equal(resets(dev), 0);
          assert.ok(dev.sim.storage.read("edgent.cfg1"));
          assert.ok(!dev.lines.some((l) => l.line.includes("Hold the button")), "no press was seen");
        });

        it("a button held while the firmware starts erases nothing until released and held again", async function () {
          dev = await boot(boards.find((b) => b.id === id)!, this, provisioned());
          await dev.sim.advance(500);
          // the simulator's power-on resets pin inputs, so start the firmware again with load()
          // (a soft reset keeps the button held), like a board reset while the button is down
          dev.sim.pins.setInput(dev.btn.pin, dev.btn.down);
          dev.sim.repl("load()");
          await dev.sim.advance(100);
          assert.equal(dev.lines.filter((l) => /Blynk Edgent for Espruino/.test(l.line)).length, 2, "the firmware started again");
          assert.equal(dev.sim.pins.level(dev.btn.pin), dev.btn.down, "with the button still held");
          await dev.sim.advance(14900);
          assert.ok(!dev.lines.some((l) => l.line.includes("Hold the button")), "the held button is not a press");
          dev.sim.pins.setInput(dev.btn.pin, dev.btn.up);
          await dev.sim.advance(2000);
          assert.equal(resets(dev), 0);
          assert.ok(dev.sim.storage.read("edgent.cfg1"));
          await hold(dev, 10200);
          await dev.sim.advance(2000);
          assert.equal(resets(dev), 1);
        });
      });
    }
  });
});
