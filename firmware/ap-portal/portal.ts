// The setup portal: HTTP on port 80 and the captive DNS on port 53, alive only while the access
// point is up. Routing, limits and encoding live here; what the answers say comes from PortalApp.
import { httpListen, udpBind, now } from "../platform/espruino";
import { Fields, parseForm, jsonString } from "./form";
import { dnsReply } from "./dns";
import { writePage, writeStatusPage } from "./page";

export interface PortalApp {
  boardInfo(): string; // /board_info.json body
  status(): string; // /status.json body
  submit(f: Fields): string; // "" when accepted, else the reason
  reset(): void;
  reboot(): void;
  scan(cb: (json: string) => void): void; // /wifi_scan.json body
  provisioned(): boolean; // a tested config is stored: probes get "online" answers
  setupCode(): string; // "" = open portal
  cachedScan(): string; // last /wifi_scan.json body, "" when none yet
}

const MAX_BODY = 1024; // a /config request is under 400 bytes even fully %-encoded
const MAX_OPEN = 6; // lwIP has 10 sockets; keep room for DNS, the cloud and the web IDE
const REQUEST_TIMEOUT = 10000; // slow or stalled clients are cut off
const CODE_LOCK_MS = 30000; // after 5 wrong setup codes

var server: { close(): void } | undefined;
var dns: EspDgramSocket | undefined;
var app: PortalApp;
var apIp = "192.168.4.1";
var open = 0;
var wrongCodes = 0;
var lockedUntil = 0;

export function openPortal(a: PortalApp, ip: string): void {
  closePortal();
  app = a;
  apIp = ip;
  server = httpListen(80, onRequest);
  dns = udpBind(53, function (msg, rinfo) {
    var reply = dnsReply(msg, apIp);
    if (reply && dns) dns.send(reply, rinfo.port, rinfo.address);
  });
}

export function closePortal(): void {
  if (server) server.close();
  if (dns) dns.close();
  server = undefined;
  dns = undefined;
}

export function portalOpen(): boolean {
  return !!server;
}

function header(req: EspHttpReq, name: string): string {
  for (var k in req.headers) if (k.toLowerCase() === name) return req.headers[k];
  return "";
}

function send(res: EspHttpRes, code: number, type: string, body: string, location?: string): void {
  var h: any = { "Content-Type": type, "Content-Length": body.length, "Cache-Control": "no-store" };
  if (location) h.Location = location;
  res.writeHead(code, h);
  res.end(body);
}

export function sendJson(res: EspHttpRes, code: number, body: string): void {
  send(res, code, "application/json", body);
}

function reply(res: EspHttpRes, code: number, status: string, msg: string): void {
  sendJson(res, code, '{"status":"' + status + '","msg":' + jsonString(msg) + "}");
}

function onRequest(req: EspHttpReq, res: EspHttpRes): void {
  if (open >= MAX_OPEN) return reply(res, 503, "error", "Busy, try again");
  open++;
  var body = "";
  var done = false;
  var finish = function () {
    if (done) return;
    done = true;
    open--;
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

function checkCode(f: Fields, req: EspHttpReq, res: EspHttpRes): boolean {
  var code = app.setupCode();
  if (!code) return true;
  var t = now();
  if (t < lockedUntil) {
    reply(res, 429, "error", "Too many wrong setup codes; wait 30 seconds");
    return false;
  }
  if ((f.code || header(req, "x-setup-code")) === code) {
    wrongCodes = 0;
    return true;
  }
  if (++wrongCodes >= 5) {
    wrongCodes = 0;
    lockedUntil = t + CODE_LOCK_MS;
  }
  reply(res, 403, "error", "Setup code is missing or wrong (it is printed on the device label)");
  return false;
}

function route(req: EspHttpReq, res: EspHttpRes, body: string): void {
  var url = req.url || "/";
  var q = url.indexOf("?");
  var path = q < 0 ? url : url.substr(0, q);
  var host = header(req, "host").toLowerCase();
  var online = app.provisioned();
  var probe = probeAnswer(path);
  if (probe !== undefined && online) {
    if (probe) send(res, 200, path.indexOf(".html") > 0 ? "text/html" : "text/plain", probe);
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
    if (type && type.indexOf("application/x-www-form-urlencoded") < 0) err = "Send the form as application/x-www-form-urlencoded";
    else err = parseForm(body, f);
  }
  if (err) return reply(res, 400, "error", err);
  if (path === "/" || path === "/index.html") {
    if (f.scan) app.scan(function () {});
    return writePage(res, app, f, "");
  }
  if (path === "/board_info.json") return sendJson(res, 200, app.boardInfo());
  if (path === "/status.json") return sendJson(res, 200, app.status());
  if (path === "/status") return writeStatusPage(res, app.status());
  if (path === "/wifi_scan.json")
    return app.scan(function (json) {
      sendJson(res, 200, json);
    });
  if (path === "/config") {
    if (!checkCode(f, req, res)) return;
    var why = app.submit(f);
    // Edgent answers an invalid config with 500; a person using the form gets the page back with the reason.
    if (why) return f.ui ? writePage(res, app, f, why) : reply(res, 500, "error", why);
    if (f.ui) return send(res, 303, "text/html", "", "/status");
    return reply(res, 200, "ok", f.save && f.save !== "0" ? "Configuration saved" : "Trying to connect...");
  }
  if (path === "/reset") {
    if (!checkCode(f, req, res)) return;
    reply(res, 200, "ok", "Configuration reset");
    return app.reset();
  }
  if (path === "/reboot") {
    reply(res, 200, "ok", "Rebooting");
    return app.reboot();
  }
  reply(res, 404, "error", "Not found: " + path.replace(/[^-_./a-zA-Z0-9]/g, "?").substr(0, 40));
}
