// Where the firmware's RAM goes: boots a bundle on the real interpreter (ESPRUINO_BIN_1600 unless
// --bin), with the lean test prelude, brings it to a phase, and attributes every JsVar reachable
// from a module's scope to the scope entry (variable or function) it is first reached through,
// reading the interpreter's own trace() of the scope.
//
//   EDGENT_KEEP_NAMES=1 BOARD=nodemcu DIST_DIR=out npx rollup -c rollup.config.js   # readable names
//   npx tsx scripts/ram-map.ts out/nodemcu.js [--phase portal|grace|online|offline] [--top 40] [--first portal|link|core]
//
// Roots, each counting only what the ones before it did not reach: the portal's and the cloud
// link's module scopes while they are loaded (through the core's P and L, so names must be kept),
// the core module's scope (through edgent.status), the interpreter's hidden root (timers, watches,
// the module cache, sockets and servers) and the globals. The eval server and the test prelude
// show up in the last two.
import { RealDevice, executable } from "../test/real/espruino.ts";
import { startFakeCloud } from "../sim/fake-cloud/server.ts";
import { HOME, NETWORKS, TOKEN, get } from "../test/real/first-setup.ts";
import { encodeRecord, defaultConfig, Flag } from "../firmware/core/config.ts";
import { CONFIG_FILES } from "../shared/names.ts";

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

/**
 * Attributes each JsVar id of a trace() dump to the top-level entry it first appears under,
 * skipping ids an earlier root already counted (`seen`, updated).
 */
export function attribute(lines: string[], seen: Set<number>): Map<string, number> {
  const counts = new Map<string, number>();
  let cur = "(root)";
  for (const l of lines) {
    if (l.search(/\S/) === 2) {
      const m = /Name \S+(?: \[\d+ blocks\])? "([^"]*)"/.exec(l);
      cur = m ? m[1] : l.trim().slice(0, 30);
    }
    for (const m of l.matchAll(/#(\d+)\[/g)) {
      const id = +m[1];
      if (seen.has(id)) continue;
      seen.add(id);
      counts.set(cur, (counts.get(cur) ?? 0) + 1);
    }
  }
  return counts;
}

const cloud = await startFakeCloud({ tokens: [TOKEN] });
// --phase offline: a provisioned device whose network is not in range (the core alone, retrying)
const offline = defaultConfig();
offline.n = [{ s: "Nowhere", p: "correct horse" }];
offline.t = TOKEN;
offline.f = Flag.VALID | Flag.META_SENT;
const files = phase === "offline" ? { [CONFIG_FILES[1]]: encodeRecord(1, offline) } : undefined;
const dev = await RealDevice.start({ bundle, bin, chip: "ESP8266", lean: true, debug: true, mac: "5c:cf:7f:01:02:03", networks: NETWORKS, cloud: { host: "127.0.0.1", port: cloud.port }, files });
try {
  await dev.waitForLog(phase === "offline" ? /Connecting to WiFi: Nowhere/ : /AP SSID/, 20000);
  await new Promise((r) => setTimeout(r, 800));
  if (phase === "online" || phase === "grace") {
    await get(dev.httpPort(80), `/config?ssid=${encodeURIComponent(HOME.ssid)}&pass=${encodeURIComponent(HOME.password)}&blynk=${TOKEN}`);
    await dev.waitForLog(/=> RUNNING/, 30000);
    // online: after the setup access point's grace period; grace: during it (portal and link both up)
    await new Promise((r) => setTimeout(r, phase === "online" ? 12000 : 1000));
  }
  const m = await dev.memory();
  console.log(`${bundle} (${phase}): usage ${m.usage}, free ${m.free} of ${m.total} (${m.blocksize}-byte JsVars)`);
  const core = 'edgent.status["\\xFFsco"]';
  // each root counts only what the roots before it did not reach
  const roots: [string, string][] = [
    ["portal module", `${core}.P && ${core}.P.close["\\xFFsco"]`],
    ["cloud link module", `${core}.L && ${core}.L.close["\\xFFsco"]`],
    ["core module", core],
    ["interpreter: timers, watches, modules, sockets", 'global["\\xFF"]'],
    ["globals", "global"],
  ];
  // --first portal|link|core: count that module's scope first (the others reach each other through the kernel)
  const first = ["portal", "link", "core"].indexOf(opt("first", "portal"));
  if (first > 0) roots.unshift(roots.splice(first, 1)[0]);
  const seen = new Set<number>();
  for (const [name, expr] of roots) {
    const from = dev.console.length;
    await dev.eval(`var __r=${expr};if(__r){print("%%START");trace(__r);print("%%END")}`, 120000);
    await new Promise((r) => setTimeout(r, 1500));
    const lines = dev.console.slice(from);
    const s = lines.indexOf("%%START");
    const e = lines.indexOf("%%END");
    if (s < 0 || e < 0) continue;
    const counts = [...attribute(lines.slice(s + 1, e), seen)].sort((a, b) => b[1] - a[1]);
    const total = counts.reduce((n, [, c]) => n + c, 0);
    console.log(`\n${name}: ${total} JsVars not counted above`);
    console.log(counts.slice(0, top).map(([k, v]) => `${String(v).padStart(5)}  ${k}`).join("\n"));
  }
} finally {
  await dev.cleanup();
  await cloud.close();
}
