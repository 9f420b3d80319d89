/**
 * Validation rules as data (reference §5.1). Each rule has an id (used in messages, tests
 * and docs/fleet.md), a severity and a one-line meaning; the checks below refer to rules by
 * id. File- and batch-level rules are listed here too and implemented by the validator.
 */
import { COLUMN_BY_FIELD, type Field, type FileKind } from './columns.ts';
import { looksLikeFormula } from './csv-write.ts';
import type { Device } from './device.ts';
import {
  firstNonHex, isAll, isGroupAddress, isLocallyAdministered, knownOui, reverseBytes, weakKeyPattern,
} from './hex.ts';
import { TR005_VALUE_PATTERN } from './qr-charset.ts';
import { deviceIdProblem, ttsSerial } from './tts.ts';

export type Severity = 'error' | 'warning' | 'info';

export interface RuleSpec {
  severity: Severity;
  /** What the rule means for a maker, shown by `fleet rules` and in docs/fleet.md. */
  meaning: string;
}

export const RULES = {
  // File and header
  'file-not-text': { severity: 'error', meaning: 'The file has NUL bytes or invalid UTF-8: it is not a CSV text file (a spreadsheet binary, or UTF-16 "Unicode text"). Save as "CSV UTF-8".' },
  'line-too-long': { severity: 'error', meaning: 'One line is longer than 64 KiB. Device rows are a few hundred bytes, so this is the wrong file or a broken export.' },
  'csv-syntax': { severity: 'error', meaning: 'A quote is not closed or is followed by text; the CSV cannot be read past this point.' },
  'header-missing-column': { severity: 'error', meaning: 'A LoRaWAN file needs Device EUI, Join EUI (or App EUI) and Application Key columns; a token file needs Auth Token or QR Token.' },
  'header-duplicate-column': { severity: 'error', meaning: 'Two header cells mean the same thing (say "Join EUI" and "App EUI"). Keep one.' },
  'header-unused-column': { severity: 'info', meaning: 'A column this tool does not know; it is ignored.' },
  'field-count': { severity: 'error', meaning: 'The row has a different number of cells than the header, usually a stray delimiter or an unquoted name containing one.' },
  'no-rows': { severity: 'error', meaning: 'The file has a header but no device rows.' },
  'normalised': { severity: 'info', meaning: 'Spaces, ":", "-", "_" or a "0x" prefix were removed and hex was uppercased. The outputs use the normalised value.' },
  // Cells
  'required': { severity: 'error', meaning: 'A cell that every device needs is empty.' },
  'hex-chars': { severity: 'error', meaning: 'After normalisation the value still holds a character that is not 0-9 or A-F (a letter O for a zero, a comma, a stray quote).' },
  'deveui-length': { severity: 'error', meaning: 'A Device EUI is exactly 16 hex digits (8 bytes).' },
  'joineui-length': { severity: 'error', meaning: 'A Join EUI is exactly 16 hex digits (8 bytes).' },
  'key-length': { severity: 'error', meaning: 'An Application Key (or Network Key) is exactly 32 hex digits (16 bytes).' },
  'deveui-zero': { severity: 'error', meaning: 'DevEUI 0000000000000000 means "no EUI"; TTS refuses it (no_dev_eui).' },
  'deveui-ones': { severity: 'error', meaning: 'DevEUI FFFFFFFFFFFFFFFF means "no EUI" and is not a valid EUI-64.' },
  'joineui-zero': { severity: 'warning', meaning: 'JoinEUI 0000000000000000 is accepted by TTS but is not LoRaWAN compliant and has caused join problems. Use it only on purpose.' },
  'joineui-ones': { severity: 'error', meaning: 'JoinEUI FFFFFFFFFFFFFFFF means "no EUI" and is not a valid EUI-64.' },
  'key-zero': { severity: 'error', meaning: 'An all-zero root key; the TTS Join Server refuses it.' },
  'key-weak': { severity: 'warning', meaning: 'The key is one repeated byte or counts up or down byte by byte, so it was typed by hand. Root keys must be random per device.' },
  'deveui-equals-joineui': { severity: 'warning', meaning: 'The DevEUI and JoinEUI are the same, usually a copy/paste slip.' },
  'eui-group-bit': { severity: 'warning', meaning: 'Bit 0 of the first byte is set (the first pair of digits is odd): an IEEE group address, not a device address.' },
  'eui-local': { severity: 'info', meaning: 'Bit 1 of the first byte is set: a locally administered EUI, not IEEE-assigned. Fine for tests.' },
  'eui-byte-swapped': { severity: 'warning', meaning: 'Read backwards the EUI starts with a known manufacturer prefix and forwards it does not: it was probably copied LSB-first (Arduino-LMIC order). A swapped DevEUI joins silently never.' },
  'device-id-format': { severity: 'error', meaning: 'TTS device ids are 3 to 36 lowercase letters, digits and single dashes, not starting or ending with a dash.' },
  'profile-id-format': { severity: 'error', meaning: 'A TR005 ProfileID is 8 hex digits: VendorID (4) and VendorProfileID (4). For Blynk use the Profile ID shown in its TTS integration.' },
  'owner-token-format': { severity: 'error', meaning: 'The TR005 OwnerToken may only hold 0-9 A-Z $ * + - . /.' },
  'owner-token-tts': { severity: 'warning', meaning: 'TTS claiming only accepts owner tokens of 1 to 32 characters A-Z 0-9.' },
  'proprietary-charset': { severity: 'error', meaning: 'The TR005 Proprietary field may only hold 0-9 A-Z $ * + - . /.' },
  'serial-qr-charset': { severity: 'error', meaning: 'The serial goes into the QR code (S field) uppercased and may then only hold 0-9 A-Z $ * + - . /. Use --no-qr-serial to leave it out of the code.' },
  'serial-tts-format': { severity: 'warning', meaning: 'TTS serial_number must look like an id (lowercase letters, digits, single dashes, 3 to 36 characters). The TTS JSON carries the serial lowercased; one that does not fit even then is left out.' },
  'name-too-long': { severity: 'error', meaning: 'TTS device names are at most 50 characters.' },
  'description-too-long': { severity: 'error', meaning: 'TTS device descriptions are at most 2000 characters.' },
  'control-char': { severity: 'error', meaning: 'A text cell holds a control character (tab, line break, escape); labels and CSV exports would be garbled.' },
  'formula-cell': { severity: 'error', meaning: 'A name, serial or description starts with = + - @ (or a tab or CR), so a spreadsheet opening any of the exports would run it as a formula (CSV injection). Change the cell so it starts with a letter or digit.' },
  'auth-token-format': { severity: 'error', meaning: 'A Blynk auth token is exactly 32 characters of A-Z a-z 0-9 - _.' },
  'qr-token-format': { severity: 'error', meaning: 'A Blynk QR (claim) token holds only A-Z a-z 0-9 - _ (at most 128).' },
  'org-id-format': { severity: 'error', meaning: 'A Blynk organization id is a whole number.' },
  // Batch
  'duplicate-eui-pair': { severity: 'error', meaning: 'Two rows have the same JoinEUI and DevEUI; TTS allows one such device in the whole deployment (end_device_euis_taken).' },
  'duplicate-deveui': { severity: 'warning', meaning: 'Two rows share a DevEUI (with different JoinEUIs). EUIs shall be globally unique.' },
  'duplicate-appkey': { severity: 'warning', meaning: 'Two devices share an Application Key. Root keys must be unique per device.' },
  'duplicate-device-id': { severity: 'error', meaning: 'Two devices map to the same TTS device id; the second would fail or overwrite the first.' },
  'duplicate-token': { severity: 'error', meaning: 'A Blynk token appears on two rows; one token can only ever belong to one device.' },
  // TTS export options
  'tts-mac-version': { severity: 'error', meaning: 'The --lorawan-version is not a LoRaWAN MAC version TTS knows.' },
  'tts-phy-version': { severity: 'error', meaning: 'The --phy-version is not a regional-parameters version TTS knows (RP002 has no dotted form).' },
  'tts-version-pair': { severity: 'error', meaning: 'This LoRaWAN version does not pair with this regional-parameters version in TTS.' },
  'tts-frequency-plan': { severity: 'error', meaning: 'The frequency plan is not a known TTS plan id.' },
  'tts-plan-band': { severity: 'error', meaning: 'The plan\'s band does not exist in that regional-parameters version; the Network Server would refuse the device.' },
  'tts-nwkkey-required': { severity: 'error', meaning: 'LoRaWAN 1.1 devices need a Network Key column as well as the Application Key.' },
} as const satisfies Record<string, RuleSpec>;

export type RuleId = keyof typeof RULES;

export interface Finding {
  rule: RuleId;
  severity: Severity;
  message: string;
}
export type EuiFinding = Finding;

export interface CheckContext {
  kind: FileKind;
  /** The serial column goes into the TR005 S field. */
  qrSerial: boolean;
}

interface FieldCheck {
  rule: RuleId;
  fields: readonly Field[];
  /** Returns the message when the value breaks the rule. Only called for non-empty values. */
  test: (value: string, field: Field, device: Device, ctx: CheckContext) => string | undefined;
  /** Runs on empty values too (only `required`). */
  onEmpty?: boolean;
}

const HEX_FIELDS: readonly Field[] = ['devEui', 'joinEui', 'appKey', 'nwkKey', 'profileId'];
const TEXT_FIELDS: readonly Field[] = ['name', 'serial', 'description', 'ownerToken', 'proprietary'];
const label = (f: Field) => COLUMN_BY_FIELD[f].label;

function lengthMessage(value: string, digits: number): string | undefined {
  return value.length === digits ? undefined : `is ${value.length} hex digits; it must be ${digits} (${digits / 2} bytes)`;
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Per-cell checks in the order they run. For each cell the first error stops the later
 * checks, so one mistake gives one message.
 */
export const FIELD_CHECKS: readonly FieldCheck[] = [
  {
    rule: 'required', fields: ['devEui', 'joinEui', 'appKey'], onEmpty: true,
    test: (v, _f, _d, ctx) => (ctx.kind === 'lorawan' && v === '' ? 'is empty' : undefined),
  },
  {
    rule: 'hex-chars', fields: HEX_FIELDS,
    test: (v) => {
      const i = firstNonHex(v);
      return i < 0 ? undefined : `"${v}" has ${JSON.stringify(v[i])} at position ${i + 1}, which is not a hex digit`;
    },
  },
  { rule: 'deveui-length', fields: ['devEui'], test: (v) => lengthMessage(v, 16) },
  { rule: 'joineui-length', fields: ['joinEui'], test: (v) => lengthMessage(v, 16) },
  { rule: 'key-length', fields: ['appKey', 'nwkKey'], test: (v) => lengthMessage(v, 32) },
  { rule: 'profile-id-format', fields: ['profileId'], test: (v) => lengthMessage(v, 8) },
  { rule: 'deveui-zero', fields: ['devEui'], test: (v) => (isAll(v, '0') ? 'is all zeros, which means "no EUI"; TTS refuses it' : undefined) },
  { rule: 'deveui-ones', fields: ['devEui'], test: (v) => (isAll(v, 'F') ? 'is all ones (FFFF…), which means "no EUI"' : undefined) },
  { rule: 'joineui-ones', fields: ['joinEui'], test: (v) => (isAll(v, 'F') ? 'is all ones (FFFF…), which means "no EUI"' : undefined) },
  { rule: 'joineui-zero', fields: ['joinEui'], test: (v) => (isAll(v, '0') ? 'is all zeros; TTS accepts it but it is not LoRaWAN compliant' : undefined) },
  { rule: 'key-zero', fields: ['appKey', 'nwkKey'], test: (v) => (isAll(v, '0') ? 'is all zeros; the TTS Join Server refuses it' : undefined) },
  {
    rule: 'key-weak', fields: ['appKey', 'nwkKey'],
    test: (v) => {
      const p = weakKeyPattern(v);
      return p ? `is a ${p} pattern, not a random key` : undefined;
    },
  },
  {
    rule: 'eui-group-bit', fields: ['devEui', 'joinEui'],
    test: (v) => (isGroupAddress(v) ? `starts with ${v.slice(0, 2)} (odd): that is an IEEE group address, not a single device` : undefined),
  },
  {
    rule: 'eui-local', fields: ['devEui'],
    test: (v) => (isLocallyAdministered(v) ? `starts with ${v.slice(0, 2)}: locally administered, not IEEE-assigned` : undefined),
  },
  {
    rule: 'eui-byte-swapped', fields: ['devEui', 'joinEui'],
    test: (v) => {
      const reversed = reverseBytes(v);
      const owner = knownOui(reversed);
      return owner && !knownOui(v)
        ? `${v} read backwards is ${reversed}, which starts with ${reversed.slice(0, 6)} (${owner}); it may have been copied LSB-first`
        : undefined;
    },
  },
  {
    rule: 'device-id-format', fields: ['deviceId'],
    test: (v, _f, d) => {
      if (!d.deviceIdGiven) return undefined;
      const p = deviceIdProblem(v);
      return p ? `"${v}" ${p}` : undefined;
    },
  },
  {
    rule: 'control-char', fields: TEXT_FIELDS,
    test: (v) => {
      const m = CONTROL.exec(v);
      return m ? `holds control character 0x${m[0].charCodeAt(0).toString(16).padStart(2, '0')} at position ${m.index + 1}` : undefined;
    },
  },
  { rule: 'name-too-long', fields: ['name'], test: (v) => (v.length > 50 ? `is ${v.length} characters; TTS allows 50` : undefined) },
  { rule: 'description-too-long', fields: ['description'], test: (v) => (v.length > 2000 ? `is ${v.length} characters; TTS allows 2000` : undefined) },
  {
    rule: 'serial-qr-charset', fields: ['serial'],
    test: (v, _f, _d, ctx) => (ctx.kind === 'lorawan' && ctx.qrSerial && !TR005_VALUE_PATTERN.test(v.toUpperCase())
      ? `"${v}" cannot go into the QR code's S field; allowed are 0-9 A-Z $ * + - . / (or pass --no-qr-serial)`
      : undefined),
  },
  {
    rule: 'formula-cell', fields: ['name', 'serial', 'description'],
    test: (v) => (looksLikeFormula(v)
      ? `starts with ${JSON.stringify(v[0])}, so a spreadsheet opening the exports would run it as a formula; change the cell so it starts with a letter or digit`
      : undefined),
  },
  {
    rule: 'serial-tts-format', fields: ['serial'],
    test: (v, _f, _d, ctx) => (ctx.kind === 'lorawan' && !ttsSerial(v)
      ? `"${v}" does not fit TTS serial_number even lowercased (letters, digits, single dashes, 3-36 characters); it is left out of the TTS JSON`
      : undefined),
  },
  {
    rule: 'owner-token-format', fields: ['ownerToken'],
    test: (v) => (TR005_VALUE_PATTERN.test(v) ? undefined : `"${v}" may only hold 0-9 A-Z $ * + - . /`),
  },
  {
    rule: 'owner-token-tts', fields: ['ownerToken'],
    test: (v) => (/^[A-Z0-9]{1,32}$/.test(v) ? undefined : `"${v}" is not 1-32 characters A-Z 0-9, so TTS claiming would refuse it`),
  },
  {
    rule: 'proprietary-charset', fields: ['proprietary'],
    test: (v) => (TR005_VALUE_PATTERN.test(v) ? undefined : `"${v}" may only hold 0-9 A-Z $ * + - . /`),
  },
  {
    rule: 'auth-token-format', fields: ['authToken'],
    test: (v) => (/^[-_a-zA-Z0-9]{32}$/.test(v) ? undefined
      : v.length !== 32 ? `is ${v.length} characters; a Blynk auth token is exactly 32` : 'may only hold A-Z a-z 0-9 - _'),
  },
  {
    rule: 'qr-token-format', fields: ['qrToken'],
    test: (v) => (/^[-_A-Za-z0-9]{1,128}$/.test(v) ? undefined : `"${v.slice(0, 40)}" may only hold A-Z a-z 0-9 - _ (at most 128)`),
  },
  { rule: 'org-id-format', fields: ['orgId'], test: (v) => (/^[0-9]{1,10}$/.test(v) ? undefined : `"${v}" is not a whole number`) },
];

interface RowCheck {
  rule: RuleId;
  /** Only runs when none of these fields had an error. */
  fields: readonly Field[];
  test: (d: Device, ctx: CheckContext) => { field: Field; message: string } | undefined;
}

export const ROW_CHECKS: readonly RowCheck[] = [
  {
    rule: 'deveui-equals-joineui', fields: ['devEui', 'joinEui'],
    test: (d) => (d.devEui && d.devEui === d.joinEui ? { field: 'joinEui', message: `equals the Device EUI (${d.devEui}); probably a copy/paste slip` } : undefined),
  },
  {
    rule: 'required', fields: ['authToken', 'qrToken'],
    test: (d, ctx) => (ctx.kind === 'tokens' && !d.authToken && !d.qrToken ? { field: d.authToken === '' ? 'authToken' : 'qrToken', message: 'the row has no token' } : undefined),
  },
];

export interface CellFinding extends Finding {
  field: Field;
}

/** Runs every cell and row check on one device. Pure; batch rules live in the validator. */
export function checkDevice(d: Device, ctx: CheckContext): CellFinding[] {
  const out: CellFinding[] = [];
  const failed = new Set<Field>();
  for (const check of FIELD_CHECKS) {
    for (const field of check.fields) {
      if (failed.has(field)) continue;
      const value = d[field];
      if (value === '' && !check.onEmpty) continue;
      const message = check.test(value, field, d, ctx);
      if (message === undefined) continue;
      const severity: Severity = RULES[check.rule].severity;
      out.push({ rule: check.rule, severity, field, message: `${label(field)} ${message}` });
      if (severity === 'error') failed.add(field);
    }
  }
  for (const check of ROW_CHECKS) {
    if (check.fields.some((f) => failed.has(f))) continue;
    const hit = check.test(d, ctx);
    if (hit) out.push({ rule: check.rule, severity: RULES[check.rule].severity, field: hit.field, message: `${label(hit.field)} ${hit.message}` });
  }
  return out;
}

/** The EUI value rules alone, for a scanned code whose hex is already known to be well-formed. */
export function checkEuiValue(field: 'devEui' | 'joinEui', value: string): Finding[] {
  const stub = { [field]: value } as unknown as Device;
  const out: Finding[] = [];
  for (const check of FIELD_CHECKS) {
    if (check.onEmpty || check.rule === 'hex-chars' || !check.fields.includes(field)) continue;
    const message = check.test(value, field, stub, { kind: 'lorawan', qrSerial: false });
    if (message !== undefined) out.push({ rule: check.rule, severity: RULES[check.rule].severity, message: `${field === 'devEui' ? 'DevEUI' : 'JoinEUI'} ${message}` });
  }
  return out;
}
