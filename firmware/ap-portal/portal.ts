// The setup portal: HTTP on port 80 and the captive DNS on port 53, alive only while the access
// point is up. Routing, limits and encoding live here; what the answers say comes from PortalApp.
import { httpListen, udpBind, now, closeStalledHttp } from "../platform/espruino";
import { Fields, parseForm, jsonString } from "./form";
import { dnsReply } from "./dns";
import { pages } from "./page";

/** What the portal asks of the device; one dispatcher function rather than an object of methods (RAM). */
export const enum Ask {
  INFO, // -> /board_info.json body
  STATUS, // -> /status.json body
  SUBMIT, // (fields) -> "" when accepted, else the reason
  RESET,
  REBOOT,
  SCAN, // (cb(json)) -> starts a scan; cb gets the /wifi_scan.json body
  ONLINE, // -> true once a tested config is stored: probes get their "online" answers
  CACHED_SCAN, // -> last /wifi_scan.json body, "" when none yet
  JOINED, // -> true while the device has an address on a WiFi network
}
export type PortalApp = (ask: Ask, arg?: any) => any;

const MAX_BODY = 1024; // a /config request is under 400 bytes even fully %-encoded
const MAX_OPEN = 6; // lwIP has 10 sockets; keep room for DNS, the cloud and the web IDE
const REQUEST_TIMEOUT = 10000; // slow or stalled clients are cut off
const CODE_LOCK_MS = 30000; // after 5 wrong setup codes

/**
 * Starts the HTTP server on port 80 and the captive DNS on port 53; returns the function that
 * stops both. Everything the portal needs is created here, inside this call: Espruino charges
 * RAM for every function object, so the portal's code costs nothing while the portal is closed.
 */
export function openPortal(app: PortalApp, apIp: string, setupCode: string): () => void {
  var open = 0;
  var wrongCodes = 0;
  var lockedUntil = 0;
  // the HTML pages' code is created per page request (pages()), not held while the portal waits

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

  function reply(res: EspHttpRes, code: number, status: string, msg: string): void {
    send(res, code, "application/json", '{"status":"' + status + '","msg":' + jsonString(msg) + "}");
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

  /** True when the request may change the setup (/config, /reset, /reboot); otherwise answers why not. */
  function mayChange(f: Fields, req: EspHttpReq, res: EspHttpRes): boolean {
    // Espruino does not say which interface a request came in on: while the device has an address on
    // a WiFi network (testing a new config, or the grace period after it), a request may come from there.
    if (app(Ask.JOINED)) {
      reply(res, 409, "error", "Refused while the device is joined to a WiFi network; see /status.json");
      return false;
    }
    if (!setupCode) return true;
    var t = now();
    var code = 429;
    var msg = "Too many wrong setup codes; wait 30 seconds";
    if (t >= lockedUntil) {
      if ((f.code || header(req, "x-setup-code")) === setupCode) {
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
    if (f.ui) pages(app, setupCode).form(res, f, msg);
    else reply(res, code, "error", msg);
    return false;
  }

  function route(req: EspHttpReq, res: EspHttpRes, body: string): void {
    var url = req.url || "/";
    var q = url.indexOf("?");
    var path = q < 0 ? url : url.substr(0, q);
    var host = header(req, "host").toLowerCase();
    var online = app(Ask.ONLINE);
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
      if (f.scan) app(Ask.SCAN, function () {});
      return pages(app, setupCode).form(res, f, "");
    }
    if (path === "/board_info.json") return send(res, 200, "application/json", app(Ask.INFO));
    if (path === "/status.json") return send(res, 200, "application/json", app(Ask.STATUS));
    if (path === "/status") return pages(app, setupCode).status(res, app(Ask.STATUS));
    if (path === "/wifi_scan.json")
      return app(Ask.SCAN, function (json: string) {
        send(res, 200, "application/json", json);
      });
    if (path === "/config") {
      if (!mayChange(f, req, res)) return;
      var why = app(Ask.SUBMIT, f);
      // Edgent answers an invalid config with 500; a person using the form gets the page back with the reason.
      if (why) return f.ui ? pages(app, setupCode).form(res, f, why) : reply(res, 500, "error", why);
      if (f.ui) return send(res, 303, "text/html", "", "/status");
      return reply(res, 200, "ok", f.save && f.save !== "0" ? "Configuration saved" : "Trying to connect...");
    }
    if (path === "/reset") {
      if (!mayChange(f, req, res)) return;
      reply(res, 200, "ok", "Configuration reset");
      return app(Ask.RESET);
    }
    if (path === "/reboot") {
      if (!mayChange(f, req, res)) return; // a restart in the middle of a test strands the phone too
      reply(res, 200, "ok", "Rebooting");
      return app(Ask.REBOOT);
    }
    reply(res, 404, "error", "Not found: " + path.replace(/[^-_./a-zA-Z0-9]/g, "?").substr(0, 40));
  }

  var server = httpListen(80, onRequest);
  // the timeout above starts once a request's headers are in; this one covers the time before
  var sweep = setInterval(closeStalledHttp, REQUEST_TIMEOUT / 2, REQUEST_TIMEOUT);
  var dns = udpBind(53, function (msg, rinfo) {
    var answer = dnsReply(msg, apIp);
    if (answer) dns.send(answer, rinfo.port, rinfo.address);
  });
  return function () {
    clearInterval(sweep);
    server.close();
    dns.close();
  };
}
