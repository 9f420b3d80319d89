// The device's state machine: Blynk.Edgent's flow (reference states and log lines), made
// event-driven, with test-before-commit provisioning and a portal that never strands a device.
//
// One explicit state (K.s) with its entry time (`at`), one timer, and one step function, step(ev):
// every event (a WiFi join's outcome, a login's status, a portal request, a command, the timer)
// goes through it. It handles the event, does whatever is due in the current state (named limits
// checked as `now - since >= LIMIT`), opens or closes the portal as the state calls for, and arms
// the one timer for the next deadline. (One function on purpose: Espruino charges every function
// object 5-9 JsVars for as long as it exists.) The phases, each closed as a whole:
//   portal    - access point, HTTP and DNS (module "portal"), up while the state is WAIT_CONFIG or
//               CONFIGURING, while a new configuration is tested, and AP_GRACE after it passed;
//   test      - a configuration under test (T): join its network, then log in with its token;
//   reconnect - a provisioned device joining its saved networks, strongest first, with back-off;
//   link      - the cloud session, from a join until the network is lost: module "blynk" (the Blynk
//               protocol) or, when the configuration says MQTT (Flag.MQTT), module "mqtt" (Blynk's
//               MQTT API, or a broker of the user's own); both report the same events.
//
//   from                      event                                   to
//   INIT                      boot with a tested configuration        CONNECTING_NET (reconnect)
//   INIT                      boot without                            WAIT_CONFIG
//   WAIT_CONFIG               GET /board_info.json or the page        CONFIGURING
//   CONFIGURING               the last phone left the access point    WAIT_CONFIG
//   WAIT_CONFIG, CONFIGURING  valid /config (or edgent.connect)       CONNECTING_NET (test)
//   CONNECTING_NET (test)     joined                                  CONNECTING_CLOUD (test)
//   CONNECTING_NET (test)     join failed                             WAIT_CONFIG, last_error 701
//   CONNECTING_CLOUD (test)   logged in, then COMMIT_DELAY            RUNNING (stored; portal for AP_GRACE)
//   CONNECTING_CLOUD (test)   token rejected / CLOUD_TEST_TIMEOUT     WAIT_CONFIG, 703 / 702
//                             (MQTT: the broker refused the credentials: 703, nothing stored)
//   CONNECTING_NET            joined a saved network                  CONNECTING_CLOUD
//   CONNECTING_NET            every saved network failed              CONNECTING_NET, retry in 5..60 s;
//                                                                     WAIT_CONFIG too after 5 min offline
//   WAIT_CONFIG, CONFIGURING  (provisioned) joined a saved network    CONNECTING_CLOUD
//   CONNECTING_CLOUD          logged in                               RUNNING
//   RUNNING                   session lost (the link reconnects)      CONNECTING_CLOUD
//   CONNECTING_CLOUD, RUNNING WiFi lost                               CONNECTING_NET (reconnect)
//   CONNECTING_CLOUD, RUNNING token rejected                          WAIT_CONFIG, 703, off the network
//   WAIT_CONFIG (provisioned) "config start", then CONFIG_IDLE_LIMIT
//                             without a phone on the access point     CONNECTING_NET (reconnect)
//   any                       10 s button hold, "config erase", /reset RESET_CONFIG -> WAIT_CONFIG
//   any                       "config start" (MQTT downlink/reconfigure) WAIT_CONFIG (configuration kept)
//   WAIT_CONFIG               access point failed                     ERROR, last_error 704
//   ERROR                     ERROR_REBOOT, button not held           restart
//   any                       "reboot", /reboot (MQTT downlink/reboot) restart
//   RUNNING                   Blynk.Air offers an update, then 2 s    OTA_UPGRADE (link closed; module "ota")
//   OTA_UPGRADE               new image stored and switched to        restart (on trial: firmware/boot/loader.ts)
//   OTA_UPGRADE               download or check failed                CONNECTING_CLOUD (reported once online)
import { State, stateName, LastError } from "./core/state";
import { log, maskToken } from "./core/log";
import { Config, Flag, Store, Update } from "./core/config";
import type { Pending } from "./ap-portal/config-request";
import { Kernel, Ev, Phase } from "./kernel";
import { wifi, wifiInit, Op, Join } from "./wifi/wifi";
import { scanSsids } from "./wifi/scan";
import type { Cloud } from "./cloud/session";
import { apiLink, apiWrite, cloudApi } from "./cloud/api";
import { parseCommand } from "./cloud/console";
import { startIndicator } from "./indicator";
import { setState as showState, heldMs } from "./led/indicator-core";
import { now, reboot, fileRead, hasTls, memory, pinFunctions } from "./platform/espruino";

const NET_TIMEOUT = 30000; // per join attempt (ESPHome/Tasmota use 30 s; Edgent 50 s)
const CLOUD_TEST_TIMEOUT = 30000; // first login while testing a new config
const AP_GRACE = 10000; // portal stays after a tested setup so the phone gets its answer
const OFFLINE_PORTAL_AFTER = 300000; // provisioned but offline this long: open the portal too
const CONFIG_IDLE_LIMIT = 600000; // a provisioned device's portal with no phone this long: back online
const RETRY_MIN = 5000;
const RETRY_MAX = 60000;
const ERROR_REBOOT = 10000; // Edgent enterError(): reboot after 10 s unless the button is held
const COMMIT_DELAY = 300; // after a tested login: the login's own frames have left the socket by then

/** Actions run from the timer, so the HTTP reply or REPL answer that asked for them goes out first. */
const enum Later {
  NONE,
  OTA, // an offered update: Edgent starts it 2 s after the offer
  TEST,
  START, // "config start"
  ERASE, // "config erase", /reset, the button
  REBOOT,
}

var K: Kernel;
var store: Store;
var image = "";
var modules = "";
var loaded: string[] = []; // modules of the image that are loaded now
var at = 0; // when K.s was entered
var tm: any; // the machine's one timer
var P: Phase | undefined; // portal (with its access point)
var L: Cloud | undefined; // cloud link (module "blynk" or "mqtt")
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
var commit: any[] | undefined; // [config, metaSent, when]: a tested configuration to store once its login's frames are out
var portalScan = 0; // the portal's first scan: 1 under way, 2 done (its list in K.l)
var U: any; // a firmware update: its URL while it waits to start, then its phase (module "ota")
var ota: any; // from the boot loader: the trial timer of a new image (> 0), 0 a report waits; undefined: nothing to settle at login

/** The exports of a module of the running image, evaluated from its slice of flash on first use. */
function loadModule(name: string): any {
  if (loaded.indexOf(name) < 0) {
    // "name,offset,length,..." read in place: splitting the table, or a copy of it, would cost RAM
    // at the moments a module is loaded, which are the tightest
    var at = -1;
    do at = modules.indexOf(name + ",", at + 1);
    while (at > 0 && modules.charAt(at - 1) !== ",");
    at += name.length + 1;
    var len = modules.indexOf(",", at) + 1;
    Modules.addCached("edgent." + name, fileRead(image, parseInt(modules.substr(at, 9), 10), parseInt(modules.substr(len, 9), 10)) as string);
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
  memory(); // collects the garbage
}

function go(s: State): void {
  if (s === K.s) return;
  log(stateName(K.s) + " => " + stateName(s));
  K.s = s;
  at = now();
  showState(s);
}

function valid(): boolean {
  return (store.cfg.f & Flag.VALID) !== 0 && store.cfg.n.length > 0;
}

/**
 * Writes the configuration through the "store" module (loaded for the write; core/config.ts
 * updateConfig); logs `what` when something was written, and a full flash.
 */
function persist(what: string, how: Update, a?: any, b?: any): void {
  try {
    if (loadModule("store").write(store, how, a, b)) log(what);
  } catch (e) {
    log("Config write failed: " + e);
  }
  dropModule("store");
  K.c = store.cfg;
}

/**
 * Ends a test, a link or an access point that failed: last_error stored, state `s` (the portal, or
 * ERROR). `retry`: a configuration under test failed, and a provisioned device keeps retrying its own.
 */
function fail(code: LastError, s: State, retry: number): void {
  T = undefined;
  if (L) L.close();
  L = undefined;
  dropModule("blynk");
  dropModule("mqtt"); // whichever the link was (a variable naming it would cost RAM for good)
  wifi(Op.DISCONNECT);
  log("Last error code: " + code);
  persist("Last error " + code + " stored to flash (configuration kept)", Update.LAST_ERROR, code);
  go(s);
  idleSince = -1;
  if (retry && R && valid()) reconnect(0); // nothing left to try: the back-off
}

/**
 * The cloud link for a configuration: module "blynk", or "mqtt" for a configuration with Flag.MQTT
 * (each link gets only its own options: they stay in RAM while it runs); its callbacks come back as
 * events.
 */
function startLink(c: Config): void {
  var m = c.f & Flag.MQTT;
  var tls = (m || hasTls()) && c.q > 0;
  var o: any = { token: c.t, host: c.h, port: tls ? c.q : c.p, tls: tls, log: log, ev: step, now: now };
  if (m) {
    o.user = c.u;
    o.pass = c.w;
    o.name = K.n;
    o.prefix = c.x;
    o.ha = c.a; // absent: the MQTT module's default
  } else {
    if (tls && !__BUILD__.tlsRequire) o.plain = c.p; // over plain TCP (every ESP8266) no property at all
    o.pins = pinFunctions;
    o.own = __BUILD__.ownPins;
  }
  L = loadModule(m ? "mqtt" : "blynk").open(o);
}

/**
 * The reconnect phase. reconnect(1) starts it: saved networks, strongest first when there are
 * several; reconnect(0) goes on with the next one, or waits out the back-off when all failed.
 */
function reconnect(start: number): void {
  if (start) {
    retryAt = -1;
    if (T || !R || !valid()) return;
    if (K.s !== State.WAIT_CONFIG && K.s !== State.CONFIGURING) go(State.CONNECTING_NET);
    var saved = store.cfg.n;
    nets = [];
    ni = 0;
    if (saved.length > 1)
      return wifi(Op.SCAN, function (list: string | undefined) {
        if (!nets || T) return;
        // strongest known network first, then the ones not seen in the scan, in saved order
        var seen = scanSsids(list || "");
        for (var i = 0; i < seen.length; i++) for (var j = 0; j < saved.length; j++) if (seen[i] === saved[j].s && nets.indexOf(j) < 0) nets.push(j);
        for (var k = 0; k < saved.length; k++) if (nets.indexOf(k) < 0) nets.push(k);
        reconnect(0);
      });
    nets.push(0);
  }
  if (nets && ni < nets.length) {
    var net = store.cfg.n[nets[ni]];
    log("Connecting to WiFi: " + net.s);
    return wifi(Op.JOIN, net.s, net.p, NET_TIMEOUT, store.cfg.i);
  }
  nets = undefined;
  var t = now();
  if (offlineSince < 0) offlineSince = t;
  if (K.s !== State.WAIT_CONFIG && K.s !== State.CONFIGURING && t - offlineSince >= OFFLINE_PORTAL_AFTER) {
    log("Offline for 5 minutes: opening the setup portal, still retrying");
    go(State.WAIT_CONFIG);
  }
  retryAt = t + retryDelay;
  retryDelay = Math.min(retryDelay * 2, RETRY_MAX);
}

/** Edgent console commands ("config", "config start", "config erase", "reboot") from the REPL or the cloud. */
function command(line: string): string {
  var c = parseCommand(line);
  var what = c === "reboot" ? Later.REBOOT : c === "config erase" ? Later.ERASE : c === "config start" ? Later.START : Later.NONE;
  if (!what) return "Unknown command; use config, config start, config erase or reboot";
  if (what > later) {
    later = what;
    laterAt = now() + (what === Later.REBOOT ? 100 : 10);
  }
  return what === Later.REBOOT ? "Rebooting" : what === Later.ERASE ? "Erasing configuration" : "Starting the setup portal (configuration kept)";
}

/**
 * The step function: takes one event, then does what is due in the current state, keeps the portal
 * as the state wants it, and arms the timer for the next deadline. Returns the event's answer.
 */
export function step(e: Ev, a?: any, b?: any, c?: any): any {
  var r: any;
  var t = now();
  if (tm !== undefined) clearTimeout(tm);
  tm = undefined;

  if (e === Ev.INFO) {
    if (K.s === State.WAIT_CONFIG) {
      go(State.CONFIGURING); // "Configuring starts with board info request"
      log("Sending board info...");
    }
  } else if (e === Ev.CONNECT) {
    // edgent.connect(token, ssid, pass, host): validated as /config is, then as if submitted there
    r = loadModule("setup").check(a, K.f);
    dropModule("setup");
    if (typeof r === "string") log("Configuration invalid: " + r);
    else {
      a = r;
      e = Ev.SUBMIT;
      r = "Trying to connect...";
    }
  }
  if (e === Ev.SUBMIT) {
    // a validated configuration: the test starts once the reply is out
    log("Applying configuration...");
    log("WiFi SSID: " + a.c.n[0].s); // never the password
    // never the broker's password
    log((a.c.f & Flag.MQTT ? (a.c.t ? "Blynk MQTT: " : "MQTT broker: " + (a.c.u ? a.c.u + "@" : "")) : "Blynk cloud: ") + (a.c.t ? maskToken(a.c.t) + " @ " : "") + a.c.h + ":" + (a.c.q || a.c.p) + (a.c.q ? "" : " (plain TCP)"));
    if (a.save) persist("Configuration stored to flash (save=1: before its test)", Update.TESTED, a.c, false);
    T = a;
    K.t = "connecting";
    K.ts = a.c.n[0].s;
    K.ti = "";
    later = Math.max(later, Later.TEST);
    laterAt = t + 50;
    r = r || "";
  } else if (e === Ev.RESET || e === Ev.BUTTON) {
    later = Math.max(later, Later.ERASE);
    laterAt = t + (e === Ev.RESET ? 100 : 0);
  } else if (e === Ev.REBOOT) {
    later = Later.REBOOT;
    laterAt = t + 500;
  } else if (e === Ev.SCAN) wifi(Op.SCAN, a);
  else if (e === Ev.JOINED) r = wifi(Op.UP);
  else if (e === Ev.STATIONS) {
    if (a === 0 && K.s === State.CONFIGURING) go(State.WAIT_CONFIG);
    idleSince = a ? -1 : t;
  } else if (e === Ev.AP_FAILED) {
    if (P) P.close();
    P = undefined;
    dropModule("portal");
    fail(LastError.INTERNAL, State.ERROR, 0);
  } else if (e === Ev.JOIN && later !== Later.TEST) {
    // (with a new test pending, a join's outcome belongs to the attempt it replaces)
    var cfg: Config | undefined;
    if (T) {
      if (a !== Join.OK) {
        K.t = ["", "wrong_password", "not_found", "no_dhcp", "wifi_failed"][a];
        fail(LastError.NETWORK, State.WAIT_CONFIG, 1);
      } else {
        K.ti = b;
        K.t = "cloud";
        K.l = ""; // the cloud login needs the room more than the form needs the scan list
        cfg = T.c;
      }
    } else if (nets) {
      if (a !== Join.OK) {
        ni++;
        reconnect(0);
      } else {
        nets = undefined;
        retryDelay = RETRY_MIN;
        offlineSince = idleSince = -1;
        cfg = store.cfg;
        if (K.s === State.WAIT_CONFIG || K.s === State.CONFIGURING) log("Joined a saved network: closing the setup portal");
      }
    }
    if (cfg) {
      log((cfg.i[0] ? "Using Static IP: " : "Using Dynamic IP: ") + b);
      go(State.CONNECTING_CLOUD);
      startLink(cfg);
    }
  } else if (e === Ev.LOST) {
    log("WiFi connection lost");
    if (L) L.close();
    L = undefined;
    dropModule("blynk");
    dropModule("mqtt");
    if (!T && R && valid()) {
      offlineSince = t;
      reconnect(1);
    }
  } else if (e === Ev.LOGIN && later !== Later.TEST) {
    if (a === 200 || a === 4) {
      // "Hotspot Name" goes to the cloud once after provisioning. The flag is stored with the config
      // once the frame went into the socket, so a session that ends before sends it at the next login.
      var token = T ? T.c.t : store.cfg.t;
      var sent = (store.cfg.f & Flag.META_SENT) !== 0 && store.cfg.t === token;
      if (T) {
        // The tested configuration is stored a moment later, once the login's own frames have left
        // the socket (its RAM is needed then); the device is RUNNING once it is stored.
        commit = [T.c, sent, t + COMMIT_DELAY];
        T = undefined;
        K.t = "online";
        K.o = R = 1;
        graceUntil = t + AP_GRACE;
      } else {
        if (!sent && L)
          L.setMetadata("Hotspot Name", K.n, function () {
            if (valid() && store.cfg.t === token) persist("Hotspot Name reported", Update.META_SENT);
          });
        go(State.RUNNING);
      }
    } else if (a === 9) {
      if (T) {
        K.t = "token_rejected";
        fail(LastError.TOKEN, State.WAIT_CONFIG, 1);
      } else {
        // A device deleted in the console goes back to the portal so it can be re-provisioned, off
        // the home network (as Edgent does), where nobody could reach the portal.
        R = 0;
        fail(LastError.TOKEN, State.WAIT_CONFIG, 0);
      }
    }
  } else if (e === Ev.OFFLINE) {
    if (K.s === State.RUNNING) go(State.CONNECTING_CLOUD);
  } else if (e === Ev.COMMAND) r = command(a);
  else if (e === Ev.LINK) {
    apiLink(a, b, log);
    // online after an update (or a failed one): confirm the new image, send the report
    if (b && ota !== undefined && !U) {
      try {
        loadModule("ota").settle(K, a, ota);
      } catch (x) {
        log("Update record: " + x);
      }
      dropModule("ota");
      ota = undefined;
    }
  } else if (e === Ev.OTA) {
    if (a === undefined) r = image; // (the "ota" module asks which image runs)
    else if (U || K.s !== State.RUNNING) log("OTA ignored: " + (U ? "an update is under way" : "not online"));
    else {
      // as Edgent: the event now, the download 2 s later, off the cloud link
      cloudApi().logEvent("sys_ota", "OTA started");
      U = a;
      later = Math.max(later, Later.OTA);
      laterAt = t + 2000;
    }
  } else if (e === Ev.OTA_END) {
    U = undefined;
    dropModule("ota");
    if (!a) {
      later = Later.REBOOT;
      laterAt = t + 500; // (a local upload's answer goes out first)
    } else {
      ota = 0; // the record holds the report
      // back online through the saved networks (a join to the network it is on succeeds at once;
      // a second call of startLink() here would cost it its own function object)
      if (K.s === State.OTA_UPGRADE && !L && R && valid()) reconnect(1);
    }
  }
  else if (e === Ev.WRITE) apiWrite(a, b);
  else if (e === Ev.WORDS) {
    if (a || K.w) K.w = a; // (nothing held while all is well)
  }
  else if (e === Ev.STATUS) {
    // the running link in words while all is well (failures come as Ev.WORDS), as its module says it
    var lc = T ? T.c : store.cfg;
    r = {
      state: stateName(K.s), last_error: store.cfg.e, test: K.t, ssid: K.ts || (store.cfg.n.length ? store.cfg.n[0].s : ""),
      ip: K.ti || (wifi(Op.UP) ? wifi(Op.IP) : ""), cloud: !!(L && L.online()), link: K.w || (!L ? "" : lc.f & Flag.MQTT ? (lc.u || !lc.t ? "MQTT broker " + lc.h + ":" + (lc.q > 0 ? lc.q : lc.p) : "Blynk MQTT") + (lc.q > 0 ? " over TLS" : "") : hasTls() && lc.q > 0 ? "TLS" : "plain TCP"), name: K.n, memory: memory().usage,
    };
  }

  // what is due
  if (commit && t >= commit[2]) {
    var c0 = commit;
    commit = undefined;
    // "Hotspot Name" first: when its frame goes out at once, the flag is stored with the config
    // (one write); when it is queued, its callback stores the flag later
    var meta = c0[1] ? 2 : 0; // 0 not sent, 1 sent now, 2 sent (stored already, or as the config goes in)
    if (!meta && L && L.online())
      L.setMetadata("Hotspot Name", K.n, function () {
        if (meta < 0 && valid()) persist("Hotspot Name reported", Update.META_SENT);
        meta = 1;
      });
    persist("Configuration stored to flash", Update.TESTED, c0[0], meta > 0);
    meta = -1;
    if (L && L.online()) go(State.RUNNING);
  }
  if (later && t >= laterAt) {
    var l = later;
    later = Later.NONE;
    if (l === Later.REBOOT) return reboot();
    if (l === Later.ERASE || l === Later.START) {
      if (l === Later.ERASE) {
        go(State.RESET_CONFIG);
        log("Resetting configuration!");
      }
      // leave whatever runs and wait in the portal (Edgent "config start": the configuration stays)
      if (U && U.close) U.close();
      U = undefined;
      dropModule("ota");
      T = nets = undefined;
      if (L) L.close();
      L = undefined;
      dropModule("blynk");
      dropModule("mqtt");
      wifi(Op.DISCONNECT);
      R = 0;
      retryAt = graceUntil = -1;
      go(State.WAIT_CONFIG);
      idleSince = t;
      if (l === Later.ERASE) {
        K.t = K.ts = K.ti = "";
        persist("Configuration erased", Update.ERASE);
        idleSince = -1;
      }
    } else if (l === Later.OTA) {
      if (typeof U === "string") {
        var url = U;
        if (L) L.close();
        L = undefined;
        dropModule("blynk");
        dropModule("mqtt");
        go(State.OTA_UPGRADE);
        try {
          U = loadModule("ota").start(K, url, image);
        } catch (x) {
          return step(Ev.OTA_END, "the update could not start: " + x);
        }
      }
    } else if (T) {
      // the test: join the new network
      if (L) L.close();
      L = nets = undefined;
      dropModule("blynk");
      dropModule("mqtt");
      wifi(Op.CANCEL);
      retryAt = -1;
      K.t = "connecting";
      go(State.CONNECTING_NET);
      log("Connecting to WiFi: " + T.c.n[0].s);
      wifi(Op.JOIN, T.c.n[0].s, T.c.n[0].p, NET_TIMEOUT, T.c.i);
    }
  }
  if (K.s === State.ERROR && t - at >= ERROR_REBOOT) {
    if (heldMs() > 0) at = t - ERROR_REBOOT + 1000; // again in 1 s
    else {
      log("Restarting after error.");
      return reboot();
    }
  }
  if (T && K.s === State.CONNECTING_CLOUD && t - at >= CLOUD_TEST_TIMEOUT) {
    K.t = "cloud_unreachable";
    log("Timeout");
    fail(LastError.CLOUD, State.WAIT_CONFIG, 1);
  }
  if (graceUntil >= 0 && t >= graceUntil) graceUntil = -1;
  // a portal opened by "config start" on a provisioned device ends when no phone came for a while
  // (not after a rejected token: that device needs a new one)
  if (idleSince >= 0 && t - idleSince >= CONFIG_IDLE_LIMIT && K.s === State.WAIT_CONFIG && !R && !T && valid() && store.cfg.e !== LastError.TOKEN) {
    log("No phone on the setup network for 10 minutes: back to the saved networks");
    idleSince = -1;
    R = 1;
    reconnect(1);
  }
  if (retryAt >= 0 && t >= retryAt) reconnect(1);

  // The portal follows the state. Its first scan runs before its module is loaded: Espruino builds
  // the whole list of networks at once (about 20 JsVars each), so it needs the room then.
  if (K.s === State.WAIT_CONFIG || K.s === State.CONFIGURING || T || graceUntil >= 0) {
    if (!P && !portalScan) {
      portalScan = 1;
      wifi(Op.SCAN, function (list: string | undefined) {
        K.l = list || "";
        portalScan = 2;
        step(Ev.TICK);
      });
    } else if (!P && portalScan === 2) {
      K.o = portalScan = 0;
      P = loadModule("portal").open(K);
      // a new image (a local upload) on a device not set up yet cannot reach the cloud: its setup
      // portal is its proof; the report waits for the first login
      if (ota > 0 && !valid()) {
        try {
          loadModule("ota").settle(K, undefined, ota);
        } catch (x) {
          log("Update record: " + x);
        }
        dropModule("ota");
        ota = 0;
      }
    }
  } else {
    if (P) P.close();
    P = undefined;
    dropModule("portal");
    if (portalScan === 2) portalScan = 0;
    K.l = "";
  }

  // the next deadline (an event handled above may have run step() already, which armed the timer)
  if (tm !== undefined) clearTimeout(tm);
  tm = undefined;
  var d = later ? laterAt : commit ? commit[2] : -1;
  var x = [K.s === State.ERROR ? at + ERROR_REBOOT : -1, T && K.s === State.CONNECTING_CLOUD ? at + CLOUD_TEST_TIMEOUT : -1, graceUntil, retryAt, idleSince >= 0 && !R ? idleSince + CONFIG_IDLE_LIMIT : -1];
  for (var i = 0; i < x.length; i++) if (x[i] >= 0 && (d < 0 || x[i] < d)) d = x[i];
  if (d >= 0) tm = setTimeout(step, d > t ? d - t : 0, Ev.TICK);
  return r;
}

/**
 * Starts the device; `img` and `mods` say where the other modules are (scripts/image.js); `trial`
 * (the boot loader's): the new image's trial timer, or 0 when an update has a report to send.
 */
export function bootEdgent(img: string, mods: string, trial?: number): void {
  image = img;
  modules = mods;
  ota = trial;
  var b = loadModule("boot").start(log);
  dropModule("boot");
  store = b.store;
  K = { s: State.INIT, n: b.name, c: store.cfg, f: b.fac, t: "", ts: "", ti: "", o: 0, l: "", now: now, log: log, ev: step, ld: loadModule, dr: dropModule };
  startIndicator(resetButton, log);
  wifiInit(step);
  if (valid()) {
    R = 1;
    wifi(Op.STOP_AP); // the ESP8266 SDK may bring back an access point it persisted itself
    reconnect(1);
  } else {
    if (K.f) log("Firmware is preprovisioned");
    go(State.WAIT_CONFIG);
  }
  // from the timer: the boot loader's locals are freed by then, and the portal's scan needs the room
  tm = setTimeout(step, 0, Ev.TICK);
}

function resetButton(): void {
  step(Ev.BUTTON);
}
