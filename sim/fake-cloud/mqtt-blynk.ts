/**
 * Fake Blynk MQTT cloud: a real MQTT broker (Aedes) on 127.0.0.1 (ephemeral port) with Blynk's rules
 * of its device MQTT API (blynkkk/docs blynk.cloud/device-mqtt-api/), for the MQTT session's tests.
 * It checks the device's bytes with mqtt-packet as they arrive (not with the firmware codec, so the
 * two check each other).
 *
 *   const cloud = await startFakeMqttCloud({ tokens: [TOKEN] });
 *   // point the device at 127.0.0.1:cloud.port
 *   await cloud.close();
 *
 * Rules, as Blynk.Cloud states them:
 * - CONNECT with user name `device` and an accepted token as password; anything else gets CONNACK 4
 *   (bad user name or password). Tokens passed to invalidate() are refused from then on.
 * - One connection per token: a second login with it closes the first.
 * - Subscriptions only below `downlink/`, with no `+` and `#` only at the end; others get 0x80.
 * - Any packet from the device with a remaining length over 1024 bytes: the connection is closed.
 * - `ds/<name>` stores the datastream's value (values split at \0); `get/ds` (comma-separated names)
 *   and `get/ds/all` are answered with `downlink/ds/<name>` of the stored values; `info/mcu` is parsed
 *   into `session.info`.
 *
 * Server-initiated traffic goes to every logged-in session (Blynk delivers downlinks without a
 * subscription for redirect, OTA and diag; here all go straight to the client):
 * redirect(uri), redirectOnLogin(uri) (answers future logins with a redirect, as GeoDNS does),
 * reboot(), reconfigure(), ping() (QoS 1; resolves on the device's PUBACK), otaJson(obj),
 * write(name, ...values) (downlink/ds/<name>), diag(text), send(topic, payload, qos),
 * sendBig(bytes) (a PUBLISH over 1024 bytes), sendRaw(bytes).
 * Faults: silent(true) (read and record, never answer: no CONNACK, no PINGRESP), closeSockets(),
 * refuseSubscriptions(true) (every subscription gets 0x80, as an ACL of another broker might),
 * refuse(true) (stop listening; refuse(false) listens again on the same port).
 *
 * Records: `events` (every step, in order), `logins`, `sessions` (each with the exact bytes the device
 * sent, its packets as mqtt-packet parsed them, its info), `publishes` (everything the devices
 * published), `values`. Queries: current(), openCount(), count(kind), waitFor(pred, ms).
 */
import { createServer, Server, Socket } from "node:net";
import { Duplex } from "node:stream";
import { Aedes, type Client } from "aedes";
import mqttPacket from "mqtt-packet";

export const BLYNK_MAX = 1024;

export type MqttEventKind =
  | "connect" | "login" | "subscribe" | "publish" | "info" | "ping" | "puback" | "disconnect" | "close"
  | "sent" | "too-big";

export interface MqttEvent {
  kind: MqttEventKind;
  session: number;
  t: number;
  token?: string;
  /** CONNACK return code (login). */
  code?: number;
  topic?: string;
  payload?: string;
  qos?: number;
  retain?: boolean;
  /** subscribe: the granted QoS (128 = refused). */
  granted?: number;
  len?: number;
}

export interface MqttSession {
  n: number;
  clientId?: string;
  token?: string;
  /** CONNACK code sent (0 = logged in). */
  code?: number;
  keepalive?: number;
  info?: Record<string, unknown>;
  /** Everything the device sent on this connection, byte for byte. */
  bytes: Buffer;
  /** The device's packets as mqtt-packet parsed them. */
  packets: any[];
  open: boolean;
  socket: Socket;
  client?: Client;
}

export interface PublishRecord {
  session: number;
  topic: string;
  /** Payload as a byte string. */
  payload: string;
  qos: number;
  retain: boolean;
  t: number;
}

export interface FakeMqttCloud {
  readonly port: number;
  readonly host: string;
  readonly events: MqttEvent[];
  readonly logins: { session: number; token: string; code: number; t: number }[];
  readonly sessions: MqttSession[];
  readonly publishes: PublishRecord[];
  /** Last value per datastream name ("Power" -> ["1"]), from device publishes and write(). */
  readonly values: Record<string, string[]>;
  current(): MqttSession | undefined;
  openCount(): number;
  count(kind: MqttEventKind): number;
  waitFor(pred: (e: MqttEvent) => boolean, ms?: number): Promise<MqttEvent>;
  silent(on: boolean): void;
  refuseSubscriptions(on: boolean): void;
  closeSockets(): void;
  refuse(on: boolean): Promise<void>;
  invalidate(token: string): void;
  accept(token: string): void;
  redirect(uri: string): void;
  redirectOnLogin(uri: string | undefined): void;
  reboot(): void;
  reconfigure(): void;
  ping(): Promise<void>;
  otaJson(obj: unknown): void;
  write(name: string, ...values: (string | number)[]): void;
  diag(text: string): void;
  send(topic: string, payload: string, qos?: 0 | 1): void;
  sendBig(bytes?: number): void;
  sendRaw(bytes: Buffer | string): void;
  close(): Promise<void>;
}

export interface FakeMqttCloudOptions {
  tokens: string[];
  log?: (line: string) => void;
}

export async function startFakeMqttCloud(opts: FakeMqttCloudOptions): Promise<FakeMqttCloud> {
  const accepted = new Set(opts.tokens);
  const invalid = new Set<string>();
  const events: MqttEvent[] = [];
  const logins: FakeMqttCloud["logins"] = [];
  const sessions: MqttSession[] = [];
  const publishes: PublishRecord[] = [];
  const values: Record<string, string[]> = {};
  const live = new Set<Socket>();
  let quiet = false;
  let noSubs = false;
  let loginRedirect: string | undefined;
  let port = 0;
  let server: Server | undefined;
  let waiters: { pred: (e: MqttEvent) => boolean; resolve: (e: MqttEvent) => void }[] = [];
  let pingWaiters: (() => void)[] = [];

  const emit = (e: Omit<MqttEvent, "t">) => {
    const ev = { ...e, t: Date.now() } as MqttEvent;
    events.push(ev);
    waiters = waiters.filter((w) => (w.pred(ev) ? (w.resolve(ev), false) : true));
    opts.log?.(`[mqtt-cloud] #${ev.session} ${ev.kind} ${ev.topic ?? ""} ${ev.code ?? ""} ${JSON.stringify(ev.payload ?? "")}`);
  };
  const sessionOf = (c: Client | null | undefined): MqttSession | undefined => (c ? (c.conn as any).session : undefined);
  const openSessions = () => sessions.filter((s) => s.open);
  const loggedIn = () => openSessions().filter((s) => s.code === 0 && s.client);

  const broker = new Aedes({ heartbeatInterval: 3600000, connectTimeout: 30000 });
  await broker.listen();

  broker.authenticate = (client, username, password, done) => {
    const s = sessionOf(client)!;
    const token = password ? password.toString("latin1") : "";
    s.token = token;
    if (quiet) return; // no CONNACK at all
    const ok = username === "device" && accepted.has(token) && !invalid.has(token);
    const code = ok ? 0 : 4;
    s.code = code;
    logins.push({ session: s.n, token, code, t: Date.now() });
    emit({ kind: "login", session: s.n, token, code });
    if (!ok) return done(Object.assign(new Error("bad user name or password"), { returnCode: 4 }) as any, false);
    // one connection per token: the older one goes
    for (const o of openSessions()) if (o !== s && o.token === token && o.code === 0) o.socket.destroy();
    done(null, true);
  };
  broker.authorizeSubscribe = (client, sub, cb) => {
    const s = sessionOf(client)!;
    const t = sub.topic;
    const ok = !noSubs && t.startsWith("downlink/") && !t.includes("+") && (!t.includes("#") || (t.indexOf("#") === t.length - 1 && t.endsWith("/#")));
    emit({ kind: "subscribe", session: s.n, topic: t, qos: sub.qos, granted: ok ? sub.qos : 128 });
    cb(null, ok ? sub : null);
  };
  broker.authorizePublish = (client, packet, cb) => {
    const s = sessionOf(client);
    if (!s) return cb(null);
    const payload = Buffer.from(packet.payload as any).toString("latin1");
    const rec = { session: s.n, topic: packet.topic, payload, qos: packet.qos, retain: packet.retain, t: Date.now() };
    publishes.push(rec);
    emit({ kind: "publish", session: s.n, topic: packet.topic, payload, qos: packet.qos, retain: packet.retain });
    const t = packet.topic;
    if (t === "info/mcu") {
      try {
        s.info = JSON.parse(payload);
      } catch {
        s.info = { unparsable: payload };
      }
      emit({ kind: "info", session: s.n, payload });
    } else if (t.startsWith("ds/") && t.indexOf("/", 3) < 0) values[t.slice(3)] = payload.split("\0");
    else if (t === "get/ds" || t === "get/ds/all") {
      const names = t === "get/ds/all" ? Object.keys(values) : payload.split(",");
      if (!quiet) for (const n of names) if (values[n]) sendTo(s, "downlink/ds/" + n, values[n].join("\0"), 0);
    }
    cb(null);
  };
  broker.on("ping", (_p, client) => {
    const s = sessionOf(client);
    if (s) emit({ kind: "ping", session: s.n });
  });
  broker.on("clientReady", (client) => {
    const s = sessionOf(client);
    if (!s) return;
    s.client = client;
    s.clientId = client.id;
    if (loginRedirect) sendTo(s, "downlink/redirect", loginRedirect, 0);
  });
  broker.on("clientError", () => {});
  broker.on("connectionError", () => {});

  function sendTo(s: MqttSession, topic: string, payload: string | Buffer, qos: 0 | 1): void {
    if (!s.client || !s.open) return;
    const buf = typeof payload === "string" ? Buffer.from(payload, "latin1") : payload;
    s.client.publish({ cmd: "publish", topic, payload: buf, qos, retain: false, dup: false } as any, () => {});
    emit({ kind: "sent", session: s.n, topic, payload: buf.length > 64 ? `<${buf.length} bytes>` : buf.toString("latin1"), qos });
  }
  const toAll = (topic: string, payload: string | Buffer, qos: 0 | 1 = 0) => {
    for (const s of loggedIn()) sendTo(s, topic, payload, qos);
  };

  function onConnection(socket: Socket): void {
    const s: MqttSession = { n: sessions.length + 1, bytes: Buffer.alloc(0), packets: [], open: true, socket };
    sessions.push(s);
    live.add(socket);
    socket.setNoDelay(true);
    emit({ kind: "connect", session: s.n });
    // Aedes reads and writes through this pair, so the fake sees (and can withhold) every byte
    // the broker's QoS 1 messages by packet id, to name what the device's PUBACKs answer
    const outIds = new Map<number, string>();
    const down = mqttPacket.parser({ protocolVersion: 4 });
    down.on("packet", (p: any) => {
      if (p.cmd === "publish" && p.qos === 1) outIds.set(p.messageId, p.topic);
    });
    down.on("error", () => {});
    const conn = new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        if (!quiet && !socket.destroyed) {
          down.parse(chunk);
          socket.write(chunk);
        }
        cb();
      },
      final(cb) {
        socket.end();
        cb();
      },
      destroy(err, cb) {
        socket.destroy();
        cb(err);
      },
    });
    (conn as any).session = s;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let tooBig = false;
    parser.on("packet", (p: any) => {
      s.packets.push(p);
      if (p.length > BLYNK_MAX) tooBig = true;
      if (p.cmd === "connect") s.keepalive = p.keepalive;
      if (p.cmd === "disconnect") emit({ kind: "disconnect", session: s.n });
      if (p.cmd === "puback") {
        const topic = outIds.get(p.messageId);
        emit({ kind: "puback", session: s.n, topic });
        if (topic === "downlink/ping") {
          const w = pingWaiters;
          pingWaiters = [];
          for (const f of w) f();
        }
      }
    });
    parser.on("error", () => {});
    socket.on("data", (d: Buffer) => {
      s.bytes = Buffer.concat([s.bytes, d]);
      parser.parse(d);
      if (tooBig) {
        emit({ kind: "too-big", session: s.n, len: s.packets[s.packets.length - 1].length });
        socket.destroy();
        return;
      }
      conn.push(d);
    });
    socket.on("end", () => conn.push(null));
    socket.on("error", () => {});
    socket.on("close", () => {
      s.open = false;
      live.delete(socket);
      conn.destroy();
      emit({ kind: "close", session: s.n });
    });
    broker.handle(conn);
  }

  function listen(p: number): Promise<void> {
    server = createServer(onConnection);
    return new Promise((resolve, reject) => {
      server!.once("error", reject);
      server!.listen(p, "127.0.0.1", () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  }
  function stopListening(): Promise<void> {
    const srv = server;
    server = undefined;
    if (srv) srv.close();
    return new Promise((resolve) => setImmediate(resolve));
  }

  await listen(0);

  return {
    get port() {
      return port;
    },
    host: "127.0.0.1",
    events,
    logins,
    sessions,
    publishes,
    values,
    current: () => loggedIn().pop(),
    openCount: () => openSessions().length,
    count: (kind) => events.filter((e) => e.kind === kind).length,
    waitFor(pred, ms = 5000) {
      const hit = events.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (e: MqttEvent) => (clearTimeout(timer), resolve(e)) };
        const timer = setTimeout(() => {
          waiters = waiters.filter((x) => x !== w);
          reject(new Error("fake MQTT cloud: no matching event within " + ms + " ms"));
        }, ms);
        waiters.push(w);
      });
    },
    silent(on) {
      quiet = on;
    },
    refuseSubscriptions(on) {
      noSubs = on;
    },
    closeSockets() {
      for (const sock of live) sock.destroy();
    },
    async refuse(on) {
      if (on) await stopListening();
      else if (!server) await listen(port);
    },
    invalidate(token) {
      invalid.add(token);
    },
    accept(token) {
      invalid.delete(token);
      accepted.add(token);
    },
    redirect: (uri) => toAll("downlink/redirect", uri),
    redirectOnLogin(uri) {
      loginRedirect = uri;
    },
    reboot: () => toAll("downlink/reboot", ""),
    reconfigure: () => toAll("downlink/reconfigure", ""),
    ping() {
      const done = new Promise<void>((resolve) => pingWaiters.push(resolve));
      toAll("downlink/ping", "", 1);
      return done;
    },
    otaJson: (obj) => toAll("downlink/ota/json", JSON.stringify(obj)),
    write(name, ...vals) {
      values[name] = vals.map(String);
      toAll("downlink/ds/" + name, vals.map(String).join("\0"));
    },
    diag: (text) => toAll("downlink/diag", text),
    send: (topic, payload, qos = 0) => toAll(topic, payload, qos),
    sendBig(n = 2048) {
      toAll("downlink/ds/Big", Buffer.alloc(n, 0x41));
    },
    sendRaw(bytes) {
      const b = typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes;
      for (const s of openSessions()) if (!s.socket.destroyed) s.socket.write(b);
    },
    async close() {
      for (const sock of live) sock.destroy();
      await stopListening();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      waiters = [];
    },
  };
}
