// Cost of the cloud client (firmware/cloud: codec + session + api + console) on the real interpreter,
// for `npm run bench` (table "Cloud link") or standalone: `npx tsx scripts/bench-cloud.ts`.
//
// RAM: the client alone is bundled like the firmware (rollup + terser, same options) and booted from
// Storage .bootcde by the test/real harness (ESPRUINO_BIN_1600 if set, else ESPRUINO_BIN), talking
// plain TCP to the fake cloud. Measured with process.memory() (after a GC), in JsVars:
//   code     boot usage of the bundle minus boot usage of an empty bundle (functions, module state);
//   session  usage online in steady state (after login and the info message; for the old client,
//            after its first 10 s ping) minus usage just before startCloud(), so the options object
//            main builds anyway is not counted; Espruino's socket and timer are included;
//   closed   usage after close() minus usage before startCloud() (0 = nothing leaks).
// With BLYNK_ESPRUINO_JS pointing at blynk-espruino.js of vshymanskyy/blynk-library-js (not part of
// this repository), the old Espruino Blynk client is measured the same way for comparison.
//
// Instructions: with valgrind installed, the interpreter runs the client against an in-interpreter
// fake socket and clock (no I/O, no real time) for 0 and for 20 heartbeat cycles of 40 s under
// callgrind; the difference over 20 is the instruction count of one cycle (timer wake-ups, PING out,
// RESPONSE in). The old client pings every 10 s, so its figure is per 40 s (4 pings) as well.
import { readFileSync, writeFileSync, mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { rollup, type Plugin } from "rollup";
import typescriptPlugin from "@rollup/plugin-typescript";
import { startFakeCloud, FakeCloud } from "../sim/fake-cloud/server.ts";
import { RealDevice, executable } from "../test/real/espruino.ts";
import { TEST_TOKEN } from "../shared/names.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TOKEN = TEST_TOKEN;

const INFO_JS =
  '{fwVer:"0.1.0",fwType:"TMPL4xxxxxxxx",build:"Jan  1 2025 12:00:00",dev:"ESP8266",tmpl:"TMPL4xxxxxxxx"}';

/** Device-side harness for each client: global __bench = {prep, start, stop}. */
function ourEntry(): string {
  const p = (f: string) => JSON.stringify(join(ROOT, "firmware/cloud", f));
  return `
import { open } from ${p("client.ts")};
import { cloudApi } from ${p("api.ts")};
var o, c;
global.__bench = {
  prep: function () {
    cloudApi();
    o = { token: "${TOKEN}", host: "blynk.cloud", port: 80, tls: false, info: ${INFO_JS},
      log: function (l) { print("@@CLOUD " + l); }, ev: function () {}, now: function () { return Date.now(); } };
  },
  start: function () { c = open(o); },
  stop: function () { c.close(); c = undefined; }
};`;
}

function oldEntry(lib: string): string {
  return `var exports = {};
${lib}
var o, c;
global.__bench = {
  prep: function () { o = { addr: "blynk.cloud", port: 80, skip_connect: true }; },
  start: function () { c = new exports.Blynk("${TOKEN}", o); c.connect(); },
  stop: function () { c.disconnect(false); c = undefined; }
};`;
}

// the plugin's CommonJS typings do not describe its default export under NodeNext
const typescript = typescriptPlugin as unknown as (o: object) => Plugin;

/**
 * Bundles an entry like rollup.config.js bundles the firmware: its TypeScript settings and its
 * output plugins (terser options, array-hole fix, conformance check), without __BUILD__.
 */
async function bundle(entryCode: string): Promise<string> {
  const { firmwareOutputPlugins } = await import(pathToFileURL(join(ROOT, "rollup.config.js")).href);
  const entryId = "\0bench-cloud-entry";
  const b = await rollup({
    input: entryId,
    onwarn: () => {},
    plugins: [
      { name: "entry", resolveId: (id: string) => (id === entryId ? id : null), load: (id: string) => (id === entryId ? entryCode : null) },
      typescript({ tsconfig: join(ROOT, "tsconfig.json"), outDir: undefined, noEmitOnError: true, include: [join(ROOT, "firmware/**/*.ts")] }),
    ],
  });
  const { output } = await b.generate({ format: "iife", strict: false, plugins: firmwareOutputPlugins() });
  await b.close();
  return output[0].code;
}

function interpreter(): string | undefined {
  return executable(process.env.ESPRUINO_BIN_1600) || executable(process.env.ESPRUINO_BIN);
}

interface RamResult {
  code: number;
  session: number;
  closed: number;
  bytes: number;
  blocksize: number;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

async function measureRam(bin: string, bundleFile: string, emptyFile: string, cloud: FakeCloud, settleMs: number): Promise<RamResult> {
  const opts = { chip: "ESP8266" as const, bin, pins: false, tracePins: false, cloud: { host: "127.0.0.1", port: cloud.port }, restartOnReboot: false };
  const base = await RealDevice.start({ ...opts, bundle: emptyFile });
  const baseUsage = (await base.memory()).usage;
  await base.cleanup();
  const dev = await RealDevice.start({ ...opts, bundle: bundleFile });
  try {
    const boot = await dev.memory();
    // the first socket creates Espruino's network state (about 8 JsVars that stay): not the client's
    await dev.eval('global.__w = require("net").connect({host: "blynk.cloud", port: 80}, function () { __w.end(); __w = undefined; })');
    await sleep(800);
    await dev.eval("__bench.prep()");
    const before = (await dev.memory()).usage;
    const logins = cloud.logins.length;
    await dev.eval("__bench.start()");
    const t0 = Date.now();
    while (cloud.logins.length === logins && Date.now() - t0 < 10000) await sleep(50);
    if (cloud.logins.length === logins) throw new Error("no login within 10 s:\n" + dev.console.slice(-20).join("\n"));
    await sleep(settleMs);
    const online = (await dev.memory()).usage;
    await dev.eval("__bench.stop()");
    await sleep(300);
    const after = (await dev.memory()).usage;
    const errors = dev.errors();
    if (errors.length) throw new Error("interpreter errors: " + errors.join("; "));
    return {
      code: boot.usage - baseUsage,
      session: online - before,
      closed: after - before,
      bytes: readFileSync(bundleFile).length,
      blocksize: Number(boot.blocksize || 0),
    };
  } finally {
    await dev.cleanup();
  }
}

/**
 * In-interpreter fake clock and socket for the instruction count: the socket answers HW_LOGIN and
 * PING with RESPONSE 200 one virtual ms later; `run(n)` advances n x 40 s, firing timers in order.
 */
const FAKE_WORLD = `
var __t = 0, __q = [], __seq = 0;
var __now = function () { return __t; };
var __set = function (fn, ms) { var id = ++__seq; __q.push({ id: id, at: __t + (ms > 0 ? ms : 0), fn: fn }); return id; };
var __clr = function (id) { for (var i = 0; i < __q.length; i++) if (__q[i].id === id) { __q.splice(i, 1); return; } };
var __adv = function (ms) {
  var end = __t + ms;
  for (;;) {
    var b = -1;
    for (var i = 0; i < __q.length; i++) if (__q[i].at <= end && (b < 0 || __q[i].at < __q[b].at)) b = i;
    if (b < 0) break;
    var e = __q.splice(b, 1)[0];
    if (e.at > __t) __t = e.at;
    e.fn();
  }
  __t = end;
};
var __sock = function (cb) {
  var s = { l: {} };
  s.on = function (ev, f) { s.l[ev] = f; };
  s.removeAllListeners = function () { s.l = {}; };
  s.end = function () {};
  s.write = function (d) {
    var c = d.charCodeAt(0);
    if (c === 29 || c === 6) { var r = "\\x00" + d.substr(1, 2) + "\\x00\\xC8"; __set(function () { if (s.l.data) s.l.data(r); }, 1); }
  };
  __set(function () { cb(s); }, 1);
  return s;
};
global.setTimeout = __set; global.setInterval = function (fn, ms) { var id; var f = function () { id = __set(f, ms); fn(); }; id = __set(f, ms); return id; };
global.clearTimeout = __clr; global.clearInterval = __clr; global.getTime = function () { return __t / 1000; };
Modules.addCached("net", ";");
require("net").connect = function (o, cb) { return __sock(cb); };
`;

function callgrindInstructions(bin: string, script: string, dir: string): number | undefined {
  const file = join(dir, "run.js");
  writeFileSync(file, script);
  const r = spawnSync("valgrind", ["--tool=callgrind", "--callgrind-out-file=" + join(dir, "cg.out"), bin, file], {
    cwd: dir, encoding: "latin1", timeout: 300000, stdio: ["ignore", "pipe", "pipe"],
  });
  const m = /Collected\s*:\s*(\d+)/.exec(r.stderr || "");
  if (!m || !/BENCH-DONE/.test(r.stdout || "")) return undefined;
  return Number(m[1]);
}

function instructionsPerCycle(bin: string, clientCode: string, start: string, dir: string): number | undefined {
  const script = (cycles: number) =>
    FAKE_WORLD + clientCode + "\n__bench.prep();\n" + start + "\n__adv(1000);\nfor (var __i = 0; __i < " + cycles + "; __i++) __adv(40000);\nprint(\"BENCH-DONE\");\nquit();\n";
  const a = callgrindInstructions(bin, script(0), dir);
  const b = callgrindInstructions(bin, script(20), dir);
  return a === undefined || b === undefined ? undefined : Math.round((b - a) / 20);
}

function hasValgrind(): boolean {
  return spawnSync("valgrind", ["--version"], { encoding: "utf8" }).status === 0;
}

export async function benchCloud(): Promise<Record<string, number | string>[]> {
  const ours = await bundle(ourEntry());
  const oldPath = process.env.BLYNK_ESPRUINO_JS;
  if (!oldPath) console.log("No comparison row: set BLYNK_ESPRUINO_JS to blynk-espruino.js of vshymanskyy/blynk-library-js (GitHub) to measure the old client too.");
  else if (!existsSync(oldPath)) console.log("No comparison row: BLYNK_ESPRUINO_JS=" + oldPath + " does not exist.");
  const old = oldPath && existsSync(oldPath) ? await bundle(oldEntry(readFileSync(oldPath, "latin1"))) : undefined;
  const rows: Record<string, number | string>[] = [];
  const row = (client: string, code: string) => {
    const r: Record<string, number | string> = { client, "bundle bytes": code.length };
    rows.push(r);
    return r;
  };
  const rOurs = row("espruino-edgent firmware/cloud", ours);
  const rOld = old ? row("blynk-library-js blynk-espruino.js", old) : undefined;

  const bin = interpreter();
  if (!bin) {
    rOurs.note = "set ESPRUINO_BIN (or ESPRUINO_BIN_1600) for RAM and instruction counts";
    return rows;
  }
  const dir = mkdtempSync(join(tmpdir(), "bench-cloud-"));
  const cloud = await startFakeCloud({ tokens: [TOKEN] });
  try {
    const empty = join(dir, "empty.js");
    writeFileSync(empty, ";\n");
    for (const [r, code] of [[rOurs, ours], [rOld, old]] as const) {
      if (!r || !code) continue;
      const file = join(dir, "bundle.js");
      writeFileSync(file, code);
      // the old client pings every 10 s: 12 s includes one ping cycle for it; ours pings after 40 s
      const m = await measureRam(bin, file, empty, cloud, r === rOld ? 12000 : 1500);
      r["code JsVars"] = m.code;
      r["session JsVars"] = m.session;
      r["session bytes"] = m.session * (m.blocksize || 16);
      r["left after close"] = m.closed;
      r["bytes/JsVar here"] = m.blocksize;
    }
    // the script and the code run from RAM here, which the fixed 1600-var build cannot hold
    const big = executable(process.env.ESPRUINO_BIN) || bin;
    if (hasValgrind()) {
      rOurs["instructions / 40 s heartbeat"] = instructionsPerCycle(big, ours, "__bench.start();", dir) ?? "n/a";
      if (rOld && old) rOld["instructions / 40 s heartbeat"] = instructionsPerCycle(big, old, "__bench.start();", dir) ?? "n/a";
    }
  } finally {
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] || "").href) {
  const rows = await benchCloud();
  console.table(rows);
}
