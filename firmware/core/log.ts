import { now, print } from "../platform/espruino";

export { maskToken } from "./mask";

/** Edgent-style console line: "[millis] message". */
export function log(msg: string): void {
  print("[" + now() + "] " + msg);
}
