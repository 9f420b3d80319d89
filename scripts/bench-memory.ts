// Firmware RAM on the real Espruino interpreter (ESPRUINO_BIN): JsVars used by the firmware itself
// (the test prelude's own use is measured with an empty bundle and subtracted) after boot in portal
// mode, at the peak of 100 portal requests, and once online in the Blynk cloud.
// With ESPRUINO_BIN_1600 (1600 JsVars, like an ESP8266) one more row: the first-setup flow of
// test/real/first-setup.ts on dist/nodemcu.js (or EDGENT_DIST) with the lean prelude, the firmware's
// usage after each step, and the free JsVars at its tightest point (a ballast search); if it runs out
// of memory, the step, and (with ESPRUINO_BIN) the firmware's peak measured on the resizable binary.
import { fileURLToPath } from "node:url";
import { request } from "node:http";
import { RealDevice, espruinoBin } from "../test/real/espruino.ts";
import { startFakeCloud } from "../test/fake-cloud/server.ts";
import { bundlePath, espruinoBin1600, headroom, leanBaseline, peakUsage, runFirstSetup } from "../test/real/first-setup.ts";

const TOKEN = "Ab3dEfGh1jKlMnOpQrStUvWxYz012345";
const BOARDS = [
  { board: "nodemcu", chip: "ESP8266" as const },
  { board: "esp32-devkitc", chip: "ESP32" as const },
];
const PATHS = ["/board_info.json", "/wifi_scan.json", "/status.json", "/", "/generate_204", "/hotspot-detect.html"];
// process.memory() collects garbage first: the sample is what the firmware holds (closures of
// finished requests are cyclic garbage that Espruino collects when idle or when memory runs out).
const PEAK_SAMPLER = "global.__peak=0;setInterval(function(){var u=process.memory().usage;if(u>global.__peak)global.__peak=u;},2)";

const dist = (b: string) => (process.env.DIST_DIR ? `${process.env.DIST_DIR}/${b}.js` : fileURLToPath(new URL(`../dist/${b}.js`, import.meta.url)));
const empty = fileURLToPath(new URL("../test/real/fixtures/empty-firmware.js", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET over node:http straight to 127.0.0.1 (the device's mapped port); resolves to the status, 0 on error. */
function get(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    // Host as a phone on the setup network sends it (anything else is redirected as a captive probe)
    const req = request({ host: "127.0.0.1", port, path, timeout: 10000, headers: { Host: "192.168.4.1" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode || 0));
    });
    req.on("error", () => resolve(0));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

async function usage(dev: RealDevice): Promise<number> {
  return (await dev.memory()).usage;
}

export async function benchMemory(): Promise<Record<string, number | string>[]> {
  const rows: Record<string, number | string>[] = [];
  if (!espruinoBin()) rows.push({ note: "ESPRUINO_BIN not set: real-interpreter memory not measured" });
  else for (const b of BOARDS) {
    const cloud = await startFakeCloud({ tokens: [TOKEN] });
    const networks = [{ ssid: "HomeNet", password: "correct horse", rssi: -50, channel: 6 }];
    const opts = { chip: b.chip, networks, cloud: { host: "127.0.0.1", port: cloud.port } };
    const base = await RealDevice.start({ ...opts, bundle: empty });
    await sleep(1500);
    const baseline = await usage(base);
    await base.stop();
    const dev = await RealDevice.start({ ...opts, bundle: dist(b.board) });
    try {
      await sleep(2500);
      const boot = (await usage(dev)) - baseline;
      await dev.eval(PEAK_SAMPLER);
      const port = dev.httpPort(80);
      let ok = 0;
      for (let i = 0; i < 100; i++) {
        if (await get(port, PATHS[i % PATHS.length])) ok++;
      }
      const peak = Number(await dev.eval("global.__peak")) - baseline;
      await get(port, `/config?ssid=HomeNet&pass=correct%20horse&blynk=${TOKEN}`);
      await dev.waitForLog(/=> RUNNING/, 60000);
      await sleep(12000); // the setup AP stays up for a 10 s grace period so the phone gets its answer
      await dev.eval("0"); // one more idle loop so the closed portal's memory is collected
      const online = (await usage(dev)) - baseline;
      rows.push({ board: b.board, "portal boot": boot, "peak, 100 requests": peak, "online in cloud": online, "requests answered": ok, "prelude baseline": baseline });
    } catch (e) {
      rows.push({ board: b.board, error: String((e as Error).message).slice(0, 120), console: dev.console.slice(-3).join(" | ").slice(0, 200) });
    } finally {
      await dev.stop();
      await cloud.close();
    }
  }
  if (espruinoBin1600()) rows.push(await benchFirstSetup1600());
  return rows;
}

const SHORT: Record<string, string> = {
  "boot, access point up": "portal boot",
  "GET /board_info.json": "board_info",
  "GET /wifi_scan.json": "wifi_scan",
  "GET /config (app, %20)": "config",
  "online (RUNNING)": "online in cloud",
  "online again after restart": "online after restart",
};

/** The first-setup flow on ESPRUINO_BIN_1600 with the lean prelude: one row (firmware JsVars per step). */
export async function benchFirstSetup1600(log: (l: string) => void = () => undefined): Promise<Record<string, number | string>> {
  const bin = espruinoBin1600();
  const board = "nodemcu, 1600 JsVars, lean prelude";
  if (!bin) return { board, note: "ESPRUINO_BIN_1600 not set" };
  const bundle = bundlePath("nodemcu");
  const base = await leanBaseline(bin);
  const row: Record<string, number | string> = { board, "prelude baseline": base.interpreter + base.prelude };
  // process.memory() after each step needs the eval server (~30 JsVars); the verdict runs without it
  const measured = await runFirstSetup({ bin, bundle });
  for (const s of measured.steps) if (s.usage !== undefined) row[SHORT[s.step] ?? s.step] = s.usage - base.sampleBaseline;
  const verdict = await runFirstSetup({ bin, bundle, measure: false });
  if (!verdict.failedAt && !verdict.errors.length) {
    row.result = "passes";
    row["free vars at peak"] = (await headroom(bin, bundle, log)) ?? "none";
    return row;
  }
  row.result = verdict.outOfMemory ? `out of memory during "${verdict.outOfMemory.step}"` : `fails at "${verdict.failedAt}"`;
  row["free vars at peak"] = "none";
  row["firmware budget"] = base.total - base.interpreter - base.prelude;
  const resizable = espruinoBin();
  if (resizable) {
    const p = await peakUsage(resizable, bundle, log);
    if (p) row["firmware peak (resizable binary)"] = p.firmware;
  }
  return row;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) console.table(await benchMemory());
