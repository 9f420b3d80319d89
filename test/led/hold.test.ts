import assert from "node:assert/strict";
import { Hold } from "../../firmware/led/patterns.ts";
import {
  Release, holdInit, holdEdge, holdCancel, holdMs, holdLevel, holdNextChange, MIN_PRESS_MS, INDICATE_MS, RESET_MS,
} from "../../firmware/button/hold.ts";

/** Press at `t`, release `ms` later; returns what the release means. */
function hold(s: ReturnType<typeof holdInit>, t: number, ms: number): Release {
  assert.equal(holdEdge(s, true, t, t), Release.NONE);
  return holdEdge(s, false, t + ms, t + ms);
}

describe("reset button hold tracker", () => {
  it("does nothing for a 9.9 s hold", () => assert.equal(hold(holdInit(false), 1000, 9900), Release.PRESS));
  it("resets on release after a 10.1 s hold", () => assert.equal(hold(holdInit(false), 1000, 10100), Release.RESET));
  it("resets at exactly 10 s, like Edgent's >= BUTTON_HOLD_TIME_ACTION", () => assert.equal(hold(holdInit(false), 0, RESET_MS), Release.RESET));
  it("calls a press shorter than 50 ms noise", () => {
    assert.equal(hold(holdInit(false), 0, MIN_PRESS_MS - 1), Release.NOISE);
    assert.equal(hold(holdInit(false), 0, MIN_PRESS_MS), Release.PRESS);
  });

  it("measures holds on the pin watch's timestamps, not on when the callbacks ran", () => {
    const s = holdInit(false);
    holdEdge(s, true, 1000, 501000); // the watch's clock is getTime(), possibly wall-clock time
    assert.equal(holdEdge(s, false, 11050, 510950), Release.PRESS); // 9.95 s, its callback ran late
    holdEdge(s, true, 20000, 520000);
    assert.equal(holdEdge(s, false, 29990, 530000), Release.RESET); // 10 s, its callback ran early
  });

  it("ignores a hold that began before boot until the button is released", () => {
    const s = holdInit(true);
    assert.equal(holdMs(s, 60000), 0);
    assert.equal(holdLevel(s, 60000), Hold.NONE);
    assert.equal(holdEdge(s, false, 60000, 60000), Release.NONE); // the release after a minute erases nothing
    assert.equal(hold(s, 61000, 10200), Release.RESET); // a new hold counts
  });

  it("ignores repeated presses of a boot-time hold (bounce while held)", () => {
    const s = holdInit(true);
    assert.equal(holdEdge(s, true, 100, 100), Release.NONE);
    assert.equal(holdMs(s, 20000), 0);
    assert.equal(holdEdge(s, false, 20000, 20000), Release.NONE);
  });

  it("restarts the hold when a release was lost (two presses in a row)", () => {
    const s = holdInit(false);
    holdEdge(s, true, 0, 0);
    holdEdge(s, true, 8000, 8000);
    assert.equal(holdEdge(s, false, 12000, 12000), Release.PRESS); // 4 s since the second press
  });

  it("needs a continuous hold: two 6 s holds do not add up", () => {
    const s = holdInit(false);
    assert.equal(hold(s, 0, 6000), Release.PRESS);
    assert.equal(hold(s, 6100, 6000), Release.PRESS);
  });

  it("reports the hold time and level while held, 0 once released", () => {
    const s = holdInit(false);
    holdEdge(s, true, 500, 500);
    assert.equal(holdMs(s, 500 + 2999), 2999);
    assert.equal(holdLevel(s, 500 + INDICATE_MS - 1), Hold.NONE);
    assert.equal(holdLevel(s, 500 + INDICATE_MS), Hold.INDICATE);
    assert.equal(holdLevel(s, 500 + RESET_MS - 1), Hold.INDICATE);
    assert.equal(holdLevel(s, 500 + RESET_MS), Hold.RESET);
    holdEdge(s, false, 20000, 20000);
    assert.equal(holdMs(s, 20001), 0);
    assert.equal(holdLevel(s, 20001), Hold.NONE);
  });

  it("says when the hold level changes next", () => {
    const s = holdInit(false);
    assert.equal(holdNextChange(s, 0), -1);
    holdEdge(s, true, 1000, 1000);
    assert.equal(holdNextChange(s, 1000), 1000 + INDICATE_MS);
    assert.equal(holdNextChange(s, 1000 + INDICATE_MS), 1000 + RESET_MS);
    assert.equal(holdNextChange(s, 1000 + RESET_MS), -1);
  });

  it("never resets from a cancelled hold, and needs a release before the next one", () => {
    const s = holdInit(false);
    holdEdge(s, true, 0, 0);
    holdCancel(s);
    assert.equal(holdMs(s, 11000), 0);
    assert.equal(holdEdge(s, false, 11000, 11000), Release.NONE);
    assert.equal(hold(s, 12000, 10500), Release.RESET);
  });
});
