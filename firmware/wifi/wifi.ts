// WiFi driver: one shape over the ESP32 and ESP8266 Wifi modules, whose callbacks and events differ
// (scan channel type, connect error strings, 'connected' netmask vs mask, ESP8266 retrying in the
// background after a failure, ESP32's inverted setIP callback). Results go to the core's step
// function: Ev.JOIN (Join, ip) once per join, Ev.LOST when a joined network goes away.
//
// RAM: Espruino charges every function object 5-9 JsVars for as long as it exists, so the driver
// is one dispatcher, wifi(op, ...), and one event handler; the callbacks of a join or a scan are
// made for that operation and freed with it. A scan is summarised (./scan.ts) as Espruino's list
// of networks is taken apart, so the native list (about 20 JsVars per network) is freed network
// by network instead of living beside its summary.
import { wifiModule, fileRead, memory } from "../platform/espruino";
import { addNetwork } from "./scan";
import { Ev } from "../kernel";
import { log } from "../core/log";

/**
 * Espruino builds a scan's whole list at once, before any JavaScript sees it: an object of six
 * fields per network, 20 JsVars with a 32-byte name (measured on the 12-byte-JsVar model). A scan
 * starts only with room for the networks seen last time (at least SCAN_ASSUMED), plus SCAN_MARGIN
 * to summarise them, so a crowded place cannot run the interpreter out of memory.
 */
const SCAN_JSVARS_PER_NETWORK = 20;
const SCAN_ASSUMED = 20;
const SCAN_MARGIN = 40;

export const enum Join {
  OK,
  AUTH, // wrong password
  NOT_FOUND, // network not found
  DHCP, // joined but got no IP address
  FAIL, // anything else (timeout)
}

export const enum Op {
  JOIN, // (ssid, pass, timeoutMs, static ip list [ip, mask, gw, dns, dns2] or []): the outcome comes as Ev.JOIN
  CANCEL, // a join under way ends without an outcome
  DISCONNECT, // leave the network (no Ev.LOST)
  UP, // -> true while joined
  IP, // -> the station's address
  SCAN, // (cb(list)): the summary of ./scan.ts, or undefined when memory was short; concurrent callers share one scan
  STOP_AP, // the ESP8266 SDK may bring back an access point it persisted itself
}

var W = wifiModule();
var ev: (e: Ev, a?: any, b?: any) => any;
var joining = 0; // a join is under way
var joinTimer: any;
var assoc = 0;
var up = 0;
var scanWaiters: ((list: string | undefined) => void)[] | undefined;
var scanCount = 0; // networks Espruino reported in the last scan

/** `step`: the core's step function, which gets Ev.JOIN and Ev.LOST. */
export function wifiInit(step: (e: Ev, a?: any, b?: any) => any): void {
  ev = step;
  // Espruino restores .wificfg after all JS boot code; clear it once so it cannot fight us.
  if (fileRead(".wificfg") !== undefined) W.save("clear");
  W.on("associated", onWifi);
  W.on("dhcp_timeout", onWifi);
  W.on("disconnected", onWifi);
}

/** Join outcome of a failure reason (ESP32 event msg, ESP8266 callback string). */
function reason(err: string): Join {
  var e = String(err).toLowerCase();
  if (e === "auth_fail" || e === "bad_password" || e === "wrong_password" || e.split("handshake").length > 1 || e === "auth_expire") return Join.AUTH;
  if (e === "no_ap_found") return Join.NOT_FOUND;
  return Join.FAIL;
}

/**
 * Every event, told apart by its argument: "associated" {ssid, mac, channel}, "disconnected"
 * {ssid, mac, reason}, "dhcp_timeout" (nothing), the join's timer ("t") and the join's own
 * outcome ([Join, ip]) from the connect and setIP callbacks.
 */
function onWifi(d?: any): void {
  var r = -1;
  var ip = "";
  if (d && d.channel !== undefined) assoc = 1;
  else if (d && d.reason !== undefined) {
    if (joining) {
      // Espruino 2v29 on ESP32 never calls connect()'s callback on failure: only this event says why.
      // (ESP8266's event reasons are shifted by one for codes 200-204, so there the callback decides.)
      if (__BUILD__.chip === "ESP32") r = reason(d.msg || d.reason);
      if (r === Join.FAIL) r = -1;
    } else if (up) {
      up = 0;
      ev(Ev.LOST);
    }
  } else if (d === "t") r = assoc ? Join.DHCP : Join.FAIL;
  else if (d && d.length === 2) {
    r = d[0];
    ip = d[1];
  } else if (!d && joining) r = Join.DHCP; // dhcp_timeout
  if (r < 0 || !joining) return;
  joining = 0;
  if (joinTimer !== undefined) clearTimeout(joinTimer);
  joinTimer = undefined;
  up = r === Join.OK ? 1 : 0;
  // ESP8266 keeps retrying in the background after reporting; stop it.
  if (!up)
    try {
      W.disconnect();
    } catch (e) {}
  ev(Ev.JOIN, r, ip);
}

export function wifi(op: Op, a?: any, b?: any, c?: any, d?: any): any {
  if (op === Op.JOIN) {
    wifi(Op.CANCEL);
    joining = 1;
    assoc = up = 0;
    var st: string[] = d;
    joinTimer = setTimeout(onWifi, c, "t");
    try {
      W.connect(a, { password: b, dnsServers: st[3] ? [st[3], st[4] || st[3]] : undefined } as any, function (err: any) {
        if (!joining) return;
        if (err) return onWifi([reason(err), ""]);
        if (!st[0]) return onWifi([Join.OK, W.getIP().ip]);
        W.setIP({ ip: st[0], netmask: st[1], gw: st[2] }, function () {
          if (joining) onWifi([Join.OK, st[0]]);
        });
      });
    } catch (e) {
      onWifi([Join.FAIL, ""]);
    }
  } else if (op === Op.CANCEL) {
    if (!joining) return;
    if (joinTimer !== undefined) clearTimeout(joinTimer);
    joinTimer = undefined;
    joining = 0;
    try {
      W.disconnect();
    } catch (e) {}
  } else if (op === Op.DISCONNECT) {
    wifi(Op.CANCEL);
    if (up) {
      up = 0;
      W.disconnect();
    }
  } else if (op === Op.UP) return up > 0;
  else if (op === Op.IP) return W.getIP().ip;
  else if (op === Op.SCAN) {
    if (scanWaiters) return void scanWaiters.push(a);
    var need = (scanCount > SCAN_ASSUMED ? scanCount : SCAN_ASSUMED) * SCAN_JSVARS_PER_NETWORK + SCAN_MARGIN;
    var free = memory().free; // after collecting garbage
    if (free < need) {
      log("Not enough free memory for a scan (" + free + " JsVars free, " + need + " needed): keeping the last list");
      return a(undefined);
    }
    scanWaiters = [a];
    log("Scanning networks...");
    var done = function (aps: any[]) {
      var list = "";
      var n: any;
      scanCount = aps ? aps.length : 0;
      log("Found networks: " + scanCount);
      while (aps && (n = aps.pop())) list = addNetwork(list, n);
      var w = scanWaiters || [];
      scanWaiters = undefined;
      for (var i = 0; i < w.length; i++) w[i](list);
    };
    try {
      W.scan(done);
    } catch (e) {
      done([]);
    }
  } else if (op === Op.STOP_AP) {
    try {
      W.stopAP();
    } catch (e) {}
  }
}
