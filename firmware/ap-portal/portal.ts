// Module "portal": the setup portal, HTTP on port 80 and the captive DNS on port 53, loaded by the
// core while its access point is up and dropped with it. Routing, limits and encoding live here,
// and so do the portal's answers (board info, scan list, status), read from the kernel's record.
import { httpListen, udpBind, closeStalledHttp, wifiModule } from "../platform/espruino";
import { Fields, parseForm, jsonString } from "./form";
import { dnsReply } from "./dns";
import { pages } from "./page";
import { parseConfigRequest, Pending } from "./config-request";
import { Kernel, Ev, Phase } from "../kernel";
import { SEC_NAMES } from "../wifi/scan";
import { State, stateName } from "../core/state";

const MAX_BODY = 1024; // a /config request is under 400 bytes even fully %-encoded
const MAX_OPEN = 6; // lwIP has 10 sockets; keep room for DNS, the cloud and the web IDE
const REQUEST_TIMEOUT = 10000; // slow or stalled clients are cut off
const CODE_LOCK_MS = 30000; // after 5 wrong setup codes
// A scan makes the AP hop channels and holds every asking socket until it ends: within this time
// of the last one, /wifi_scan.json answers at once with its list (WiFiManager caches scans 30 s).
const SCAN_REUSE = 10000;
const AP_START_TIMEOUT = 5000; // ESP32 reports AP_START within a fraction of a second

/** Validates /config fields (also edgent.connect() on the REPL): a Pending config, or why not. */
export function check(f: Fields, factoryToken: string): Pending | string {
  return parseConfigRequest(f, factoryToken);
}

/** /board_info.json: Edgent's keys in Edgent's order, strings JSON-escaped (Edgent does not escape them). */
export function boardInfo(k: Kernel): string {
  var W = wifiModule();
  return (
    '{"board":' + jsonString(__BUILD__.tmplName) + ',"tmpl_id":' + jsonString(__BUILD__.tmplId) + ',"fw_type":' + jsonString(__BUILD__.tmplId) +
    ',"fw_ver":' + jsonString(__BUILD__.fwVer) + ',"ssid":' + jsonString(k.n) + ',"bssid":"' + W.getAPIP().mac.toUpperCase() + '","mac":"' + W.getIP().mac.toUpperCase() +
    '","last_error":' + k.c.e + ',"wifi_scan":true,"static_ip":true,"preprovisioned":' + (k.f && !k.c.t ? "true" : "false") + "}"
  );
}

/** /status.json: the state and the provisioning test's progress and outcome. */
export function statusJson(k: Kernel, joined: boolean): string {
  var ssid = k.ts || (k.c.n.length ? k.c.n[0].s : "");
  return '{"state":"' + stateName(k.s) + '","last_error":' + k.c.e + ',"test":"' + k.t + '","ssid":' + jsonString(ssid) + ',"ip":"' + (k.ti || (joined ? wifiModule().getIP().ip : "")) + '","cloud":' + (k.s === State.RUNNING ? "true" : "false") + "}";
}

/** /wifi_scan.json from a scan summary (wifi.ts ScanList), in Edgent's layout, one network per line. */
export function scanJson(list: string): string {
  var s = "";
  var sec = SEC_NAMES.split(" ");
  for (var i = 0; i < list.length; i += 17 + list.charCodeAt(i + 16)) {
    var b = list.substr(i + 4, 12);
    s +=
      (s ? ",\n" : "") + '  {"ssid":' + jsonString(list.substr(i + 17, list.charCodeAt(i + 16))) + ',"bssid":"' + b.substr(0, 2) + ":" + b.substr(2, 2) + ":" + b.substr(4, 2) + ":" + b.substr(6, 2) + ":" +
      b.substr(8, 2) + ":" + b.substr(10, 2) + '","rssi":' + (list.charCodeAt(i) - 128) + ',"sec":"' + sec[list.charCodeAt(i + 2)] + '","ch":' + list.charCodeAt(i + 1) + ',"hidden":' + list.charCodeAt(i + 3) + "}";
  }
  return s ? "[\n" + s + "\n]" : "[]";
}

// The portal's state: one portal at a time, so module variables and module functions (a function
// made inside open() would cost Espruino a copy of its scope chain for as long as the portal runs).
var k: Kernel;
var W: EspWifi;
var apIp: string;
var apTimer: any;
var apTries: number;
var stations: number;
var closed: number;
var server: { close(): void } | undefined;
var dns: EspDgramSocket | undefined;
var sweep: any;
var busy: number;
var wrongCodes: number;
var lockedUntil: number;
var scanList: string; // the last scan's summary ...
var scanAt: number; // ... and when it was asked for
var scanning: ((list: string) => void)[] | undefined;
var sent: Fields | undefined; // the last submitted fields: a failed setup shows them again

function header(req: EspHttpReq, name: string): string {
  for (var n in req.headers) if (n.toLowerCase() === name) return req.headers[n];
  return "";
}

function send(res: EspHttpRes, code: number, type: string, body: string, location?: string): void {
  var h: any = { "Content-Type": type, "Content-Length": body.length, "Cache-Control": "no-store" };
  if (location) h.Location = location;
  res.writeHead(code, h);
  res.end(body);
}

function reply(res: EspHttpRes, code: number, status: string, msg: string): void {
  send(res, code, "application/json", '{"status":"' + status + '","msg":' + jsonString(msg) + "}");
}

/**
 * A scan's list to `cb`: the last one when recent, else a new scan (joined by concurrent callers).
 * When the device has no room for a scan (the driver says so), the last list is given again.
 */
function scan(cb: (list: string) => void): void {
  if (scanList && k.now() - scanAt < SCAN_REUSE && !scanning) return cb(scanList);
  if (scanning) return void scanning.push(cb);
  scanning = [cb];
  scanAt = k.now();
  k.ev(Ev.SCAN, function (list: string | undefined) {
    if (list !== undefined) scanList = list;
    list = scanList;
    scanAt = k.now();
    var w = scanning || [];
    scanning = undefined;
    for (var j = 0; j < w.length; j++) w[j](list);
  });
}

function onRequest(req: EspHttpReq, res: EspHttpRes): void {
  if (busy >= MAX_OPEN) return reply(res, 503, "error", "Busy, try again");
  busy++;
  var body = "";
  var done = false;
  var finish = function () {
    if (done) return;
    done = true;
    busy--;
    clearTimeout(timer);
  };
  var timer = setTimeout(function () {
    if (done) return;
    finish();
    reply(res, 408, "error", "Request timed out");
  }, REQUEST_TIMEOUT);
  req.on("data", function (d: string) {
    if (done) return;
    body += d;
    if (body.length > MAX_BODY) {
      finish();
      body = "";
      reply(res, 413, "error", "Request body is over " + MAX_BODY + " bytes");
    }
  });
  req.on("end", function () {
    if (done) return;
    finish();
    try {
      route(req, res, body);
    } catch (e) {
      reply(res, 500, "error", "Internal error");
    }
  });
  req.on("close", finish);
}

// OS connectivity probes: the answers each OS expects when it IS online.
function probeAnswer(path: string): string | undefined {
  if (path === "/generate_204" || path === "/gen_204") return "";
  if (path === "/hotspot-detect.html" || path === "/library/test/success.html") return "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>";
  if (path === "/connecttest.txt") return "Microsoft Connect Test";
  if (path === "/ncsi.txt") return "Microsoft NCSI";
  if (path === "/success.txt") return "success\n";
  if (path === "/canonical.html") return '<meta http-equiv="refresh" content="0;url=https://support.mozilla.org/kb/captive-portal"/>';
  return undefined;
}

/** True when the request may change the setup (/config, /reset, /reboot); otherwise answers why not. */
function mayChange(f: Fields, req: EspHttpReq, res: EspHttpRes): boolean {
  // Espruino does not say which interface a request came in on: while the device has an address on
  // a WiFi network (testing a new config, or the grace period after it), a request may come from there.
  if (k.ev(Ev.JOINED)) {
    reply(res, 409, "error", "Refused while the device is joined to a WiFi network; see /status.json");
    return false;
  }
  if (!__BUILD__.setupCode) return true;
  var t = k.now();
  var code = 429;
  var msg = "Too many wrong setup codes; wait 30 seconds";
  if (t >= lockedUntil) {
    if ((f.code || header(req, "x-setup-code")) === __BUILD__.setupCode) {
      wrongCodes = 0;
      return true;
    }
    if (++wrongCodes >= 5) {
      wrongCodes = 0;
      lockedUntil = t + CODE_LOCK_MS;
    }
    code = 403;
    msg = "Setup code is missing or wrong (it is printed on the device label)";
  }
  // a person using the form gets it back with the reason, as for any other refusal
  if (f.ui) form(res, f, msg);
  else reply(res, code, "error", msg);
  return false;
}

/**
 * The setup form. Without fields of its own it shows what the form sent last, so a phone user
 * whose setup failed fixes only what was wrong. Passwords and tokens never go back into a page
 * (anyone on an open setup network could read it): the device keeps them, and an empty field
 * sends the kept one again, except the password after "wrong password" and the token after
 * "token rejected".
 */
function form(res: EspHttpRes, f: Fields, why: string): void {
  var shown: Fields = {};
  var from = f.ssid || f.ssidManual || !sent ? f : sent;
  for (var n in from) if (n !== "pass" && n !== "blynk" && n !== "code") shown[n] = from[n];
  if (sent && sent.pass && k.t !== "wrong_password") shown.kp = sent.ssidManual || sent.ssid || "";
  if (sent && sent.blynk && k.t !== "token_rejected") shown.kt = "1";
  if (!scanList) scan(function () {}); // the next load lists the networks
  pages(k, __BUILD__.setupCode).form(res, shown, why, scanList);
}

function route(req: EspHttpReq, res: EspHttpRes, body: string): void {
  var url = req.url || "/";
  var q = url.indexOf("?");
  var path = q < 0 ? url : url.substr(0, q);
  var host = header(req, "host").toLowerCase();
  var online = k.o;
  var probe = probeAnswer(path);
  if (probe !== undefined && online) {
    if (probe) send(res, 200, path.substr(-5) === ".html" ? "text/html" : "text/plain", probe);
    else send(res, 204, "text/plain", "");
    return;
  }
  var foreign = host && host !== apIp && host !== apIp + ":80" && host !== "blynk.setup";
  if (probe !== undefined || path === "/redirect" || (foreign && !online)) return send(res, 302, "text/html", "", "http://" + apIp + "/");
  if (req.method !== "GET" && req.method !== "POST" && req.method !== "HEAD") return reply(res, 405, "error", "Use GET or POST");
  var f: Fields = {};
  var err = parseForm(q < 0 ? "" : url.substr(q + 1), f);
  if (!err && body) {
    var type = header(req, "content-type");
    if (type && type.split(";")[0].trim().toLowerCase() !== "application/x-www-form-urlencoded") err = "Send the form as application/x-www-form-urlencoded";
    else err = parseForm(body, f);
  }
  if (err) return reply(res, 400, "error", err);
  if (path === "/" || path === "/index.html") {
    k.ev(Ev.INFO); // a phone's browser on the page is configuring the device, as the app is
    if (f.scan) scan(function () {});
    return form(res, f, "");
  }
  if (path === "/board_info.json") {
    k.ev(Ev.INFO);
    return send(res, 200, "application/json", boardInfo(k));
  }
  if (path === "/status.json") return send(res, 200, "application/json", statusJson(k, k.ev(Ev.JOINED)));
  if (path === "/status") return pages(k, __BUILD__.setupCode).status(res, statusJson(k, k.ev(Ev.JOINED)));
  if (path === "/wifi_scan.json")
    return scan(function (list: string) {
      send(res, 200, "application/json", scanJson(list));
    });
  if (path === "/config") {
    if (!mayChange(f, req, res)) return;
    if (f.ui) {
      if (sent && !f.blynk && k.t !== "token_rejected") f.blynk = sent.blynk || "";
      if (sent && !f.pass && (f.ssidManual || f.ssid) === (sent.ssidManual || sent.ssid) && k.t !== "wrong_password") f.pass = sent.pass || "";
      sent = f;
    }
    var p = check(f, k.f);
    if (typeof p === "string") k.log("Configuration invalid: " + p);
    else k.ev(Ev.SUBMIT, p);
    // Edgent answers an invalid config with 500; a person using the form gets the page back with the reason.
    if (typeof p === "string") return f.ui ? form(res, f, p) : reply(res, 500, "error", p);
    if (f.ui) return send(res, 303, "text/html", "", "/status");
    return reply(res, 200, "ok", f.save && f.save !== "0" ? "Configuration saved" : "Trying to connect...");
  }
  if (path === "/reset") {
    if (!mayChange(f, req, res)) return;
    reply(res, 200, "ok", "Configuration reset");
    sent = undefined;
    return k.ev(Ev.RESET);
  }
  if (path === "/reboot") {
    if (!mayChange(f, req, res)) return; // a restart in the middle of a test strands the phone too
    reply(res, 200, "ok", "Rebooting");
    return k.ev(Ev.REBOOT);
  }
  // the path is shown as printable ASCII only; the character class escapes its "/", which
  // Espruino's lexer would otherwise take for the end of the regex
  reply(res, 404, "error", "Not found: " + path.replace(/[^-_.\/a-zA-Z0-9]/g, "?").substr(0, 40));
}

// Espruino on ESP32 never calls back when the access point is already running (after load() in
// the IDE the radio keeps it): after AP_START_TIMEOUT it is stopped and started once more.
function startAP(): void {
  stations = 0;
  apTimer = setTimeout(function () {
    apTimer = undefined;
    if (apTries++) return apUp("0.0.0.0");
    try {
      W.stopAP();
    } catch (e) {}
    startAP();
  }, AP_START_TIMEOUT);
  try {
    W.startAP(k.n, __BUILD__.setupCode ? { password: __BUILD__.setupCode, authMode: "wpa2" } : ({ authMode: "open" } as any), function (err: any) {
      apUp(err ? "0.0.0.0" : W.getAPIP().ip);
    });
  } catch (e) {
    apUp("0.0.0.0");
  }
}

function apUp(ip: string): void {
  if (apTimer !== undefined) clearTimeout(apTimer);
  apTimer = undefined;
  if (closed || server) return;
  if (ip === "0.0.0.0") return void k.ev(Ev.AP_FAILED);
  apIp = ip;
  k.log("AP SSID: " + k.n);
  k.log("AP IP:   " + ip);
  k.log("AP URL:  blynk.setup");
  server = httpListen(80, onRequest);
  // the timeout above starts once a request's headers are in; this one covers the time before
  sweep = setInterval(closeStalledHttp, REQUEST_TIMEOUT / 2, REQUEST_TIMEOUT);
  dns = udpBind(53, function (msg, rinfo) {
    var answer = dnsReply(msg, apIp);
    if (answer && dns) dns.send(answer, rinfo.port, rinfo.address);
  });
}

function onJoined(): void {
  k.ev(Ev.STATIONS, ++stations);
}

function onLeft(): void {
  if (stations > 0) stations--;
  k.ev(Ev.STATIONS, stations);
}

function close(): void {
  closed = 1;
  if (apTimer !== undefined) clearTimeout(apTimer);
  if (sweep !== undefined) clearInterval(sweep);
  if (server) server.close();
  if (dns) dns.close();
  server = dns = sweep = apTimer = scanning = undefined;
  W.removeListener("sta_joined", onJoined);
  W.removeListener("sta_left", onLeft);
  try {
    W.stopAP();
  } catch (e) {}
}

function shed(): void {
  scanList = "";
}

/**
 * Starts the access point ("Blynk <name>-XXXX", open, or WPA2 with the setup code), then the HTTP
 * server on port 80 and the captive DNS on port 53. `list` is the scan the core made just before
 * (with the least in RAM), so the page lists networks from its first load. Everything the portal needs is created in here and freed by close() with the
 * module. The core hears of phones joining and leaving (Ev.STATIONS) and of an access point that
 * does not start (Ev.AP_FAILED).
 */
export function open(kernel: Kernel, list: string): Phase {
  k = kernel;
  W = wifiModule();
  apIp = "";
  apTimer = undefined;
  apTries = 0;
  stations = 0;
  closed = 0;
  server = undefined;
  dns = undefined;
  sweep = undefined;
  busy = 0;
  wrongCodes = 0;
  lockedUntil = 0;
  scanList = list; // the core's scan, made before this module was loaded
  scanAt = list ? k.now() : -SCAN_REUSE;
  scanning = undefined;
  sent = undefined;
  W.on("sta_joined", onJoined);
  W.on("sta_left", onLeft);
  startAP();
  return { close: close, shed: shed };
}
