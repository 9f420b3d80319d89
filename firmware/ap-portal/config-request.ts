// Validates a provisioning request (Edgent's /config fields) into a pending configuration.
// Every refusal says which limit was hit; nothing is stored by this module.
import { Fields } from "./form";
import { Config, defaultConfig, isValidToken, Flag } from "../core/config";

export interface Pending {
  c: Config; // config to test (networks[0] is the one to join)
  save: boolean; // Edgent's save=1: persist before testing
}

/** Returns a Pending config, or a string saying what is wrong. */
export function parseConfigRequest(f: Fields, factoryToken: string): Pending | string {
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
  var token = f.blynk || factoryToken;
  if (!ssid) return "SSID is missing";
  var err = tooLong("SSID", ssid, 32) || tooLong("Password", pass, 64);
  if (err) return err;
  if (pass.length === 64 ? !/^[0-9a-fA-F]*$/.test(pass) : pass.length > 0 && pass.length < 8)
    return "Password is " + pass.length + " bytes; WPA2 needs 8 to 63 characters, 64 hex digits, or none for an open network";
  if (!token) return "Auth token is missing";
  if (!isValidToken(token)) return "Auth token must be 32 characters of A-Z a-z 0-9 _ -";
  var c = defaultConfig();
  c.n = [{ s: ssid, p: pass }];
  c.t = token;
  if (f.host) {
    if (f.host.length > 64 || !/^[-.a-zA-Z0-9]*$/.test(f.host)) return "host must be a DNS name or IP address of at most 64 characters";
    c.h = f.host;
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
