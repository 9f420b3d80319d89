// Module "mqtt": the MQTT session (./session.ts) bound to Espruino's sockets, as firmware/cloud/client.ts
// binds the Blynk-protocol client. The core loads it for the cloud link of a configuration with
// Flag.MQTT and drops it when the link ends. Options may bring their own `connect` (tests, the virtual
// board); the clock and the core's events (`ev`) come from the core.
import { tcpConnect } from "../platform/espruino";
import { openMqtt, MqttOptions } from "./session";
import { HA_DISCOVERY } from "./url";
import type { Cloud } from "../cloud/session";

export type { MqttOptions } from "./session";

export function open(o: MqttOptions): Cloud {
  if (!o.connect) o.connect = tcpConnect;
  // a configuration without ?ha= announces itself to Home Assistant under its usual prefix
  if (o.ha === undefined) o.ha = HA_DISCOVERY;
  return openMqtt(o);
}
