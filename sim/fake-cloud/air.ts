/**
 * Fake Blynk.Air file server: real HTTP/1.1 on 127.0.0.1 (ephemeral port) serving registered
 * firmware files the way Blynk's OTA download answers (blynk-ota-mqtt-2026.md §3, Blynk's MQTT docs
 * "ota"): Content-Length, x-md5 (hex), x-sha256 (base64 of the raw digest), and x-fw-type,
 * x-fw-ver, x-fw-build taken from the file's blnkinf tag when it has one. The response is written by
 * hand on a raw socket so that each fault can be exactly what a broken server or network does.
 *
 *   const air = await startFakeAir();
 *   air.serve("fw.js", bytes);                       // GET air.url("fw.js") -> 200 + the file
 *   air.serve("fw.js", bytes, { cutAt: 12000 });     // ... the connection ends after 12000 body bytes
 *   await air.close();
 *
 * Faults (`AirFaults`, per file; serve() again to change them):
 * - status: answer this status with a short text body instead of the file (404, 500 ...)
 * - contentLength: announce this Content-Length instead of the file's size; null: no Content-Length
 *   (the body is then sent and the connection closed, HTTP/1.0 style)
 * - cutAt: close the connection (FIN) after this many body bytes: a short body
 * - resetAt: reset the connection (RST) after this many body bytes
 * - stallAt: stop sending after this many body bytes and keep the connection open
 * - trickle: send the body in pieces of `bytes` every `everyMs` ms (a slow link)
 * - extra: send this many bytes more than Content-Length (an over-long body)
 * - md5 / sha256: the header's value instead of the right one (a wrong hash); null: no such header
 * - headers: more response headers
 * - chunk: bytes per socket write (default: the whole body at once)
 * Requests: `requests` records each one (path, query, headers as sent, body bytes sent, whether the
 * client went away before the response was complete); `openCount()` counts live connections.
 */
import { createServer, Server, Socket } from "node:net";
import { createHash } from "node:crypto";
import { findFwTag } from "../../scripts/fw-info.js";

export interface AirFaults {
  status?: number;
  contentLength?: number | null;
  cutAt?: number;
  resetAt?: number;
  stallAt?: number;
  trickle?: { bytes: number; everyMs: number };
  extra?: number;
  md5?: string | null;
  sha256?: string | null;
  headers?: Record<string, string>;
  chunk?: number;
}

export interface AirRequest {
  /** Wall-clock ms (Date.now()) when the request's headers were complete. */
  t: number;
  method: string;
  /** Path without the query: "/air/fw.js". */
  path: string;
  query: string;
  /** Request headers as sent, in order. */
  headers: [string, string][];
  /** The file asked for, or undefined for an unknown path. */
  name?: string;
  status: number;
  /** Body bytes written to the socket. */
  sent: number;
  /** True once the server finished its response on purpose (ended or reset); a stalled one never does. */
  complete: boolean;
  /** True when the connection closed before the response was complete: the client went away. */
  clientGone: boolean;
  open: boolean;
}

export interface FakeAir {
  readonly port: number;
  readonly host: string;
  readonly requests: AirRequest[];
  /** http://127.0.0.1:PORT/air/<name>[?query] */
  url(name: string, query?: string): string;
  /** Registers (or replaces) a file; faults apply to every request for it until the next serve(). */
  serve(name: string, bytes: Buffer | string, faults?: AirFaults): { md5: string; sha256: string; size: number };
  /** Connections open right now. */
  openCount(): number;
  close(): Promise<void>;
}

export interface FakeAirOptions {
  /** One line per request and fault, for debugging. */
  log?: (line: string) => void;
}

interface Served {
  bytes: Buffer;
  md5: string;
  sha256: string;
  faults: AirFaults;
  fw: Record<string, string>;
}

export async function startFakeAir(opts: FakeAirOptions = {}): Promise<FakeAir> {
  const files = new Map<string, Served>();
  const requests: AirRequest[] = [];
  const live = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const log = (l: string) => opts.log?.("[air] " + l);

  const later = (fn: () => void, ms: number) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  function respond(sock: Socket, r: AirRequest, f: Served | undefined): void {
    if (!f) {
      r.status = 404;
      return endText(sock, r, 404, "Not Found", "no such firmware\n");
    }
    const x = f.faults;
    if (x.status !== undefined && x.status !== 200) {
      r.status = x.status;
      return endText(sock, r, x.status, x.status >= 500 ? "Server Error" : "Error", "status " + x.status + "\n");
    }
    r.status = 200;
    const body = f.bytes;
    const lines = ["HTTP/1.1 200 OK", "Content-Type: application/octet-stream"];
    if (x.contentLength !== null) lines.push("Content-Length: " + (x.contentLength ?? body.length));
    const md5 = x.md5 === undefined ? f.md5 : x.md5;
    const sha = x.sha256 === undefined ? f.sha256 : x.sha256;
    if (md5 !== null) lines.push("x-md5: " + md5);
    if (sha !== null) lines.push("x-sha256: " + sha);
    if (f.fw["fw-type"]) lines.push("x-fw-type: " + f.fw["fw-type"]);
    if (f.fw.mcu) lines.push("x-fw-ver: " + f.fw.mcu);
    if (f.fw.build) lines.push("x-fw-build: " + f.fw.build);
    for (const [k, v] of Object.entries(x.headers ?? {})) lines.push(k + ": " + v);
    lines.push("Connection: close");
    sock.write(lines.join("\r\n") + "\r\n\r\n");

    // the body, up to where a fault stops it
    const full = x.extra ? Buffer.concat([body, Buffer.alloc(x.extra, 0x2f)]) : body;
    const stop = Math.min(full.length, x.cutAt ?? Infinity, x.resetAt ?? Infinity, x.stallAt ?? Infinity);
    const piece = x.trickle ? x.trickle.bytes : x.chunk ?? full.length;
    let at = 0;
    const step = () => {
      if (sock.destroyed) return;
      if (at < stop) {
        const n = Math.min(piece || 1, stop - at);
        sock.write(full.subarray(at, at + n));
        at += n;
        r.sent = at;
        if (at < stop) return x.trickle ? later(step, x.trickle.everyMs) : void setImmediate(step);
      }
      // the end: as it should be, or as the fault has it (a stalled response never completes)
      if (x.stallAt !== undefined && stop === x.stallAt) return log(`${r.path}: stalled after ${at} body bytes`);
      r.complete = true;
      if (x.resetAt !== undefined && stop === x.resetAt) {
        log(`${r.path}: reset after ${at} body bytes`);
        // once what was written has gone out (a reset right away can reach the client as a FIN)
        return void sock.write(Buffer.alloc(0), () => later(() => sock.destroyed || sock.resetAndDestroy(), 20));
      }
      if (x.cutAt !== undefined && stop === x.cutAt) log(`${r.path}: cut after ${at} body bytes`);
      sock.end();
    };
    step();
  }

  function endText(sock: Socket, r: AirRequest, status: number, reason: string, text: string): void {
    sock.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\nConnection: close\r\n\r\n${text}`);
    r.complete = true;
    sock.end();
  }

  function onConnection(sock: Socket): void {
    live.add(sock);
    sock.setNoDelay(true);
    let head = "";
    let r: AirRequest | undefined;
    sock.on("data", (d: Buffer) => {
      if (r) return; // a body or a second request: not part of this protocol
      head += d.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const lines = head.slice(0, end).split("\r\n");
      const [method = "", target = ""] = lines[0].split(" ");
      const q = target.indexOf("?");
      const path = q < 0 ? target : target.slice(0, q);
      const name = path.startsWith("/air/") ? decodeURIComponent(path.slice(5)) : undefined;
      r = {
        t: Date.now(), method, path, query: q < 0 ? "" : target.slice(q + 1),
        headers: lines.slice(1).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()] as [string, string]),
        name, status: 0, sent: 0, complete: false, clientGone: false, open: true,
      };
      requests.push(r);
      log(`${method} ${target}`);
      respond(sock, r, name !== undefined ? files.get(name) : undefined);
    });
    sock.on("error", () => {});
    sock.on("close", () => {
      live.delete(sock);
      if (r) {
        r.open = false;
        r.clientGone = !r.complete;
      }
    });
  }

  const server: Server = createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  return {
    port,
    host: "127.0.0.1",
    requests,
    url: (name, query) => `http://127.0.0.1:${port}/air/${encodeURIComponent(name)}` + (query ? "?" + query : ""),
    serve(name, bytes, faults = {}) {
      const b = typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes;
      const f: Served = {
        bytes: b,
        md5: createHash("md5").update(b).digest("hex"),
        sha256: createHash("sha256").update(b).digest("base64"),
        faults,
        fw: findFwTag(b)?.info ?? {},
      };
      files.set(name, f);
      return { md5: f.md5, sha256: f.sha256, size: b.length };
    },
    openCount: () => live.size,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of live) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
