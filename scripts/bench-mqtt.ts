// Cost of the MQTT session (firmware/mqtt: codec + session, with ../cloud/api) on the real
// interpreter, measured as scripts/bench-cloud.ts measures the Blynk-protocol client:
// `npx tsx scripts/bench-mqtt.ts` with ESPRUINO_BIN and/or ESPRUINO_BIN_1600 set.
//
// The session alone is bundled like the firmware (rollup + terser with rollup.config.js's output
// plugins, then scripts/conformance.js) and booted from Storage .bootcde by the test/real
// harness, talking plain TCP: Blynk's mode to the fake Blynk MQTT cloud, the any-broker modes to an
// anonymous mosquitto (rows skipped without it). Measured with process.memory() (after a GC), in JsVars:
//   code     boot usage of the bundle minus boot usage of an empty bundle (functions, module state);
//   session  usage online in steady state (after CONNACK, SUBACK and the first publishes) minus usage
//            just before openMqtt(), so the options object main builds anyway is not counted;
//            Espruino's socket and timer are included;
//   closed   usage after close() minus usage before openMqtt() (0 = nothing leaks; startMqtt() puts
//            `connect` into the options object, a JsVar that stays with it).
// BENCH_MQTT_DUMP=<file> writes the Blynk-mode bundle there instead (to read what terser made of it).
// Every interpreter given (ESPRUINO_BIN_1600: 32-bit, 1600 JsVars of 12 bytes, the ESP8266 model;
// ESPRUINO_BIN: 64-bit, resizable) is measured.
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { rollup, type Plugin } from "rollup";
import typescriptPlugin from "@rollup/plugin-typescript";
import { startFakeMqttCloud } from "../sim/fake-cloud/mqtt-blynk.ts";
import { startMosquitto, mosquittoBin, type Mosquitto } from "../test/mqtt/mosquitto.ts";
import { RealDevice, executable } from "../test/real/espruino.ts";
import { checkBundle, formatProblems } from "./conformance.js";
import { TEST_TOKEN } from "../shared/names.ts";
import { Ev } from "../firmware/kernel.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TOKEN = TEST_TOKEN;
const INFO_JS = '{fwVer:"0.1.0",build:"Jan  1 2025 12:00:00",dev:"ESP8266",tmpl:"TMPL4xxxxxxxx"}';
const NAME = "Blynk My Device-PYN6";

/** What a row measures: the extra options of openMqtt(), and where its connection goes. */
interface Mode {
  row: string;
  options: string;
  broker: "blynk" | "mosquitto";
}

const MODES: Mode[] = [
  { row: "Blynk MQTT API", options: `token: "${TOKEN}"`, broker: "blynk" },
  { row: "any broker", options: `name: "${NAME}"`, broker: "mosquitto" },
  { row: "any broker + HA discovery", options: `name: "${NAME}", ha: "homeassistant"`, broker: "mosquitto" },
];

/** Device-side harness: global __bench = {prep, start, stop}. */
function entry(m: Mode): string {
  const p = (f: string) => JSON.stringify(join(ROOT, f));
  return `
import { open } from ${p("firmware/mqtt/client.ts")};
import { cloudApi, apiLink, apiWrite } from ${p("firmware/cloud/api.ts")};
import { now } from ${p("firmware/platform/espruino.ts")};
var o, c;
function log(l) { print("@@MQTT " + l); }
// the core's step function as far as the session needs it: the user API's link and writes
function ev(e, a, b) { if (e === ${Ev.LINK}) apiLink(a, b, log); else if (e === ${Ev.WRITE}) apiWrite(a, b); }
global.__bench = {
  prep: function () {
    cloudApi();
    // built-ins Espruino makes on first use and keeps (RegExp 8 JsVars, Math 2): not the session's
    global.__pre = "x".replace(/x/g, "") + Math.floor(1);
    o = { host: "blynk.cloud", port: 1883, tls: false, ${m.options}, info: ${INFO_JS}, now: now, log: log, ev: ev };
  },
  start: function () { c = open(o); },
  stop: function () { c.close(); c = undefined; }
};`;
}

// the plugin's CommonJS typings do not describe its default export under NodeNext
const typescript = typescriptPlugin as unknown as (o: object) => Plugin;

/**
 * Bundles an entry with rollup.config.js's compiler settings and output plugins (terser, array holes)
 * as one flat script, and checks it for Espruino's traps (scripts/conformance.js): throws when
 * Espruino could not run it. Imports resolve from the root.
 */
export async function bundle(entryCode: string): Promise<string> {
  const config = await import(pathToFileURL(join(ROOT, "rollup.config.js")).href);
  const entryId = "\0bench-mqtt-entry";
  const b = await rollup({
    input: entryId,
    onwarn: () => {},
    plugins: [
      { name: "entry", resolveId: (id: string) => (id === entryId ? id : null), load: (id: string) => (id === entryId ? entryCode : null) },
      typescript({ tsconfig: join(ROOT, "tsconfig.json"), outDir: undefined, noEmitOnError: true, include: [join(ROOT, "firmware/**/*.ts")] }),
    ],
  });
  const { output } = await b.generate({ format: "iife", strict: false, plugins: config.firmwareOutputPlugins() });
  await b.close();
  const code = output[0].code;
  const problems = checkBundle(code);
  if (problems.length) throw new Error("Espruino cannot run this bundle:\n" + formatProblems("bench-mqtt", problems));
  return code;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

interface RamResult {
  code: number;
  session: number;
  closed: number;
  blocksize: number;
}

/** Boots the bundle, starts the session, waits for `online()` (the broker saw its first publish), measures. */
async function measureRam(bin: string, bundleFile: string, emptyFile: string, port: number, online: () => Promise<void>): Promise<RamResult> {
  const opts = { chip: "ESP8266" as const, bin, pins: false, tracePins: false, cloud: { host: "127.0.0.1", port }, restartOnReboot: false };
  const base = await RealDevice.start({ ...opts, bundle: emptyFile });
  const baseUsage = (await base.memory()).usage;
  await base.cleanup();
  const dev = await RealDevice.start({ ...opts, bundle: bundleFile });
  try {
    const boot = await dev.memory();
    // the first socket creates Espruino's network state (about 8 JsVars that stay): not the session's
    await dev.eval('global.__w = require("net").connect({host: "blynk.cloud", port: 1883}, function () { __w.end(); __w = undefined; })');
    await sleep(800);
    await dev.eval("__bench.prep()");
    const before = (await dev.memory()).usage;
    await dev.eval("__bench.start()");
    await Promise.race([online(), sleep(10000).then(() => Promise.reject(new Error("not online within 10 s:\n" + dev.console.slice(-20).join("\n"))))]);
    await sleep(1500);
    const live = (await dev.memory()).usage;
    await dev.eval("__bench.stop()");
    await sleep(300);
    const after = (await dev.memory()).usage;
    const errors = dev.errors();
    if (errors.length) throw new Error("interpreter errors: " + errors.join("; "));
    return { code: boot.usage - baseUsage, session: live - before, closed: after - before, blocksize: Number(boot.blocksize || 0) };
  } finally {
    await dev.cleanup();
  }
}

export async function benchMqtt(): Promise<Record<string, number | string>[]> {
  const rows: Record<string, number | string>[] = [];
  const code: string[] = [];
  for (const m of MODES) {
    const c = await bundle(entry(m));
    code.push(c);
    rows.push({ mode: m.row, "bundle bytes": c.length });
  }
  const bins = [
    ["ESPRUINO_BIN_1600", executable(process.env.ESPRUINO_BIN_1600)],
    ["ESPRUINO_BIN", executable(process.env.ESPRUINO_BIN)],
  ].filter((b) => b[1]) as [string, string][];
  if (!bins.length) {
    rows[0].note = "set ESPRUINO_BIN and/or ESPRUINO_BIN_1600 for RAM";
    return rows;
  }
  const dir = mkdtempSync(join(tmpdir(), "bench-mqtt-"));
  const cloud = await startFakeMqttCloud({ tokens: [TOKEN] });
  let broker: Mosquitto | undefined;
  if (mosquittoBin()) broker = await startMosquitto({});
  else console.log("mosquitto not installed (apt-get install mosquitto): no any-broker rows");
  const out: Record<string, number | string>[] = [];
  try {
    const empty = join(dir, "empty.js");
    writeFileSync(empty, ";\n");
    for (const [name, bin] of bins) {
      for (let i = 0; i < MODES.length; i++) {
        const m = MODES[i];
        const r: Record<string, number | string> = { interpreter: name, ...rows[i] };
        out.push(r);
        if (m.broker === "mosquitto" && !broker) {
          r.note = "no mosquitto";
          continue;
        }
        const file = join(dir, "bundle.js");
        writeFileSync(file, code[i]);
        let online: () => Promise<void>;
        let port: number;
        if (m.broker === "blynk") {
          const infos = cloud.count("info");
          port = cloud.port;
          online = async () => {
            await cloud.waitFor((e) => e.kind === "info" && cloud.count("info") > infos, 10000);
          };
        } else {
          port = broker!.port;
          const obs = await broker!.observe("blynk-my-device-pyn6/status");
          const seen = obs.messages.length;
          online = async () => {
            await obs.waitFor((x) => x.payload === "online" && obs.messages.indexOf(x) >= seen, 10000);
            await obs.end();
          };
        }
        const res = await measureRam(bin, file, empty, port, online);
        r["code JsVars"] = res.code;
        r["session JsVars"] = res.session;
        r["session bytes"] = res.session * (res.blocksize || 16);
        r["left after close"] = res.closed;
        r["bytes/JsVar here"] = res.blocksize;
      }
    }
  } finally {
    await cloud.close();
    if (broker) await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (process.env.BENCH_MQTT_DUMP) {
  writeFileSync(process.env.BENCH_MQTT_DUMP, await bundle(entry(MODES[0])));
} else if (import.meta.url === pathToFileURL(process.argv[1] || "").href) {
  const rows = await benchMqtt();
  console.table(rows);
}
