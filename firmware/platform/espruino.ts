// The only module that touches Espruino's globals and built-in modules. Everything else in the
// firmware is plain logic that receives these functions, so a test prelude (or the simulator)
// that replaces the globals before the bundle runs drives the very same bundle.
// RAM note: a JS wrapper function costs ~5 JsVars; a reference to a native function costs 1, so
// natives are passed on as they are wherever the signature already fits.

import type { PinApi } from "../cloud/session";

var bootTime = /*#__PURE__*/ getTime();

/** Milliseconds since the firmware started (getTime() may be wall-clock time). */
export function now(): number {
  return Math.floor((getTime() - bootTime) * 1000);
}

export var print = console.log;

/** STA MAC as 6 bytes ("aabbccdd-eeff" from getSerial()). */
export function macBytes(): number[] {
  var hex = getSerial().replace("-", "");
  var out: number[] = [];
  for (var i = 0; i < 12; i += 2) out.push(parseInt(hex.substr(i, 2), 16) || 0);
  return out;
}

export var reboot: () => void = E.reboot;

/**
 * Espruino's process.memory(): {free, usage, total, ...} in JsVars. memory() first frees cyclic
 * garbage (a dropped module, finished requests), so it never has to wait for memory to run out;
 * memory(false) does not. The native function itself: it needs no `this`.
 */
export var memory: (collect?: boolean) => { free: number; usage: number; total: number } = (process as any).memory;

// ---- Storage ----
var storage = require("Storage");
/** A file, or a part of it: on the chip a string pointing into flash (no RAM copy). Storage's own function. */
export var fileRead: (name: string, offset?: number, length?: number) => string | undefined = storage.read;
/**
 * Storage.write: at offset 0 (or none) it makes the file, of `size` bytes when given, and later
 * calls fill it in. Throws on a full flash; identical content is not rewritten (Storage compares first).
 */
export var fileWrite: (name: string, data: string, offset?: number, size?: number) => void = storage.write;
export function fileErase(name: string): void {
  if (storage.read(name) !== undefined) storage.erase(name);
}

// ---- Radio and network ----
export function wifiModule(): EspWifi {
  return require("Wifi");
}
export function httpListen(port: number, handler: (req: EspHttpReq, res: EspHttpRes) => void): { close(): void } {
  return require("http").createServer(handler).listen(port);
}
/**
 * Espruino's HTTP server keeps a connection as long as the client stays connected and has not sent
 * its whole request: one that sends nothing, half the headers, or less body than it announced holds
 * a socket even after the firmware answered it, until lwIP has none left. Its connection list is in
 * the interpreter's hidden root ("HttpSC", socketserver.c; an HTTP connection has `res`, and `hdrs`
 * once its headers are in): this closes those without headers `ms` after it first saw them, and
 * any that is still there after 2 x `ms` (the firmware answers every request well within that).
 * Where the list is absent it does nothing.
 */
export function closeStalledHttp(ms: number): void {
  try {
    var list = (global as any)["\xFF"].HttpSC;
    var t = now() + 1; // 0 means "not seen yet"
    for (var i in list) {
      var c = list[i];
      if (!c.res) continue;
      if (!c.edgentSeen) c.edgentSeen = t;
      else if (t - c.edgentSeen >= (c.hdrs ? 2 * ms : ms)) c.clsNow = true;
    }
  } catch (e) {}
}
/** HTTP server connections open now that have sent something (Espruino's own list; 0 where it is absent). */
export function httpConnections(): number {
  var n = 0;
  try {
    var list = (global as any)["\xFF"].HttpSC;
    for (var i in list) if (list[i].hdrs || list[i].dRcv) n++;
  } catch (e) {}
  return n;
}

export function udpBind(port: number, onMessage: (msg: string, rinfo: { address: string; port: number }) => void): EspDgramSocket {
  var sock = require("dgram").createSocket("udp4");
  sock.on("message", onMessage);
  sock.bind(port);
  return sock;
}
/** True on builds with TLS compiled in (the official ESP32 build); ESP8266 and ESP32_IDF4 have none. */
export function hasTls(): boolean {
  try {
    return !!require("tls");
  } catch (e) {
    return false;
  }
}
/** Opens a TCP (or TLS) connection; may throw synchronously on some builds when refused. */
export function tcpConnect(host: string, port: number, tls: boolean, onConnect: (s: EspSocket) => void): EspSocket {
  return (tls ? require("tls") : require("net")).connect({ host: host, port: port }, onConnect);
}

// ---- Pins ----
/** Espruino's own pin functions for Blynk's pin commands: the global object has them all, no wrapper needed. */
export var pinFunctions: PinApi = global as any;
export var pinOutput: (pin: number, level: number) => void = digitalWrite;
export var pinRead: (pin: number) => number = digitalRead;
export var pinInput: (pin: number, mode: "input_pullup" | "input_pulldown" | "input") => void = pinMode;
export var pinUnwatch: (id: number) => void = clearWatch;
/** analogWrite(pin, duty 0..1, {freq}): pass one options object for every write, so a fading LED allocates nothing. */
export var pwmOut: (pin: number, duty: number, options: { freq: number }) => void = analogWrite;
/** The WS2812 writer, looked up once (a require() per frame would search the module cache every tick). */
export function pixelWriter(): (pin: number, grb: number[]) => void {
  return require("neopixel").write;
}
export function pinWatch(pin: number, debounceMs: number, cb: (e: WatchEvent) => void): number {
  return setWatch(cb, pin, { repeat: true, edge: "both", debounce: debounceMs });
}

/**
 * Espruino's telnet console (port 23) is a full REPL without a password, open to the whole home
 * network: off unless the build asks for it. Builds without telnet have no module.
 */
export function telnetConsole(on: boolean): void {
  try {
    require("TelnetServer").setOptions({ mode: on ? "on" : "off" });
  } catch (e) {}
}

/** Publishes the REPL object (edgent.status(), ...). */
export function publish(name: string, obj: any): void {
  (global as any)[name] = obj;
}
