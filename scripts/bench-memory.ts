// Firmware RAM on the real Espruino interpreter (ESPRUINO_BIN): JsVars used by the firmware itself
// (the test prelude's own use is measured with an empty bundle and subtracted) after boot in portal
// mode, at the peak of 100 portal requests, and once online in the Blynk cloud.
// With ESPRUINO_BIN_1600 (the ESP8266 model: 1600 JsVars of 12 bytes) a row per ESP8266 board: free
// JsVars at boot, at the tightest moment of the first setup with 20 networks (a ballast search), and
// online, over the Blynk protocol and over MQTT (benchFirstSetup1600).
import { fileURLToPath } from "node:url";
import { request } from "node:http";
import { RealDevice, espruinoBin } from "../test/real/espruino.ts";
import { startFakeCloud } from "../sim/fake-cloud/server.ts";
import { TEST_TOKEN } from "../shared/names.ts";
import { bundlePath, crowdedNetworks, espruinoBin1600, headroom, runFirstSetup } from "../test/real/first-setup.ts";

const TOKEN = TEST_TOKEN;
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
  rows.push(...(await benchFirstSetup1600()));
  return rows;
}

/**
 * The ESP8266 model (ESPRUINO_BIN_1600: 1600 JsVars of 12 bytes, lean prelude), one row per ESP8266
 * board: free JsVars with the portal up at boot, at the tightest moment of the first setup with 20
 * networks in range (the largest ballast - the user's own code - with which the app's flow, and the
 * browser form's, still pass), and online with the portal closed, over the Blynk protocol and over
 * Blynk's MQTT API. Boot and online are read through the harness's eval server (~30 JsVars of its
 * own), so they are on the safe side.
 */
export async function benchFirstSetup1600(log: (l: string) => void = () => undefined): Promise<Record<string, number | string>[]> {
  const bin = espruinoBin1600();
  if (!bin) return [{ board: "ESP8266 model", note: "ESPRUINO_BIN_1600 not set" }];
  const rows: Record<string, number | string>[] = [];
  const networks = crowdedNetworks(20);
  for (const board of ["nodemcu", "wemos-d1-mini"]) {
    const bundle = bundlePath(board);
    const measured = await runFirstSetup({ bin, bundle, networks });
    const at = (step: string) => measured.steps.find((s) => s.step === step)?.free ?? "?";
    const row: Record<string, number | string> = { board: `${board} (1600 x 12 B)`, "free at boot": at("boot, access point up") };
    row["tightest, app, 20 nets"] = (await headroom(bin, bundle, log, { networks })) ?? "fails";
    row["tightest, browser, 20 nets"] = (await headroom(bin, bundle, log, { networks, via: "browser" })) ?? "fails";
    row["free online"] = at("online again after restart");
    // the same setup over Blynk's MQTT API (host=mqtt://..., module "mqtt" in place of "blynk")
    const mqtt = await runFirstSetup({ bin, bundle, networks, link: "mqtt" });
    row["free online, MQTT"] = mqtt.failedAt ? `fails at ${mqtt.failedAt}` : mqtt.steps.find((s) => s.step === "online again after restart")?.free ?? "?";
    const forty = await runFirstSetup({ bin, bundle, networks: crowdedNetworks(40), measure: false });
    row["40 nets"] = !forty.failedAt && !forty.errors.length ? `passes (${forty.listed} listed)` : `fails at ${forty.failedAt}`;
    rows.push(row);
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) console.table(await benchMemory());
