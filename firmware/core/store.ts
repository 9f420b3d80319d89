// Module "store": writes the configuration record (./config.ts updateConfig). Config writes are
// rare (a setup, an error code, a reset), so the core loads this module for a write and drops it.
import { fileRead, fileWrite, fileErase } from "../platform/espruino";
// the one function of this module besides updateConfig and crc32 (see updateConfig on why)
import { Store, Update, updateConfig } from "./config";

export function write(s: Store, how: Update, a?: any, b?: any): boolean {
  return updateConfig({ read: fileRead, write: fileWrite, erase: fileErase }, s, how, a, b);
}
