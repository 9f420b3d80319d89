// Validates a provisioning request (Edgent's /config fields) into a pending configuration.
// Every refusal says which limit was hit; nothing is stored by this module.
//
// `host` chooses the link: a host name is the Blynk protocol (with `port` and `port_ssl`); a broker
// URL, mqtt://[user:password@]broker[:port] or mqtts://..., is MQTT (module "mqtt"): with a token
// (the `blynk` field, or the factory token) Blynk's MQTT API at that broker, which logs in as user
// "device" with the token; with a user name in the URL, or no token at all, a broker of the user's own
// (a token is then not used). The URL's port replaces `port` and `port_ssl`; a broker of the user's
// own may have the topic prefix as the URL's path and Home Assistant's discovery as `?ha=`.
import { Fields } from "./form";
import { Config, defaultConfig, isValidToken, Flag } from "../core/config";
import { parseBrokerUrl, BrokerUrl, HA_DISCOVERY } from "../mqtt/url";

export interface Pending {
  c: Config; // config to test (networks[0] is the one to join)
  save: boolean; // Edgent's save=1: persist before testing
}

/**
 * Returns a Pending config, or a string saying what is wrong. `tls`: the interpreter may have TLS
 * (false on ESP8266: an mqtts:// broker is refused there).
 */
export function parseConfigRequest(f: Fields, factoryToken: string, tls?: boolean): Pending | string {
  function isDottedQuad(s: string): boolean {
    var p = s.split(".");
    if (p.length !== 4) return false;
    for (var i = 0; i < 4; i++) if (!/^[0-9][0-9]*$/.test(p[i]) || p[i].length > 3 || parseInt(p[i], 10) > 255) return false;
    return true;
  }

  function tooLong(name: string, v: string, max: number): string {
    return v.length > max ? name + " is " + v.length + " bytes; the limit is " + max : "";
  }

  var ssid = f.ssidManual ? f.ssidManual : f.ssid || "";
  var pass = f.pass || "";
  var host = f.host || "";
  // a broker URL (host names have no ":"), checked before the token: it decides whether one is needed
  var u: BrokerUrl | string | undefined = host.indexOf(":") >= 0 ? parseBrokerUrl(host) : undefined;
  if (typeof u === "string") return u;
  var token = u && (u.user || u.pass) ? "" : f.blynk || factoryToken;
  if (!ssid) return "SSID is missing";
  var err = tooLong("SSID", ssid, 32) || tooLong("Password", pass, 64);
  if (err) return err;
  if (pass.length === 64 ? !/^[0-9a-fA-F]*$/.test(pass) : pass.length > 0 && pass.length < 8)
    return "Password is " + pass.length + " bytes; WPA2 needs 8 to 63 characters, 64 hex digits, or none for an open network";
  if (!token && !u) return "Auth token is missing";
  if (token && !isValidToken(token)) return "Auth token must be 32 characters of A-Z a-z 0-9 _ -";
  var c = defaultConfig();
  c.n = [{ s: ssid, p: pass }];
  c.t = token;
  if (u) {
    if (u.tls && !tls) return "This chip has no TLS: write the broker as mqtt:// (plain TCP), not mqtts://";
    c.f = Flag.MQTT;
    c.h = u.host;
    c.p = u.tls ? 0 : u.port;
    c.q = u.tls ? u.port : 0;
    if (u.user) c.u = u.user;
    if (u.pass) c.w = u.pass;
    if (token && (u.prefix || u.ha !== HA_DISCOVERY)) return "Blynk's MQTT API has topics of its own: leave the path and ?ha= out of the URL (they are for a broker of your own)";
    if (u.prefix) c.x = u.prefix;
    if (u.ha !== HA_DISCOVERY) c.a = u.ha;
  } else {
    if (host) {
      if (host.length > 64 || !/^[-.a-zA-Z0-9]*$/.test(host)) return "host must be a DNS name or IP address of at most 64 characters, or an MQTT broker as mqtt://[user:password@]broker[:port]";
      c.h = host;
    }
    var ports = ["port", "port_ssl"];
    for (var i = 0; i < 2; i++) {
      var v = f[ports[i]];
      if (v) {
        var n = parseInt(v, 10);
        if (!/^[0-9]*$/.test(v) || !(n > 0 && n < 65536)) return ports[i] + " must be a number from 1 to 65535";
        if (i) c.q = n;
        else c.p = n;
      }
    }
    // `port` without `port_ssl` (a script, a local server, the page with its TLS port cleared) means
    // plain TCP to that port; the app sends both and keeps TLS.
    if (f.port && !f.port_ssl) c.q = 0;
  }
  var ipKeys = ["ip", "mask", "gw", "dns", "dns2"];
  for (var j = 0; j < 5; j++) {
    var a = f[ipKeys[j]] || "";
    if (a && !isDottedQuad(a)) return ipKeys[j] + " must be an IPv4 address like 192.168.1.20";
    c.i.push(a);
  }
  if (c.i[0]) {
    if (!c.i[1] || !c.i[2]) return "A static ip also needs mask and gw";
    c.f |= Flag.STATIC_IP;
  } else c.i = [];
  return { c: c, save: !!f.save && f.save !== "0" };
}
