/**
 * url.parse and decodeURIComponent with Espruino's exact (non-Node) semantics.
 * Ported from espruino/Espruino libs/network/jswrap_net.c (jswrap_url_parse) and
 * src/jswrap_functions.c (jswrap_decodeURIComponent).
 */
import { jsException } from './bytes.ts';
import type { Host } from './host.ts';

/** chtod: '0'-'9', then any letter counts as a digit 10..35 (so '%zz' is accepted). */
function chtod(c: string): number {
  const ch = c.charCodeAt(0);
  if (ch >= 48 && ch <= 57) return ch - 48;
  if (ch >= 97 && ch <= 122) return 10 + ch - 97;
  if (ch >= 65 && ch <= 90) return 10 + ch - 65;
  return -1;
}

function hexToByte(hi: string, lo: string): number {
  const a = chtod(hi || '\0');
  const b = chtod(lo || '\0');
  if (a < 0 || b < 0) return -1;
  return (a << 4) | b;
}

/** url.parse(str, parseQuery): {method, host, path, pathname, search, port, query, protocol?} */
export function urlParse(host: Host, url: unknown, parseQuery: unknown): any {
  if (typeof url !== 'string') return undefined;
  let slashes = 0;
  let colons = 0;
  let addrStart = -1;
  let portStart = -1;
  let pathStart = -1;
  let searchStart = -1;
  let portNumber = 0;
  for (let i = 0; i < url.length; i++) {
    const ch = url[i];
    if (ch === '/') {
      slashes++;
      if (pathStart < 0) pathStart = i;
      if (colons === 1 && slashes === 2 && addrStart < 0) {
        addrStart = i;
        pathStart = -1;
        searchStart = -1;
      }
    }
    if (ch === ':') {
      colons++;
      if (addrStart >= 0 && pathStart < 0) portStart = i;
    }
    if (portStart >= 0 && i > portStart && pathStart < 0 && ch >= '0' && ch <= '9') portNumber = portNumber * 10 + (ch.charCodeAt(0) - 48);
    if (ch === '?' && pathStart >= 0) searchStart = i;
  }
  if (pathStart < 0) pathStart = url.length;
  const addrEnd = portStart >= 0 ? portStart : pathStart;
  const o = host.obj();
  if (addrStart > 0) o.protocol = url.slice(0, addrStart - 1);
  o.method = 'GET';
  o.host = url.slice(addrStart + 1, addrEnd);
  o.path = url.slice(pathStart) || '/';
  o.pathname = url.slice(pathStart, searchStart >= 0 ? searchStart : undefined) || '/';
  o.search = searchStart >= 0 ? url.slice(searchStart) : null;
  o.port = portNumber <= 0 || portNumber > 65535 ? null : portNumber;
  let query: unknown = searchStart >= 0 ? url.slice(searchStart + 1) : null;
  if (parseQuery && query !== null) {
    const q = host.obj();
    const s = query as string;
    let key = '';
    let val = '';
    let hadEquals = false;
    // duplicate keys: the C code adds a second property with the same name; lookups find the first
    const add = () => {
      if (!Object.prototype.hasOwnProperty.call(q, key)) q[key] = val;
    };
    for (let i = 0; i < s.length; i++) {
      let ch = s[i];
      if (ch === '&') {
        if (key !== '' || val !== '') {
          add();
          key = '';
          val = '';
          hadEquals = false;
        }
      } else if (!hadEquals && ch === '=') {
        hadEquals = true;
      } else {
        if (ch === '%') {
          // %XX -> raw byte; invalid hex gives 0xFF ((char)-1), the C code always consumes 2 chars
          const v = hexToByte(s[i + 1], s[i + 2]);
          i += 2;
          ch = String.fromCharCode(v < 0 ? 0xff : v & 0xff);
        }
        if (hadEquals) val += ch;
        else key += ch;
      }
    }
    if (key !== '' || val !== '') add();
    query = q;
  }
  o.query = query;
  return o;
}

/** decodeURIComponent on ESP builds: ASCII in, and %80..%FF throws ("Invalid URI") because of a signed char. */
export function decodeURIComponentEspruino(arg: unknown): string {
  const s = String(arg);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) throw jsException('Error', 'ASCII only');
    if (s[i] !== '%') {
      out += s[i];
      continue;
    }
    const v = hexToByte(s[i + 1], s[i + 2]);
    i += 2;
    const signed = v < 0 ? -1 : (v & 0xff) >= 0x80 ? (v & 0xff) - 256 : v & 0xff;
    if (signed < 0) throw jsException('Error', 'Invalid URI');
    out += String.fromCharCode(signed);
  }
  return out;
}

/**
 * encodeURIComponent on ESP builds: bytes >= 0x80 go through a signed char, so the high
 * nibble digit comes out garbled ((unsigned)ch >> 4 is 0x0FFFFFFx).
 */
export function encodeURIComponentEspruino(arg: unknown): string {
  const s = String(arg);
  const hex = (d: number) => String.fromCharCode((d > 9 ? 65 + d - 10 : 48 + d) & 0xff);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw jsException('Error', `encodeURIComponent: char U+${c.toString(16)} is not a byte`);
    if (/[A-Za-z0-9_\-.!~*'()]/.test(s[i])) {
      out += s[i];
      continue;
    }
    const u = c >= 0x80 ? (c | 0xffffff00) >>> 0 : c;
    out += '%' + hex((u >>> 4) >>> 0) + hex(u & 15);
  }
  return out;
}
