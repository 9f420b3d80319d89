// Blynk device-protocol client, the part after provisioning: login, info message, heartbeat,
// reconnect with back-off, redirect, incoming commands, rate-limited sending (reference
// blynk-edgent.md §8, blynk-library src/Blynk/BlynkProtocol.h). Frames come from ./codec; the socket,
// clock and timers come in through the options, so Node tests run this file unchanged.
//
// One timer at a time: tick() does whatever is due in the current state (attempt, connect timeout,
// login timeout, ping, heartbeat timeout, next queued send), then arms the timer for the state's next
// deadline. Traffic never re-arms it, so a steady session costs two wake-ups per 40 s.
// One teardown path, end(), ends the socket, drops the queue and lets tick() re-arm or clear the timer.
//
// RAM: the session is one closure, so it costs nothing while main runs the portal without a cloud
// connection. Espruino keeps every function object and variable of a live closure, so it has few
// of both; the only closure made per connection tells a live socket's events from those of an ended
// one, and none is made per frame. (Measured: scripts/bench-cloud.ts.)
import { Cmd, Status, Frame, Parser, MAX_BODY, newParser, parse, encode, encodeResponse } from "./codec";
import { parseCommand } from "./console";
import type { Send } from "./api";
import { Ev } from "../kernel";

/** The socket shape of Espruino's net/tls (events data/close/error; error is {code, message}). */
export interface CloudSocket {
  write(data: string): any;
  end(): void;
  on(event: string, fn: (arg?: any) => void): any;
  removeAllListeners(event?: string): any;
}

export interface CloudOptions {
  token: string;
  host: string;
  port: number;
  tls: boolean;
  /**
   * Over TLS: the plain TCP port to fall back to when TLS fails for lack of memory
   * Limit.TLS_MEMORY_FAILS times in a row (stock ESP32 builds leave ~40 KB of heap to mbedTLS; its
   * setup or handshake may never fit). 0 or absent: never (EDGENT_TLS=require).
   */
  plain?: number;
  /** (the session's own) TLS attempts in a row that failed for lack of memory; -1 once on plain TCP */
  s?: number;
  /**
   * What the info message says; without it, the build's own identity (the firmware leaves it out:
   * one object less in RAM). fwType is Blynk's BLYNK_FIRMWARE_TYPE; without it the template id, as
   * in Blynk.Edgent.
   */
  info?: { fwVer: string; fwType?: string; build: string; dev: string; tmpl: string };
  /** One log line without the "[millis] " prefix. */
  log(line: string): void;
  /**
   * What happens, as the core's events (kernel.ts Ev), so the core can pass its step function:
   * Ev.LOGIN (status) for every login reply: 200 or 4 = online; 9 = invalid token (the client then
   * stops retrying). Ev.OFFLINE: an online session ended; the client reconnects by itself unless
   * closed. Ev.COMMAND (line): a console command from the cloud (INTERNAL "dbg"): "config start",
   * "config erase" or "reboot". Ev.LINK (send, up): the user API's side (firmware/cloud/api.ts
   * apiLink, whose handlers live in the core) once online, and again when the session ends.
   * Ev.WRITE (pin, values): a HARDWARE `vw` from the cloud (apiWrite). Ev.WORDS (text): at every
   * failure, the transport and why the attempt failed; at login, "" (or the plain-TCP fallback).
   * Ev.OTA (url): Blynk.Air offers a firmware update (INTERNAL "ota").
   */
  ev(e: Ev, a?: any, b?: any): any;

  /**
   * Espruino's pin functions for Blynk's built-in pin commands (HARDWARE pm, dw, dr, aw, ar); the
   * firmware passes the global object that has them. Without it those commands get ILLEGAL_COMMAND.
   */
  pins?: PinApi;
  /** Pins the firmware drives itself, refused to pin commands: ",2L,0B," (L status LED, B button). */
  own?: string;
  /** Opens a socket and calls onConnect(socket) once connected; may throw when refused. */
  connect?: (host: string, port: number, tls: boolean, onConnect: (s: CloudSocket) => void) => CloudSocket;
  now?: () => number;
  setTimeout?: (fn: () => void, ms: number) => any;
  clearTimeout?: (id: any) => void;
}

/** Espruino's pin functions as its global object has them (pins as numbers, or names such as "A0"). */
export interface PinApi {
  /** Throws "Invalid pin" for a pin the board does not have. */
  getPinMode(pin: number | string): string;
  pinMode(pin: number | string, mode: string): void;
  digitalWrite(pin: number | string, level: number): void;
  digitalRead(pin: number | string): number;
  /** duty 0..1 */
  analogWrite(pin: number | string, duty: number): void;
  /** 0..1 (always below 1), NaN for a pin without an ADC */
  analogRead(pin: number | string): number;
}

export interface Cloud {
  online(): boolean;
  /**
   * INTERNAL `meta\0set\0field\0value` (Edgent sends "Hotspot Name" once after provisioning).
   * `written` runs once the frame went into the socket; not at all when the session ended first.
   */
  setMetadata(field: string, value: string, written?: () => void): boolean;
  /** Ends the socket and every timer; safe twice; no option callback runs after it. */
  close(): void;
}

/** Timing and limits (Blynk: BLYNK_HEARTBEAT 40, BLYNK_TIMEOUT_MS 6000, BLYNK_MSG_LIMIT 15). */
export const enum Limit {
  HEARTBEAT = 40000, // PING after this long without traffic in either direction
  HEARTBEAT_TIMEOUT = 58000, // 40 s + 3 x 6 s without receiving anything: disconnect
  PING_SPACING = 6000, // between PINGs while the server stays silent
  LOGIN_TIMEOUT = 6000, // socket up, no login reply
  CONNECT_TIMEOUT = 30000, // TCP connect + TLS handshake (blynk-library uses 30 s for the handshake)
  RETRY = 5000, // first reconnect delay, doubled after each failed attempt ...
  RETRY_MAX = 60000, // ... up to this
  SEND_SPACING = 66, // 1000 / 15: commands 15-20 are sent at most once per 66 ms
  QUEUE_MAX = 8, // distinct rate-limited frames waiting; more are refused (the call returns false)
  TLS_MEMORY_FAILS = 3, // TLS attempts in a row that failed for lack of memory before plain TCP (CloudOptions.plain)
}

/** The link's words after the fallback of CloudOptions.plain (a const enum: inlined, never held in RAM). */
const enum Words {
  FALLEN_BACK = "plain TCP, not encrypted: TLS failed for lack of memory",
}

/** Value of the info message's `blynk` key: protocol level of library 1.4.0, build tag says who. */
export const BLYNK_VERSION = "1.4.0+espruino";

const enum St {
  WAIT, // no socket; tick() opens one at retryAt
  OPENING, // TCP/TLS connecting
  LOGIN, // HW_LOGIN sent, waiting for RESPONSE id 1
  ONLINE,
  STOPPED, // invalid token: no more attempts until closed
  CLOSED,
}

/** How end() leaves: retry with back-off, retry at once (redirect), stop (invalid token), close. */
const enum End {
  RETRY,
  REDIRECT,
  STOP,
  CLOSE,
}

/** The info message body: the current library's key set (§8 "Info message"); `i` or the build's identity. */
export function infoBody(i?: CloudOptions["info"]): string {
  if (!i) i = { fwVer: __BUILD__.fwVer, build: __BUILD__.build, dev: __BUILD__.dev, tmpl: __BUILD__.tmplId };
  return (
    "mcu\x00" + i.fwVer + "\x00fw-type\x00" + (i.fwType || i.tmpl) + "\x00build\x00" + i.build + "\x00blynk\x00" + BLYNK_VERSION +
    "\x00h-beat\x00" + Limit.HEARTBEAT / 1000 + "\x00buff-in\x00" + MAX_BODY + "\x00dev\x00" + i.dev + (i.tmpl ? "\x00tmpl\x00" + i.tmpl : "")
  );
}

// The session's state. The core runs one session at a time, so it lives in module variables and
// module functions: a function made inside openCloud() would cost Espruino a copy of its scope
// chain for as long as the session runs. A handle from an earlier openCloud() does nothing.
var o: CloudOptions;
var gen = 0; // the current session's number: older handles compare theirs with it
var now: () => number;
var host: string;
var port: number;
var st = St.CLOSED;
var sock: CloudSocket | undefined;
var prs: Parser | undefined;
var tm: any; // the one timer, undefined when none is pending
var lastTry = 0; // start of the latest attempt
var retryAt = 0;
var fails = 0; // attempts in a row that did not reach ONLINE
var rx = 0; // last byte received
var tx = 0; // last frame sent
var hb = 0; // last PING (or HW_LOGIN) sent
var mid = 1; // last message id used
var over = 0; // id to reuse while handling an incoming command (Blynk's msgIdOutOverride)
var q: string[] = []; // encoded frames held back by the rate limit
var after: any[] | undefined; // [frame, fn]: fn runs once that frame is written (setMetadata)


/** Does what is due now, then arms the timer for the next deadline (none when stopped or closed). */
function tick(): void {
  if (tm !== undefined) {
    (o.clearTimeout || clearTimeout)(tm);
    tm = undefined;
  }
  var t = now();
  if (st === St.WAIT && t >= retryAt) open(t);
  else if (st === St.OPENING && t - lastTry >= Limit.CONNECT_TIMEOUT) end("Connect timeout", End.RETRY);
  else if (st === St.LOGIN && t - hb >= Limit.LOGIN_TIMEOUT) end("Login timeout", End.RETRY);
  else if (st === St.ONLINE) {
    if (t - rx >= Limit.HEARTBEAT_TIMEOUT) end("Heartbeat timeout", End.RETRY);
    else {
      if ((t - rx >= Limit.HEARTBEAT || t - tx >= Limit.HEARTBEAT) && t - hb >= Limit.PING_SPACING) {
        hb = t;
        send(Cmd.PING, "");
      }
      if (q.length && st === St.ONLINE && t >= (rx > tx ? rx : tx) + Limit.SEND_SPACING) write(q.shift() as string);
    }
  }
  if (tm !== undefined) return; // end() ran tick() again, which armed the timer already
  var d = st === St.WAIT ? retryAt : st === St.OPENING ? lastTry + Limit.CONNECT_TIMEOUT : st === St.LOGIN ? hb + Limit.LOGIN_TIMEOUT : -1;
  if (st === St.ONLINE) {
    d = rx + Limit.HEARTBEAT_TIMEOUT;
    var p = (rx < tx ? rx : tx) + Limit.HEARTBEAT;
    if (p < hb + Limit.PING_SPACING) p = hb + Limit.PING_SPACING;
    if (p < d) d = p;
    p = (rx > tx ? rx : tx) + Limit.SEND_SPACING;
    if (q.length && p < d) d = p;
  }
  if (d >= 0) tm = (o.setTimeout || setTimeout)(tick, d > t ? d - t : 0);
}

/** One attempt: a socket, then (once connected) HW_LOGIN with id 1. */
function open(t: number): void {
  lastTry = t;
  st = St.OPENING;
  o.log("Connecting to " + host + ":" + port);
  try {
    sock = (o.connect as NonNullable<CloudOptions["connect"]>)(host, port, o.tls, onSocket);
    prs = newParser();
    sock.on("data", onSocket);
    sock.on("close", onSocket);
    sock.on("error", onSocket);
  } catch (e) {
    end((o.tls ? "Secure connection failed: " : "Connection failed: ") + ((e as any).message || e), End.RETRY);
  }
}

/**
 * Every event of the socket: the connect callback passes the socket itself, data a string, error
 * {code, message}, close a flag. Espruino queues events with the listeners they had when queued,
 * so events of an ended socket can still arrive: `this`, the socket that emitted it, tells them apart.
 */
function onSocket(this: any, a?: any): void {
  var s = a && a === sock ? a : this;
  if (!s || s !== sock) return;
  if (a === s) {
    if (st !== St.OPENING) return;
    st = St.LOGIN;
    hb = now();
    mid = 1;
    write(encode(Cmd.HW_LOGIN, 1, o.token));
    tick();
  } else if (typeof a === "string") {
    var f = parse(prs as Parser, a);
    for (var i = 0; i < f.length && sock === s; i++) handle(f[i]);
  } else
    end(
      st === St.ONLINE
        ? a && a.message ? "Connection lost: " + a.message : ""
        : (o.tls ? "Secure connection failed: " : "Connection failed: ") + (a && a.message ? a.message + " (" + a.code + ")" : "closed"),
      End.RETRY
    );
}

/** One incoming frame (reference §8 "Incoming message handling"). */
function handle(f: Frame): void {
  var c = f.cmd;
  if (!f.id) return end("Invalid message id 0", End.RETRY);
  var t = (rx = now());
  if (c === Cmd.RESPONSE) {
    if (st === St.LOGIN && f.id === 1) {
      c = f.len;
      if (c === Status.SUCCESS || c === Status.ALREADY_REGISTERED) {
        o.log("Ready (ping: " + (t - hb) + "ms).");
        st = St.ONLINE;
        hb = t;
        fails = 0;
        o.ev(Ev.WORDS, (o.s as number) < 0 ? Words.FALLEN_BACK : "");
        send(Cmd.INTERNAL, infoBody(o.info));
        o.ev(Ev.LOGIN, c);
        if ((st as St) === St.ONLINE) o.ev(Ev.LINK, send, true); // unless main closed us on login
      } else {
        end(c === Status.INVALID_TOKEN ? "Invalid auth token" : "Connect failed. code: " + c, c === Status.INVALID_TOKEN ? End.STOP : End.RETRY);
        if ((st as St) !== St.CLOSED) o.ev(Ev.LOGIN, c); // main may have closed us meanwhile
      }
    } else if (f.len === Status.NOT_AUTHENTICATED) end("Not authenticated", End.RETRY);
  } else if (f.big) end("Packet too big: " + f.len, End.RETRY);
  else if (c === Cmd.PING || c === Cmd.HW_LOGIN) write(encodeResponse(f.id, Status.SUCCESS));
  else if (c === Cmd.HARDWARE || c === Cmd.BRIDGE || c === Cmd.INTERNAL) {
    // replies sent from here reuse the command's id
    over = f.id;
    var v = f.body.split("\x00");
    if (c === Cmd.INTERNAL) {
      if (v[0] === "dbg") {
        var line = v.slice(1).join(" ");
        var cmd = parseCommand(line);
        if (cmd) o.ev(Ev.COMMAND, cmd);
        else o.log("Unknown command: " + line);
      } else if (v[0] === "ota" && v[1]) o.ev(Ev.OTA, v[1]); // Blynk.Air: ota\0<url> (BLYNK_WRITE(InternalPinOTA))
    } else if (v[0] === "vw") o.ev(Ev.WRITE, v[1], v.slice(2));
    else if (o.pins && "pm dw dr aw ar".split(" ").indexOf(v[0]) >= 0) pinCommand(v, o.pins);
    else if (v[0] !== "vr") write(encodeResponse(over, Status.ILLEGAL_COMMAND));
    over = 0;
  } else if (c === Cmd.REDIRECT) {
    var r = f.body.split("\x00");
    if (!r[0]) return end("Invalid redirect", End.RETRY);
    host = r[0];
    // no port: Blynk's library takes its default port, 80, or 443 in its TLS builds; over TLS
    // that is the TLS port this session was given (port_ssl), as plain TCP on 80 would not work
    port = parseInt(r[1], 10) || (o.tls ? o.port : 80);
    end("Redirecting to " + host + ":" + port, End.REDIRECT);
  } else if (c === Cmd.DEBUG_PRINT) {
    if (f.body) o.log("Server: " + f.body);
  } else end("Invalid header type: " + c, End.RETRY);
}

/**
 * Blynk's built-in pin commands, as its library runs them: `pm pin mode [pin mode ...]`, `dw pin
 * level` and `aw pin 0..255` (both make the pin an output first), `dr pin` and `ar pin`, answered
 * with `dw pin 0|1` and `aw pin 0..1023` under the command's id. A pin the firmware drives itself,
 * a pin the board does not have and a failing call are each one log line; nothing else happens.
 * (Called from one place only, so the bundle keeps it inside handle() and it costs no RAM of its own.)
 */
function pinCommand(v: string[], io: PinApi): void {
  var c = v[0];
  // pm carries pin/mode pairs, the others one pin; a missing pin is reported too
  for (var i = 1; i === 1 || i < v.length; i += c === "pm" ? 2 : v.length) {
    var name = v[i];
    var x = v[i + 1];
    try {
      // A number, or "A0": Blynk's library reads the analog input by that name, and Espruino's
      // ESP8266 build names its one ADC pin so. Nothing else: Espruino takes pin numbers modulo
      // 256 and resolves names such as "D2", either of which would get past the check below.
      var p: any = /^\d+$/.test(name) ? +name : /^A\d$/.test(name) ? name : -1;
      if (p < 0 || p > 255) throw "invalid pin";
      io.getPinMode(p); // throws for a pin this board does not have
      // an array search: Espruino 2v29's String.indexOf also matches a needle that the string
      // ends with the beginning of (",2L,0B,".indexOf(",5L,") is 6)
      var own = (o.own || "").split(",");
      if (own.indexOf(p + "L") >= 0) throw "the status LED's pin, refused";
      if (own.indexOf(p + "B") >= 0) throw "the button's pin, refused";
      if (c === "pm") {
        var mode = x === "in" ? "input" : x === "out" || x === "pwm" ? "output" : x === "pu" ? "input_pullup" : x === "pd" ? "input_pulldown" : "";
        if (!mode) throw "invalid mode " + x;
        io.pinMode(p, mode);
      } else if (c === "dw" || c === "aw") {
        if (x === undefined) throw "no value";
        io.pinMode(p, "output");
        // values as the library's atoi() reads them; analogWrite takes 0..1 where Arduino takes 0..255
        if (c === "dw") io.digitalWrite(p, parseInt(x, 10) ? 1 : 0);
        else io.analogWrite(p, (parseInt(x, 10) || 0) / 255);
      } else {
        var r = c === "dr" ? io.digitalRead(p) : io.analogRead(p);
        if (c === "ar") {
          if (!(r >= 0)) throw "no ADC on this pin";
          r = r >= 1 ? 1023 : Math.floor(r * 1024); // Arduino's 10-bit scale (ESP32's 12 bits scaled down)
        }
        send(Cmd.HARDWARE, (c === "dr" ? "dw\x00" : "aw\x00") + name + "\x00" + r);
      }
    } catch (e) {
      o.log("Hardware " + c + " " + name + ": " + ((e as any).message || e));
    }
  }
}

function write(frame: string): boolean {
  if (!sock) return false;
  try {
    sock.write(frame);
  } catch (e) {
    end("Write failed: " + e, End.RETRY);
    return false;
  }
  tx = now();
  if (after && after[0] === frame) {
    var fn = after[1];
    after = undefined;
    fn();
  }
  return true;
}

/**
 * Sends now, or queues behind the rate limit for commands 15-20 (Blynk's BLYNK_MSG_LIMIT). Blynk's
 * library waits instead; here a `vw` to a pin that already has one waiting replaces that one in
 * place (the newest value wins, RAM stays bounded), and only distinct frames count to QUEUE_MAX.
 */
function send(cmd: number, body: string): boolean {
  if (st !== St.ONLINE) return false;
  var frame = encode(cmd, over || (mid = mid >= 65535 ? 1 : mid + 1), body);
  if (after && !after[0]) after[0] = frame; // setMetadata's frame: write() runs its callback
  if (cmd >= Cmd.BRIDGE && cmd <= Cmd.HARDWARE && (q.length || now() < (rx > tx ? rx : tx) + Limit.SEND_SPACING)) {
    // "vw\0pin\0": the frame's pin, compared with the \0 after it so V1 never matches V10
    var b = body + "\x00";
    var pin = cmd === Cmd.HARDWARE && b.substr(0, 3) === "vw\x00" ? b.substr(0, b.indexOf("\x00", 3) + 1) : "";
    for (var i = 0; pin && i < q.length; i++)
      if (q[i].charCodeAt(0) === cmd && (q[i] + "\x00").substr(5, pin.length) === pin) {
        q[i] = frame;
        return true;
      }
    if (q.length >= Limit.QUEUE_MAX) return false;
    q.push(frame);
    tick();
    return true;
  }
  return write(frame);
}

/**
 * The one teardown path: ends the attempt or session (socket, parser, queue), schedules the next
 * attempt (at once after a redirect, else with back-off) or none, and re-arms or clears the timer.
 */
function end(why: string, how: End): void {
  if (st === St.CLOSED || (st === St.STOPPED && how !== End.CLOSE)) return;
  var was = st;
  var s = sock;
  var t = now();
  if (why) o.log(why);
  if (how <= End.REDIRECT) {
    if (was !== St.ONLINE) fails++;
    retryAt = how === End.REDIRECT && fails <= 1 ? t : lastTry + (fails < 1 ? Limit.RETRY : fails > 4 ? Limit.RETRY_MAX : Limit.RETRY << (fails - 1));
    // Espruino says "Not enough memory" (mbedTLS's ALLOC_FAILED) when the TLS socket or its
    // handshake finds no heap (ESP8266 builds have no TLS at all)
    // (o.s: TLS attempts in a row that failed so; -1 once fallen back to plain TCP)
    if (o.tls && was === St.OPENING) {
      if (!/memory|alloc/i.test(why)) o.s = 0;
      else if ((o.s = (o.s || 0) + 1) >= Limit.TLS_MEMORY_FAILS) {
        if (o.plain) {
          o.tls = false;
          port = o.plain;
          o.s = -1;
          retryAt = t;
          o.log("TLS failed " + Limit.TLS_MEMORY_FAILS + " times in a row for lack of memory: falling back to plain TCP on port " + port + ". THE CLOUD LINK IS NOT ENCRYPTED (a build with EDGENT_TLS=require stays offline instead)");
        } else {
          o.s = 0;
          o.log("TLS keeps failing for lack of memory; EDGENT_TLS=require forbids plain TCP: retrying TLS");
        }
      }
    }
    if (retryAt > t + Limit.RETRY) o.log("Next attempt in " + Math.round((retryAt - t) / 1000) + " s");
    if (was !== St.ONLINE) o.ev(Ev.WORDS, (o.tls ? "TLS" : (o.s as number) < 0 ? Words.FALLEN_BACK : "plain TCP") + "; last attempt: " + why);
  }
  st = how === End.CLOSE ? St.CLOSED : how === End.STOP ? St.STOPPED : St.WAIT;
  sock = prs = after = undefined;
  q = [];
  if (s) {
    s.removeAllListeners();
    try {
      s.end();
    } catch (e) {}
  }
  if (was === St.ONLINE) {
    o.log("Disconnected");
    o.ev(Ev.LINK, send, false);
    if (how !== End.CLOSE) o.ev(Ev.OFFLINE);
  }
  tick(); // after the callbacks, which may have closed us: then it only clears the timer
}

function online(this: { g: number }): boolean {
  return this.g === gen && st === St.ONLINE;
}

function setMetadata(this: { g: number }, field: string, value: string, written?: () => void): boolean {
  if (this.g !== gen) return false;
  if (written) after = ["", written]; // send() puts the encoded frame in, write() spots it leaving
  if (send(Cmd.INTERNAL, "meta\x00set\x00" + field + "\x00" + value)) return true;
  after = undefined;
  return false;
}

function close(this: { g: number }): void {
  if (this.g === gen) end("", End.CLOSE);
}

/** Starts the first attempt at once (from a 0 ms timer) and keeps a session up until close(). */
export function openCloud(opts: CloudOptions): Cloud {
  if (st !== St.CLOSED) end("", End.CLOSE); // one session at a time
  o = opts;
  now = o.now as () => number;
  host = o.host;
  port = o.port;
  st = St.WAIT;
  sock = prs = after = undefined;
  lastTry = fails = rx = tx = hb = over = 0;
  retryAt = now();
  mid = 1;
  q = [];
  // the first attempt runs from a timer, so no callback runs before openCloud() returns
  tm = (o.setTimeout || setTimeout)(tick, 0);
  return { g: ++gen, online: online, setMetadata: setMetadata, close: close } as any;
}
