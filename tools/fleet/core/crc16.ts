/**
 * CRC-16/MODBUS (poly 0x8005 reflected = 0xA001, init 0xFFFF, refin/refout, xorout 0).
 * TR005 uses it for the `C` (CheckSum) field, computed over the ASCII bytes of the body
 * from the `L` of `LW` up to, not including, the `:` that starts the C field
 * (reference notes §1.4). Check value: crc16Modbus("123456789") === 0x4B37.
 */
export function crc16Modbus(text: string): number {
  let crc = 0xffff;
  for (let i = 0; i < text.length; i++) {
    crc ^= text.charCodeAt(i) & 0xff;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** Four uppercase, zero-padded hex digits, the form the TR005 C field carries. */
export function hex4(value: number): string {
  return value.toString(16).toUpperCase().padStart(4, '0');
}
