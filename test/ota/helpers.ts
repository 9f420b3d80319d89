// Shared by the OTA tests and benchmarks.

/** Seeded PRNG (mulberry32) so a failing case can be replayed. */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` random bytes as a byte string. */
export function randomBytes(rand: () => number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(rand() * 256));
  return s;
}

/** What E.toArrayBuffer gives on Espruino: an ArrayBuffer holding exactly the string's bytes. */
export function toBuffer(s: string): ArrayBuffer {
  const b = Buffer.from(s, "latin1");
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
}
