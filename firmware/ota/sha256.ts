// SHA-256 (FIPS 180-4), incremental, for checking a firmware download against Blynk's x-sha256
// header (base64 of the 32 raw digest bytes, as Edgent-Arduino's BlynkUpdater compares it).
//
// Same approach as md5.ts (read its header): the rounds are unrolled by eight so the eight working
// variables change roles instead of being shifted along (six assignments fewer per round); no
// `| 0` inside a block (registers grow by less than 2^40 per block, the bitwise operators wrap
// them, the Int32Array stores wrap the results); the bytes are copied in natively when a zero-copy
// view of the chunk is available (`toBuffer`), then byte-swapped in place. Still about 4 times the
// work of MD5: where Espruino has a native SHA256 (the ESP32 build with CRYPTO) use that instead.
// The eight unrolled rounds minify into a flat sequence (each round starts from another register),
// not the deep nesting that made a straight-line MD5 overrun Espruino's lock limit (md5.ts);
// test/ota/real.test.ts checks on the interpreter that hashing leaves RAM where it was.
// State: the 64 constants and the message schedule in Int32Arrays (about 25 JsVars each on the
// ESP8266), plus the 8-word hash. Per block the only allocation is the view the copy reads from.
import { Hash, words } from "./hash";

/**
 * A fresh SHA-256; digest() returns the 32 raw bytes (base64() gives the x-sha256 form).
 * `toBuffer`: a zero-copy ArrayBuffer of a byte string (Espruino: E.toArrayBuffer); without it the
 * bytes are read with charCodeAt, which gives the same digest, slower.
 */
export function sha256(toBuffer?: (bytes: string) => ArrayBuffer): Hash {
  // K: the first 32 bits of the fractional parts of the cube roots of the first 64 primes (§4.2.2)
  var k = words(
    "428a2f9871374491b5c0fbcfe9b5dba53956c25b59f111f1923f82a4ab1c5ed5d807aa9812835b01243185be550c7dc372be5d7480deb1fe9bdc06a7c19bf174" +
      "e49b69c1efbe47860fc19dc6240ca1cc2de92c6f4a7484aa5cb0a9dc76f988da983e5152a831c66db00327c8bf597fc7c6e00bf3d5a7914706ca635114292967" +
      "27b70a852e1b21384d2c6dfc53380d13650a7354766a0abb81c2c92e92722c85a2bfe8a1a81a664bc24b8b70c76c51a3d192e819d6990624f40e3585106aa070" +
      "19a4c1161e376c082748774c34b0bcb5391c0cb34ed8aa4a5b9cca4f682e6ff3748f82ee78a5636f84c878148cc7020890befffaa4506cebbef9a3f7c67178f2",
  );
  var h = words("6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19"); // H(0), §5.3.3
  var w = new Int32Array(64); // message schedule; w[0..15] is the block being filled
  var w8 = new Uint8Array(w.buffer); // w[0..15] as bytes, where the block's bytes are copied in
  var n = 0; // bytes taken in so far

  function block(): void {
    var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], j = h[7], i, s, t;
    // the bytes came in in order, so on a little-endian chip (ESP32, ESP8266, hosts) each word of
    // w8 reads byte-swapped: turn them into the big-endian words of §5.2.1
    for (i = 0; i < 16; i++) {
      t = w[i];
      w[i] = (t << 24) | ((t << 8) & 0xff0000) | ((t >>> 8) & 0xff00) | (t >>> 24);
    }
    for (i = 16; i < 64; i++) {
      s = w[i - 15];
      t = w[i - 2];
      w[i] = w[i - 16] + (((s >>> 7) | (s << 25)) ^ ((s >>> 18) | (s << 14)) ^ (s >>> 3)) + w[i - 7] +
        (((t >>> 17) | (t << 15)) ^ ((t >>> 19) | (t << 13)) ^ (t >>> 10));
    }
    // §6.2.2 step 3, eight rounds per pass: T1 = h + Σ1(e) + Ch(e, f, g) + K[i] + W[i]; d += T1;
    // h = T1 + Σ0(a) + Maj(a, b, c); the next round reads the registers one role further on
    for (i = 0; i < 64; i += 8) {
      t = j + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + k[i] + w[i];
      d += t;
      j = t + (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) | (c & (a | b)));
      t = g + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) + (f ^ (d & (e ^ f))) + k[i + 1] + w[i + 1];
      c += t;
      g = t + (((j >>> 2) | (j << 30)) ^ ((j >>> 13) | (j << 19)) ^ ((j >>> 22) | (j << 10))) + ((j & a) | (b & (j | a)));
      t = f + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) + (e ^ (c & (d ^ e))) + k[i + 2] + w[i + 2];
      b += t;
      f = t + (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) + ((g & j) | (a & (g | j)));
      t = e + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) + (d ^ (b & (c ^ d))) + k[i + 3] + w[i + 3];
      a += t;
      e = t + (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) + ((f & g) | (j & (f | g)));
      t = d + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) + (c ^ (a & (b ^ c))) + k[i + 4] + w[i + 4];
      j += t;
      d = t + (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) + ((e & f) | (g & (e | f)));
      t = c + (((j >>> 6) | (j << 26)) ^ ((j >>> 11) | (j << 21)) ^ ((j >>> 25) | (j << 7))) + (b ^ (j & (a ^ b))) + k[i + 5] + w[i + 5];
      g += t;
      c = t + (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) + ((d & e) | (f & (d | e)));
      t = b + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) + (a ^ (g & (j ^ a))) + k[i + 6] + w[i + 6];
      f += t;
      b = t + (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) + ((c & d) | (e & (c | d)));
      t = a + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) + (j ^ (f & (g ^ j))) + k[i + 7] + w[i + 7];
      e += t;
      a = t + (((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) + ((b & c) | (d & (b | c)));
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += j;
  }

  // As in md5.ts: each piece of the chunk that fits the current block is copied in (one native copy
  // with `toBuffer`), and the block function runs whenever 64 bytes are in.
  function update(s: string): void {
    var i = 0, l = s.length, m, p, r;
    var buf = toBuffer && l > 8 ? toBuffer(s) : undefined;
    while (i < l) {
      p = n & 63;
      m = l - i < 64 - p ? l - i : 64 - p;
      if (buf) w8.set(new Uint8Array(buf, i, m), p);
      else for (r = 0; r < m; r++) w8[p + r] = s.charCodeAt(i + r);
      i += m;
      n += m;
      if (!(n & 63)) block();
    }
  }

  return {
    update: update,
    digest: function (): string {
      // §5.1.1: 0x80, zeros up to 56 mod 64, then the length in bits, 64-bit big-endian
      var lo = n << 3, hi = Math.floor(n / 0x20000000);
      update("\x80");
      while ((n & 63) !== 56) update("\x00");
      update(String.fromCharCode(hi >>> 24, (hi >> 16) & 255, (hi >> 8) & 255, hi & 255, lo >>> 24, (lo >> 16) & 255, (lo >> 8) & 255, lo & 255));
      var out = "";
      for (var i = 0; i < 32; i++) out += String.fromCharCode((h[i >> 2] >> (24 - ((i & 3) << 3))) & 255);
      return out;
    },
  };
}
