// WiFi driver: one shape over the ESP32 and ESP8266 Wifi modules, whose callbacks and events differ
// (scan channel type, connect error strings, 'connected' netmask vs mask, ESP8266 retrying in the
// background after a failure, ESP32's inverted setIP callback).
//
// RAM: module state and module functions only (no closure per call), and a scan is summarised into
// one compact string as Espruino's list of networks is taken apart, so the native list (about 20
// JsVars per network) is freed network by network instead of living beside its summary.
import { wifiModule, fileRead } from "../platform/espruino";
import { addNetwork } from "./scan";

export { scanSsids } from "./scan";

export const enum Join {
  OK,
  AUTH, // wrong password
  NOT_FOUND, // network not found
  DHCP, // joined but got no IP address
  FAIL, // anything else (timeout)
}

const AP_START_TIMEOUT = 5000; // ESP32 reports AP_START within a fraction of a second

var W = wifiModule();
var joinCb: ((r: Join, ip: string) => void) | undefined;
var joinTimer: any;
var assoc = 0;
var up = 0;
var staticIp: string[] = [];
var lostCb: () => void;
var stations = 0;
var stationCb: (count: number) => void;
var scanWaiters: ((list: string) => void)[] | undefined;
var apCb: ((ip: string) => void) | undefined;
var apTimer: any;
var apTries = 0;
var apName = "";
var apPass = "";

export function wifiInit(onLost: () => void, onStations: (count: number) => void): void {
  lostCb = onLost;
  stationCb = onStations;
  // Espruino restores .wificfg after all JS boot code; clear it once so it cannot fight us.
  if (fileRead(".wificfg") !== undefined) W.save("clear");
  W.on("associated", onAssociated);
  W.on("dhcp_timeout", onDhcpTimeout);
  W.on("disconnected", onDisconnected);
  W.on("sta_joined", onStaJoined);
  W.on("sta_left", onStaLeft);
}

function onAssociated(): void {
  assoc = 1;
}

function onDhcpTimeout(): void {
  if (joinCb) finishJoin(Join.DHCP, "");
}

function onDisconnected(d: any): void {
  if (joinCb) {
    // Espruino 2v29 on ESP32 never calls connect()'s callback on failure: only this event says why.
    // (ESP8266's event reasons are shifted by one for codes 200-204, so there the callback decides.)
    if (__BUILD__.chip === "ESP32") {
      var r = reason(d && (d.msg || d.reason));
      if (r !== Join.FAIL) finishJoin(r, "");
    }
  } else if (up) {
    up = 0;
    lostCb();
  }
}

function onStaJoined(): void {
  stationCb(++stations);
}

function onStaLeft(): void {
  if (stations > 0) stations--;
  stationCb(stations);
}

function reason(err: string): Join {
  var e = String(err).toLowerCase();
  if (e === "auth_fail" || e === "bad_password" || e === "wrong_password" || e.split("handshake").length > 1 || e === "auth_expire") return Join.AUTH;
  if (e === "no_ap_found") return Join.NOT_FOUND;
  return Join.FAIL;
}

function finishJoin(r: Join, ip: string): void {
  var cb = joinCb;
  joinCb = undefined;
  if (joinTimer !== undefined) clearTimeout(joinTimer);
  joinTimer = undefined;
  if (r !== Join.OK) {
    // ESP8266 keeps retrying in the background after reporting; stop it.
    try {
      W.disconnect();
    } catch (e) {}
  }
  up = r === Join.OK ? 1 : 0;
  if (cb) cb(r, ip);
}

function onJoinTimeout(): void {
  joinTimer = undefined;
  finishJoin(assoc ? Join.DHCP : Join.FAIL, "");
}

function onConnect(err: any): void {
  if (!joinCb) return;
  if (err) return finishJoin(reason(err), "");
  if (staticIp[0]) W.setIP({ ip: staticIp[0], netmask: staticIp[1], gw: staticIp[2] }, onStaticIp);
  else finishJoin(Join.OK, W.getIP().ip);
}

function onStaticIp(): void {
  if (joinCb) finishJoin(Join.OK, staticIp[0]);
}

/** Joins a network with a hard timeout; exactly one callback. `ip`: static ip, mask, gw, dns, dns2 or []. */
export function join(ssid: string, pass: string, timeoutMs: number, ip: string[], cb: (r: Join, ip: string) => void): void {
  cancelJoin();
  joinCb = cb;
  assoc = up = 0;
  staticIp = ip;
  joinTimer = setTimeout(onJoinTimeout, timeoutMs);
  try {
    W.connect(ssid, { password: pass, dnsServers: ip[3] ? [ip[3], ip[4] || ip[3]] : undefined } as any, onConnect);
  } catch (e) {
    finishJoin(Join.FAIL, "");
  }
}

export function cancelJoin(): void {
  if (joinCb) {
    joinCb = undefined;
    if (joinTimer !== undefined) clearTimeout(joinTimer);
    joinTimer = undefined;
    try {
      W.disconnect();
    } catch (e) {}
  }
}

export function isUp(): boolean {
  return up > 0;
}

export function disconnect(): void {
  cancelJoin();
  if (up) {
    up = 0;
    W.disconnect();
  }
}

export function setHostname(name: string): void {
  try {
    W.setHostname(name);
  } catch (e) {}
}

/**
 * Scans; concurrent callers share one scan. The callback gets the summary of ./scan.ts (at most
 * SCAN_MAX networks, strongest first); each network of Espruino's list is taken off it as it is added.
 */
export function scan(cb: (list: string) => void): void {
  if (scanWaiters) {
    scanWaiters.push(cb);
    return;
  }
  scanWaiters = [cb];
  try {
    W.scan(onScan);
  } catch (e) {
    onScan([]);
  }
}

function onScan(aps: any[]): void {
  var list = "";
  var a: any;
  while (aps && (a = aps.pop())) list = addNetwork(list, a);
  var w = scanWaiters || [];
  scanWaiters = undefined;
  for (var j = 0; j < w.length; j++) w[j](list);
}

/**
 * Starts the access point; "" password = open. Reports the AP IP ("0.0.0.0" = failure) once.
 * Espruino on ESP32 never calls back when the AP is already running (after load() in the IDE, the
 * radio keeps it): after AP_START_TIMEOUT the AP is stopped and started once more, then given up.
 */
export function startAP(name: string, password: string, cb: (ip: string) => void): void {
  apCb = cb;
  apName = name;
  apPass = password;
  apTries = 0;
  apAttempt();
}

function apAttempt(): void {
  stations = 0;
  apTimer = setTimeout(onApTimeout, AP_START_TIMEOUT);
  try {
    W.startAP(apName, apPass ? { password: apPass, authMode: "wpa2" } : ({ authMode: "open" } as any), onApStarted);
  } catch (e) {
    apDone("0.0.0.0");
  }
}

function onApTimeout(): void {
  apTimer = undefined;
  if (apTries++) return apDone("0.0.0.0");
  try {
    W.stopAP();
  } catch (e) {}
  apAttempt();
}

function onApStarted(err: any): void {
  apDone(err ? "0.0.0.0" : W.getAPIP().ip);
}

function apDone(ip: string): void {
  if (apTimer !== undefined) clearTimeout(apTimer);
  apTimer = undefined;
  var r = apCb;
  apCb = undefined;
  if (r) r(ip);
}

export function stopAP(): void {
  stations = 0;
  if (apTimer !== undefined) clearTimeout(apTimer);
  apTimer = apCb = undefined;
  try {
    W.stopAP();
  } catch (e) {}
}

export function staMac(): string {
  return W.getIP().mac.toUpperCase();
}
export function apMac(): string {
  return W.getAPIP().mac.toUpperCase();
}
export function ip(): string {
  return W.getIP().ip;
}
