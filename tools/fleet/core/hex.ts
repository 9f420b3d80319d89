/**
 * Hex identifiers as makers paste them: `0x0018B2...`, `00-18-B2-...`, `00:18:b2:...`,
 * `0018 B200 ...`. Normalisation (reference §5.1 "normalize"): trim, drop one leading
 * `0x`, drop spaces, `:`, `-` and `_`, uppercase. Everything else is left in place so
 * the validator can name the offending character instead of silently eating it.
 */
export function normaliseHex(raw: string): string {
  let s = raw.trim();
  if (s.length > 1 && s[0] === '0' && (s[1] === 'x' || s[1] === 'X')) s = s.slice(2);
  return s.replace(/[\s:\-_]/g, '').toUpperCase();
}

const NON_HEX = /[^0-9A-F]/;

/** Index of the first character that is not an uppercase hex digit, or -1. */
export function firstNonHex(normalised: string): number {
  const m = NON_HEX.exec(normalised);
  return m ? m.index : -1;
}

export function isAll(hex: string, digit: string): boolean {
  if (hex.length === 0) return false;
  for (let i = 0; i < hex.length; i++) if (hex[i] !== digit) return false;
  return true;
}

/** Reverses byte order: `0018B20000000101` -> `01010000B2180000`. */
export function reverseBytes(hex: string): string {
  let out = '';
  for (let i = hex.length - 2; i >= 0; i -= 2) out += hex.slice(i, i + 2);
  return out;
}

/** IEEE EUI-64 I/G bit: bit 0 of the first octet set means a group (multicast) address. */
export function isGroupAddress(eui: string): boolean {
  return (parseInt(eui.slice(0, 2), 16) & 0x01) !== 0;
}

/** IEEE U/L bit: bit 1 of the first octet set means locally administered, not IEEE-assigned. */
export function isLocallyAdministered(eui: string): boolean {
  return (parseInt(eui.slice(0, 2), 16) & 0x02) !== 0;
}

/**
 * OUI prefixes seen on LoRaWAN devices (reference §5.2, "Byte order"). Used only for the
 * byte-swap heuristic, so the list does not need to be complete.
 */
export const KNOWN_OUIS: ReadonlyArray<readonly [prefix: string, owner: string]> = [
  ['70B3D5', 'IEEE MA-S block (TTN and others)'],
  ['A84041', 'Dragino'],
  ['24E124', 'Milesight'],
  ['AC1F09', 'RAKwireless'],
  ['2CF7F1', 'Seeed'],
  ['0004A3', 'Microchip'],
  ['0016C0', 'Semtech'],
  ['E8E1E1', 'Browan'],
  ['58A0CB', 'Browan'],
];

export function knownOui(eui: string): string | undefined {
  for (const [prefix, owner] of KNOWN_OUIS) if (eui.startsWith(prefix)) return owner;
  return undefined;
}

/**
 * A key is "weak" when all bytes are equal or the bytes count up or down by one
 * (`000102...0F`), the patterns people type by hand for test devices.
 */
export function weakKeyPattern(hex: string): 'repeated byte' | 'sequential bytes' | undefined {
  if (hex.length < 4 || hex.length % 2) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < hex.length; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
  if (bytes.every((b) => b === bytes[0])) return 'repeated byte';
  const up = bytes.every((b, i) => i === 0 || b === ((bytes[i - 1] + 1) & 0xff));
  const down = bytes.every((b, i) => i === 0 || b === ((bytes[i - 1] - 1) & 0xff));
  return up || down ? 'sequential bytes' : undefined;
}
