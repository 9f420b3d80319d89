// Annotated Blynk frames (reference blynk-edgent.md §8 "Worked bytes" and the tables above it).
// One list drives the codec's parse, encode, split-at-every-byte and round-trip tests, and the client
// tests compare the bytes the fake cloud received against the same vectors.

import { TEST_TOKEN } from "../../shared/names.ts";

export const TOKEN = TEST_TOKEN;

export interface Vector {
  name: string;
  /** Who sends it. */
  from: "device" | "server";
  /** The bytes on the wire, as hex (spaces ignored). */
  hex: string;
  /** What the parser returns for it (`len` = status for RESPONSE). */
  frame: { cmd: number; id: number; len: number; body: string };
}

export const INFO = {
  fwVer: "0.1.0",
  fwType: "TMPL4xxxxxxxx",
  build: "Jan  1 2025 12:00:00",
  dev: "ESP32",
  tmpl: "TMPL4xxxxxxxx",
};

/** The info body for INFO, spelled out key by key (current library key set, §8 "Info message"). */
export const INFO_BODY = [
  "mcu", "0.1.0", "fw-type", "TMPL4xxxxxxxx", "build", "Jan  1 2025 12:00:00", "blynk", "1.4.0+espruino",
  "h-beat", "40", "buff-in", "1024", "dev", "ESP32", "tmpl", "TMPL4xxxxxxxx",
].join("\0");

const hexOf = (s: string) => Buffer.from(s, "latin1").toString("hex").replace(/(..)/g, "$1 ").trim();

export const vectors: Vector[] = [
  {
    name: "login (HW_LOGIN 29, id 1, the token as body)",
    from: "device",
    hex: "1D 00 01 00 20 41 62 33 64 45 66 47 68 31 6A 4B 6C 4D 6E 4F 70 51 72 53 74 55 76 57 78 59 7A 30 31 32 33 34 35",
    frame: { cmd: 29, id: 1, len: 32, body: TOKEN },
  },
  {
    name: "server reply OK to the login (RESPONSE: status 200 in the length field, no body)",
    from: "server",
    hex: "00 00 01 00 C8",
    frame: { cmd: 0, id: 1, len: 200, body: "" },
  },
  {
    name: "info message (INTERNAL 17, id 2)",
    from: "device",
    hex: "11 00 02 " + hexOf(String.fromCharCode(INFO_BODY.length >> 8, INFO_BODY.length & 255)) + " " + hexOf(INFO_BODY),
    frame: { cmd: 17, id: 2, len: INFO_BODY.length, body: INFO_BODY },
  },
  {
    name: "ping (PING 6, id 3, empty body)",
    from: "device",
    hex: "06 00 03 00 00",
    frame: { cmd: 6, id: 3, len: 0, body: "" },
  },
  {
    name: "server reply to the ping",
    from: "server",
    hex: "00 00 03 00 C8",
    frame: { cmd: 0, id: 3, len: 200, body: "" },
  },
  {
    name: "virtualWrite(1, 42) (HARDWARE 20, id 4, \"vw\\01\\042\")",
    from: "device",
    hex: "14 00 04 00 07 76 77 00 31 00 34 32",
    frame: { cmd: 20, id: 4, len: 7, body: "vw\x001\x0042" },
  },
  {
    name: "invalid token reply (RESPONSE status 9)",
    from: "server",
    hex: "00 00 01 00 09",
    frame: { cmd: 0, id: 1, len: 9, body: "" },
  },
  {
    name: "app writes V5 = 1 (HARDWARE from the server)",
    from: "server",
    hex: "14 00 07 00 06 76 77 00 35 00 31",
    frame: { cmd: 20, id: 7, len: 6, body: "vw\x005\x001" },
  },
  {
    name: "server ping (PING 6, id 0xFFFF)",
    from: "server",
    hex: "06 FF FF 00 00",
    frame: { cmd: 6, id: 65535, len: 0, body: "" },
  },
  {
    name: "redirect to other.host:8080 (REDIRECT 41)",
    from: "server",
    hex: "29 00 09 00 0F " + hexOf("other.host\x008080"),
    frame: { cmd: 41, id: 9, len: 15, body: "other.host\x008080" },
  },
  {
    name: "debug print from the server (DEBUG_PRINT 55)",
    from: "server",
    hex: "37 01 00 00 05 " + hexOf("hello"),
    frame: { cmd: 55, id: 256, len: 5, body: "hello" },
  },
  {
    name: "console command from the cloud (INTERNAL dbg \"config erase\")",
    from: "server",
    hex: "11 00 0A 00 10 " + hexOf("dbg\x00config erase"),
    frame: { cmd: 17, id: 10, len: 16, body: "dbg\x00config erase" },
  },
  {
    name: "metadata Hotspot Name (INTERNAL meta set)",
    from: "device",
    hex: "11 00 05 00 2A " + hexOf("meta\x00set\x00Hotspot Name\x00Blynk My Device-PYN6"),
    frame: { cmd: 17, id: 5, len: 42, body: "meta\x00set\x00Hotspot Name\x00Blynk My Device-PYN6" },
  },
  {
    name: "syncVirtual(1, 2) (HARDWARE_SYNC 16)",
    from: "device",
    hex: "10 00 06 00 06 76 72 00 31 00 32",
    frame: { cmd: 16, id: 6, len: 6, body: "vr\x001\x002" },
  },
  {
    name: "logEvent(\"overheat\", \"92 C\") (EVENT_LOG 64)",
    from: "device",
    hex: "40 00 08 00 0D " + hexOf("overheat\x0092 C"),
    frame: { cmd: 64, id: 8, len: 13, body: "overheat\x0092 C" },
  },
  {
    name: "a body with bytes above 0x7F (byte strings, not UTF-8)",
    from: "server",
    hex: "14 00 0B 00 08 76 77 00 32 00 C3 A9 FF",
    frame: { cmd: 20, id: 11, len: 8, body: "vw\x002\x00\xC3\xA9\xFF" },
  },
];

/** Frames the client must reject although the parser returns them. */
export const errorVectors: { name: string; hex: string; frame: { cmd: number; id: number; len: number; big?: boolean } }[] = [
  { name: "message id 0 (invalid: the client disconnects)", hex: "06 00 00 00 00", frame: { cmd: 6, id: 0, len: 0 } },
  { name: "unknown command 99", hex: "63 00 0C 00 00", frame: { cmd: 99, id: 12, len: 0 } },
  { name: "body of 2048 bytes (> 1024: flagged, body skipped)", hex: "14 00 0D 08 00" + " 41".repeat(2048), frame: { cmd: 20, id: 13, len: 2048, big: true } },
];

/** The bytes of the vector (or error vector) whose name starts with `name`; a typo fails loudly. */
export function vectorBytes(name: string): string {
  const v = [...vectors, ...errorVectors].filter((x) => x.name.startsWith(name));
  if (v.length !== 1) throw new Error(`${v.length} vectors named "${name}..."`);
  return bytes(v[0].hex);
}

export function bytes(hex: string): string {
  return Buffer.from(hex.replace(/\s+/g, ""), "hex").toString("latin1");
}
