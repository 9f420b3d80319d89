// The core module: what the boot loader starts. Boots the state machine and publishes the REPL
// object `edgent`: the device commands (status, connect, ...) added to the cloud API object, which
// already exists for the user's code (one object rather than two copies of the same methods).
import { bootEdgent, step } from "./edgent";
import { startQa, userLed } from "./led/indicator-core";
import { Ev } from "./kernel";
import { cloudApi } from "./cloud/api";
import { publish } from "./platform/espruino";

function status(): any {
  return step(Ev.STATUS);
}
/** edgent.connect(token, ssid, pass, host): host as the page's Server field (a host name, or an MQTT broker URL). */
function connect(token: string, ssid: string, pass: string, host?: string): string {
  return step(Ev.CONNECT, { blynk: token || "", ssid: ssid || "", pass: pass || "", host: host || "" });
}
function reset(): string {
  return step(Ev.COMMAND, "config erase");
}
function config(what?: string): string {
  return step(Ev.COMMAND, "config " + (what || "start"));
}
function reboot(): string {
  return step(Ev.COMMAND, "reboot");
}

/**
 * Called by the loader with the image file, its module table ("name,offset,length,...") and what an
 * update left to settle at the first login (edgent.ts bootEdgent).
 */
export function boot(image: string, modules: string, trial?: number): void {
  var api: any = cloudApi();
  api.status = status;
  api.connect = connect;
  api.reset = reset;
  api.config = config;
  api.reboot = reboot;
  api.qa = startQa;
  api.led = userLed;
  publish("edgent", api);
  bootEdgent(image, modules, trial);
}
