// Module "boot": what only a boot needs (reading the stored configuration and the factory token,
// naming the device, the banner), run once by the core and dropped.
import { fileRead, fileWrite, fileErase, macBytes, telnetConsole, wifiModule } from "../platform/espruino";
import { Store, Files, loadConfig, factoryToken } from "./config";
import { deviceName, chipIdKey, hostName } from "./device-name";
import { maskToken } from "./mask";

export interface Boot {
  store: Store;
  /** factory token, "" = none */
  fac: string;
  /** the device's name: Blynk.Edgent's access point SSID */
  name: string;
}

export function start(log: (line: string) => void): Boot {
  var files: Files = { read: fileRead, write: fileWrite, erase: fileErase };
  log("Blynk Edgent for Espruino " + __BUILD__.fwVer + " on " + __BUILD__.board + " (build " + __BUILD__.build + ")");
  telnetConsole(__BUILD__.telnet);
  if (__BUILD__.telnet) log("Telnet console on port 23 is open to the network (EDGENT_TELNET=on)");
  var store = loadConfig(files);
  var fac = factoryToken(files);
  var name = deviceName("Blynk", __BUILD__.tmplName, chipIdKey(macBytes(), __BUILD__.chip === "ESP32"));
  try {
    wifiModule().setHostname(hostName(name));
  } catch (e) {}
  log("Device: " + name);
  log("Token:  " + maskToken(store.cfg.t || fac));
  return { store: store, fac: fac, name: name };
}
