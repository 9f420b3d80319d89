// Lean test prelude (RealDeviceOptions.lean): the least RAM that still runs a firmware bundle on the
// Espruino LINUX build, for the 1600-JsVar binary (ESPRUINO_BIN_1600). Stored as Storage ".boot0" by
// test/real/espruino.ts in place of prelude.js.
//
// It provides, with ESP8266 shapes only:
//  - require("Wifi"): what the firmware calls (connect, disconnect, startAP, stopAP, scan, getIP,
//    getAPIP, setIP, setHostname, save("clear")) and the associated / connected / disconnected events.
//    No background reconnect after a failure, no getStatus/getDetails, no .wificfg restore.
//  - listen(80) / bind(53) moved to the harness's host ports, net.connect() to the cloud host names
//    sent to the test cloud; require("tls") gives 0 (an ESP8266 build has no TLS).
//  - getSerial() from the MAC.
//  - optionally the harness's line-based TCP eval server (debug) and a RAM ballast (headroom search).
// Not here (use the full prelude.js): pin recorders (the LINUX build's own pin functions stay),
// process.env, the ESP8266 object, the E.reboot event (the LINUX E.reboot() exits with code 1 all the
// same), setNetworks/dropLink/staJoin, ESP32 shapes.
//
// RAM, measured on the LINUX builds: code run from Storage stays in flash, so a function costs about
// 4 JsVars however long its body is, +1 when it is made inside another function (its scope), +1 per
// named parameter; a constant in the code text costs nothing until it is used. Hence: every setting
// is written into the text by the harness (the __C_ tokens), the functions are made at the top level
// and read their parameters from `arguments`, state is a few properties of the Wifi object ($s, $n,
// $i, $t), and listen/bind are patched once on the server/socket prototypes instead of per object.
// Plain ES5 for Espruino; lines starting with "@@" are harness events.

// RAM ballast (RealDeviceOptions.ballast): holds this many JsVars for the whole run
if (__C_ballast__) {
  global.__B = [process.memory().usage + __C_ballast__];
  while (process.memory(false).usage < __B[0]) __B.push(0);
}
// the harness's eval() runs here: in a function at the top level, so `var x` stays local
if (__C_debugPort__) global.__simEval = function (__e) { return eval(__e); };

Modules.addCached("Wifi", ";");
// the firmware tests `!!require("tls")`; a real ESP8266 build throws "Module tls not found" instead
Modules.addCached("tls", "module.exports = 0;");
__t = require("Wifi");
__t.$s = 0; // station: 0 off, 1 connecting, 2 connected, 3 failed; $n: its ssid, $i: setIP address, $t: connect timer

// $q(f, x, y): call f(x, y) from the event queue (like the native driver), or emit the event f (a string) with x
__t.$q = function () {
  var a = arguments;
  if (a[3]) return typeof a[0] === "string" ? require("Wifi").emit(a[0], a[1]) : a[0](a[1], a[2]);
  if (typeof a[0] === "string") print("@@WIFI " + a[0] + " " + JSON.stringify(a[1]));
  if (a[0]) setTimeout(require("Wifi").$q, 0, a[0], a[1], a[2], 1);
};

// ------------------------------------------------------------------ Wifi (ESP8266 shapes)
__t.connect = function () { // (ssid, options, callback)
  var a = arguments, W = require("Wifi"), s = String(a[0]).substr(0, 32), p = ((a[1] && a[1].password) || "").substr(0, 64);
  print("@@WIFI connect " + JSON.stringify(s));
  if (W.$t) clearTimeout(W.$t);
  if (W.$s === 2) W.$q("disconnected", { ssid: W.$n, mac: "02:00:00:00:00:00", reason: "assoc_leave" });
  W.$s = 1;
  W.$n = s;
  W.$t = setTimeout(function () {
    var n = W.$f(s), c = 201;
    W.$t = undefined;
    if (n) c = n.p === p ? 0 : 202;
    if (c) {
      // the event's reason is one entry off for SDK codes 200..204 (wifiGetReason); the callback gets the status
      W.$s = 3;
      W.$q("disconnected", { ssid: s, mac: "00:00:00:00:00:00", reason: c === 202 ? "no_ap_found" : "beacon_timeout" });
      W.$q(a[2], c === 202 ? "bad_password" : "no_ap_found");
    } else {
      W.$s = 2;
      W.$q("associated", { ssid: s, mac: n.b, channel: n.c });
      W.$q(a[2], null);
      W.$q("connected", { ip: W.$i || __C_staIp__, mask: "255.255.255.0", gw: __C_staGw__ });
    }
  }, __C_connectMs__);
};
__t.disconnect = function () { // (callback)
  var W = require("Wifi");
  print("@@WIFI disconnect");
  if (W.$t) clearTimeout(W.$t);
  W.$t = undefined;
  if (W.$s === 2) W.$q("disconnected", { ssid: W.$n, mac: "02:00:00:00:00:00", reason: "assoc_leave" });
  W.$s = 0;
  W.$q(arguments[0]);
};
__t.startAP = function () { // (ssid, options, callback)
  var a = arguments, p = a[1] && a[1].password;
  if (p && (typeof p !== "string" || p.length < 8)) throw new Error("Password must be string of at least 8 characters");
  print("@@WIFI startAP " + JSON.stringify({ ssid: String(a[0]).substr(0, 32), password: p || "", authMode: p ? "wpa2" : "open" }));
  require("Wifi").$q(a[2], null);
};
__t.stopAP = function () { // (callback)
  print("@@WIFI stopAP");
  require("Wifi").$q(arguments[0]);
};
// The networks in range are the Storage file "lean.nets", one JSON object per line
// {s: ssid, p: password, r: rssi, c: channel, a: authMode, h: 1 if hidden, b: bssid}: read a line at a
// time, so the fake holds what the chip's scan builds (below) and no list of its own.
// $f(ssid): the line of that network, parsed, or undefined
__t.$f = function () {
  var f = require("Storage").read("lean.nets") || "", i = 0, j, n;
  while ((j = f.indexOf("\n", i)) >= 0) {
    n = JSON.parse(f.substr(i, j - i));
    if (n.s === arguments[0]) return n;
    i = j + 1;
  }
};
// scan: Espruino's ESP8266 scanCB builds an array of {rssi, channel, authMode, isHidden, ssid, mac},
// one object per network, before calling back; so does this
__t.scan = function () { // (callback)
  var cb = arguments[0];
  print("@@WIFI scan");
  setTimeout(function () {
    var f = require("Storage").read("lean.nets") || "", r = [], i = 0, j, x;
    while ((j = f.indexOf("\n", i)) >= 0) {
      x = JSON.parse(f.substr(i, j - i));
      i = j + 1;
      r.push({ rssi: x.r, channel: x.c, authMode: x.a, isHidden: !!x.h, ssid: x.h ? "" : x.s, mac: x.b });
    }
    x = f = undefined;
    cb(r);
  }, __C_scanMs__);
};
__t.getIP = function () { // (callback)
  var W = require("Wifi"), up = W.$s === 2,
    d = { ip: up ? W.$i || __C_staIp__ : "0.0.0.0", netmask: up ? "255.255.255.0" : "0.0.0.0", gw: up ? __C_staGw__ : "0.0.0.0", mac: __C_mac__ };
  W.$q(arguments[0], null, d);
  return d;
};
__t.getAPIP = function () { // (callback)
  var d = { ip: __C_apIp__, netmask: "255.255.255.0", gw: __C_apIp__, mac: __C_apMac__ };
  require("Wifi").$q(arguments[0], null, d);
  return d;
};
__t.setIP = function () { // (settings, callback)
  var W = require("Wifi");
  W.$i = arguments[0].ip;
  W.$q(arguments[1], null);
};
// one function for setHostname(name, callback) (only calls back) and save("clear") (erases .wificfg)
__t.setHostname = __t.save = function () {
  if (arguments[0] === "clear") require("Storage").erase(".wificfg");
  else require("Wifi").$q(arguments[1]);
};

// ------------------------------------------------------------------ network redirects
// net.connect() to a cloud host name (or its subdomains) goes to the test cloud (plain TCP)
__t = require("net");
__t.$c = __t.connect;
__t.connect = function () { // (options, callback)
  var o = arguments[0], h = o && o.host, c = __C_cloudHosts__, i;
  for (i = 0; typeof h === "string" && __C_cloud__ && i < c.length; i++) {
    if (h === c[i] || h.substr(h.length - c[i].length - 1) === "." + c[i] || h === __C_cloudIp__) {
      print("@@CLOUD " + h + ":" + o.port + " -> " + __C_cloud__.host + ":" + __C_cloud__.port);
      o = __C_cloud__;
      break;
    }
  }
  return require("net").$c(o, arguments[1]);
};
// listen(80) / bind(53) go to the harness's host ports: patched on the prototypes (no JsVars per server)
// (the native methods are taken from a throwaway server / socket: the prototypes do not list them)
__t = require("http").createServer(Math.abs);
httpSrv.prototype.$l = __t.listen;
httpSrv.prototype.listen = function (p) {
  var h = __C_tcp__[p] || p;
  print("@@LISTEN tcp " + p + " " + h);
  return this.$l(h);
};
__t = require("dgram").createSocket("udp4");
dgramSocket.prototype.$b = __t.bind;
dgramSocket.prototype.bind = function () { // (port, callback)
  var p = arguments[0], h = __C_udp__[p] || p;
  print("@@LISTEN udp " + p + " " + h);
  return this.$b(h, arguments[1]);
};
__t.close();
delete global.__t;

global.getSerial = function () { return __C_serial__; };

// what the interpreter and this prelude hold (before the firmware and the eval server)
print("@@PRELUDE " + JSON.stringify(process.memory()));

// ------------------------------------------------------------------ eval server (debug)
// One JSON string per line in, "1"+JSON result or "0"+JSON error out. The line "@@lifeline" marks the
// harness's lifeline connection: when it closes (the test process is gone), the interpreter quits.
// Started by a timer, so `espruino helper.js` runs (which begin with clearTimeout()) never open it.
if (__C_debugPort__) setTimeout(function () {
  require("net").createServer(function (s) {
    var b = "";
    s.on("data", function (x) {
      var j, l, r;
      b += x;
      while ((j = b.indexOf("\n")) >= 0) {
        l = b.substr(0, j);
        b = b.substr(j + 1);
        if (l === '"@@lifeline"') {
          s.on("close", function () { quit(); });
          continue;
        }
        // (Espruino's JSON.stringify(undefined) is "null", so undefined is sent as the word)
        try { r = __simEval(JSON.parse(l)); r = "1" + (r === undefined ? "undefined" : JSON.stringify(r)); } catch (e) { r = "0" + JSON.stringify(String(e)); }
        s.write(r + "\n");
      }
    });
  }).listen(__C_debugPort__);
  print("@@DEBUG " + __C_debugPort__);
}, 0);
