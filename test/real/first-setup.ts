/**
 * The first-setup flow of a built ESP8266 bundle on the real Espruino interpreter, with the lean
 * prelude (prelude-lean.js) and process.memory() at each step. Used by first-setup-1600.test.ts (on
 * ESPRUINO_BIN_1600, 1600 JsVars like an ESP8266) and by scripts/bench-memory.ts.
 *
 * Steps: fresh boot -> access point up ("AP SSID:") -> GET /board_info.json -> GET /wifi_scan.json ->
 * GET /config?ssid=..&pass=..&blynk=TOKEN (the app's %20 encoding) -> the device joins the network and
 * logs in to the fake cloud (RUNNING) -> the config is in Storage -> "reboot" from the cloud console
 * (E.reboot(); the harness boots the interpreter again on the same flash) -> station mode and a
 * second login, no portal. With `link: "mqtt"` the same over Blynk's MQTT API (the fake Blynk MQTT cloud).
 *
 * Memory is read through the lean prelude's eval server with a connection per call, so between
 * samples the harness holds only the listening server; leanPreludeUsage() measures the same prelude
 * with an empty bundle, the same way, as the baseline to subtract.
 */
import { request } from "node:http";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { RealDevice, executable, type MemoryInfo, type WifiNetwork } from "./espruino.ts";
import { startFakeCloud } from "../../sim/fake-cloud/server.ts";
import { startFakeMqttCloud } from "../../sim/fake-cloud/mqtt-blynk.ts";
import { TEST_TOKEN } from "../../shared/names.ts";

export const TOKEN = TEST_TOKEN;
export const HOME: WifiNetwork = { ssid: "HomeNet", password: "correct horse", rssi: -48, channel: 6 };
export const NETWORKS: WifiNetwork[] = [HOME, { ssid: "Neighbour", password: "whatever1", rssi: -80, channel: 11 }];
/** The one network whose name a page or a JSON answer could get wrong. */
export const HOSTILE_SSID = 'Flat "7" <script>alert(1)</script>'.slice(0, 32);

/**
 * `count` networks in range, as in a block of flats: the home network, long (32-byte) names, one
 * hidden network and one whose name has quotes and a <script> tag; signal from strong to weak.
 */
export function crowdedNetworks(count: number): WifiNetwork[] {
  const list: WifiNetwork[] = [HOME];
  for (let i = 1; i < count; i++) {
    const rssi = -50 - Math.round((i * 45) / count);
    const channel = 1 + ((i * 5) % 13);
    if (i === 3) list.push({ ssid: "Hidden Office", password: "secret99", rssi, channel, hidden: true });
    else if (i === 5) list.push({ ssid: HOSTILE_SSID, password: "x1234567", rssi, channel });
    else if (i % 7 === 6) list.push({ ssid: `Cafe ${i} free WiFi`, password: "", rssi, channel });
    else list.push({ ssid: `Flat ${String(i).padStart(2, "0")} - Long Network Name 5GHz Ext`.slice(0, 32), password: "pw" + i + "pw" + i, rssi, channel });
  }
  return list;
}
export const EMPTY_FIRMWARE = fileURLToPath(new URL("./fixtures/empty-firmware.js", import.meta.url));
export const SKIP_1600 = "ESPRUINO_BIN_1600 not set: skipping the 1600-JsVar first-setup test";

/** ESPRUINO_BIN_1600 if it names an executable file. */
export function espruinoBin1600(): string | undefined {
  return executable(process.env.ESPRUINO_BIN_1600);
}

/** The bundle to run: EDGENT_DIST (a dist folder or a .js file) or dist/, file <board>.js. */
export function bundlePath(board = "nodemcu"): string {
  const d = process.env.EDGENT_DIST;
  if (d && d.endsWith(".js")) return path.resolve(d);
  return path.resolve(d || fileURLToPath(new URL("../../dist", import.meta.url)), `${board}.js`);
}

export interface StepSample {
  step: string;
  /** process.memory() after the step (after a garbage collection) */
  usage?: number;
  free?: number;
  total?: number;
  /** ms since the start of the flow */
  ms: number;
}

export interface FirstSetupResult {
  bin: string;
  bundle: string;
  ballast: number;
  steps: StepSample[];
  /** networks listed by the first /wifi_scan.json (app) or the form's list (browser) */
  listed: number;
  /** the names the first /wifi_scan.json listed (app) */
  names: string[];
  /** the step that did not complete, and why */
  failedAt?: string;
  error?: string;
  /** RealDevice.errors() over all boots (Uncaught, OUT OF MEMORY, LOW_MEMORY, interpreter errors) */
  errors: string[];
  /** the first console line that mentions running out of memory, with the step it happened in */
  outOfMemory?: { step: string; line: string };
  console: string[];
  logins: number;
  reboots: number;
}

export interface FirstSetupOptions {
  bundle: string;
  /** the networks in range; default NETWORKS (2) */
  networks?: WifiNetwork[];
  /** "app": the Blynk app's requests (board_info.json, wifi_scan.json twice, /config); "browser": the
   *  setup page, the form posted, the status page; default "app" */
  via?: "app" | "browser";
  bin: string;
  /** JsVars the prelude holds for the whole run (headroom search) */
  ballast?: number;
  /** read process.memory() after each step through the eval server (default true); false runs the
   *  device without the eval server (the least RAM: the flow alone decides) and checks the stored
   *  config after the device stopped */
  measure?: boolean;
  /** "mqtt": provisioned for Blynk's MQTT API (host=mqtt://127.0.0.1:<port>, the token) against the
   *  fake Blynk MQTT cloud, which also sends the restart (downlink/reboot); default "blynk" */
  link?: "blynk" | "mqtt";
  /** ES5 code run in the prelude, before the firmware (RealDeviceOptions.extraPrelude) */
  extraPrelude?: string;
  /** timeout per step in ms; default 30000 */
  stepTimeoutMs?: number;
  /** progress lines */
  log?: (line: string) => void;
}

interface HttpAnswer {
  status: number;
  body: string;
}

/** GET over node:http straight to 127.0.0.1 (the device's mapped port 80), Host as a phone on the setup network sends it. */
export function get(port: number, urlPath: string, timeoutMs = 15000): Promise<HttpAnswer> {
  return exchange(port, "GET", urlPath, undefined, timeoutMs);
}

/** POST of a form (application/x-www-form-urlencoded), as a phone's browser sends the setup form. */
export function post(port: number, urlPath: string, form: string, timeoutMs = 15000): Promise<HttpAnswer> {
  return exchange(port, "POST", urlPath, form, timeoutMs);
}

function exchange(port: number, method: string, urlPath: string, form: string | undefined, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: "192.168.4.1" };
    if (form !== undefined) Object.assign(headers, { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": String(Buffer.byteLength(form)) });
    const req = request({ host: "127.0.0.1", port, path: urlPath, method, timeout: timeoutMs, headers }, (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode || 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`${method} ${urlPath}: no answer within ${timeoutMs} ms`)));
    req.end(form);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseJSON(what: string, body: string): any {
  try {
    return JSON.parse(body);
  } catch {
    throw new Error(`${what} is not JSON: ${JSON.stringify(body.slice(0, 200))}`);
  }
}

/** Polls until pred() holds (gives up when alive() turns false). */
async function until(pred: () => boolean, timeoutMs: number, what: string, dev: RealDevice, alive: () => boolean): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (!alive()) throw new Error(`gave up waiting for ${what}`);
    if (Date.now() > end) throw new Error(`timeout after ${timeoutMs} ms waiting for ${what}; last lines:\n${dev.console.slice(-12).join("\n")}`);
    if (!dev.running && dev.exitCode !== null && dev.exitCode !== 1) throw new Error(`device exited (code ${dev.exitCode}) while waiting for ${what}`);
    await sleep(50);
  }
}

const OOM = /OUT OF MEMORY|LOW.MEMORY|MEMORY_BUSY|^New interpreter error: .*MEMORY/;

/** Runs the flow; never throws for a device failure (see failedAt / error / errors). */
export async function runFirstSetup(o: FirstSetupOptions): Promise<FirstSetupResult> {
  const log = o.log ?? (() => undefined);
  const stepMs = o.stepTimeoutMs ?? 30000;
  const t0 = Date.now();
  const steps: StepSample[] = [];
  const result: FirstSetupResult = {
    bin: o.bin, bundle: o.bundle, ballast: o.ballast ?? 0, steps, listed: 0, names: [], errors: [], console: [], logins: 0, reboots: 0,
  };
  const mqtt = o.link === "mqtt";
  const cloud = mqtt ? await startFakeMqttCloud({ tokens: [TOKEN] }) : await startFakeCloud({ tokens: [TOKEN] });
  // the Server field: the fake Blynk MQTT cloud's broker URL, or nothing (blynk.cloud, redirected by the prelude)
  const host = mqtt ? `&host=${encodeURIComponent("mqtt://127.0.0.1:" + cloud.port)}` : "";
  let dev: RealDevice | undefined;
  let step = "boot";
  // console lines seen so far, per step (to tell in which step memory ran out)
  let seen = 0;
  const noteOom = () => {
    if (!dev) return;
    for (; seen < dev.console.length; seen++) {
      if (!result.outOfMemory && OOM.test(dev.console[seen])) result.outOfMemory = { step, line: dev.console[seen] };
    }
  };
  // fail fast: the first error line (out of memory, Uncaught ...) ends the flow
  let watching = true;
  const failure = new Promise<never>((_, reject) => {
    const t = setInterval(() => {
      const e = dev?.errors() ?? [];
      if (!watching || e.length) clearInterval(t);
      if (watching && e.length) reject(new Error(`device error: ${e[0]}`));
    }, 50);
  });
  failure.catch(() => undefined);
  const w = <T>(p: Promise<T>): Promise<T> => Promise.race([p, failure]);
  const measure = o.measure ?? true;
  const sample = async (name: string) => {
    noteOom();
    if (!measure) {
      steps.push({ step: name, ms: Date.now() - t0 });
      log(`  ${name}`);
      return;
    }
    let m: MemoryInfo | undefined;
    try {
      m = await dev!.memory();
    } catch (e) {
      log(`  ${name}: memory() failed: ${(e as Error).message}`);
    }
    steps.push({ step: name, usage: m?.usage, free: m?.free, total: m?.total, ms: Date.now() - t0 });
    log(`  ${name.padEnd(34)} usage ${m?.usage ?? "?"}  free ${m?.free ?? "?"}`);
  };
  try {
    step = "boot, access point up";
    dev = await RealDevice.start({
      bundle: o.bundle, bin: o.bin, chip: "ESP8266", lean: true, ballast: o.ballast, debug: measure, extraPrelude: o.extraPrelude,
      mac: "5c:cf:7f:01:02:03", networks: o.networks ?? NETWORKS, cloud: { host: "127.0.0.1", port: cloud.port }, bootTimeoutMs: stepMs,
    });
    await w(dev.waitForLog(/AP SSID: /, stepMs));
    await w(dev.waitForEvent(/^LISTEN tcp 80 /, stepMs));
    await w(sleep(300));
    await sample(step);
    const port = dev.httpPort(80);

    if ((o.via ?? "app") === "app") {
      step = "GET /board_info.json";
      let r = await w(get(port, "/board_info.json"));
      if (r.status !== 200) throw new Error(`/board_info.json: HTTP ${r.status} ${r.body.slice(0, 200)}`);
      const info = parseJSON("/board_info.json", r.body);
      if (typeof info.ssid !== "string" || !info.ssid) throw new Error(`/board_info.json has no ssid: ${r.body}`);
      await w(sleep(200));
      await sample(step);

      // the app asks for the list, and again when the user pulls to refresh
      for (const n of [1, 2]) {
        step = n === 1 ? "GET /wifi_scan.json" : "GET /wifi_scan.json again";
        r = await w(get(port, "/wifi_scan.json"));
        if (r.status !== 200) throw new Error(`${step}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
        const scan = parseJSON("/wifi_scan.json", r.body);
        if (!Array.isArray(scan) || !scan.some((x: any) => x && x.ssid === HOME.ssid)) throw new Error(`${step} lacks ${HOME.ssid}: ${r.body.slice(0, 300)}`);
        const names = new Set((o.networks ?? NETWORKS).map((x) => (x.hidden ? "" : x.ssid)));
        const odd = scan.find((x: any) => !names.has(x.ssid));
        if (odd) throw new Error(`${step} lists a network that is not in range: ${JSON.stringify(odd)}`);
        if (n === 1) {
          result.listed = scan.length;
          result.names = scan.map((x: any) => x.ssid);
        }
        await w(sleep(200));
        await sample(step);
      }

      step = "GET /config (app, %20)";
      const q = `ssid=${encodeURIComponent(HOME.ssid)}&pass=${encodeURIComponent(HOME.password)}&blynk=${encodeURIComponent(TOKEN)}${host}`;
      r = await w(get(port, `/config?${q}`));
      if (r.status !== 200) throw new Error(`/config: HTTP ${r.status} ${r.body.slice(0, 200)}`);
      const ok = parseJSON("/config", r.body);
      if (ok.status !== "ok") throw new Error(`/config answered ${r.body}`);
      await w(sleep(100));
      await sample(step);
    } else {
      step = "GET / (the setup page)";
      let r = await w(get(port, "/"));
      for (let i = 0; i < 10 && r.status === 503; i++) r = await w(sleep(2000).then(() => get(port, "/")));
      if (r.status !== 200 || !/<form[^>]*action="\/config"/.test(r.body)) throw new Error(`/: HTTP ${r.status} ${r.body.slice(0, 200)}`);
      if (/<script>alert/.test(r.body)) throw new Error("the setup page shows a network name as HTML");
      result.listed = (r.body.match(/<option /g) || []).length;
      await w(sleep(200));
      await sample(step);

      step = "POST /config (the form)";
      const form = `ui=1&ssid=${encodeURIComponent(HOME.ssid)}&pass=${encodeURIComponent(HOME.password)}&blynk=${encodeURIComponent(TOKEN)}${host}`.replace(/%20/g, "+");
      r = await w(post(port, "/config", form));
      if (r.status !== 303) throw new Error(`POST /config: HTTP ${r.status} ${r.body.slice(0, 200)}`);
      await w(sleep(100));
      await sample(step);

      step = "GET /status (the page the form leads to)";
      // a 503 page refreshes itself after 2 s, as the browser would
      for (let i = 0; i < 10 && (r = await w(get(port, "/status"))).status === 503; i++) await w(sleep(2000));
      if (r.status !== 200 || !/<html/i.test(r.body)) throw new Error(`/status: HTTP ${r.status} ${r.body.slice(0, 200)}`);
      await sample(step);
    }

    step = "network test + cloud login";
    await w(until(() => cloud.logins.some((l: any) => l.token === TOKEN), stepMs, "the login with the token", dev, () => watching));
    await w(dev.waitForLog(/=> RUNNING/, stepMs));
    await w(sleep(500));
    await sample("online (RUNNING)");

    step = "config stored";
    if (measure) {
      const files = JSON.parse(await dev.eval('require("Storage").list(/^edgent\\./)')) as string[];
      if (!files.some((f) => /cfg/.test(f))) throw new Error(`no edgent config in Storage: ${JSON.stringify(files)}`);
    }

    step = "restart (cloud console \"reboot\" -> E.reboot())";
    const from = dev.console.length;
    const eventsFrom = dev.events.length;
    const rebootsBefore = dev.reboots;
    // the Blynk console's "reboot" command (the portal's /reboot is refused once joined to a network)
    if ("dbg" in cloud) cloud.dbg("reboot");
    else cloud.reboot();
    await w(until(() => dev!.reboots > rebootsBefore, stepMs, "the reboot", dev, () => watching));
    await w(dev.waitForEvent(/^BOOTED /, stepMs, eventsFrom));

    step = "second boot: station mode + login";
    const loginsBefore = cloud.logins.length;
    await w(until(() => cloud.logins.length > loginsBefore && cloud.logins[cloud.logins.length - 1].token === TOKEN, stepMs, "the login after the restart", dev, () => watching));
    await w(dev.waitForLog(/=> RUNNING/, stepMs, from));
    if (dev.console.slice(from).some((l) => /AP SSID/.test(l))) throw new Error("the access point came up again after the restart");
    await w(sleep(500));
    await sample("online again after restart");
    if (!measure) {
      step = "config stored (read after stop)";
      await dev.stop();
      const files = await dev.listStorage();
      if (!files.some((f) => /^edgent\..*cfg/.test(f))) throw new Error(`no edgent config in Storage: ${JSON.stringify(files)}`);
    }
    step = "done";
  } catch (e) {
    result.failedAt = step;
    result.error = (e as Error).message;
    log(`  FAILED at "${step}": ${result.error.split("\n")[0]}`);
  } finally {
    watching = false;
    noteOom();
    if (dev) {
      result.errors = dev.errors();
      result.console = dev.console.slice();
      result.reboots = dev.reboots;
      await dev.cleanup();
    }
    result.logins = cloud.logins.length;
    await cloud.close();
  }
  return result;
}

export interface LeanBaseline {
  bin: string;
  /** JsVars of the bare interpreter (no Storage files) */
  interpreter: number;
  total: number;
  /** JsVars the lean prelude holds ("@@PRELUDE" at the end of .boot0, minus the bare interpreter) */
  prelude: number;
  /** JsVars of the listening eval server (measure: true runs only) */
  evalServer: number;
  /** usage that memory() reads with an empty bundle: interpreter + prelude + eval server + the eval call
   *  itself. A step's usage minus this is what the firmware holds. */
  sampleBaseline: number;
}

/** The lean prelude's own RAM on `bin`, from runs with an empty bundle. */
export async function leanBaseline(bin: string): Promise<LeanBaseline> {
  const bare = await bareMemory(bin);
  const opts = { bundle: EMPTY_FIRMWARE, bin, chip: "ESP8266" as const, lean: true, networks: NETWORKS, cloud: { host: "127.0.0.1", port: 9 } };
  const settled = async (debug: boolean) => {
    const dev = await RealDevice.start({ ...opts, debug, settleMs: 300 });
    try {
      await dev.waitForEvent(/^SETTLED /, 10000);
      const p = dev.events.find((e) => e.startsWith("PRELUDE "));
      return { settled: dev.settledMemory!.usage, prelude: p ? (JSON.parse(p.slice(8)) as MemoryInfo).usage : NaN, dev };
    } finally {
      if (!debug) await dev.cleanup();
    }
  };
  const off = await settled(false);
  const on = await settled(true);
  try {
    const sampleBaseline = (await on.dev.memory()).usage;
    return {
      bin, interpreter: bare.usage, total: bare.total, prelude: off.prelude - bare.usage, evalServer: on.settled - off.settled, sampleBaseline,
    };
  } finally {
    await on.dev.cleanup();
  }
}

/**
 * Largest ballast in [0, hi] (within `resolution` JsVars) for which ok(ballast) holds, by bisection
 * (assumes more ballast never helps); undefined when ok(0) already fails.
 */
export async function largestBallast(ok: (ballast: number) => Promise<boolean>, hi: number, resolution = 4): Promise<number | undefined> {
  if (!(await ok(0))) return undefined;
  let lo = 0;
  if (await ok(hi)) return hi;
  while (hi - lo > resolution) {
    const mid = Math.floor((lo + hi) / 2);
    if (await ok(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

const passed = (r: FirstSetupResult) => !r.failedAt && r.errors.length === 0;

/**
 * Free JsVars at the tightest point of the flow on a fixed-size binary (ESPRUINO_BIN_1600), with the
 * lean prelude and no eval server: the largest ballast with which the flow still passes. undefined
 * when it fails without ballast.
 */
export async function headroom(bin: string, bundle: string, log?: (l: string) => void, more: Partial<FirstSetupOptions> = {}): Promise<number | undefined> {
  const base = await leanBaseline(bin);
  return largestBallast(async (b) => {
    const r = await runFirstSetup({ ...more, bin, bundle, ballast: b, measure: false });
    log?.(`  ballast ${b}: ${passed(r) ? "passes" : `fails (${r.failedAt}: ${(r.outOfMemory?.line ?? r.error ?? "").split("\n")[0]})`}`);
    return passed(r);
  }, base.total - base.interpreter - base.prelude);
}

export interface PeakUsage {
  /** highest usage during the flow (interpreter + prelude + eval server + firmware) */
  peak: number;
  /** with a little more ballast, the first sample that saw the store grown: the peak came after the sample before it */
  step?: string;
  /** the firmware's share: peak minus interpreter, prelude and eval server */
  firmware: number;
  baseline: LeanBaseline;
}

/**
 * The flow's peak usage on a resizable binary (ESPRUINO_BIN): its store starts at `total` JsVars and
 * grows when full, so the largest ballast for which it never grows gives peak = total - ballast.
 * Transient peaks inside one event are counted too, which samples between steps cannot see.
 */
export async function peakUsage(bin: string, bundle: string, log?: (l: string) => void): Promise<PeakUsage | undefined> {
  const baseline = await leanBaseline(bin);
  const grewAt = new Map<number, string>();
  const b = await largestBallast(async (ballast) => {
    const r = await runFirstSetup({ bin, bundle, ballast });
    const grew = r.steps.find((s) => s.total !== undefined && s.total > baseline.total);
    if (grew) grewAt.set(ballast, grew.step);
    log?.(`  ballast ${ballast}: ${!passed(r) ? `fails (${r.failedAt})` : grew ? `store grew (${grew.step})` : "fits"}`);
    return passed(r) && !grew && r.steps.every((s) => s.total !== undefined);
  }, baseline.total - baseline.interpreter - baseline.prelude - baseline.evalServer, 2);
  if (b === undefined) return undefined;
  const peak = baseline.total - b;
  const above = [...grewAt.keys()].filter((k) => k > b).sort((x, y) => x - y)[0];
  return { peak, step: above === undefined ? undefined : grewAt.get(above), firmware: peak - baseline.interpreter - baseline.prelude - baseline.evalServer, baseline };
}

async function bareMemory(bin: string): Promise<MemoryInfo> {
  const { spawnSync } = await import("node:child_process");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espruino-bare-"));
  try {
    const r = spawnSync(bin, ["-e", 'print("@@M "+JSON.stringify(process.memory()));quit()'], {
      cwd: dir, stdio: ["ignore", "pipe", "pipe"], encoding: "latin1", timeout: 20000,
    });
    const m = /@@M (\{.*\})/.exec(r.stdout ?? "");
    if (!m) throw new Error(`bare interpreter run failed: ${r.stdout}`);
    return JSON.parse(m[1]) as MemoryInfo;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints the samples as a table (optionally with usage minus a baseline). */
export function formatSteps(r: FirstSetupResult, baseline?: number): string {
  const rows = r.steps.map((s) => {
    if (s.usage === undefined) return `  ${s.step.padEnd(34)} reached (${s.ms} ms)`;
    const fw = baseline !== undefined && s.usage !== undefined ? `  firmware ${String(s.usage - baseline).padStart(5)}` : "";
    return `  ${s.step.padEnd(34)} usage ${String(s.usage ?? "?").padStart(5)}  free ${String(s.free ?? "?").padStart(5)}${fw}`;
  });
  if (r.failedAt) rows.push(`  FAILED at "${r.failedAt}": ${(r.error ?? "").split("\n")[0]}`);
  if (r.outOfMemory) rows.push(`  out of memory during "${r.outOfMemory.step}": ${r.outOfMemory.line}`);
  return rows.join("\n");
}
