// Node stand-ins for what the cloud client gets from Espruino: sockets with Espruino's shape over
// node:net, and a virtual clock whose timers keep Espruino's rules. Time only moves when a test says
// so, and before each step the clock waits until every connection between the client and the fake
// clouds is quiet (each side has received what the other sent, no connect or close on the way), so a
// heartbeat test of 10 minutes runs in well under a second.
import { connect as netConnect, Socket } from "node:net";
import { EventEmitter } from "node:events";
import { cloudTraffic } from "../../sim/fake-cloud/server.ts";
import type { CloudSocket } from "../../firmware/cloud/session.ts";

/**
 * The device's connections (every nodeSockets() in this process): bytes written and received on
 * each, and the local port that names it on the fake cloud's side. A record stays until both sides
 * have seen the connection close.
 */
interface Link {
  /** The socket's local port once connected (Node forgets it when the socket closes). */
  port?: number;
  tx: number;
  rx: number;
  connected: boolean;
  ending: boolean;
  closed: boolean;
}
const links = new Set<Link>();
let deviceEvents = 0;
function deviceEvent(): void {
  deviceEvents++;
  cloudTraffic.onEvent?.();
}

/** Espruino's socket error codes (reference espruino.md §4 "TCP client"). */
function espCode(e: NodeJS.ErrnoException): number {
  switch (e.code) {
    case "ECONNREFUSED":
    case "ECONNRESET":
    case "EPIPE":
      return -9;
    case "ETIMEDOUT":
      return -3;
    case "ENOTFOUND":
      return -6;
    default:
      return -10;
  }
}

class EspSocketOverNet extends EventEmitter implements CloudSocket {
  ended = false;
  constructor(readonly sock: Socket, private link: Link, private onWrite: (data: string) => void) {
    super();
  }
  write(data: string): boolean {
    if (this.sock.destroyed) throw new Error("This socket is closed");
    this.onWrite(data);
    this.sock.write(Buffer.from(data, "latin1"));
    this.link.tx += data.length;
    return false; // Espruino's write always returns false
  }
  end(): void {
    this.ended = true;
    this.link.ending = true;
    this.sock.end();
  }
}

export interface Sent {
  /** Virtual time of the write (from the clock given to nodeSockets). */
  t: number;
  cmd: number;
  id: number;
  /** Length field (status for RESPONSE). */
  len: number;
  body: string;
}

export interface Sockets {
  /** Every frame the device wrote, stamped with virtual time (the client writes whole frames). */
  readonly sent: Sent[];
  connect(host: string, port: number, tls: boolean, onConnect: (s: CloudSocket) => void): CloudSocket;
  /** Sockets created and not yet closed (leak check). */
  open(): number;
  created(): number;
  /** Hosts the client asked for, in order ("host:port"). */
  readonly dialed: string[];
  /** The next n connects throw synchronously, as Espruino's LINUX and ESP32 builds do when refused. */
  throwSync(n: number): void;
}

export function nodeSockets(now: () => number = () => 0): Sockets {
  const sent: Sent[] = [];
  let open = 0;
  let created = 0;
  let throwNext = 0;
  const dialed: string[] = [];
  return {
    sent,
    dialed,
    open: () => open,
    created: () => created,
    throwSync(n) {
      throwNext = n;
    },
    connect(host, port, tls, onConnect) {
      dialed.push(host + ":" + port);
      if (throwNext > 0) {
        throwNext--;
        throw new Error("Unable to create socket");
      }
      const sock = netConnect({ host, port });
      sock.setNoDelay(true);
      const link: Link = { tx: 0, rx: 0, connected: false, ending: false, closed: false };
      links.add(link);
      const s = new EspSocketOverNet(sock, link, (data) => {
        for (let i = 0; i + 5 <= data.length; ) {
          const cmd = data.charCodeAt(i);
          const len = (data.charCodeAt(i + 3) << 8) | data.charCodeAt(i + 4);
          const n = cmd === 0 ? 0 : len;
          sent.push({ t: now(), cmd, id: (data.charCodeAt(i + 1) << 8) | data.charCodeAt(i + 2), len, body: data.substr(i + 5, n) });
          i += 5 + n;
        }
      });
      open++;
      created++;
      sock.on("connect", () => {
        link.port = sock.localPort;
        link.connected = true;
        deviceEvent();
        onConnect.call(s, s);
      });
      sock.on("data", (d: Buffer) => {
        link.rx += d.length;
        deviceEvent();
        s.emit("data", d.toString("latin1"));
      });
      sock.on("error", (e: NodeJS.ErrnoException) => {
        deviceEvent();
        if (s.listenerCount("error")) s.emit("error", { code: espCode(e), message: e.message });
      });
      sock.on("close", (hadError: boolean) => {
        open--;
        link.closed = true;
        deviceEvent();
        s.emit("close", hadError);
      });
      void tls;
      return s;
    },
  };
}

/**
 * True when nothing is on the way between the device and the fake clouds: every connect has
 * succeeded or failed, each side of every connection has received all the other one wrote, and a
 * close seen by one side has reached the other. Drops the records of connections both sides closed.
 */
function quiet(): boolean {
  let still = true;
  for (const l of links) {
    const peer = l.port === undefined ? undefined : cloudTraffic.links.get(l.port);
    if (l.closed) {
      if (peer) still = false;
      else links.delete(l);
    } else if (!l.connected || l.ending || !peer || peer.rx !== l.tx || peer.tx !== l.rx) still = false;
  }
  return still;
}

/**
 * Waits (real time) until device and fake clouds are quiet and one more turn of Node's event loop
 * brought no socket event. Between checks it sleeps until the next socket event, not for a fixed
 * time. `maxMs` bounds the wait for a peer that is not a fake cloud of this process (the bytes
 * would never be counted as arrived).
 */
export async function settle(maxMs = 400): Promise<void> {
  const start = Date.now();
  let last = -1;
  for (;;) {
    await new Promise((r) => setImmediate(r));
    const mark = deviceEvents + cloudTraffic.events;
    if (quiet()) {
      if (mark === last) return;
      last = mark;
      continue;
    }
    last = mark;
    const left = maxMs - (Date.now() - start);
    if (left <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, left);
      function done() {
        clearTimeout(timer);
        if (cloudTraffic.onEvent === done) cloudTraffic.onEvent = undefined;
        resolve();
      }
      cloudTraffic.onEvent = done;
    });
  }
}

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * Virtual clock with Espruino's timer rules: clearTimeout(undefined) throws. Between timers it lets
 * the harness's I/O through (with this file's settle() unless given another: the MQTT harness's).
 */
export class FakeClock {
  constructor(private readonly letIoThrough: () => Promise<void> = () => settle()) {}
  t = 0;
  private ids = 0;
  private seq = 0;
  private timers = new Map<number, Timer>();
  fired = 0;

  now = (): number => this.t;
  setTimeout = (fn: () => void, ms: number): number => {
    const id = ++this.ids;
    this.timers.set(id, { at: this.t + Math.max(0, Math.floor(ms)), seq: ++this.seq, fn });
    return id;
  };
  clearTimeout = (id: any): void => {
    if (id === undefined) throw new Error("clearTimeout(undefined) throws in Espruino");
    this.timers.delete(id);
  };
  pending(): number {
    return this.timers.size;
  }
  private next(limit: number): [number, Timer] | undefined {
    let best: [number, Timer] | undefined;
    for (const e of this.timers) if (e[1].at <= limit && (!best || e[1].at < best[1].at || (e[1].at === best[1].at && e[1].seq < best[1].seq))) best = e;
    return best;
  }
  /** Moves time on by ms, firing due timers in order and letting I/O through between them. */
  async advance(ms: number): Promise<void> {
    await this.until(() => false, ms);
  }
  /** Moves time on without waiting for I/O (in-memory sockets only). */
  tick(ms: number): void {
    const end = this.t + ms;
    for (let n = this.next(end); n; n = this.next(end)) {
      this.timers.delete(n[0]);
      if (n[1].at > this.t) this.t = n[1].at;
      this.fired++;
      n[1].fn();
    }
    this.t = end;
  }
  /** Runs until pred() holds or maxMs pass; returns whether it held. */
  async until(pred: () => boolean, maxMs: number): Promise<boolean> {
    const end = this.t + maxMs;
    for (;;) {
      await this.letIoThrough();
      if (pred()) return true;
      const n = this.next(end);
      if (!n) break;
      this.timers.delete(n[0]);
      if (n[1].at > this.t) this.t = n[1].at;
      this.fired++;
      n[1].fn();
    }
    this.t = end;
    await this.letIoThrough();
    return pred();
  }
}

/**
 * Sockets without TCP for long runs on tick(): each connect succeeds after 1 ms of virtual time, and
 * a minimal server answers HW_LOGIN and PING with RESPONSE 200 one virtual ms later.
 */
export function memSockets(clock: FakeClock) {
  const frames: Sent[] = [];
  let open = 0;
  return {
    frames,
    open: () => open,
    connect(_host: string, _port: number, _tls: boolean, onConnect: (s: CloudSocket) => void): CloudSocket {
      const s = new EventEmitter() as EventEmitter & CloudSocket;
      let closed = false;
      open++;
      s.write = (data: string) => {
        if (closed) throw new Error("This socket is closed");
        for (let i = 0; i + 5 <= data.length; ) {
          const cmd = data.charCodeAt(i);
          const id = (data.charCodeAt(i + 1) << 8) | data.charCodeAt(i + 2);
          const len = (data.charCodeAt(i + 3) << 8) | data.charCodeAt(i + 4);
          frames.push({ t: clock.t, cmd, id, len, body: data.substr(i + 5, len) });
          if (cmd === 29 || cmd === 6)
            clock.setTimeout(() => closed || s.emit("data", String.fromCharCode(0, id >> 8, id & 255, 0, 200)), 1);
          i += 5 + len;
        }
        return false;
      };
      s.end = () => {
        if (!closed) open--;
        closed = true;
      };
      clock.setTimeout(() => closed || onConnect(s), 1);
      return s;
    },
  };
}
