// npm run bench: sizes and measurements per board, printed as tables (not asserted).
// Real-interpreter numbers need ESPRUINO_BIN (an Espruino LINUX build); without it they are skipped.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";

type Row = Record<string, number | string>;

function table(title: string, rows: Row[]): void {
  console.log("\n## " + title);
  if (!rows.length) return console.log("(no data)");
  console.table(rows);
}

async function optional(file: string, fn: string): Promise<Row | Row[] | undefined> {
  const url = new URL(file, import.meta.url);
  if (!existsSync(url)) return undefined;
  const mod = await import(url.href);
  return mod[fn] ? mod[fn]() : undefined;
}

const dist = new URL("../dist/", import.meta.url);
const bundles = readdirSync(dist).filter((f) => f.endsWith(".js") && !f.endsWith(".ota.js")).sort();
table(
  "Bundle size",
  bundles.map((f) => {
    const code = readFileSync(new URL(f, dist));
    return { board: f.replace(".js", ""), bytes: code.length, gzip: gzipSync(code, { level: 9 }).length };
  })
);

for (const [title, file, fn] of [
  ["Firmware RAM on the real interpreter", "./bench-memory.ts", "benchMemory"],
  ["LED driver load (breathe pattern)", "./bench-led.ts", "benchLed"],
  ["Cloud link", "./bench-cloud.ts", "benchCloud"],
  ["MQTT link", "./bench-mqtt.ts", "benchMqtt"],
  ["Firmware update over the air", "./bench-update.ts", "benchUpdate"],
  ["A TLS session on the interpreter (64-bit LINUX build)", "./bench-tls.ts", "benchTls"],
  ["Fleet onboarding CLI", "./bench-fleet.ts", "benchFleet"],
] as const) {
  try {
    const r = await optional(file, fn);
    if (r === undefined) continue;
    table(title, Array.isArray(r) ? r : [r]);
  } catch (e) {
    console.log(`\n## ${title}\nfailed: ${(e as Error).message}`);
  }
}
