// The virtual board's radio world: the access points around the device, read from a JSON file and
// checked here, once, so the simulator only ever sees networks a real router could offer.
import { readFileSync } from "node:fs";
import type { NetworkSpec } from "../sim/types.ts";

export const DEFAULT_WORLD = new URL("./world.json", import.meta.url).pathname;

const DEFAULT_CHANNEL = 6;
const KEYS = new Set(["ssid", "password", "rssi", "channel", "hidden", "up", "dhcp", "joinDelayMs", "ip", "bssid"]);

/** Returns the networks, or throws an Error naming the file, the network and the limit it breaks. */
export function parseWorld(json: unknown, file = "world"): NetworkSpec[] {
  const list = Array.isArray(json) ? json : (json as { networks?: unknown })?.networks;
  if (!Array.isArray(list)) throw new Error(`${file}: expected {"networks": [{"ssid": ..., "password": ..., "rssi": ...}, ...]}`);
  const seen = new Set<string>();
  return list.map((n: any, i: number) => {
    const where = `${file}: network ${i + 1}` + (typeof n?.ssid === "string" ? ` (${JSON.stringify(n.ssid)})` : "");
    if (!n || typeof n !== "object") throw new Error(`${where}: is not an object`);
    for (const k of Object.keys(n)) if (!KEYS.has(k)) throw new Error(`${where}: unknown key "${k}"; known: ${[...KEYS].join(", ")}`);
    const ssid = n.ssid;
    if (typeof ssid !== "string" || ssid === "") throw new Error(`${where}: "ssid" must be a non-empty string`);
    const bytes = Buffer.byteLength(ssid, "utf8");
    if (bytes > 32) throw new Error(`${where}: the SSID is ${bytes} bytes; the limit is 32`);
    if (seen.has(ssid)) throw new Error(`${where}: the SSID appears twice; give each network its own name`);
    seen.add(ssid);
    const password = n.password ?? "";
    if (typeof password !== "string") throw new Error(`${where}: "password" must be a string ("" for an open network)`);
    if (password !== "" && (password.length < 8 || password.length > 63))
      throw new Error(`${where}: the password is ${password.length} characters; WPA2 needs 8 to 63 ("" for an open network)`);
    const rssi = n.rssi ?? -60;
    if (typeof rssi !== "number" || rssi > 0 || rssi < -100) throw new Error(`${where}: "rssi" is ${rssi}; use dBm between -100 and 0`);
    const channel = n.channel ?? DEFAULT_CHANNEL;
    if (!Number.isInteger(channel) || channel < 1 || channel > 13) throw new Error(`${where}: "channel" is ${channel}; 2.4 GHz channels are 1 to 13`);
    // The simulator's radio speaks byte strings: UTF-8 SSIDs travel as their bytes, like on the air.
    const spec: NetworkSpec = { ...n, ssid: Buffer.from(ssid, "utf8").toString("latin1"), password, rssi, channel };
    return spec;
  });
}

export function loadWorld(file = DEFAULT_WORLD): NetworkSpec[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`cannot read the world file ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  return parseWorld(json, file);
}
