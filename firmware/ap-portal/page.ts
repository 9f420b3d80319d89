// The setup page for a plain phone browser: no JavaScript, no external assets. The constant text
// lives in these functions (so in flash with the rest of the code) and is written in pieces, so it
// only occupies RAM while a request is being answered; the functions themselves exist only while
// the portal is open (pages() is called by openPortal).
import { html } from "./form";
import { PortalApp, Ask } from "./portal";

/** The portal's two HTML pages: the setup form (with an error, or "") and the setup status page. */
export function pages(app: PortalApp, setupCode: string): { form(res: EspHttpRes, f: { [k: string]: string }, error: string): void; status(res: EspHttpRes, statusJson: string): void } {
  function head(res: EspHttpRes, code: number, title: string, refresh: string): void {
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

  function field(label: string, name: string, attrs: string, hint: string): string {
    return '<label for="' + name + '">' + label + '</label><input id="' + name + '" name="' + name + '" ' + attrs + ">" + (hint ? '<div class="n">' + hint + "</div>" : "");
  }

  function lastErrorText(code: number): string {
    if (code === 701) return "The last attempt could not join the WiFi network (701): check the network name and password.";
    if (code === 702) return "The last attempt joined WiFi but could not reach the Blynk cloud (702).";
    if (code === 703) return "The Blynk cloud rejected the auth token (703): the device may have been deleted; enter a new token.";
    if (code === 704) return "The access point failed to start (704).";
    return code ? "Last error: " + code : "";
  }

  function form(res: EspHttpRes, f: { [k: string]: string }, error: string): void {
    var info = JSON.parse(app(Ask.INFO));
    head(res, error ? 400 : 200, info.ssid, "");
    res.write("<h1>" + html(info.ssid) + "</h1><p>Connect this device to your WiFi network.</p>");
    var problem = error || lastErrorText(info.last_error);
    if (problem) res.write('<p class="e">' + html(problem) + "</p>");
    res.write('<form method="post" action="/config"><input type="hidden" name="ui" value="1">');
    res.write(field("WiFi network", "ssid", 'list="nets" maxlength="32" required autocapitalize="none" autocorrect="off" value="' + html(f.ssid || "") + '"', ""));
    var nets = app(Ask.CACHED_SCAN);
    if (!nets) app(Ask.SCAN, function () {}); // so the next load can list networks
    res.write('<datalist id="nets">');
    if (nets) {
      var list = JSON.parse(nets);
      for (var i = 0; i < list.length; i++) if (list[i].ssid) res.write('<option value="' + html(list[i].ssid) + '">' + html(list[i].ssid) + " (" + list[i].rssi + " dBm)</option>");
    }
    res.write('</datalist><div class="n"><a href="/?scan=1">Scan for networks</a> (reload after a few seconds)</div>');
    res.write(field("Password", "pass", 'type="password" maxlength="64" autocapitalize="none"', "Leave empty for an open network."));
    if (info.preprovisioned) res.write('<p class="n">This device already holds its Blynk auth token.</p>');
    else res.write(field("Blynk auth token", "blynk", 'maxlength="32" pattern="[-_a-zA-Z0-9]{32}" required autocapitalize="none" autocorrect="off"', "32 characters, from the device page in the Blynk console."));
    if (setupCode) res.write(field("Setup code", "code", 'required autocapitalize="none"', "Printed on the device label."));
    res.write("<details><summary>Advanced</summary>");
    res.write(field("Server", "host", 'value="blynk.cloud" maxlength="64"', ""));
    res.write(field("Port (TLS)", "port_ssl", 'value="443" inputmode="numeric"', "") + field("Port (plain TCP)", "port", 'value="80" inputmode="numeric"', ""));
    res.write(field("Static IP", "ip", 'inputmode="decimal"', "Leave empty to use DHCP.") + field("Netmask", "mask", 'inputmode="decimal"', "") + field("Gateway", "gw", 'inputmode="decimal"', ""));
    res.write(field("DNS", "dns", 'inputmode="decimal"', "") + field("DNS 2", "dns2", 'inputmode="decimal"', ""));
    res.end("</details><button>Connect</button></form></body></html>");
  }

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

  function status(res: EspHttpRes, statusJson: string): void {
    var s = JSON.parse(statusJson);
    var busy = s.test === "connecting" || s.test === "cloud";
    head(res, 200, "Setup status", busy ? '<meta http-equiv="refresh" content="2">' : "");
    res.write("<h1>Setup status</h1><p" + (busy || s.test === "online" ? ">" : ' class="e">') + testText(s.test, s.ssid, s.ip) + "</p>");
    res.end(busy ? '<p class="n">This page refreshes by itself.</p></body></html>' : '<p><a href="/">Back to the setup form</a></p></body></html>');
  }

  return { form: form, status: status };
}
