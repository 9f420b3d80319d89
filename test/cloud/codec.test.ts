import assert from "node:assert/strict";
import { newParser, parse, encode, encodeResponse, join, Frame } from "../../firmware/cloud/codec.ts";
import { vectors, errorVectors, bytes, vectorBytes, INFO, INFO_BODY } from "./vectors.ts";
import { infoBody } from "../../firmware/cloud/session.ts";

/** Seeded PRNG (mulberry32) so a failing fuzz case can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const plain = (f: Frame) => ({ cmd: f.cmd, id: f.id, len: f.len, body: f.body });

describe("cloud codec", () => {
  describe("byte vectors", () => {
    for (const v of vectors) {
      it(`parses: ${v.name}`, () => {
        const p = newParser();
        assert.deepEqual(parse(p, bytes(v.hex)).map(plain), [v.frame]);
        assert.equal(p.buf, "", "nothing left over");
      });
      it(`encodes: ${v.name}`, () => {
        const wire = v.frame.cmd === 0 ? encodeResponse(v.frame.id, v.frame.len) : encode(v.frame.cmd, v.frame.id, v.frame.body);
        assert.equal(Buffer.from(wire, "latin1").toString("hex"), v.hex.replace(/\s+/g, "").toLowerCase());
      });
      it(`parses when split at every byte: ${v.name}`, () => {
        const b = bytes(v.hex);
        for (let i = 0; i <= b.length; i++) {
          const p = newParser();
          const got = parse(p, b.slice(0, i)).concat(parse(p, b.slice(i)));
          assert.deepEqual(got.map(plain), [v.frame], "split at " + i);
        }
      });
    }

    it("parses all vectors back to back, fed one byte at a time", () => {
      const p = newParser();
      const stream = vectors.map((v) => bytes(v.hex)).join("");
      const got: Frame[] = [];
      for (const ch of stream) got.push(...parse(p, ch));
      assert.deepEqual(got.map(plain), vectors.map((v) => v.frame));
    });

    it("the info vector is what the client builds from its options", () => {
      assert.equal(infoBody(INFO), INFO_BODY);
      assert.equal(infoBody({ ...INFO, tmpl: "" }).split("\0").includes("tmpl"), false, "tmpl only when the template id is set");
      const { fwType, ...noType } = INFO;
      assert.equal(infoBody({ ...noType, tmpl: "TMPL4other" }).split("\0")[3], "TMPL4other", "fw-type is the template id unless given");
      assert.equal(infoBody({ ...INFO, fwType: "Lamp" }).split("\0")[3], "Lamp");
      void fwType;
    });
  });

  describe("frames the client rejects", () => {
    for (const v of errorVectors) {
      it(`still parses: ${v.name}`, () => {
        const [f, ...rest] = parse(newParser(), bytes(v.hex));
        assert.equal(rest.length, 0);
        assert.deepEqual({ cmd: f.cmd, id: f.id, len: f.len, ...(f.big ? { big: true } : {}) }, v.frame);
      });
    }

    it("skips an oversized body without buffering it, whatever the chunking, and resumes after it", () => {
      const big = vectorBytes("body of 2048 bytes");
      const ping = bytes("06 00 0E 00 00");
      const stream = big + ping;
      const r = rng(7);
      for (let round = 0; round < 50; round++) {
        const p = newParser();
        const got: Frame[] = [];
        let maxBuf = 0;
        for (let i = 0; i < stream.length; ) {
          const n = 1 + Math.floor(r() * 700);
          got.push(...parse(p, stream.slice(i, i + n)));
          maxBuf = Math.max(maxBuf, p.buf.length);
          i += n;
        }
        assert.deepEqual(got.map((f) => [f.cmd, f.id, f.len, !!f.big]), [[20, 13, 2048, true], [6, 14, 0, false]]);
        assert.ok(maxBuf < 5, "never buffers the oversized body, buffered " + maxBuf);
      }
    });

    it("a body of exactly 1024 bytes is accepted", () => {
      const f = parse(newParser(), encode(20, 1, "x".repeat(1024)));
      assert.equal(f[0].big, undefined);
      assert.equal(f[0].body.length, 1024);
    });

    it("keeps at most one incomplete frame (bounded receive buffer)", () => {
      const p = newParser();
      parse(p, encode(20, 1, "y".repeat(1024)).slice(0, 1028));
      assert.equal(p.buf.length, 1028);
      assert.equal(parse(p, "y").length, 1);
      assert.equal(p.buf, "");
    });
  });

  describe("fuzz", () => {
    const cmds = [0, 6, 15, 16, 17, 20, 29, 41, 55, 64];
    for (const seed of [1, 2, 3, 42, 2024]) {
      it(`round-trips random frames in random chunks (seed ${seed})`, () => {
        const r = rng(seed);
        const frames: { cmd: number; id: number; len: number; body: string }[] = [];
        let wire = "";
        for (let i = 0; i < 300; i++) {
          const cmd = cmds[Math.floor(r() * cmds.length)];
          const id = 1 + Math.floor(r() * 65535);
          if (cmd === 0) {
            const status = Math.floor(r() * 256);
            frames.push({ cmd, id, len: status, body: "" });
            wire += encodeResponse(id, status);
          } else {
            let body = "";
            const n = r() < 0.1 ? 1024 : Math.floor(r() * 64);
            for (let k = 0; k < n; k++) body += String.fromCharCode(Math.floor(r() * 256));
            frames.push({ cmd, id, len: body.length, body });
            wire += encode(cmd, id, body);
          }
        }
        const p = newParser();
        const got: Frame[] = [];
        for (let i = 0; i < wire.length; ) {
          const n = 1 + Math.floor(r() * (r() < 0.5 ? 8 : 600));
          got.push(...parse(p, wire.slice(i, i + n)));
          i += n;
        }
        assert.deepEqual(got.map(plain), frames);
        assert.equal(p.buf, "");
      });
    }

    it("random garbage never throws and never grows the buffer past one frame", () => {
      const r = rng(99);
      const p = newParser();
      for (let i = 0; i < 2000; i++) {
        let chunk = "";
        const n = Math.floor(r() * 300);
        for (let k = 0; k < n; k++) chunk += String.fromCharCode(Math.floor(r() * 256));
        parse(p, chunk);
        assert.ok(p.buf.length < 5 + 1024, "buffer " + p.buf.length);
      }
    });
  });

  describe("encoder", () => {
    it("RESPONSE carries its status in the length field and has no body", () => {
      assert.equal(Buffer.from(encodeResponse(0x1234, 9), "latin1").toString("hex"), "0012340009");
    });
    it("bodies are \\0-separated with no trailing \\0", () => {
      assert.equal(join(["vw", 1, 42], 0), "vw\x001\x0042");
      assert.equal(join([5, "a", 1.5, true, false, ""], 1), "a\x001.5\x001\x000\x00");
    });
    it("array values contribute their elements; empty arrays nothing", () => {
      assert.equal(join([1, [2, 3], [], 4], 0), "1\x002\x003\x004");
    });
    it("ids up to 0xFFFF are big-endian", () => {
      assert.equal(Buffer.from(encode(6, 0xfffe, ""), "latin1").toString("hex"), "06fffe0000");
    });
  });
});
