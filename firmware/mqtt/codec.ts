// MQTT 3.1.1 packets for the device (OASIS MQTT Version 3.1.1, 29 October 2014; "§" below are its
// sections). Pure, like ../cloud/codec: no sockets, no timers, no Espruino globals. Strings are byte
// strings (one char per byte), as Espruino's sockets deliver them on ESP32/ESP8266 and as Node's
// "latin1" encoding maps them; topics and payloads pass through as the bytes they are (UTF-8 stays
// UTF-8). Only what a client needs: the encoders of the packets a client sends, and a parser of the
// packets a server sends.

/** Control packet types, the high nibble of the first byte (§2.2.1). */
export const enum Type {
  CONNECT = 1,
  CONNACK = 2,
  PUBLISH = 3,
  PUBACK = 4,
  PUBREC = 5,
  PUBREL = 6,
  PUBCOMP = 7,
  SUBSCRIBE = 8,
  SUBACK = 9,
  UNSUBSCRIBE = 10,
  UNSUBACK = 11,
  PINGREQ = 12,
  PINGRESP = 13,
  DISCONNECT = 14,
}

/** CONNACK return codes (§3.2.2.3). */
export const enum Connack {
  ACCEPTED = 0,
  BAD_PROTOCOL = 1,
  ID_REJECTED = 2,
  UNAVAILABLE = 3,
  BAD_CREDENTIALS = 4, // bad user name or password
  NOT_AUTHORIZED = 5,
}

/**
 * Blynk's limit for one message, variable header and payload included (its MQTT API,
 * "Limitations"), announced as `rxbuff`: the parser refuses packets whose remaining length is larger.
 */
export const enum Size {
  MAX_PACKET = 1024,
}

/** PINGREQ (§3.12): no variable header, no payload. */
export const PINGREQ = "\xC0\x00";
/** DISCONNECT (§3.14): the broker then discards the will (§3.1.2.5). */
export const DISCONNECT = "\xE0\x00";

/**
 * One packet from the server. Fields a type does not have are absent.
 * `big`: the remaining length was over the parser's limit; the packet was skipped, not kept
 * (`len` says how long it was). `bad`: malformed input (what was wrong); the parser stops there.
 */
export interface Packet {
  type: number;
  /** Remaining length (§2.2.3). */
  len: number;
  /** Packet identifier (§2.3.1): PUBLISH with QoS > 0, PUBACK, SUBACK, UNSUBACK, PUBREC/PUBREL/PUBCOMP. */
  id?: number;
  /** CONNACK: the return code (§3.2.2.3); SUBACK: the first return code (§3.9.3). */
  code?: number;
  /** CONNACK: session present (§3.2.2.2). */
  sp?: boolean;
  /** PUBLISH: topic name (§3.3.2.1). */
  topic?: string;
  /** PUBLISH: the application message (§3.3.3); SUBACK: all return codes, one byte each. */
  body?: string;
  /** PUBLISH fixed-header flags (§3.3.1). */
  qos?: number;
  retain?: boolean;
  dup?: boolean;
  big?: boolean;
  bad?: string;
}

/**
 * Resumable parser state. `buf` holds at most one incomplete packet (fixed header + at most `max`
 * bytes); `skip` counts bytes of a refused packet still to be thrown away as they arrive; -1 once
 * malformed input was seen (nothing more is parsed).
 */
export interface Parser {
  buf: string;
  skip: number;
  max: number;
}

export function newParser(max?: number): Parser {
  return { buf: "", skip: 0, max: max || Size.MAX_PACKET };
}

/** Fixed header flags each type must carry (§2.2.2); PUBLISH's are its own (checked apart). */
var FLAGS = "\x00\x00\x00\x00\x00\x00\x02\x00\x02\x00\x02\x00\x00\x00\x00";

/**
 * Feeds bytes split anywhere; returns the packets they complete, in order, and keeps the rest.
 * Checks what §2-§3 require of a server's packets: known type and fixed flags (§2.2.1, §2.2.2), a
 * remaining length of at most 4 bytes (§2.2.3), the remaining length each type has (§3.2.1, §3.4.1,
 * §3.11.1, §3.13.1), PUBLISH QoS 0-2 (§3.3.1.2) with a non-zero packet identifier when QoS > 0
 * (§2.3.1), a topic inside the packet, CONNACK reserved bits 0 (§3.2.2.1) and SUBACK return codes
 * 0, 1, 2 or 0x80 (§3.9.3). Types a server never sends (CONNECT, SUBSCRIBE, ...) come back with
 * `type` and `len` only: refusing them is the connection's decision, as is anything about QoS 2.
 */
export function parse(p: Parser, data: string): Packet[] {
  var out: Packet[] = [];
  if (p.skip < 0) return out;
  if (p.skip) {
    var n = p.skip < data.length ? p.skip : data.length;
    p.skip -= n;
    data = data.substr(n);
  }
  var b = p.buf + data;
  var pos = 0;
  while (b.length - pos >= 2) {
    var c = b.charCodeAt(pos);
    var type = c >> 4;
    var flags = c & 15;
    // remaining length: 7 bits a byte, least significant first, at most 4 bytes (§2.2.3)
    var len = 0;
    var i = 1;
    var d: number;
    do {
      d = b.charCodeAt(pos + i);
      len += (d & 127) << (7 * (i - 1));
      i++;
    } while (d & 128 && i <= 4 && pos + i < b.length);
    if (d & 128 && i <= 4) break; // the length goes on in bytes not here yet
    var at = pos + i; // first byte after the fixed header
    var f: Packet = { type: type, len: len };
    var why =
      d & 128 ? "remaining length longer than 4 bytes"
      : !type || type === 15 ? "reserved packet type " + type
      : type !== Type.PUBLISH && flags !== FLAGS.charCodeAt(type) ? "wrong fixed header flags " + flags
      : "";
    if (!why && len > p.max) {
      f.big = true;
      out.push(f);
      if (b.length - at >= len) pos = at + len;
      else {
        p.skip = len - (b.length - at);
        pos = b.length;
      }
      continue;
    }
    if (!why) {
      if (b.length - at < len) break;
      pos = at + len;
      if (type === Type.PUBLISH) {
        var q = (flags >> 1) & 3;
        var tl = (b.charCodeAt(at) << 8) | b.charCodeAt(at + 1);
        var h = 2 + tl + (q ? 2 : 0); // variable header: topic, then the packet identifier
        if (q > 2) why = "PUBLISH with QoS 3";
        else if (len < h) why = "PUBLISH topic longer than the packet";
        else {
          f.topic = b.substr(at + 2, tl);
          f.qos = q;
          f.retain = (flags & 1) === 1;
          f.dup = (flags & 8) === 8;
          if (q) {
            f.id = (b.charCodeAt(at + h - 2) << 8) | b.charCodeAt(at + h - 1);
            if (!f.id) why = "PUBLISH with QoS " + q + " and packet identifier 0";
          }
          f.body = b.substr(at + h, len - h);
        }
      } else if (type === Type.CONNACK) {
        if (len !== 2) why = "CONNACK remaining length " + len;
        else if (b.charCodeAt(at) & 254) why = "CONNACK reserved bits set";
        else {
          f.sp = b.charCodeAt(at) === 1;
          f.code = b.charCodeAt(at + 1);
        }
      } else if (type === Type.SUBACK) {
        if (len < 3) why = "SUBACK without a return code";
        else {
          f.id = (b.charCodeAt(at) << 8) | b.charCodeAt(at + 1);
          f.body = b.substr(at + 2, len - 2);
          f.code = f.body.charCodeAt(0);
          for (var k = 0; k < f.body.length; k++) if (f.body.charCodeAt(k) > 2 && f.body.charCodeAt(k) !== 128) why = "SUBACK return code " + f.body.charCodeAt(k);
        }
      } else if (type === Type.PINGRESP) {
        if (len) why = "PINGRESP remaining length " + len;
      } else if (type === Type.PUBACK || type === Type.UNSUBACK || (type >= Type.PUBREC && type <= Type.PUBCOMP)) {
        if (len !== 2) why = "remaining length " + len + " for packet type " + type;
        else f.id = (b.charCodeAt(at) << 8) | b.charCodeAt(at + 1);
      }
    }
    if (why) {
      // malformed: this packet says why, and the parser takes nothing more (§4.8: close the connection)
      p.buf = "";
      p.skip = -1;
      out.push({ type: type, len: len, bad: why });
      return out;
    }
    out.push(f);
  }
  p.buf = pos ? b.substr(pos) : b;
  return out;
}

/** Two-byte big-endian integer (§1.5.2). */
function u16(n: number): string {
  return String.fromCharCode((n >> 8) & 255, n & 255);
}

/** Length-prefixed string (§1.5.3): two length bytes, then the bytes. */
function str(s: string): string {
  return u16(s.length) + s;
}

/** First byte, remaining length (§2.2.3: 7 bits a byte, least significant first, bit 7 = more follows), body. */
export function packet(first: number, body: string): string {
  var n = body.length;
  var h = String.fromCharCode(first);
  do {
    h += String.fromCharCode((n & 127) | (n > 127 ? 128 : 0));
    n = n >> 7;
  } while (n > 0);
  return h + body;
}

export interface ConnectOptions {
  /** Client identifier (§3.1.3.1); "" asks the server to assign one (needs `clean`). */
  id: string;
  /** Keep alive in seconds (§3.1.2.10); 0 turns it off. */
  keepalive: number;
  /** Clean session (§3.1.2.4); default true. */
  clean?: boolean;
  /** §3.1.3.4; sent when either it or `pass` is non-empty (3.1.1 has no password without a user name, §3.1.2.9). */
  user?: string;
  /** §3.1.3.5; sent when non-empty. */
  pass?: string;
  /** Will (§3.1.2.5-§3.1.2.7): published by the broker when the connection ends without DISCONNECT. */
  will?: { topic: string; msg: string; qos?: number; retain?: boolean };
}

/** CONNECT (§3.1): protocol name "MQTT", level 4 (§3.1.2.1, §3.1.2.2), connect flags, keep alive, payload. */
export function encodeConnect(o: ConnectOptions): string {
  var w = o.will;
  var flags = (o.clean === false ? 0 : 2) | (w ? 4 | ((w.qos || 0) << 3) | (w.retain ? 32 : 0) : 0) | (o.user || o.pass ? 128 : 0) | (o.pass ? 64 : 0);
  return packet(
    0x10,
    "\x00\x04MQTT\x04" + String.fromCharCode(flags) + u16(o.keepalive) + str(o.id) +
      (w ? str(w.topic) + str(w.msg) : "") + (o.user || o.pass ? str(o.user || "") : "") + (o.pass ? str(o.pass) : "")
  );
}

/** SUBSCRIBE (§3.8) of one topic filter at the given maximum QoS; fixed header flags 0010 (§3.8.1). */
export function encodeSubscribe(id: number, filter: string, qos: number): string {
  return packet(0x82, u16(id) + str(filter) + String.fromCharCode(qos));
}

/** UNSUBSCRIBE (§3.10) of one topic filter; fixed header flags 0010 (§3.10.1). */
export function encodeUnsubscribe(id: number, filter: string): string {
  return packet(0xa2, u16(id) + str(filter));
}

/**
 * PUBLISH (§3.3): flags DUP (§3.3.1.1), QoS (§3.3.1.2), RETAIN (§3.3.1.3); topic name; packet
 * identifier only when QoS > 0 (§3.3.2.2); the payload as the rest (§3.3.3).
 */
export function encodePublish(topic: string, payload: string, qos: number, retain: boolean, id?: number, dup?: boolean): string {
  return packet(0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0), str(topic) + (qos ? u16(id || 0) : "") + payload);
}

/** PUBACK (§3.4): the answer to a QoS 1 PUBLISH, with its packet identifier. */
export function encodePuback(id: number): string {
  return packet(0x40, u16(id));
}

/** Remaining length of a PUBLISH (§3.3.2, §3.3.3), to check it against a limit before encoding. */
export function publishLength(topic: string, payload: string, qos: number): number {
  return 2 + topic.length + (qos ? 2 : 0) + payload.length;
}
