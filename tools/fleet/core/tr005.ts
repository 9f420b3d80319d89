/**
 * LoRa Alliance TR005 "LoRaWAN Device Identification QR Codes" (reference §1):
 *
 *   LW:D0:<JoinEUI 16 hex>:<DevEUI 16 hex>:<ProfileID 8 hex>[:O<owner>][:S<serial>][:P<prop>]…[:C<crc>]
 *
 * Encoding emits O, S, P in that order and C last, because C is CRC-16/MODBUS over every
 * character before `:C` (§1.4). Parsing follows what the Blynk app documents (§3.5): the
 * body must start with `LW:D0` and hold JoinEUI, DevEUI and ProfileID; other parts are
 * ignored; a checksum, when present, is verified.
 */
import { crc16Modbus, hex4 } from './crc16.ts';
import { TR005_VALUE_PATTERN } from './qr-charset.ts';
import { checkEuiValue, type EuiFinding } from './rules.ts';

export { TR005_VALUE_PATTERN };

export interface Tr005Fields {
  joinEui: string;
  devEui: string;
  /** VendorID (4 hex) + VendorProfileID (4 hex). For Blynk, the value set in its TTS integration. */
  profileId: string;
  ownerToken?: string;
  serial?: string;
  proprietary?: readonly string[];
}

const EUI = /^[0-9A-F]{16}$/;
const PROFILE = /^[0-9A-F]{8}$/;

export class Tr005Error extends Error {}

/** Builds a TR005 body. Throws Tr005Error naming the field that cannot be encoded. */
export function encodeTr005(f: Tr005Fields, opts: { checksum?: boolean } = {}): string {
  const join = f.joinEui.toUpperCase();
  const dev = f.devEui.toUpperCase();
  const profile = f.profileId.toUpperCase();
  if (!EUI.test(join)) throw new Tr005Error(`JoinEUI "${f.joinEui}" is not 16 hex digits`);
  if (!EUI.test(dev)) throw new Tr005Error(`DevEUI "${f.devEui}" is not 16 hex digits`);
  if (!PROFILE.test(profile)) throw new Tr005Error(`ProfileID "${f.profileId}" is not 8 hex digits`);
  let body = `LW:D0:${join}:${dev}:${profile}`;
  const ext = (prefix: string, name: string, value: string | undefined) => {
    if (!value) return;
    if (!TR005_VALUE_PATTERN.test(value)) {
      throw new Tr005Error(`${name} "${value}" has characters a TR005 code cannot carry; allowed are 0-9 A-Z $ * + - . /`);
    }
    body += `:${prefix}${value}`;
  };
  ext('O', 'OwnerToken', f.ownerToken);
  ext('S', 'SerNum', f.serial);
  for (const p of f.proprietary ?? []) ext('P', 'Proprietary', p);
  if (opts.checksum) body += `:C${hex4(crc16Modbus(body))}`;
  return body;
}

export type ScanFormat =
  | 'tr005'
  | 'tr005-draft2'
  | 'tr005-draft3'
  | 'dev-eui'
  | 'vendor-browan'
  | 'blynk-static-token'
  | 'unknown';

export const SCAN_FORMAT_NAMES: Readonly<Record<ScanFormat, string>> = {
  'tr005': 'LoRaWAN TR005 (LW:D0)',
  'tr005-draft2': 'TR005 draft 2 (URN:LW:DP:), deprecated',
  'tr005-draft3': 'TR005 draft 3 (URN:DEV:LW:), deprecated',
  'dev-eui': 'bare DevEUI',
  'vendor-browan': 'Browan/Gemtek vendor code (URN:LWDP:)',
  'blynk-static-token': 'Blynk static token (<token>+<orgId>)',
  'unknown': 'unknown',
};

export interface ScanIssue {
  severity: 'error' | 'warning';
  code: string;
  message: string;
}

export interface Tr005Checksum {
  value: string;
  expected: string;
  valid: boolean;
  /** False when other fields follow C, which TR005 checksums do not allow for. */
  last: boolean;
}

export interface Tr005Parsed {
  joinEui: string;
  devEui: string;
  profileId: string;
  vendorId: string;
  vendorProfileId: string;
  ownerToken?: string;
  serial?: string;
  proprietary: string[];
  checksum?: Tr005Checksum;
  /** Parts with an unknown prefix; accepted and ignored, as TTS and Blynk do. */
  ignored: string[];
}

export interface ScanResult {
  accepted: boolean;
  format: ScanFormat;
  formatName: string;
  /** The input after trimming surrounding whitespace. */
  text: string;
  tr005?: Tr005Parsed;
  blynk?: { token: string; orgId?: string };
  /** For an accepted TR005 code, the body as this tool would print it; for drafts, the LW:D0 equivalent. */
  canonical?: string;
  issues: ScanIssue[];
}

export interface ScanOptions {
  /** 'verify' (default) rejects a wrong or malformed C; 'warn' accepts it like TTS does. */
  checksum?: 'verify' | 'warn';
}

function result(format: ScanFormat, text: string, issues: ScanIssue[], extra: Partial<ScanResult> = {}): ScanResult {
  return {
    accepted: !issues.some((i) => i.severity === 'error'),
    format,
    formatName: SCAN_FORMAT_NAMES[format],
    text,
    issues,
    ...extra,
  };
}

const HEX16 = /^[0-9A-Fa-f]{16}$/;
const HEX8 = /^[0-9A-Fa-f]{8}$/;

function draftSuggestion(join: string | undefined, dev: string | undefined, prof: string | undefined): string | undefined {
  if (join && dev && prof && HEX16.test(join) && HEX16.test(dev) && HEX8.test(prof)) {
    return `LW:D0:${join.toUpperCase()}:${dev.toUpperCase()}:${prof.toUpperCase()}`;
  }
  return undefined;
}

/** A TR005 draft code (`draft` 2 or 3, written with `prefix`): refused, naming the LW:D0 code its fields make. */
function draftResult(draft: 2 | 3, prefix: string, text: string, join?: string, dev?: string, prof?: string): ScanResult {
  const canonical = draftSuggestion(join, dev, prof);
  return result(draft === 2 ? 'tr005-draft2' : 'tr005-draft3', text, [{
    severity: 'error', code: 'draft-format',
    message: `this is a TR005 draft ${draft} code (${prefix}); the app only takes the final LW:D0 format${canonical ? `, which would be ${canonical}` : ''}`,
  }], { canonical });
}

/** Checks a scanned code the way the Blynk app does, and names formats it does not take. */
export function parseScannedCode(input: string, opts: ScanOptions = {}): ScanResult {
  const text = input.trim();
  const checksumMode = opts.checksum ?? 'verify';
  if (text.length === 0) return result('unknown', text, [{ severity: 'error', code: 'empty', message: 'the code is empty' }]);
  if (text.length > 1024) {
    return result('unknown', text, [{ severity: 'error', code: 'too-long', message: `the code is ${text.length} characters; TTS accepts at most 1024` }]);
  }
  const upper = text.toUpperCase();

  if (upper.startsWith('URN:LW:DP:')) {
    const p = text.split(':');
    return draftResult(2, 'URN:LW:DP:', text, p[3], p[4], p[5]);
  }
  if (upper.startsWith('URN:DEV:LW:')) {
    const p = text.slice('URN:DEV:LW:'.length).split('_');
    return draftResult(3, 'URN:DEV:LW:', text, p[0], p[1], p[2]);
  }
  if (upper.startsWith('URN:LWDP:')) {
    return result('vendor-browan', text, [{ severity: 'error', code: 'vendor-format', message: 'this is a Browan/Gemtek vendor code (URN:LWDP:), not TR005; the app only takes LW:D0 codes' }]);
  }
  if (HEX16.test(text.replace(/[\s:-]/g, ''))) {
    return result('dev-eui', text, [{
      severity: 'error', code: 'bare-dev-eui',
      message: 'this code holds only a DevEUI; the app needs a TR005 code LW:D0:<JoinEUI>:<DevEUI>:<ProfileID>',
    }]);
  }
  // Blynk's own claim QR (§3.2): `<token>+<orgId>`, or a bare `sqr_…` token.
  const blynk = /^([-_A-Za-z0-9]+)\+([0-9]{1,10})$/.exec(text);
  if (blynk) return result('blynk-static-token', text, [], { blynk: { token: blynk[1], orgId: blynk[2] } });
  if (/^sqr_[A-Za-z0-9]+$/.test(text)) return result('blynk-static-token', text, [], { blynk: { token: text } });
  if (!text.startsWith('LW:D0:')) {
    const msg = upper.startsWith('LW:D0:')
      ? 'the prefix must be uppercase "LW:D0:"'
      : text.startsWith('LW:')
        ? `unknown TR005 schema "${text.split(':')[1] ?? ''}"; only D0 is defined`
        : 'a LoRaWAN code must start with "LW:D0:"';
    return result('unknown', text, [{ severity: 'error', code: 'not-tr005', message: msg }]);
  }
  return parseTr005Body(text, checksumMode);
}

function parseTr005Body(text: string, checksumMode: 'verify' | 'warn'): ScanResult {
  const issues: ScanIssue[] = [];
  const parts = text.split(':');
  if (parts.length < 5) {
    issues.push({ severity: 'error', code: 'parts', message: `the code has ${parts.length} ":"-separated parts; LW:D0 needs at least 5 (LW, D0, JoinEUI, DevEUI, ProfileID)` });
    return result('tr005', text, issues);
  }
  const [, , joinRaw, devRaw, profileRaw] = parts;
  const field = (name: string, raw: string, digits: number): string | undefined => {
    if (raw.length === 0) {
      issues.push({ severity: 'error', code: 'missing-field', message: `${name} is empty` });
      return undefined;
    }
    if (!new RegExp(`^[0-9A-Fa-f]{${digits}}$`).test(raw)) {
      const what = /[^0-9A-Fa-f]/.test(raw) ? 'has non-hex characters' : `is ${raw.length} hex digits`;
      issues.push({ severity: 'error', code: 'field-format', message: `${name} "${raw}" ${what}; it must be ${digits} hex digits (${digits / 2} bytes)` });
      return undefined;
    }
    if (/[a-f]/.test(raw)) issues.push({ severity: 'warning', code: 'lowercase-hex', message: `${name} is lowercase; accepted, but printers should use uppercase` });
    return raw.toUpperCase();
  };
  const joinEui = field('JoinEUI', joinRaw, 16);
  const devEui = field('DevEUI', devRaw, 16);
  const profileId = field('ProfileID', profileRaw, 8);

  const parsed: Tr005Parsed = {
    joinEui: joinEui ?? '', devEui: devEui ?? '', profileId: profileId ?? '',
    vendorId: profileId ? profileId.slice(0, 4) : '', vendorProfileId: profileId ? profileId.slice(4) : '',
    proprietary: [], ignored: [],
  };
  let lastC = -1;
  for (let i = 5; i < parts.length; i++) {
    const part = parts[i];
    if (part.length <= 1) continue; // ":O" with no value: skipped, as TTS does (§2.2)
    const value = part.slice(1);
    switch (part[0]) {
      case 'O':
        if (parsed.ownerToken !== undefined) issues.push({ severity: 'warning', code: 'repeated-field', message: 'OwnerToken appears more than once; the last one counts' });
        parsed.ownerToken = value;
        break;
      case 'S':
        if (parsed.serial !== undefined) issues.push({ severity: 'warning', code: 'repeated-field', message: 'SerNum appears more than once; the last one counts' });
        parsed.serial = value;
        break;
      case 'P':
        parsed.proprietary.push(value);
        break;
      case 'C':
        lastC = i;
        break;
      default:
        parsed.ignored.push(part);
    }
  }
  if (lastC >= 0) {
    const value = parts[lastC].slice(1);
    const expected = hex4(crc16Modbus(parts.slice(0, lastC).join(':')));
    const last = parts.slice(lastC + 1).every((p) => p.length === 0);
    parsed.checksum = { value, expected, valid: value.toUpperCase() === expected, last };
    const severity = checksumMode === 'verify' ? 'error' : 'warning';
    if (!/^[0-9A-Fa-f]{4}$/.test(value)) {
      issues.push({ severity, code: 'checksum-format', message: `CheckSum "${value}" is not 4 hex digits; the CRC-16/MODBUS of the text before it is ${expected}` });
    } else if (!parsed.checksum.valid) {
      issues.push({ severity, code: 'checksum-mismatch', message: `CheckSum is ${value.toUpperCase()} but the CRC-16/MODBUS of the text before it is ${expected}; the code was mistyped or damaged` });
    }
    if (!last) issues.push({ severity: 'warning', code: 'checksum-not-last', message: 'fields follow the CheckSum; C covers only what comes before it, so it belongs at the end' });
  }
  if (parsed.ignored.length) {
    issues.push({ severity: 'warning', code: 'ignored-parts', message: `parts with unknown prefixes are ignored: ${parsed.ignored.join(', ')}` });
  }
  const euiFindings: EuiFinding[] = [];
  if (devEui) euiFindings.push(...checkEuiValue('devEui', devEui));
  if (joinEui) euiFindings.push(...checkEuiValue('joinEui', joinEui));
  for (const f of euiFindings) if (f.severity !== 'info') issues.push({ severity: f.severity, code: f.rule, message: f.message });

  const accepted = !issues.some((i) => i.severity === 'error');
  let canonical: string | undefined;
  if (accepted) {
    try {
      canonical = encodeTr005(
        { joinEui: parsed.joinEui, devEui: parsed.devEui, profileId: parsed.profileId, ownerToken: parsed.ownerToken, serial: parsed.serial, proprietary: parsed.proprietary },
        { checksum: !!parsed.checksum?.valid },
      );
    } catch (e) {
      issues.push({ severity: 'warning', code: 'extension-charset', message: `${(e as Error).message}; the app ignores these parts, but reprint with uppercase values` });
    }
  }
  return result('tr005', text, issues, { tr005: parsed, canonical });
}
