// Module "store": writes the configuration record (./config.ts) to Storage. Config writes are rare
// (a setup, an error code, a reset), so the core loads this module for a write and drops it after.
import { fileRead, fileWrite, fileErase } from "../platform/espruino";
import { Store, Config, Files, storeTested, storeLastError, storeMetaSent, eraseConfig } from "./config";

var files: Files = { read: fileRead, write: fileWrite, erase: fileErase };

/** Each returns true when something was written, and throws when the flash is full. */
export function tested(s: Store, c: Config, metaSent: boolean): boolean {
  return storeTested(files, s, c, metaSent);
}
export function lastError(s: Store, code: number): boolean {
  return storeLastError(files, s, code);
}
export function metaSent(s: Store): boolean {
  return storeMetaSent(files, s);
}
export function erase(s: Store): void {
  eraseConfig(files, s);
}
