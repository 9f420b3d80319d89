import { strict as assert } from 'node:assert';
import { RULES, type RuleId } from '../../tools/fleet/core/rules.ts';
import { normaliseHex } from '../../tools/fleet/core/hex.ts';
import type { ValidationReport } from '../../tools/fleet/core/validator.ts';
import { goodRow, HEADER, validateRows } from './helpers.ts';
import { TEST_TOKEN } from '../../shared/names.ts';

function hit(report: ValidationReport, rule: RuleId) {
  return report.issues.find((i) => i.rule === rule);
}

/** Row 0 is good, row 1 is `bad`; the rule must be reported on line 3 in `column`. */
function expectRule(rule: RuleId, bad: string[], column: number) {
  const report = validateRows(HEADER, [goodRow(1), bad]);
  const i = hit(report, rule);
  assert.ok(i, `expected ${rule}; got ${JSON.stringify(report.issues.map((x) => x.rule))}`);
  assert.equal(i.severity, RULES[rule].severity);
  assert.equal(i.column, column);
  assert.equal(i.line, 3);
  return { report, issue: i };
}

const [DEV, JOIN, KEY] = goodRow(2);

describe('fleet: validation rules (§5.1), one case each', () => {
  it('a clean file has no errors or warnings', () => {
    const r = validateRows(HEADER, [goodRow(1), goodRow(2), goodRow(3)]);
    assert.equal(r.errors, 0);
    assert.equal(r.warnings, 0);
    assert.equal(r.ok, true);
  });

  it('normalise: strips 0x, spaces, ":", "-", "_" and uppercases', () => {
    assert.equal(normaliseHex(' 0x00:18-b2_00 00 00 01 01 \r\n'), '0018B20000000101');
    assert.equal(normaliseHex('0X70B3D57ED0000010'), '70B3D57ED0000010');
  });
  it('normalise: is reported as info with an example, not as an error', () => {
    const r = validateRows(HEADER, [['00-18-b2-00-00-00-01-01', JOIN, KEY]]);
    assert.equal(r.ok, true);
    const i = hit(r, 'normalised')!;
    assert.equal(i.severity, 'info');
    assert.match(i.message, /"00-18-b2-00-00-00-01-01" -> "0018B20000000101"/);
  });
  it('required: an empty Application Key cell', () => {
    const { issue } = expectRule('required', [DEV, JOIN, ''], 3);
    assert.equal(issue.line, 3);
    assert.equal(issue.columnName, 'Application Key');
  });
  it('hex-chars: a letter O typed for a zero names the character and position', () => {
    const { issue } = expectRule('hex-chars', ['0018B2000000O101', JOIN, KEY], 1);
    assert.match(issue.message, /"O" at position 13/);
  });
  it('deveui-length: 15 digits', () => expectRule('deveui-length', ['0018B2000000010', JOIN, KEY], 1));
  it('joineui-length: 18 digits', () => expectRule('joineui-length', [DEV, '70B3D57ED000001000', KEY], 2));
  it('key-length: 31 digits', () => expectRule('key-length', [DEV, JOIN, KEY.slice(1)], 3));
  it('deveui-zero: all zeros', () => expectRule('deveui-zero', ['0000000000000000', JOIN, KEY], 1));
  it('deveui-ones: all ones', () => expectRule('deveui-ones', ['FFFFFFFFFFFFFFFF', JOIN, KEY], 1));
  it('joineui-zero: a warning that does not stop the run', () => {
    const { report } = expectRule('joineui-zero', [DEV, '0000000000000000', KEY], 2);
    assert.equal(report.ok, true);
  });
  it('joineui-ones: all ones', () => expectRule('joineui-ones', [DEV, 'FFFFFFFFFFFFFFFF', KEY], 2));
  it('key-zero: all-zero AppKey', () => expectRule('key-zero', [DEV, JOIN, '0'.repeat(32)], 3));
  it('key-weak: one repeated byte', () => expectRule('key-weak', [DEV, JOIN, '11'.repeat(16)], 3));
  it('key-weak: sequential bytes', () => expectRule('key-weak', [DEV, JOIN, '000102030405060708090A0B0C0D0E0F'], 3));
  it('deveui-equals-joineui: copy/paste slip', () => expectRule('deveui-equals-joineui', [DEV, DEV, KEY], 2));
  it('eui-group-bit: first octet odd', () => expectRule('eui-group-bit', ['0118B20000000101', JOIN, KEY], 1));
  it('eui-local: locally administered is info only', () => {
    const { report } = expectRule('eui-local', ['FE18B20000000101', JOIN, KEY], 1);
    assert.equal(report.warnings, 0);
  });
  it('eui-byte-swapped: a Dragino DevEUI copied LSB-first', () => {
    const { issue } = expectRule('eui-byte-swapped', ['01000000004140A8', JOIN, KEY], 1);
    assert.match(issue.message, /A84041/);
  });
  it('eui-byte-swapped: a TTN JoinEUI copied LSB-first', () => expectRule('eui-byte-swapped', [DEV, '100000D07ED5B370', KEY], 2));
  it('duplicate-eui-pair: same JoinEUI and DevEUI twice, naming the first line', () => {
    const r = validateRows(HEADER, [goodRow(1), [goodRow(1)[0], goodRow(1)[1], goodRow(9)[2]]]);
    const i = hit(r, 'duplicate-eui-pair')!;
    assert.equal(i.severity, 'error');
    assert.equal(i.line, 3);
    assert.match(i.message, /line 2/);
    assert.equal(hit(r, 'duplicate-deveui'), undefined, 'a repeated pair is not also a DevEUI warning');
  });
  it('duplicate-deveui: same DevEUI under another JoinEUI is a warning', () => {
    const r = validateRows(HEADER, [goodRow(1), [goodRow(1)[0], '70B3D57ED0000099', goodRow(7)[2]]]);
    assert.equal(hit(r, 'duplicate-deveui')!.severity, 'warning');
  });
  it('duplicate-appkey: two devices sharing a key', () => {
    const r = validateRows(HEADER, [goodRow(1), [goodRow(2)[0], JOIN, goodRow(1)[2]]]);
    assert.equal(hit(r, 'duplicate-appkey')!.severity, 'warning');
  });
  it('duplicate-device-id: a given id equal to another row\'s default id', () => {
    const h = [...HEADER, 'TheThingsStack Device ID'];
    const r = validateRows(h, [[...goodRow(1), ''], [...goodRow(2), 'eui-0018b20000000001']]);
    assert.equal(hit(r, 'duplicate-device-id')!.severity, 'error');
  });
  it('device-id-format: uppercase, underscores, double dash, too long, too short', () => {
    const h = [...HEADER, 'id'];
    for (const bad of ['Sensor-1', 'sensor_1', 'a--b', 'ab', `x${'y'.repeat(36)}`, '-abc']) {
      const r = validateRows(h, [[...goodRow(1), bad]]);
      assert.equal(hit(r, 'device-id-format')?.severity, 'error', bad);
    }
    assert.equal(validateRows(h, [[...goodRow(1), 'sensor-01']]).ok, true);
  });
  it('profile-id-format: a 7-digit Profile ID', () => {
    const h = [...HEADER, 'Profile ID'];
    const r = validateRows(h, [[...goodRow(1), '000AF8B']]);
    assert.equal(hit(r, 'profile-id-format')!.column, 4);
  });
  it('owner-token-format: characters a TR005 code cannot carry', () => {
    const r = validateRows([...HEADER, 'Owner Token'], [[...goodRow(1), 'ab:cd']]);
    assert.equal(hit(r, 'owner-token-format')!.severity, 'error');
  });
  it('owner-token-tts: allowed in TR005 but not by TTS claiming', () => {
    const r = validateRows([...HEADER, 'Owner Token'], [[...goodRow(1), 'AB-CD']]);
    assert.equal(hit(r, 'owner-token-tts')!.severity, 'warning');
  });
  it('proprietary-charset: lowercase is outside the TR005 set', () => {
    const r = validateRows([...HEADER, 'Proprietary'], [[...goodRow(1), 'abc def']]);
    assert.equal(hit(r, 'proprietary-charset')!.severity, 'error');
  });
  it('serial-qr-charset: a serial with "_" cannot go into the QR, unless --no-qr-serial', () => {
    const h = [...HEADER, 'Serial'];
    assert.equal(hit(validateRows(h, [[...goodRow(1), 'SN_01']]), 'serial-qr-charset')!.severity, 'error');
    assert.equal(hit(validateRows(h, [[...goodRow(1), 'SN_01']], { qrSerial: false }), 'serial-qr-charset'), undefined);
  });
  it('serial-tts-format: uppercase is fine (lowercased for TTS), a slash is not', () => {
    const h = [...HEADER, 'Serial'];
    assert.equal(hit(validateRows(h, [[...goodRow(1), 'SN0001']]), 'serial-tts-format'), undefined);
    assert.equal(hit(validateRows(h, [[...goodRow(1), 'SN/0001']]), 'serial-tts-format')!.severity, 'warning');
  });
  it('name-too-long: over 50 characters', () => {
    const r = validateRows([...HEADER, 'Name'], [[...goodRow(1), 'n'.repeat(51)]]);
    assert.equal(hit(r, 'name-too-long')!.severity, 'error');
  });
  it('description-too-long: over 2000 characters', () => {
    const r = validateRows([...HEADER, 'Description'], [[...goodRow(1), 'd'.repeat(2001)]]);
    assert.equal(hit(r, 'description-too-long')!.severity, 'error');
  });
  it('control-char: an escape character in a name', () => {
    const r = validateRows([...HEADER, 'Name'], [[...goodRow(1), 'Sensor\u001b[31m']]);
    assert.equal(hit(r, 'control-char')!.severity, 'error');
  });
  it('formula-cell: each of = + - @ at the start of a name, serial or description is an error naming line and column', () => {
    for (const v of ['=cmd|\' /C calc\'!A0', '+1+1', '-2+3', '@SUM(A1)']) {
      const r = validateRows([...HEADER, 'Name', 'Serial', 'Description'], [[...goodRow(1), v, 'SN1', 'ok'], [...goodRow(2), 'ok', v, 'ok'], [...goodRow(3), 'ok', 'SN3', v]], { qrSerial: false });
      const hits = r.issues.filter((i) => i.rule === 'formula-cell');
      assert.deepEqual(hits.map((h) => [h.severity, h.line, h.column]), [['error', 2, 4], ['error', 3, 5], ['error', 4, 6]], v);
      assert.match(hits[0].message, /starts with a letter or digit/);
      assert.equal(r.ok, false);
    }
  });
  it('formula-cell: a sign inside the text is fine', () => {
    const r = validateRows([...HEADER, 'Name'], [[...goodRow(1), 'Pump -2 = spare']]);
    assert.equal(hit(r, 'formula-cell'), undefined);
  });
  it('auth-token-format: 31 characters', () => {
    const r = validateRows(['Auth Token'], [['A'.repeat(31)]]);
    assert.equal(hit(r, 'auth-token-format')!.severity, 'error');
  });
  it('qr-token-format: a "+" inside the token', () => {
    const r = validateRows(['QR Token', 'Org ID'], [['sqr_abc+1', '1']]);
    assert.equal(hit(r, 'qr-token-format')!.severity, 'error');
  });
  it('org-id-format: not a whole number', () => {
    const r = validateRows(['QR Token', 'Org ID'], [['sqr_abc', 'org1']]);
    assert.equal(hit(r, 'org-id-format')!.severity, 'error');
  });
  it('duplicate-token: the same auth token on two rows', () => {
    const t = TEST_TOKEN;
    const r = validateRows(['Auth Token'], [[t], [t]]);
    assert.equal(hit(r, 'duplicate-token')!.line, 3);
  });
  it('required: a token file row with no token', () => {
    const r = validateRows(['Auth Token', 'Serial'], [['', 'SN1']]);
    assert.equal(hit(r, 'required')!.severity, 'error');
  });
  it('field-count: a row with an extra cell', () => {
    const r = validateRows(HEADER, [[...goodRow(1), 'extra']]);
    assert.equal(hit(r, 'field-count')!.line, 2);
  });
  it('no-rows: a header alone', () => {
    assert.equal(hit(validateRows(HEADER, []), 'no-rows')!.severity, 'error');
  });
  it('--strict turns every warning into an error', () => {
    const rows = [[DEV, '0000000000000000', KEY]];
    assert.equal(validateRows(HEADER, rows).ok, true);
    const strict = validateRows(HEADER, rows, { strict: true });
    assert.equal(strict.ok, false);
    assert.equal(hit(strict, 'joineui-zero')!.strict, true);
  });
  it('one mistake gives one message: a short DevEUI is not also checked for zeros', () => {
    const r = validateRows(HEADER, [['000000000000000', JOIN, KEY]]);
    assert.deepEqual(r.issues.filter((i) => i.column === 1).map((i) => i.rule), ['deveui-length']);
  });
  it('every rule has a severity and a meaning for the docs', () => {
    for (const [id, spec] of Object.entries(RULES)) {
      assert.ok(['error', 'warning', 'info'].includes(spec.severity), id);
      assert.ok(spec.meaning.length > 20, id);
    }
  });
});

describe('fleet: duplicate detection across a batch', () => {
  it('finds a repeated pair even after the DevEUI appeared under another JoinEUI', () => {
    const [d, , k] = goodRow(1);
    const r = validateRows(HEADER, [[d, '70B3D57ED0000010', k], [d, '70B3D57ED0000011', goodRow(2)[2]], [d, '70B3D57ED0000011', goodRow(3)[2]]]);
    const pair = r.issues.find((i) => i.rule === 'duplicate-eui-pair')!;
    assert.equal(pair.line, 4);
    assert.match(pair.message, /line 3/);
  });
  it('a DevEUI under two JoinEUIs also collides on the default TTS device id', () => {
    const [d, , k] = goodRow(1);
    const r = validateRows(HEADER, [[d, '70B3D57ED0000010', k], [d, '70B3D57ED0000011', goodRow(2)[2]]]);
    assert.equal(r.issues.find((i) => i.rule === 'duplicate-device-id')?.line, 3);
  });
  it('with an id column, the same DevEUI under two JoinEUIs can have two ids', () => {
    const [d, , k] = goodRow(1);
    const r = validateRows([...HEADER, 'id'], [[d, '70B3D57ED0000010', k, 'dev-a'], [d, '70B3D57ED0000011', goodRow(2)[2], 'dev-b']]);
    assert.equal(r.ok, true);
    assert.equal(r.warnings, 1);
  });
  it('finds duplicates between rows far apart in a large batch', () => {
    const rows = Array.from({ length: 20000 }, (_, i) => goodRow(i + 1));
    rows.push(goodRow(5));
    const r = validateRows(HEADER, rows);
    const pair = r.issues.find((i) => i.rule === 'duplicate-eui-pair')!;
    assert.equal(pair.line, 20002);
    assert.match(pair.message, /line 6\b/);
  });
});
