import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'mocha';
import { Sim } from '../../sim/index.ts';
import { boot, stopAll } from './fixture.ts';

const S = 'var S = require("Storage");\n';

describe('sim Storage', () => {
  afterEach(stopAll);

  it('silently truncates names longer than 28 bytes', async () => {
    const sim = await boot(S);
    sim.repl('S.write("abcdefghijklmnopqrstuvwxyz0123456789", "x")');
    assert.ok(sim.storage.list().includes('abcdefghijklmnopqrstuvwxyz01'));
    assert.equal(sim.repl('S.read("abcdefghijklmnopqrstuvwxyz01_other")'), 'x');
  });

  it("throws Can't create zero length file for an empty string", async () => {
    const sim = await boot(S);
    const e = sim.repl('S.write("cfg", "")');
    assert.ok(e instanceof Error);
    assert.equal(e.message, "Can't create zero length file");
    assert.deepEqual(sim.uncaught.length, 1);
  });

  it('treats an identical write as a no-op that costs no flash write', async () => {
    const sim = await boot(S);
    sim.repl('S.write("cfg", "same")');
    sim.repl('S.write("cfg", "same")');
    assert.equal(sim.storage.writes, 1);
    assert.equal(sim.storage.noopWrites, 1);
    assert.equal(sim.storage.stats().trashCount, 0);
  });

  it('stores objects as JSON and arrays as bytes', async () => {
    const sim = await boot(S);
    sim.repl('S.write("o", {a:1, s:"x"}); S.write("b", [65, 66, 256 + 67])');
    assert.equal(sim.storage.read('o'), '{"a":1,"s":"x"}');
    assert.equal(sim.storage.read('b'), 'ABC');
  });

  it('writeJSON writes compact JS-style JSON that readJSON parses back', async () => {
    const sim = await boot(S);
    sim.repl('S.writeJSON("j", {a:1, "b-c":2, s:"\\xE9"})');
    assert.equal(sim.storage.read('j'), '{a:1,"b-c":2,s:"\\xE9"}');
    assert.equal(sim.repl('S.readJSON("j").s.charCodeAt(0)'), 0xe9);
  });

  it('throws Unable to find or create file when the flash is full', async () => {
    const sim = await boot(S, { storageBytes: 16 * 4096 });
    const e = sim.repl('S.write("big", "x", 0, 70000)');
    assert.equal(e.message, 'Unable to find or create file');
  });

  it('compacts the trash when a rewrite no longer fits', async () => {
    const sim = await boot(S, { storageBytes: 16 * 4096 });
    for (let i = 0; i < 6; i++) assert.equal(sim.repl(`S.write("f", "${i}".repeat(12000))`), true);
    assert.ok(sim.storage.compactions >= 1);
    assert.ok(sim.console.includes('Compacting...'));
    assert.equal(sim.storage.read('f'), '5'.repeat(12000));
  });

  it('loses the file when the power fails after the old copy was marked deleted', async () => {
    const sim = await boot(S);
    sim.repl('S.write("cfg", "v1")');
    sim.storage.failNextWrite({ name: 'cfg', at: 'afterDelete' });
    sim.repl('S.write("cfg", "v2")');
    assert.equal(sim.running, false);
    assert.equal(sim.storage.read('cfg'), undefined);
  });

  it('leaves a torn file padded with 0xFF when the power fails mid-data', async () => {
    const sim = await boot(S);
    sim.storage.failNextWrite({ at: 'midData' });
    sim.repl('S.write("cfg", JSON.stringify({ssid:"HomeNet",pass:"secret"}))');
    const torn = sim.storage.read('cfg')!;
    assert.match(torn, /^\{"ssid":"Hom/);
    assert.match(torn, /\xff+$/);
    await sim.powerOn();
    assert.equal(sim.repl('S.readJSON("cfg", true)'), undefined);
  });

  it('lists StorageFile chunks with their suffix unless asked with {sf:true}', async () => {
    const sim = await boot(S);
    sim.repl('var f = S.open("log.txt", "w"); f.write("one\\n"); f.write("two\\n")');
    assert.deepEqual([...sim.repl('S.list(/log/)')], ['log.txt\u0001']);
    assert.deepEqual([...sim.repl('S.list(undefined, {sf:true})')], ['log.txt']);
    assert.equal(sim.repl('var r = S.open("log.txt", "r"); r.readLine() + r.readLine()'), 'one\ntwo\n');
    assert.equal(sim.repl('S.open("log.txt", "r").getLength()'), 8);
  });

  it('boots a second device from the first one\'s flash image', async () => {
    const first = await boot(S);
    first.repl('S.write("cfg", "kept")');
    const second = await Sim.boot({ chip: 'ESP32', bundle: S + 'print("cfg=" + S.read("cfg"));', storage: first.storage.image() });
    try {
      assert.ok(second.console.includes('cfg=kept'));
    } finally {
      second.stop();
    }
  });
});
