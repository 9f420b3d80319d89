// The access point name, exactly as Blynk.Edgent's getWiFiName() (Edgent_ESP32/ConfigMode.h):
// PREFIX + " " + name[0 .. 31-6-len(PREFIX)] + "-" + four base-24 characters of CRC32(chip id x4).
import { crc32 } from "./crc32";

const ALPHABET = "0W8N4Y1HP5DF9K6JM3C2UA7R";

/** Chip id bytes: ESP32 uses the 8-byte eFuse MAC (6 MAC bytes then 00 00), ESP8266 the 6-byte STA MAC. */
export function chipIdKey(mac: number[], esp32: boolean): string {
  var s = "";
  for (var i = 0; i < 6; i++) s += String.fromCharCode(mac[i]);
  return esp32 ? s + "\x00\x00" : s;
}

/** Edgent's encodeUniquePart(): base 24, never the same character twice in a row. */
export function uniquePart(n: number): string {
  var out = "";
  var prev = "";
  for (var i = 0; i < 4; i++) {
    var c = ALPHABET.charAt(n % 24);
    if (c === prev) c = ALPHABET.charAt((n + 1) % 24);
    out += c;
    prev = c;
    n = Math.floor(n / 24);
  }
  return out;
}

export function deviceName(prefix: string, templateName: string, key: string): string {
  // CRC32 chained four times over the key equals one CRC32 over the key repeated four times.
  var unique = crc32(key + key + key + key);
  return prefix + " " + templateName.substr(0, 31 - 6 - prefix.length) + "-" + uniquePart(unique);
}

/** DHCP hostname: the device name with spaces replaced by dashes (Edgent enterConnectNet). */
export function hostName(name: string): string {
  return name.split(" ").join("-");
}
