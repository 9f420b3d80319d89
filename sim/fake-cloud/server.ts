/**
 * Fake Blynk cloud: a byte-exact Blynk device-protocol server on real TCP (127.0.0.1, ephemeral port),
 * for the cloud client's tests and the provisioning system tests. It decodes frames with its own
 * Buffer code (not the firmware codec, so the two check each other) and follows blynk-edgent.md §8.
 *
 *   const cloud = await startFakeCloud({ tokens: [TOKEN] });
 *   // point the device at 127.0.0.1:cloud.port (sim hosts map, or the client's host/port)
 *   await cloud.close();
 *
 * Behaviour of a normal server:
 * - HW_LOGIN (29) with an accepted token → RESPONSE 200 (or `loginStatus`); other tokens, and tokens
 *   passed to invalidate() → RESPONSE 9 (INVALID_TOKEN).
 * - PING (6) → RESPONSE 200 with the same id.
 * - HARDWARE (20) `vw\0pin\0values` stores the pin's value; HARDWARE_SYNC (16) `vr\0pins` (or empty
 *   = all) is answered with HARDWARE `vw` writes of the stored values, like the real cloud.
 * - INTERNAL `mcu\0…` (the info message) is parsed into `session.info`.
 * - Frames with id 0 or unknown types are recorded, not answered.
 *
 * Records: `events` (every step, in order), `logins`, `sessions` (each with the exact bytes it
 * received in `bytes`, its frames, its info), `frames` (all frames from devices).
 *
 * Faults and server-initiated traffic (each applies to the sessions open at that moment):
 * - silent(true): read and record but never answer or send (the device's heartbeat must give up).
 * - closeSockets(): the server ends every connection (restart, crash, idle kick).
 * - refuse(true): stop listening, so connects are refused (ECONNREFUSED); refuse(false) listens
 *   again on the same port.
 * - redirect(host, port): REDIRECT `host\0port` to open sessions; redirectLogins(host, port) answers
 *   future logins with a REDIRECT instead of a status.
 * - sendBig(bytes = 2048): a HARDWARE frame with an over-long body (> 1024).
 * - sendUnknown(cmd = 99): a frame of a type the protocol does not define.
 * - dbg(line): INTERNAL `dbg\0<line>` (console command: "config erase", "config start", "reboot").
 * - virtualWrite(pin, ...values): HARDWARE `vw` from the app to the device.
 * - debugPrint(text), sendRaw(bytes), send(cmd, body).
 * - invalidate(token): from now on logins with it get 9 (a device deleted in the console);
 *   accept(token) takes it back.
 * - dropAfterInfo(n): the next n sessions are closed by the server as soon as their info message
 *   arrives (a session that ends right after login).
 * Queries: current() (newest logged-in session), openCount(), count(kind), waitFor(pred, ms).
 */
import { createServer, Server, Socket } from "node:net";

export const Cmd = {
  RESPONSE: 0, PING: 6, BRIDGE: 15, HARDWARE_SYNC: 16, INTERNAL: 17, PROPERTY: 19, HARDWARE: 20,
  HW_LOGIN: 29, REDIRECT: 41, DEBUG_PRINT: 55, EVENT_LOG: 64,
} as const;

export interface CloudFrame {
  session: number;
  cmd: number;
  id: number;
  /** Body length, or the status of a RESPONSE. */
  len: number;
  /** Body as a byte string ("" for RESPONSE). */
  body: string;
  /** Wall-clock ms (Date.now()). */
  t: number;
}

export type CloudEventKind =
  | "connect" | "login" | "info" | "ping" | "hardware" | "sync" | "internal" | "event" | "property"
  | "response" | "other" | "close" | "sent";

export interface CloudEvent {
  kind: CloudEventKind;
  session: number;
  t: number;
  token?: string;
  status?: number;
  cmd?: number;
  id?: number;
  body?: string;
}

export interface Session {
  n: number;
  token?: string;
  /** Login reply sent (200, 9, ...) or -1 when redirected. */
  status?: number;
  info?: Record<string, string>;
  /** Everything the device sent on this connection, byte for byte. */
  bytes: Buffer;
  frames: CloudFrame[];
  open: boolean;
  socket: Socket;
  /** Bytes received from the device and written to it on this connection. */
  traffic: { rx: number; tx: number };
}

export interface FakeCloudOptions {
  /** Tokens whose login is accepted. */
  tokens: string[];
  /** Status sent for accepted logins (default 200; 4 = ALREADY_REGISTERED also means online). */
  loginStatus?: number;
  /** Debug output for every frame. */
  log?: (line: string) => void;
}

export interface FakeCloud {
  readonly port: number;
  readonly host: string;
  readonly events: CloudEvent[];
  readonly logins: { session: number; token: string; status: number; t: number }[];
  readonly sessions: Session[];
  readonly frames: CloudFrame[];
  /** Last value per virtual pin ("1" → ["42"]), from device writes and virtualWrite(). */
  readonly values: Record<string, string[]>;
  /** The newest open, logged-in session. */
  current(): Session | undefined;
  /** Open connections (logged in or not). */
  openCount(): number;
  count(kind: CloudEventKind): number;
  /** Resolves when an event matching `pred` exists (wall-clock timeout). */
  waitFor(pred: (e: CloudEvent) => boolean, ms?: number): Promise<CloudEvent>;
  silent(on: boolean): void;
  closeSockets(): void;
  refuse(on: boolean): Promise<void>;
  redirect(host: string, port: number): void;
  redirectLogins(host: string, port: number): void;
  invalidate(token: string): void;
  accept(token: string): void;
  dropAfterInfo(n: number): void;
  sendBig(bytes?: number): void;
  sendUnknown(cmd?: number): void;
  dbg(line: string): void;
  virtualWrite(pin: number | string, ...values: (string | number)[]): void;
  debugPrint(text: string): void;
  send(cmd: number, body: string, id?: number): void;
  sendRaw(bytes: Buffer | string): void;
  close(): Promise<void>;
}

/**
 * Traffic of all fake clouds in this process, so a test clock can wait until the bytes a device
 * sent have arrived and been answered before it moves virtual time on: each open connection by the
 * client's port, with the bytes received from it and sent to it; a count of socket events; and
 * `onEvent`, which a waiter sets to hear of the next one instead of polling.
 */
export const cloudTraffic = {
  links: new Map<number, { rx: number; tx: number }>(),
  events: 0,
  onEvent: undefined as (() => void) | undefined,
};
function trafficEvent(): void {
  cloudTraffic.events++;
  cloudTraffic.onEvent?.();
}

export function frameBytes(cmd: number, id: number, body: string | Buffer, lenOverride?: number): Buffer {
  const b = typeof body === "string" ? Buffer.from(body, "latin1") : body;
  const h = Buffer.alloc(5);
  h[0] = cmd;
  h.writeUInt16BE(id, 1);
  h.writeUInt16BE(lenOverride ?? b.length, 3);
  return Buffer.concat([h, b]);
}

export async function startFakeCloud(opts: FakeCloudOptions): Promise<FakeCloud> {
  const accepted = new Set(opts.tokens);
  const invalid = new Set<string>();
  const events: CloudEvent[] = [];
  const logins: FakeCloud["logins"] = [];
  const sessions: Session[] = [];
  const frames: CloudFrame[] = [];
  const values: Record<string, string[]> = {};
  const live = new Set<Socket>();
  let quiet = false;
  let dropInfo = 0;
  let loginRedirect: { host: string; port: number } | undefined;
  let outId = 0;
  let port = 0;
  let server: Server | undefined;
  let waiters: { pred: (e: CloudEvent) => boolean; resolve: (e: CloudEvent) => void }[] = [];

  const nextId = () => (outId = outId >= 0xffff ? 1 : outId + 1);
  const emit = (e: Omit<CloudEvent, "t">) => {
    const ev = { ...e, t: Date.now() } as CloudEvent;
    events.push(ev);
    trafficEvent();
    waiters = waiters.filter((w) => (w.pred(ev) ? (w.resolve(ev), false) : true));
    opts.log?.(`[cloud] #${ev.session} ${ev.kind} ${ev.token ?? ""}${ev.status ?? ""} ${JSON.stringify(ev.body ?? "")}`);
  };

  function write(s: Session, buf: Buffer): void {
    if (!s.open || s.socket.destroyed) return;
    s.socket.write(buf);
    s.traffic.tx += buf.length;
  }
  function sendTo(s: Session, cmd: number, body: string, id = nextId()): void {
    write(s, frameBytes(cmd, id, body));
    emit({ kind: "sent", session: s.n, cmd, id, body });
  }
  const respond = (s: Session, id: number, status: number) => write(s, frameBytes(Cmd.RESPONSE, id, "", status));
  const openSessions = () => sessions.filter((s) => s.open);
  const loggedIn = () => openSessions().filter((s) => s.status === 200 || s.status === 4);

  function onFrame(s: Session, f: CloudFrame): void {
    frames.push(f);
    s.frames.push(f);
    const base = { session: s.n, cmd: f.cmd, id: f.id, body: f.body };
    if (f.cmd === Cmd.HW_LOGIN) {
      s.token = f.body;
      if (quiet) return emit({ kind: "login", ...base, token: f.body, status: -2 });
      if (loginRedirect) {
        s.status = -1;
        logins.push({ session: s.n, token: f.body, status: -1, t: Date.now() });
        emit({ kind: "login", ...base, token: f.body, status: -1 });
        return sendTo(s, Cmd.REDIRECT, loginRedirect.host + "\0" + loginRedirect.port);
      }
      const status = accepted.has(f.body) && !invalid.has(f.body) ? opts.loginStatus ?? 200 : 9;
      s.status = status;
      logins.push({ session: s.n, token: f.body, status, t: Date.now() });
      emit({ kind: "login", ...base, token: f.body, status });
      return respond(s, f.id, status);
    }
    if (f.cmd === Cmd.PING) {
      emit({ kind: "ping", ...base });
      if (!quiet) respond(s, f.id, 200);
      return;
    }
    if (f.cmd === Cmd.HARDWARE) {
      const v = f.body.split("\0");
      if (v[0] === "vw" && v.length >= 2) values[v[1]] = v.slice(2);
      return emit({ kind: "hardware", ...base });
    }
    if (f.cmd === Cmd.HARDWARE_SYNC) {
      emit({ kind: "sync", ...base });
      if (quiet) return;
      const v = f.body.split("\0");
      const pins = f.body === "" ? Object.keys(values) : v[0] === "vr" ? v.slice(1) : [];
      for (const p of pins) if (values[p]) sendTo(s, Cmd.HARDWARE, ["vw", p, ...values[p]].join("\0"));
      return;
    }
    if (f.cmd === Cmd.INTERNAL) {
      const v = f.body.split("\0");
      if (v[0] === "mcu") {
        const info: Record<string, string> = {};
        for (let i = 0; i + 1 < v.length; i += 2) info[v[i]] = v[i + 1];
        s.info = info;
        emit({ kind: "info", ...base });
        if (dropInfo > 0) {
          dropInfo--;
          s.socket.destroy();
        }
        return;
      }
      return emit({ kind: "internal", ...base });
    }
    if (f.cmd === Cmd.EVENT_LOG) return emit({ kind: "event", ...base });
    if (f.cmd === Cmd.PROPERTY) return emit({ kind: "property", ...base });
    if (f.cmd === Cmd.RESPONSE) return emit({ kind: "response", ...base, status: f.len });
    emit({ kind: "other", ...base });
  }

  function onConnection(socket: Socket): void {
    const s: Session = { n: sessions.length + 1, bytes: Buffer.alloc(0), frames: [], open: true, socket, traffic: { rx: 0, tx: 0 } };
    const clientPort = socket.remotePort!;
    cloudTraffic.links.set(clientPort, s.traffic);
    sessions.push(s);
    live.add(socket);
    socket.setNoDelay(true);
    emit({ kind: "connect", session: s.n });
    let buf = Buffer.alloc(0);
    socket.on("data", (d: Buffer) => {
      s.traffic.rx += d.length;
      trafficEvent();
      s.bytes = Buffer.concat([s.bytes, d]);
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 5) {
        const cmd = buf[0];
        const id = buf.readUInt16BE(1);
        const len = buf.readUInt16BE(3);
        const bodyLen = cmd === Cmd.RESPONSE ? 0 : len;
        if (buf.length < 5 + bodyLen) break;
        const body = buf.subarray(5, 5 + bodyLen).toString("latin1");
        buf = buf.subarray(5 + bodyLen);
        onFrame(s, { session: s.n, cmd, id, len, body, t: Date.now() });
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      s.open = false;
      live.delete(socket);
      if (cloudTraffic.links.get(clientPort) === s.traffic) cloudTraffic.links.delete(clientPort);
      emit({ kind: "close", session: s.n });
    });
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
  /** Stops accepting at once; connections already open are not touched. */
  function stopListening(): Promise<void> {
    const srv = server;
    server = undefined;
    if (srv) srv.close();
    return new Promise((resolve) => setImmediate(resolve));
  }

  await listen(0);

  const cloud: FakeCloud = {
    get port() {
      return port;
    },
    host: "127.0.0.1",
    events,
    logins,
    sessions,
    frames,
    values,
    current: () => loggedIn().pop(),
    openCount: () => openSessions().length,
    count: (kind) => events.filter((e) => e.kind === kind).length,
    waitFor(pred, ms = 5000) {
      const hit = events.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (e: CloudEvent) => (clearTimeout(timer), resolve(e)) };
        const timer = setTimeout(() => {
          waiters = waiters.filter((x) => x !== w);
          reject(new Error("fake cloud: no matching event within " + ms + " ms"));
        }, ms);
        waiters.push(w);
      });
    },
    silent(on) {
      quiet = on;
    },
    closeSockets() {
      for (const sock of live) sock.destroy();
    },
    async refuse(on) {
      if (on) await stopListening();
      else if (!server) await listen(port);
    },
    redirect(host, p) {
      for (const s of openSessions()) sendTo(s, Cmd.REDIRECT, host + "\0" + p);
    },
    redirectLogins(host, p) {
      loginRedirect = { host, port: p };
    },
    invalidate(token) {
      invalid.add(token);
    },
    dropAfterInfo(n) {
      dropInfo = n;
    },
    accept(token) {
      invalid.delete(token);
      accepted.add(token);
    },
    sendBig(bytes = 2048) {
      for (const s of loggedIn()) {
        write(s, frameBytes(Cmd.HARDWARE, nextId(), Buffer.alloc(bytes, 0x41)));
        emit({ kind: "sent", session: s.n, cmd: Cmd.HARDWARE, body: `<${bytes} bytes>` });
      }
    },
    sendUnknown(cmd = 99) {
      for (const s of loggedIn()) sendTo(s, cmd, "");
    },
    dbg(line) {
      for (const s of loggedIn()) sendTo(s, Cmd.INTERNAL, "dbg\0" + line);
    },
    virtualWrite(pin, ...vals) {
      values[String(pin)] = vals.map(String);
      for (const s of loggedIn()) sendTo(s, Cmd.HARDWARE, ["vw", pin, ...vals].join("\0"));
    },
    debugPrint(text) {
      for (const s of loggedIn()) sendTo(s, Cmd.DEBUG_PRINT, text);
    },
    send(cmd, body, id) {
      for (const s of loggedIn()) sendTo(s, cmd, body, id ?? nextId());
    },
    sendRaw(bytes) {
      const b = typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes;
      for (const s of openSessions()) write(s, b);
    },
    async close() {
      for (const sock of live) sock.destroy();
      await stopListening();
      waiters = [];
    },
  };
  return cloud;
}
