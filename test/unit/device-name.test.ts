import assert from "node:assert/strict";
import { deviceName, chipIdKey, uniquePart, hostName } from "../../firmware/core/device-name.ts";
import { crc32 } from "../../firmware/core/crc32.ts";

const mac = (s: string) => s.split(":").map((h) => parseInt(h, 16));

describe("access point name (Edgent getWiFiName)", () => {
  it("matches the ESP32 reference vector Blynk My Device-PYN6", () => {
    const key = chipIdKey(mac("24:0A:C4:12:34:56"), true);
    assert.equal(crc32(key + key + key + key), 3264539456);
    assert.equal(deviceName("Blynk", "My Device", key), "Blynk My Device-PYN6");
  });
  it("matches the ESP8266 reference vector Blynk My Device-8N4Y", () => {
    const key = chipIdKey(mac("5C:CF:7F:01:02:03"), false);
    assert.equal(crc32(key + key + key + key), 82683122);
    assert.equal(deviceName("Blynk", "My Device", key), "Blynk My Device-8N4Y");
  });
  it("truncates a long template name so the SSID stays at 31 bytes", () => {
    const name = deviceName("Blynk", "A very long template name exceeding", chipIdKey(mac("5C:CF:7F:01:02:03"), false));
    assert.equal(name, "Blynk A very long template-8N4Y");
    assert.equal(name.length, 31);
  });
  it("never repeats a character of the unique part", () => {
    for (let n = 0; n < 24 * 24 * 24; n += 7) {
      const u = uniquePart(n);
      for (let i = 1; i < 4; i++) assert.notEqual(u[i], u[i - 1], `n=${n} gives ${u}`);
    }
  });
  it("makes the DHCP hostname with dashes", () => assert.equal(hostName("Blynk My Device-PYN6"), "Blynk-My-Device-PYN6"));
});
