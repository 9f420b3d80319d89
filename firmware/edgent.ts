// The device's state machine: Blynk.Edgent's flow (reference states and log lines), made
// event-driven, with test-before-commit provisioning and a portal that never strands a device.
import { State, stateName, LastError } from "./core/state";
import { log, maskToken } from "./core/log";
import { Config, Flag, Store, Files, loadConfig, saveConfig, eraseConfig, rememberNetwork, factoryToken } from "./core/config";
import { deviceName, chipIdKey, hostName } from "./core/device-name";
import { Fields, jsonString } from "./ap-portal/form";
import { parseConfigRequest, Pending } from "./ap-portal/config-request";
import { openPortal, Ask, PortalApp } from "./ap-portal/portal";
import * as wifi from "./wifi/wifi";
import { Join } from "./wifi/wifi";
import { startCloud, Cloud } from "./cloud/client";
import { parseCommand } from "./cloud/console";
import { startIndicator, Indicator } from "./indicator";
import { now, macBytes, reboot, fileRead, fileWrite, fileErase, hasTls, memoryUsage, telnetConsole, pinFunctions } from "./platform/espruino";

const NET_TIMEOUT = 30000; // per join attempt (ESPHome/Tasmota use 30 s; Edgent 50 s)
const CLOUD_TEST_TIMEOUT = 30000; // first login while testing a new config
const AP_GRACE = 10000; // portal stays after a tested setup so the phone gets its answer
const OFFLINE_PORTAL_AFTER = 300000; // provisioned but offline this long: open the portal too
const RETRY_MIN = 5000;
const RETRY_MAX = 60000;
const ERROR_REBOOT = 10000; // Edgent enterError(): reboot after 10 s unless the button is held
// A scan makes the AP hop channels and holds every asking socket until it ends: within this time
// of the last one, /wifi_scan.json answers at once with its list (WiFiManager caches scans 30 s).
const SCAN_REUSE = 10000;

const files: Files = { read: fileRead, write: fileWrite, erase: fileErase };

var S = State.INIT;
var store: Store;
var name = "";
var factory = "";
var apIp = "0.0.0.0";
var apUp = false;
var stopPortal: (() => void) | undefined; // set while the HTTP portal and captive DNS run
var cloud: Cloud | undefined;
var ind: Indicator;
var pending: Pending | undefined; // config under test
var test = ""; // outcome words for /status.json
var testIp = "";
var testSsid = ""; // the network of the last test, kept after it ends so the outcome names it
var testTimer: any;
var provisionedDone = false; // a tested config was committed while this AP is up
var offlineSince = -1; // when a provisioned device last lost its network, -1 = online
var retryTimer: any;
var retryDelay = RETRY_MIN;
var graceTimer: any;
var scanJson = "";
var scanAt = 0; // when the last scan started

function cancel(t: any): undefined {
  if (t !== undefined) clearTimeout(t);
  return undefined;
}

function setState(s: State): void {
  if (s === S) return;
  log(stateName(S) + " => " + stateName(s));
  S = s;
  ind.setState(s);
}

function valid(): boolean {
  return (store.cfg.f & Flag.VALID) !== 0 && store.cfg.n.length > 0;
}

/** A copy whose fields may be set; its arrays are shared, so replace them, never edit them in place. */
function copyConfig(c: Config): Config {
  var n: any = {};
  for (var k in c) n[k] = (c as any)[k];
  return n;
}

function persist(c: Config): void {
  try {
    if (saveConfig(files, store, c)) log("Configuration stored to flash");
  } catch (e) {
    log("Config write failed: " + e);
  }
}

/** Edgent's config_set_last_error(), except that a provisioned config is kept, not reset. */
function lastError(code: number): void {
  if (code) log("Last error code: " + code);
  var c = copyConfig(store.cfg);
  c.e = code;
  persist(c);
}

// ---------------- portal ----------------

function enterPortal(): void {
  stopCloud();
  setState(State.WAIT_CONFIG);
  if (apUp) return;
  wifi.startAP(name, __BUILD__.setupCode, function (ip) {
    apIp = ip;
    if (ip === "0.0.0.0") {
      lastError(LastError.INTERNAL);
      return enterError();
    }
    apUp = true;
    provisionedDone = false;
    log("AP SSID: " + name);
    log("AP IP:   " + ip);
    log("AP URL:  blynk.setup");
    stopPortal = openPortal(portalApp(), ip, __BUILD__.setupCode);
  });
}

function leavePortal(): void {
  graceTimer = cancel(graceTimer);
  if (stopPortal) stopPortal();
  stopPortal = undefined;
  scanJson = "";
  if (apUp) wifi.stopAP();
  apUp = false;
}

function enterError(): void {
  setState(State.ERROR);
  var wait = function () {
    if (ind.heldMs() > 0) return setTimeout(wait, 1000);
    log("Restarting after error.");
    setTimeout(reboot, 10);
  };
  setTimeout(wait, ERROR_REBOOT);
}

function statusJson(): string {
  var ssid = testSsid || (store.cfg.n.length ? store.cfg.n[0].s : "");
  return '{"state":"' + stateName(S) + '","last_error":' + store.cfg.e + ',"test":"' + test + '","ssid":' + jsonString(ssid) + ',"ip":"' + (testIp || (wifi.isUp() ? wifi.ip() : "")) + '","cloud":' + !!(cloud && cloud.online()) + "}";
}

/** The portal's questions answered; made when the portal opens and freed with it (RAM). */
function portalApp(): PortalApp {
  function boardInfo(): string {
    return (
      '{"board":' + jsonString(__BUILD__.tmplName) + ',"tmpl_id":' + jsonString(__BUILD__.tmplId) + ',"fw_type":' + jsonString(__BUILD__.tmplId) +
      ',"fw_ver":' + jsonString(__BUILD__.fwVer) + ',"ssid":' + jsonString(name) + ',"bssid":"' + wifi.apMac() + '","mac":"' + wifi.staMac() +
      '","last_error":' + store.cfg.e + ',"wifi_scan":true,"static_ip":true,"preprovisioned":' + (factory && !store.cfg.t ? "true" : "false") + "}"
    );
  }

  return function (ask: Ask, arg?: any): any {
    if (ask === Ask.INFO) {
      if (S === State.WAIT_CONFIG) {
        setState(State.CONFIGURING); // "Configuring starts with board info request"
        log("Sending board info...");
      }
      return boardInfo();
    }
    if (ask === Ask.STATUS) return statusJson();
    if (ask === Ask.SUBMIT) return configure(arg);
    if (ask === Ask.RESET) setTimeout(resetConfig, 100);
    if (ask === Ask.REBOOT) setTimeout(reboot, 500);
    if (ask === Ask.ONLINE) return provisionedDone;
    if (ask === Ask.CACHED_SCAN) return scanJson;
    if (ask === Ask.JOINED) return wifi.isUp();
    if (ask === Ask.SCAN) {
      if (scanJson && now() - scanAt < SCAN_REUSE) return arg(scanJson);
      scanAt = now();
      log("Scanning networks...");
      wifi.scan(function (aps) {
        log("Found networks: " + aps.length);
        var s = "[\n";
        for (var i = 0; i < aps.length; i++) {
          var a = aps[i];
          s += (i ? ",\n" : "") + '  {"ssid":' + jsonString(a.ssid) + ',"bssid":"' + a.bssid + '","rssi":' + a.rssi + ',"sec":"' + a.sec + '","ch":' + a.ch + ',"hidden":' + a.hidden + "}";
        }
        scanJson = aps.length ? s + "\n]" : "[]";
        arg(scanJson);
      });
    }
  };
}

function onStations(count: number): void {
  if (count === 0 && S === State.CONFIGURING) setState(State.WAIT_CONFIG);
}

// ---------------- provisioning: test before commit ----------------

/** Applies a /config request (or edgent.connect): "" when accepted, else the reason. */
function configure(f: Fields): string {
  var r = parseConfigRequest(f, factory);
  if (typeof r === "string") {
    log("Configuration invalid: " + r);
    return r;
  }
  log("Applying configuration...");
  log("WiFi SSID: " + r.c.n[0].s); // never the password
  log("Blynk cloud: " + maskToken(r.c.t) + " @ " + r.c.h + ":" + (r.c.q || r.c.p));
  if (r.save) commit(r.c, false); // Edgent's save=1: stored before the test, device keeps retrying
  pending = r;
  test = "connecting";
  testSsid = r.c.n[0].s;
  setTimeout(startTest, 50); // let the HTTP reply go out first
  return "";
}

function startTest(): void {
  if (!pending) return;
  stopCloud();
  retryTimer = cancel(retryTimer);
  testTimer = cancel(testTimer);
  testIp = "";
  test = "connecting";
  setState(State.CONNECTING_NET);
  var c = pending.c;
  log("Connecting to WiFi: " + c.n[0].s);
  wifi.join(c.n[0].s, c.n[0].p, NET_TIMEOUT, c.i, function (r, ip) {
    if (!pending) return;
    if (r !== Join.OK) {
      test = ["", "wrong_password", "not_found", "no_dhcp", "wifi_failed"][r];
      return testFailed(LastError.NETWORK);
    }
    testIp = ip;
    test = "cloud";
    scanJson = ""; // up to 1.5 KB of RAM: the cloud login needs the room more than the form needs the list
    log((c.i[0] ? "Using Static IP: " : "Using Dynamic IP: ") + ip);
    setState(State.CONNECTING_CLOUD);
    testTimer = setTimeout(function () {
      testTimer = undefined;
      test = "cloud_unreachable";
      log("Timeout");
      testFailed(LastError.CLOUD);
    }, CLOUD_TEST_TIMEOUT);
    startCloudWith(c);
  });
}

function testFailed(code: number): void {
  testTimer = cancel(testTimer);
  pending = undefined;
  stopCloud();
  wifi.disconnect();
  lastError(code);
  enterPortal();
  if (valid()) scheduleRetry(); // a provisioned device keeps trying its saved networks
}

function commit(c: Config, metaSent: boolean): void {
  var n = copyConfig(c);
  n.n = rememberNetwork(store.cfg.n, c.n[0]);
  n.f = c.f | Flag.VALID | (metaSent ? Flag.META_SENT : 0);
  n.e = 0;
  persist(n);
}

// ---------------- provisioned operation ----------------

function connectNet(): void {
  retryTimer = cancel(retryTimer);
  if (pending) return;
  setState(State.CONNECTING_NET);
  var nets = store.cfg.n;
  var order = function (aps: wifi.ScanEntry[]) {
    // strongest known network first, then the ones not seen in the scan, in saved order
    var list: number[] = [];
    for (var i = 0; i < aps.length; i++) for (var j = 0; j < nets.length; j++) if (aps[i].ssid === nets[j].s && list.indexOf(j) < 0) list.push(j);
    for (var k = 0; k < nets.length; k++) if (list.indexOf(k) < 0) list.push(k);
    tryNet(list, 0);
  };
  if (nets.length > 1) wifi.scan(order);
  else order([]);
}

function tryNet(list: number[], i: number): void {
  if (pending) return;
  if (i >= list.length) return scheduleRetry();
  var net = store.cfg.n[list[i]];
  log("Connecting to WiFi: " + net.s);
  wifi.join(net.s, net.p, NET_TIMEOUT, store.cfg.i, function (r, ip) {
    if (pending) return;
    if (r !== Join.OK) return tryNet(list, i + 1);
    log((store.cfg.i[0] ? "Using Static IP: " : "Using Dynamic IP: ") + ip);
    retryDelay = RETRY_MIN;
    offlineSince = -1;
    if (apUp && !graceTimer && (S === State.CONNECTING_NET || S === State.WAIT_CONFIG || S === State.CONFIGURING)) leavePortal();
    setState(State.CONNECTING_CLOUD);
    startCloudWith(store.cfg);
  });
}

function scheduleRetry(): void {
  if (offlineSince < 0) offlineSince = now();
  if (!apUp && now() - offlineSince >= OFFLINE_PORTAL_AFTER) {
    log("Offline for 5 minutes: opening the setup portal, still retrying");
    enterPortal();
  }
  retryTimer = cancel(retryTimer);
  retryTimer = setTimeout(connectNet, retryDelay);
  retryDelay = Math.min(retryDelay * 2, RETRY_MAX);
  if (!apUp) setState(State.CONNECTING_NET);
}

function onWifiLost(): void {
  log("WiFi connection lost");
  stopCloud();
  if (pending) return;
  if (valid()) {
    offlineSince = now();
    connectNet();
  }
}

function startCloudWith(c: Config): void {
  stopCloud();
  var tls = hasTls() && c.q > 0;
  cloud = startCloud({
    token: c.t,
    host: c.h,
    port: tls ? c.q : c.p,
    tls: tls,
    info: { fwVer: __BUILD__.fwVer, build: __BUILD__.build, dev: __BUILD__.dev, tmpl: __BUILD__.tmplId },
    log: log,
    onLogin: onLogin,
    onOffline: function () {
      if (S === State.RUNNING) setState(State.CONNECTING_CLOUD);
    },
    onCommand: command,
    pins: pinFunctions,
    own: __BUILD__.ownPins,
  });
}

function stopCloud(): void {
  if (cloud) cloud.close();
  cloud = undefined;
}

function onLogin(status: number): void {
  if (status === 200 || status === 4) {
    // "Hotspot Name" goes to the cloud once after provisioning. The flag is stored with the config
    // once the frame went into the socket, so a session that ends before sends it at the next login.
    var token = pending ? pending.c.t : store.cfg.t;
    var sent = (store.cfg.f & Flag.META_SENT) !== 0 && store.cfg.t === token;
    if (pending) {
      testTimer = cancel(testTimer);
      commit(pending.c, sent);
      pending = undefined;
      test = "online";
      provisionedDone = true;
      graceTimer = setTimeout(function () {
        graceTimer = undefined;
        leavePortal();
      }, AP_GRACE);
    } else if (apUp && !graceTimer) leavePortal();
    // after commit(): the flag goes onto the config this session logged in with
    if (!sent && cloud)
      cloud.setMetadata("Hotspot Name", name, function () {
        if (!valid() || store.cfg.t !== token) return;
        var c = copyConfig(store.cfg);
        c.f |= Flag.META_SENT;
        persist(c);
      });
    setState(State.RUNNING);
  } else if (status === 9) {
    if (pending) {
      test = "token_rejected";
      testFailed(LastError.TOKEN);
    } else {
      // The device was deleted in the console: back to the portal so it can be re-provisioned,
      // off the home network (as Edgent does), where nobody could reach the portal.
      stopCloud();
      wifi.disconnect();
      lastError(LastError.TOKEN);
      enterPortal();
    }
  }
}

// ---------------- commands (REPL, cloud "dbg") ----------------

function resetConfig(): void {
  setState(State.RESET_CONFIG);
  log("Resetting configuration!");
  pending = undefined;
  testTimer = cancel(testTimer);
  retryTimer = cancel(retryTimer);
  test = testSsid = testIp = "";
  stopCloud();
  wifi.disconnect();
  eraseConfig(files, store);
  enterPortal();
}

/** Edgent console commands ("config", "config start", "config erase", "reboot") from the REPL or the cloud. */
function command(line: string): string {
  var c = parseCommand(line);
  if (c === "reboot") {
    setTimeout(reboot, 100);
    return "Rebooting";
  }
  if (c === "config erase") {
    setTimeout(resetConfig, 10);
    return "Erasing configuration";
  }
  if (c === "config start") {
    setTimeout(function () {
      pending = undefined;
      retryTimer = cancel(retryTimer);
      wifi.disconnect();
      enterPortal();
    }, 10);
    return "Starting the setup portal (configuration kept)";
  }
  return "Unknown command; use config, config start, config erase or reboot";
}

// ---------------- boot ----------------

export function bootEdgent(): any {
  log("Blynk Edgent for Espruino " + __BUILD__.fwVer + " on " + __BUILD__.board + " (build " + __BUILD__.build + ")");
  telnetConsole(__BUILD__.telnet);
  if (__BUILD__.telnet) log("Telnet console on port 23 is open to the network (EDGENT_TELNET=on)");
  ind = startIndicator(function () {
    resetConfig();
  }, log);
  wifi.wifiInit(onWifiLost, onStations);
  store = loadConfig(files);
  factory = factoryToken(files);
  name = deviceName("Blynk", __BUILD__.tmplName, chipIdKey(macBytes(), __BUILD__.chip === "ESP32"));
  wifi.setHostname(hostName(name));
  log("Device: " + name);
  log("Token:  " + maskToken(store.cfg.t || factory));
  if (valid()) {
    wifi.stopAP(); // the ESP8266 SDK may bring back an access point it persisted itself
    connectNet();
  } else {
    if (factory) log("Firmware is preprovisioned");
    enterPortal();
  }
  return {
    status: function () {
      var s = JSON.parse(statusJson());
      s.name = name;
      s.memory = memoryUsage();
      return s;
    },
    connect: function (token: string, ssid: string, pass: string) {
      return configure({ blynk: token || "", ssid: ssid || "", pass: pass || "" }) || "Trying to connect...";
    },
    reset: function () {
      return command("config erase");
    },
    config: function (what: string) {
      return command("config " + (what || "start"));
    },
    reboot: function () {
      return command("reboot");
    },
    qa: function () {
      ind.qa();
    },
    led: ind.led,
  };
}
