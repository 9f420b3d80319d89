// Minimal, source-verified ambient types for Espruino 2v29 (ESP32/ESP8266 + LINUX test build).
// Use with: "lib": ["es5", "es2015.promise"], "types": [] (see ../espruino.md §5 and §8).
// Signatures follow the C implementations, not the (partly wrong) docs / @types/espruino.

// ---------- ES2015+ members that Espruino DOES implement but lib.es5 lacks ----------
interface Array<T> {
  find(pred: (v: T, i: number, a: T[]) => unknown): T | undefined;
  findIndex(pred: (v: T, i: number, a: T[]) => unknown): number;
  includes(v: T, fromIndex?: number): boolean;
  fill(v: T, start?: number, end?: number): this;
}
interface String {
  includes(s: string, pos?: number): boolean;
  startsWith(s: string, pos?: number): boolean;
  endsWith(s: string, end?: number): boolean;
  repeat(n: number): string;
  padStart(len: number, fill?: string): string;
  padEnd(len: number, fill?: string): string;
  replaceAll(a: string | RegExp, b: string): string;
}
interface ObjectConstructor {
  assign<T extends {}, U>(target: T, src: U): T & U;
  assign(target: object, ...src: any[]): any;
  setPrototypeOf(o: any, proto: object | null): any;
  entries(o: {}): [string, any][];
  values(o: {}): any[];
  fromEntries(entries: [PropertyKey, any][]): any;
}
// NOT available in Espruino (do not add): Map, Set, WeakMap, Symbol, Array.from/of, Number.isInteger/isNaN,
// Math.trunc/log2/log10, Object.freeze, Promise.race/finally/allSettled/any, String.prototype.trimStart/codePointAt.

// ---------- globals ----------
type Pin = number;
declare const global: any;
declare function print(...args: any[]): void;
declare const console: { log(...a: any[]): void; warn(...a: any[]): void; error(...a: any[]): void };
declare function setTimeout(fn: (...a: any[]) => void, ms?: number, ...args: any[]): number;
declare function setInterval(fn: (...a: any[]) => void, ms?: number, ...args: any[]): number;
/** Throws if called with an explicit `undefined`; clear*() with no args clears ALL timers. */
declare function clearTimeout(id: number): void;
declare function clearInterval(id: number): void;
declare function changeInterval(id: number, ms: number): void;
declare function getTime(): number;            // seconds (float)
declare function getSerial(): string;          // ESP32/ESP8266: MAC "aabbccdd-eeff"
declare function digitalWrite(pin: Pin | Pin[], value: number | boolean): void;
declare function digitalRead(pin: Pin | Pin[]): number;
declare function pinMode(pin: Pin, mode?: "input" | "input_pullup" | "input_pulldown" | "output" | "opendrain" | "opendrain_pullup" | "analog" | "auto", automatic?: boolean): void;
declare function analogWrite(pin: Pin, value: number, opts?: { freq?: number; soft?: boolean; forceSoft?: boolean }): void;
interface WatchEvent { state: boolean; time: number; lastTime: number | undefined; pin: Pin; data?: boolean }
declare function setWatch(fn: (e: WatchEvent) => void, pin: Pin, opts?: boolean | { repeat?: boolean; edge?: "rising" | "falling" | "both" | 1 | -1 | 0; debounce?: number; irq?: boolean; data?: Pin }): number;
declare function clearWatch(id?: number): void;
declare function reset(clearFlash?: boolean): void;
declare function load(file?: string): void;
declare function save(): void;
declare function require(name: "Wifi"): EspWifi;
declare function require(name: "Storage"): EspStorage;
declare function require(name: "http"): EspHttp;
declare function require(name: "dgram"): EspDgram;
declare function require(name: "net"): EspNet;
declare function require(name: string): any;
declare const url: { parse(u: string, parseQuery?: boolean): { method: string; host: string; path: string; pathname: string; search: string | null; port: number | null; query: { [k: string]: string } | string | null; protocol?: string } };
declare const Modules: { addCached(id: string, src: string | (() => void)): void; removeCached(id: string): void; removeAllCached(): void; getCached(): string[] };
declare const process: { memory(gc?: boolean): { free: number; usage: number; total: number; history: number; gc: number; gctime: number; blocksize: number; rx?: { used: number; total: number }; tx?: { used: number; total: number } }; env: { VERSION: string; BOARD: string; SERIAL: string; MODULES: string; [k: string]: any }; version: string };
declare const E: {
  on(ev: "init" | "kill", cb: () => void): void;
  on(ev: "errorFlag", cb: (flags: string[]) => void): void;
  reboot(): void;
  setBootCode(code: string, alwaysExec?: boolean): void;
  getSizeOf(v: any, depth?: number): number;
  getErrorFlags(): string[];
  enableWatchdog(timeoutSec: number, isAuto?: boolean): void;
  kickWatchdog(): void;
  toString(...args: any[]): string;
  toUint8Array(...args: any[]): Uint8Array;
  CRC32(data: string | ArrayLike<number>): number;
  hwRand(): number;
  setFlags(f: { pretokenise?: 0 | 1 | boolean; [k: string]: any }): void;
};

// ---------- modules (see ../espruino.md §1, §2 and §4 for platform differences) ----------
interface EspScanAP { ssid: string; mac: string; authMode: string; rssi: number; channel: number | string; isHidden?: boolean }
interface EspIPInfo { ip: string; netmask: string; gw: string; mac: string }
interface EspWifi {
  connect(ssid: string, opts?: { password?: string; dnsServers?: string[]; channel?: number; bssid?: string }, cb?: (err: string | null) => void): void;
  disconnect(cb?: () => void): void;
  startAP(ssid: string, opts?: { password?: string; authMode?: "open" | "wpa" | "wpa2" | "wpa_wpa2"; channel?: number; hidden?: 0 | 1 }, cb?: (err: string | null) => void): void;
  stopAP(cb?: () => void): void;
  scan(cb: (aps: EspScanAP[]) => void): void;          // NOTE: single argument, no err
  getStatus(cb?: (s: any) => void): any;
  getDetails(cb?: (d: any) => void): any;
  getAPDetails(cb?: (d: any) => void): any;
  getIP(cb?: (err: null, info: EspIPInfo) => void): EspIPInfo;
  getAPIP(cb?: (err: null, info: EspIPInfo) => void): EspIPInfo;
  setHostname(name: string, cb?: () => void): void;
  getHostname(cb?: any): string;
  setIP(s: { ip: string; gw: string; netmask: string }, cb: (err: string | null) => void): void;
  setAPIP(s: { ip: string; gw: string; netmask: string }, cb: (err: string | null) => void): void;
  save(what?: "clear" | "sta+ap"): void;
  restore(): void;
  on(ev: "connected" | "disconnected" | "associated" | "sta_joined" | "sta_left" | "probe_recv" | "auth_change" | "dhcp_timeout", cb: (details: any) => void): void;
  removeAllListeners(ev?: string): void;
}
interface EspStorage {
  read(name: string, offset?: number, length?: number): string | undefined;
  readJSON(name: string, noExceptions?: boolean): any;
  readArrayBuffer(name: string): ArrayBuffer | undefined;
  write(name: string, data: string | ArrayLike<number> | object, offset?: number, size?: number): boolean;
  writeJSON(name: string, data: any): boolean;
  erase(name: string): void;
  eraseAll(): void;
  list(re?: RegExp, filter?: { sf: boolean }): string[];
  getFree(): number;
  getStats(): { totalBytes: number; freeBytes: number; fileBytes: number; fileCount: number; trashBytes: number; trashCount: number };
  compact(): void;
  open(name: string, mode: "r" | "w" | "a"): { read(len: number): string | undefined; readLine(): string | undefined; getLength(): number; write(s: string): void; erase(): void };
}
interface EspEmitter { on(ev: string, cb: (...a: any[]) => void): void; removeAllListeners(ev?: string): void }
interface EspHttpReq extends EspEmitter { method: string; url: string; headers: { [k: string]: string }; read(n?: number): string; available(): number }
interface EspHttpRes extends EspEmitter { writeHead(code: number, headers?: { [k: string]: string | number }): void; setHeader(k: string, v: string): void; write(d: string): boolean; end(d?: string): void }
interface EspHttp { createServer(cb: (req: EspHttpReq, res: EspHttpRes) => void): { listen(port: number): any; close(): void }; get(u: string | object, cb?: (res: any) => void): any; request(o: object, cb?: (res: any) => void): any }
interface EspDgramSocket extends EspEmitter { bind(port: number, cb?: (s: EspDgramSocket) => void): EspDgramSocket; send(msg: string, port: number, address: string): void; send(msg: string, offset: number, length: number, port: number, address: string): void; close(): void; addMembership(group: string, ip: string): void }
interface EspDgram { createSocket(type: "udp4" | { type: "udp4"; reuseAddr?: boolean; recvBufferSize?: number }, cb?: (msg: string, rinfo: { address: string; port: number; size: number }) => void): EspDgramSocket }
interface EspSocket extends EspEmitter { write(d: string): boolean; end(d?: string): void; read(n?: number): string; available(): number }
interface EspNet { connect(o: { host: string; port: number }, cb?: (s: EspSocket) => void): EspSocket; createServer(cb: (s: EspSocket) => void): { listen(port: number): any; close(): void } }

// ---------- additions used by this firmware ----------
declare function require(name: "neopixel"): { write(pin: Pin, data: number[]): void };
declare function require(name: "tls"): EspNet;
interface EspNetError { code: number; message: string }
/** Build-time constants, replaced by rollup (see rollup.config.js). */
declare const __BUILD__: {
  board: string; chip: "ESP32" | "ESP8266"; dev: string;
  tmplId: string; tmplName: string; fwVer: string; build: string;
  led: { type: "none" | "gpio" | "pwm" | "rgb" | "ws2812"; pins: number[]; inverted: boolean; brightness: number };
  button: { pin: number; activeLow: boolean } | null;
  setupCode: string;
  telnet: boolean;
};
declare function require(name: "TelnetServer"): { setOptions(o: { mode: "on" | "off" }): void };
