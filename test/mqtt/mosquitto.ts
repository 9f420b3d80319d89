/**
 * A real Mosquitto (Debian's package `mosquitto`) for the any-broker tests: started on a free port of
 * 127.0.0.1 with its own configuration, password file and ACL in a temporary directory, stopped by
 * stop(). Tests call mosquittoOrSkip(this), which skips them with one line when the binary is missing.
 *
 *   const m = await startMosquitto({ users: { dev: "pw" }, acl: "user dev\ntopic readwrite dev/#\n" });
 *   const obs = await m.observe("#");   // an MQTT.js client as the administrator, recording messages
 *   await m.stop();
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";

const CANDIDATES = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"];

export const SKIP_LINE = "mosquitto not installed (apt-get install mosquitto): skipping the any-broker tests";

export function mosquittoBin(): string | undefined {
  if (process.env.MOSQUITTO_BIN) return existsSync(process.env.MOSQUITTO_BIN) ? process.env.MOSQUITTO_BIN : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

/** In a mocha `before`: skips the suite, saying so once, when there is no mosquitto. */
export function mosquittoOrSkip(ctx: Mocha.Context): void {
  if (mosquittoBin()) return;
  const suite = ctx.test?.parent;
  if (suite && !suite.title.includes(SKIP_LINE)) {
    suite.title += " (" + SKIP_LINE + ")";
    console.log("  " + SKIP_LINE);
  }
  ctx.skip();
}

/** The administrator the observers log in as (read and write everything). */
export const ADMIN = { user: "observer", pass: "observer-pw" };

export interface Message {
  topic: string;
  /** Payload as a byte string. */
  payload: string;
  retain: boolean;
  qos: number;
}

export interface Observer {
  readonly messages: Message[];
  /** The last message on the topic, if any. */
  last(topic: string): Message | undefined;
  /** Resolves once a message matching pred arrived (real time). */
  waitFor(pred: (m: Message) => boolean, ms?: number): Promise<Message>;
  publish(topic: string, payload: string, opts?: { retain?: boolean; qos?: 0 | 1 }): Promise<void>;
  end(): Promise<void>;
}

export interface Mosquitto {
  readonly host: string;
  readonly port: number;
  /** mosquitto's log lines (-v). */
  readonly log: string[];
  observe(filter: string): Promise<Observer>;
  stop(): Promise<void>;
}

export interface MosquittoOptions {
  /** User name -> password. Without users the broker is anonymous. */
  users?: Record<string, string>;
  /** ACL file text (ADMIN's line is added). Without it everyone may do everything. */
  acl?: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host: "127.0.0.1", port });
    c.once("connect", () => (c.destroy(), resolve(true)));
    c.once("error", () => resolve(false));
  });
}

export async function startMosquitto(o: MosquittoOptions = {}): Promise<Mosquitto> {
  const bin = mosquittoBin();
  if (!bin) throw new Error(SKIP_LINE);
  const dir = mkdtempSync(join(tmpdir(), "mosquitto-"));
  const users = o.users ? { ...o.users, [ADMIN.user]: ADMIN.pass } : undefined;
  const conf = [
    "per_listener_settings false",
    "persistence false",
    // as root it would drop to the user "mosquitto", who cannot read this directory
    "user " + (process.getuid && process.getuid() === 0 ? "root" : "mosquitto"),
    "log_dest stderr",
    "log_type all",
  ];
  if (users) {
    const pw = join(dir, "passwd");
    writeFileSync(pw, "");
    for (const [u, p] of Object.entries(users)) {
      const r = spawnSync("mosquitto_passwd", ["-b", pw, u, p], { encoding: "utf8" });
      if (r.status !== 0) throw new Error("mosquitto_passwd failed: " + r.stderr);
    }
    conf.push("allow_anonymous false", "password_file " + pw);
  } else conf.push("allow_anonymous true");
  if (o.acl !== undefined) {
    const acl = join(dir, "acl");
    writeFileSync(acl, "user " + ADMIN.user + "\ntopic readwrite #\n\n" + o.acl + "\n");
    conf.push("acl_file " + acl);
  }
  const log: string[] = [];
  let proc: ChildProcess | undefined;
  let port = 0;
  // a port taken between freePort() and mosquitto's bind: try another
  for (let attempt = 0; attempt < 5 && !proc; attempt++) {
    port = await freePort();
    const file = join(dir, "mosquitto.conf");
    writeFileSync(file, conf.concat("listener " + port + " 127.0.0.1").join("\n") + "\n");
    const p = spawn(bin, ["-c", file], { stdio: ["ignore", "ignore", "pipe"] });
    p.stderr!.setEncoding("utf8");
    p.stderr!.on("data", (d: string) => log.push(...d.split("\n").filter(Boolean)));
    let exited = false;
    p.once("exit", () => (exited = true));
    const until = Date.now() + 5000;
    while (!exited && Date.now() < until && !(await canConnect(port))) await new Promise((r) => setTimeout(r, 20));
    if (!exited && (await canConnect(port))) proc = p;
    else p.kill();
  }
  if (!proc) throw new Error("mosquitto did not start:\n" + log.join("\n"));
  const observers: Observer[] = [];

  return {
    host: "127.0.0.1",
    port,
    log,
    async observe(filter) {
      const c: MqttClient = await mqtt.connectAsync("mqtt://127.0.0.1:" + port, {
        clientId: "observer-" + Math.random().toString(16).slice(2),
        ...(users ? { username: ADMIN.user, password: ADMIN.pass } : {}),
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      const messages: Message[] = [];
      let waiters: { pred: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
      c.on("message", (topic, payload, packet) => {
        const m = { topic, payload: payload.toString("latin1"), retain: packet.retain, qos: packet.qos };
        messages.push(m);
        waiters = waiters.filter((w) => (w.pred(m) ? (w.resolve(m), false) : true));
      });
      await c.subscribeAsync(filter, { qos: 1 });
      const obs: Observer = {
        messages,
        last: (topic) => messages.filter((m) => m.topic === topic).pop(),
        waitFor(pred, ms = 5000) {
          const hit = messages.find(pred);
          if (hit) return Promise.resolve(hit);
          return new Promise((resolve, reject) => {
            const w = { pred, resolve: (m: Message) => (clearTimeout(timer), resolve(m)) };
            const timer = setTimeout(() => {
              waiters = waiters.filter((x) => x !== w);
              reject(new Error("mosquitto observer: no matching message within " + ms + " ms; got " + JSON.stringify(messages)));
            }, ms);
            waiters.push(w);
          });
        },
        async publish(topic, payload, opts = {}) {
          await c.publishAsync(topic, Buffer.from(payload, "latin1"), { retain: !!opts.retain, qos: opts.qos ?? 1 });
        },
        async end() {
          await c.endAsync();
        },
      };
      observers.push(obs);
      return obs;
    },
    async stop() {
      for (const ob of observers) await ob.end().catch(() => {});
      const p = proc!;
      if (p.exitCode === null) {
        const gone = new Promise((r) => p.once("exit", r));
        p.kill("SIGTERM");
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
