// The setup pages for a plain phone browser: no JavaScript, no external assets. The constant text
// lives in these functions (so in flash with the rest of the code) and is written in pieces, so it
// only occupies RAM while a request is being answered; their helpers are made per call.
import { html } from "./form";
import { Kernel } from "../kernel";

/** The head of both pages, with `refresh` (a meta tag or ""). */
export function pageHead(res: EspHttpRes, code: number, title: string, refresh: string): void {
  res.writeHead(code, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
  res.write(
    '<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">' +
      refresh +
      "<title>" +
      html(title) +
      "</title><style>body{font:17px/1.4 sans-serif;margin:0 auto;max-width:28em;padding:1em;color:#222}" +
      "h1{font-size:1.3em}label{display:block;font-weight:bold;margin-top:.8em}" +
      "input,button{display:block;width:100%;box-sizing:border-box;font-size:1em;padding:.6em;margin-top:.2em}" +
      "button{margin-top:1.2em;background:#23c48e;color:#fff;border:0;border-radius:.3em}" +
      ".e{background:#fde;padding:.6em}.n{color:#666;font-size:.9em}details{margin-top:1em}</style></head><body>"
  );
}

/**
 * The setup form with `f` as its values: what the user sent last, without the password and the
 * token (secrets never go into a page); `f.kp` (the network's name) / `f.kt` say the device still
 * holds the password / token sent last, so those fields may be left empty. `why`: an error, or "".
 * `list`: the last scan (wifi/scan.ts) for the network list.
 */
export function formPage(res: EspHttpRes, k: Kernel, f: { [k: string]: string }, why: string, list: string): void {
  /** An input; `f` gives its value (what the user sent last), else `dflt`. Secrets never get a value. */
  function field(f: { [k: string]: string }, label: string, name: string, attrs: string, hint: string, dflt: string): string {
    var v = f[name] !== undefined ? f[name] : dflt;
    return '<label for="' + name + '">' + label + '</label><input id="' + name + '" name="' + name + '" ' + attrs + (v ? ' value="' + html(v) + '"' : "") + ">" + (hint ? '<div class="n">' + hint + "</div>" : "");
  }

  function lastErrorText(code: number): string {
    if (code === 701) return "The last attempt could not join the WiFi network (701): check the network name and password.";
    if (code === 702) return "The last attempt joined WiFi but could not reach the Blynk cloud (702).";
    if (code === 703) return "The Blynk cloud rejected the auth token (703): the device may have been deleted; enter a new token.";
    if (code === 704) return "The access point failed to start (704).";
    return code ? "Last error: " + code : "";
  }

  pageHead(res, why ? 400 : 200, k.n, "");
  res.write("<h1>" + html(k.n) + "</h1><p>Connect this device to your WiFi network.</p>");
  var problem = why || lastErrorText(k.c.e);
  if (problem) res.write('<p class="e">' + html(problem) + "</p>");
  res.write('<form method="post" action="/config"><input type="hidden" name="ui" value="1">');
  res.write(field(f, "WiFi network", "ssid", 'list="nets" maxlength="32" required autocapitalize="none" autocorrect="off"', "", ""));
  res.write('<datalist id="nets">');
  for (var i = 0; i < list.length; i += 17 + list.charCodeAt(i + 16)) {
    var ssid = html(list.substr(i + 17, list.charCodeAt(i + 16)));
    if (ssid) res.write('<option value="' + ssid + '">' + ssid + " (" + (list.charCodeAt(i) - 128) + " dBm)</option>");
  }
  res.write('</datalist><div class="n"><a href="/?scan=1">Scan for networks</a> (reload after a few seconds)</div>');
  var none: { [k: string]: string } = {};
  res.write(field(none, "Password", "pass", 'type="password" maxlength="64" autocapitalize="none"', f.kp ? "Leave empty to keep the password you entered for " + html(f.kp) + "." : "Leave empty for an open network.", ""));
  if (k.f && !k.c.t) res.write('<p class="n">This device already holds its Blynk auth token.</p>');
  else res.write(field(none, "Blynk auth token", "blynk", 'maxlength="32" pattern="[-_a-zA-Z0-9]{32}" autocapitalize="none" autocorrect="off"' + (f.kt ? "" : " required"), f.kt ? "Leave empty to keep the token you entered before." : "32 characters, from the device page in the Blynk console.", ""));
  if (__BUILD__.setupCode) res.write(field(none, "Setup code", "code", 'required autocapitalize="none"', "Printed on the device label.", ""));
  res.write("<details><summary>Advanced</summary>");
  res.write(field(f, "Server", "host", 'maxlength="64"', "", "blynk.cloud"));
  res.write(field(f, "Port (TLS)", "port_ssl", 'inputmode="numeric"', "Leave empty for plain TCP to the port below" + (__BUILD__.chip === "ESP8266" ? " (this chip has no TLS: it always uses the port below)." : "."), "443") + field(f, "Port (plain TCP)", "port", 'inputmode="numeric"', "", "80"));
  res.write(field(f, "Static IP", "ip", 'inputmode="decimal"', "Leave empty to use DHCP.", "") + field(f, "Netmask", "mask", 'inputmode="decimal"', "", "") + field(f, "Gateway", "gw", 'inputmode="decimal"', "", ""));
  res.write(field(f, "DNS", "dns", 'inputmode="decimal"', "", "") + field(f, "DNS 2", "dns2", 'inputmode="decimal"', "", ""));
  res.end("</details><button>Connect</button></form></body></html>");
}

/** The setup status page: the provisioning test's progress and outcome, from /status.json's record. */
export function statusPage(res: EspHttpRes, s: { test: string; ssid: string; ip: string }): void {
  /** Words for /status.json's "test" field. Never the word the iOS probe looks for before setup is done. */
  function testText(t: string, ssid: string, ip: string): string {
    var net = "<b>" + html(ssid) + "</b>";
    if (t === "connecting") return "Connecting to " + net + "...";
    if (t === "cloud") return "Joined " + net + " (IP " + ip + "). Logging in to Blynk...";
    if (t === "online") return "Done: the device is online (IP " + ip + "). It will close this setup network shortly; reconnect your phone to your usual WiFi.";
    if (t === "wrong_password") return "Wrong password for " + net + ".";
    if (t === "not_found") return "Network " + net + " was not found. Check the name, and that it is a 2.4 GHz network in range.";
    if (t === "no_dhcp") return "Joined " + net + " but got no IP address from the router (DHCP).";
    if (t === "wifi_failed") return "Could not join " + net + ".";
    if (t === "token_rejected") return "The Blynk cloud rejected the auth token (703). Check the token.";
    if (t === "cloud_unreachable") return "Joined " + net + " but could not reach the Blynk cloud (702).";
    return "No setup is in progress.";
  }

  var busy = s.test === "connecting" || s.test === "cloud";
  pageHead(res, 200, "Setup status", busy ? '<meta http-equiv="refresh" content="2">' : "");
  res.write("<h1>Setup status</h1><p" + (busy || s.test === "online" ? ">" : ' class="e">') + testText(s.test, s.ssid, s.ip) + "</p>");
  res.end(busy ? '<p class="n">This page refreshes by itself.</p></body></html>' : '<p><a href="/">Back to the setup form</a></p></body></html>');
}
