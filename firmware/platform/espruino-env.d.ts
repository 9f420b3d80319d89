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
declare const global: any;
declare function print(...args: any[]): void;
declare const console: { log(...a: any[]): void; warn(...a: any[]): void; error(...a: any[]): void };
declare function setTimeout(fn: (...a: any[]) => void, ms?: number, ...args: any[]): number;
declare function setInterval(fn: (...a: any[]) => void, ms?: number, ...args: any[]): number;
/** Throws if called with an explicit `undefined`; clear*() with no args clears ALL timers. */
declare function clearTimeout(id: number): void;
declare function clearInterval(id: number): void;
declare function require(name: "Wifi"): EspWifi;
declare function require(name: "Storage"): EspStorage;
declare function require(name: "http"): EspHttp;
declare function require(name: "dgram"): EspDgram;
declare function require(name: "net"): EspNet;
declare function require(name: string): any;
declare const url: { parse(u: string, parseQuery?: boolean): { method: string; host: string; path: string; pathname: string; search: string | null; port: number | null; query: { [k: string]: string } | string | null; protocol?: string } };
declare const Modules: { addCached(id: string, src: string | (() => void)): void; removeCached(id: string): void; removeAllCached(): void; getCached(): string[] };
declare const process: { memory(gc?: boolean): { free: number; usage: number; total: number; history: number; gc: number; gctime: number; blocksize: number; rx?: { used: number; total: number }; tx?: { used: number; total: number } }; env: { VERSION: string; BOARD: string; SERIAL: string; MODULES: string; [k: string]: any }; version: string };

// ---------- modules used by this firmware (their interfaces are in espruino-api.d.ts) ----------
declare function require(name: "neopixel"): { write(pin: Pin, data: number[]): void };
declare function require(name: "tls"): EspNet;
declare function require(name: "TelnetServer"): { setOptions(o: { mode: "on" | "off" }): void };
