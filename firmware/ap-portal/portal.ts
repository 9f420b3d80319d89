// Module "portal": the setup portal - the access point, HTTP on port 80 and the captive DNS on
// port 53 - loaded by the core while the state wants it and dropped with it. Request limits,
// captive probes and the answers a phone polls (board info, scan list, setup status) live here;
// the requests that set the device up (the form, /config, /reset, /reboot) go to module "setup",
// loaded for them, so the portal that answers during a setup's test holds none of that code.
//
// RAM: one portal at a time, so its state is module variables and its functions module functions
// (a function made inside open() would cost Espruino a copy of its scope chain while the portal
// runs); what a request needs beyond that is made for the request and freed with it.
import { httpListen, udpBind, closeStalledHttp, httpConnections, wifiModule, memory } from "../platform/espruino";
import { jsonString } from "./form";
import { dnsReply } from "./dns";
import { statusPart } from "./page";
import { Kernel, Ev, Phase } from "../kernel";
import { SEC_NAMES } from "../wifi/scan";
import { State, stateName } from "../core/state";
import type { PortalTools } from "./setup";

const MAX_BODY = 1024; // a /config request is under 400 bytes even fully %-encoded
// the longest valid /config URL (32-byte UTF-8 SSID and 64-byte password fully %-encoded, 64-byte
// host, static IP fields) is about 560 bytes; a longer one is refused before it is copied, since
// each copy of a 1 KB URL is about 90 JsVars on an ESP8266
const MAX_URL = 640;
const MAX_OPEN = 6; // lwIP has 10 sockets; keep room for DNS, the cloud and the web IDE
// Free JsVars an answer may need (about what the setup page takes while it goes out): a request is
// refused with a 503 unless there is room for its answer and for those still going out, so several
// phones at once never run the interpreter out of memory.
const MEMORY_PER_REQUEST = 200;
const SHED_LIST_BELOW = 400; // free JsVars when a /config arrives: below, the scan list is dropped
const REQUEST_TIMEOUT = 10000; // slow or stalled clients are cut off
// A scan makes the AP hop channels and holds every asking socket until it ends: within this time
// of the last one, /wifi_scan.json answers at once with its list (WiFiManager caches scans 30 s).
const SCAN_REUSE = 10000;
const AP_START_TIMEOUT = 5000; // ESP32 reports AP_START within a fraction of a second

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
var busy: number; // requests in flight (headers in, not answered yet)
var answering: number; // answers going out piece by piece
var scanAt: number; // when the last scan (the list in k.l) was asked for
var scanning: ((list: string) => void)[] | undefined;
var st: PortalTools["st"]; // what the setup requests keep between requests

function send(res: EspHttpRes, code: number, type: string, body: string, location?: string): void {
  var h: any = { "Content-Type": type, "Content-Length": body.length, "Cache-Control": "no-store" };
  if (location) h.Location = location;
  res.writeHead(code, h);
  res.end(body);
}

/**
 * Sends an answer piece by piece: part(i) gives piece i, undefined after the last. The next piece
 * goes once the last one has left (Espruino's "drain"), so RAM holds one piece, never the answer:
 * Espruino keeps everything written until it is sent, and copies the rest at every chunk sent.
 */
function stream(res: EspHttpRes, code: number, type: string, part: (i: number) => string | undefined): void {
  var i = 0; // the next piece; -1 once the answer ended or the phone went away
  // an answer holds RAM until it has left
  answering++;
  var next = function () {
    if (i < 0) return;
    var p = part(i++);
    while (p === "") p = part(i++); // an empty write would never drain
    if (p !== undefined) return void res.write(p);
    gone();
    res.end();
  };
  var gone = function () {
    if (i >= 0) answering--;
    i = -1;
  };
  res.writeHead(code, { "Content-Type": type, "Cache-Control": "no-store" });
  res.on("drain", next);
  res.on("close", gone);
  next();
}

function reply(res: EspHttpRes, code: number, status: string, msg: string): void {
  send(res, code, "application/json", '{"status":"' + status + '","msg":' + jsonString(msg) + "}");
}

/**
 * A scan's list to `cb`: the last one when recent, else a new scan (joined by concurrent callers).
 * When the device has no room for a scan (the driver says so), the last list is given again.
 */
function scan(cb: (list: string) => void): void {
  if (k.l && k.now() - scanAt < SCAN_REUSE && !scanning) return cb(k.l);
  if (scanning) return void scanning.push(cb);
  scanning = [cb];
  scanAt = k.now();
  k.ev(Ev.SCAN, function (list: string | undefined) {
    if (list !== undefined) k.l = list;
    scanAt = k.now();
    var w = scanning || [];
    scanning = undefined;
    for (var j = 0; j < w.length; j++) w[j](k.l);
  });
}

// A request in flight keeps its state on its own object (answer r, body so far b, timeout t, done
// d) and its events go to module functions (`this` is the request): no closures made per request.
function onRequest(req: EspHttpReq, res: EspHttpRes): void {
  // finished requests are cyclic garbage: collect it before the free list runs dry (LOW_MEMORY)
  // this answer, those going out, a scan under way (two answers' worth), and half an answer for
  // every other connection that has sent something (Espruino accepts them and reads their heads
  // before any firmware code runs; a silent one holds its RAM already). A setup itself, /config,
  // only needs room for its own answer (and for a test under way): it must get through a crowd.
  var url = req.url || "";
  if (url.length > MAX_URL) return reply(res, 414, "error", "The request's URL is over " + MAX_URL + " bytes");
  var others = httpConnections() - 1;
  var configure = url.substr(0, 7) === "/config";
  // a setup under test counts as an answer going out: its outcome (a login, or an error code stored)
  // needs about that much, whatever the requests meanwhile took
  var testing = k.t === "connecting" || k.t === "cloud" ? 1 : 0;
  var need = configure ? MEMORY_PER_REQUEST * (1 + testing) : MEMORY_PER_REQUEST * (answering + (scanning ? 3 : 1) + testing) + (MEMORY_PER_REQUEST / 2) * (others > 0 ? others : 0);
  var free = memory(false).free;
  if (free < need + MEMORY_PER_REQUEST || configure) free = memory().free;
  // short of memory (an ESP8266 with the user's code), a setup drops the scan list: reading it, its
  // reply and its test need the room more than a form shown again needs the list (it scans anew)
  if (configure && free < SHED_LIST_BELOW) k.l = "";
  if (busy >= MAX_OPEN || free < need) {
    // a page asks the browser to come back by itself; the app and scripts get JSON
    if (url === "/" || url.substr(0, 2) === "/?" || url.substr(0, 7) === "/status" && url.substr(0, 12) !== "/status.json")
      return send(res, 503, "text/html", '<meta http-equiv="refresh" content="2">Busy, one moment...');
    return reply(res, 503, "error", "Busy, try again");
  }
  // the local firmware upload streams its body into Storage itself (module "ota")
  if (url.substr(0, 7) === "/update") return void k.ld("ota").receive(k, req, res, send, st);
  busy++;
  var q: any = req;
  q.r = res;
  q.b = "";
  q.d = 0;
  q.t = setTimeout(done, REQUEST_TIMEOUT, req, 2);
  req.on("data", onData);
  req.on("end", onEnd);
  req.on("close", onClose);
}

function onData(this: any, d: string): void {
  if (this.d) return;
  this.b += d;
  if (this.b.length > MAX_BODY) {
    done(this, 0);
    this.b = "";
    reply(this.r, 413, "error", "Request body is over " + MAX_BODY + " bytes");
  }
}

function onEnd(this: any): void {
  done(this, 1);
}

function onClose(this: any): void {
  done(this, 0);
}

/** A request ends: 1 its body is in (answer it), 2 it timed out, 0 anything else. */
function done(q: any, how: number): void {
  if (q.d) return;
  q.d = 1;
  busy--;
  if (how !== 2) clearTimeout(q.t);
  if (how === 2) return reply(q.r, 408, "error", "Request timed out");
  if (how === 1)
    try {
      serve(q, q.r, q.b);
    } catch (e) {
      reply(q.r, 500, "error", "Internal error");
    }
}

/** The request's answer (its headers and body are in). */
function serve(req: EspHttpReq, res: EspHttpRes, body: string): void {
  var url = req.url || "/";
  var q = url.indexOf("?");
  var path = q < 0 ? url : url.substr(0, q);
  var host = "";
  for (var n in req.headers) if (n.toLowerCase() === "host") host = req.headers[n].toLowerCase();
  var online = k.o;
  // OS connectivity probes: the answers each OS expects when it IS online
  var probe =
    path === "/generate_204" || path === "/gen_204" ? "" :
    path === "/hotspot-detect.html" || path === "/library/test/success.html" ? "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>" :
    path === "/connecttest.txt" ? "Microsoft Connect Test" :
    path === "/ncsi.txt" ? "Microsoft NCSI" :
    path === "/success.txt" ? "success\n" :
    path === "/canonical.html" ? '<meta http-equiv="refresh" content="0;url=https://support.mozilla.org/kb/captive-portal"/>' :
    undefined;
  if (probe !== undefined && online) {
    if (probe) send(res, 200, path.substr(-5) === ".html" ? "text/html" : "text/plain", probe);
    else send(res, 204, "text/plain", "");
    return;
  }
  var foreign = host && host !== apIp && host !== apIp + ":80" && host !== "blynk.setup";
  if (probe !== undefined || path === "/redirect" || (foreign && !online)) return send(res, 302, "text/html", "", "http://" + apIp + "/");
  if (req.method !== "GET" && req.method !== "POST" && req.method !== "HEAD") return reply(res, 405, "error", "Use GET or POST");
  if (path === "/" || path === "/index.html" || path === "/config" || path === "/reset" || path === "/reboot") {
    var tools: PortalTools = { k: k, send: send, reply: reply, stream: stream, scan: scan, st: st };
    k.ld("setup").serve(req, res, path, q < 0 ? "" : url.substr(q + 1), body, tools);
    // while a setup is tested (or just passed) the portal keeps no setup code in RAM
    if (k.ev(Ev.JOINED) || k.t === "connecting" || k.t === "cloud") k.dr("setup");
    return;
  }
  if (path === "/board_info.json") {
    k.ev(Ev.INFO);
    // Edgent's keys in Edgent's order, strings JSON-escaped (Edgent does not escape them)
    return send(
      res,
      200,
      "application/json",
      '{"board":' + jsonString(__BUILD__.tmplName) + ',"tmpl_id":' + jsonString(__BUILD__.tmplId) + ',"fw_type":' + jsonString(__BUILD__.tmplId) +
        ',"fw_ver":' + jsonString(__BUILD__.fwVer) + ',"ssid":' + jsonString(k.n) + ',"bssid":"' + W.getAPIP().mac.toUpperCase() + '","mac":"' + W.getIP().mac.toUpperCase() +
        '","last_error":' + k.c.e + ',"wifi_scan":true,"static_ip":true,"preprovisioned":' + (k.f && !k.c.t ? "true" : "false") + "}"
    );
  }
  if (path === "/status.json" || path === "/status") {
    // the state and the provisioning test's progress and outcome
    var s = { test: k.t, ssid: k.ts || (k.c.n.length ? k.c.n[0].s : ""), ip: k.ti || (k.ev(Ev.JOINED) ? W.getIP().ip : ""), link: k.w || "" };
    if (path === "/status")
      return stream(res, 200, "text/html; charset=utf-8", function (i: number) {
        return statusPart(s, i);
      });
    return send(res, 200, "application/json", '{"state":"' + stateName(k.s) + '","last_error":' + k.c.e + ',"test":"' + s.test + '","ssid":' + jsonString(s.ssid) + ',"ip":"' + s.ip + '","cloud":' + (k.s === State.RUNNING ? "true" : "false") + ',"link":' + jsonString(s.link) + "}");
  }
  if (path === "/wifi_scan.json")
    // Edgent's layout, one network per line, from the scan summary (wifi/scan.ts), a network per piece
    return scan(function (list: string) {
      var at = 0;
      var sec = SEC_NAMES.split(" ");
      stream(res, 200, "application/json", function (i: number) {
        if (at > list.length) return undefined; // done
        if (at === list.length) {
          at++;
          return i ? "\n]" : "[]"; // the end of the list, or the empty list
        }
        var b = list.substr(at + 4, 12);
        var line =
          (i ? ",\n" : "[\n") + '  {"ssid":' + jsonString(list.substr(at + 17, list.charCodeAt(at + 16))) + ',"bssid":"' + b.substr(0, 2) + ":" + b.substr(2, 2) + ":" + b.substr(4, 2) + ":" +
          b.substr(6, 2) + ":" + b.substr(8, 2) + ":" + b.substr(10, 2) + '","rssi":' + (list.charCodeAt(at) - 128) + ',"sec":"' + sec[list.charCodeAt(at + 2)] + '","ch":' + list.charCodeAt(at + 1) +
          ',"hidden":' + list.charCodeAt(at + 3) + "}";
        at += 17 + list.charCodeAt(at + 16);
        return line;
      });
    });
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
  onDns(0);
}

/**
 * A query; or, without a message, the DNS socket to open: at the start (0), and when the socket
 * closes (its "close" event). Espruino's ESP32 socket layer reads an empty datagram as a closed
 * socket, and closes the socket when that happens while an answer is going out: it is bound again,
 * or phones lose the sign-in sheet. (One function and one bind call: each costs RAM while the portal runs.)
 */
function onDns(this: EspDgramSocket | void, msg: any, rinfo?: { address: string; port: number }): void {
  if (typeof msg !== "string") {
    if (closed || (dns && this !== dns)) return;
    if (dns) k.log("Captive DNS socket closed by the network stack: opening it again");
    return void (dns = udpBind(53, onDns)).on("close", onDns);
  }
  var answer = dnsReply(msg, apIp);
  try {
    // a datagram queued before its socket closed finds the socket gone (see above): the phone asks again
    if (answer && dns && rinfo) dns.send(answer, rinfo.port, rinfo.address);
  } catch (e) {}
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
  k.dr("setup");
}

/**
 * Starts the access point ("Blynk <name>-XXXX", open, or WPA2 with the setup code), then the HTTP
 * server on port 80 and the captive DNS on port 53. The scan the core made just before (k.l) lists
 * the networks from the page's first load. The core hears of phones joining and leaving
 * (Ev.STATIONS) and of an access point that does not start (Ev.AP_FAILED).
 */
export function open(kernel: Kernel): Phase {
  k = kernel;
  W = wifiModule();
  apIp = "";
  apTimer = server = dns = sweep = scanning = undefined;
  apTries = stations = closed = busy = answering = 0;
  scanAt = k.l ? k.now() : -SCAN_REUSE;
  st = { w: 0, u: 0 };
  W.on("sta_joined", onJoined);
  W.on("sta_left", onLeft);
  startAP();
  return { close: close };
}
