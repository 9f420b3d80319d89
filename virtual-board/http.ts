// The two local web servers of the virtual board:
// - the control page (static files in public/) with a small JSON API and one server-sent-event
//   stream that carries the LED frames, the console and state changes;
// - the portal: what a phone joined to the device's access point sees at http://192.168.4.1/,
//   proxied to the simulator's port 80 with the Host header a phone would send.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { Bench, UserError } from "./workbench.ts";
import { UPDATE_KINDS } from "./air.ts";

const PUBLIC = new URL("./public/", import.meta.url).pathname;
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};
/** LED frames per second on the event stream. */
const FPS = 30;
/** How often the device is asked for edgent.status() and the state snapshot is compared (ms). */
const STATE_MS = 250;
const MAX_BODY = 4096;
const AP_IP = "192.168.4.1";
/** A portal request the device has not answered in this long (wall clock) gets a 504. */
const PORTAL_TIMEOUT_MS = 30000;

function html(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Cache-Control": "no-store", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  // A JSON content type makes a cross-site form post impossible without a CORS preflight, which this server never grants.
  if (!/^application\/json\b/.test(req.headers["content-type"] || "")) throw new UserError("send the body as application/json");
  let body = "";
  for await (const chunk of req) {
    body += chunk;
    if (body.length > MAX_BODY) throw new UserError(`the body is over ${MAX_BODY} bytes`);
  }
  try {
    const v = body ? JSON.parse(body) : {};
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error();
    return v;
  } catch {
    throw new UserError("the body is not a JSON object");
  }
}

export interface ControlServer {
  readonly server: Server;
  close(): Promise<void>;
}

/** The control page, its API and its event stream. */
export function controlServer(bench: Bench): ControlServer {
  const clients = new Set<ServerResponse>();
  let consoleSeen = 0;
  let lastState = "";
  let busy = false;

  const broadcast = (event: string, data: unknown) => {
    const msg = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(msg);
  };

  /** Sends the console lines printed since the last call to every client. */
  const flushConsole = () => {
    const c = bench.consoleSince(consoleSeen);
    consoleSeen = c.last;
    if (c.lines.length && clients.size) broadcast("console", c.lines);
  };

  const frameTimer = setInterval(() => {
    flushConsole();
    if (clients.size) broadcast("frame", bench.frame());
    else bench.sampleLed();
  }, 1000 / FPS);

  const stateTimer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      await bench.pollStatus();
      const s = JSON.stringify(bench.snapshot());
      if (s !== lastState && clients.size) broadcast("state", JSON.parse(s));
      lastState = s;
    } finally {
      busy = false;
    }
  }, STATE_MS);

  async function api(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method === "GET" && path === "/api/state") return sendJson(res, 200, { ...bench.snapshot(), frame: bench.frame(), console: bench.consoleSince(0).lines });
    if (req.method === "GET" && path === "/api/events") {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store", Connection: "keep-alive" });
      flushConsole(); // the others are now up to date; this one gets the tail up to the same line
      res.write(`retry: 1000\nevent: state\ndata: ${JSON.stringify(bench.snapshot())}\n\n`);
      res.write(`event: console\ndata: ${JSON.stringify(bench.consoleSince(0).lines)}\n\n`);
      clients.add(res);
      req.on("close", () => clients.delete(res));
      return;
    }
    if (req.method !== "POST") return sendJson(res, 405, { error: "use GET for /api/state and /api/events, POST for the rest" });
    const b = await readJson(req);
    if (path === "/api/button") {
      if (typeof b.pressed !== "boolean") throw new UserError('send {"pressed": true} or {"pressed": false}');
      bench.button(b.pressed);
    } else if (path === "/api/network") {
      if (typeof b.ssid !== "string") throw new UserError('send {"ssid": "...", "up": true|false} or {"ssid": "...", "password": "..."}');
      if (b.up !== undefined && typeof b.up !== "boolean") throw new UserError('"up" must be true or false');
      if (b.password !== undefined && typeof b.password !== "string") throw new UserError('"password" must be a string');
      bench.network(b.ssid, { up: b.up as boolean | undefined, password: b.password as string | undefined });
    } else if (path === "/api/cloud") {
      if (typeof b.reject !== "boolean") throw new UserError('send {"reject": true} or {"reject": false}');
      bench.rejectToken(b.reject);
    } else if (path === "/api/update") {
      if (!bench.air || typeof b.kind !== "string" || !UPDATE_KINDS[b.kind]) throw new UserError(`send {"kind": "good"} or one of ${Object.keys(UPDATE_KINDS).join(", ")}`);
      await bench.air.push(b.kind);
    } else if (path === "/api/power") {
      if (b.action === "cut") bench.powerOff(typeof b.offMs === "number" ? Math.min(Math.max(b.offMs, 0), 60000) : 1000);
      else if (b.action === "off") bench.powerOff();
      else if (b.action === "on") await bench.powerOn();
      else throw new UserError('send {"action": "cut"} (off, then on after offMs, default 1000), "off" or "on"');
    } else if (path === "/api/speed") {
      if (typeof b.speed !== "number") throw new UserError('send {"speed": 1} (0 pauses)');
      await bench.setSpeed(b.speed);
    } else return sendJson(res, 404, { error: "no such API: " + path });
    const s = bench.snapshot();
    lastState = JSON.stringify(s);
    broadcast("state", s);
    sendJson(res, 200, s);
  }

  async function file(res: ServerResponse, path: string): Promise<void> {
    const rel = normalize(path === "/" ? "/index.html" : path);
    const type = TYPES[extname(rel)];
    if (rel.includes("..") || !type) return sendJson(res, 404, { error: "not found" });
    try {
      const body = await readFile(join(PUBLIC, rel));
      res.writeHead(200, { "Content-Type": type, "Cache-Control": "no-store", "Content-Length": body.length });
      res.end(body);
    } catch {
      sendJson(res, 404, { error: "not found" });
    }
  }

  const server = createServer((req, res) => {
    const path = (req.url || "/").split("?")[0];
    const work = path.startsWith("/api/") ? api(req, res, path) : file(res, path);
    work.catch((e) => {
      if (res.headersSent) return res.end();
      if (e instanceof UserError) sendJson(res, 400, { error: e.message });
      else sendJson(res, 500, { error: String(e?.message || e) });
    });
  });

  return {
    server,
    close() {
      clearInterval(frameTimer);
      clearInterval(stateTimer);
      for (const c of clients) c.end();
      clients.clear();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A page in the portal's own style for when the device cannot answer. */
function unavailable(res: ServerResponse, code: number, title: string, text: string, controlUrl: string): void {
  const body =
    '<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">' +
    '<meta http-equiv="refresh" content="2"><title>' + html(title) + "</title>" +
    "<style>body{font:17px/1.4 sans-serif;margin:0 auto;max-width:28em;padding:1em;color:#222}h1{font-size:1.3em}.n{color:#666;font-size:.9em}</style>" +
    "</head><body><h1>" + html(title) + "</h1><p>" + text + '</p><p class="n">This page retries every 2 seconds. ' +
    '<a href="' + html(controlUrl) + '">Control page</a></p></body></html>';
  res.writeHead(code, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/** Absolute redirects to the access point's address become paths on this origin. */
function localLocation(loc: string): string {
  const m = /^https?:\/\/(192\.168\.4\.1|blynk\.setup)(:80)?(\/.*)?$/i.exec(loc);
  return m ? m[3] || "/" : loc;
}

/** The portal as a phone sees it, at the root of its own origin (its links are absolute: /config). */
export function portalServer(bench: Bench, controlUrl: () => string): { readonly server: Server; close(): Promise<void> } {
  const server = createServer((req, res) => {
    if (!bench.power) return unavailable(res, 503, "No power", "The virtual board is switched off. Switch it on from the control page.", controlUrl());
    const port = bench.portalPort();
    if (port === undefined) {
      const s = bench.snapshot().device.state;
      return unavailable(
        res, 503, "Setup portal closed",
        `The device is not serving its setup portal now (state <b>${html(s)}</b>). It opens while the device waits for setup: hold the button for 10 seconds on the control page to reset it.`,
        controlUrl()
      );
    }
    bench.phoneJoins();
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && k !== "connection" && k !== "keep-alive") headers[k] = v;
    headers.host = AP_IP;
    headers.connection = "close";
    const up = request({ host: "127.0.0.1", port, method: req.method, path: req.url, headers, agent: false }, (dev) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(dev.headers)) if (v !== undefined && k !== "connection" && k !== "transfer-encoding") out[k] = v;
      if (typeof out.location === "string") out.location = localLocation(out.location);
      res.writeHead(dev.statusCode || 502, dev.statusMessage, out);
      dev.pipe(res);
      dev.on("error", () => res.destroy());
    });
    up.setTimeout(PORTAL_TIMEOUT_MS, () => {
      up.destroy();
      if (!res.headersSent) unavailable(res, 504, "No answer", "The device did not answer in time (is time paused on the control page?).", controlUrl());
    });
    up.on("error", () => {
      if (res.headersSent) return res.destroy();
      unavailable(res, 502, "Setup portal closed", "The device closed the connection; its setup portal is probably closing.", controlUrl());
    });
    req.pipe(up);
  });
  return {
    server,
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
