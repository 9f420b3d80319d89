// WiFi driver: one shape over the ESP32 and ESP8266 Wifi modules, whose callbacks and events differ
// (scan channel type, connect error strings, 'connected' netmask vs mask, ESP8266 retrying in the
// background after a failure, ESP32's inverted setIP callback).
import { wifiModule, fileRead } from "../platform/espruino";

export const enum Join {
  OK,
  AUTH, // wrong password
  NOT_FOUND, // network not found
  DHCP, // joined but got no IP address
  FAIL, // anything else (timeout)
}

export interface ScanEntry {
  ssid: string;
  bssid: string;
  rssi: number;
  sec: string;
  ch: number;
  hidden: number;
}

const AP_START_TIMEOUT = 5000; // ESP32 reports AP_START within a fraction of a second

var W = wifiModule();
var joinCb: ((r: Join, ip: string) => void) | undefined;
var joinTimer: any;
var associated = false;
var up = false;
var lostCb: () => void = function () {};
var scanWaiters: ((aps: ScanEntry[]) => void)[] | undefined;
var stations = 0;
var stationCb: (count: number) => void = function () {};

export function wifiInit(onLost: () => void, onStations: (count: number) => void): void {
  lostCb = onLost;
  stationCb = onStations;
  // Espruino restores .wificfg after all JS boot code; clear it once so it cannot fight us.
  if (fileRead(".wificfg") !== undefined) W.save("clear");
  W.on("associated", function () {
    associated = true;
  });
  W.on("dhcp_timeout", function () {
    if (joinCb) finishJoin(Join.DHCP, "");
  });
  W.on("disconnected", function (d: any) {
    if (joinCb) {
      // Espruino 2v29 on ESP32 never calls connect()'s callback on failure: only this event says why.
      // (ESP8266's event reasons are shifted by one for codes 200-204, so there the callback decides.)
      if (__BUILD__.chip === "ESP32") {
        var r = reason(d && (d.msg || d.reason));
        if (r !== Join.FAIL) finishJoin(r, "");
      }
    } else if (up) {
      up = false;
      lostCb();
    }
  });
  W.on("sta_joined", function () {
    stationCb(++stations);
  });
  W.on("sta_left", function () {
    if (stations > 0) stations--;
    stationCb(stations);
  });
}

function reason(err: string): Join {
  var e = String(err).toLowerCase();
  if (e === "auth_fail" || e === "bad_password" || e === "wrong_password" || e.indexOf("handshake") >= 0 || e === "auth_expire") return Join.AUTH;
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
  up = r === Join.OK;
  if (cb) cb(r, ip);
}

/** Joins a network with a hard timeout; exactly one callback. */
export function join(ssid: string, pass: string, timeoutMs: number, staticIp: string[], cb: (r: Join, ip: string) => void): void {
  cancelJoin();
  joinCb = cb;
  associated = false;
  up = false;
  joinTimer = setTimeout(function () {
    joinTimer = undefined;
    finishJoin(associated ? Join.DHCP : Join.FAIL, "");
  }, timeoutMs);
  try {
    W.connect(ssid, { password: pass, dnsServers: staticIp[3] ? [staticIp[3], staticIp[4] || staticIp[3]] : undefined } as any, function (err) {
      if (!joinCb) return;
      if (err) return finishJoin(reason(err), "");
      if (staticIp[0]) {
        W.setIP({ ip: staticIp[0], netmask: staticIp[1], gw: staticIp[2] }, function () {
          finishJoin(Join.OK, staticIp[0]);
        });
      } else finishJoin(Join.OK, W.getIP().ip);
    });
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
  return up;
}

export function disconnect(): void {
  cancelJoin();
  if (up) {
    up = false;
    W.disconnect();
  }
}

export function setHostname(name: string): void {
  try {
    W.setHostname(name);
  } catch (e) {}
}

function secName(auth: string): string {
  var i = "open wep wpa wpa2 wpa_wpa2 wpa2_enterprise wpa3 wpa2_wpa3".split(" ").indexOf(auth);
  return i < 0 ? "unknown" : "OPEN WEP WPA WPA2 WPA+WPA2 WPA2-EAP WPA3 WPA2+WPA3".split(" ")[i];
}

/** Scans (concurrent callers share one scan), strongest first, at most 15 entries. */
export function scan(cb: (aps: ScanEntry[]) => void): void {
  if (scanWaiters) {
    scanWaiters.push(cb);
    return;
  }
  scanWaiters = [cb];
  var done = function (list: any[]) {
    var out: ScanEntry[] = [];
    for (var i = 0; list && i < list.length; i++) {
      var a = list[i];
      out.push({ ssid: a.ssid || "", bssid: String(a.mac || "").toUpperCase(), rssi: a.rssi, sec: secName(a.authMode), ch: parseInt(a.channel, 10) || 0, hidden: a.isHidden || !a.ssid ? 1 : 0 });
    }
    out.sort(function (x, y) {
      return y.rssi - x.rssi;
    });
    if (out.length > 15) out.splice(15, out.length - 15);
    var w = scanWaiters || [];
    scanWaiters = undefined;
    for (var j = 0; j < w.length; j++) w[j](out);
  };
  try {
    W.scan(done);
  } catch (e) {
    done([]);
  }
}

/**
 * Starts the access point; "" password = open. Reports the AP IP ("0.0.0.0" = failure) once.
 * Espruino on ESP32 never calls back when the AP is already running (after load() in the IDE, the
 * radio keeps it): after AP_START_TIMEOUT the AP is stopped and started once more, then given up.
 */
export function startAP(name: string, password: string, cb: (ip: string) => void): void {
  var opts: any = password ? { password: password, authMode: "wpa2" } : { authMode: "open" };
  var report: ((ip: string) => void) | undefined = cb;
  var timer: any;
  var tries = 0;
  var finish = function (ip: string) {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    var r = report;
    report = undefined;
    if (r) r(ip);
  };
  var attempt = function () {
    stations = 0;
    timer = setTimeout(function () {
      timer = undefined;
      if (tries++) return finish("0.0.0.0");
      stopAP();
      attempt();
    }, AP_START_TIMEOUT);
    try {
      W.startAP(name, opts, function (err) {
        finish(err ? "0.0.0.0" : W.getAPIP().ip);
      });
    } catch (e) {
      finish("0.0.0.0");
    }
  };
  attempt();
}

export function stopAP(): void {
  stations = 0;
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
