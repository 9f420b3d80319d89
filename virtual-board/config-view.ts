// The device's stored configuration as the control page shows it: decoded with the firmware's own
// record reader, with every secret masked before it leaves this module.
import { decodeRecord, Flag, type Config } from "../firmware/core/config.ts";
import { CONFIG_FILES, TOKEN_FILE } from "../shared/names.ts";

export interface ConfigView {
  /** Storage file holding the newest valid record. */
  file: string;
  seq: number;
  networks: { ssid: string; password: string }[];
  token: string;
  host: string;
  port: number;
  portSsl: number;
  /** An MQTT link (flag "mqtt"): the broker as a URL, password masked; "" for the Blynk protocol. */
  broker: string;
  staticIp: string[];
  flags: string[];
  lastError: number;
}

export interface StoredView {
  /** Newest valid record, or null when the device has none (fresh, erased, or both slots torn). */
  config: ConfigView | null;
  /** Slots that exist but fail their check value. */
  corrupt: string[];
  /** Factory token (fleet tool), masked. */
  factoryToken: string;
  files: string[];
}

/** Only the first 4 characters of a token are ever shown, like the firmware's console banner. */
export function maskToken(t: string): string {
  return t ? t.slice(0, 4) + "••••••••" : "";
}

export function maskPassword(p: string): string {
  return p ? "••••••••" : "(open network)";
}

/** Byte strings from the device's flash, shown as the UTF-8 text a phone typed. */
function text(bytes: string): string {
  const b = Buffer.from(bytes, "latin1");
  const s = b.toString("utf8");
  return Buffer.from(s, "utf8").equals(b) ? s : bytes;
}

function flagNames(f: number): string[] {
  const out: string[] = [];
  if (f & Flag.VALID) out.push("valid");
  if (f & Flag.STATIC_IP) out.push("static-ip");
  if (f & Flag.META_SENT) out.push("metadata-sent");
  if (f & Flag.MQTT) out.push("mqtt");
  return out;
}

export function viewConfig(c: Config, file: string, seq: number): ConfigView {
  return {
    file,
    seq,
    networks: (c.n || []).map((n) => ({ ssid: text(n.s), password: maskPassword(n.p) })),
    token: maskToken(c.t || ""),
    host: c.h,
    port: c.p,
    portSsl: c.q,
    broker: c.f & Flag.MQTT ? (c.q ? "mqtts://" : "mqtt://") + (c.u ? text(c.u) + (c.w ? ":••••••••" : "") + "@" : "") + c.h + ":" + (c.q || c.p) : "",
    staticIp: (c.i || []).filter((x) => x),
    flags: flagNames(c.f || 0),
    lastError: c.e || 0,
  };
}

/** Reads the config slots through `read` (Storage contents as byte strings, undefined when absent). */
export function readStored(read: (name: string) => string | undefined, files: string[]): StoredView {
  let best: { q: number; c: Config; file: string } | undefined;
  const corrupt: string[] = [];
  for (const name of CONFIG_FILES) {
    const raw = read(name);
    if (raw === undefined) continue;
    const r = decodeRecord(raw);
    if (!r) corrupt.push(name);
    else if (!best || r.q > best.q) best = { ...r, file: name };
  }
  const factory = read(TOKEN_FILE);
  return {
    config: best ? viewConfig(best.c, best.file, best.q) : null,
    corrupt,
    factoryToken: factory ? maskToken(factory) : "",
    files,
  };
}
