// The device's state machine: Blynk.Edgent's flow (reference states and log lines), made
// event-driven, with test-before-commit provisioning and a portal that never strands a device.
//
// One explicit state (K.s) with its entry time (`at`), one timer, and tick(): the step function.
// Events (a WiFi join's result, a login's status, a command) change the state through go() and
// call tick(), which does whatever is due in the current state (named limits checked as
// `now - since >= LIMIT`), opens or closes the phases the state calls for, and arms the one timer
// for the next deadline. The phases, each loaded from its own module and closed as a whole:
//   portal - access point, HTTP and DNS (module "portal"), up while the state is WAIT_CONFIG or
//            CONFIGURING, while a new configuration is tested, and AP_GRACE after it passed;
//   test   - a configuration under test (T): join its network, then log in with its token;
//   reconnect - a provisioned device joining its saved networks, strongest first, with back-off;
//   link   - the cloud session (module "blynk"), from the join until the device goes offline.
//
//   from                      event                                   to
//   INIT                      boot with a tested configuration        CONNECTING_NET (reconnect)
//   INIT                      boot without                            WAIT_CONFIG
//   WAIT_CONFIG               GET /board_info.json                    CONFIGURING
//   CONFIGURING               the last phone left the access point    WAIT_CONFIG
//   WAIT_CONFIG, CONFIGURING  valid /config (or edgent.connect)       CONNECTING_NET (test)
//   CONNECTING_NET (test)     joined                                  CONNECTING_CLOUD (test)
//   CONNECTING_NET (test)     join failed                             WAIT_CONFIG, last_error 701
//   CONNECTING_CLOUD (test)   logged in                               RUNNING (stored; portal for AP_GRACE)
//   CONNECTING_CLOUD (test)   token rejected / CLOUD_TEST_TIMEOUT     WAIT_CONFIG, 703 / 702
//   CONNECTING_NET            joined a saved network                  CONNECTING_CLOUD
//   CONNECTING_NET            every saved network failed              CONNECTING_NET, retry in 5..60 s;
//                                                                     WAIT_CONFIG too after 5 min offline
//   WAIT_CONFIG, CONFIGURING  (provisioned) joined a saved network    CONNECTING_CLOUD
//   CONNECTING_CLOUD          logged in                               RUNNING
//   RUNNING                   session lost (the link reconnects)      CONNECTING_CLOUD
//   CONNECTING_CLOUD, RUNNING WiFi lost                               CONNECTING_NET (reconnect)
//   CONNECTING_CLOUD, RUNNING token rejected                          WAIT_CONFIG, 703, off the network
//   WAIT_CONFIG (provisioned) "config start", CONFIG_IDLE_LIMIT
//                             without a phone                         CONNECTING_NET (reconnect)
//   any                       10 s button hold, "config erase", /reset RESET_CONFIG -> WAIT_CONFIG
//   any                       "config start"                          WAIT_CONFIG (configuration kept)
//   WAIT_CONFIG               access point failed                     ERROR, last_error 704
//   ERROR                     ERROR_REBOOT, button not held           restart
//   any                       "reboot", /reboot                       restart
import { State, stateName, LastError } from "./core/state";
import { log, maskToken } from "./core/log";
import { Config, Flag, Store, Files, loadConfig, eraseConfig, factoryToken, storeTested, storeLastError, storeMetaSent } from "./core/config";
import { deviceName, chipIdKey, hostName } from "./core/device-name";
import type { Pending } from "./ap-portal/config-request";
import { Kernel, Ev, Phase } from "./kernel";
import * as wifi from "./wifi/wifi";
import { Join } from "./wifi/wifi";
import type { Cloud } from "./cloud/session";
import { apiLink, apiWrite } from "./cloud/api";
import { parseCommand } from "./cloud/console";
import { startIndicator, Indicator } from "./indicator";
import { now, macBytes, reboot, fileRead, fileWrite, fileErase, hasTls, memoryUsage, telnetConsole, pinFunctions, collectGarbage } from "./platform/espruino";

const NET_TIMEOUT = 30000; // per join attempt (ESPHome/Tasmota use 30 s; Edgent 50 s)
const CLOUD_TEST_TIMEOUT = 30000; // first login while testing a new config
const AP_GRACE = 10000; // portal stays after a tested setup so the phone gets its answer
const OFFLINE_PORTAL_AFTER = 300000; // provisioned but offline this long: open the portal too
const CONFIG_IDLE_LIMIT = 600000; // a provisioned device's portal with no phone this long: back online
const RETRY_MIN = 5000;
const RETRY_MAX = 60000;
const ERROR_REBOOT = 10000; // Edgent enterError(): reboot after 10 s unless the button is held

/** Actions run from the timer, so the HTTP reply or REPL answer that asked for them goes out first. */
const enum Later {
  NONE,
  TEST,
  START, // "config start"
  ERASE, // "config erase", /reset, the button
  REBOOT,
}

const files: Files = { read: fileRead, write: fileWrite, erase: fileErase };

var K: Kernel;
var store: Store;
var ind: Indicator;
var image = "";
var modules = "";
var at = 0; // when K.s was entered
var tm: any; // the machine's one timer
var P: Phase | undefined; // portal
var ap = 0; // access point: 0 off, 1 starting, 2 up
var L: Cloud | undefined; // cloud link
var T: Pending | undefined; // configuration under test
var nets: number[] | undefined; // reconnect: saved networks in the order to try them
var ni = 0; // the one being tried
var R = 0; // 1: the reconnect phase may run (a provisioned device that was not told to stop)
var retryAt = -1;
var retryDelay = RETRY_MIN;
var graceUntil = -1;
var offlineSince = -1;
var idleSince = -1; // a provisioned device's portal: since when no phone has been connected
var later = Later.NONE;
var laterAt = 0;

var loaded: string[] = []; // modules of the image that are loaded now

/** The exports of a module of the running image, evaluated from its slice of flash on first use. */
function loadModule(name: string): any {
  if (loaded.indexOf(name) < 0) {
    var m = modules.split(",");
    var i = m.indexOf(name);
    Modules.addCached("edgent." + name, fileRead(image, +m[i + 1], +m[i + 2]) as string);
    loaded.push(name);
  }
  return require("edgent." + name);
}

/** Forgets a module; its functions are freed by the garbage collection that follows. */
function dropModule(name: string): void {
  var i = loaded.indexOf(name);
  if (i < 0) return;
  loaded.splice(i, 1);
  Modules.removeCached("edgent." + name);
  collectGarbage();
}

function go(s: State): void {
  if (s === K.s) return;
  log(stateName(K.s) + " => " + stateName(s));
  K.s = s;
  at = now();
  ind.setState(s);
}

function valid(): boolean {
  return (store.cfg.f & Flag.VALID) !== 0 && store.cfg.n.length > 0;
}

/** Writes the config (store* of core/config) and says what was stored; a full flash is logged. */
function persist(what: string, write: () => boolean): void {
  try {
    if (write()) log(what);
  } catch (e) {
    log("Config write failed: " + e);
  }
  K.c = store.cfg;
}

function lastError(code: LastError): void {
  log("Last error code: " + code);
  persist("Last error " + code + " stored to flash (configuration kept)", function () {
    return storeLastError(files, store, code);
  });
}

function portalWanted(): boolean {
  return K.s === State.WAIT_CONFIG || K.s === State.CONFIGURING || !!T || graceUntil >= 0;
}

/** Opens or closes the portal as the state calls for. */
function syncPortal(): void {
  if (portalWanted()) {
    if (ap) return;
    ap = 1;
    K.o = 0;
    wifi.startAP(K.n, __BUILD__.setupCode, onAp);
  } else if (ap) {
    if (P) P.close();
    P = undefined;
    dropModule("portal");
    wifi.stopAP();
    ap = 0;
  }
}

function onAp(ip: string): void {
  K.a = ip;
  if (ip === "0.0.0.0") {
    ap = 0;
    lastError(LastError.INTERNAL);
    go(State.ERROR);
    return tick();
  }
  ap = 2;
  log("AP SSID: " + K.n);
  log("AP IP:   " + ip);
  log("AP URL:  blynk.setup");
  P = loadModule("portal").open(K);
  tick(); // the state may have moved on while the access point started
}

/** The step function: does what is due in the current state, then arms the timer for the next deadline. */
function tick(): void {
  if (tm !== undefined) clearTimeout(tm);
  tm = undefined;
  var t = now();
  if (later && t >= laterAt) {
    var l = later;
    later = Later.NONE;
    if (l === Later.TEST) startTest();
    else if (l === Later.START) startPortal();
    else if (l === Later.ERASE) resetConfig();
    else return reboot();
  }
  if (K.s === State.ERROR && t - at >= ERROR_REBOOT) {
    if (ind.heldMs() > 0) at = t - ERROR_REBOOT + 1000; // again in 1 s
    else {
      log("Restarting after error.");
      return reboot();
    }
  }
  if (T && K.s === State.CONNECTING_CLOUD && t - at >= CLOUD_TEST_TIMEOUT) {
    K.t = "cloud_unreachable";
    log("Timeout");
    testFailed(LastError.CLOUD);
  }
  if (graceUntil >= 0 && t >= graceUntil) graceUntil = -1;
  if (idleSince >= 0 && t - idleSince >= CONFIG_IDLE_LIMIT && K.s === State.WAIT_CONFIG && R === 0 && valid() && !T) {
    log("No phone on the setup network for 10 minutes: back to the saved networks");
    idleSince = -1;
    R = 1;
    connectNet();
  }
  if (retryAt >= 0 && t >= retryAt) {
    retryAt = -1;
    connectNet();
  }
  syncPortal();
  // the next deadline
  var d = -1;
  var due = function (x: number) {
    if (x >= 0 && (d < 0 || x < d)) d = x;
  };
  if (later) due(laterAt);
  if (K.s === State.ERROR) due(at + ERROR_REBOOT);
  if (T && K.s === State.CONNECTING_CLOUD) due(at + CLOUD_TEST_TIMEOUT);
  due(graceUntil);
  due(retryAt);
  if (idleSince >= 0 && R === 0) due(idleSince + CONFIG_IDLE_LIMIT);
  if (d >= 0) tm = setTimeout(tick, d > t ? d - t : 0);
}

function defer(what: Later, ms: number): void {
  if (what < later) return; // a restart beats an erase beats "config start" beats a test
  later = what;
  laterAt = now() + ms;
  tick();
}

// ---------------- provisioning: test before commit ----------------

/** Applies a validated /config (or edgent.connect): the test starts once the reply is out. */
function submit(p: Pending): string {
  log("Applying configuration...");
  log("WiFi SSID: " + p.c.n[0].s); // never the password
  log("Blynk cloud: " + maskToken(p.c.t) + " @ " + p.c.h + ":" + (p.c.q || p.c.p) + (p.c.q ? "" : " (plain TCP)"));
  if (p.save)
    persist("Configuration stored to flash (save=1: before its test)", function () {
      return storeTested(files, store, p.c, false);
    });
  T = p;
  K.t = "connecting";
  K.ts = p.c.n[0].s;
  K.ti = "";
  defer(Later.TEST, 50);
  return "";
}

function startTest(): void {
  if (!T) return;
  stopLink();
  stopReconnect();
  K.t = "connecting";
  go(State.CONNECTING_NET);
  log("Connecting to WiFi: " + T.c.n[0].s);
  wifi.join(T.c.n[0].s, T.c.n[0].p, NET_TIMEOUT, T.c.i, onJoin);
}

function testFailed(code: LastError): void {
  T = undefined;
  stopLink();
  wifi.disconnect();
  lastError(code);
  go(State.WAIT_CONFIG);
  idleSince = -1;
  if (R && valid()) scheduleRetry(); // a provisioned device keeps trying its saved networks
}

// ---------------- provisioned operation ----------------

function connectNet(): void {
  retryAt = -1;
  if (T || !R || !valid()) return;
  if (K.s !== State.WAIT_CONFIG && K.s !== State.CONFIGURING) go(State.CONNECTING_NET);
  var saved = store.cfg.n;
  nets = [];
  ni = 0;
  if (saved.length < 2) {
    nets.push(0);
    return tryNet();
  }
  wifi.scan(function (list) {
    if (!nets || T) return;
    // strongest known network first, then the ones not seen in the scan, in saved order
    var seen = wifi.scanSsids(list);
    for (var i = 0; i < seen.length; i++) for (var j = 0; j < saved.length; j++) if (seen[i] === saved[j].s && nets.indexOf(j) < 0) nets.push(j);
    for (var k = 0; k < saved.length; k++) if (nets.indexOf(k) < 0) nets.push(k);
    tryNet();
  });
}

function tryNet(): void {
  if (!nets) return;
  if (ni >= nets.length) {
    nets = undefined;
    return scheduleRetry();
  }
  var net = store.cfg.n[nets[ni]];
  log("Connecting to WiFi: " + net.s);
  wifi.join(net.s, net.p, NET_TIMEOUT, store.cfg.i, onJoin);
}

function scheduleRetry(): void {
  var t = now();
  if (offlineSince < 0) offlineSince = t;
  if (K.s !== State.WAIT_CONFIG && K.s !== State.CONFIGURING && t - offlineSince >= OFFLINE_PORTAL_AFTER) {
    log("Offline for 5 minutes: opening the setup portal, still retrying");
    go(State.WAIT_CONFIG);
  }
  retryAt = t + retryDelay;
  retryDelay = Math.min(retryDelay * 2, RETRY_MAX);
  tick();
}

function stopReconnect(): void {
  if (nets) wifi.cancelJoin();
  nets = undefined;
  retryAt = -1;
}

/** A join's outcome, for the test or for the reconnect phase. */
function onJoin(r: Join, ip: string): void {
  var c: Config;
  if (T) {
    if (r !== Join.OK) {
      K.t = ["", "wrong_password", "not_found", "no_dhcp", "wifi_failed"][r];
      return testFailed(LastError.NETWORK);
    }
    K.ti = ip;
    K.t = "cloud";
    if (P && P.shed) P.shed(); // the cloud login needs the room more than the form needs the scan list
    c = T.c;
  } else if (nets) {
    if (r !== Join.OK) {
      ni++;
      return tryNet();
    }
    nets = undefined;
    retryDelay = RETRY_MIN;
    offlineSince = -1;
    idleSince = -1;
    c = store.cfg;
    if (K.s === State.WAIT_CONFIG || K.s === State.CONFIGURING) log("Joined a saved network: closing the setup portal");
  } else return;
  log((c.i[0] ? "Using Static IP: " : "Using Dynamic IP: ") + ip);
  go(State.CONNECTING_CLOUD);
  startLink(c);
  tick();
}

function onWifiLost(): void {
  log("WiFi connection lost");
  stopLink();
  if (T || !R || !valid()) return tick();
  offlineSince = now();
  connectNet();
  tick();
}

function onStations(count: number): void {
  if (count === 0 && K.s === State.CONFIGURING) go(State.WAIT_CONFIG);
  idleSince = count ? -1 : now();
  tick();
}

// ---------------- the cloud link ----------------

function startLink(c: Config): void {
  stopLink();
  var tls = hasTls() && c.q > 0;
  L = loadModule("blynk").open({
    token: c.t,
    host: c.h,
    port: tls ? c.q : c.p,
    tls: tls,
    info: { fwVer: __BUILD__.fwVer, build: __BUILD__.build, dev: __BUILD__.dev, tmpl: __BUILD__.tmplId },
    log: log,
    onLogin: onLogin,
    onOffline: onOffline,
    onCommand: command,
    link: apiLink,
    write: apiWrite,
    pins: pinFunctions,
    own: __BUILD__.ownPins,
    now: now,
  });
}

function stopLink(): void {
  if (L) L.close();
  L = undefined;
  dropModule("blynk");
}

function onOffline(): void {
  if (K.s === State.RUNNING) go(State.CONNECTING_CLOUD);
}

function onLogin(status: number): void {
  if (status === 200 || status === 4) {
    // "Hotspot Name" goes to the cloud once after provisioning. The flag is stored with the config
    // once the frame went into the socket, so a session that ends before sends it at the next login.
    var token = T ? T.c.t : store.cfg.t;
    var sent = (store.cfg.f & Flag.META_SENT) !== 0 && store.cfg.t === token;
    if (T) {
      var c = T.c;
      T = undefined;
      persist("Configuration stored to flash", function () {
        return storeTested(files, store, c, sent);
      });
      K.t = "online";
      K.o = 1;
      R = 1;
      graceUntil = now() + AP_GRACE;
    }
    if (!sent && L)
      L.setMetadata("Hotspot Name", K.n, function () {
        if (valid() && store.cfg.t === token)
          persist("Hotspot Name reported", function () {
            return storeMetaSent(files, store);
          });
      });
    go(State.RUNNING);
  } else if (status === 9) {
    if (T) {
      K.t = "token_rejected";
      testFailed(LastError.TOKEN);
    } else {
      // The device was deleted in the console: back to the portal so it can be re-provisioned,
      // off the home network (as Edgent does), where nobody could reach the portal.
      stopLink();
      wifi.disconnect();
      R = 0;
      lastError(LastError.TOKEN);
      go(State.WAIT_CONFIG);
    }
  }
  tick();
}

// ---------------- commands (REPL, cloud "dbg", portal, button) ----------------

/** Leaves whatever runs and opens the portal; the configuration stays (Edgent "config start"). */
function startPortal(): void {
  T = undefined;
  stopLink();
  stopReconnect();
  R = 0;
  graceUntil = -1;
  wifi.disconnect();
  go(State.WAIT_CONFIG);
  idleSince = now();
}

function resetConfig(): void {
  go(State.RESET_CONFIG);
  log("Resetting configuration!");
  startPortal();
  K.t = K.ts = K.ti = "";
  eraseConfig(files, store);
  K.c = store.cfg;
  idleSince = -1;
  tick();
}

/** Edgent console commands ("config", "config start", "config erase", "reboot") from the REPL or the cloud. */
function command(line: string): string {
  var c = parseCommand(line);
  if (c === "reboot") {
    defer(Later.REBOOT, 100);
    return "Rebooting";
  }
  if (c === "config erase") {
    defer(Later.ERASE, 10);
    return "Erasing configuration";
  }
  if (c === "config start") {
    defer(Later.START, 10);
    return "Starting the setup portal (configuration kept)";
  }
  return "Unknown command; use config, config start, config erase or reboot";
}

/** Requests from the phases (the portal). */
function request(e: Ev, a?: any): any {
  if (e === Ev.INFO && K.s === State.WAIT_CONFIG) {
    go(State.CONFIGURING); // "Configuring starts with board info request"
    log("Sending board info...");
  }
  if (e === Ev.SUBMIT) return submit(a);
  if (e === Ev.RESET) defer(Later.ERASE, 100);
  if (e === Ev.REBOOT) defer(Later.REBOOT, 500);
  if (e === Ev.SCAN) wifi.scan(a);
  if (e === Ev.JOINED) return wifi.isUp();
}

// ---------------- boot ----------------

/** Starts the device; `img` and `mods` say where the other modules are (scripts/image.js). */
export function bootEdgent(img: string, mods: string): any {
  image = img;
  modules = mods;
  log("Blynk Edgent for Espruino " + __BUILD__.fwVer + " on " + __BUILD__.board + " (build " + __BUILD__.build + ")");
  telnetConsole(__BUILD__.telnet);
  if (__BUILD__.telnet) log("Telnet console on port 23 is open to the network (EDGENT_TELNET=on)");
  store = loadConfig(files);
  K = { s: State.INIT, n: "", a: "", c: store.cfg, f: factoryToken(files), t: "", ts: "", ti: "", o: 0, now: now, log: log, ev: request };
  ind = startIndicator(function () {
    defer(Later.ERASE, 0);
  }, log);
  wifi.wifiInit(onWifiLost, onStations);
  K.n = deviceName("Blynk", __BUILD__.tmplName, chipIdKey(macBytes(), __BUILD__.chip === "ESP32"));
  wifi.setHostname(hostName(K.n));
  log("Device: " + K.n);
  log("Token:  " + maskToken(store.cfg.t || K.f));
  if (valid()) {
    R = 1;
    wifi.stopAP(); // the ESP8266 SDK may bring back an access point it persisted itself
    connectNet();
  } else {
    if (K.f) log("Firmware is preprovisioned");
    go(State.WAIT_CONFIG);
  }
  tick();
  return {
    status: function () {
      var ssid = K.ts || (store.cfg.n.length ? store.cfg.n[0].s : "");
      return {
        state: stateName(K.s), last_error: store.cfg.e, test: K.t, ssid: ssid,
        ip: K.ti || (wifi.isUp() ? wifi.ip() : ""), cloud: !!(L && L.online()), name: K.n, memory: memoryUsage(),
      };
    },
    connect: function (token: string, ssid: string, pass: string) {
      var p = loadModule("portal").check({ blynk: token || "", ssid: ssid || "", pass: pass || "" }, K.f);
      if (!P) dropModule("portal");
      if (typeof p === "string") {
        log("Configuration invalid: " + p);
        return p;
      }
      return submit(p) || "Trying to connect...";
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
