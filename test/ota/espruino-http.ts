/**
 * Espruino's http client (`require("http").get`) for Node tests, over real sockets: the shapes and
 * the order of events of libs/network/socketserver.c (socketClientConnectionsIdle,
 * socketPushReceiveData, httpParseHeaders) and src/jswrap_stream.c, on an "idle loop" that is a
 * Node timer:
 * - each pass takes at most `chunkSize` bytes from the socket (536 ESP32, 268 ESP8266);
 * - the response callback is queued once "\r\n\r\n" arrived; `statusCode` is a string, header names
 *   are as sent (the first of duplicates wins);
 * - body bytes are pushed to the `data` listener as they are taken in; without a listener up to 512
 *   bytes wait in the stream buffer, which is handed over (queued) when a listener is added;
 * - once Content-Length bytes were pushed the client closes the connection itself (`end`, then
 *   `close(false)`) on the next pass, after taking in one more chunk: bytes beyond Content-Length
 *   reach the listener only if they were there by then;
 * - the peer closing early is not an error (`close(false)`); closing before the headers is
 *   `error {code: -15, message: "no response"}` on the request; a reset is `error {-9, "connection
 *   reset"}` then `close(true)`; errors go to the request, `end`/`close` to the response;
 * - setting `req.clsNow = true` closes the connection on the next pass (`end`, `close(false)`);
 * - a refused connection is reported on the request as the ESP8266 does (asynchronously, -9; the
 *   ESP32 and LINUX builds throw from get() instead, which a test double of get() can do);
 * - https: throws "No SSL support compiled in" unless `tls` (then it is plain TCP, like the simulator).
 * Not modelled: chunked transfer encoding (throws: the downloader never sees it from Blynk), DNS.
 */
import { connect, Socket } from "node:net";

export interface EspHttpOptions {
  chunkSize?: number;
  /** ms between idle-loop passes (default: none, the next pass is a setImmediate). */
  passMs?: number;
  tls?: boolean;
}

type Listener = (x?: unknown) => void;

/** An object with Espruino's on() for the events used here. */
class Emitter {
  listeners: Record<string, Listener[]> = {};
  on(ev: string, fn: Listener): this {
    (this.listeners[ev] ??= []).push(fn);
    return this;
  }
  emit(ev: string, arg?: unknown): void {
    for (const fn of this.listeners[ev] ?? []) fn(arg);
  }
  removeAllListeners(ev?: string): void {
    if (ev) delete this.listeners[ev];
    else this.listeners = {};
  }
}

class Res extends Emitter {
  statusCode = "";
  statusMessage = "";
  httpVersion = "";
  headers: Record<string, string> = {};
  /** STREAM_BUFFER_NAME: data that came while nobody listened */
  buffered = "";
  constructor(private readonly queue: (fn: () => void) => void) {
    super();
  }
  override on(ev: string, fn: Listener): this {
    super.on(ev, fn);
    if (ev === "data" && this.buffered) {
      const b = this.buffered;
      this.buffered = "";
      this.queue(() => this.emit("data", b));
    }
    return this;
  }
}

class Req extends Emitter {
  clsNow?: boolean;
}

export interface EspHttpStats {
  /** Connections created, and those still open. */
  opened: number;
  open: number;
  /** Sizes of the data chunks delivered to listeners. */
  chunks: number[];
  /** Connections closed because clsNow was set. */
  aborted: number;
  /** Options of each get(). */
  requests: Record<string, unknown>[];
}

export interface EspHttp {
  get(options: Record<string, unknown>, cb?: (res: Res) => void): Req;
  stats: EspHttpStats;
  /** Resolves once no connection is open (or rejects after `ms`). */
  idle(ms?: number): Promise<void>;
}

export function espruinoHttp(o: EspHttpOptions = {}): EspHttp {
  const chunkSize = o.chunkSize ?? 536;
  const stats: EspHttpStats = { opened: 0, open: 0, chunks: [], aborted: 0, requests: [] };
  // Espruino runs queued events before the next idle-loop pass: microtasks run before our timers
  const queue = (fn: () => void) => queueMicrotask(fn);

  function get(options: Record<string, unknown>, cb?: (res: Res) => void): Req {
    stats.requests.push({ ...options });
    if (options.protocol === "https:" && !o.tls) throw new Error("No SSL support compiled in");
    const host = String(options.host ?? "127.0.0.1");
    const port = Number(options.port) || (options.protocol === "https:" ? 443 : 80);
    const req = new Req();
    const res = new Res(queue);
    const inbox: Buffer[] = [];
    let peerEnded = false;
    let sockErr = 0;
    let connected = false;
    let refused = false;
    let hadHeaders = false;
    let rx = "";
    let pending = ""; // taken in, not yet pushed (HTTP_NAME_RECEIVE_DATA)
    let cRcv = 0;
    let closed = false;
    let ended = false;

    const sock: Socket = connect({ host: host === "localhost" ? "127.0.0.1" : host, port, allowHalfOpen: true });
    stats.opened++;
    stats.open++;
    sock.setNoDelay(true);
    sock.on("connect", () => (connected = true));
    sock.on("data", (d: Buffer) => inbox.push(d));
    sock.on("end", () => (peerEnded = true));
    sock.on("error", (e: NodeJS.ErrnoException) => {
      if (!connected && e.code === "ECONNREFUSED") refused = true;
      sockErr = e.code === "ETIMEDOUT" ? -3 : -9;
    });
    const hostHeader = port !== 80 ? `${host}:${port}` : host;
    sock.write(`${options.method ?? "GET"} ${options.path ?? "/"} HTTP/1.1\r\nUser-Agent: Espruino 2v29\r\nConnection: close\r\nHost: ${hostHeader}\r\n\r\n`);
    if (cb) req.on("connect", cb as Listener);

    /** jswrap_stream_pushData: to the listener now, or into the 512-byte buffer; false if not taken. */
    const pushData = (s: string, force: boolean): boolean => {
      if (res.listeners.data?.length) {
        stats.chunks.push(s.length);
        res.emit("data", s);
        return true;
      }
      if (res.buffered.length + s.length > 512 && !force) return false;
      res.buffered += s.slice(0, 512 - res.buffered.length);
      return true;
    };
    /** socketPushReceiveData (no chunked encoding) */
    const push = (force: boolean) => {
      if (!pending) return;
      cRcv -= pending.length;
      if (pushData(pending, force)) pending = "";
    };

    const finish = (error: number) => {
      closed = true;
      stats.open--;
      sock.destroy();
      push(true);
      const hadError = error < 0 && error !== -1;
      if (hadError) {
        const message = { [-3]: "timeout", [-9]: "connection reset", [-15]: "no response" }[error] ?? "unknown error";
        queue(() => req.emit("error", { code: error, message }));
      }
      if (!ended) {
        ended = true;
        queue(() => res.emit("end"));
      }
      queue(() => res.emit("close", hadError));
    };

    // one pass of socketClientConnectionsIdle for this connection
    const pass = () => {
      if (closed) return;
      if (req.clsNow) {
        stats.aborted++;
        return finish(0);
      }
      if (refused) return finish(-9);
      if (hadHeaders) push(false);
      // get() has ended the request (cls): once the body is in, this pass is the last
      let closeNow = hadHeaders && cRcv <= 0;
      let error = 0;
      if (closeNow && !ended) {
        ended = true;
        queue(() => res.emit("end"));
      }
      // netRecv: at most chunkSize bytes
      const b = inbox.length ? Buffer.concat(inbox.splice(0)) : undefined;
      if (b && b.length) {
        const take = b.subarray(0, chunkSize);
        if (b.length > chunkSize) inbox.unshift(b.subarray(chunkSize));
        const str = take.toString("latin1");
        if (!hadHeaders) {
          rx += str;
          const end = rx.indexOf("\r\n\r\n");
          if (end >= 0) {
            parseHeaders(rx.slice(0, end + 2));
            hadHeaders = true;
            pending = rx.slice(end + 4);
            rx = "";
            queue(() => req.emit("connect", res));
            push(false);
          }
        } else {
          pending += str;
          push(false);
        }
      } else if (sockErr) {
        closeNow = true;
        error = sockErr;
      } else if (peerEnded) {
        // SOCKET_ERR_CLOSED: only an error without headers (no response); a short body just closes
        closeNow = true;
        error = !hadHeaders ? -15 : cRcv > 0 ? -1 : 0;
      }
      if (closeNow) return finish(error);
      next();
    };
    const next = () => (o.passMs ? setTimeout(pass, o.passMs) : setImmediate(pass));

    function parseHeaders(head: string): void {
      const lines = head.split("\r\n");
      const first = lines[0];
      const sp1 = first.indexOf(" ");
      const sp2 = first.indexOf(" ", sp1 + 1);
      res.httpVersion = first.slice(5, sp1);
      res.statusCode = first.slice(sp1 + 1, sp2 < 0 ? first.length : sp2);
      res.statusMessage = sp2 < 0 ? "" : first.slice(sp2 + 1);
      for (const l of lines.slice(1)) {
        const c = l.indexOf(":");
        if (c <= 0) continue;
        const k = l.slice(0, c);
        if (!(k in res.headers)) res.headers[k] = l.slice(c + 1).trim();
      }
      const te = Object.keys(res.headers).find((k) => k.toLowerCase() === "transfer-encoding");
      if (te && res.headers[te].toLowerCase() === "chunked") throw new Error("espruinoHttp: chunked responses are not modelled");
      const cl = Object.keys(res.headers).find((k) => k.toLowerCase() === "content-length");
      cRcv = cl ? parseInt(res.headers[cl], 10) || 0 : 0;
    }

    next();
    return req;
  }

  return {
    get,
    stats,
    idle(ms = 3000) {
      const t0 = Date.now();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (stats.open === 0) return resolve();
          if (Date.now() - t0 > ms) return reject(new Error(stats.open + " connection(s) still open"));
          setTimeout(check, 5);
        };
        check();
      });
    },
  };
}
