// The firmware spells its Storage names itself (its bundle is built from firmware/ alone); the host
// side takes them from shared/names.ts. These tests keep the two in step.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadConfig, saveConfig, defaultConfig, factoryToken, TOKEN_FILE as FIRMWARE_TOKEN_FILE, type Files } from "../../firmware/core/config.ts";
import { BOOT0_FILE, BOOT_FILE, CONFIG_FILES, MAX_STORAGE_NAME, TEST_TOKEN, TOKEN_FILE, UPDATE_FILES, WIFI_FILE } from "../../shared/names.ts";
import { REC, SLOT_A, SLOT_B } from "../../firmware/boot/record.ts";

/** Storage in a Map, recording the names written and read. */
function memFiles(): Files & { data: Map<string, string>; written: Set<string>; reads: Set<string> } {
  const data = new Map<string, string>();
  const written = new Set<string>();
  const reads = new Set<string>();
  return {
    data, written, reads,
    read: (n) => (reads.add(n), data.get(n)),
    write: (n, d, offset = 0, size?: number) => {
      written.add(n);
      if (!offset) data.set(n, d + "\xff".repeat(Math.max(0, (size ?? d.length) - d.length)));
      else data.set(n, data.get(n)!.slice(0, offset) + d + data.get(n)!.slice(offset + d.length));
    },
    erase: (n) => void data.delete(n),
  };
}

const source = (file: string) => readFileSync(new URL(`../../firmware/${file}`, import.meta.url), "utf8");

describe("shared names agree with the firmware", () => {
  it("the update files: the record's two files and the two slots", () => {
    assert.deepEqual([...UPDATE_FILES].sort(), [REC + 0, REC + 1, SLOT_A, SLOT_B].sort());
    for (const n of UPDATE_FILES) assert.ok(n.length <= MAX_STORAGE_NAME, n);
  });
  it("the config slots: record 1 goes to CONFIG_FILES[1], record 2 to CONFIG_FILES[0], and both are read", () => {
    const files = memFiles();
    const store = loadConfig(files);
    assert.deepEqual([...files.reads].sort(), [...CONFIG_FILES].sort());
    const c = defaultConfig();
    c.t = TEST_TOKEN;
    saveConfig(files, store, c);
    assert.deepEqual([...files.written], [CONFIG_FILES[1]]);
    c.t = "b".repeat(32);
    saveConfig(files, store, c);
    assert.deepEqual([...files.written], [CONFIG_FILES[1], CONFIG_FILES[0]]);
    assert.equal(loadConfig(files).cfg.t, c.t);
  });

  it("the factory token file", () => {
    assert.equal(FIRMWARE_TOKEN_FILE, TOKEN_FILE);
    const files = memFiles();
    files.data.set(TOKEN_FILE, TEST_TOKEN);
    assert.equal(factoryToken(files), TEST_TOKEN);
  });

  it("the boot loader reads the image from BOOT_FILE", () => {
    assert.match(source("boot/loader.ts"), new RegExp(`var file = ${JSON.stringify(BOOT_FILE).replace(/\./g, "\\.")};`));
  });

  it("the WiFi start clears Espruino's saved WiFi settings in WIFI_FILE", () => {
    assert.match(source("wifi/wifi.ts"), new RegExp(`fileRead\\(${JSON.stringify(WIFI_FILE).replace(/\./g, "\\.")}\\) !== undefined\\) W\\.save\\("clear"\\)`));
  });

  it("every Storage name fits Espruino's limit", () => {
    for (const n of [BOOT_FILE, BOOT0_FILE, WIFI_FILE, TOKEN_FILE, ...CONFIG_FILES]) assert.ok(Buffer.byteLength(n, "latin1") <= MAX_STORAGE_NAME, n);
  });
});
