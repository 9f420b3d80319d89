import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'mocha';
import { boot, lines, stopAll } from './fixture.ts';

describe('sim timers and virtual clock', () => {
  afterEach(stopAll);

  it('fires timers in virtual time order, not creation order', async () => {
    const sim = await boot(`
      setTimeout(function () { print("c " + Date.now()); }, 300);
      setTimeout(function () { print("a " + Date.now()); }, 100);
      setTimeout(function () { print("b " + Date.now()); }, 200);`);
    await sim.advance(1000);
    assert.deepEqual(lines(sim, /^[abc] /), ['a 100', 'b 200', 'c 300']);
  });

  it('keeps an interval on its period without drift', async () => {
    const sim = await boot('var n = 0; setInterval(function () { n++; }, 250);');
    await sim.advance(10000);
    assert.equal(sim.repl('n'), 40);
  });

  it('passes extra setTimeout arguments to the callback', async () => {
    const sim = await boot('setTimeout(function (a, b) { print(a + b); }, 10, "x", "y");');
    await sim.advance(20);
    assert.ok(sim.console.includes('xy'));
  });

  it('throws on clearTimeout(undefined)', async () => {
    const sim = await boot('');
    const e = sim.repl('clearTimeout(undefined)');
    assert.equal(e.message, 'clearTimeout(undefined) not allowed. Use clearTimeout() instead');
  });

  it('clears every timer on clearTimeout() with no argument', async () => {
    const sim = await boot('setTimeout(print, 100, "t"); setInterval(print, 100, "i");');
    assert.equal(sim.timerCount(), 2);
    sim.repl('clearTimeout()');
    assert.equal(sim.timerCount(), 0);
  });

  it('reuses timer ids: a new timer gets the last id + 1', async () => {
    const sim = await boot('');
    assert.equal(sim.repl('setTimeout(print, 1000)'), 1);
    assert.equal(sim.repl('setTimeout(print, 1000)'), 2);
    sim.repl('clearTimeout(2)');
    assert.equal(sim.repl('setTimeout(print, 1000)'), 2, 'the cleared id comes back');
    sim.repl('clearTimeout()');
    assert.equal(sim.repl('setTimeout(print, 1000)'), 1);
  });

  it('fires a timeout once even when its callback clears an earlier timer', async () => {
    const sim = await boot('var a = setTimeout(print, 1000, "a"); setTimeout(function () { clearTimeout(a); print("fired"); }, 10);');
    await sim.advance(2000);
    assert.deepEqual(lines(sim, /^(a|fired)$/), ['fired']);
  });

  it('throws Unknown Interval from changeInterval on a missing id', async () => {
    const sim = await boot('');
    assert.equal(sim.repl('changeInterval(7, 100)').message, 'Unknown Interval');
  });

  it('prints Uncaught for an exception in a callback and keeps running', async () => {
    const sim = await boot('var n = 0; setInterval(function () { n++; if (n == 2) throw new Error("boom"); }, 100);');
    await sim.advance(500);
    assert.ok(sim.console.includes('Uncaught Error: boom'));
    assert.equal(sim.uncaught.length, 1);
    assert.equal(sim.repl('n'), 5);
  });

  it('runs getTime and Date on the virtual clock from 1970 (no RTC)', async () => {
    const sim = await boot('');
    await sim.advance(1500);
    assert.equal(sim.repl('getTime()'), 1.5);
    assert.equal(sim.repl('new Date().toISOString()'), '1970-01-01T00:00:01.500Z');
    sim.repl('setTime(1700000000)');
    await sim.advance(1000);
    assert.equal(sim.repl('Math.round(Date.now() / 1000)'), 1700000001);
  });

  it('runs queued Object.emit events after the current callback', async () => {
    const sim = await boot('var o = {}; o.on("x", function (v) { print("got " + v); }); o.emit("x", 1); print("after emit");');
    assert.deepEqual(sim.console.slice(-1), ['after emit']);
    await sim.advance(0);
    assert.ok(sim.console.includes('got 1'));
  });
});
