// Espruino's own globals and module interfaces: names Node does not have, so the host-side type
// check (tsconfig.node.json, for tests that import firmware modules) can include this file too.
// Globals that Node also defines (timers, console, require, process) are in espruino-env.d.ts.

type Pin = number;
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
  /** A zero-copy ArrayBuffer over a byte string. */
  toArrayBuffer(s: string): ArrayBuffer;
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
  removeListener(ev: string, cb: (details: any) => void): void;
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
interface EspEmitter { on(ev: string, cb: (...a: any[]) => void): void; removeListener(ev: string, cb: (...a: any[]) => void): void; removeAllListeners(ev?: string): void }
interface EspHttpReq extends EspEmitter { method: string; url: string; headers: { [k: string]: string }; read(n?: number): string; available(): number }
interface EspHttpRes extends EspEmitter { writeHead(code: number, headers?: { [k: string]: string | number }): void; setHeader(k: string, v: string): void; write(d: string): boolean; end(d?: string): void }
interface EspHttp { createServer(cb: (req: EspHttpReq, res: EspHttpRes) => void): { listen(port: number): any; close(): void }; get(u: string | object, cb?: (res: any) => void): any; request(o: object, cb?: (res: any) => void): any }
interface EspDgramSocket extends EspEmitter { bind(port: number, cb?: (s: EspDgramSocket) => void): EspDgramSocket; send(msg: string, port: number, address: string): void; send(msg: string, offset: number, length: number, port: number, address: string): void; close(): void; addMembership(group: string, ip: string): void }
interface EspDgram { createSocket(type: "udp4" | { type: "udp4"; reuseAddr?: boolean; recvBufferSize?: number }, cb?: (msg: string, rinfo: { address: string; port: number; size: number }) => void): EspDgramSocket }
interface EspSocket extends EspEmitter { write(d: string): boolean; end(d?: string): void; read(n?: number): string; available(): number }
interface EspNet { connect(o: { host: string; port: number }, cb?: (s: EspSocket) => void): EspSocket; createServer(cb: (s: EspSocket) => void): { listen(port: number): any; close(): void } }
interface EspNetError { code: number; message: string }
/** Build-time constants, replaced by rollup (see rollup.config.js). */
declare const __BUILD__: {
  board: string; chip: "ESP32" | "ESP8266"; dev: string;
  tmplId: string; tmplName: string; fwVer: string; build: string;
  led: { type: "none" | "gpio" | "pwm" | "rgb" | "ws2812"; pins: number[]; inverted: boolean; brightness: number };
  button: { pin: number; activeLow: boolean } | null;
  setupCode: string;
  telnet: boolean;
  /** EDGENT_TLS=require: never fall back to plain TCP when TLS fails for lack of memory */
  tlsRequire: boolean;
  /** Pins of the status LED and the button: ",2L,0B," (L LED, B button). */
  ownPins: string;
};
