// Where the firmware's RAM goes: boots a bundle on the real interpreter (ESPRUINO_BIN_1600 unless
// --bin), with the lean test prelude, brings it to a phase, and attributes every JsVar reachable
// from a module's scope to the scope entry (variable or function) it is first reached through,
// reading the interpreter's own trace() of the scope.
//
//   EDGENT_KEEP_NAMES=1 BOARD=nodemcu DIST_DIR=out npx rollup -c rollup.config.js   # readable names
//   npx tsx scripts/ram-map.ts out/nodemcu.js [--phase portal|online] [--top 40]
//
// Roots: the core module's scope (through edgent.status) and, while they are loaded, the portal's
// and the cloud link's (through the core's P and L, when names are kept).
import { RealDevice, executable } from "../test/real/espruino.ts";
import { startFakeCloud } from "../test/fake-cloud/server.ts";
import { HOME, NETWORKS, TOKEN, get } from "../test/real/first-setup.ts";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf("--" + name);
  return i >= 0 ? args[i + 1] : dflt;
};
const bundle = args.find((a) => a.endsWith(".js")) ?? "dist/nodemcu.js";
const bin = executable(opt("bin", process.env.ESPRUINO_BIN_1600 ?? ""));
if (!bin) {
  console.error("set ESPRUINO_BIN_1600 (or pass --bin) to an Espruino LINUX build");
  process.exit(2);
}
const phase = opt("phase", "portal");
const top = Number(opt("top", "40"));

/** Attributes each JsVar id of a trace() dump to the scope entry at `depth` it first appears under. */
export function attribute(lines: string[]): Map<string, number> {
  const owner = new Map<number, string>();
  let cur = "(scope)";
  for (const l of lines) {
    const ind = l.search(/\S/);
    if (ind === 2) {
      const m = /Name \S+(?: \[\d+ blocks\])? "([^"]*)"/.exec(l);
      cur = m ? m[1] : l.trim().slice(0, 30);
    }
    for (const m of l.matchAll(/#(\d+)\[/g)) if (!owner.has(+m[1])) owner.set(+m[1], cur);
  }
  const counts = new Map<string, number>();
  for (const o of owner.values()) counts.set(o, (counts.get(o) ?? 0) + 1);
  return counts;
}

const cloud = await startFakeCloud({ tokens: [TOKEN] });
const dev = await RealDevice.start({ bundle, bin, chip: "ESP8266", lean: true, debug: true, mac: "5c:cf:7f:01:02:03", networks: NETWORKS, cloud: { host: "127.0.0.1", port: cloud.port } });
try {
  await dev.waitForLog(/AP SSID/, 20000);
  await new Promise((r) => setTimeout(r, 800));
  if (phase === "online") {
    await get(dev.httpPort(80), `/config?ssid=${encodeURIComponent(HOME.ssid)}&pass=${encodeURIComponent(HOME.password)}&blynk=${TOKEN}`);
    await dev.waitForLog(/=> RUNNING/, 30000);
    await new Promise((r) => setTimeout(r, 12000)); // the setup access point's grace period
  }
  const m = await dev.memory();
  console.log(`${bundle} (${phase}): usage ${m.usage}, free ${m.free} of ${m.total} (${m.blocksize}-byte JsVars)`);
  const core = 'edgent.status["\\xFFsco"]';
  const roots: [string, string][] = [
    ["core module", core],
    ["portal module", `${core}.P && ${core}.P.close["\\xFFsco"][0]`],
    ["portal open()", `${core}.P && ${core}.P.close["\\xFFsco"][1]`],
    ["cloud module", `${core}.L && ${core}.L.close["\\xFFsco"][0]`],
  ];
  for (const [name, expr] of roots) {
    const from = dev.console.length;
    await dev.eval(`var __r=${expr};if(__r){print("%%START");trace(__r);print("%%END")}`);
    await new Promise((r) => setTimeout(r, 1500));
    const lines = dev.console.slice(from);
    const s = lines.indexOf("%%START");
    const e = lines.indexOf("%%END");
    if (s < 0 || e < 0) continue;
    const counts = [...attribute(lines.slice(s + 1, e))].sort((a, b) => b[1] - a[1]);
    const total = counts.reduce((n, [, c]) => n + c, 0);
    console.log(`\n${name}: ${total} JsVars reachable`);
    console.log(counts.slice(0, top).map(([k, v]) => `${String(v).padStart(5)}  ${k}`).join("\n"));
  }
} finally {
  await dev.cleanup();
  await cloud.close();
}
