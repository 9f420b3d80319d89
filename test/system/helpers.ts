// Shared setup for system tests: the built bundle in the simulator, a fake Blynk cloud, a radio world.
import { Sim } from "../../sim/index.ts";
import { startFakeCloud } from "../../sim/fake-cloud/server.ts";
import { readIdentity } from "../../scripts/identity.js";
import { deviceName, chipIdKey } from "../../firmware/core/device-name.ts";
import { encodeRecord, defaultConfig, Flag, Config } from "../../firmware/core/config.ts";
import { CONFIG_FILES, TEST_TOKEN } from "../../shared/names.ts";

export const TOKEN = TEST_TOKEN;
export const OTHER_TOKEN = "Zz3dEfGh1jKlMnOpQrStUvWxYz012345";
export const HOME = { ssid: "HomeNet", password: "correct horse", rssi: -48, channel: 6 };
export const BOARDS = [
  { board: "esp32-devkitc", chip: "ESP32" as const, mac: "24:0a:c4:12:34:56", suffix: "PYN6" },
  { board: "nodemcu", chip: "ESP8266" as const, mac: "5c:cf:7f:01:02:03", suffix: "8N4Y" },
];

export function expectedSsid(mac: string, chip: "ESP32" | "ESP8266"): string {
  const bytes = mac.split(":").map((h) => parseInt(h, 16));
  return deviceName("Blynk", readIdentity().templateName, chipIdKey(bytes, chip === "ESP32"));
}

export function bundlePath(board: string): string {
  return new URL(`../../dist/${board}.js`, import.meta.url).pathname;
}

/** Flash contents of a device provisioned with `cfg` overrides (for tests that start online). */
export function provisionedFlash(over: Partial<Config> = {}): Record<string, string> {
  const c = defaultConfig();
  c.n = [{ s: HOME.ssid, p: HOME.password }];
  c.t = TOKEN;
  c.f = Flag.VALID | Flag.META_SENT;
  Object.assign(c, over);
  return { [CONFIG_FILES[1]]: encodeRecord(1, c) };
}

/**
 * `bundle`: another build of the board's firmware (default: dist/<board>.js). `hosts`: more or other
 * cloud mappings ("blynk.cloud:443": "refuse"); `sim`: more simulator options.
 */
export async function world(opts: { board: (typeof BOARDS)[number]; networks?: any[]; storage?: any; tokens?: string[]; bundle?: string; hosts?: Record<string, string>; sim?: Record<string, unknown> }) {
  const cloud = await startFakeCloud({ tokens: opts.tokens || [TOKEN] });
  const addr = "127.0.0.1:" + cloud.port;
  const sim = await Sim.boot({
    bundle: opts.bundle || bundlePath(opts.board.board),
    chip: opts.board.chip,
    mac: opts.board.mac,
    networks: opts.networks || [HOME, { ssid: "Neighbour", password: "whatever1", rssi: -80, channel: 11 }],
    hosts: { "blynk.cloud:80": addr, "blynk.cloud:443": addr, ...opts.hosts },
    storage: opts.storage && !(opts.storage as any).bytes ? Sim.flashWith(opts.storage, opts.board.chip) : opts.storage,
    ...opts.sim,
  });
  return { sim, cloud };
}
