import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { md5 } from "../../firmware/ota/md5.ts";
import { sha256 } from "../../firmware/ota/sha256.ts";
import { Hash, hex, base64 } from "../../firmware/ota/hash.ts";
import { rng, randomBytes, toBuffer } from "./helpers.ts";

const node = (algo: string, s: string) => createHash(algo).update(Buffer.from(s, "latin1")).digest();

function digestOf(h: Hash, pieces: string[]): string {
  for (const p of pieces) h.update(p);
  return h.digest();
}

/** The string cut at `cuts` random places (pieces may be empty). */
function split(rand: () => number, s: string, cuts: number): string[] {
  const at = Array.from({ length: cuts }, () => Math.floor(rand() * (s.length + 1))).sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const i of at) {
    out.push(s.slice(from, i));
    from = i;
  }
  out.push(s.slice(from));
  return out;
}

const ALGOS = [
  { name: "MD5", make: md5, node: "md5", text: hex, nodeText: (b: Buffer) => b.toString("hex") },
  { name: "SHA-256", make: sha256, node: "sha256", text: base64, nodeText: (b: Buffer) => b.toString("base64") },
] as const;

describe("OTA hashes", () => {
  it("MD5 gives the RFC 1321 test suite digests", () => {
    const suite: [string, string][] = [
      ["", "d41d8cd98f00b204e9800998ecf8427e"],
      ["a", "0cc175b9c0f1b6a831c399e269772661"],
      ["abc", "900150983cd24fb0d6963f7d28e17f72"],
      ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
      ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
      ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"],
      ["1234567890".repeat(8), "57edf4a22be3c955ac49da2e2107b67a"],
    ];
    for (const [input, want] of suite) assert.equal(hex(digestOf(md5(), [input])), want, JSON.stringify(input));
  });

  it("SHA-256 gives the FIPS 180-4 example digests", () => {
    assert.equal(hex(digestOf(sha256(), ["abc"])), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(
      hex(digestOf(sha256(), ["abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"])),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("hex() and base64() give the x-md5 and x-sha256 forms of a digest", () => {
    const d = node("sha256", "firmware");
    assert.equal(hex(d.toString("latin1")), d.toString("hex"));
    assert.equal(base64(d.toString("latin1")), d.toString("base64"));
    for (let n = 0; n < 7; n++) assert.equal(base64("\xff".repeat(n)), Buffer.alloc(n, 0xff).toString("base64"), "padding for " + n + " bytes");
  });

  for (const a of ALGOS) {
    for (const withBuffer of [false, true]) {
      const how = withBuffer ? " (with toBuffer)" : "";
      const make = () => a.make(withBuffer ? toBuffer : undefined);

      it(`${a.name} of the empty input matches node:crypto${how}`, () => {
        assert.equal(a.text(digestOf(make(), [])), a.nodeText(node(a.node, "")));
        assert.equal(a.text(digestOf(make(), ["", "", ""])), a.nodeText(node(a.node, "")), "empty updates change nothing");
      });

      it(`${a.name} matches node:crypto at the block boundaries 55, 56, 63, 64, 65, 119, 120, 128 bytes${how}`, () => {
        const rand = rng(55);
        for (const n of [55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129]) {
          const s = randomBytes(rand, n);
          assert.equal(a.text(digestOf(make(), [s])), a.nodeText(node(a.node, s)), n + " bytes in one piece");
          assert.equal(a.text(digestOf(make(), s.split(""))), a.nodeText(node(a.node, s)), n + " bytes one at a time");
        }
      });

      it(`${a.name} matches node:crypto on random inputs split at random points${how}`, () => {
        const rand = rng(a.name.length * 1000 + (withBuffer ? 1 : 0));
        for (let round = 0; round < 60; round++) {
          const s = randomBytes(rand, Math.floor(rand() * 3000));
          const pieces = split(rand, s, Math.floor(rand() * 12));
          assert.equal(a.text(digestOf(make(), pieces)), a.nodeText(node(a.node, s)), `round ${round}: ${s.length} bytes in ${pieces.map((p) => p.length).join("+")}`);
        }
      });

      it(`${a.name} of 40 KB in Espruino-sized chunks (268, 536 bytes) matches node:crypto${how}`, () => {
        const s = randomBytes(rng(40), 40960);
        for (const size of [268, 536]) {
          const pieces: string[] = [];
          for (let i = 0; i < s.length; i += size) pieces.push(s.slice(i, i + size));
          assert.equal(a.text(digestOf(make(), pieces)), a.nodeText(node(a.node, s)), size + "-byte chunks");
        }
      });
    }

    it(`${a.name} takes every byte value 0..255 as one byte`, () => {
      let s = "";
      for (let c = 0; c < 256; c++) s += String.fromCharCode(c);
      assert.equal(a.text(digestOf(a.make(), [s, s])), a.nodeText(node(a.node, s + s)));
    });
  }
});
