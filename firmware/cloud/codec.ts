// Blynk device protocol frames (reference blynk-edgent.md §8, blynk-library src/Blynk/BlynkProtocolDefs.h).
// Pure: no sockets, no timers, no Espruino globals. Strings are byte strings (one char per byte),
// as Espruino's sockets deliver them on ESP32/ESP8266 and as Node's "latin1" encoding maps them.

/** Command codes (§8 "Command codes"). */
export const enum Cmd {
  RESPONSE = 0,
  LOGIN = 2,
  PING = 6,
  BRIDGE = 15,
  HARDWARE_SYNC = 16,
  INTERNAL = 17,
  PROPERTY = 19,
  HARDWARE = 20,
  GROUP = 21,
  HW_LOGIN = 29,
  REDIRECT = 41,
  DEBUG_PRINT = 55,
  EVENT_LOG = 64,
  EVENT_CLEAR = 65,
}

/** Status codes carried in the length field of RESPONSE frames (§8 "Status codes"). */
export const enum Status {
  SUCCESS = 200,
  QUOTA_LIMIT = 1,
  ILLEGAL_COMMAND = 2,
  NOT_REGISTERED = 3,
  ALREADY_REGISTERED = 4,
  NOT_AUTHENTICATED = 5,
  NOT_ALLOWED = 6,
  INVALID_TOKEN = 9,
}

/** BLYNK_MAX_READBYTES on ESP (the `buff-in` the device announces): longer bodies are refused. */
export const MAX_BODY = 1024;

/**
 * One received frame. RESPONSE frames have no body: `len` is their status code.
 * `big` marks a frame whose body was longer than the parser's limit; its body was skipped, not kept.
 */
export interface Frame {
  cmd: number;
  id: number;
  len: number;
  body: string;
  big?: boolean;
}

/**
 * Resumable parser state. `buf` holds at most one incomplete frame (< 5 + max bytes); `skip` counts
 * body bytes of an oversized frame still to be thrown away as they arrive.
 */
export interface Parser {
  buf: string;
  skip: number;
  max: number;
}

export function newParser(max?: number): Parser {
  return { buf: "", skip: 0, max: max || MAX_BODY };
}

/**
 * Feeds bytes split anywhere; returns the frames they complete, in order, and keeps the rest.
 * Frames with id 0 are returned as they are: rejecting them is the connection's decision (§8 "Message ids").
 */
export function parse(p: Parser, data: string): Frame[] {
  var out: Frame[] = [];
  if (p.skip) {
    var n = p.skip < data.length ? p.skip : data.length;
    p.skip -= n;
    data = data.substr(n);
  }
  var b = p.buf + data;
  var pos = 0;
  while (b.length - pos >= 5) {
    var cmd = b.charCodeAt(pos);
    var id = (b.charCodeAt(pos + 1) << 8) | b.charCodeAt(pos + 2);
    var len = (b.charCodeAt(pos + 3) << 8) | b.charCodeAt(pos + 4);
    if (cmd === Cmd.RESPONSE) {
      out.push({ cmd: cmd, id: id, len: len, body: "" });
      pos += 5;
    } else if (len > p.max) {
      out.push({ cmd: cmd, id: id, len: len, body: "", big: true });
      pos += 5;
      var have = b.length - pos;
      if (have >= len) pos += len;
      else {
        p.skip = len - have;
        pos = b.length;
      }
    } else if (b.length - pos - 5 >= len) {
      out.push({ cmd: cmd, id: id, len: len, body: b.substr(pos + 5, len) });
      pos += 5 + len;
    } else break;
  }
  p.buf = pos ? b.substr(pos) : b;
  return out;
}

function u16(n: number): string {
  return String.fromCharCode((n >> 8) & 255, n & 255);
}

/** Header + body: `u8 cmd | u16 id | u16 length`, big-endian (§8 "Frame format"). */
export function encode(cmd: number, id: number, body: string): string {
  return String.fromCharCode(cmd) + u16(id) + u16(body.length) + body;
}

/** RESPONSE: no body, the status travels in the length field (`00 00 01 00 C8` = "msg 1 → 200"). */
export function encodeResponse(id: number, status: number): string {
  return "\0" + u16(id) + u16(status);
}

/**
 * Joins values into a body: `\0` between elements, none after the last (§8). Numbers print as JS
 * does, booleans as 1/0, and an array value contributes its elements. `from` skips leading entries,
 * so a function can pass its own `arguments`.
 */
export function join(values: ArrayLike<any>, from: number): string {
  var s = "";
  var sep = "";
  for (var i = from; i < values.length; i++) {
    var v = values[i];
    if (v && typeof v === "object" && typeof v.length === "number") {
      if (!v.length) continue;
      v = join(v, 0);
    } else v = v === true ? "1" : v === false ? "0" : String(v);
    s += sep + v;
    sep = "\0";
  }
  return s;
}
