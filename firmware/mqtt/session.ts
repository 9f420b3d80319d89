// MQTT 3.1.1 client session with the outward shape of ../cloud/session (the Blynk-protocol client):
// the same Cloud object, the same core callback (`ev`, the core's events), the same reconnect back-off,
// so the core runs either the same way. Two modes, chosen by the options:
//  - Blynk's MQTT device API (option `token`): user "device", password the token, keepalive 45 s,
//    clean session; downlink/# subscribed; info/mcu published on every connection; downlink/redirect,
//    reboot, reconfigure, ping, ota/json and ds/<name> obeyed (reference blynk-ota-mqtt-2026.md §3).
//  - Any broker (no `token`; Mosquitto, Home Assistant's): user and password from the options, a
//    topic prefix; `<prefix>/status` is "online" (retained) while connected and "offline" (retained)
//    after, by the will when the connection dies and by a last publish when closed.
// The user API (../cloud/api: edgent.virtualWrite/onWrite/syncVirtual/logEvent/on) stays transport-
// independent: it hands the session Blynk command bodies through Send(cmd, body), and send() below
// turns them into publishes; received values go back as Ev.WRITE, and the session links its sender
// as Ev.LINK, exactly as the Blynk client does (the core answers them with api.ts's apiLink and
// apiWrite: a module loaded for a phase must not include the core's stateful files).
//
// Topics of the user API (Blynk mode | any broker, with P = the prefix):
//   virtualWrite(x, v...)   ds/<name>            | P/<name> (retained)          payload: values joined by \0
//   onWrite(x, fn)          downlink/ds/<name>   | P/<name>/set                 fn(payload split at \0)
//   syncVirtual(x, ...)     get/ds "a,b"         | SUBSCRIBE P/+/set again: the broker re-sends the retained
//   syncVirtual()           get/ds/all           |   P/<name>/set of every datastream (§3.8.4)
//   logEvent(code, text)    event/<code> text    | P/event/<code> text
//   setMetadata(f, v)       meta/<f> (QoS 1)     | P/meta/<f> (QoS 1, retained)
// <name> is a datastream's name as the template has it: virtualWrite("Temperature", 21.5). A pin number
// stands for the datastream named "V<pin>": virtualWrite(1, 42) publishes ds/V1, and a write to
// downlink/ds/V1 reaches onWrite(1). Blynk's MQTT API knows datastreams only by name (its docs,
// "Datastreams"), so a template that keeps the Blynk-protocol habit names its datastreams V0, V1, ...
// Names with the wildcards + or # are refused (§3.3.2.1); a "/" goes through (ds/<name>/prop/color).
//
// Timers: one, as in the Blynk client: tick() does what is due in the current state and arms the timer
// for the state's next deadline. Online, that is the keepalive (§3.1.2.10): a PINGREQ once nothing
// was sent or nothing received for the keepalive, and the end of the connection when nothing at all
// arrived for 1.5 x keepalive (the limit the server applies to the client). One teardown path, end().
//
// QoS: received QoS 1 messages are acknowledged (PUBACK) before they are handled (§4.3.2); that PUBACK
// is also the answer to Blynk's downlink/ping. The user API publishes QoS 0 (Blynk's own samples do);
// setMetadata publishes QoS 1 and calls `written` on its PUBACK. Nothing is retransmitted: within a
// connection TCP does not lose it, and with a clean session a new connection has no state to resume
// (§4.4), so a message whose PUBACK never came is dropped with its connection and its sender learns it
// from `written` not running (main then sends the metadata at the next login). One QoS 1 message with
// a callback is in flight at a time, so RAM stays bounded.
//
// Size: a packet whose remaining length is over MAX_PACKET (1024, Blynk's limit) is never sent (the
// call returns false), and a received one is skipped as it arrives, without buffering it, and logged;
// the connection stays up (a retained oversized message would otherwise bring it down at every
// subscribe). Skipped QoS 1 messages stay unacknowledged.
//
// RAM: as in ../cloud/session, the session's state lives in module variables and module functions
// (the core runs one session at a time; a handle from an earlier openMqtt() does nothing): a function
// made inside openMqtt() would keep a copy of its scope chain for as long as the session runs. No
// closure per connection either: the socket that emitted an event (`this`) tells a live socket's
// events from an ended one's. Nothing is made per packet but the parsed packet.
import { Cmd } from "../cloud/codec";
import type { Cloud, CloudOptions, CloudSocket } from "../cloud/session";
import { Ev } from "../kernel";
import {
  Type, Connack, Size, Packet, Parser, PINGREQ, DISCONNECT,
  newParser, parse, encodeConnect, encodeSubscribe, encodePublish, encodePuback, publishLength,
} from "./codec";

export interface MqttOptions {
  host: string;
  port: number;
  tls: boolean;
  /** Blynk's MQTT API: the device's auth token. Without it the session talks to any broker. */
  token?: string;
  /** Any broker: user name and password; absent or "" = none. */
  user?: string;
  pass?: string;
  /** Any broker: topic prefix without the trailing "/"; default topicPrefix(name). */
  prefix?: string;
  /** The device name (the default prefix; Home Assistant's device name). */
  name?: string;
  /** Client identifier (§3.1.3.1); default "" with Blynk (the broker assigns one), the prefix otherwise. */
  id?: string;
  /** Keepalive in seconds (§3.1.2.10); default 45, Blynk's recommendation. */
  keepalive?: number;
  /**
   * Any broker: Home Assistant's discovery prefix ("homeassistant"). Set, the session announces the
   * device's connectivity (`<prefix>/status`) as a binary_sensor on every connection.
   */
  ha?: string;
  /**
   * For Blynk's info/mcu: {"tmpl", "ver": fwVer, "build", "type": fwType or tmpl, "rxbuff"}; without
   * it, the build's own identity (the firmware leaves it out: one object less in RAM).
   */
  info?: CloudOptions["info"];
  /** One log line without the "[millis] " prefix. */
  log(line: string): void;
  /**
   * What happens, as the core's events (kernel.ts Ev), as ../cloud/session reports them:
   * Ev.LOGIN (status) for every CONNACK: 200 = accepted (online); 9 = bad user name or password / not
   * authorised (CONNACK 4 or 5: with Blynk an invalid token), after which the session stops retrying;
   * 1-3 = the CONNACK code (protocol level, identifier rejected, server unavailable), retried with
   * back-off. Ev.OFFLINE: an online session ended; the session reconnects by itself unless closed.
   * Ev.COMMAND (line): from Blynk, "reboot" (downlink/reboot) or "config start" (downlink/reconfigure).
   * Ev.LINK (send, up): the user API's side (firmware/cloud/api.ts apiLink) once online, and again
   * when the session ends. Ev.WRITE (name, values): a value from the broker (a pin number for "V<n>").
   */
  ev(e: Ev, a?: any, b?: any): any;
  /**
   * From Blynk: downlink/ota/json, the payload as it came ({"url","size","type","ver","build"}).
   * Without it, the URL goes to the core as Ev.OTA (url).
   */
  onOta?: (json: string) => void;
  /** Opens a socket and calls onConnect(socket) once connected; may throw when refused. */
  connect?: (host: string, port: number, tls: boolean, onConnect: (s: CloudSocket) => void) => CloudSocket;
  now?: () => number;
  setTimeout?: (fn: () => void, ms: number) => any;
  clearTimeout?: (id: any) => void;
}

/** Timing (reconnect as the Blynk client: ../cloud/session Limit). */
export const enum MqttLimit {
  KEEPALIVE = 45, // seconds: Blynk's recommended keepalive
  CONNECT_TIMEOUT = 30000, // TCP connect + TLS handshake
  CONNACK_TIMEOUT = 10000, // CONNECT sent, no CONNACK (the broker checks the credentials meanwhile)
  RETRY = 5000, // first reconnect delay, doubled after each failed attempt ...
  RETRY_MAX = 60000, // ... up to this
}

const enum St {
  WAIT, // no socket; tick() opens one at retryAt
  OPENING, // TCP/TLS connecting
  CONNECTING, // CONNECT sent, waiting for CONNACK
  ONLINE,
  STOPPED, // bad credentials: no more attempts until closed
  CLOSED,
}

/** How end() leaves: retry with back-off, retry at once (redirect), stop (bad credentials), close. */
const enum End {
  RETRY,
  REDIRECT,
  STOP,
  CLOSE,
}

/**
 * The default topic prefix for a device name: lower case, every run of characters other than
 * a-z 0-9 _ - made one "-" ("Blynk My Device-PYN6" -> "blynk-my-device-pyn6").
 */
export function topicPrefix(name: string): string {
  return name.toLowerCase().replace(/[^-_a-z0-9]+/g, "-");
}

var o: MqttOptions;
var gen = 0; // the current session's number: older handles compare theirs with it
var now: () => number;
var host: string;
var port: number;
var pre = ""; // any broker: "<prefix>/"; Blynk: "" (its topics have no prefix)
var ka = 0; // keepalive in ms
var st = St.CLOSED;
var sock: CloudSocket | undefined;
var prs: Parser | undefined;
var tm: any; // the one timer, undefined when none is pending
var lastTry = 0; // start of the latest attempt
var retryAt = 0;
var fails = 0; // attempts in a row that did not reach ONLINE
var rx = 0; // last byte received
var tx = 0; // last packet sent
var hb = 0; // last PINGREQ (or CONNECT) sent
var pid = 0; // last packet identifier used (§2.3.1: 1..65535)
var ack: any[] | undefined; // [packet id, fn]: setMetadata's `written`, run on its PUBACK

/** Does what is due now, then arms the timer for the next deadline (none when stopped or closed). */
function tick(): void {
  if (tm !== undefined) {
    (o.clearTimeout || clearTimeout)(tm);
    tm = undefined;
  }
  var t = now();
  if (st === St.WAIT && t >= retryAt) open(t);
  else if (st === St.OPENING && t - lastTry >= MqttLimit.CONNECT_TIMEOUT) end("Connect timeout", End.RETRY);
  else if (st === St.CONNECTING && t - hb >= MqttLimit.CONNACK_TIMEOUT) end("No CONNACK", End.RETRY);
  else if (st === St.ONLINE) {
    if (t - rx >= ka * 1.5) end("Keepalive timeout", End.RETRY);
    else if ((t - rx >= ka || t - tx >= ka) && t - hb >= ka) {
      hb = t;
      write(PINGREQ);
    }
  }
  if (tm !== undefined) return; // end() ran tick() again, which armed the timer already
  var d = st === St.WAIT ? retryAt : st === St.OPENING ? lastTry + MqttLimit.CONNECT_TIMEOUT : st === St.CONNECTING ? hb + MqttLimit.CONNACK_TIMEOUT : -1;
  if (st === St.ONLINE) {
    d = rx + ka * 1.5;
    var p = (rx < tx ? rx : tx) + ka;
    if (p < hb + ka) p = hb + ka;
    if (p < d) d = p;
  }
  if (d >= 0) tm = (o.setTimeout || setTimeout)(tick, d > t ? d - t : 0);
}

/** One attempt: a socket, then (once connected) CONNECT. */
function open(t: number): void {
  lastTry = t;
  st = St.OPENING;
  o.log("Connecting to " + host + ":" + port);
  try {
    sock = (o.connect as NonNullable<MqttOptions["connect"]>)(host, port, o.tls, onSocket);
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
    st = St.CONNECTING;
    hb = now();
    write(
      encodeConnect(
        pre
          ? { id: o.id || pre.substr(0, pre.length - 1), keepalive: ka / 1000, user: o.user, pass: o.pass, will: { topic: pre + "status", msg: "offline", qos: 1, retain: true } }
          : { id: o.id || "", keepalive: ka / 1000, user: "device", pass: o.token }
      )
    );
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

/** One packet from the broker. */
function handle(f: Packet): void {
  var t = (rx = now());
  var c = f.type;
  if (f.bad) return end("Malformed packet from the broker: " + f.bad, End.RETRY);
  if (st === St.CONNECTING) {
    // the first packet a server sends is CONNACK (§3.2)
    if (c !== Type.CONNACK) return end("Protocol error: packet type " + c + " before CONNACK", End.RETRY);
    c = f.code as number;
    if (c === Connack.ACCEPTED) {
      o.log("Ready (ping: " + (t - hb) + "ms).");
      st = St.ONLINE;
      hb = t;
      fails = 0;
      o.ev(Ev.WORDS, "");
      // QoS 1 subscription: Blynk's downlink/ping comes as QoS 1, and its PUBACK is the answer
      write(encodeSubscribe((pid = (pid % 65535) + 1), pre ? pre + "+/set" : "downlink/#", 1));
      // JSON spelled out rather than JSON.stringify of an object: no object to build at every connection
      // (Home Assistant's would be 45 JsVars for a moment); the values are escaped one by one
      var i = o.info || { fwVer: __BUILD__.fwVer, build: __BUILD__.build, dev: __BUILD__.dev, tmpl: __BUILD__.tmplId };
      if (pre) {
        write(encodePublish(pre + "status", "online", 0, true));
        if (o.ha) {
          var id = pre.substr(0, pre.length - 1).replace(/\//g, "_");
          write(
            encodePublish(
              o.ha + "/binary_sensor/" + id + "/status/config",
              '{"name":"Status","stat_t":' + JSON.stringify(pre + "status") + ',"pl_on":"online","pl_off":"offline","dev_cla":"connectivity","ent_cat":"diagnostic","uniq_id":' +
                JSON.stringify(id + "_status") + ',"dev":{"ids":[' + JSON.stringify(id) + '],"name":' + JSON.stringify(o.name || id) + ',"sw":' + JSON.stringify(i.fwVer) +
                ',"mdl":' + JSON.stringify(i.dev) + "}}",
              0,
              true
            )
          );
        }
      } else
        write(
          encodePublish(
            "info/mcu",
            '{"tmpl":' + JSON.stringify(i.tmpl) + ',"ver":' + JSON.stringify(i.fwVer) + ',"build":' + JSON.stringify(i.build) + ',"type":' + JSON.stringify(i.fwType || i.tmpl) + ',"rxbuff":' + Size.MAX_PACKET + "}",
            0,
            false
          )
        );
      o.ev(Ev.LOGIN, 200);
      if ((st as St) === St.ONLINE) o.ev(Ev.LINK, send, true); // unless the core closed us on login
      tick(); // the timer still waits for the CONNACK deadline: arm it for the keepalive
    } else {
      var bad = c === Connack.BAD_CREDENTIALS || c === Connack.NOT_AUTHORIZED;
      end(bad ? (pre ? "Bad user name or password (CONNACK " + c + ")" : "Invalid auth token") : "Connect failed. code: " + c, bad ? End.STOP : End.RETRY);
      if ((st as St) !== St.CLOSED) o.ev(Ev.LOGIN, bad ? 9 : c); // the core may have closed us meanwhile
    }
  } else if (f.big) o.log("Refused a message of " + f.len + " bytes (the limit is " + Size.MAX_PACKET + ")");
  else if (c === Type.PUBLISH) {
    if (f.qos === 2) return end("Protocol error: QoS 2 message on a QoS 1 subscription", End.RETRY);
    if (f.qos) write(encodePuback(f.id as number));
    var tp = f.topic as string;
    var v = f.body as string;
    // the datastream name of a value: any broker P/<name>/set, Blynk downlink/ds/<name>
    var n = pre
      ? tp.substr(0, pre.length) === pre && tp.substr(tp.length - 4) === "/set" ? tp.substr(pre.length, tp.length - pre.length - 4) : ""
      : tp.substr(0, 12) === "downlink/ds/" ? tp.substr(12) : "";
    if (n) o.ev(Ev.WRITE, /^V[0-9]+$/.test(n) ? n.substr(1) : n, v.split("\x00"));
    else if (pre) return;
    else if (tp === "downlink/redirect") {
      // a URI such as mqtts://ny3.blynk.cloud:8883 (also ws://, wss://...:443/mqtt): the host,
      // and its port when the scheme is the transport this session uses, else the port it was given
      // (the substr check: Espruino 2v29's indexOf also "finds" a needle whose beginning ends the string)
      var k = v.indexOf("://");
      var hp = v.substr(k + 3).split("/")[0];
      var j = hp.indexOf(":");
      var h = j < 0 ? hp : hp.substr(0, j);
      if (k < 0 || v.substr(k, 3) !== "://" || !h) return end("Invalid redirect: " + v, End.RETRY);
      host = h;
      port = (j >= 0 && v.substr(0, k) === (o.tls ? "mqtts" : "mqtt") && parseInt(hp.substr(j + 1), 10)) || o.port;
      end("Redirecting to " + host + ":" + port, End.REDIRECT);
    } else if (tp === "downlink/reboot") o.ev(Ev.COMMAND, "reboot");
    else if (tp === "downlink/reconfigure") o.ev(Ev.COMMAND, "config start");
    else if (tp === "downlink/ota/json") {
      if (o.onOta) o.onOta(v);
      else {
        // {"url","size","type","ver","build"}: the core takes the URL as from the Blynk protocol
        // (`u &&` first: Espruino 2v29 does not run a statement that begins with a string literal
        // right after a try/catch, which is what the minifier makes of `typeof u === "string"`)
        var u: any;
        try {
          u = JSON.parse(v).url;
        } catch (e) {}
        if (u && typeof u === "string") o.ev(Ev.OTA, u);
        else o.log("OTA: no URL in " + v);
      }
    } else if (tp === "downlink/diag") o.log("Server: " + v);
    // downlink/ping: answered by the PUBACK above; meta, utc, loc: nothing asks for them
  } else if (c === Type.PUBACK) {
    if (ack && ack[0] === f.id) {
      var fn = ack[1];
      ack = undefined;
      fn();
    }
  } else if (c === Type.SUBACK) {
    if ((f.code as number) & 128) o.log("Subscription refused by the broker");
  } else if (c !== Type.PINGRESP && c !== Type.UNSUBACK) end("Protocol error: unexpected packet type " + c, End.RETRY);
}

function write(data: string): boolean {
  if (!sock) return false;
  try {
    sock.write(data);
  } catch (e) {
    end("Write failed: " + e, End.RETRY);
    return false;
  }
  tx = now();
  return true;
}

/**
 * The user API's sender (../cloud/api Send): Blynk command bodies in, publishes out. HARDWARE
 * `vw\0name\0values...`, HARDWARE_SYNC `vr\0names...` (empty: all), EVENT_LOG `code[\0text]`, and
 * setMetadata's INTERNAL `field\0value` (QoS 1); anything else is not an MQTT message and returns
 * false, as does a topic with a wildcard (§3.3.2.1) or a packet over MAX_PACKET.
 */
function send(cmd: number, body: string): boolean {
  if (st !== St.ONLINE) return false;
  var v = body.split("\x00");
  // pin numbers to datastream names: vw's name, every name of vr. (No regex here: terser writes
  // `for(...)/re/.test(..)&&...`, and Espruino lexes a "/" after ")" as a division.)
  for (var i = 1; i < v.length && (cmd === Cmd.HARDWARE_SYNC || (i < 2 && cmd === Cmd.HARDWARE)); i++) if (v[i] === String(+v[i] >>> 0)) v[i] = "V" + v[i];
  var t: string;
  var m = "";
  var q = 0;
  if (cmd === Cmd.HARDWARE && v[0] === "vw" && v[1]) {
    t = (pre || "ds/") + v[1];
    m = v.slice(2).join("\x00");
  } else if (cmd === Cmd.HARDWARE_SYNC) {
    if (pre) return write(encodeSubscribe((pid = (pid % 65535) + 1), pre + "+/set", 1));
    t = body ? "get/ds" : "get/ds/all";
    m = v.slice(1).join(",");
  } else if (cmd === Cmd.EVENT_LOG || cmd === Cmd.INTERNAL) {
    t = pre + (cmd === Cmd.INTERNAL ? "meta/" : "event/") + v[0];
    m = body.substr(v[0].length + 1);
    q = cmd === Cmd.INTERNAL ? 1 : 0;
  } else return false;
  if (/[+#]/.test(t) || publishLength(t, m, q) > Size.MAX_PACKET) return false;
  // any broker: values and metadata retained, so a subscriber that comes later sees them
  return write(encodePublish(t, m, q, !!pre && cmd !== Cmd.EVENT_LOG, q ? (pid = (pid % 65535) + 1) : 0));
}

/**
 * The one teardown path: ends the attempt or session (a DISCONNECT first when it is online and
 * leaves on purpose, and in broker mode "offline" before that when closed), schedules the next
 * attempt (at once after a redirect, else with back-off) or none, and re-arms or clears the timer.
 */
function end(why: string, how: End): void {
  if (st === St.CLOSED || (st === St.STOPPED && how !== End.CLOSE)) return;
  var was = st;
  var s = sock;
  var t = now();
  if (why) o.log(why);
  // the link in words for the core (Ev.WORDS), refused credentials too: the page tells a broker of the user's own by "MQTT broker "
  if (how !== End.CLOSE && was !== St.ONLINE) o.ev(Ev.WORDS, (pre ? "MQTT broker " + host + ":" + port : "Blynk MQTT") + (o.tls ? " over TLS" : "") + "; last attempt: " + why);
  if (how <= End.REDIRECT) {
    if (was !== St.ONLINE) fails++;
    retryAt = how === End.REDIRECT && fails <= 1 ? t : lastTry + (fails < 1 ? MqttLimit.RETRY : fails > 4 ? MqttLimit.RETRY_MAX : MqttLimit.RETRY << (fails - 1));
    if (retryAt > t + MqttLimit.RETRY) o.log("Next attempt in " + Math.round((retryAt - t) / 1000) + " s");
  }
  st = how === End.CLOSE ? St.CLOSED : how === End.STOP ? St.STOPPED : St.WAIT;
  sock = prs = ack = undefined;
  if (s) {
    s.removeAllListeners();
    try {
      if (was === St.ONLINE && how !== End.RETRY) s.write((pre && how === End.CLOSE ? encodePublish(pre + "status", "offline", 0, true) : "") + DISCONNECT);
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
  if (this.g !== gen || (ack && written) || !send(Cmd.INTERNAL, field + "\x00" + value)) return false; // one callback in flight at a time
  if (written) ack = [pid, written];
  return true;
}

function close(this: { g: number }): void {
  if (this.g === gen) end("", End.CLOSE);
}

/** Starts the first attempt at once (from a 0 ms timer) and keeps a session up until close(). */
export function openMqtt(opts: MqttOptions): Cloud {
  if (st !== St.CLOSED) end("", End.CLOSE); // one session at a time
  o = opts;
  now = o.now as () => number;
  host = o.host;
  port = o.port;
  pre = o.token ? "" : (o.prefix || topicPrefix(o.name || "edgent")) + "/";
  ka = (o.keepalive || MqttLimit.KEEPALIVE) * 1000;
  st = St.WAIT;
  sock = prs = ack = undefined;
  lastTry = fails = rx = tx = hb = 0;
  retryAt = now();
  // the first attempt runs from a timer, so no callback runs before openMqtt() returns
  tm = (o.setTimeout || setTimeout)(tick, 0);
  return { g: ++gen, online: online, setMetadata: setMetadata, close: close } as any;
}
