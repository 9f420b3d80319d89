import { strict as assert } from 'node:assert';
import { chooseMatch, planCsv, planReprovision } from '../../tools/fleet/core/reprovision.ts';
import { device } from './helpers.ts';

const KEY2 = '3B7E151628AED2A6ABF7158809CF4F3D';

describe('fleet: re-provisioning diff', () => {
  it('lists the four metafields to edit when the radio module was swapped', () => {
    const old = [device({ serial: 'SN1' })];
    const fresh = [device({ serial: 'SN1', devEui: 'A840410000000001', appKey: KEY2 })];
    const plan = planReprovision(old, fresh, 'serial');
    assert.equal(plan.ok, true);
    assert.equal(plan.updates.length, 1);
    assert.equal(plan.updates[0].tts, 'create-new');
    assert.deepEqual(plan.updates[0].changes, [
      { metafield: 'TheThingsStack Device ID', from: 'eui-0018b20000000101', to: 'eui-a840410000000001' },
      { metafield: 'Device EUI', from: '0018B20000000101', to: 'A840410000000001' },
      { metafield: 'Application Key', from: '2B7E151628AED2A6ABF7158809CF4F3C', to: KEY2 },
    ]);
  });
  it('counts unchanged, added and removed devices', () => {
    const plan = planReprovision(
      [device({ serial: 'SN1' }), device({ serial: 'SN2', devEui: '0018B20000000102' })],
      [device({ serial: 'SN1' }), device({ serial: 'SN3', devEui: '0018B20000000103' })],
      'serial',
    );
    assert.equal(plan.unchanged, 1);
    assert.deepEqual(plan.added, ['SN3']);
    assert.deepEqual(plan.removed, ['SN2']);
  });
  it('a key change that keeps the device id needs the old TTS device deleted first', () => {
    const plan = planReprovision([device({ serial: 'SN1' })], [device({ serial: 'SN1', appKey: KEY2 })], 'serial');
    assert.equal(plan.updates[0].tts, 'delete-then-create');
    assert.equal(plan.collisions[0].kind, 'same-id');
    assert.equal(plan.collisions[0].severity, 'warning');
  });
  it('flags two new devices mapping to one TTS device id', () => {
    const plan = planReprovision(
      [device({ serial: 'SN1' }), device({ serial: 'SN2', devEui: '0018B20000000102' })],
      [device({ serial: 'SN1', devEui: '0018B200000000AA', deviceId: 'line-7' }), device({ serial: 'SN2', devEui: '0018B200000000BB', deviceId: 'line-7' })],
      'serial',
    );
    assert.equal(plan.ok, false);
    const c = plan.collisions.find((x) => x.kind === 'new-id-shared')!;
    assert.deepEqual(c.keys, ['SN1', 'SN2']);
    assert.match(c.message, /at random/);
  });
  it('flags a new id still held by a device that keeps it', () => {
    const plan = planReprovision(
      [device({ serial: 'SN1' }), device({ serial: 'SN2', devEui: '0018B20000000102' })],
      [device({ serial: 'SN1', devEui: '0018B20000000102', appKey: KEY2, joinEui: '70B3D57ED0000099' }), device({ serial: 'SN2', devEui: '0018B20000000102' })],
      'serial',
    );
    const c = plan.collisions.find((x) => x.kind === 'id-held-by-other')!;
    assert.equal(c.severity, 'error');
    assert.deepEqual(c.keys, ['SN1', 'SN2']);
  });
  it('flags EUIs still registered to a device that left the batch', () => {
    const plan = planReprovision(
      [device({ serial: 'SN1' }), device({ serial: 'SN2', devEui: '0018B20000000102', deviceId: 'keep-2' })],
      [device({ serial: 'SN1', devEui: '0018B20000000102', deviceId: 'new-1' })],
      'serial',
    );
    const c = plan.collisions.find((x) => x.kind === 'euis-held-by-other')!;
    assert.equal(c.severity, 'error');
    assert.match(c.message, /not in the new file/);
  });
  it('two devices swapping modules is an ordering warning, not an error', () => {
    const a = '0018B20000000101';
    const b = '0018B20000000102';
    const plan = planReprovision(
      [device({ serial: 'SN1', devEui: a }), device({ serial: 'SN2', devEui: b, appKey: KEY2 })],
      [device({ serial: 'SN1', devEui: b, appKey: KEY2 }), device({ serial: 'SN2', devEui: a })],
      'serial',
    );
    assert.equal(plan.ok, true);
    assert.ok(plan.collisions.length > 0);
    assert.ok(plan.collisions.every((c) => c.severity === 'warning'));
  });
  it('refuses ambiguous match keys', () => {
    const plan = planReprovision([device({ serial: 'SN1' }), device({ serial: 'SN1', devEui: '0018B20000000102' })], [], 'serial');
    assert.equal(plan.collisions[0].kind, 'duplicate-key');
    assert.equal(plan.ok, false);
  });
  it('matches on serial when both files have it, else falls back to DevEUI', () => {
    assert.equal(chooseMatch((f) => f === 'serial', (f) => f === 'serial'), 'serial');
    assert.equal(chooseMatch((f) => f === 'serial', () => false), 'devEui');
  });
  it('writes the edits as CSV, one metafield per line', () => {
    const plan = planReprovision([device({ serial: 'SN1' })], [device({ serial: 'SN1', devEui: 'A840410000000001' })], 'serial');
    const lines = planCsv(plan).trim().split('\r\n');
    assert.equal(lines[0], 'match key,old line,new line,metafield,old value,new value,tts action');
    assert.equal(lines[2], 'SN1,2,2,Device EUI,0018B20000000101,A840410000000001,create-new');
  });
});
