// The cloud client as main uses it: ./session.ts bound to the Espruino platform (sockets, clock).
// Options may bring their own `connect` and `now` (tests, the virtual board); timers default to the
// interpreter's.
import { now, tcpConnect } from "../platform/espruino";
import { openCloud, CloudOptions, Cloud } from "./session";

export type { CloudOptions, Cloud, CloudSocket } from "./session";

export function startCloud(o: CloudOptions): Cloud {
  if (!o.connect) o.connect = tcpConnect;
  if (!o.now) o.now = now;
  return openCloud(o);
}
