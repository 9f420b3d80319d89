/** Standard reflected CRC-32 (poly 0xEDB88320), as zlib.crc32 and Blynk's BlynkCRC32; bitwise to keep RAM free of a table. */
export function crc32(bytes: string, crc?: number): number {
  var c = ~(crc || 0);
  for (var i = 0; i < bytes.length; i++) {
    c ^= bytes.charCodeAt(i) & 0xff;
    for (var k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
