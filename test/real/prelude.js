// Test prelude for running a firmware bundle on the Espruino LINUX build.
// Stored as the Storage file ".boot0" by test/real/espruino.ts, so it runs
// before ".bootcde" (the firmware) on every boot, load() and reset().
//
// It provides:
//  - require("Wifi"): a fake with the ESP32 or ESP8266 callback/event shapes
//  - require("http"/"net"/"dgram"/"tls"): wrappers that move listen()/bind()
//    to the host ports chosen by the harness and send connections for the
//    cloud host names to the test cloud (plain TCP, also for tls/https)
//  - pin function recorders, getSerial(), process.env.BOARD, ESP32/ESP8266
//  - a line-based TCP eval server for RealDevice.eval()
//
// Plain ES5 for Espruino: no hoisting (everything is defined before it is
// called), no Array.prototype/Function.prototype access, simple regexes only.
//
// RAM matters (a real ESP8266 has 1600 JsVars): every function object costs
// 3 JsVars plus one per parameter even though its code stays in flash, while
// code text costs nothing. So the API methods are 3-JsVar stubs that call a
// few dispatcher functions (WF, PF) with `arguments`, and the configuration is
// a function returning a literal (CF), evaluated only when needed.
//
// Lines starting with "@@" are harness events (parsed by espruino.ts, kept
// out of RealDevice.console). The harness replaces the config placeholder on
// the last line.
function __simEval(__e) { return eval(__e); }
(function (CF) {
  var is32 = CF().chip === "ESP32";
  var nNet = require("net"), nHttp = require("http"), nDgram = require("dgram"), S = require("Storage"), nTls;
  try { nTls = require("tls"); } catch (e) { nTls = undefined; }
  // all mutable state; RealDevice reads it through eval (__sim)
  var st = { mode: 0, sta: 0, code: 0, ssid: "", pass: "", stations: [], pins: {}, watches: {}, wid: 0 };
  global.__sim = st;
  var ev = function (s) { print("@@" + s); };
  // queue a call like the native jsiQueueEvents does (own stack, own exception)
  var q = function (f, x, y) { if (typeof f === "function") setTimeout(function () { f(x, y); }, 0); };
  // print + queue a module event
  var emit = function (name, d) {
    ev("WIFI " + name + " " + JSON.stringify(d));
    setTimeout(function () { W.emit(name, d); }, 0);
  };
  // Modules.addCached(name, fn) evaluates only the code text of fn in a fresh
  // scope (it cannot see this closure; an empty function even fails with
  // "Unable to load module"), so register an empty module from source text and
  // fill in its exports object.
  var mod = function (name) { Modules.addCached(name, ";"); return require(name); };
  var W = mod("Wifi");
  // Long-lived closures are made by these small helpers, not inside WF, so
  // they do not keep a WF call's scope (config object, helpers) alive.
  var WF;
  var wrapListen = function (o) {
    var l = o.listen;
    o.listen = function (p) { return l.call(o, WF("port", ["tcp", p])); };
    return o;
  };
  var wrapBind = function (o) {
    var b = o.bind;
    o.bind = function (p, f) { return b.call(o, WF("port", ["udp", p]), f); };
    return o;
  };
  var evalServer = function (port) {
    var srv = nNet.createServer(function (s) {
      var b = "";
      s.on("data", function (x) {
        b += x;
        var j = b.indexOf("\n"), l, res;
        while (j >= 0) {
          l = b.substr(0, j);
          b = b.substr(j + 1);
          j = b.indexOf("\n");
          if (l === '"@@lifeline"') {
            // the harness's lifeline: when the test process goes away, so do we
            s.on("close", function () { if (typeof quit === "function") quit(); else nativeReboot(); });
            continue;
          }
          // (Espruino's JSON.stringify(undefined) is "null", so undefined is sent as the word)
          try { res = __simEval(JSON.parse(l)); res = "1" + (res === undefined ? "undefined" : JSON.stringify(res)); } catch (e) { res = "0" + JSON.stringify(String(e)); }
          s.write(res + "\n");
        }
      });
    });
    srv.listen(port);
    return srv;
  };

  // ------------------------------------------------------------------ WF
  // Wifi, chip object, network redirects and test helpers. `a` is the
  // arguments object of the calling stub.
  WF = function (n, a) {
    var c = CF(), o, d, i, r, cb, pw, k;
    var checkCb = function (f) { if (f !== undefined && typeof f !== "function") throw new Error("Expecting callback function but got " + f); };
    var nets = st.nets || c.networks;
    var findNet = function (ssid) { for (var j = 0; j < nets.length; j++) if (nets[j].ssid === ssid) return nets[j]; return undefined; };
    var bssid = function (x) { return x ? x.bssid || "02:00:00:00:00:0" + (nets.indexOf(x) % 10) : "00:00:00:00:00:00"; };
    var auth = function (x) { return x.authMode || (x.password ? "wpa2" : "open"); };
    var staIp = st.staIp || c.staIp, apIp = st.apIp || c.apIp;
    switch (n) {
      // -------------------------------------------------- events and reasons
      case "reason32": // ESP32 wifiReasonToString
        return { 2: "AUTH_EXPIRE", 8: "ASSOC_LEAVE", 15: "4WAY_HANDSHAKE_TIMEOUT", 200: "BEACON_TIMEOUT", 201: "NO_AP_FOUND",
          202: "AUTH_FAIL", 203: "ASSOC_FAIL", 204: "HANDSHAKE_TIMEOUT" }[a[0]] || "Unknown reason";
      case "status8266": // ESP8266 station status string
        if (!(st.mode & 1)) return "off";
        if (st.sta === 2) return "connected";
        if (st.sta === 1) return "connecting";
        if (st.sta === 3) return st.code === 202 ? "bad_password" : st.code === 201 ? "no_ap_found" : "connect_failed";
        return "off";
      case "lost": // (code): disconnected event for the current/attempted network
        st.sta = 3; st.code = a[0]; st.ip = undefined;
        if (is32) d = { ssid: st.ssid, mac: bssid(st.net), reason: String(a[0]), msg: WF("reason32", a) };
        // ESP8266 maps SDK codes 200..204 one entry off (wifiGetReason); 2 and 8 are right
        else d = { ssid: st.ssid, mac: bssid(st.net), reason: { 2: "auth_expire", 8: "assoc_leave", 200: "cipher_suite_rejected",
          201: "beacon_timeout", 202: "no_ap_found", 203: "auth_failed", 204: "assoc_failed" }[a[0]] || "unspecified" };
        emit("disconnected", d);
        return;
      case "attempt": // (isRetry): the connect attempt completes
        st.timer = undefined;
        o = findNet(st.ssid);
        k = !o ? 201 : o.password !== st.pass ? 202 : 0;
        if (k) {
          st.net = undefined;
          WF("lost", [k]);
          if (is32) {
            // 2v29: no retry, and the connect callback is never called on failure.
            // 2v30 (newer source): the callback gets the reason string.
            if (c.version !== "2v29") q(st.gotIpCb, WF("reason32", [k]));
          } else {
            if (!a[0]) q(st.gotIpCb, WF("status8266"));
            // the ESP8266 SDK keeps retrying in the background until disconnect()
            if (c.timing.retry > 0) st.timer = setTimeout(WF, c.timing.retry, "attempt", [true]);
          }
          st.gotIpCb = undefined;
          return;
        }
        st.net = o; st.sta = 2; st.code = 0; st.ip = staIp;
        emit("associated", { ssid: o.ssid, mac: bssid(o), channel: is32 ? String(o.channel) : o.channel });
        q(st.gotIpCb, null);
        st.gotIpCb = undefined;
        emit("connected", is32 ? { ip: st.ip, netmask: "255.255.255.0", gw: c.staGw } : { ip: st.ip, mask: "255.255.255.0", gw: c.staGw });
        return;
      case "stopTimer":
        if (st.timer !== undefined) clearTimeout(st.timer);
        st.timer = undefined;
        return;

      // -------------------------------------------------- Wifi API
      case "connect": // (ssid, options, cb)
        if (typeof a[0] !== "string") throw new Error("No SSID provided");
        o = a[1]; cb = a[2];
        if (o !== undefined && o !== null && typeof o !== "object") throw new Error("Expecting Object, got " + typeof o);
        checkCb(cb);
        pw = o && o.password;
        if (pw !== undefined && typeof pw !== "string") throw new Error("Expecting options.password to be a string but got " + typeof pw);
        pw = (pw || "").substr(0, 64);
        k = a[0].substr(0, 32);
        ev("WIFI connect " + JSON.stringify(k));
        if (!is32 && st.sta === 2 && st.ssid === k && st.pass === pw) { q(cb, null); return; }
        WF("stopTimer");
        if (st.sta === 2 && !is32) WF("lost", [8]);
        st.mode |= 1; st.ssid = k; st.pass = pw; st.sta = 1; st.ip = undefined;
        st.gotIpCb = cb;
        st.timer = setTimeout(WF, c.timing.connect, "attempt", [false]);
        return;
      case "disconnect": // (cb)
        cb = a[0];
        checkCb(cb);
        ev("WIFI disconnect");
        WF("stopTimer");
        st.gotIpCb = undefined;
        k = st.sta === 2;
        st.sta = 0; st.ip = undefined;
        if (k) { WF("lost", [8]); st.sta = 0; }
        if (is32) {
          // cb is queued now AND again on the STA_DISCONNECTED event (runs twice)
          q(cb);
          if (k) q(cb);
        } else {
          st.mode &= 2;
          q(cb);
        }
        return;
      case "startAP": // (ssid, options, cb)
        o = a[1]; cb = a[2];
        checkCb(cb);
        if (typeof a[0] !== "string") throw new Error("No SSID");
        if (o !== undefined && o !== null && typeof o !== "object") throw new Error("Expecting Object, got " + typeof o);
        d = { ssid: a[0].substr(0, 32), password: "", authMode: "open", hidden: 0, channel: 1 };
        if (o) {
          if (!is32 && o.hidden === 1) d.hidden = 1;   // ESP8266: integer 0/1 only; ESP32 ignores hidden
          if (o.channel === (o.channel | 0) && o.channel >= 1 && o.channel <= 13) d.channel = o.channel;
          pw = o.password;
          if (pw !== undefined && !(!is32 && pw === "")) {   // ESP8266 treats "" as no password
            if (typeof pw !== "string" || pw.length < 8) throw new Error("Password must be string of at least 8 characters");
            d.password = pw;
          }
          if (typeof o.authMode === "string") {
            if (["open", "wpa", "wpa2", "wpa_wpa2"].indexOf(o.authMode) < 0) throw new Error("Unknown authMode value");
            d.authMode = o.authMode;
          } else d.authMode = d.password ? "wpa2" : "open";
          if (d.authMode !== "open" && !d.password) throw new Error("Password not set but authMode not open");
          if (d.authMode === "open" && d.password) throw new Error("Auth mode set to open but password supplied");
        }
        st.ap = d;
        st.mode |= 2;
        ev("WIFI startAP " + JSON.stringify(d));
        if (is32) { if (cb) setTimeout(cb, c.timing.ap, null); } else q(cb, null);
        return;
      case "stopAP": // (cb)
        checkCb(a[0]);
        ev("WIFI stopAP");
        st.mode &= 1;
        st.stations = [];
        q(a[0]);
        return;
      case "scan": // (cb)
        if (st.scanCb) throw new Error("A scan is already in progress");
        if (typeof a[0] !== "function") throw new Error("Expecting callback function but got " + a[0]);
        st.scanCb = a[0];
        st.mode |= 1;
        ev("WIFI scan");
        setTimeout(WF, c.timing.scan, "scanDone", []);
        return;
      case "scanDone":
        cb = st.scanCb;
        st.scanCb = undefined;
        r = [];
        nets.forEach(function (x) {
          var ssid = x.hidden ? "" : x.ssid;
          if (is32) r.push({ rssi: x.rssi, authMode: auth(x), ssid: ssid, mac: bssid(x), channel: String(x.channel) });
          else r.push({ rssi: x.rssi > 0 ? 0 : x.rssi, channel: x.channel, authMode: auth(x), isHidden: !!x.hidden, ssid: ssid, mac: bssid(x) });
        });
        cb(r);
        return;
      case "getStatus": // (cb)
        if (is32) {
          // 2v29 ESP32 ignores the callback argument of getStatus
          d = { station: st.sta === 2 ? "connected" : WF("reason32", [st.code]) };
          if (st.sta === 2) {
            d.ssid = st.net.ssid; d.bssid = bssid(st.net); d.channel = st.net.channel; d.rssi = st.net.rssi;
            d.htMode = "HT20"; d.authMode = auth(st.net);
          }
          d.mode = ["NULL", "STA", "AP", "APSTA"][st.mode]; d.powersave = "none";
          return d;
        }
        d = { mode: ["off", "sta", "ap", "sta+ap"][st.mode], station: WF("status8266"), ap: st.mode & 2 ? "enabled" : "disabled",
          phy: "11n", powersave: "ps-poll", savedMode: "off" };
        q(a[0], d);
        return d;
      case "getDetails": // (cb)
        if (is32) d = st.sta === 2 ? { ssid: st.ssid, password: st.pass, status: "connected", authMode: auth(st.net) } : { status: WF("reason32", [st.code]) };
        else {
          d = { status: WF("status8266"), ssid: st.ssid, password: st.pass };
          if (st.mode & 1) d.rssi = st.sta === 2 ? st.net.rssi : 0;
          d.savedSsid = null;
        }
        q(a[0], d);
        return d;
      case "getAPDetails": // (cb)
        o = st.ap || { ssid: "", password: "", authMode: "open", hidden: 0 };
        if (is32) d = { authMode: o.authMode, hidden: false, maxConn: 4, ssid: o.ssid, password: o.password };
        else {
          d = { status: st.mode & 2 ? "enabled" : "disabled", authMode: o.authMode, hidden: !!o.hidden, maxConn: 4,
            ssid: o.ssid, password: o.password, savedSsid: null };
          if (st.mode & 2) d.stations = st.stations.map(function (m, j) { return { ip: "192.168.4." + (2 + j), mac: m }; });
        }
        q(a[0], d);
        return d;
      case "getIP": // (cb) -> cb(null, info)
        d = st.sta === 2 ? { ip: st.ip, netmask: "255.255.255.0", gw: c.staGw, mac: c.mac } : { ip: "0.0.0.0", netmask: "0.0.0.0", gw: "0.0.0.0", mac: c.mac };
        q(a[0], null, d);
        return d;
      case "getAPIP":
        d = { ip: apIp, netmask: "255.255.255.0", gw: apIp, mac: c.apMac };
        q(a[0], null, d);
        return d;
      case "setHostname": // (name, cb)
        st.host = String(a[0]);
        q(a[1]);
        return;
      case "getHostname":
        d = st.host || (is32 ? "espressif" : "ESP_" + c.mac.substr(9).split(":").join("").toUpperCase());
        q(a[0], d);
        return d;
      case "setIP":
      case "setAPIP": // (settings, cb)
        o = a[0];
        if (!o || typeof o.ip !== "string") throw new Error("Expecting Object with ip");
        if (n === "setAPIP") st.apIp = o.ip; else { st.staIp = o.ip; if (st.sta === 2) st.ip = o.ip; }
        if (typeof a[1] !== "function") throw new Error("Callback is not a function");
        q(a[1], is32 ? "Failure" : null);   // ESP32 reports "Failure" on success
        return;
      case "ping": // (ip, cb)
        q(a[1], { totalCount: 1, totalBytes: 32, totalTimeMs: 1, respTime: 1, seqNo: 1, timeoutCount: 0 });
        return;
      case "getHostByName": // (host, cb(ip|null))
        k = a[0];
        q(a[1], k === "localhost" ? "127.0.0.1" : /^[0-9.]+$/.test(k) ? k : WF("isCloud", [k]) ? c.cloudIp : null);
        return;
      case "save": // (what)
        if (a[0] === "clear") { S.erase(".wificfg"); return; }
        o = st.ap || { ssid: "", password: "", authMode: "open", hidden: 0, channel: 1 };
        d = { ssid: st.ssid, password: st.pass, mode: st.mode, sleepType: is32 ? 0 : 1, ssidAP: o.ssid, passwordAP: o.password,
          authmodeAP: ["open", "wep", "wpa", "wpa2", "wpa_wpa2"].indexOf(o.authMode), hiddenAP: o.hidden, channelAP: o.channel,
          hostname: WF("getHostname", []) };
        if (!is32) d.phyMode = 3;
        S.write(".wificfg", d);
        return;
      case "restore":
        o = S.readJSON(".wificfg", true);
        if (!o) return;
        ev("WIFI restore");
        if (o.hostname) st.host = o.hostname;
        // ESP32 2v29 bug: the AP is restored with an all-zero config
        if (o.mode & 2) WF("startAP", is32 ? [""] : [o.ssidAP, { password: o.passwordAP || undefined }]);
        if (o.mode & 1 && o.ssid) WF("connect", [o.ssid, { password: o.password }]);
        return;

      // -------------------------------------------------- chip object
      case "getState":
        return is32 ? { sdkVersion: "v4.4.8", freeHeap: 120000, BLE: false, Wifi: true, minHeap: 100000 }
          : { sdkVersion: "2.2.1(6ab97e9)", cpuFrequency: 160, freeHeap: 14000, maxCon: 10, flashMap: "4MB:1024/1024", flashKB: 4096, flashChip: "0xef 0x4016" };
      case "getResetInfo":
        return { reason: c.resetReason, exccause: 0, epc1: 0, epc2: 0, epc3: 0, excvaddr: 0, depc: 0 };
      case "deepSleep":
        ev("DEEPSLEEP " + a[0]);
        E.reboot();
        return;

      // -------------------------------------------------- network redirects
      case "isCloud": // (host)
        k = a[0];
        if (typeof k !== "string") return false;
        if (k === c.cloudIp) return true;
        for (i = 0; i < c.cloudHosts.length; i++) {
          r = c.cloudHosts[i];
          if (k === r || (k.length > r.length && k.substr(k.length - r.length - 1) === "." + r)) return true;
        }
        return false;
      case "redirect": // (options|url, isHttp) -> options for the test cloud, or the same object
        o = a[0];
        if (typeof o === "string") o = url.parse(o);
        if (!c.cloud || !o || !WF("isCloud", [o.host])) return o;
        d = {};
        for (k in o) d[k] = o[k];
        ev("CLOUD " + o.host + ":" + o.port + " -> " + c.cloud.host + ":" + c.cloud.port);
        d.host = c.cloud.host; d.port = c.cloud.port;
        if (a[1]) d.protocol = "http:";
        return d;
      case "port": // (kind, devicePort) -> host port
        r = c.ports[a[0]][a[1]] || a[1];
        ev("LISTEN " + a[0] + " " + a[1] + " " + r);
        return r;
      case "net.createServer": return wrapListen(nNet.createServer(a[0]));
      case "net.connect": return nNet.connect(WF("redirect", [a[0]]), a[1]);
      case "http.createServer": return wrapListen(nHttp.createServer(a[0]));
      case "http.request": return nHttp.request(WF("redirect", [a[0], true]), a[1]);
      case "http.get": return nHttp.get(WF("redirect", [a[0], true]), a[1]);
      case "tls.connect":
        o = WF("redirect", [a[0]]);
        if (o !== a[0]) return nNet.connect(o, a[1]);
        if (!nTls) throw new Error("TLS not available");
        return nTls.connect(a[0], a[1]);
      case "dgram.createSocket": return wrapBind(nDgram.createSocket(a[0], a[1]));

      // -------------------------------------------------- test helpers (RealDevice)
      case "setNetworks": st.nets = a[0]; return;
      case "dropLink": // (code): the AP goes away / link lost
        if (st.sta !== 2) return false;
        WF("lost", [a[0] || 200]);
        if (!is32 && c.timing.retry > 0) { WF("stopTimer"); st.timer = setTimeout(WF, c.timing.retry, "attempt", [true]); }
        return true;
      case "staJoin": st.stations.push(a[0]); emit("sta_joined", { mac: a[0] }); return;
      case "staLeave":
        i = st.stations.indexOf(a[0]);
        if (i >= 0) st.stations.splice(i, 1);
        emit("sta_left", { mac: a[0] });
        return;
      case "start": // the eval server
        if (st.dbg || !c.debugPort) return;
        st.dbg = evalServer(c.debugPort);
        ev("DEBUG " + c.debugPort);
        return;
      case "stop":
        if (st.dbg) st.dbg.close();
        st.dbg = undefined;
        return;
      case "init":
        setTimeout(WF, 0, "start", []);
        if (c.autoRestore && S.read(".wificfg") !== undefined) setTimeout(WF, 0, "restore", []);
        return;
    }
    throw new Error("prelude: unknown " + n);
  };
  // __sim.call("dropLink", [200]) etc. from RealDevice
  st.call = WF;

  // ------------------------------------------------------------------ identity
  global.getSerial = function () { return CF().serial; };
  var env = process.env;
  process.env = { VERSION: env.VERSION, GIT_COMMIT: env.GIT_COMMIT, BOARD: CF().board, SERIAL: CF().serial };
  env = undefined;

  // ------------------------------------------------------------------ Wifi stubs
  W.connect = function () { return WF("connect", arguments); };
  W.disconnect = function () { return WF("disconnect", arguments); };
  W.startAP = function () { return WF("startAP", arguments); };
  W.stopAP = function () { return WF("stopAP", arguments); };
  W.scan = function () { return WF("scan", arguments); };
  W.getStatus = function () { return WF("getStatus", arguments); };
  W.getDetails = function () { return WF("getDetails", arguments); };
  W.getAPDetails = function () { return WF("getAPDetails", arguments); };
  W.getIP = function () { return WF("getIP", arguments); };
  W.getAPIP = function () { return WF("getAPIP", arguments); };
  W.setHostname = function () { return WF("setHostname", arguments); };
  W.getHostname = function () { return WF("getHostname", arguments); };
  W.setIP = function () { return WF("setIP", arguments); };
  W.setAPIP = function () { return WF("setAPIP", arguments); };
  W.ping = function () { return WF("ping", arguments); };
  W.getHostByName = function () { return WF("getHostByName", arguments); };
  W.save = function () { return WF("save", arguments); };
  W.restore = function () { return WF("restore", arguments); };
  var noop = function () {};
  W.setConfig = noop; W.setSNTP = noop; W.turbo = noop;

  // ------------------------------------------------------------------ chip object
  var nativeReboot = E.reboot;
  E.reboot = function () { ev("REBOOT"); nativeReboot(); };
  var chip = mod(CF().chip);
  global[CF().chip] = chip;
  chip.getState = function () { return WF("getState", arguments); };
  chip.reboot = E.reboot;
  chip.deepSleep = function () { return WF("deepSleep", arguments); };
  if (is32) { chip.getWakeupCause = function () { return 0; }; chip.enableBLE = noop; chip.enableWifi = noop; chip.setAtten = noop; }
  else { chip.getResetInfo = function () { return WF("getResetInfo", arguments); }; chip.setCPUFreq = noop; chip.logDebug = noop; chip.printLog = noop; }

  // ------------------------------------------------------------------ network wrappers
  var m = mod("net");
  m.createServer = function () { return WF("net.createServer", arguments); };
  m.connect = function () { return WF("net.connect", arguments); };
  m = mod("http");
  m.createServer = function () { return WF("http.createServer", arguments); };
  m.request = function () { return WF("http.request", arguments); };
  m.get = function () { return WF("http.get", arguments); };
  m = mod("tls");
  m.connect = function () { return WF("tls.connect", arguments); };
  m = mod("dgram");
  m.createSocket = function () { return WF("dgram.createSocket", arguments); };
  m = undefined;

  // ------------------------------------------------------------------ pins
  if (CF().pins) {
    // (name, arguments, this)
    var PF = function (n, a, self) {
      var c = CF(), p = self || a[0], k, i, r, w, t, rec;
      // pin name: D2 and 2 are both "D2" (typeof D2 is "number" in Espruino, String(D2) is "D2")
      var pn = function (x) { x = String(x); return /^[0-9]+$/.test(x) ? "D" + x : x; };
      var pin = function (x) { k = pn(x); return st.pins[k] || (st.pins[k] = {}); };
      var input = function (x) {
        var y = st.pins[pn(x)] || {};
        if (y.input !== undefined) return y.input;
        if (is32 && pn(x) === "D0") return 0;   // BTN1 is NEGATED on ESP32 boards
        return y.mode === "input_pullup" ? 1 : 0;
      };
      var v = self ? a[0] : a[1];
      switch (n) {
        case "pinMode":
          rec = pin(p);
          if (v === undefined) return rec.mode || "input";
          rec.mode = v;
          return;
        case "write":
          if (Array.isArray(p)) {
            for (i = 0; i < p.length; i++) PF("write", [p[i], (v >> (p.length - 1 - i)) & 1]);
            return;
          }
          rec = pin(p);
          rec.value = v ? 1 : 0;
          if (c.tracePins) ev("PIN " + k + " " + rec.value);
          return;
        case "read":
          if (Array.isArray(p)) {
            for (r = 0, i = 0; i < p.length; i++) r = (r << 1) | input(p[i]);
            return r;
          }
          return input(p);
        case "analogWrite":
          rec = pin(p);
          rec.value = v;
          if (c.tracePins) ev("PIN " + k + " " + v);
          return;
        case "analogRead": rec = st.pins[pn(p)]; return rec && rec.input !== undefined ? rec.input : 0;
        case "digitalPulse": if (c.tracePins) ev("PIN " + pn(p) + " pulse " + v + " " + a[2]); return;
        case "setWatch": // (fn, pin, options)
          p = a[1]; t = a[2];
          if (!t || typeof t !== "object") t = { repeat: !!t };
          r = t.edge === undefined ? (is32 && pn(p) === "D0" ? "rising" : "both") : t.edge;
          r = r === 1 ? "rising" : r === -1 ? "falling" : r === 0 ? "both" : r;
          if (r !== "rising" && r !== "falling" && r !== "both") throw new TypeError("'edge' in setWatch should be 1, -1, 0, 'rising', 'falling' or 'both'");
          st.watches[++st.wid] = { f: a[0], p: p, e: r, r: !!t.repeat, d: t.data };
          return st.wid;
        case "clearWatch":
          if (!a.length) { st.watches = {}; return; }
          if (!st.watches[a[0]]) throw new Error("Unknown Watch " + a[0]);
          delete st.watches[a[0]];
          return;
        case "toggle":
          rec = pin(p);
          PF("write", [p, rec.value ? 0 : 1]);
          return !!rec.value;
        case "setInput": // (pinName, state): drive an input and fire matching watches
          v = v ? 1 : 0;
          i = input(p);
          rec = pin(p);
          rec.input = v;
          if (i === v) return;
          t = getTime();
          for (i in st.watches) {
            w = st.watches[i];
            if (pn(w.p) !== k || (w.e === "rising" && !v) || (w.e === "falling" && v)) continue;
            r = { state: !!v, time: t, lastTime: w.last, pin: w.p };
            if (w.d !== undefined) r.data = w.d;
            w.last = t;
            if (!w.r) delete st.watches[i];
            setTimeout(w.f, 0, r);
          }
          return;
      }
    };
    st.pin = PF;
    global.pinMode = function () { return PF("pinMode", arguments); };
    global.digitalWrite = function () { return PF("write", arguments); };
    global.digitalRead = function () { return PF("read", arguments); };
    global.analogWrite = function () { return PF("analogWrite", arguments); };
    global.analogRead = function () { return PF("analogRead", arguments); };
    global.digitalPulse = function () { return PF("digitalPulse", arguments); };
    global.setWatch = function () { return PF("setWatch", arguments); };
    global.clearWatch = function () { return PF("clearWatch", arguments); };
    var PP = Pin.prototype;
    PP.read = function () { return PF("read", arguments, this); };
    PP.write = function () { return PF("write", arguments, this); };
    PP.set = function () { return PF("write", [1], this); };
    PP.reset = function () { return PF("write", [0], this); };
    PP.toggle = function () { return PF("toggle", arguments, this); };
    PP.mode = function () { return PF("pinMode", arguments, this); };
    PP.getMode = function () { return PF("pinMode", [], this); };
    PP = undefined;
  }
  if (is32) { global.LED1 = D2; global.BTN1 = D0; }

  // the eval server is started on E 'init' through a timer, so `espruino
  // helper.js` runs (which call clearTimeout() first) never open it
  E.on("init", function () { WF("init", []); });
})(__CFG__);
