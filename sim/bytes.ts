/**
 * Byte strings and Espruino-shaped errors.
 *
 * ESP32/ESP8266 builds of Espruino have no unicode support: a string is a sequence of bytes.
 * Everything entering the device is a latin1 "binary string"; everything leaving it must only
 * contain chars 0..255, otherwise the firmware has a bug (the chip would mangle the char).
 */

/** Byte string -> bytes; throws when a char is above 0xFF (names `what` in the message). */
export function toBytes(s: string, what: string): Buffer {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) {
      throw jsException('Error', `${what}: char U+${c.toString(16).toUpperCase().padStart(4, '0')} at index ${i} is not a byte (ESP builds have no unicode; write UTF-8 as \\xNN escapes)`);
    }
  }
  return Buffer.from(s, 'latin1');
}

export function fromBytes(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

export function isByteString(s: string): boolean {
  return !/[^\x00-\xff]/.test(s);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Standard zlib CRC-32 (as E.CRC32), unsigned. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export type JsErrorType = 'Error' | 'TypeError' | 'InternalError' | 'SyntaxError' | 'ReferenceError';

/**
 * An exception as Espruino's jsExceptionHere raises it. It is created in the Node realm on
 * purpose: on Espruino built-in errors are not `instanceof Error` either; String(e) gives
 * "Type: message" like on the chip.
 */
export function jsException(type: JsErrorType, message: string): Error {
  const e = new Error(message);
  e.name = type;
  return e;
}

/**
 * Thrown into firmware code when the machine died underneath it (power cut, E.reboot()):
 * no native call succeeds any more; the current JS callback unwinds and nothing else runs.
 */
export class HaltSignal extends Error {
  constructor(why: string) {
    super(`device halted: ${why}`);
    this.name = 'HaltSignal';
  }
}

/** Espruino socket error codes (libs/network/socketerrors.h) and their messages. */
export const SOCKET_ERR = {
  CLOSED: -1,
  MEM: -2,
  TIMEOUT: -3,
  NO_ROUTE: -4,
  BUSY: -5,
  NOT_FOUND: -6,
  MAX_SOCK: -7,
  UNSENT_DATA: -8,
  RESET: -9,
  UNKNOWN: -10,
  NO_CONN: -11,
  BAD_ARG: -12,
  SSL_HAND: -13,
  SSL_INVALID: -14,
  NO_RESP: -15,
} as const;

const SOCKET_ERR_TEXT = [
  'connection closed', 'out of memory', 'timeout', 'no route', 'busy', 'not found', 'max sockets',
  'unsent data', 'connection reset', 'unknown error', 'no connection', 'bad argument',
  'SSL handshake failed', 'invalid SSL data', 'no response',
];

export function socketErrorString(code: number): string {
  return SOCKET_ERR_TEXT[-code - 1] ?? 'unknown error';
}

/** Describe a value the way Espruino's %t does in error messages. */
export function typeName(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'function') return 'Function';
  if (Array.isArray(v)) return 'Array';
  if (typeof v === 'string') return 'String';
  if (typeof v === 'number') return Number.isInteger(v) ? 'Integer' : 'Float';
  if (typeof v === 'boolean') return 'Boolean';
  return 'Object';
}
