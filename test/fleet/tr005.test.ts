import { strict as assert } from 'node:assert';
import { crc16Modbus, hex4 } from '../../tools/fleet/core/crc16.ts';
import { encodeTr005, parseScannedCode, Tr005Error } from '../../tools/fleet/core/tr005.ts';

describe('fleet: CRC-16/MODBUS', () => {
  it('has the catalogue check value 4B37 for "123456789"', () => {
    assert.equal(crc16Modbus('123456789'), 0x4b37);
  });
  it('formats as four uppercase zero-padded hex digits', () => {
    assert.equal(hex4(0x0936), '0936');
    assert.equal(hex4(0xaf2c), 'AF2C');
  });
});

// Reference §1.5, every row. `fields` is what must be read back; `reject` names the failing part.
describe('fleet: TR005 test vectors (§1.5)', () => {
  it('#1 full example with O, S, P and a valid checksum AF2C', () => {
    const r = parseScannedCode('LW:D0:1122334455667788:AABBCCDDEEFF0011:AABB1122:OAABBCCDDEEFF:SYYWWNNNNNN:PFOOBAR:CAF2C');
    assert.equal(r.accepted, true, JSON.stringify(r.issues));
    const t = r.tr005!;
    assert.equal(t.joinEui, '1122334455667788');
    assert.equal(t.devEui, 'AABBCCDDEEFF0011');
    assert.equal(t.vendorId, 'AABB');
    assert.equal(t.vendorProfileId, '1122');
    assert.equal(t.ownerToken, 'AABBCCDDEEFF');
    assert.equal(t.serial, 'YYWWNNNNNN');
    assert.deepEqual(t.proprietary, ['FOOBAR']);
    assert.deepEqual(t.checksum, { value: 'AF2C', expected: 'AF2C', valid: true, last: true });
  });
  it('#1 is reproduced exactly by the encoder', () => {
    const body = encodeTr005({ joinEui: '1122334455667788', devEui: 'AABBCCDDEEFF0011', profileId: 'AABB1122', ownerToken: 'AABBCCDDEEFF', serial: 'YYWWNNNNNN', proprietary: ['FOOBAR'] }, { checksum: true });
    assert.equal(body, 'LW:D0:1122334455667788:AABBCCDDEEFF0011:AABB1122:OAABBCCDDEEFF:SYYWWNNNNNN:PFOOBAR:CAF2C');
  });
  it('#2 Blynk documentation example', () => {
    const r = parseScannedCode('LW:D0:70B3D57ED0000010:0018B20000000101:000AF8BE');
    assert.equal(r.accepted, true);
    assert.equal(r.tr005!.joinEui, '70B3D57ED0000010');
    assert.equal(r.tr005!.devEui, '0018B20000000101');
    assert.equal(r.tr005!.profileId, '000AF8BE');
    assert.equal(r.tr005!.checksum, undefined);
  });
  it('#2c checksum 8525 is valid and is what the encoder appends', () => {
    const r = parseScannedCode('LW:D0:70B3D57ED0000010:0018B20000000101:000AF8BE:C8525');
    assert.equal(r.accepted, true);
    assert.equal(r.tr005!.checksum!.valid, true);
    assert.equal(encodeTr005({ joinEui: '70B3D57ED0000010', devEui: '0018B20000000101', profileId: '000AF8BE' }, { checksum: true }), 'LW:D0:70B3D57ED0000010:0018B20000000101:000AF8BE:C8525');
  });
  it('#3 TTS "Simple": vendor 42FF, model FF42', () => {
    const r = parseScannedCode('LW:D0:42FFFFFFFFFFFFFF:4242FFFFFFFFFFFF:42FFFF42');
    assert.equal(r.accepted, true);
    assert.equal(r.tr005!.vendorId, '42FF');
    assert.equal(r.tr005!.vendorProfileId, 'FF42');
  });
  it('#3c checksum E4DE is valid', () => {
    const r = parseScannedCode('LW:D0:42FFFFFFFFFFFFFF:4242FFFFFFFFFFFF:42FFFF42:CE4DE');
    assert.equal(r.accepted, true);
    assert.equal(r.tr005!.checksum!.expected, 'E4DE');
  });
  it('#4 TTS "Extensions": a C that is not 4 hex is rejected, and only warned about in lenient mode', () => {
    const code = 'LW:D0:42FFFFFFFFFFFFFF:4242FFFFFFFFFFFF:42FFFF42:CCHECKSUM:O0102:SSERIAL:PPROPRIETARY';
    const strict = parseScannedCode(code);
    assert.equal(strict.accepted, false);
    assert.ok(strict.issues.some((i) => i.code === 'checksum-format' && i.severity === 'error'));
    const lenient = parseScannedCode(code, { checksum: 'warn' });
    assert.equal(lenient.accepted, true);
    assert.equal(lenient.tr005!.checksum!.value, 'CHECKSUM');
    assert.equal(lenient.tr005!.ownerToken, '0102');
    assert.equal(lenient.tr005!.serial, 'SERIAL');
    assert.deepEqual(lenient.tr005!.proprietary, ['PROPRIETARY']);
  });
  it('#5 empty extensions are ignored and the canonical form is #3', () => {
    const r = parseScannedCode('LW:D0:42FFFFFFFFFFFFFF:4242FFFFFFFFFFFF:42FFFF42:O:S:P');
    assert.equal(r.accepted, true);
    assert.equal(r.canonical, 'LW:D0:42FFFFFFFFFFFFFF:4242FFFFFFFFFFFF:42FFFF42');
  });
  it('#6 fewer than five parts is an error', () => {
    const r = parseScannedCode('LW:D0:42FFFFFFFFFFFFFF:4242FFFFFFFFFFFF');
    assert.equal(r.accepted, false);
    assert.equal(r.issues[0].code, 'parts');
  });
  it('#7 an EUI that is not 8 bytes is an error', () => {
    const r = parseScannedCode('LW:D0:42FFFFFFFF:4242FFFFFFFFFFFF:42FFFF42');
    assert.equal(r.accepted, false);
    assert.match(r.issues[0].message, /JoinEUI .* is 10 hex digits/);
  });
  it('#8 a ProfileID that is not 4 bytes is an error', () => {
    const r = parseScannedCode('LW:D0:42FFFFFFFFFFFFFF:4242FFFFFFFFFFFF:42FFFF42AABB');
    assert.equal(r.accepted, false);
    assert.match(r.issues[0].message, /ProfileID/);
  });
  it('#9 owner token and vendor ids are read', () => {
    const r = parseScannedCode('LW:D0:1111111111111111:2222222222222222:AABB1122:O123456');
    assert.equal(r.accepted, true);
    assert.equal(r.tr005!.vendorId, 'AABB');
    assert.equal(r.tr005!.vendorProfileId, '1122');
    assert.equal(r.tr005!.ownerToken, '123456');
  });
  it('#9c checksum 0936 is valid', () => {
    const r = parseScannedCode('LW:D0:1111111111111111:2222222222222222:AABB1122:O123456:C0936');
    assert.equal(r.accepted, true);
    assert.equal(r.tr005!.checksum!.valid, true);
  });
  it('#10 serial number is read', () => {
    const r = parseScannedCode('LW:D0:1111111111111111:2222222222222222:ABCDABCD:O123456:S12345678');
    assert.equal(r.accepted, true);
    assert.equal(r.tr005!.serial, '12345678');
  });
  it('#11 a 15-digit DevEUI is an error', () => {
    const r = parseScannedCode('LW:D0:1111111111111111:222222222222222:00000000:O123456');
    assert.equal(r.accepted, false);
    assert.match(r.issues[0].message, /DevEUI .* is 15 hex digits/);
  });
  it('#12 a valid checksum does not save an all-zero DevEUI', () => {
    const r = parseScannedCode('LW:D0:0000000000000000:0000000000000000:00000000:C89C8');
    assert.equal(r.tr005!.checksum!.valid, true);
    assert.equal(r.accepted, false);
    assert.ok(r.issues.some((i) => i.code === 'deveui-zero' && i.severity === 'error'));
  });
  it('#13 lowercase DevEUI and all-zero JoinEUI are accepted with warnings', () => {
    const r = parseScannedCode('LW:D0:0000000000000000:34c5d0fa68ceffa5:FFFF0BEB:S241218QR10005');
    assert.equal(r.accepted, true);
    assert.equal(r.tr005!.devEui, '34C5D0FA68CEFFA5');
    assert.ok(r.issues.some((i) => i.code === 'lowercase-hex'));
    assert.ok(r.issues.some((i) => i.code === 'joineui-zero'));
  });
});

describe('fleet: scanning like the app', () => {
  it('tolerates surrounding whitespace and a trailing CRLF from a scanner', () => {
    const r = parseScannedCode('  LW:D0:70B3D57ED0000010:0018B20000000101:000AF8BE:C8525\r\n');
    assert.equal(r.accepted, true);
    assert.equal(r.tr005!.checksum!.valid, true);
  });
  it('rejects a checksum that does not match and says what it should be', () => {
    const r = parseScannedCode('LW:D0:70B3D57ED0000010:0018B20000000101:000AF8BE:C8526');
    assert.equal(r.accepted, false);
    assert.match(r.issues[0].message, /8525/);
  });
  it('ignores parts with unknown prefixes', () => {
    const r = parseScannedCode('LW:D0:70B3D57ED0000010:0018B20000000101:000AF8BE:XFOO');
    assert.equal(r.accepted, true);
    assert.deepEqual(r.tr005!.ignored, ['XFOO']);
  });
  it('rejects empty EUI fields (the TTS quirk reads them as zero)', () => {
    assert.equal(parseScannedCode('LW:D0:::00000000').accepted, false);
  });
  it('requires the prefix in uppercase', () => {
    const r = parseScannedCode('lw:d0:70B3D57ED0000010:0018B20000000101:000AF8BE');
    assert.equal(r.accepted, false);
    assert.match(r.issues[0].message, /uppercase/);
  });
  it('names and rejects draft 2 (URN:LW:DP:) and suggests the LW:D0 form', () => {
    const r = parseScannedCode('URN:LW:DP:42FFFFFFFFFFFFFF:4242FFFFFFFFFFFF:42FFFF42:%V0102%SSERIAL%PPROPRIETARY');
    assert.equal(r.accepted, false);
    assert.equal(r.format, 'tr005-draft2');
    assert.equal(r.canonical, 'LW:D0:42FFFFFFFFFFFFFF:4242FFFFFFFFFFFF:42FFFF42');
  });
  it('names and rejects draft 3 (URN:DEV:LW:)', () => {
    const r = parseScannedCode('URN:DEV:LW:70B3D57ED0000000_0004A31000FFFFFF_00000000_VD53FFFFF');
    assert.equal(r.accepted, false);
    assert.equal(r.format, 'tr005-draft3');
    assert.equal(r.canonical, 'LW:D0:70B3D57ED0000000:0004A31000FFFFFF:00000000');
  });
  it('names and rejects a bare DevEUI', () => {
    const r = parseScannedCode('A84041000181B365');
    assert.equal(r.accepted, false);
    assert.equal(r.format, 'dev-eui');
  });
  it('recognises a Blynk static-token QR <token>+<orgId>', () => {
    const r = parseScannedCode('sqr_gCCsLSydh3d0ArmZj50l9zr79JXVooBR+1');
    assert.equal(r.accepted, true);
    assert.equal(r.format, 'blynk-static-token');
    assert.deepEqual(r.blynk, { token: 'sqr_gCCsLSydh3d0ArmZj50l9zr79JXVooBR', orgId: '1' });
  });
  it('warns when fields follow the checksum', () => {
    const r = parseScannedCode('LW:D0:70B3D57ED0000010:0018B20000000101:000AF8BE:C8525:SX1');
    assert.equal(r.tr005!.checksum!.valid, true);
    assert.ok(r.issues.some((i) => i.code === 'checksum-not-last'));
  });
  it('round-trips every accepted body the encoder makes', () => {
    for (const checksum of [false, true]) {
      const body = encodeTr005({ joinEui: '70b3d57ed0000010', devEui: '0018b20000000101', profileId: '000af8be', serial: 'SN-01/A' }, { checksum });
      const r = parseScannedCode(body);
      assert.equal(r.accepted, true);
      assert.equal(r.canonical, body);
    }
  });
});

describe('fleet: TR005 encoder limits', () => {
  it('refuses a colon inside an extension value', () => {
    assert.throws(() => encodeTr005({ joinEui: '70B3D57ED0000010', devEui: '0018B20000000101', profileId: '000AF8BE', serial: 'A:B' }), Tr005Error);
  });
  it('refuses a malformed EUI or ProfileID', () => {
    assert.throws(() => encodeTr005({ joinEui: '70B3D57ED000001', devEui: '0018B20000000101', profileId: '000AF8BE' }), /JoinEUI/);
    assert.throws(() => encodeTr005({ joinEui: '70B3D57ED0000010', devEui: '0018B20000000101', profileId: '000AF8B' }), /ProfileID/);
  });
});
