import { strict as assert } from 'node:assert';
import { defaultDeviceId } from '../../tools/fleet/core/device.ts';
import { device } from './helpers.ts';
import {
  checkTtsOptions, deviceIdProblem, resolveMacVersion, resolvePhyVersion, ttsCsvColumns, ttsCsvHeader, ttsCsvRow, ttsJsonDevice, ttsJsonLine,
} from '../../tools/fleet/core/tts.ts';

const full = checkTtsOptions({ frequencyPlan: 'EU_863_870_TTN', macVersion: '1.0.4', phyVersion: 'RP002_V1_0_3' }).settings;

describe('fleet: The Things Stack CSV (the-things-stack-csv)', () => {
  it('writes the exact header, ";"-separated, in TTS column order', () => {
    assert.equal(
      ttsCsvHeader({ settings: full, hasName: true, hasDescription: false, hasNwkKey: false }),
      'id;dev_eui;join_eui;name;frequency_plan_id;lorawan_version;lorawan_phy_version;app_key\r\n',
    );
  });
  it('leaves out version columns that were not given (the Console asks for fallbacks)', () => {
    assert.equal(ttsCsvHeader({ settings: {}, hasName: false, hasDescription: false, hasNwkKey: false }), 'id;dev_eui;join_eui;app_key\r\n');
  });
  it('adds nwk_key after app_key for LoRaWAN 1.1 devices', () => {
    assert.match(ttsCsvHeader({ settings: {}, hasName: false, hasDescription: false, hasNwkKey: true }), /;app_key;nwk_key\r\n$/);
  });
  it('writes a row matching the header', () => {
    const shape = { settings: full, hasName: true, hasDescription: false, hasNwkKey: false };
    assert.equal(
      ttsCsvRow(ttsCsvColumns(shape), device({ name: 'Sensor 1' })),
      'eui-0018b20000000101;0018B20000000101;70B3D57ED0000010;Sensor 1;EU_863_870_TTN;MAC_V1_0_4;RP002_V1_0_3;2B7E151628AED2A6ABF7158809CF4F3C\r\n',
    );
  });
  it('neutralises a formula in the name and quotes a name holding ";"', () => {
    const cols = ttsCsvColumns({ settings: {}, hasName: true, hasDescription: false, hasNwkKey: false });
    assert.match(ttsCsvRow(cols, device({ name: "=cmd|' /C calc'!A0" })), /;'=cmd\|' \/C calc'!A0;/);
    assert.match(ttsCsvRow(cols, device({ name: 'a;b "c"' })), /;"a;b ""c""";/);
  });
});

describe('fleet: The Things Stack JSON stream (the-things-stack)', () => {
  it('one EndDevice object per line, keys as TTS expects', () => {
    assert.deepEqual(ttsJsonDevice(device({ name: 'Sensor 1', serial: 'SN0001' }), full), {
      ids: { device_id: 'eui-0018b20000000101', dev_eui: '0018B20000000101', join_eui: '70B3D57ED0000010' },
      name: 'Sensor 1',
      serial_number: 'sn0001',
      frequency_plan_id: 'EU_863_870_TTN',
      lorawan_version: 'MAC_V1_0_4',
      lorawan_phy_version: 'RP002_V1_0_3',
      supports_join: true,
      root_keys: { app_key: { key: '2B7E151628AED2A6ABF7158809CF4F3C' } },
    });
  });
  it('is a stream of concatenated objects, not an array', () => {
    const text = ttsJsonLine(device(), full) + ttsJsonLine(device({ devEui: '0018B20000000102', deviceId: 'eui-0018b20000000102' }), full);
    const lines = text.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.ok(!text.startsWith('['));
    assert.equal(JSON.parse(lines[1]).ids.dev_eui, '0018B20000000102');
  });
  it('carries the NwkKey when the file has one', () => {
    assert.deepEqual((ttsJsonDevice(device({ nwkKey: 'AB'.repeat(16) }), {}).root_keys as Record<string, unknown>).nwk_key, { key: 'AB'.repeat(16) });
  });
  it('leaves out a serial that is not a TTS id even lowercased', () => {
    assert.equal(ttsJsonDevice(device({ serial: 'SN/1' }), {}).serial_number, undefined);
  });
});

describe('fleet: TTS device ids (§4.1)', () => {
  it('defaults to eui- + lowercase DevEUI (25 characters)', () => {
    assert.equal(defaultDeviceId('0018B20000000101'), 'eui-0018b20000000101');
    assert.equal(deviceIdProblem(defaultDeviceId('0018B20000000101')), undefined);
  });
  it('accepts 3 and 36 characters and refuses 2 and 37', () => {
    assert.equal(deviceIdProblem('abc'), undefined);
    assert.equal(deviceIdProblem('a'.repeat(36)), undefined);
    assert.match(deviceIdProblem('ab')!, /at least 3/);
    assert.match(deviceIdProblem('a'.repeat(37))!, /at most 36/);
  });
  it('refuses uppercase, underscores, edge dashes and double dashes', () => {
    assert.match(deviceIdProblem('Abc')!, /uppercase/);
    assert.match(deviceIdProblem('a_bc')!, /lowercase letters, digits and dashes/);
    assert.match(deviceIdProblem('-abc')!, /dash/);
    assert.match(deviceIdProblem('abc-')!, /dash/);
    assert.match(deviceIdProblem('a--bc')!, /two dashes/);
  });
});

describe('fleet: LoRaWAN version pairing (§4.5)', () => {
  it('resolves names and dotted aliases to the JSON names', () => {
    assert.equal(resolveMacVersion('1.0.3'), 'MAC_V1_0_3');
    assert.equal(resolveMacVersion('MAC_V1_1'), 'MAC_V1_1');
    assert.equal(resolvePhyVersion('1.0.2-b'), 'PHY_V1_0_2_REV_B');
    assert.equal(resolvePhyVersion('RP001_V1_0_3_REV_A'), 'PHY_V1_0_3_REV_A');
    assert.equal(resolvePhyVersion('RP002_V1_0_4'), 'RP002_V1_0_4');
  });
  it('accepts a listed pair on a band that supports it', () => {
    assert.deepEqual(checkTtsOptions({ frequencyPlan: 'US_902_928_FSB_2', macVersion: 'MAC_V1_0_2', phyVersion: 'PHY_V1_0_2_REV_B' }).problems, []);
  });
  it('rejects MAC_V1_0_3 with RP002 (tts-version-pair)', () => {
    const { problems } = checkTtsOptions({ macVersion: 'MAC_V1_0_3', phyVersion: 'RP002_V1_0_3' });
    assert.equal(problems[0].rule, 'tts-version-pair');
    assert.match(problems[0].message, /PHY_V1_0_3_REV_A/);
  });
  it('rejects MAC_V1_0_4 with an RP001 version', () => {
    assert.equal(checkTtsOptions({ macVersion: '1.0.4', phyVersion: 'PHY_V1_0_2_REV_B' }).problems[0].rule, 'tts-version-pair');
  });
  it('rejects "1.0.4" as a PHY version and shows the RP002 spelling', () => {
    const p = checkTtsOptions({ phyVersion: '1.0.4' }).problems[0];
    assert.equal(p.rule, 'tts-phy-version');
    assert.match(p.message, /RP002_V1_0_4/);
  });
  it('"1.0.3" with MAC 1.0.3 names both spellings and the one that pairs (1.0.3-a)', () => {
    const p = checkTtsOptions({ macVersion: '1.0.3', phyVersion: '1.0.3' }).problems[0];
    assert.equal(p.rule, 'tts-phy-version');
    assert.match(p.message, /RP001 1\.0\.3 revision A is 1\.0\.3-a/);
    assert.match(p.message, /RP002_V1_0_3/);
    assert.match(p.message, /with MAC_V1_0_3 use PHY_V1_0_3_REV_A \(1\.0\.3-a\)/);
    assert.equal(checkTtsOptions({ macVersion: '1.0.3', phyVersion: '1.0.3-a' }).problems.length, 0, 'the suggestion is accepted');
  });
  it('rejects an unknown MAC version', () => {
    assert.equal(checkTtsOptions({ macVersion: '1.2' }).problems[0].rule, 'tts-mac-version');
  });
  it('rejects an unknown frequency plan unless allowed', () => {
    assert.equal(checkTtsOptions({ frequencyPlan: 'EU_868_TTN' }).problems[0].rule, 'tts-frequency-plan');
    assert.deepEqual(checkTtsOptions({ frequencyPlan: 'EU_868_TTN', allowUnknownPlan: true }).problems, []);
  });
  it('rejects a band that does not exist in that regional-parameters version', () => {
    const cases: Array<[string, string]> = [
      ['AS_923_2', 'RP002_V1_0_0'], // AS_923_2 from RP002 1.0.1
      ['RU_864_870_TTN', 'PHY_V1_0_2_REV_B'], // RU from RP001 1.0.3
      ['CN_470_510_FSB_11', 'RP002_V1_0_3'], // CN_470_510 ends at RP001 1.1 rev B
      ['AU_915_928_FSB_2', 'PHY_V1_0'], // AU from TS001 1.0.1
      ['IN_865_867', 'PHY_V1_0_2_REV_A'], // IN from RP001 1.0.2 rev B
    ];
    for (const [plan, phy] of cases) {
      assert.equal(checkTtsOptions({ frequencyPlan: plan, phyVersion: phy }).problems[0]?.rule, 'tts-plan-band', `${plan} ${phy}`);
    }
  });
  it('accepts RU_864_870 with RP001 1.1 rev B (band ranges follow publication order)', () => {
    assert.deepEqual(checkTtsOptions({ frequencyPlan: 'RU_864_870_TTN', phyVersion: 'PHY_V1_1_REV_B' }).problems, []);
  });
});
