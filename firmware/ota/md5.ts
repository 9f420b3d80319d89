// MD5 (RFC 1321), incremental, for checking a firmware download against Blynk's x-md5 header.
//
// Written for Espruino, which interprets the source text itself and creates a variable for every
// intermediate value, so the cost is the number of operations executed:
// - eight steps per loop pass, with their shift amounts written out (no rotation of the four
//   registers, no per-step table of shifts);
// - the steps do without `| 0`: an int sum that overflows becomes an exact double there (as in
//   JS), the shifts and bitwise operators wrap it like ToInt32, and a register grows by less than
//   2^33 per step, far from 2^53; the Int32Array stores wrap the results at the end of the block;
// - the bytes are copied into the block by one native call per block when a zero-copy view of the
//   chunk is available (`toBuffer`, E.toArrayBuffer on Espruino): reading them with charCodeAt was
//   40% of the work on the Espruino LINUX build.
// State: the 64 constants, the block and the hash in Int32Arrays, plus a byte view of the block (flat
// buffers: 64 words cost about 25 JsVars on the ESP8266, an array of 64 numbers over 65). Per block
// the only allocation is the view that the copy reads from, freed at once.
import { Hash, words } from "./hash";

/**
 * A fresh MD5; digest() returns the 16 raw bytes (hex() gives the x-md5 form).
 * `toBuffer`: a zero-copy ArrayBuffer of a byte string (Espruino: E.toArrayBuffer); without it the
 * bytes are read with charCodeAt, which gives the same digest, slower.
 */
export function md5(toBuffer?: (bytes: string) => ArrayBuffer): Hash {
  // T[i] = floor(2^32 * abs(sin(i + 1))), RFC 1321 §3.4
  var k = words(
    "d76aa478e8c7b756242070dbc1bdceeef57c0faf4787c62aa8304613fd469501698098d88b44f7afffff5bb1895cd7be6b901122fd987193a679438e49b40821" +
      "f61e2562c040b340265e5a51e9b6c7aad62f105d02441453d8a1e681e7d3fbc821e1cde6c33707d6f4d50d87455a14eda9e3e905fcefa3f8676f02d98d2a4c8a" +
      "fffa39428771f6816d9d6122fde5380ca4beea444bdecfa9f6bb4b60bebfbc70289b7ec6eaa127fad4ef308504881d05d9d4d039e6db99e51fa27cf8c4ac5665" +
      "f4292244432aff97ab9423a7fc93a039655b59c38f0ccc92ffeff47d85845dd16fa87e4ffe2ce6e0a30143144e0811a1f7537e82bd3af2352ad7d2bbeb86d391",
  );
  var h = words("67452301efcdab8998badcfe10325476");
  var x = new Int32Array(16); // the block being filled, as little-endian words
  var x8 = new Uint8Array(x.buffer); // the same block as bytes (ESP32, ESP8266 and hosts are little-endian)
  var n = 0; // bytes taken in so far

  // Each round is a loop of two passes of eight steps (RFC 1321 §3.4: a = b + rotl(a + F(b, c, d)
  // + X[g] + T[i], s)). Not one straight line of 64 steps, which would be faster: the minifier folds
  // such a line into a single expression nested 64 deep, in which Espruino locks the same variable
  // more than its 15-lock limit; the variable can then never be freed (8 JsVars leaked per block on
  // the 2v29 LINUX builds, and a crash on the 1600-JsVar one). A loop body bounds the nesting.
  function block(): void {
    var a = h[0], b = h[1], c = h[2], d = h[3], i, t;
    for (i = 0; i < 16; i += 8) {
      t = a + (d ^ (b & (c ^ d))) + x[i] + k[i]; a = b + ((t << 7) | (t >>> 25));
      t = d + (c ^ (a & (b ^ c))) + x[i + 1] + k[i + 1]; d = a + ((t << 12) | (t >>> 20));
      t = c + (b ^ (d & (a ^ b))) + x[i + 2] + k[i + 2]; c = d + ((t << 17) | (t >>> 15));
      t = b + (a ^ (c & (d ^ a))) + x[i + 3] + k[i + 3]; b = c + ((t << 22) | (t >>> 10));
      t = a + (d ^ (b & (c ^ d))) + x[i + 4] + k[i + 4]; a = b + ((t << 7) | (t >>> 25));
      t = d + (c ^ (a & (b ^ c))) + x[i + 5] + k[i + 5]; d = a + ((t << 12) | (t >>> 20));
      t = c + (b ^ (d & (a ^ b))) + x[i + 6] + k[i + 6]; c = d + ((t << 17) | (t >>> 15));
      t = b + (a ^ (c & (d ^ a))) + x[i + 7] + k[i + 7]; b = c + ((t << 22) | (t >>> 10));
    }
    for (; i < 32; i += 8) {
      t = a + (c ^ (d & (b ^ c))) + x[(5 * i + 1) & 15] + k[i]; a = b + ((t << 5) | (t >>> 27));
      t = d + (b ^ (c & (a ^ b))) + x[(5 * i + 6) & 15] + k[i + 1]; d = a + ((t << 9) | (t >>> 23));
      t = c + (a ^ (b & (d ^ a))) + x[(5 * i + 11) & 15] + k[i + 2]; c = d + ((t << 14) | (t >>> 18));
      t = b + (d ^ (a & (c ^ d))) + x[(5 * i + 16) & 15] + k[i + 3]; b = c + ((t << 20) | (t >>> 12));
      t = a + (c ^ (d & (b ^ c))) + x[(5 * i + 21) & 15] + k[i + 4]; a = b + ((t << 5) | (t >>> 27));
      t = d + (b ^ (c & (a ^ b))) + x[(5 * i + 26) & 15] + k[i + 5]; d = a + ((t << 9) | (t >>> 23));
      t = c + (a ^ (b & (d ^ a))) + x[(5 * i + 31) & 15] + k[i + 6]; c = d + ((t << 14) | (t >>> 18));
      t = b + (d ^ (a & (c ^ d))) + x[(5 * i + 36) & 15] + k[i + 7]; b = c + ((t << 20) | (t >>> 12));
    }
    for (; i < 48; i += 8) {
      t = a + (b ^ c ^ d) + x[(3 * i + 5) & 15] + k[i]; a = b + ((t << 4) | (t >>> 28));
      t = d + (a ^ b ^ c) + x[(3 * i + 8) & 15] + k[i + 1]; d = a + ((t << 11) | (t >>> 21));
      t = c + (d ^ a ^ b) + x[(3 * i + 11) & 15] + k[i + 2]; c = d + ((t << 16) | (t >>> 16));
      t = b + (c ^ d ^ a) + x[(3 * i + 14) & 15] + k[i + 3]; b = c + ((t << 23) | (t >>> 9));
      t = a + (b ^ c ^ d) + x[(3 * i + 17) & 15] + k[i + 4]; a = b + ((t << 4) | (t >>> 28));
      t = d + (a ^ b ^ c) + x[(3 * i + 20) & 15] + k[i + 5]; d = a + ((t << 11) | (t >>> 21));
      t = c + (d ^ a ^ b) + x[(3 * i + 23) & 15] + k[i + 6]; c = d + ((t << 16) | (t >>> 16));
      t = b + (c ^ d ^ a) + x[(3 * i + 26) & 15] + k[i + 7]; b = c + ((t << 23) | (t >>> 9));
    }
    for (; i < 64; i += 8) {
      t = a + (c ^ (b | ~d)) + x[(7 * i) & 15] + k[i]; a = b + ((t << 6) | (t >>> 26));
      t = d + (b ^ (a | ~c)) + x[(7 * i + 7) & 15] + k[i + 1]; d = a + ((t << 10) | (t >>> 22));
      t = c + (a ^ (d | ~b)) + x[(7 * i + 14) & 15] + k[i + 2]; c = d + ((t << 15) | (t >>> 17));
      t = b + (d ^ (c | ~a)) + x[(7 * i + 21) & 15] + k[i + 3]; b = c + ((t << 21) | (t >>> 11));
      t = a + (c ^ (b | ~d)) + x[(7 * i + 28) & 15] + k[i + 4]; a = b + ((t << 6) | (t >>> 26));
      t = d + (b ^ (a | ~c)) + x[(7 * i + 35) & 15] + k[i + 5]; d = a + ((t << 10) | (t >>> 22));
      t = c + (a ^ (d | ~b)) + x[(7 * i + 42) & 15] + k[i + 6]; c = d + ((t << 15) | (t >>> 17));
      t = b + (d ^ (c | ~a)) + x[(7 * i + 49) & 15] + k[i + 7]; b = c + ((t << 21) | (t >>> 11));
    }
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
