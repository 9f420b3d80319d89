// Streaming firmware download for Blynk.Air (reference blynk-ota-mqtt-2026.md §1-3; Blynk's
// Edgent_ESP8266/OTA.h and Edgent-Arduino's BlynkHttpOTA.h): one HTTP(S) GET; HTTP 200, a sane
// Content-Length and a hash header are required; each body chunk is written to the sink and hashed
// as it arrives, then dropped, so RAM stays flat however big the file is; one outcome is reported.
//
// Built on the shapes of Espruino's http client (libs/network/socketserver.c, espruino.md §4):
// `res.statusCode` is a string, header names are as the server sent them, `data` chunks are byte
// strings of at most 536 (ESP32) or 268 (ESP8266) bytes, a connection that fails before the response
// reports `error {code, message}` on the request, a body that stops short just ends with `close`.
// Everything comes in through the options (http get, sink, clock, timers, hashes): no Espruino
// globals here, so Node tests and the simulator run this file unchanged.
//
// One timer at a time: a tick (every second) checks the connect and idle limits against the clock;
// data only records the time it came, so a chunk costs no timer and no closure.
import { Hash, hex, base64 } from "./hash";
import { md5 } from "./md5";
import { sha256 } from "./sha256";

/** Espruino's http client response (httpCRs): what the downloader reads. */
export interface HttpResponse {
  /** A string in Espruino ("200"), the text between the first two spaces of the status line. */
  statusCode: string | number;
  /** Names exactly as sent (not lower-cased); the first of duplicates wins. */
  headers: { [name: string]: string };
  on(event: "data" | "close", fn: (x: any) => void): any;
}

/** Espruino's http client request (httpCRq). */
export interface HttpRequest {
  on(event: "error", fn: (e: { code: number; message: string }) => void): any;
  /**
   * Espruino's client has no abort(): the idle loop closes a connection whose hidden flag `clsNow`
   * is set (socketserver.c HTTP_NAME_CLOSENOW), the flag platform/espruino.ts closeStalledHttp sets
   * on server connections. The downloader sets it to stop a transfer.
   */
  clsNow?: boolean;
}

/** What the downloader passes to `get`: the fields Espruino's http.get/request read. */
export interface HttpGetOptions {
  protocol: "http:" | "https:";
  host: string;
  port: number;
  path: string;
  method: "GET";
}

/** Why a download failed: a short machine word for code, the words for people in `message`. */
export type DownloadCode =
  | "url" // the URL cannot be used
  | "connect" // no connection (DNS, refused, TLS, offline)
  | "timeout" // no response, or no data for too long
  | "http" // status other than 200
  | "length" // no usable Content-Length, or below the minimum
  | "room" // the file would not fit
  | "hash" // no usable X-SHA256 / X-MD5 header
  | "write" // the sink threw
  | "short" // the connection ended before Content-Length bytes
  | "long" // more bytes than Content-Length
  | "mismatch"; // the body's hash is not the header's

export type DownloadResult =
  | {
      ok: true;
      size: number;
      /** Which header was checked. */
      hash: "sha256" | "md5";
      /** The verified digest as the header has it: base64 (sha256) or lower-case hex (md5). */
      digest: string;
      /** Blynk's x-fw-type, x-fw-ver, x-fw-build headers when sent. */
      fwType?: string;
      fwVer?: string;
      fwBuild?: string;
    }
  | {
      ok: false;
      code: DownloadCode;
      /** "HTTP 404", "no Content-Length", "timeout after 10 s without data", ... (for logs and the sys_ota event). */
      message: string;
      /** Bytes written before it stopped, and the Content-Length (0 before the headers). */
      got: number;
      size: number;
    };

export interface DownloadOptions {
  /** The Blynk.Air URL (http:// or https://). */
  url: string;
  /** Espruino's require("http").get, or a double with its shapes. May throw or return undefined (offline). */
  get(options: HttpGetOptions, onResponse: (res: HttpResponse) => void): HttpRequest | undefined;
  /**
   * Takes one piece of the body at `offset`; `size` is the Content-Length, so the first piece
   * (offset 0) can reserve the whole file: Storage.write(name, chunk, offset, size). Throw to fail
   * the download ("write"). The chunk is not kept.
   */
  write(chunk: string, offset: number, size: number): void;
  /** Bytes the file may take; a bigger Content-Length fails with "room" before anything is written. */
  room: number;
  /** Milliseconds, monotonic. */
  now(): number;
  /** The one outcome; never called after close(), never from inside download() itself. */
  onDone(result: DownloadResult): void;
  /** After each chunk is written. */
  onProgress?(got: number, size: number): void;
  /** Smallest acceptable Content-Length; default 1024, like Edgent-Arduino. */
  minSize?: number;
  /** From the request to the response headers; default 10000 (Blynk's Edgent_ESP8266 OTA.h). */
  connectMs?: number;
  /** Longest pause between body chunks; default 10000 (Edgent_ESP8266; Edgent-Arduino waits 30 s). */
  idleMs?: number;
  /**
   * Blynk's scheme rules (Edgent-Arduino BlynkEdgent.h startOTA): "http" fetches https:// URLs over
   * plain HTTP unless the URL ends in "&s=1" (its ESP8266 port); "https" fetches http:// URLs over
   * TLS unless the URL ends in "&s=0" (its ESP32 port with SSL). Default: the URL as given.
   */
  scheme?: "http" | "https";
  /** Which hash to check when the server sends both headers; default "sha256". */
  prefer?: "sha256" | "md5";
  /** Zero-copy ArrayBuffer of a byte string (Espruino: E.toArrayBuffer) for the JS hashes. */
  toBuffer?: (bytes: string) => ArrayBuffer;
  /** Hash factories in place of the JS ones (e.g. a native SHA-256 of the stored file). */
  md5?: () => Hash;
  sha256?: () => Hash;
  setTimeout?: (fn: () => void, ms: number) => any;
  clearTimeout?: (id: any) => void;
}

export interface Download {
  /** Stops the transfer and the timer; safe twice; onDone is not called after it. */
  close(): void;
}

/** Parts of an http(s) URL, parsed like Blynk's OTA.h parseURL (no user info, no IPv6). */
export function parseUrl(url: string): { https: boolean; host: string; port: number; path: string } | undefined {
  var i = url.indexOf("://");
  var scheme = i > 0 ? url.substr(0, i).toLowerCase() : "";
  if (scheme !== "http" && scheme !== "https") return undefined;
  var rest = url.substr(i + 3);
  var slash = rest.indexOf("/");
  var server = slash < 0 ? rest : rest.substr(0, slash);
  var colon = server.indexOf(":");
  var host = colon < 0 ? server : server.substr(0, colon);
  var port = scheme === "https" ? 443 : 80;
  if (colon >= 0) {
    var p = server.substr(colon + 1);
    port = /^[0-9]+$/.test(p) ? parseInt(p, 10) : 0;
  }
  if (!host || /[\s@]/.test(host) || port < 1 || port > 65535) return undefined;
  return { https: scheme === "https", host: host, port: port, path: slash < 0 ? "/" : rest.substr(slash) };
}

/**
 * Applies the scheme rules, parses the URL and sends the GET: the request, or the failure to report.
 * Apart from download() so that the URL and its parts are not kept for as long as the download runs.
 */
function request(o: DownloadOptions, onResponse: (res: HttpResponse) => void, onEvent: (x: any) => void): HttpRequest | DownloadResult {
  var url = o.url;
  if (o.scheme === "http" && url.substr(0, 8).toLowerCase() === "https://" && url.substr(url.length - 4) !== "&s=1") url = "http://" + url.substr(8);
  if (o.scheme === "https" && url.substr(0, 7).toLowerCase() === "http://" && url.substr(url.length - 4) !== "&s=0") url = "https://" + url.substr(7);
  var u = parseUrl(url);
  if (!u) return { ok: false, code: "url", message: "bad URL: " + url, got: 0, size: 0 };
  var why = "network offline";
  try {
    var req = o.get({ protocol: u.https ? "https:" : "http:", host: u.host, port: u.port, path: u.path, method: "GET" }, onResponse);
    if (req) {
      req.on("error", onEvent);
      return req;
    }
  } catch (e) {
    why = (e && (e as any).message) || String(e);
  }
  return { ok: false, code: "connect", message: "connection failed: " + why, got: 0, size: 0 };
}

/**
 * Starts the download at once; the outcome comes to onDone.
 * RAM: one closure with five functions and a few numbers and strings while it runs (about 85
 * JsVars on the 1600-JsVar build, before the connection and the hash state, which comes with the
 * headers; scripts/bench-ota.ts); per chunk nothing but the hash's transient view.
 */
export function download(o: DownloadOptions): Download {
  var req: HttpRequest | undefined;
  var hash: Hash | undefined;
  var algo = ""; // "sha256" | "md5" once the headers were accepted
  var want = ""; // the header's digest
  var fw: { fwType?: string; fwVer?: string; fwBuild?: string } | undefined;
  var size = 0; // Content-Length, 0 until the headers are in
  var got = 0;
  var t0 = o.now();
  var last = -1; // time of the last data, -1 before the headers
  var done = false;
  var failed: DownloadResult | undefined; // a failure found inside download(), reported from the timer
  var timer: any;

  function fail(code: DownloadCode, message: string): void {
    finish({ ok: false, code: code, message: message, got: got, size: size });
  }

  // The one teardown path: timer, connection, references; then the outcome (not after close()).
  function finish(r: DownloadResult | undefined): void {
    if (done) return;
    done = true;
    if (timer !== undefined) (o.clearTimeout || clearTimeout)(timer);
    timer = undefined;
    if (req) req.clsNow = true;
    req = undefined;
    hash = undefined;
    if (r) o.onDone(r);
  }

  function tick(): void {
    timer = undefined;
    if (done) return;
    if (failed) return finish(failed);
    var t = o.now(), connectMs = o.connectMs || 10000, idleMs = o.idleMs || 10000;
    if (last < 0 && t - t0 >= connectMs) return fail("timeout", "no response within " + connectMs / 1000 + " s");
    if (last >= 0 && t - last >= idleMs) return fail("timeout", "timeout after " + idleMs / 1000 + " s without data");
    timer = (o.setTimeout || setTimeout)(tick, Math.min(1000, connectMs, idleMs));
  }

  // The response headers: status, length, room, hash header; then the body flows into onEvent.
  function onResponse(res: HttpResponse): void {
    if (done) return;
    if (String(res.statusCode) !== "200") return fail("http", "HTTP " + res.statusCode);
    var h = res.headers, len, xsha, xmd5, k, v;
    fw = {};
    for (k in h) {
      v = String(h[k]).trim();
      switch (k.toLowerCase()) {
        case "content-length": if (len === undefined) len = v; break;
        case "x-sha256": if (xsha === undefined) xsha = v; break;
        case "x-md5": if (xmd5 === undefined) xmd5 = v.toLowerCase(); break;
        case "x-fw-type": fw.fwType = v; break;
        case "x-fw-ver": fw.fwVer = v; break;
        case "x-fw-build": fw.fwBuild = v;
      }
    }
    var min = o.minSize || 1024;
    if (len === undefined) return fail("length", "no Content-Length");
    if (!/^[0-9]+$/.test(len)) return fail("length", "bad Content-Length: " + len);
    size = parseInt(len, 10);
    if (size < min) return fail("length", "Content-Length " + size + " is below the minimum of " + min + " bytes");
    if (size > o.room) return fail("room", "Storage full: " + size + " bytes needed, " + o.room + " free");
    // the preferred hash if its header came, else the other one; a malformed chosen header fails
    algo = xsha !== undefined && (o.prefer !== "md5" || xmd5 === undefined) ? "sha256" : xmd5 !== undefined ? "md5" : "";
    if (!algo) return fail("hash", "no X-SHA256 or X-MD5 header");
    if (algo === "sha256") {
      want = xsha as string;
      if (want.length !== 44 || !/^[A-Za-z0-9+\/]+=$/.test(want)) return fail("hash", "X-SHA256 is not 44 base64 characters: " + want);
      hash = o.sha256 ? o.sha256() : sha256(o.toBuffer);
    } else {
      want = xmd5 as string;
      if (want.length !== 32 || !/^[0-9a-f]+$/.test(want)) return fail("hash", "X-MD5 is not 32 hex digits: " + want);
      hash = o.md5 ? o.md5() : md5(o.toBuffer);
    }
    last = o.now();
    res.on("data", onEvent);
    res.on("close", onEvent);
  }

  // One function for the body's data (a string), its close (a boolean) and the request's error (an
  // object): one function object instead of three for as long as the download lives.
  function onEvent(x: any): void {
    if (done) return;
    if (typeof x === "string") {
      if (got + x.length > size) return fail("long", "body longer than its Content-Length of " + size + " bytes");
      try {
        o.write(x, got, size);
      } catch (e) {
        return fail("write", "write failed at " + got + " of " + size + " bytes: " + ((e && (e as any).message) || e));
      }
      (hash as Hash).update(x);
      got += x.length;
      last = o.now();
      if (o.onProgress) o.onProgress(got, size);
    } else if (x && typeof x === "object") {
      // the request's error: before the headers it is the connection; after them the body broke off
      if (last < 0) fail("connect", "connection failed: " + x.message);
      else fail("short", "body ended at " + got + " of " + size + " bytes: " + x.message);
    } else if (got < size) fail("short", "body ended at " + got + " of " + size + " bytes");
    else {
      var d = (hash as Hash).digest();
      var enc = algo === "md5" ? hex(d) : base64(d);
      if (enc !== want) fail("mismatch", (algo === "md5" ? "MD5" : "SHA-256") + " mismatch: got " + enc + ", expected " + want);
      else finish({ ok: true, size: size, hash: algo as "sha256" | "md5", digest: enc, fwType: fw && fw.fwType, fwVer: fw && fw.fwVer, fwBuild: fw && fw.fwBuild });
    }
  }

  var r = request(o, onResponse, onEvent);
  if ((r as DownloadResult).ok === false) failed = r as DownloadResult;
  else req = r as HttpRequest;
  timer = (o.setTimeout || setTimeout)(tick, failed ? 0 : Math.min(1000, o.connectMs || 10000, o.idleMs || 10000));
  return {
    close: function () {
      finish(undefined);
    },
  };
}
