// The MQTT session as main would use it: ./session.ts bound to the Espruino platform (sockets, clock),
// as ../cloud/client.ts binds the Blynk-protocol client. Options may bring their own `connect` and
// `now` (tests, the virtual board); timers default to the interpreter's.
import { now, tcpConnect } from "../platform/espruino";
import { openMqtt, MqttOptions } from "./session";
import type { Cloud } from "../cloud/session";

export type { MqttOptions } from "./session";

export function startMqtt(o: MqttOptions): Cloud {
  if (!o.connect) o.connect = tcpConnect;
  if (!o.now) o.now = now;
  return openMqtt(o);
}
