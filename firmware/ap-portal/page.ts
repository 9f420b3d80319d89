// The setup pages for a plain phone browser: no JavaScript, no external assets. The constant text
// lives in these functions (so in flash with the rest of the code), and a page is given piece by
// piece (formPart(i), statusPart(i)): the portal sends the next piece once the last one has left
// (its stream()), so RAM holds one piece of a page at a time, never the page. Their helpers are
// made per call.
import { html } from "./form";
import { Kernel } from "../kernel";

/**
 * The head of both pages in five pieces (`part` 0 to 4), with `refresh` (a meta tag or ""). Pieces
 * stay under ~200 bytes: each is in RAM twice while it goes out (the string and the socket's copy).
 */
function pageHead(title: string, refresh: string, part: number): string {
  // the first piece goes out with the HTTP header: the shortest
  if (!part) return '<!DOCTYPE html><html><head><meta charset="utf-8">';
  if (part === 1) return '<meta name="viewport" content="width=device-width,initial-scale=1">' + refresh + "<title>" + html(title) + "</title>";
  if (part === 2) return "<style>body{font:17px/1.4 sans-serif;margin:0 auto;max-width:28em;padding:1em;color:#222}h1{font-size:1.3em}label{display:block;font-weight:bold;margin-top:.8em}";
  if (part === 3) return "input,button{display:block;width:100%;box-sizing:border-box;font-size:1em;padding:.6em;margin-top:.2em}button{margin-top:1.2em;background:#23c48e;color:#fff;border:0;border-radius:.3em}";
  return ".e{background:#fde;padding:.6em}.n{color:#666;font-size:.9em}details{margin-top:1em}</style></head><body>";
}

/**
 * Piece `i` of the setup form (undefined after the last), with `f` as its values: what the user
 * sent last, without the password and the token (secrets never go into a page); `f.kp` (the
 * network's name) / `f.kt` say the device still holds the password / token sent last, so those
 * fields may be left empty. `why`: an error, or "". `list`: the last scan (wifi/scan.ts) for the
 * network list, one network per piece.
 */
export function formPart(k: Kernel, f: { [k: string]: string }, why: string, list: string, i: number): string | undefined {
  /** An input; `f` gives its value (what the user sent last), else `dflt`. Secrets never get a value. */
  function field(f: { [k: string]: string }, label: string, name: string, attrs: string, hint: string, dflt: string): string {
    var v = f[name] !== undefined ? f[name] : dflt;
    return '<label for="' + name + '">' + label + '</label><input id="' + name + '" name="' + name + '" ' + attrs + (v ? ' value="' + html(v) + '"' : "") + ">" + (hint ? '<div class="n">' + hint + "</div>" : "");
  }

  var none: { [k: string]: string } = {};
  // the networks of the scan come between pieces 6 and 7
  var n = 0;
  for (var at = 0; at < list.length; at += 17 + list.charCodeAt(at + 16)) {
    if (i === 7 + n) {
      var ssid = html(list.substr(at + 17, list.charCodeAt(at + 16)));
      return ssid ? '<option value="' + ssid + '">' + ssid + " (" + (list.charCodeAt(at) - 128) + " dBm)</option>" : "";
    }
    n++;
  }
  if (i > 6) i -= n;
  else if (i < 5) return pageHead(k.n, "", i) + (i === 4 ? "<h1>" + html(k.n) + "</h1><p>Connect this device to your WiFi network.</p>" : "");
  i -= 3;
  // one field a piece: a piece is in RAM twice while it is sent (the string, and the socket's copy)
  if (i === 2) {
    var code = k.c.e;
    var problem =
      why ||
      (code === 701 ? "The last attempt could not join the WiFi network (701): check the network name and password." :
      code === 702 ? "The last attempt joined WiFi but could not reach the Blynk cloud (702)." :
      code === 703 ? "The Blynk cloud rejected the auth token (703): the device may have been deleted; enter a new token." :
      code === 704 ? "The access point failed to start (704)." :
      code ? "Last error: " + code : "");
    return problem ? '<p class="e">' + html(problem) + "</p>" : "";
  }
  if (i === 3)
    return '<form method="post" action="/config"><input type="hidden" name="ui" value="1">' + field(f, "WiFi network", "ssid", 'list="nets" maxlength="32" required autocapitalize="none" autocorrect="off"', "", "") + '<datalist id="nets">';
  if (i === 4) return '</datalist><div class="n"><a href="/?scan=1">Scan for networks again</a></div>';
  if (i === 5) return field(none, "Password", "pass", 'type="password" maxlength="64" autocapitalize="none"', f.kp ? "Leave empty to keep the password you entered for " + html(f.kp) + "." : "Leave empty for an open network.", "");
  if (i === 6)
    return k.f && !k.c.t
      ? '<p class="n">This device already holds its Blynk auth token.</p>'
      : field(none, "Blynk auth token", "blynk", 'maxlength="32" pattern="[-_a-zA-Z0-9]{32}" autocapitalize="none" autocorrect="off"', f.kt ? "Leave empty to keep the token you entered before." : "From the device page in the Blynk console (none for your own MQTT broker).", "");
  if (i === 7) return (__BUILD__.setupCode ? field(none, "Setup code", "code", 'required autocapitalize="none"', "Printed on the device label.", "") : "") + "<details><summary>Advanced</summary>";
  if (i === 8) return field(f, "Server", "host", 'maxlength="255" autocapitalize="none"', "Or MQTT: mqtt://[user:password@]broker[:port]", "blynk.cloud");
  if (i === 9) return field(f, "Port (TLS)", "port_ssl", 'inputmode="numeric"', "Leave empty for plain TCP to the port below" + (__BUILD__.chip === "ESP8266" ? " (this chip has no TLS: it always uses the port below)." : "."), "443");
  if (i === 10) return field(f, "Port (plain TCP)", "port", 'inputmode="numeric"', "", "80");
  if (i === 11) return field(f, "Static IP", "ip", 'inputmode="decimal"', "Leave empty to use DHCP.", "");
  if (i === 12) return field(f, "Netmask", "mask", 'inputmode="decimal"', "", "");
  if (i === 13) return field(f, "Gateway", "gw", 'inputmode="decimal"', "", "");
  if (i === 14) return field(f, "DNS", "dns", 'inputmode="decimal"', "", "");
  if (i === 15) return field(f, "DNS 2", "dns2", 'inputmode="decimal"', "", "");
  if (i === 16) return "</details><button>Connect</button></form></body></html>";
  return undefined;
}

/** Piece `i` of the setup status page (undefined after the last): the provisioning test's progress and outcome. */
export function statusPart(s: { test: string; ssid: string; ip: string; link: string }, i: number): string | undefined {
  var t = s.test;
  var busy = t === "connecting" || t === "cloud";
  if (i < 5) return pageHead("Setup status", busy ? '<meta http-equiv="refresh" content="2">' : "", i);
  if (i === 5) {
    // never the word the iOS probe looks for before setup is done
    var net = "<b>" + html(s.ssid) + "</b>";
    var own = s.link.substr(0, 12) === "MQTT broker "; // a broker of the user's own (mqtt/session.ts, Ev.WORDS)
    var words =
      t === "connecting" ? "Connecting to " + net + "..." :
      t === "cloud" ? "Joined " + net + " (IP " + s.ip + "). Logging in to Blynk..." :
      t === "online" ? "Done: the device is online (IP " + s.ip + "). It will close this setup network shortly; reconnect your phone to your usual WiFi." :
      t === "wrong_password" ? "Wrong password for " + net + "." :
      t === "not_found" ? "Network " + net + " was not found. Check the name, and that it is a 2.4 GHz network in range." :
      t === "no_dhcp" ? "Joined " + net + " but got no IP address from the router (DHCP)." :
      t === "wifi_failed" ? "Could not join " + net + "." :
      t === "token_rejected" ? (own ? "The MQTT broker refused the user name or password (703). Check them in the Server field (Advanced)." : "The Blynk cloud rejected the auth token (703). Check the token.") :
      t === "cloud_unreachable" ? "Joined " + net + " but could not reach " + (own ? "the MQTT broker" : "the Blynk cloud") + " (702)" + (s.link ? ": " + html(s.link) : "") + "." :
      "No setup is in progress.";
    return "<h1>Setup status</h1><p" + (busy || t === "online" ? ">" : ' class="e">') + words + "</p>";
  }
  if (i === 6) return busy ? '<p class="n">This page refreshes by itself.</p></body></html>' : '<p><a href="/">Back to the setup form</a></p></body></html>';
  return undefined;
}
