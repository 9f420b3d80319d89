// The device's MQTT codec against the annotated vectors and against mqtt-packet (MQTT.js's and Aedes'
// codec): our encoder's bytes parse to the same fields there, its generator writes the vectors' bytes,
// and what it generates our parser reads back, in whole and split anywhere.
import assert from "node:assert/strict";
import mqtt from "mqtt-packet";
import {
  newParser, parse, packet, encodeConnect, encodeSubscribe, encodeUnsubscribe, encodePublish, encodePuback, publishLength,
  PINGREQ, DISCONNECT, Size, Packet,
} from "../../firmware/mqtt/codec.ts";
import { out, incoming, malformed, bytes, hexOf } from "./vectors.ts";

const MAX_PACKET = Size.MAX_PACKET;

/** Seeded PRNG (mulberry32) so a failing fuzz case can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const latin1 = (b: Buffer | string | undefined) => (b === undefined ? undefined : typeof b === "string" ? b : b.toString("latin1"));

/** Our encoder for an mqtt-packet description of a client packet. */
function ours(p: any): string {
  switch (p.cmd) {
    case "connect":
      return encodeConnect({
        id: p.clientId, keepalive: p.keepalive, clean: p.clean, user: p.username, pass: latin1(p.password),
        will: p.will && { topic: p.will.topic, msg: latin1(p.will.payload)!, qos: p.will.qos, retain: p.will.retain },
      });
    case "subscribe":
      return encodeSubscribe(p.messageId, p.subscriptions[0].topic, p.subscriptions[0].qos);
    case "unsubscribe":
      return encodeUnsubscribe(p.messageId, p.unsubscriptions[0]);
    case "publish":
      return encodePublish(p.topic, latin1(p.payload)!, p.qos, p.retain, p.messageId, p.dup);
    case "puback":
      return encodePuback(p.messageId);
    case "pingreq":
      return PINGREQ;
    case "disconnect":
      return DISCONNECT;
  }
  throw new Error("no encoder for " + p.cmd);
}

/** mqtt-packet's parse of a byte string: its packets, or the error it raised. */
function mpParse(s: string): { packets: any[]; error?: string } {
  const p = mqtt.parser({ protocolVersion: 4 });
  const r: { packets: any[]; error?: string } = { packets: [] };
  p.on("packet", (x: any) => r.packets.push(x));
  p.on("error", (e: Error) => (r.error = r.error || e.message));
  p.parse(Buffer.from(s, "latin1"));
  return r;
}
const mpBytes = (o: Record<string, unknown>) => mqtt.generate(o as any).toString("latin1");

/** The fields of an mqtt-packet object that the description names (Buffers compared as bytes). */
function fields(got: any, want: Record<string, unknown>): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const k of Object.keys(want)) {
    const v = got[k];
    r[k] = Buffer.isBuffer(v) ? v.toString("hex") : k === "will" && v ? { ...v, payload: Buffer.from(v.payload).toString("hex") } : v;
  }
  return r;
}
function plainWant(want: Record<string, unknown>): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(want))
    r[k] = Buffer.isBuffer(v) ? v.toString("hex") : k === "will" ? { ...(v as any), payload: Buffer.from((v as any).payload).toString("hex") } : v;
  return r;
}

/** Feeds s in pieces cut at the given offsets. */
function feed(s: string, cuts: number[], max?: number): Packet[] {
  const p = newParser(max);
  const got: Packet[] = [];
  let at = 0;
  for (const c of [...cuts, s.length]) {
    got.push(...parse(p, s.slice(at, c)));
    at = c;
  }
  return got;
}

describe("MQTT codec", () => {
  describe("packets the device sends", () => {
    for (const v of out) {
      it(`encodes: ${v.name}`, () => {
        assert.equal(hexOf(ours(v.mp)), hexOf(bytes(v.hex)));
      });
      it(`mqtt-packet generates the same bytes: ${v.name}`, () => {
        assert.equal(hexOf(mpBytes(v.mp)), hexOf(bytes(v.hex)));
      });
      it(`mqtt-packet parses our bytes to the same fields: ${v.name}`, () => {
        const r = mpParse(ours(v.mp));
        assert.equal(r.error, undefined);
        assert.equal(r.packets.length, 1);
        assert.deepEqual(fields(r.packets[0], v.mp), plainWant(v.mp));
      });
    }

    it("a password without a user name goes with an empty user name (§3.1.2.9: no password flag without the user name flag)", () => {
      const r = mpParse(encodeConnect({ id: "x", keepalive: 10, pass: "secret" }));
      assert.equal(r.error, undefined);
      assert.equal(r.packets[0].username, "");
      assert.equal(r.packets[0].password.toString(), "secret");
    });

    it("publishLength is the PUBLISH remaining length", () => {
      for (const [t, m, q] of [["a", "", 0], ["ds/V1", "42", 0], ["meta/x", "y".repeat(300), 1]] as [string, string, number][]) {
        const r = mpParse(encodePublish(t, m, q, false, q ? 1 : undefined));
        assert.equal(publishLength(t, m, q), r.packets[0].length);
      }
    });
  });

  describe("packets the server sends", () => {
    for (const v of incoming) {
      it(`parses: ${v.name}`, () => {
        const p = newParser();
        assert.deepEqual(parse(p, bytes(v.hex)), [v.packet]);
        assert.equal(p.buf, "", "nothing left over");
      });
      it(`mqtt-packet generates these bytes: ${v.name}`, () => {
        assert.equal(hexOf(mpBytes(v.mp)), hexOf(bytes(v.hex)));
      });
      it(`parses when split at every byte: ${v.name}`, () => {
        const b = bytes(v.hex);
        for (let i = 0; i <= b.length; i++) assert.deepEqual(feed(b, [i]), [v.packet], "split at " + i);
      });
    }

    it("parses all vectors back to back, fed one byte at a time", () => {
      const stream = incoming.map((v) => bytes(v.hex)).join("");
      const cuts = Array.from({ length: stream.length }, (_, i) => i);
      assert.deepEqual(feed(stream, cuts), incoming.map((v) => v.packet));
    });
  });

  describe("remaining length (§2.2.3)", () => {
    for (const n of [0, 1, 127, 128, 16383, 16384, 2097151, 2097152]) {
      it(`encodes ${n} as mqtt-packet does`, () => {
        const body = "x".repeat(n);
        const ours = packet(0x30, body);
        // a PUBLISH of that remaining length: topic length 0 + payload
        const theirs = mpBytes({ cmd: "publish", topic: "", payload: Buffer.from(body.slice(2)), qos: 0, retain: false, dup: false });
        if (n >= 2) assert.equal(hexOf(ours.slice(0, ours.length - n)), hexOf(theirs.slice(0, theirs.length - (n - 2) - 2)));
        assert.equal(ours.length - n, 1 + (n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4));
      });
    }

    it("decodes the largest value, 268,435,455 (FF FF FF 7F), from the header alone, refusing the packet", () => {
      const p = newParser();
      assert.deepEqual(parse(p, bytes("30 FF FF FF 7F")), [{ type: 3, len: 268435455, big: true }]);
      assert.equal(p.buf, "");
      assert.equal(p.skip, 268435455);
    });

    it("waits for a length byte that has not arrived (continuation bit set)", () => {
      const p = newParser();
      assert.deepEqual(parse(p, bytes("30 C8")), []);
      assert.equal(p.buf.length, 2);
    });
  });

  describe("malformed input", () => {
    for (const v of malformed) {
      it(`reports: ${v.name}`, () => {
        const got = parse(newParser(), bytes(v.hex));
        assert.equal(got.length, 1);
        assert.ok(got[0].bad && got[0].bad.startsWith(v.bad), "bad: " + got[0].bad);
      });
      it(`mqtt-packet ${v.mqttPacket === "rejects" ? "rejects it too" : "lets it through (the standard does not)"}: ${v.name}`, () => {
        const r = mpParse(bytes(v.hex));
        assert.equal(r.error !== undefined, v.mqttPacket === "rejects", JSON.stringify(r));
      });
    }

    it("after malformed input the parser takes nothing more (the connection is to be closed, §4.8)", () => {
      const p = newParser();
      const got = parse(p, bytes("D0 00 00 00 D0 00"));
      assert.deepEqual(got.map((x) => [x.type, !!x.bad]), [[13, false], [0, true]]);
      assert.deepEqual(parse(p, bytes("D0 00")), []);
      assert.equal(p.buf, "");
    });

    it("the packets before the malformed one in the same chunk are returned", () => {
      const got = parse(newParser(), bytes("40 02 00 01 36 03 00 01 61"));
      assert.deepEqual(got.map((x) => [x.type, x.id, x.bad]), [[4, 1, undefined], [3, undefined, "PUBLISH with QoS 3"]]);
    });
  });

  describe("packets over the limit", () => {
    const big = mpBytes({ cmd: "publish", topic: "downlink/ds/Big", payload: Buffer.alloc(2048, 0x41), qos: 1, messageId: 5, retain: false, dup: false });
    const ping = bytes("D0 00");

    it("skips one without buffering it, whatever the chunking, and resumes after it", () => {
      const stream = big + ping;
      const r = rng(7);
      for (let round = 0; round < 50; round++) {
        const p = newParser();
        const got: Packet[] = [];
        let maxBuf = 0;
        for (let i = 0; i < stream.length; ) {
          const n = 1 + Math.floor(r() * 700);
          got.push(...parse(p, stream.slice(i, i + n)));
          maxBuf = Math.max(maxBuf, p.buf.length);
          i += n;
        }
        assert.deepEqual(got.map((f) => [f.type, f.len, !!f.big]), [[3, big.length - 3, true], [13, 0, false]]);
        assert.ok(maxBuf <= 4, "never buffers the oversized packet, buffered " + maxBuf);
      }
    });

    it(`a remaining length of exactly ${MAX_PACKET} is accepted, ${MAX_PACKET + 1} refused`, () => {
      const at = (n: number) => parse(newParser(), encodePublish("t", "y".repeat(n - 3), 0, false))[0];
      assert.equal(at(MAX_PACKET).big, undefined);
      assert.equal(at(MAX_PACKET).body!.length, MAX_PACKET - 3);
      assert.equal(at(MAX_PACKET + 1).big, true);
    });

    it("the limit is the parser's: newParser(max)", () => {
      assert.equal(parse(newParser(16), encodePublish("t", "y".repeat(20), 0, false))[0].big, true);
    });

    it("keeps at most one incomplete packet (bounded receive buffer)", () => {
      const p = newParser();
      const full = encodePublish("t", "y".repeat(MAX_PACKET - 3), 0, false);
      parse(p, full.slice(0, full.length - 1));
      assert.equal(p.buf.length, full.length - 1);
      assert.equal(parse(p, full.slice(-1)).length, 1);
      assert.equal(p.buf, "");
    });
  });

  describe("fuzz (seeded)", () => {
    const randStr = (r: () => number, n: number, lo = 0, hi = 256) => {
      let s = "";
      for (let k = 0; k < n; k++) s += String.fromCharCode(lo + Math.floor(r() * (hi - lo)));
      return s;
    };

    for (const seed of [1, 2, 3, 42, 2024]) {
      it(`server packets generated by mqtt-packet, in random chunks, parse back (seed ${seed})`, () => {
        const r = rng(seed);
        const want: Packet[] = [];
        let stream = "";
        for (let i = 0; i < 300; i++) {
          const kind = Math.floor(r() * 6);
          const id = 1 + Math.floor(r() * 65535);
          let mp: any;
          let pk: Packet;
          if (kind === 0) {
            const code = Math.floor(r() * 6);
            mp = { cmd: "connack", sessionPresent: false, returnCode: code };
            pk = { type: 2, len: 2, sp: false, code };
          } else if (kind === 1) {
            const granted = [[0, 1, 2, 128][Math.floor(r() * 4)]];
            mp = { cmd: "suback", messageId: id, granted };
            pk = { type: 9, len: 3, id, code: granted[0], body: String.fromCharCode(granted[0]) };
          } else if (kind === 2) {
            mp = { cmd: "puback", messageId: id };
            pk = { type: 4, len: 2, id };
          } else if (kind === 3) {
            mp = { cmd: "pingresp" };
            pk = { type: 13, len: 0 };
          } else if (kind === 4) {
            mp = { cmd: "unsuback", messageId: id };
            pk = { type: 11, len: 2, id };
          } else {
            const qos = Math.floor(r() * 2);
            const topic = randStr(r, 1 + Math.floor(r() * 40), 0x21, 0x7f).replace(/[+#]/g, "_");
            const n = r() < 0.1 ? 1400 : r() < 0.1 ? MAX_PACKET - 2 - topic.length - (qos ? 2 : 0) : Math.floor(r() * 100);
            const body = randStr(r, n);
            const retain = r() < 0.5;
            mp = { cmd: "publish", topic, payload: Buffer.from(body, "latin1"), qos, retain, dup: false, ...(qos ? { messageId: id } : {}) };
            const len = publishLength(topic, body, qos);
            pk = len > MAX_PACKET ? { type: 3, len, big: true } : { type: 3, len, topic, body, qos, retain, dup: false, ...(qos ? { id } : {}) };
          }
          want.push(pk);
          stream += mpBytes(mp);
        }
        const cuts: number[] = [];
        for (let at = 0; at < stream.length; at += 1 + Math.floor(r() * 300)) cuts.push(at);
        const got = feed(stream, cuts);
        assert.equal(got.length, want.length);
        for (let i = 0; i < want.length; i++) assert.deepEqual(got[i], want[i], "packet " + i);
      });

      it(`our encoder's packets parse in mqtt-packet to what was encoded (seed ${seed})`, () => {
        const r = rng(seed * 7919);
        for (let i = 0; i < 200; i++) {
          const topic = randStr(r, 1 + Math.floor(r() * 60), 0x20, 0x7f).replace(/[+#]/g, "_");
          const id = 1 + Math.floor(r() * 65535);
          const kind = Math.floor(r() * 3);
          if (kind === 0) {
            const qos = Math.floor(r() * 2);
            const payload = randStr(r, r() < 0.05 ? 20000 : Math.floor(r() * 300));
            const retain = r() < 0.5;
            const p = mpParse(encodePublish(topic, payload, qos, retain, id)).packets[0];
            assert.deepEqual([p.cmd, p.topic, latin1(p.payload), p.qos, p.retain, qos ? p.messageId : 0], ["publish", topic, payload, qos, retain, qos ? id : 0]);
          } else if (kind === 1) {
            const qos = Math.floor(r() * 2);
            const p = mpParse(encodeSubscribe(id, topic + "/#", qos)).packets[0];
            assert.deepEqual([p.cmd, p.messageId, p.subscriptions], ["subscribe", id, [{ topic: topic + "/#", qos }]]);
          } else {
            const user = r() < 0.5 ? randStr(r, Math.floor(r() * 20), 0x21, 0x7f) : "";
            const pass = r() < 0.5 ? randStr(r, 1 + Math.floor(r() * 40)) : "";
            const ka = Math.floor(r() * 65536);
            const will = r() < 0.5 ? { topic, msg: randStr(r, Math.floor(r() * 20)), qos: Math.floor(r() * 2), retain: r() < 0.5 } : undefined;
            const p = mpParse(encodeConnect({ id: randStr(r, Math.floor(r() * 23), 0x30, 0x7b), keepalive: ka, user, pass, will })).packets[0];
            assert.equal(p.cmd, "connect");
            assert.equal(p.keepalive, ka);
            assert.equal(p.username, user || pass ? user : undefined);
            assert.equal(latin1(p.password), pass || undefined);
            assert.deepEqual(p.will ? [p.will.topic, latin1(p.will.payload), p.will.qos, p.will.retain] : undefined, will ? [will.topic, will.msg, will.qos, will.retain] : undefined);
          }
        }
      });

      it(`random bytes never throw, and the buffer stays bounded (seed ${seed})`, () => {
        const r = rng(seed * 31);
        for (let round = 0; round < 200; round++) {
          const p = newParser();
          for (let k = 0; k < 20; k++) {
            parse(p, randStr(r, Math.floor(r() * 64)));
            assert.ok(p.buf.length <= 5 + MAX_PACKET, "buffer " + p.buf.length);
          }
        }
      });
    }
  });
});
