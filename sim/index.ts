/**
 * Espruino 2v29 simulator for ESP32/ESP8266 firmware bundles. See README.md.
 *
 *   const sim = await Sim.boot({ bundle: 'dist/esp32-devkitc.js', chip: 'ESP32', networks: [...] });
 *   await sim.advance(2000);
 *   const r = await sim.fetch('/');
 *   sim.stop();
 */
export { Sim, parseHttpResponse } from './sim.ts';
export { World } from './wifi.ts';
export { lintBundle, type LintIssue } from './lint.ts';
export type { FailNextWrite, StorageStats, TornWriteStage } from './storage.ts';
export type { NetStats } from './net.ts';
export type {
  Chip, FetchInit, FetchResult, FlashImage, NetworkSpec, PinLogEntry, SimOptions, WifiCallRecord, WifiMode,
} from './types.ts';
export {
  AP_START_MS, BEACON_LOSS_MS, DHCP_TIMEOUT_MS, DISCONNECT_EVENT_MS, ESP8266_RETRY_MS, NOT_FOUND_MS, SCAN_MS,
} from './wifi.ts';
export { MAX_SOCKETS, ESP32_CONNECT_TIMEOUT_MS, ESP8266_CONNECT_TIMEOUT_MS } from './net.ts';
