/**
 * Public types of the Espruino simulator. See README.md for the semantics.
 */

export type Chip = 'ESP32' | 'ESP8266';

/** One access point of the scripted radio world. */
export interface NetworkSpec {
  /** Byte string (each char 0..255), at most 32 bytes. */
  ssid: string;
  /** '' = open network. */
  password: string;
  rssi: number;
  channel: number;
  /** 'aa:bb:cc:dd:ee:ff'; derived from the SSID when omitted. */
  bssid?: string;
  /** Default: 'open' when password is '', else 'wpa2'. */
  authMode?: 'open' | 'wep' | 'wpa' | 'wpa2' | 'wpa_wpa2';
  /** Time from connect() to "got IP" (ms, default 1500). Association happens at half of it. */
  joinDelayMs?: number;
  /** false = associates but never gets an IP (ESP8266: dhcp_timeout events; ESP32: silence). Default true. */
  dhcp?: boolean;
  /** Hidden SSID: listed with an empty ssid by scans; can still be joined by name. */
  hidden?: boolean;
  /** DHCP lease, default '192.168.1.50' (gateway = .1 of the same /24). */
  ip?: string;
  /** false = the AP is not on the air (not found). Default true. */
  up?: boolean;
  /** ESP32 reason reported for a wrong password (default 'AUTH_FAIL'; real IDF4 often says '4WAY_HANDSHAKE_TIMEOUT'). */
  badPasswordReason?: 'AUTH_FAIL' | '4WAY_HANDSHAKE_TIMEOUT' | 'HANDSHAKE_TIMEOUT';
}

/** A snapshot of the device's non-volatile memory. */
export interface FlashImage {
  /** The Storage area, byte for byte (0xFF = erased). */
  bytes: Uint8Array;
  /** ESP8266 only: the Wifi opmode the SDK persists in its own flash sectors (0 off, 1 sta, 2 ap, 3 sta+ap). */
  sdkOpmode?: number;
}

export interface SimOptions {
  /** Path to the firmware bundle, or its source text. */
  bundle: string;
  chip: Chip;
  /** STA MAC 'aa:bb:cc:dd:ee:ff'. Default ESP32 '24:0a:c4:12:34:56', ESP8266 '5c:cf:7f:01:02:03'. */
  mac?: string;
  networks?: NetworkSpec[];
  /**
   * Where firmware TCP/TLS/UDP connections go: "blynk.cloud:80" -> "127.0.0.1:PORT".
   * Special targets: "refuse" (connection refused), "blackhole" (never answers: timeout).
   * Unmapped host names fail DNS; unmapped IP addresses behave like "blackhole".
   */
  hosts?: Record<string, string>;
  /** Boot with this flash content instead of a fresh (erased) flash. */
  storage?: FlashImage;
  /** require("tls") available. Default true on ESP32, false on ESP8266. */
  tls?: boolean;
  /** TLS sockets fail for lack of heap ("mbedtls_ssl_setup: Not enough memory"); Sim.tlsMemory.short switches it later. */
  tlsShortOfMemory?: boolean;
  /**
   * net.connect/tls.connect/http.request to an unreachable destination throws synchronously
   * ("Unable to locate host" / "Unable to create socket") instead of an async 'error' event.
   * Default true on ESP32 (lwIP sockets are blocking there), false on ESP8266 (espconn is async).
   */
  connectThrowsSync?: boolean;
  /** Called with every console line (print/console.log/errors). */
  log?: (line: string) => void;
  /** Storage capacity in bytes (multiple of 4096). Default ESP32 896 KB, ESP8266 192 KB. */
  storageBytes?: number;
  /** Run the Espruino-compatibility linter on .bootcde (default true). */
  lint?: boolean;
  /**
   * Incoming TCP/UDP traffic reaches the device only while it has a link (AP running or STA got an IP),
   * like a phone that must join the AP first. Default true.
   */
  requireLink?: boolean;
  /**
   * NOT chip behaviour: close an HTTP server connection once its client has gone, even if the
   * request never completed. Espruino's socketserver.c keeps such connections (and their socket
   * slot) forever: a client that disconnects before sending all of its headers or body leaks a
   * socket. Default false (faithful).
   */
  reapAbandonedConnections?: boolean;
  /** Preferred real 127.0.0.1 port per device port (e.g. {80: 8080}); falls back to an ephemeral port if busy. */
  portMap?: Record<number, number>;
}

export interface PinLogEntry {
  /** Virtual ms since the current power-on (sim.now()). */
  t: number;
  /** sim.bootCount when the change happened. */
  boot: number;
  pin: number;
  kind: 'digital' | 'pwm' | 'pixel';
  /** 0/1 physical level for digital, duty 0..1 for pwm, byte array for pixel. */
  value: number | number[];
  /** PWM frequency in Hz. */
  freq?: number;
  /** PWM: true for software PWM. */
  soft?: boolean;
}

export interface FetchInit {
  method?: string;
  /** Sent exactly as given (names and order preserved). */
  headers?: Record<string, string> | [string, string][];
  /** Byte string (or Buffer). Content-Length is added unless a header already sets it or `chunks` is used. */
  body?: string | Buffer;
  /**
   * Send this raw request instead, one TCP write per element; between writes the device
   * must have consumed the previous bytes (so each element arrives in its own packet).
   */
  chunks?: (string | Buffer)[];
  /** Virtual ms to wait for the response (default 30000). */
  timeoutMs?: number;
}

export interface FetchResult {
  status: number;
  /** Status line reason phrase. */
  statusText: string;
  /** Header names lower-cased (last wins); see rawHeaders for the exact lines. */
  headers: Record<string, string>;
  rawHeaders: [string, string][];
  /** Response body as a byte string (chunked encoding decoded). */
  body: string;
  /** Everything received, as a byte string. */
  raw: string;
}

export interface WifiCallRecord {
  t: number;
  call: string;
  args: unknown[];
}

export type WifiMode = 'off' | 'sta' | 'ap' | 'sta+ap';
