// Node stand-ins for what the MQTT session gets from Espruino, as test/cloud/harness.ts has them for
// the Blynk client: sockets with Espruino's shape over node:net, and the virtual clock. The difference
// is how the clock waits for the network before it moves time on: MQTT is request/response, so it
// waits until every request the device sent (CONNECT, PINGREQ, SUBSCRIBE, QoS 1 PUBLISH) has its answer
// (CONNACK, PINGRESP, SUBACK, PUBACK) or its connection is gone. That works the same for the fake
// cloud in this process and for a mosquitto process, whose bytes the process cannot count.
// Both directions are parsed with mqtt-packet and recorded with virtual time.
import { connect as netConnect, Socket } from "node:net";
import { EventEmitter } from "node:events";
import mqttPacket from "mqtt-packet";
import { FakeClock } from "../cloud/harness.ts";
import type { CloudSocket } from "../../firmware/cloud/session.ts";
import { Ev } from "../../firmware/kernel.ts";
import { apiLink, apiWrite } from "../../firmware/cloud/api.ts";

/** A packet on the wire, as mqtt-packet parsed it, with the virtual time and the connection's number. */
export interface WirePacket {
  t: number;
  conn: number;
  p: any;
}

interface Conn {
  sock: Socket;
  /** Requests sent and not answered yet. */
  waiting: number;
  connected: boolean;
  closed: boolean;
}

const live = new Set<Conn>();
let events = 0;

const REQUESTS: Record<string, string> = { connect: "connack", pingreq: "pingresp", subscribe: "suback", unsubscribe: "unsuback" };
const ANSWERS = new Set(["connack", "pingresp", "suback", "unsuback", "puback"]);

/** Espruino's socket error codes (reference espruino.md §4 "TCP client"). */
function espCode(e: NodeJS.ErrnoException): number {
  return e.code === "ECONNREFUSED" || e.code === "ECONNRESET" || e.code === "EPIPE" ? -9 : e.code === "ETIMEDOUT" ? -3 : e.code === "ENOTFOUND" ? -6 : -10;
}

class EspSocketOverNet extends EventEmitter implements CloudSocket {
  constructor(readonly sock: Socket, private onWrite: (data: string) => void) {
    super();
  }
  write(data: string): boolean {
    if (this.sock.destroyed) throw new Error("This socket is closed");
    this.onWrite(data);
    this.sock.write(Buffer.from(data, "latin1"));
    return false; // Espruino's write always returns false
  }
  end(): void {
    this.sock.end();
  }
}

export interface MqttSockets {
  /** Every packet the device wrote / took in. */
  readonly sent: WirePacket[];
  readonly received: WirePacket[];
  connect(host: string, port: number, tls: boolean, onConnect: (s: CloudSocket) => void): CloudSocket;
  /** Sockets created and not yet closed (leak check). */
  open(): number;
  created(): number;
  /** "host:port" of every attempt, in order. */
  readonly dialed: string[];
  /** The next n connects throw synchronously, as Espruino's LINUX and ESP32 builds do when refused. */
  throwSync(n: number): void;
  /** Cuts the newest open connection without a DISCONNECT (RST), as a lost WiFi link or power cut does. */
  kill(): void;
}

export function mqttSockets(now: () => number = () => 0): MqttSockets {
  const sent: WirePacket[] = [];
  const received: WirePacket[] = [];
  const dialed: string[] = [];
  const mine: Conn[] = [];
  let created = 0;
  let throwNext = 0;
  return {
    sent,
    received,
    dialed,
    open: () => mine.filter((c) => !c.closed).length,
    created: () => created,
    throwSync(n) {
      throwNext = n;
    },
    kill() {
      const c = mine.filter((x) => !x.closed).pop();
      if (c) c.sock.resetAndDestroy();
    },
    connect(host, port, tls, onConnect) {
      dialed.push(host + ":" + port);
      if (throwNext > 0) {
        throwNext--;
        throw new Error("Unable to create socket");
      }
      void tls;
      const n = ++created;
      const sock = netConnect({ host, port });
      sock.setNoDelay(true);
      const c: Conn = { sock, waiting: 0, connected: false, closed: false };
      live.add(c);
      mine.push(c);
      const out = mqttPacket.parser({ protocolVersion: 4 });
      out.on("packet", (p: any) => {
        sent.push({ t: now(), conn: n, p });
        if (REQUESTS[p.cmd] || (p.cmd === "publish" && p.qos === 1)) c.waiting++;
      });
      out.on("error", (e: Error) => sent.push({ t: now(), conn: n, p: { cmd: "error", message: e.message } }));
      const inp = mqttPacket.parser({ protocolVersion: 4 });
      inp.on("packet", (p: any) => {
        received.push({ t: now(), conn: n, p });
        if (ANSWERS.has(p.cmd) && c.waiting > 0) c.waiting--;
      });
      inp.on("error", (e: Error) => received.push({ t: now(), conn: n, p: { cmd: "error", message: e.message } }));
      const s = new EspSocketOverNet(sock, (data) => out.parse(Buffer.from(data, "latin1")));
      sock.on("connect", () => {
        c.connected = true;
        events++;
        onConnect.call(s, s);
      });
      sock.on("data", (d: Buffer) => {
        events++;
        inp.parse(d);
        s.emit("data", d.toString("latin1"));
      });
      sock.on("error", (e: NodeJS.ErrnoException) => {
        events++;
        if (s.listenerCount("error")) s.emit("error", { code: espCode(e), message: e.message });
      });
      sock.on("close", (hadError: boolean) => {
        c.closed = true;
        live.delete(c);
        events++;
        s.emit("close", hadError);
      });
      return s;
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Waits (real time) until no connect is pending, every open connection has its requests answered and
 * its bytes handed to the kernel, and a round passed with no socket event. A server that never answers
 * (a silent fake) holds it for `stuckMs` without progress, then it returns.
 */
export async function settle(stuckMs = 200): Promise<void> {
  let last = -1;
  let since = Date.now();
  for (;;) {
    await new Promise((r) => setImmediate(r));
    let busy = false;
    for (const c of live) if (!c.connected || c.waiting > 0 || c.sock.writableLength > 0) busy = true;
    if (!busy && events === last) return;
    if (events !== last) since = Date.now();
    else if (Date.now() - since > stuckMs) return;
    last = events;
    await sleep(1);
  }
}

/** Real-time wait for something the test cannot schedule (the broker's own traffic): true once pred holds. */
export async function eventually(pred: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) return false;
    await sleep(2);
  }
  return true;
}

/** The cloud harness's FakeClock (Espruino's timer rules) whose waits use this file's settle(). */
export class MqttClock extends FakeClock {
  constructor() {
    super(() => settle());
  }
}

/** The session's events as the three callbacks the tests watch (the firmware passes its step function). */
export type Callbacks = { onLogin?: (s: number) => void; onOffline?: () => void; onCommand?: (l: string) => void };

/**
 * The core's `ev` for a session under test: the user API wired as the core wires it (Ev.LINK to
 * apiLink, Ev.WRITE to apiWrite), the other events to the callbacks.
 */
export function coreEvents(cb: Required<Callbacks>, log: (l: string) => void = () => {}): (e: number, a?: any, b?: any) => any {
  return (e: number, a?: any, b?: any) =>
    e === Ev.LOGIN ? cb.onLogin(a) : e === Ev.OFFLINE ? cb.onOffline() : e === Ev.COMMAND ? cb.onCommand(a) : e === Ev.LINK ? apiLink(a, b, log) : e === Ev.WRITE ? apiWrite(a, b) : undefined;
}
