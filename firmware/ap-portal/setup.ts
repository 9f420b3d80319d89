// Module "setup": the requests that set the device up - the form page, /config, /reset and /reboot
// - loaded by the portal for them and dropped while a setup is being tested, so the portal that
// answers the phone's status polls during the test holds none of this code.
import { Fields, parseForm } from "./form";
import { formPart } from "./page";
import { parseConfigRequest, Pending } from "./config-request";
import { Kernel, Ev } from "../kernel";

const CODE_LOCK_MS = 30000; // after 5 wrong setup codes

/** What the portal lends the setup requests: its kernel, answer writers, scans and the state kept between requests. */
export interface PortalTools {
  k: Kernel;
  send(res: EspHttpRes, code: number, type: string, body: string, location?: string): void;
  reply(res: EspHttpRes, code: number, status: string, msg: string): void;
  /** sends an answer piece by piece: part(i) gives piece i, undefined after the last */
  stream(res: EspHttpRes, code: number, type: string, part: (i: number) => string | undefined): void;
  scan(cb: (list: string) => void): void;
  /** kept between requests: sent = the fields the form sent last; w = wrong setup codes in a row; u = locked until (ms) */
  st: { sent?: Fields; w: number; u: number };
}

/** Validates /config fields (also edgent.connect() on the REPL): a Pending config, or why not. */
export function check(f: Fields, factoryToken: string): Pending | string {
  return parseConfigRequest(f, factoryToken, __BUILD__.chip !== "ESP8266");
}

/** Answers a setup request: `path` one of /, /index.html, /config, /reset, /reboot; `query` and `body` form-encoded. */
export function serve(req: EspHttpReq, res: EspHttpRes, path: string, query: string, body: string, p: PortalTools): void {
  var k = p.k;
  var st = p.st;

  function header(name: string): string {
    for (var n in req.headers) if (n.toLowerCase() === name) return req.headers[n];
    return "";
  }

  /**
   * The setup form. Without fields of its own it shows what the form sent last, so a phone user
   * whose setup failed fixes only what was wrong. Passwords and tokens never go back into a page
   * (anyone on an open setup network could read it): the device keeps them, and an empty field
   * sends the kept one again, except the password after "wrong password" and the token after
   * "token rejected". A broker URL is shown without its password, and the same URL sent back
   * without it sends the kept one again (unless the broker refused it).
   */
  function form(f: Fields, why: string): void {
    var shown: Fields = {};
    var sent = st.sent;
    var from = f.ssid || f.ssidManual || !sent ? f : sent;
    for (var n in from) if (n !== "pass" && n !== "blynk" && n !== "code") shown[n] = from[n];
    if (sent && sent.pass && k.t !== "wrong_password") shown.kp = sent.ssidManual || sent.ssid || "";
    if (sent && sent.blynk && k.t !== "token_rejected") shown.kt = "1";
    // a broker URL without its password (mqtt://user:pw@broker -> mqtt://user@broker; the last "@"
    // ends it, as the URL parser reads it); written out here and below rather than as a function,
    // which would stay in RAM with this module
    if (shown.host) shown.host = shown.host.replace(/(\/\/[^:@\/]*):.*@/, "$1@");
    var list = k.l;
    p.stream(res, why ? 400 : 200, "text/html; charset=utf-8", function (i: number) {
      return formPart(k, shown, why, list, i);
    });
  }

  /** True when the request may change the setup (/config, /reset, /reboot); otherwise answers why not. */
  function mayChange(f: Fields): boolean {
    // Espruino does not say which interface a request came in on: while the device has an address on
    // a WiFi network (testing a new config, or the grace period after it), a request may come from there.
    if (k.ev(Ev.JOINED)) {
      p.reply(res, 409, "error", "Refused while the device is joined to a WiFi network; see /status.json");
      return false;
    }
    if (!__BUILD__.setupCode) return true;
    var t = k.now();
    var code = 429;
    var msg = "Too many wrong setup codes; wait 30 seconds";
    if (t >= st.u) {
      if ((f.code || header("x-setup-code")) === __BUILD__.setupCode) {
        st.w = 0;
        return true;
      }
      if (++st.w >= 5) {
        st.w = 0;
        st.u = t + CODE_LOCK_MS;
      }
      code = 403;
      msg = "Setup code is missing or wrong (it is printed on the device label)";
    }
    // a person using the form gets it back with the reason, as for any other refusal
    if (f.ui) form(f, msg);
    else p.reply(res, code, "error", msg);
    return false;
  }

  var f: Fields = {};
  var err = parseForm(query, f);
  if (!err && body) {
    var type = header("content-type");
    if (type && type.split(";")[0].trim().toLowerCase() !== "application/x-www-form-urlencoded") err = "Send the form as application/x-www-form-urlencoded";
    else err = parseForm(body, f);
  }
  if (err) return p.reply(res, 400, "error", err);
  if (path === "/config") {
    if (!mayChange(f)) return;
    var sent = st.sent;
    if (f.ui) {
      if (sent && !f.blynk && k.t !== "token_rejected") f.blynk = sent.blynk || "";
      if (sent && !f.pass && (f.ssidManual || f.ssid) === (sent.ssidManual || sent.ssid) && k.t !== "wrong_password") f.pass = sent.pass || "";
      if (sent && sent.host && f.host && f.host !== sent.host && f.host === sent.host.replace(/(\/\/[^:@\/]*):.*@/, "$1@") && k.t !== "token_rejected") f.host = sent.host;
      st.sent = f;
    }
    var c = check(f, k.f);
    // Edgent answers an invalid config with 500; a person using the form gets the page back with the reason.
    if (typeof c === "string") {
      k.log("Configuration invalid: " + c);
      return f.ui ? form(f, c) : p.reply(res, 500, "error", c);
    }
    k.ev(Ev.SUBMIT, c);
    if (f.ui) return p.send(res, 303, "text/html", "", "/status");
    return p.reply(res, 200, "ok", f.save && f.save !== "0" ? "Configuration saved" : "Trying to connect...");
  }
  if (path === "/reset") {
    if (!mayChange(f)) return;
    p.reply(res, 200, "ok", "Configuration reset");
    st.sent = undefined;
    return k.ev(Ev.RESET);
  }
  if (path === "/reboot") {
    if (!mayChange(f)) return; // a restart in the middle of a test strands the phone too
    p.reply(res, 200, "ok", "Rebooting");
    return k.ev(Ev.REBOOT);
  }
  // the page: a phone's browser on it is configuring the device, as the app is
  k.ev(Ev.INFO);
  // a fresh list first (asked for, or none yet): the page goes out once the scan's RAM is free again
  if (f.scan || !k.l)
    return p.scan(function () {
      form(f, "");
    });
  form(f, "");
}
