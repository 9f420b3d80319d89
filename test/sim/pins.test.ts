import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'mocha';
import { boot, lines, stopAll } from './fixture.ts';

const WATCH = (opts: string, pin = 'D4') => `setWatch(function (e) { print("watch " + e.state + " " + e.time + " " + e.lastTime); }, ${pin}, ${opts});`;

describe('sim pins', () => {
  afterEach(stopAll);

  it('logs every output change with its virtual time', async () => {
    const sim = await boot('var on = false; setInterval(function () { on = !on; digitalWrite(D2, on); }, 500);');
    await sim.advance(2000);
    assert.deepEqual(sim.pins.log.map((e) => [e.t, e.pin, e.kind, e.value]), [
      [500, 2, 'digital', 1], [1000, 2, 'digital', 0], [1500, 2, 'digital', 1], [2000, 2, 'digital', 0],
    ]);
    assert.equal(sim.pins.level(2), 0);
  });

  it('reads D0 negated on ESP32: 1 while the BOOT button holds it low', async () => {
    const sim = await boot('');
    assert.equal(sim.repl('digitalRead(D0)'), 0);
    sim.pins.setInput(0, 0);
    assert.equal(sim.repl('digitalRead(BTN1)'), 1);
  });

  it('debounce: a bounce shorter than the debounce time produces no event', async () => {
    const sim = await boot(WATCH('{repeat: true, edge: "both", debounce: 50}'));
    sim.pins.setInput(4, 0);
    await sim.advance(20);
    sim.pins.setInput(4, 1);
    await sim.advance(200);
    assert.deepEqual(lines(sim, /^watch/), []);
  });

  it('debounce: fires once the level is stable, with the time of the last edge', async () => {
    const sim = await boot(WATCH('{repeat: true, edge: "both", debounce: 50}'));
    await sim.advance(100);
    sim.pins.setInput(4, 0); // press ...
    await sim.advance(10);
    sim.pins.setInput(4, 1); // ... bounce ...
    await sim.advance(10);
    sim.pins.setInput(4, 0); // ... settle at 120 ms
    await sim.advance(49);
    assert.deepEqual(lines(sim, /^watch/), []);
    await sim.advance(1);
    assert.deepEqual(lines(sim, /^watch/), ['watch false 0.12 undefined']);
  });

  it('a repeat:false watch fires once and is removed', async () => {
    const sim = await boot(WATCH('{edge: "falling"}'));
    for (const level of [0, 1, 0] as const) {
      sim.pins.setInput(4, level);
      await sim.advance(10);
    }
    assert.equal(lines(sim, /^watch/).length, 1);
    assert.equal(sim.repl('clearWatch(1)').message, 'Unknown Watch 1');
  });

  it('ESP32: a watch on D0 sees the pressed BOOT button as a rising edge, debounced by default', async () => {
    const sim = await boot(WATCH('{repeat: true}', 'D0'));
    sim.pins.setInput(0, 0);
    await sim.advance(24);
    assert.deepEqual(lines(sim, /^watch/), []);
    await sim.advance(10);
    assert.deepEqual(lines(sim, /^watch/), ['watch true 0 undefined']);
    sim.pins.setInput(0, 1);
    await sim.advance(100);
    assert.equal(lines(sim, /^watch/).length, 1, 'edge defaults to rising for BTN1');
  });

  it('ESP32: PWM channels run out after 5 default-frequency pins (printed, not thrown)', async () => {
    const sim = await boot('[12, 13, 14, 15, 16, 17].forEach(function (p) { analogWrite(p, 0.5); });');
    assert.deepEqual(sim.errors, ['no PWM channel available anymore']);
    assert.deepEqual(sim.pins.log.map((e) => e.freq), [5000, 5000, 5000, 5000, 5000]);
  });

  it('ESP8266: analogWrite is software PWM at 50 Hz by default', async () => {
    const sim = await boot('analogWrite(D4, 0.25); analogWrite(D5, 0.5, {freq: 200});', { chip: 'ESP8266' });
    assert.deepEqual(sim.pins.log.map((e) => [e.pin, e.value, e.freq, e.soft]), [[4, 0.25, 50, true], [5, 0.5, 200, true]]);
  });

  it('logs neopixel writes', async () => {
    const sim = await boot('require("neopixel").write(D5, [255, 0, 16]);');
    assert.deepEqual(sim.pins.log.map((e) => [e.pin, e.kind, e.value]), [[5, 'pixel', [255, 0, 16]]]);
  });

  it('analogRead: the value set on an ADC pin, NaN on a pin without one', async () => {
    const esp8266 = await boot('', { chip: 'ESP8266' });
    esp8266.pins.setAnalog(17, 0.5);
    assert.equal(esp8266.repl('analogRead("A0")'), 0.5);
    assert.equal(esp8266.repl('isNaN(analogRead(D5))'), true);
    const esp32 = await boot('');
    esp32.pins.setAnalog(34, 0.25);
    assert.equal(esp32.repl('analogRead(D34)'), 0.25);
    assert.equal(esp32.repl('isNaN(analogRead(D5))'), true);
  });

  it('D17 does not exist on ESP8266', async () => {
    const sim = await boot('', { chip: 'ESP8266' });
    assert.equal(sim.repl('typeof D17'), 'undefined');
    assert.equal(sim.repl('digitalWrite(20, 1)').message, 'Invalid pin!');
  });
});
