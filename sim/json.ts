/**
 * The two non-standard JSON dialects Espruino's Storage uses:
 * - Storage.readJSON parses with the "liberal" parser (JS lexer: unquoted keys, '...' strings,
 *   \xNN escapes, hex numbers), src/jswrap_json.c jswrap_json_parse_liberal;
 * - Storage.writeJSON writes compact JS-ish JSON (unquoted alphanumeric keys, \xNN escapes),
 *   src/jswrap_storage.c jswrap_storage_writeJSON.
 */
import { jsException } from './bytes.ts';

export interface Realm {
  obj(): any;
  arr(): any;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Parse text with Espruino's liberal JSON parser, building values in `realm`. Throws SyntaxError. */
export function parseLiberal(text: string, realm: Realm): unknown {
  let i = 0;
  const fail = (expected: string): never => {
    const got = i >= text.length ? 'EOF' : JSON.stringify(text[i]);
    throw jsException('SyntaxError', `Got ${got} expected ${expected}`);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const ident = (): string => {
    const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(text.slice(i, i + 256));
    if (!m) return '';
    i += m[0].length;
    return m[0];
  };
  const str = (): string => {
    const q = text[i++];
    let out = '';
    for (;;) {
      if (i >= text.length) fail('string end');
      const c = text[i++];
      if (c === q) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = text[i++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '0': out += '\0'; break;
        case 'x': {
          const h = text.slice(i, i + 2);
          if (!/^[0-9a-fA-F]{2}$/.test(h)) fail('hex escape');
          out += String.fromCharCode(parseInt(h, 16));
          i += 2;
          break;
        }
        case 'u': {
          const h = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('unicode escape');
          // no unicode on ESP builds: the code point is truncated to a byte
          out += String.fromCharCode(parseInt(h, 16) & 0xff);
          i += 4;
          break;
        }
        default:
          out += e ?? '';
      }
    }
  };
  const num = (): number => {
    const m = /^-?(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)/.exec(text.slice(i, i + 64));
    if (!m) return fail('number');
    i += m[0].length;
    const negative = m[0].startsWith('-');
    const n = Number(negative ? m[0].slice(1) : m[0]);
    return negative ? -n : n;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o = realm.obj();
      ws();
      if (text[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        ws();
        let key: string;
        if (text[i] === '"' || text[i] === "'") key = str();
        else if (/[0-9-]/.test(text[i] ?? '')) key = String(num());
        else {
          key = ident();
          if (!key) fail('key');
        }
        ws();
        if (text[i++] !== ':') {
          i--;
          fail("':'");
        }
        o[key] = value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return o;
        }
        fail("',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const a = realm.arr();
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return a;
        }
        fail("',' or ']'");
      }
    }
    if (c === '"' || c === "'") return str();
    if (c !== undefined && /[0-9.-]/.test(c)) return num();
    const id = ident();
    switch (id) {
      case 'true': return true;
      case 'false': return false;
      case 'null': return null;
      case 'undefined': return undefined;
      case 'NaN': return NaN;
      case 'Infinity': return Infinity;
    }
    return fail('a value');
  };
  const v = value();
  ws();
  if (i < text.length) fail('EOF');
  return v;
}

function escapeString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c >= 0x7f) out += '\\x' + (c & 0xff).toString(16).toUpperCase().padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/** Storage.writeJSON's output format. */
export function stringifyCompact(v: unknown, seen: unknown[] = []): string | undefined {
  if (v === null) return 'null';
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return escapeString(v);
  if (typeof v === 'object') {
    if (seen.includes(v)) throw jsException('Error', 'Circular reference in writeJSON');
    const o = v as Record<string, unknown> & { toJSON?: () => unknown };
    if (typeof o.toJSON === 'function') return stringifyCompact(o.toJSON(), seen);
    const next = [...seen, v];
    if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      const items = Array.from(v as ArrayLike<unknown>, (x) => stringifyCompact(x, next) ?? 'null');
      return '[' + items.join(',') + ']';
    }
    const parts: string[] = [];
    for (const k of Object.keys(o)) {
      const s = stringifyCompact(o[k], next);
      if (s === undefined) continue;
      parts.push((IDENT.test(k) ? k : escapeString(k)) + ':' + s);
    }
    return '{' + parts.join(',') + '}';
  }
  return undefined;
}
