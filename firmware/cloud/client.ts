// Module "blynk": the Blynk device-protocol client (./session.ts) bound to Espruino's sockets. The
// core loads it for the cloud link and drops it when the link ends. Options may bring their own
// `connect` (tests, the virtual board); the clock comes from the core (`now`).
import { tcpConnect } from "../platform/espruino";
import { openCloud, CloudOptions, Cloud } from "./session";

export type { CloudOptions, Cloud, CloudSocket } from "./session";

export function open(o: CloudOptions): Cloud {
  if (!o.connect) o.connect = tcpConnect;
  return openCloud(o);
}
