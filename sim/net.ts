/**
 * The socket layer: `http`, `net`, `tls` and `dgram` on real 127.0.0.1 sockets, driven by the
 * device's idle loop exactly like Espruino's socketserver.c (one chunk of at most 536 bytes on
 * ESP32 / 268 on ESP8266 received and sent per connection per loop iteration, events queued).
 *
 * Ported from espruino/Espruino libs/network/socketserver.c, libs/network/jswrap_net.c,
 * libs/network/http/jswrap_http.c and src/jswrap_stream.c. We parse HTTP ourselves on raw
 * sockets (not Node's http server) so hostile input reaches the firmware as it would on the chip.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as nodeNet from 'node:net';
import { SOCKET_ERR, fromBytes, jsException, socketErrorString, toBytes, typeName } from './bytes.ts';
import type { Host } from './host.ts';
import type { Chip } from './types.ts';
import { fakeIpFor } from './wifi.ts';
import { urlParse } from './url.ts';

/** lwIP / ESP8266 MAX_SOCKETS: servers + connections + UDP sockets. */
export const MAX_SOCKETS = 10;
/** jswrap_stream.h STREAM_MAX_BUFFER_SIZE: what a stream buffers while nobody listens to 'data'. */
export const STREAM_MAX_BUFFER_SIZE = 512;
/** Size of Espruino's UDP packet header in the receive buffer (JsNetUDPPacketHeader). */
const UDP_HEADER = 8;
/** ESP32 blocking connect() to a host that never answers: lwIP SYN retries. */
export const ESP32_CONNECT_TIMEOUT_MS = 18000;
/** ESP8266 espconn connect timeout. */
export const ESP8266_CONNECT_TIMEOUT_MS = 10000;
/** ESP8266 async DNS failure delay. */
const DNS_FAIL_MS = 100;

export interface NetEnv {
  chip: Chip;
  hosts: Record<string, string>;
  connectThrowsSync: boolean;
  requireLink: boolean;
  reapAbandonedConnections: boolean;
  tls: boolean;
  /** `short`: the heap outside the JsVars has no room for a TLS socket (stock ESP32 builds): tls.connect throws as Espruino does. */
  tlsMemory?: { short: boolean };
  /** AP up or STA has an address: clients can reach the device. */
  linkUp(): boolean;
  /** STA has an address: the device can reach the internet. */
  staUp(): boolean;
  /** The ESP32 blocks in connect(): advance virtual time by ms inside the current JS call. */
  block(ms: number): void;
  stats: NetStats;
  /** device port -> real port, remembered across reboots so URLs stay stable. */
  portPrefs: Map<string, number>;
}

export interface NetStats {
  tlsConnects: number;
  /** TCP bytes received by device-side sockets. */
  rxBytes: number;
  /** TCP bytes sent by device-side sockets. */
  txBytes: number;
  /** Incoming connections dropped (no link, or socket limit). */
  refused: number;
  /** What outgoing (client) sockets sent, chunk by chunk, stamped with virtual time; `to` is "host:port" as the device asked. */
  sent: { t: number; to: string; bytes: Buffer }[];
  /** What outgoing (client) sockets received, as the device's idle loop took it in, stamped likewise. */
  received: { t: number; to: string; bytes: Buffer }[];
}

/** Stream buffers (STREAM_BUFFER_NAME) of device objects; the runtime flushes them when a 'data' listener is added. */
export const streamBuffers = new WeakMap<object, { buf: string }>();

// ------------------------------------------------------------------ real socket wrapper

class RealSock {
  private rx: Buffer[] = [];
  private rxLen = 0;
  private ended = false;
  err = 0;
  connected: boolean;
  closed = false;

  constructor(readonly sock: nodeNet.Socket, connected: boolean, private stats: NetStats, onActivity: () => void, private onSend?: (b: Buffer) => void, private onRecv?: (b: Buffer) => void) {
    this.connected = connected;
    // Virtual time runs far ahead of real time: with Nagle on, a small frame waiting for the
    // peer's delayed ACK (40 real ms) would reach the other side many virtual seconds late.
    sock.setNoDelay(true);
    sock.on('data', (b: Buffer) => {
      this.rx.push(b);
      this.rxLen += b.length;
      this.stats.rxBytes += b.length;
      onActivity();
    });
    sock.on('connect', () => {
      this.connected = true;
      onActivity();
    });
    sock.on('end', () => {
      this.ended = true;
      onActivity();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (!this.err) this.err = e.code === 'ETIMEDOUT' ? SOCKET_ERR.TIMEOUT : SOCKET_ERR.RESET;
      onActivity();
    });
    sock.on('close', () => {
      this.ended = true;
      onActivity();
    });
  }

  hasData(): boolean {
    return this.rxLen > 0;
  }

  /** netRecv: bytes, or 0 for none, or a negative error (-1 closed, -11 not connected yet). */
  recv(max: number): Buffer | number {
    if (this.rxLen > 0) {
      const all = Buffer.concat(this.rx);
      const out = all.subarray(0, max);
      const rest = all.subarray(max);
      this.rx = rest.length ? [rest] : [];
      this.rxLen = rest.length;
      this.onRecv?.(out);
      return out;
    }
    if (this.err) return this.err;
    if (this.ended || this.closed) return SOCKET_ERR.CLOSED;
    if (!this.connected) return SOCKET_ERR.NO_CONN;
    return 0;
  }

  send(b: Buffer): number {
    if (this.err) return this.err;
    if (this.closed || this.sock.destroyed || !this.sock.writable) return SOCKET_ERR.CLOSED;
    if (!this.connected) return 0;
    this.sock.write(b);
    this.stats.txBytes += b.length;
    this.onSend?.(b);
    return b.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.end();
    // a peer that never closes its side must not keep the process alive
    setTimeout(() => this.sock.destroy(), 2000).unref();
  }

  destroy(): void {
    this.closed = true;
    this.sock.destroy();
  }
}

/** Is anything listening on 127.0.0.1:port? (Linux: /proc/net/tcp; undefined when unknown.) */
function isListening(port: number): boolean | undefined {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let known = false;
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    known = true;
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 3 && cols[3] === '0A' && cols[1].endsWith(':' + hex)) return true;
    }
  }
  return known ? false : undefined;
}

// ------------------------------------------------------------------ connection records

interface ServerRec {
  kind: 'http' | 'net';
  obj: any;
  devicePort: number;
  server?: nodeNet.Server;
  realPort?: number;
  listening?: Promise<void>;
  pending: nodeNet.Socket[];
  closed: boolean;
}

interface ResState {
  sendData: string | undefined;
  cls: boolean;
  chunked: boolean;
  headers: any;
}

/** HTTP server connection: Espruino's httpSRq (connection) + httpSRs (socket). */
interface ServerConn {
  sock: RealSock;
  server: ServerRec;
  req: any;
  res: any;
  rx: string;
  hadHeaders: boolean;
  chunked: boolean;
  cRcv: number;
  ended: boolean;
  closeNow: boolean;
  resState: ResState;
}

/** net Socket (outgoing or accepted) or http client request. */
interface ClientConn {
  kind: 'net' | 'http';
  obj: any;
  /** http: the response object (httpCRs), net: the socket itself */
  reader: any;
  sock?: RealSock;
  /** socket creation was attempted (Espruino's "sckt" child exists) */
  created: boolean;
  options: any;
  tls: boolean;
  sendData: string | undefined;
  cls: boolean;
  closeNow: boolean;
  connected: boolean;
  rx: string;
  hadHeaders: boolean;
  chunked: boolean;
  reqChunked: boolean;
  cRcv: number;
  ended: boolean;
  /** asynchronous connect failure (DNS, refused, timeout) waiting to be reported */
  pendingError?: number;
}

interface UdpRec {
  obj: any;
  sock?: dgram.Socket;
  devicePort?: number;
  realPort?: number;
  bound?: Promise<void>;
  inbox: { msg: Buffer; address: string; port: number }[];
  outbox: { msg: Buffer; port: number; address: string }[];
  closed: boolean;
  recvMax: number;
}

function getHeaderI(headers: any, name: string): unknown {
  if (!headers || typeof headers !== 'object') return undefined;
  const want = name.toLowerCase();
  for (const k of Object.keys(headers)) if (k.toLowerCase() === want) return headers[k];
  return undefined;
}

/** jsvGetInteger on a header value string: leading integer or 0. */
function intOf(v: unknown): number {
  if (v === undefined || v === null) return 0;
  const n = parseInt(String(v), 10);
  return Number.isFinite(n) ? n : 0;
}

export class NetStack {
  private servers: ServerRec[] = [];
  private serverConns: ServerConn[] = [];
  private clientConns: ClientConn[] = [];
  private udps: UdpRec[] = [];
  private readonly chunkSize: number;
  private dead = false;
  /** Activity counter of the current idle pass (accepts, bytes moved, closes, datagrams). */
  private moved = 0;
  /** Called when real I/O arrived (lets realtime mode react quickly). */
  onActivity: () => void = () => {};

  constructor(private host: Host, private env: NetEnv) {
    this.chunkSize = env.chip === 'ESP32' ? 536 : 268;
  }

  // ------------------------------------------------------------------ bookkeeping

  socketCount(): number {
    return this.servers.filter((s) => !s.closed).length + this.serverConns.length +
      this.clientConns.filter((c) => c.sock).length + this.udps.filter((u) => !u.closed && u.sock).length;
  }

  /** Open sockets, for diagnosis (sim.sockets()). */
  private hiddenViews = new WeakMap<ServerConn, any>();

  /**
   * Espruino's hidden-root list "HttpSC" (socketserver.c) as JS code can read it through
   * global["\xFF"]: one object per accepted connection (UDP sockets are in Espruino's list too, but
   * nothing here reads them), HTTP ones with `res`, and `hdrs` once the request's headers are in;
   * setting `clsNow` closes the connection on the next idle loop. Other properties stick.
   */
  hiddenServerConnections(): any {
    const out = this.host.arr();
    for (const c of this.serverConns) {
      let v = this.hiddenViews.get(c);
      if (!v) {
        v = this.host.obj({ type: c.server.kind === 'http' ? 2 : 1 });
        if (c.server.kind === 'http') {
          // Espruino creates the response object when it accepts the connection; here it comes with the headers
          const early = this.host.obj();
          Object.defineProperty(v, 'res', { get: () => c.res ?? early, enumerable: true });
        }
        Object.defineProperty(v, 'hdrs', { get: () => (c.hadHeaders ? true : undefined), enumerable: true });
        Object.defineProperty(v, 'clsNow', {
          get: () => c.closeNow || undefined,
          set: (x: unknown) => {
            if (x) {
              c.closeNow = true;
              this.onActivity();
            }
          },
          enumerable: true,
        });
        this.hiddenViews.set(c, v);
      }
      out.push(v);
    }
    return out;
  }

  describe(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const s of this.servers) if (!s.closed) out.push({ type: `${s.kind} server`, devicePort: s.devicePort, realPort: s.realPort, pendingAccepts: s.pending.length });
    for (const c of this.serverConns) {
      out.push({ type: 'http request', devicePort: c.server.devicePort, url: c.req.url, hadHeaders: c.hadHeaders, bytesToReceive: c.cRcv,
        ended: c.ended, responseEnded: c.resState.cls, unsent: c.resState.sendData?.length ?? 0 });
    }
    for (const c of this.clientConns) {
      if (!c.sock) continue;
      out.push({ type: c.kind === 'http' ? 'http client' : 'net socket', host: c.options?.host, port: c.options?.port, tls: c.tls,
        connected: c.connected, unsent: c.sendData?.length ?? 0 });
    }
    for (const u of this.udps) if (!u.closed && u.sock) out.push({ type: 'udp', devicePort: u.devicePort, realPort: u.realPort });
    return out;
  }

  /** Real 127.0.0.1 port for a device TCP port. */
  httpPort(devicePort: number): number | undefined {
    return this.servers.find((s) => s.devicePort === devicePort && !s.closed)?.realPort;
  }

  udpPort(devicePort: number): number | undefined {
    return this.udps.find((u) => u.devicePort === devicePort && !u.closed)?.realPort;
  }

  /** Wait until every listen()/bind() has its real port. */
  async ready(): Promise<void> {
    await Promise.all([...this.servers.map((s) => s.listening), ...this.udps.map((u) => u.bound)]);
  }

  hasOpenRealSockets(): boolean {
    return this.servers.some((s) => !s.closed) || this.serverConns.length > 0 || this.clientConns.some((c) => c.sock) ||
      this.udps.some((u) => !u.closed && u.sock);
  }

  /**
   * Work the next loop iteration at the same instant would make progress on (data to move, an
   * event or a close due). Conditions that only change with real I/O or time do not count.
   */
  busy(): boolean {
    if (this.servers.some((s) => s.pending.length)) return true;
    for (const c of this.serverConns) {
      if (c.closeNow || c.sock.hasData() || c.resState.sendData) return true;
      const complete = c.hadHeaders && c.cRcv <= 0;
      if (complete && (!c.ended || c.resState.cls)) return true;
    }
    for (const c of this.clientConns) {
      if (c.closeNow || c.pendingError !== undefined) return true;
      if (!c.sock) continue;
      if (c.sock.hasData() || (c.sock.connected && (c.sendData || !c.connected))) return true;
      if (c.cls && !c.sendData && (c.kind === 'net' || (c.hadHeaders && c.cRcv <= 0))) return true;
      if (c.kind === 'http' && c.hadHeaders && c.cRcv <= 0 && !c.ended) return true;
      if (c.rx.length && c.hadHeaders && this.host.listeners(c.reader, 'data').length) return true;
    }
    return this.udps.some((u) => u.inbox.length || u.outbox.length);
  }

  /** Tear down everything (soft reset, reboot, stop). */
  kill(): void {
    this.dead = true;
    for (const s of this.servers) {
      s.closed = true;
      s.server?.close();
      for (const p of s.pending) p.destroy();
    }
    for (const c of this.serverConns) c.sock.destroy();
    for (const c of this.clientConns) c.sock?.destroy();
    for (const u of this.udps) {
      u.closed = true;
      try {
        u.sock?.close();
      } catch {
        // already closed
      }
    }
    this.servers = [];
    this.serverConns = [];
    this.clientConns = [];
    this.udps = [];
  }

  private assertSocketSlot(): void {
    if (this.socketCount() >= MAX_SOCKETS) {
      if (this.env.chip === 'ESP32') this.host.jsError('Socket creation failed');
      throw jsException('InternalError', 'Unable to create socket');
    }
  }

  private listenReal(rec: ServerRec): void {
    const key = `tcp:${rec.devicePort}`;
    const preferred = this.env.portPrefs.get(key) ?? 0;
    const server = nodeNet.createServer({ allowHalfOpen: false });
    rec.server = server;
    server.on('connection', (s) => {
      if (rec.closed || this.dead) {
        s.destroy();
        return;
      }
      if ((this.env.requireLink && !this.env.linkUp()) || this.socketCount() + rec.pending.length >= MAX_SOCKETS) {
        this.env.stats.refused++;
        s.destroy();
        return;
      }
      s.pause();
      rec.pending.push(s);
      this.onActivity();
    });
    rec.listening = new Promise<void>((resolve) => {
      const tryListen = (port: number) => {
        const onError = (e: NodeJS.ErrnoException) => {
          if (port !== 0 && e.code === 'EADDRINUSE') tryListen(0);
          else resolve();
        };
        server.once('error', onError);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', onError);
          rec.realPort = (server.address() as nodeNet.AddressInfo).port;
          this.env.portPrefs.set(key, rec.realPort);
          resolve();
        });
      };
      tryListen(preferred);
    });
  }

  private serverListen(kind: 'http' | 'net', obj: any, port: unknown): any {
    this.host.alive();
    const devicePort = Number(port) & 0xffff;
    this.assertSocketSlot();
    if (this.servers.some((s) => !s.closed && s.devicePort === devicePort)) {
      this.host.jsError('Socket bind failed');
      throw jsException('InternalError', 'Unable to create socket');
    }
    const rec: ServerRec = { kind, obj, devicePort, pending: [], closed: false };
    this.servers.push(rec);
    this.listenReal(rec);
    return obj;
  }

  private serverClose(obj: any): void {
    this.host.alive();
    const rec = this.servers.find((s) => s.obj === obj && !s.closed);
    if (!rec) {
      this.host.jsWarn('Server not found!');
      return;
    }
    rec.closed = true;
    rec.server?.close();
    for (const p of rec.pending) p.destroy();
    this.servers = this.servers.filter((s) => s !== rec);
  }

  // ------------------------------------------------------------------ stream helpers

  /** jswrap_stream_pushData: call 'data' listeners now, or buffer (max 512). Returns false when not consumed. */
  private pushData(reader: any, data: string, force: boolean): boolean {
    const fns = this.host.listeners(reader, 'data');
    if (fns.length) {
      for (const f of fns) this.host.call(f, reader, [data]);
      return true;
    }
    let st = streamBuffers.get(reader);
    if (!st) {
      st = { buf: '' };
      streamBuffers.set(reader, st);
    }
    if (st.buf === '') {
      st.buf = data;
      return true;
    }
    let ok = true;
    if (st.buf.length + data.length > STREAM_MAX_BUFFER_SIZE) ok = false;
    if ((ok || force) && st.buf.length < STREAM_MAX_BUFFER_SIZE) st.buf += data.slice(0, STREAM_MAX_BUFFER_SIZE - st.buf.length);
    return ok;
  }

  private addStreamMethods(o: any): void {
    streamBuffers.set(o, { buf: '' });
    o.available = () => streamBuffers.get(o)?.buf.length ?? 0;
    o.read = (chars?: unknown) => {
      const st = streamBuffers.get(o)!;
      const n = typeof chars === 'number' && chars > 0 ? chars : st.buf.length;
      const out = st.buf.slice(0, n);
      st.buf = st.buf.slice(n);
      return out;
    };
  }

  /**
   * socketPushReceiveData: account for Content-Length / decode chunked encoding, then deliver.
   * Returns the data left in the receive buffer.
   */
  private pushReceiveData(r: { chunked: boolean; cRcv: number }, reader: any, rx: string, isHttp: boolean, force: boolean): string {
    if (!rx) return rx;
    let nextChunk: string | undefined;
    let partialChunk: string | undefined;
    if (isHttp) {
      const len = rx.length;
      if (r.chunked) {
        if (len < 5) return rx;
        const startIdx0 = rx.indexOf('\r\n');
        const chunkLen = parseInt(rx, 16) || 0;
        r.cRcv = chunkLen ? 1 : 0;
        if (!chunkLen) return '';
        const startIdx = startIdx0 + 2;
        const nextIdx = startIdx + chunkLen + 2;
        if (nextIdx < len) nextChunk = rx.slice(nextIdx);
        else if (nextIdx > len) {
          if (nextIdx - len < 3) return rx;
          partialChunk = (nextIdx - len - 2).toString(16) + '\r\n';
        }
        rx = rx.slice(startIdx, startIdx + chunkLen);
      } else {
        r.cRcv -= len;
      }
    }
    if (rx !== '' && !this.pushData(reader, rx, force)) return rx;
    const rest = nextChunk ?? partialChunk ?? '';
    if (nextChunk !== undefined) return this.pushReceiveData(r, reader, rest, isHttp, force);
    return rest;
  }

  private fireError(code: number, ...objs: any[]): boolean {
    if (code >= 0 || code === SOCKET_ERR.CLOSED) return false;
    const err = { code, message: socketErrorString(code) };
    for (const o of objs) if (o) this.host.queueEvent(o, 'error', [this.host.data(err)]);
    return true;
  }

  // ------------------------------------------------------------------ idle loop

  /** One socketIdle pass. Returns true when data moved or a connection opened/closed. */
  idle(): boolean {
    this.moved = 0;
    if (this.dead) return false;
    // accept one pending connection per server per iteration (netAccept)
    for (const s of this.servers.slice()) {
      if (s.closed) continue;
      const raw = s.pending.shift();
      if (!raw) continue;
      raw.resume();
      this.moved++;
      const sock = new RealSock(raw, true, this.env.stats, () => this.onActivity());
      if (s.kind === 'http') this.acceptHttp(s, sock);
      else this.acceptNet(s, sock);
    }
    this.serverConnectionsIdle();
    this.udpIdle();
    this.clientConnectionsIdle();
    return this.moved > 0;
  }

  private acceptHttp(s: ServerRec, sock: RealSock): void {
    const h = this.host;
    const req = h.obj();
    const res = h.obj();
    const resState: ResState = { sendData: undefined, cls: false, chunked: false, headers: h.obj({ Connection: 'close' }) };
    res.headers = resState.headers;
    const conn: ServerConn = { sock, server: s, req, res, rx: '', hadHeaders: false, chunked: false, cRcv: 0, ended: false, closeNow: false, resState };
    this.addStreamMethods(req);
    const open = () => !(resState.cls || conn.closeNow);
    const writeHead = (code: unknown, explicit?: unknown) => {
      h.alive();
      if (explicit !== undefined && (typeof explicit !== 'object' || explicit === null || Array.isArray(explicit))) {
        h.jsError('Headers sent to writeHead should be an object');
        return;
      }
      if (resState.sendData !== undefined) {
        h.jsError('Headers have already been sent');
        return;
      }
      const all: Record<string, unknown> = {};
      for (const k of Object.keys(resState.headers)) all[k] = resState.headers[k];
      if (explicit) for (const k of Object.keys(explicit)) all[k] = (explicit as Record<string, unknown>)[k];
      let out = `HTTP/1.1 ${Math.trunc(Number(code)) | 0} OK\r\nServer: Espruino 2v29\r\n`;
      for (const k of Object.keys(all)) out += `${k}: ${String(all[k])}\r\n`;
      toBytes(out, 'res.writeHead headers');
      const te = getHeaderI(all, 'Transfer-Encoding');
      if (te !== undefined && String(te).toLowerCase() === 'chunked') resState.chunked = true;
      resState.sendData = out + '\r\n';
    };
    const write = (data: unknown) => {
      h.alive();
      if (!open()) throw jsException('Error', 'This socket is closed');
      if (resState.sendData === undefined) writeHead(200);
      if (data !== undefined) {
        const s2 = String(data);
        toBytes(s2, 'res.write');
        resState.sendData += resState.chunked ? `${s2.length.toString(16)}\r\n${s2}\r\n` : s2;
      }
      return false;
    };
    res.writeHead = writeHead;
    res.setHeader = (name: unknown, value: unknown) => {
      h.alive();
      resState.headers[String(name)] = String(value);
    };
    res.write = write;
    res.end = (data?: unknown) => {
      h.alive();
      if (data !== undefined) write(data);
      write(resState.chunked ? '' : undefined);
      resState.cls = true;
    };
    this.serverConns.push(conn);
  }

  /** httpParseHeaders: returns false until "\r\n\r\n" arrived; fills method/url/headers (server) or status (client). */
  private parseHeaders(rx: string, target: any, r: { chunked: boolean; cRcv: number }, isServer: boolean): string | undefined {
    const headerEnd = rx.indexOf('\r\n\r\n');
    if (headerEnd < 0) return undefined;
    const end = headerEnd + 4;
    const headers = this.host.obj();
    target.headers = headers;
    let firstSpace = -1;
    let secondSpace = -1;
    let firstEOL = -1;
    let lineNumber = 0;
    let lastLineStart = 0;
    let colonPos = 0;
    let valueStart = 0;
    for (let i = 0; i < rx.length; i++) {
      const ch = rx[i];
      if (ch === ' ' || ch === '\r') {
        if (firstSpace < 0) firstSpace = i;
        else if (secondSpace < 0) secondSpace = i;
      }
      if (ch === ':' && colonPos < 0) colonPos = i;
      else if (colonPos > 0 && !valueStart && !/\s/.test(ch)) valueStart = i;
      if (ch === '\r') {
        if (firstEOL < 0) firstEOL = i;
        if (lineNumber > 0 && colonPos > lastLineStart && valueStart > lastLineStart && lastLineStart < i) {
          const key = rx.slice(lastLineStart, colonPos);
          // jsvAddName appends a second property with the same name; lookups find the first one
          if (!Object.prototype.hasOwnProperty.call(headers, key)) headers[key] = rx.slice(valueStart, i);
        }
        lineNumber++;
        colonPos = -1;
        valueStart = 0;
      }
      if (ch === '\r' || ch === '\n') lastLineStart = i + 1;
    }
    const te = getHeaderI(headers, 'Transfer-Encoding');
    if (te !== undefined && String(te).toLowerCase() === 'chunked') {
      r.chunked = true;
      r.cRcv = 1;
    } else r.cRcv = intOf(getHeaderI(headers, 'Content-Length'));
    if (isServer) {
      target.method = rx.slice(0, Math.max(0, firstSpace));
      target.url = rx.slice(firstSpace + 1, Math.max(firstSpace + 1, secondSpace));
    } else {
      target.httpVersion = rx.slice(5, Math.max(5, firstSpace));
      target.statusCode = rx.slice(firstSpace + 1, Math.max(firstSpace + 1, secondSpace));
      target.statusMessage = rx.slice(secondSpace + 1, Math.max(secondSpace + 1, firstEOL));
    }
    return rx.slice(end);
  }

  /** socketServerConnectionsIdle (HTTP server connections). */
  private serverConnectionsIdle(): void {
    for (const c of this.serverConns.slice()) {
      if (!this.serverConns.includes(c)) continue;
      let closeNow = c.closeNow;
      let error = 0;
      if (!closeNow) {
        const got = c.sock.recv(this.chunkSize);
        let num = 0;
        if (typeof got === 'number') {
          if (got < 0) {
            closeNow = true;
            error = got;
            num = got;
          }
        } else {
          num = got.length;
          if (num > 0) {
            this.moved++;
            c.rx += fromBytes(got);
            if (!c.hadHeaders) {
              const rest = this.parseHeaders(c.rx, c.req, c, true);
              if (rest !== undefined) {
                c.hadHeaders = true;
                c.rx = rest;
                this.host.queueEvent(c.server.obj, 'connect', [c.req, c.res]);
              }
            }
            if (c.hadHeaders) c.rx = this.pushReceiveData(c, c.req, c.rx, true, false);
          }
        }
        const rs = c.resState;
        if (rs.sendData) {
          const chunk = rs.sendData.slice(0, this.chunkSize);
          const sent = c.sock.send(toBytes(chunk, 'HTTP response'));
          if (sent < 0) {
            closeNow = true;
            error = sent;
          } else if (sent > 0) {
            this.moved++;
            rs.sendData = rs.sendData.slice(sent);
            if (!rs.sendData && !rs.cls) this.host.queueEvent(c.res, 'drain', [c.res]);
          }
        }
        // only close if we want to close, have nothing left to send and are not receiving.
        // NB: like the C code this overrides a peer close/reset: a connection whose request never
        // completed, or that the firmware never ends, stays open (and keeps its socket slot).
        if (!rs.sendData && num <= 0) {
          let reallyClose = rs.cls;
          if (c.cRcv > 0 || !c.hadHeaders) reallyClose = false;
          else if (!c.ended) {
            c.ended = true;
            this.host.queueEvent(c.req, 'end', []);
          }
          closeNow = reallyClose;
          if (num < 0 && this.env.reapAbandonedConnections) closeNow = true;
        } else if (num > 0) closeNow = false;
      }
      if (closeNow) {
        this.moved++;
        if (c.hadHeaders) c.rx = this.pushReceiveData(c, c.req, c.rx, true, true);
        const hadError = this.fireError(error, c.req, c.res);
        this.host.queueEvent(c.res, 'end', []);
        this.host.queueEvent(c.req, 'close', [hadError]);
        this.host.queueEvent(c.res, 'close', [hadError]);
        c.sock.close();
        c.resState.cls = true;
        this.serverConns.splice(this.serverConns.indexOf(c), 1);
      }
    }
  }

  // ------------------------------------------------------------------ net sockets and http client

  private acceptNet(s: ServerRec, sock: RealSock): void {
    const o = this.makeSocketObject();
    const c = this.newClient('net', o, o, this.host.obj(), false);
    c.sock = sock;
    c.created = true;
    this.clientConns.push(c);
    this.host.queueEvent(s.obj, 'connect', [o]);
  }

  private newClient(kind: 'net' | 'http', obj: any, reader: any, options: any, tls: boolean): ClientConn {
    return {
      kind, obj, reader, created: false, options, tls, sendData: undefined, cls: false, closeNow: false,
      connected: false, rx: '', hadHeaders: kind === 'net', chunked: false, reqChunked: false, cRcv: 0, ended: false,
    };
  }

  private makeSocketObject(): any {
    const o = this.host.obj();
    this.addStreamMethods(o);
    o.write = (data: unknown) => {
      this.host.alive();
      const c = this.clientConns.find((x) => x.obj === o);
      this.clientWrite(c, o, data);
      return false;
    };
    o.end = (data?: unknown) => {
      this.host.alive();
      const c = this.clientConns.find((x) => x.obj === o);
      if (data !== undefined) this.clientWrite(c, o, data);
      if (!c) return;
      if (!c.sendData) c.closeNow = true;
      c.cls = true;
    };
    return o;
  }

  /** clientRequestWrite */
  private clientWrite(c: ClientConn | undefined, o: any, data: unknown): void {
    if (!c || c.closeNow || c.cls) throw jsException('Error', 'This socket is closed');
    if (c.sendData === undefined) {
      if (c.kind === 'http' && !c.created) {
        const opt = c.options;
        let hdr = `${String(opt.method)} ${String(opt.path)} HTTP/1.1\r\nUser-Agent: Espruino 2v29\r\nConnection: close\r\n`;
        const headers = opt.headers;
        let hasHost = false;
        if (headers && typeof headers === 'object' && !Array.isArray(headers)) {
          hasHost = getHeaderI(headers, 'Host') !== undefined;
          for (const k of Object.keys(headers)) hdr += `${k}: ${String(headers[k])}\r\n`;
          const te = headers['Transfer-Encoding'];
          if (te !== undefined && String(te).toLowerCase() === 'chunked') c.reqChunked = true;
        }
        if (!hasHost) {
          const port = intOf(opt.port);
          hdr += port > 0 && port !== 80 ? `Host: ${String(opt.host)}:${port}\r\n` : `Host: ${String(opt.host)}\r\n`;
        }
        toBytes(hdr, 'http request headers');
        c.sendData = hdr + '\r\n';
      } else c.sendData = '';
    }
    if (data !== undefined && data !== null) {
      const s = String(data);
      toBytes(s, 'socket.write');
      c.sendData += c.reqChunked ? `${s.length.toString(16)}\r\n${s}\r\n` : s;
    }
    if (c.kind === 'http') this.clientConnect(c);
  }

  /** Where does host:port go? */
  private resolve(host: string, port: number): { target?: string; dns: boolean } {
    const key = `${host}:${port}`;
    const isIp = /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
    let mapped = this.env.hosts[key];
    if (mapped === undefined && isIp) {
      // an address handed out by Wifi.getHostByName
      for (const k of Object.keys(this.env.hosts)) {
        const i = k.lastIndexOf(':');
        if (k.slice(i + 1) === String(port) && fakeIpFor(k.slice(0, i)) === host) mapped = this.env.hosts[k];
      }
      if (mapped === undefined && (host === '127.0.0.1')) {
        const local = this.httpPort(port);
        if (local) mapped = `127.0.0.1:${local}`;
      }
    }
    if (isIp) return { target: mapped ?? 'blackhole', dns: true };
    const known = mapped !== undefined || Object.keys(this.env.hosts).some((k) => k.slice(0, k.lastIndexOf(':')) === host);
    if (!known) return { dns: false };
    return { target: mapped ?? 'blackhole', dns: true };
  }

  /** clientRequestConnect: create the socket (may throw synchronously, like the chip). */
  private clientConnect(c: ClientConn): void {
    if (c.created) return;
    c.created = true;
    const opt = c.options;
    const hostName = opt.host === undefined ? '127.0.0.1' : String(opt.host);
    let port = intOf(opt.port) & 0xffff;
    if (c.tls && !port) port = 443;
    if (c.kind === 'http' && !port) port = 80;
    const sync = this.env.connectThrowsSync;
    const isIp = /^\d{1,3}(\.\d{1,3}){3}$/.test(hostName);
    /** Asynchronous failure (ESP8266 espconn): reported on the next idle loop after `delay` virtual ms. */
    const fail = (code: number, delay: number) => {
      this.host.later(delay, () => {
        c.pendingError = code;
      });
    };
    // no STA link: DNS fails / no route
    if (!this.env.staUp() && !(isIp && hostName === '127.0.0.1')) {
      if (!isIp) {
        if (sync) {
          c.closeNow = true;
          throw jsException('InternalError', 'Unable to locate host');
        }
        fail(SOCKET_ERR.NOT_FOUND, DNS_FAIL_MS);
        return;
      }
      if (sync) {
        c.closeNow = true;
        this.host.jsError('Connect failed (err 113)');
        throw jsException('InternalError', 'Unable to create socket');
      }
      fail(SOCKET_ERR.NO_ROUTE, 0);
      return;
    }
    const r = this.resolve(hostName, port);
    if (!r.dns) {
      if (sync) {
        c.closeNow = true;
        throw jsException('InternalError', 'Unable to locate host');
      }
      fail(SOCKET_ERR.NOT_FOUND, DNS_FAIL_MS);
      return;
    }
    try {
      this.assertSocketSlot();
    } catch (e) {
      c.closeNow = true;
      throw e;
    }
    let target = r.target!;
    if (target !== 'refuse' && target !== 'blackhole') {
      const m = /^([\d.]+|localhost):(\d+)$/.exec(target);
      if (!m) throw new Error(`sim hosts mapping for ${hostName}:${port} must be "127.0.0.1:PORT", "refuse" or "blackhole", got ${JSON.stringify(target)}`);
      if (sync && isListening(Number(m[2])) === false) target = 'refuse';
    }
    if (target === 'refuse') {
      if (sync) {
        c.closeNow = true;
        this.host.jsError('Connect failed (err 111)');
        throw jsException('InternalError', 'Unable to create socket');
      }
      fail(SOCKET_ERR.RESET, 5);
      return;
    }
    if (target === 'blackhole') {
      if (sync) {
        this.env.block(ESP32_CONNECT_TIMEOUT_MS);
        c.closeNow = true;
        this.host.jsError('Connect failed (err 113)');
        throw jsException('InternalError', 'Unable to create socket');
      }
      fail(SOCKET_ERR.TIMEOUT, ESP8266_CONNECT_TIMEOUT_MS);
      return;
    }
    if (c.tls && this.env.tlsMemory?.short) {
      // network.c ssl_newSocketData: the first exception (mbedtls_ssl_setup's) is the one thrown
      c.closeNow = true;
      throw jsException('InternalError', 'mbedtls_ssl_setup: Not enough memory');
    }
    const [realHost, realPort] = target.split(':');
    if (c.tls) this.env.stats.tlsConnects++;
    const raw = nodeNet.connect({ host: realHost === 'localhost' ? '127.0.0.1' : realHost, port: Number(realPort), allowHalfOpen: true });
    const to = hostName + ':' + port;
    c.sock = new RealSock(raw, false, this.env.stats, () => this.onActivity(), (b) => this.env.stats.sent.push({ t: this.host.now(), to, bytes: b }),
      (b) => this.env.stats.received.push({ t: this.host.now(), to, bytes: b }));
  }

  private netConnect(options: unknown, cb: unknown, tls: boolean): any {
    this.host.alive();
    let opt = options;
    if (typeof opt === 'string') opt = urlParse(this.host, opt, false);
    if (typeof opt !== 'object' || opt === null) throw jsException('Error', `Expecting Options to be an Object but it was ${typeName(opt)}`);
    const o = this.makeSocketObject();
    const c = this.newClient('net', o, o, opt, tls);
    if (typeof cb === 'function') o.on('connect', cb);
    this.clientConns.push(c);
    this.clientConnect(c);
    return o;
  }

  private httpRequest(options: unknown, cb: unknown): any {
    this.host.alive();
    let opt = options;
    if (typeof opt === 'string') opt = urlParse(this.host, opt, false);
    if (typeof opt !== 'object' || opt === null) throw jsException('Error', `Expecting Options to be an Object but it was ${typeName(opt)}`);
    const tls = (opt as any).protocol === 'https:';
    if (tls && !this.env.tls) throw jsException('InternalError', 'No SSL support compiled in');
    const req = this.host.obj();
    const res = this.host.obj();
    this.addStreamMethods(res);
    const c = this.newClient('http', req, res, opt, tls);
    if (typeof cb === 'function') req.on('connect', cb);
    req.write = (data: unknown) => {
      this.host.alive();
      this.clientWrite(c, req, data);
      return false;
    };
    req.end = (data?: unknown) => {
      this.host.alive();
      if (data !== undefined) this.clientWrite(c, req, data);
      this.clientWrite(c, req, c.reqChunked ? '' : undefined);
      c.cls = true;
    };
    this.clientConns.push(c);
    return req;
  }

  /** socketClientConnectionsIdle */
  private clientConnectionsIdle(): void {
    for (const c of this.clientConns.slice()) {
      if (!this.clientConns.includes(c)) continue;
      const isHttp = c.kind === 'http';
      let error = 0;
      let closeNow = c.closeNow;
      if (c.pendingError !== undefined) {
        closeNow = true;
        error = c.pendingError;
        c.pendingError = undefined;
      }
      if (c.sock && !closeNow) {
        if (c.hadHeaders) c.rx = this.pushReceiveData(c, c.reader, c.rx, isHttp, false);
        if (c.sendData) {
          const chunk = c.sendData.slice(0, this.chunkSize);
          const n = c.sock.send(toBytes(chunk, 'socket data'));
          if (n > 0) {
            this.moved++;
            c.sendData = c.sendData.slice(n);
            if (!c.connected && !isHttp) {
              this.host.queueEvent(c.obj, 'connect', [c.obj]);
              c.connected = true;
            }
            if (!c.sendData && !c.cls) this.host.queueEvent(c.obj, 'drain', [c.obj]);
          }
          if (n < 0) {
            closeNow = true;
            error = n;
          }
        } else {
          if (c.cls) closeNow = true;
          if (isHttp) {
            if (c.cRcv > 0 || !c.hadHeaders) closeNow = false;
            else if (!c.ended) {
              c.ended = true;
              this.host.queueEvent(c.reader, 'end', []);
            }
          }
        }
        const got = c.sock.recv(this.chunkSize);
        if (typeof got === 'number' && !c.connected && got === SOCKET_ERR.NO_CONN) {
          // still connecting
        } else if (typeof got === 'number' && got < 0) {
          closeNow = true;
          if (got === SOCKET_ERR.CLOSED) {
            if (!isHttp || c.cRcv > 0 || !c.hadHeaders) error = c.hadHeaders ? got : SOCKET_ERR.NO_RESP;
          } else error = got;
        } else {
          if (!c.connected && !isHttp) {
            this.host.queueEvent(c.obj, 'connect', [c.obj]);
            c.connected = true;
            if (!c.sendData) this.host.queueEvent(c.obj, 'drain', [c.obj]);
          }
          if (isHttp) c.connected = true;
          if (typeof got !== 'number' && got.length > 0) {
            this.moved++;
            c.rx += fromBytes(got);
            if (!c.hadHeaders) {
              const rest = this.parseHeaders(c.rx, c.reader, c, false);
              if (rest !== undefined) {
                c.hadHeaders = true;
                c.rx = rest;
                this.host.queueEvent(c.obj, 'connect', [c.reader]);
              }
            }
          }
        }
      }
      if (!c.sock && c.created && !closeNow) {
        // creation failed asynchronously and is still pending: nothing to do yet
        continue;
      }
      if (!c.sock && !c.created && !closeNow) continue;
      if (closeNow) {
        c.rx = this.pushReceiveData(c, c.reader, c.rx, isHttp, true);
        if (!c.rx) {
          this.moved++;
          if (c.sendData && error === SOCKET_ERR.CLOSED) error = SOCKET_ERR.UNSENT_DATA;
          c.sock?.close();
          this.clientConns.splice(this.clientConns.indexOf(c), 1);
          c.cls = true;
          c.closeNow = true;
          const hadError = this.fireError(error, c.obj);
          if (!c.ended) {
            c.ended = true;
            this.host.queueEvent(c.reader, 'end', []);
          }
          this.host.queueEvent(c.reader, 'close', [hadError]);
        }
      }
    }
  }

  // ------------------------------------------------------------------ UDP

  private makeUdp(type: unknown, cb: unknown): any {
    this.host.alive();
    const opts = typeof type === 'object' && type !== null ? (type as Record<string, unknown>) : { type };
    if (opts.type !== 'udp4') throw jsException('Error', `Unsupported socket type ${JSON.stringify(opts.type)}`);
    const o = this.host.obj();
    const chunk = Math.max(this.chunkSize, Number(opts.recvBufferSize) || 0);
    const rec: UdpRec = { obj: o, inbox: [], outbox: [], closed: false, recvMax: this.env.chip === 'ESP8266' ? this.chunkSize : chunk - UDP_HEADER };
    if (typeof cb === 'function') o.on('message', cb);
    const ensureSocket = (port: number) => {
      if (rec.sock) return;
      this.assertSocketSlot();
      const s = dgram.createSocket('udp4');
      rec.sock = s;
      rec.devicePort = port || undefined;
      s.on('message', (msg, rinfo) => {
        if (rec.closed) return;
        if (this.env.requireLink && !this.env.linkUp()) return;
        rec.inbox.push({ msg, address: rinfo.address, port: rinfo.port });
        this.onActivity();
      });
      s.on('error', () => {});
      const key = `udp:${port}`;
      const preferred = port ? this.env.portPrefs.get(key) ?? 0 : 0;
      rec.bound = new Promise<void>((resolve) => {
        const tryBind = (p: number) => {
          const onErr = () => (p ? tryBind(0) : resolve());
          s.once('error', onErr);
          s.bind(p, '127.0.0.1', () => {
            s.off('error', onErr);
            rec.realPort = s.address().port;
            if (port) this.env.portPrefs.set(key, rec.realPort);
            resolve();
          });
        };
        tryBind(preferred);
      });
    };
    o.bind = (port: unknown, bcb?: unknown) => {
      this.host.alive();
      const p = Number(port) & 0xffff;
      if (this.udps.some((u) => u !== rec && !u.closed && u.devicePort === p)) {
        this.host.jsError('Socket bind failed');
        throw jsException('InternalError', 'Unable to create socket');
      }
      ensureSocket(p);
      if (typeof bcb === 'function') this.host.queueCall(bcb, [o]);
      return o;
    };
    o.send = (...args: unknown[]) => {
      this.host.alive();
      let [buffer, offset, length, port, address] = args;
      if (args.length <= 3) {
        [buffer, port, address] = args;
        offset = undefined;
        length = undefined;
      }
      if (typeof buffer !== 'string') throw jsException('Error', 'buffer must be a String');
      if (rec.closed) throw jsException('Error', 'This socket is closed');
      let s = buffer;
      if (offset !== undefined || length !== undefined) s = s.substr(Number(offset) || 0, length === undefined ? undefined : Number(length));
      ensureSocket(0);
      rec.outbox.push({ msg: toBytes(s, 'dgram send'), port: Number(port), address: String(address) });
    };
    o.close = () => {
      this.host.alive();
      if (rec.closed) return;
      rec.closed = true;
      try {
        rec.sock?.close();
      } catch {
        // ignore
      }
      this.udps = this.udps.filter((u) => u !== rec);
      this.host.queueEvent(o, 'close', [false]);
    };
    o.addMembership = (group: unknown, ip: unknown) => {
      this.host.alive();
      void group;
      void ip; // multicast membership has no effect on the loopback test network
    };
    this.udps.push(rec);
    return o;
  }

  private udpIdle(): void {
    for (const u of this.udps.slice()) {
      if (u.closed || !u.sock) continue;
      const m = u.inbox.shift();
      if (m && m.msg.length === 0 && this.env.chip === 'ESP32') {
        // network_esp32.c net_esp32_recv: recv() giving 0 bytes reads as "closed" (-1), and
        // socketserver.c then closes the socket when an answer is waiting to go out (otherwise
        // it only skips the datagram): one empty datagram at the wrong moment ends a UDP server
        this.moved++;
        if (u.outbox.length) {
          u.obj.close();
          continue;
        }
      } else if (m) {
        this.moved++;
        if (this.env.chip === 'ESP8266' && m.msg.length > this.chunkSize) {
          // "Recv too long (UDP)": dropped
        } else {
          const data = m.msg.subarray(0, u.recvMax);
          const rinfo = this.host.obj({ address: m.address, port: m.port, size: data.length });
          this.host.queueEvent(u.obj, 'message', [fromBytes(data), rinfo]);
        }
      }
      const out = u.outbox.shift();
      if (out) {
        this.moved++;
        let address = out.address;
        let port = out.port;
        if (address !== '127.0.0.1') {
          const t = this.env.hosts[`${address}:${port}`];
          const m2 = t && /^([\d.]+):(\d+)$/.exec(t);
          if (!m2) continue; // unreachable destination: UDP is silently lost
          address = m2[1];
          port = Number(m2[2]);
        }
        u.sock.send(out.msg, port, address);
      }
    }
  }

  // ------------------------------------------------------------------ modules

  makeHttp(): any {
    const h = this.host;
    const m = h.obj();
    m.createServer = (cb: unknown) => {
      h.alive();
      const srv = h.obj();
      if (typeof cb === 'function') srv.on('connect', cb);
      srv.listen = (port: unknown) => this.serverListen('http', srv, port);
      srv.close = () => this.serverClose(srv);
      return srv;
    };
    m.request = (options: unknown, cb?: unknown) => this.httpRequest(options, cb);
    m.get = (options: unknown, cb?: unknown) => {
      const req = this.httpRequest(options, cb);
      req.end();
      return req;
    };
    return m;
  }

  makeNet(): any {
    const h = this.host;
    const m = h.obj();
    m.connect = (options: unknown, cb?: unknown) => this.netConnect(options, cb, false);
    m.createServer = (cb: unknown) => {
      h.alive();
      const srv = h.obj();
      if (typeof cb === 'function') srv.on('connect', cb);
      srv.listen = (port: unknown) => this.serverListen('net', srv, port);
      srv.close = () => this.serverClose(srv);
      return srv;
    };
    return m;
  }

  makeTls(): any {
    const m = this.host.obj();
    m.connect = (options: unknown, cb?: unknown) => this.netConnect(options, cb, true);
    return m;
  }

  makeDgram(): any {
    const m = this.host.obj();
    m.createSocket = (type: unknown, cb?: unknown) => this.makeUdp(type, cb);
    return m;
  }
}
