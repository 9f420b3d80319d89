// Annotated MQTT 3.1.1 packets (section numbers of the OASIS standard). One list drives the codec's
// encode, parse, split-at-every-byte and cross-check tests: every vector is also what mqtt-packet, the
// parser and generator of MQTT.js and Aedes, makes of the same packet (`mp`), so the two check each other.
import type { Packet } from "../../firmware/mqtt/codec.ts";
import { TEST_TOKEN } from "../../shared/names.ts";

export const TOKEN = TEST_TOKEN;

/** Hex with spaces ignored -> byte string. */
export function bytes(hex: string): string {
  return Buffer.from(hex.replace(/\s+/g, ""), "hex").toString("latin1");
}
export function hexOf(s: string): string {
  return Buffer.from(s, "latin1").toString("hex");
}
const h = (s: string) => hexOf(s).replace(/(..)/g, "$1 ");

/** A packet the device sends: our encoder's output, and mqtt-packet's description of it. */
export interface OutVector {
  name: string;
  hex: string;
  /** mqtt-packet's object for these bytes (the fields it parses them to, and generates them from). */
  mp: Record<string, unknown>;
}

/** A packet the server sends: the bytes, what our parser returns, and mqtt-packet's object. */
export interface InVector {
  name: string;
  hex: string;
  packet: Packet;
  mp: Record<string, unknown>;
}

export const out: OutVector[] = [
  {
    name: "CONNECT to Blynk: id \"\", user device, password the token, keepalive 45, clean session (§3.1)",
    // 10 | remaining 54 | 00 04 "MQTT" | level 4 | flags C2 (user, password, clean) | keepalive 00 2D
    // | id 00 00 | 00 06 "device" | 00 20 token
    hex: "10 36 00 04 4D 51 54 54 04 C2 00 2D 00 00 00 06 " + h("device") + "00 20 " + h(TOKEN),
    mp: { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, keepalive: 45, clientId: "", username: "device", password: Buffer.from(TOKEN) },
  },
  {
    name: "CONNECT to a broker: will <prefix>/status \"offline\" QoS 1 retained, user and password (§3.1.2.5-§3.1.2.9)",
    // flags EE = user 80 | password 40 | will retain 20 | will QoS 1 (08) | will 04 | clean 02
    hex: "10 2D 00 04 4D 51 54 54 04 EE 00 3C 00 03 " + h("dev") + "00 0A " + h("dev/status") + "00 07 " + h("offline") + "00 02 " + h("ha") + "00 03 " + h("pw!"),
    mp: {
      cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, keepalive: 60, clientId: "dev", username: "ha", password: Buffer.from("pw!"),
      will: { topic: "dev/status", payload: Buffer.from("offline"), qos: 1, retain: true },
    },
  },
  {
    name: "CONNECT with no credentials and no will (anonymous broker): flags 02",
    hex: "10 0F 00 04 4D 51 54 54 04 02 00 2D 00 03 " + h("dev"),
    mp: { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, keepalive: 45, clientId: "dev" },
  },
  {
    name: "SUBSCRIBE downlink/# at QoS 1, packet id 1; fixed header flags 0010 (§3.8)",
    hex: "82 0F 00 01 00 0A " + h("downlink/#") + "01",
    mp: { cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "downlink/#", qos: 1 }] },
  },
  {
    name: "UNSUBSCRIBE dev/+/set, packet id 7 (§3.10)",
    hex: "A2 0D 00 07 00 09 " + h("dev/+/set"),
    mp: { cmd: "unsubscribe", messageId: 7, unsubscriptions: ["dev/+/set"] },
  },
  {
    name: "PUBLISH QoS 0 ds/V1 \"42\": no packet id (§3.3.2.2)",
    hex: "30 09 00 05 " + h("ds/V1") + h("42"),
    mp: { cmd: "publish", topic: "ds/V1", payload: Buffer.from("42"), qos: 0, retain: false, dup: false },
  },
  {
    name: "PUBLISH QoS 1 retained meta/Hotspot Name, packet id 0x1234 (§3.3.1, §3.3.2.2)",
    hex: "33 22 00 11 " + h("meta/Hotspot Name") + "12 34 " + h("Blynk Dev-ABC"),
    mp: { cmd: "publish", topic: "meta/Hotspot Name", payload: Buffer.from("Blynk Dev-ABC"), qos: 1, messageId: 0x1234, retain: true, dup: false },
  },
  {
    name: "PUBLISH with several values: \\0 between them, bytes above 0x7F as they are",
    hex: "30 0E 00 06 " + h("ds/Rgb") + "FF 00 80 00 C3 A9",
    mp: { cmd: "publish", topic: "ds/Rgb", payload: Buffer.from("ff008000c3a9", "hex"), qos: 0, retain: false, dup: false },
  },
  { name: "PUBACK packet id 0x0102 (§3.4)", hex: "40 02 01 02", mp: { cmd: "puback", messageId: 0x0102 } },
  { name: "PINGREQ (§3.12)", hex: "C0 00", mp: { cmd: "pingreq" } },
  { name: "DISCONNECT (§3.14)", hex: "E0 00", mp: { cmd: "disconnect" } },
];

export const incoming: InVector[] = [
  {
    name: "CONNACK accepted (§3.2)",
    hex: "20 02 00 00",
    packet: { type: 2, len: 2, sp: false, code: 0 },
    mp: { cmd: "connack", sessionPresent: false, returnCode: 0 },
  },
  {
    name: "CONNACK 4: bad user name or password (§3.2.2.3; Blynk: invalid token)",
    hex: "20 02 00 04",
    packet: { type: 2, len: 2, sp: false, code: 4 },
    mp: { cmd: "connack", sessionPresent: false, returnCode: 4 },
  },
  {
    name: "CONNACK 5: not authorised, session present bit clear",
    hex: "20 02 00 05",
    packet: { type: 2, len: 2, sp: false, code: 5 },
    mp: { cmd: "connack", sessionPresent: false, returnCode: 5 },
  },
  {
    name: "CONNACK accepted with session present (§3.2.2.2)",
    hex: "20 02 01 00",
    packet: { type: 2, len: 2, sp: true, code: 0 },
    mp: { cmd: "connack", sessionPresent: true, returnCode: 0 },
  },
  {
    name: "SUBACK granted QoS 1 for packet id 1 (§3.9)",
    hex: "90 03 00 01 01",
    packet: { type: 9, len: 3, id: 1, code: 1, body: "\x01" },
    mp: { cmd: "suback", messageId: 1, granted: [1] },
  },
  {
    name: "SUBACK failure 0x80 (§3.9.3)",
    hex: "90 03 00 02 80",
    packet: { type: 9, len: 3, id: 2, code: 0x80, body: "\x80" },
    mp: { cmd: "suback", messageId: 2, granted: [0x80] },
  },
  {
    name: "PUBLISH QoS 0 downlink/ds/Power \"1\"",
    hex: "30 14 00 11 " + h("downlink/ds/Power") + h("1"),
    packet: { type: 3, len: 20, topic: "downlink/ds/Power", body: "1", qos: 0, retain: false, dup: false },
    mp: { cmd: "publish", topic: "downlink/ds/Power", payload: Buffer.from("1"), qos: 0, retain: false, dup: false },
  },
  {
    name: "PUBLISH QoS 1 downlink/ping, packet id 0xBEEF, empty payload (Blynk's ping; answered by PUBACK)",
    hex: "32 11 00 0D " + h("downlink/ping") + "BE EF",
    packet: { type: 3, len: 17, topic: "downlink/ping", body: "", qos: 1, retain: false, dup: false, id: 0xbeef },
    mp: { cmd: "publish", topic: "downlink/ping", payload: Buffer.alloc(0), qos: 1, messageId: 0xbeef, retain: false, dup: false },
  },
  {
    name: "PUBLISH QoS 1 redelivered (DUP) and retained: flags 1011",
    hex: "3B 0D 00 07 " + h("d/x/set") + "00 09 " + h("on"),
    packet: { type: 3, len: 13, topic: "d/x/set", body: "on", qos: 1, retain: true, dup: true, id: 9 },
    mp: { cmd: "publish", topic: "d/x/set", payload: Buffer.from("on"), qos: 1, messageId: 9, retain: true, dup: true },
  },
  {
    name: "PUBLISH with a two-byte remaining length (200: C8 01, §2.2.3)",
    hex: "30 C8 01 00 0D " + h("downlink/diag") + h("d".repeat(185)),
    packet: { type: 3, len: 200, topic: "downlink/diag", body: "d".repeat(185), qos: 0, retain: false, dup: false },
    mp: { cmd: "publish", topic: "downlink/diag", payload: Buffer.from("d".repeat(185)), qos: 0, retain: false, dup: false },
  },
  { name: "PUBACK packet id 0x1234 (§3.4)", hex: "40 02 12 34", packet: { type: 4, len: 2, id: 0x1234 }, mp: { cmd: "puback", messageId: 0x1234 } },
  { name: "UNSUBACK packet id 7 (§3.11)", hex: "B0 02 00 07", packet: { type: 11, len: 2, id: 7 }, mp: { cmd: "unsuback", messageId: 7 } },
  { name: "PINGRESP (§3.13)", hex: "D0 00", packet: { type: 13, len: 0 }, mp: { cmd: "pingresp" } },
];

/** Malformed input: what our parser says, and whether mqtt-packet refuses it too. */
export interface BadVector {
  name: string;
  hex: string;
  /** Start of our `bad` text. */
  bad: string;
  /** mqtt-packet refuses it too ("rejects"), or lets it through ("lenient": the standard says otherwise). */
  mqttPacket: "rejects" | "lenient";
}

export const malformed: BadVector[] = [
  { name: "remaining length of 5 bytes (§2.2.3: at most 4)", hex: "30 FF FF FF FF 7F", bad: "remaining length longer than 4 bytes", mqttPacket: "rejects" },
  { name: "reserved packet type 0 (§2.2.1)", hex: "00 00", bad: "reserved packet type 0", mqttPacket: "rejects" },
  { name: "reserved packet type 15 (§2.2.1)", hex: "F0 00", bad: "reserved packet type 15", mqttPacket: "rejects" },
  { name: "PUBACK with fixed header flags 0010 (§2.2.2: 0000)", hex: "42 02 00 01", bad: "wrong fixed header flags 2", mqttPacket: "rejects" },
  { name: "SUBACK with fixed header flags 0001 (§2.2.2: 0000)", hex: "91 03 00 01 00", bad: "wrong fixed header flags 1", mqttPacket: "rejects" },
  { name: "PUBLISH with QoS 3 (§3.3.1.2)", hex: "36 03 00 01 61", bad: "PUBLISH with QoS 3", mqttPacket: "rejects" },
  { name: "CONNACK with reserved bits set (§3.2.2.1)", hex: "20 02 02 00", bad: "CONNACK reserved bits set", mqttPacket: "rejects" },
  { name: "SUBACK return code 3 (§3.9.3: 0, 1, 2 or 0x80)", hex: "90 03 00 01 03", bad: "SUBACK return code 3", mqttPacket: "rejects" },
  { name: "PUBLISH QoS 1 with packet identifier 0 (§2.3.1: non-zero)", hex: "32 05 00 01 61 00 00", bad: "PUBLISH with QoS 1 and packet identifier 0", mqttPacket: "lenient" },
  { name: "PUBLISH whose topic length runs past the packet", hex: "30 03 00 09 61", bad: "PUBLISH topic longer than the packet", mqttPacket: "rejects" },
  { name: "CONNACK with remaining length 3 (§3.2.1: 2)", hex: "20 03 00 00 00", bad: "CONNACK remaining length 3", mqttPacket: "lenient" },
  { name: "PINGRESP with remaining length 1 (§3.13.1: 0)", hex: "D0 01 FF", bad: "PINGRESP remaining length 1", mqttPacket: "lenient" },
  { name: "PUBACK with remaining length 3 (§3.4.1: 2)", hex: "40 03 00 01 FF", bad: "remaining length 3 for packet type 4", mqttPacket: "lenient" },
  { name: "SUBACK without a return code (§3.9.3: one per filter)", hex: "90 02 00 01", bad: "SUBACK without a return code", mqttPacket: "lenient" },
];
