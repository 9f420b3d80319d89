// Stored configuration: one versioned record, validated at the edge (the portal request) and
// persisted whole with a CRC in two alternating Storage files. Espruino Storage writes are not
// atomic, so a power cut during a write leaves the other file intact: after a cut the device has
// either the old or the new config, never a broken one.
import { crc32 } from "./crc32";

export const enum Flag {
  VALID = 1, // tested against the network and the cloud (Edgent CONFIG_FLAG_VALID)
  STATIC_IP = 2,
  META_SENT = 4, // "Hotspot Name" metadata reported once after provisioning
  MQTT = 8, // the link is MQTT (module "mqtt"): Blynk's MQTT API with a token, any broker without
}

export interface Network {
  s: string; // SSID bytes
  p: string; // passphrase bytes ("" = open)
}

export interface Config {
  n: Network[]; // saved networks, most recently provisioned first
  t: string; // auth token, "" = none (an MQTT broker of the user's own)
  h: string; // cloud host (Flag.MQTT: the broker)
  p: number; // plain TCP port (Flag.MQTT: 0 with TLS)
  q: number; // TLS port, 0 = plain only
  u?: string; // Flag.MQTT without a token: the broker's user name (absent = none)
  w?: string; // ... and password (absent = none)
  x?: string; // ... and topic prefix (absent = the device name's)
  a?: string; // ... and Home Assistant's discovery prefix (absent = "homeassistant", "" = none)
  i: string[]; // static ip, mask, gw, dns, dns2 ("" = unset)
  f: number; // Flag bits
  e: number; // last_error
}

export const MAX_NETWORKS = 3;
export const DEFAULT_HOST = "blynk.cloud";
const SLOT = "edgent.cfg";
/** Preprovisioned static token written at the factory (fleet tool `token`); never erased by a reset. */
export const TOKEN_FILE = "edgent.token";

/** Storage as Espruino has it: write(name, data, offset, size) makes a file of `size` bytes at offset 0 and fills it in later calls. */
export interface Files {
  read(name: string): string | undefined;
  write(name: string, data: string, offset?: number, size?: number): void;
  erase(name: string): void;
}

export function defaultConfig(): Config {
  return { n: [], t: "", h: DEFAULT_HOST, p: 80, q: 443, i: [], f: 0, e: 0 };
}

function hex8(n: number): string {
  return ("0000000" + n.toString(16)).substr(-8);
}

/** Record layout: 8 hex digits of CRC-32 over the JSON, then the JSON {q: sequence, c: config}. */
export function encodeRecord(seq: number, cfg: Config): string {
  return record(seq, JSON.stringify(cfg));
}

/** The record around a config already in JSON (saveConfig has that string at hand). */
function record(seq: number, cfgJson: string): string {
  var json = '{"q":' + seq + ',"c":' + cfgJson + "}";
  return hex8(crc32(json)) + json;
}

/** Returns {q, c} or undefined when the record is missing, torn or corrupt. */
export function decodeRecord(rec: string | undefined): { q: number; c: Config } | undefined {
  if (!rec || rec.length < 10) return undefined;
  var json = rec.substr(8);
  if (rec.substr(0, 8) !== hex8(crc32(json))) return undefined;
  try {
    var r = JSON.parse(json);
    return r && r.c && typeof r.q === "number" ? r : undefined;
  } catch (e) {
    return undefined;
  }
}

export interface Store {
  cfg: Config;
  seq: number;
}

/** Loads the newest valid record of the two slots; defaults when neither is valid. */
export function loadConfig(files: Files): Store {
  var a = decodeRecord(files.read(SLOT + 0));
  var b = decodeRecord(files.read(SLOT + 1));
  var best = a && (!b || a.q > b.q) ? a : b;
  if (!best) return { cfg: defaultConfig(), seq: 0 };
  var cfg = defaultConfig();
  for (var k in best.c) (cfg as any)[k] = (best.c as any)[k];
  return { cfg: cfg, seq: best.q };
}

/** Writes `cfg` as the newest record (see updateConfig, Update.SAVE); false when nothing changed. */
export function saveConfig(files: Files, store: Store, cfg: Config): boolean {
  return updateConfig(files, store, Update.SAVE, cfg);
}

/** Erases both slots (the factory token file stays). */
export function eraseConfig(files: Files, store: Store): void {
  files.erase(SLOT + 0);
  files.erase(SLOT + 1);
  store.seq = 0;
  store.cfg = defaultConfig();
}

/** What updateConfig() changes. */
export const enum Update {
  TESTED, // (config, metaSent) a configuration that passed its test, or Edgent's save=1 before it
  LAST_ERROR, // (code) Edgent's config_set_last_error(), except that a provisioned configuration is kept
  META_SENT, // "Hotspot Name" reported for the stored token
  ERASE, // both slots erased (the factory token file stays)
  SAVE, // (config) stored as it is
}

/**
 * Every change of the stored configuration, in one function: the firmware loads it only for a
 * write, and each function object more would cost its RAM then. TESTED stores `a` as valid, its
 * network first in the saved networks (at most MAX_NETWORKS), no last error; LAST_ERROR stores `a`
 * as last_error; META_SENT sets the flag; SAVE stores `a` as it is; ERASE erases both slots.
 *
 * The record goes into the slot not holding the newest one, in pieces (CRC, head, config, tail),
 * so RAM holds the config's JSON once: a power cut between pieces leaves that slot failing its CRC
 * and the other one in charge. True when something was written (nothing changed: no write, an
 * error code or flag already stored included); throws when the flash is full.
 */
export function updateConfig(files: Files, store: Store, how: Update, a?: any, b?: any): boolean {
  var old = store.cfg;
  if (how === Update.ERASE) {
    files.erase(SLOT + 0);
    files.erase(SLOT + 1);
    store.seq = 0;
    store.cfg = defaultConfig();
    return true;
  }
  if (how === Update.LAST_ERROR ? store.seq > 0 && old.e === a : how === Update.META_SENT && (old.f & Flag.META_SENT) !== 0) return false;
  var c: any = a;
  if (how === Update.TESTED) {
    // the tested configuration itself, not a copy: nothing else holds it (the RAM of a copy is
    // scarce at this moment, a setup's end); its networks array is replaced, never edited, and the
    // old list is read from before (`a` may be the stored configuration itself, after save=1)
    var was = old.n;
    c.n = [a.n[0]];
    for (var j = 0; j < was.length && c.n.length < MAX_NETWORKS; j++) if (was[j].s !== a.n[0].s) c.n.push(was[j]);
    c.f = a.f | Flag.VALID | (b ? Flag.META_SENT : 0);
    c.e = 0;
  } else if (how !== Update.SAVE) {
    c = {};
    for (var k in old) c[k] = (old as any)[k]; // a copy: its arrays are shared, so replace them, never edit them
    if (how === Update.LAST_ERROR) c.e = a;
    else c.f |= Flag.META_SENT;
  }
  var json = JSON.stringify(c);
  // nothing changed: the newest record already holds this JSON (compared in place, no copy of it)
  var cur = store.seq > 0 ? files.read(SLOT + (store.seq % 2)) : undefined;
  var at = 18 + String(store.seq).length; // the old record's CRC and '{"q":N,"c":'
  if (cur && cur.length === at + json.length + 1) {
    for (var i = 0; i < json.length && cur.charCodeAt(at + i) === json.charCodeAt(i); i++);
    if (i === json.length) return false;
  }
  var seq = store.seq + 1;
  var head = '{"q":' + seq + ',"c":';
  var name = SLOT + (seq % 2);
  files.write(name, ("0000000" + crc32("}", crc32(json, crc32(head))).toString(16)).substr(-8), 0, 9 + head.length + json.length);
  files.write(name, head, 8);
  files.write(name, json, 8 + head.length);
  files.write(name, "}", 8 + head.length + json.length);
  store.seq = seq;
  store.cfg = c;
  return true;
}

export function isValidToken(t: string): boolean {
  return t.length === 32 && /^[-_a-zA-Z0-9]*$/.test(t);
}

export function factoryToken(files: Files): string {
  var t = files.read(TOKEN_FILE);
  return t && isValidToken(t) ? t : "";
}
