// MD5 (RFC 1321), incremental, for checking a firmware download against Blynk's x-md5 header.
//
// Written for Espruino, which interprets the source text itself and creates a variable for every
// intermediate value, so the cost is the number of operations executed:
// - the 64 steps are written out with their constants (no table lookups, no index arithmetic, and
//   no 64-word table in RAM);
// - the steps do without `| 0`: an int sum that overflows becomes an exact double there (as in
//   JS), the shifts and bitwise operators wrap it like ToInt32, and a register grows by less than
//   2^32 per step, far from 2^53; the Int32Array store wraps the result at the end of the block;
// - the bytes are copied into the block by one native call per block when a zero-copy view of the
//   chunk is available (`toBuffer`, E.toArrayBuffer on Espruino): reading them with charCodeAt was
//   40% of the work on the Espruino LINUX build.
// State: an Int32Array(16) for the block and a byte view of it (a flat buffer: about 8 JsVars on the
// ESP8266, where an array of 16 numbers costs 17). Per block the only allocation is the view that
// the copy reads from, freed at once.
import { Hash, words } from "./hash";

/**
 * A fresh MD5; digest() returns the 16 raw bytes (hex() gives the x-md5 form).
 * `toBuffer`: a zero-copy ArrayBuffer of a byte string (Espruino: E.toArrayBuffer); without it the
 * bytes are read with charCodeAt, which gives the same digest, slower.
 */
export function md5(toBuffer?: (bytes: string) => ArrayBuffer): Hash {
  var h = words("67452301efcdab8998badcfe10325476");
  var x = new Int32Array(16); // the block being filled, as little-endian words
  var x8 = new Uint8Array(x.buffer); // the same block as bytes (ESP32, ESP8266 and hosts are little-endian)
  var n = 0; // bytes taken in so far

  // One line per step (RFC 1321 §3.4): a = b + rotl(a + F(b, c, d) + X[k] + T[i], s).
  function block(): void {
    var a = h[0], b = h[1], c = h[2], d = h[3], t;
    t = a + (d ^ (b & (c ^ d))) + x[0] + 0xd76aa478; a = b + ((t << 7) | (t >>> 25));
    t = d + (c ^ (a & (b ^ c))) + x[1] + 0xe8c7b756; d = a + ((t << 12) | (t >>> 20));
    t = c + (b ^ (d & (a ^ b))) + x[2] + 0x242070db; c = d + ((t << 17) | (t >>> 15));
    t = b + (a ^ (c & (d ^ a))) + x[3] + 0xc1bdceee; b = c + ((t << 22) | (t >>> 10));
    t = a + (d ^ (b & (c ^ d))) + x[4] + 0xf57c0faf; a = b + ((t << 7) | (t >>> 25));
    t = d + (c ^ (a & (b ^ c))) + x[5] + 0x4787c62a; d = a + ((t << 12) | (t >>> 20));
    t = c + (b ^ (d & (a ^ b))) + x[6] + 0xa8304613; c = d + ((t << 17) | (t >>> 15));
    t = b + (a ^ (c & (d ^ a))) + x[7] + 0xfd469501; b = c + ((t << 22) | (t >>> 10));
    t = a + (d ^ (b & (c ^ d))) + x[8] + 0x698098d8; a = b + ((t << 7) | (t >>> 25));
    t = d + (c ^ (a & (b ^ c))) + x[9] + 0x8b44f7af; d = a + ((t << 12) | (t >>> 20));
    t = c + (b ^ (d & (a ^ b))) + x[10] + 0xffff5bb1; c = d + ((t << 17) | (t >>> 15));
    t = b + (a ^ (c & (d ^ a))) + x[11] + 0x895cd7be; b = c + ((t << 22) | (t >>> 10));
    t = a + (d ^ (b & (c ^ d))) + x[12] + 0x6b901122; a = b + ((t << 7) | (t >>> 25));
    t = d + (c ^ (a & (b ^ c))) + x[13] + 0xfd987193; d = a + ((t << 12) | (t >>> 20));
    t = c + (b ^ (d & (a ^ b))) + x[14] + 0xa679438e; c = d + ((t << 17) | (t >>> 15));
    t = b + (a ^ (c & (d ^ a))) + x[15] + 0x49b40821; b = c + ((t << 22) | (t >>> 10));

    t = a + (c ^ (d & (b ^ c))) + x[1] + 0xf61e2562; a = b + ((t << 5) | (t >>> 27));
    t = d + (b ^ (c & (a ^ b))) + x[6] + 0xc040b340; d = a + ((t << 9) | (t >>> 23));
    t = c + (a ^ (b & (d ^ a))) + x[11] + 0x265e5a51; c = d + ((t << 14) | (t >>> 18));
    t = b + (d ^ (a & (c ^ d))) + x[0] + 0xe9b6c7aa; b = c + ((t << 20) | (t >>> 12));
    t = a + (c ^ (d & (b ^ c))) + x[5] + 0xd62f105d; a = b + ((t << 5) | (t >>> 27));
    t = d + (b ^ (c & (a ^ b))) + x[10] + 0x02441453; d = a + ((t << 9) | (t >>> 23));
    t = c + (a ^ (b & (d ^ a))) + x[15] + 0xd8a1e681; c = d + ((t << 14) | (t >>> 18));
    t = b + (d ^ (a & (c ^ d))) + x[4] + 0xe7d3fbc8; b = c + ((t << 20) | (t >>> 12));
    t = a + (c ^ (d & (b ^ c))) + x[9] + 0x21e1cde6; a = b + ((t << 5) | (t >>> 27));
    t = d + (b ^ (c & (a ^ b))) + x[14] + 0xc33707d6; d = a + ((t << 9) | (t >>> 23));
    t = c + (a ^ (b & (d ^ a))) + x[3] + 0xf4d50d87; c = d + ((t << 14) | (t >>> 18));
    t = b + (d ^ (a & (c ^ d))) + x[8] + 0x455a14ed; b = c + ((t << 20) | (t >>> 12));
    t = a + (c ^ (d & (b ^ c))) + x[13] + 0xa9e3e905; a = b + ((t << 5) | (t >>> 27));
    t = d + (b ^ (c & (a ^ b))) + x[2] + 0xfcefa3f8; d = a + ((t << 9) | (t >>> 23));
    t = c + (a ^ (b & (d ^ a))) + x[7] + 0x676f02d9; c = d + ((t << 14) | (t >>> 18));
    t = b + (d ^ (a & (c ^ d))) + x[12] + 0x8d2a4c8a; b = c + ((t << 20) | (t >>> 12));

    t = a + (b ^ c ^ d) + x[5] + 0xfffa3942; a = b + ((t << 4) | (t >>> 28));
    t = d + (a ^ b ^ c) + x[8] + 0x8771f681; d = a + ((t << 11) | (t >>> 21));
    t = c + (d ^ a ^ b) + x[11] + 0x6d9d6122; c = d + ((t << 16) | (t >>> 16));
    t = b + (c ^ d ^ a) + x[14] + 0xfde5380c; b = c + ((t << 23) | (t >>> 9));
    t = a + (b ^ c ^ d) + x[1] + 0xa4beea44; a = b + ((t << 4) | (t >>> 28));
    t = d + (a ^ b ^ c) + x[4] + 0x4bdecfa9; d = a + ((t << 11) | (t >>> 21));
    t = c + (d ^ a ^ b) + x[7] + 0xf6bb4b60; c = d + ((t << 16) | (t >>> 16));
    t = b + (c ^ d ^ a) + x[10] + 0xbebfbc70; b = c + ((t << 23) | (t >>> 9));
    t = a + (b ^ c ^ d) + x[13] + 0x289b7ec6; a = b + ((t << 4) | (t >>> 28));
    t = d + (a ^ b ^ c) + x[0] + 0xeaa127fa; d = a + ((t << 11) | (t >>> 21));
    t = c + (d ^ a ^ b) + x[3] + 0xd4ef3085; c = d + ((t << 16) | (t >>> 16));
    t = b + (c ^ d ^ a) + x[6] + 0x04881d05; b = c + ((t << 23) | (t >>> 9));
    t = a + (b ^ c ^ d) + x[9] + 0xd9d4d039; a = b + ((t << 4) | (t >>> 28));
    t = d + (a ^ b ^ c) + x[12] + 0xe6db99e5; d = a + ((t << 11) | (t >>> 21));
    t = c + (d ^ a ^ b) + x[15] + 0x1fa27cf8; c = d + ((t << 16) | (t >>> 16));
    t = b + (c ^ d ^ a) + x[2] + 0xc4ac5665; b = c + ((t << 23) | (t >>> 9));

    t = a + (c ^ (b | ~d)) + x[0] + 0xf4292244; a = b + ((t << 6) | (t >>> 26));
    t = d + (b ^ (a | ~c)) + x[7] + 0x432aff97; d = a + ((t << 10) | (t >>> 22));
    t = c + (a ^ (d | ~b)) + x[14] + 0xab9423a7; c = d + ((t << 15) | (t >>> 17));
    t = b + (d ^ (c | ~a)) + x[5] + 0xfc93a039; b = c + ((t << 21) | (t >>> 11));
    t = a + (c ^ (b | ~d)) + x[12] + 0x655b59c3; a = b + ((t << 6) | (t >>> 26));
    t = d + (b ^ (a | ~c)) + x[3] + 0x8f0ccc92; d = a + ((t << 10) | (t >>> 22));
    t = c + (a ^ (d | ~b)) + x[10] + 0xffeff47d; c = d + ((t << 15) | (t >>> 17));
    t = b + (d ^ (c | ~a)) + x[1] + 0x85845dd1; b = c + ((t << 21) | (t >>> 11));
    t = a + (c ^ (b | ~d)) + x[8] + 0x6fa87e4f; a = b + ((t << 6) | (t >>> 26));
    t = d + (b ^ (a | ~c)) + x[15] + 0xfe2ce6e0; d = a + ((t << 10) | (t >>> 22));
    t = c + (a ^ (d | ~b)) + x[6] + 0xa3014314; c = d + ((t << 15) | (t >>> 17));
    t = b + (d ^ (c | ~a)) + x[13] + 0x4e0811a1; b = c + ((t << 21) | (t >>> 11));
    t = a + (c ^ (b | ~d)) + x[4] + 0xf7537e82; a = b + ((t << 6) | (t >>> 26));
    t = d + (b ^ (a | ~c)) + x[11] + 0xbd3af235; d = a + ((t << 10) | (t >>> 22));
    t = c + (a ^ (d | ~b)) + x[2] + 0x2ad7d2bb; c = d + ((t << 15) | (t >>> 17));
    t = b + (d ^ (c | ~a)) + x[9] + 0xeb86d391; b = c + ((t << 21) | (t >>> 11));
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
  }

  // Copies each piece of the chunk that fits the current block (one native copy with `toBuffer`,
  // byte by byte without) and runs the block function whenever 64 bytes are in.
  function update(s: string): void {
    var i = 0, l = s.length, m, p, r;
    var buf = toBuffer && l > 8 ? toBuffer(s) : undefined;
    while (i < l) {
      p = n & 63;
      m = l - i < 64 - p ? l - i : 64 - p;
      if (buf) x8.set(new Uint8Array(buf, i, m), p);
      else for (r = 0; r < m; r++) x8[p + r] = s.charCodeAt(i + r);
      i += m;
      n += m;
      if (!(n & 63)) block();
    }
  }

  return {
    update: update,
    digest: function (): string {
      // RFC 1321 §3.1-3.2: 0x80, zeros up to 56 mod 64, then the length in bits, 64-bit little-endian
      var lo = n << 3, hi = Math.floor(n / 0x20000000);
      update("\x80");
      while ((n & 63) !== 56) update("\x00");
      update(String.fromCharCode(lo & 255, (lo >> 8) & 255, (lo >> 16) & 255, lo >>> 24, hi & 255, (hi >> 8) & 255, (hi >> 16) & 255, hi >>> 24));
      var out = "";
      for (var i = 0; i < 16; i++) out += String.fromCharCode((h[i >> 2] >> ((i & 3) << 3)) & 255);
      return out;
    },
  };
}
