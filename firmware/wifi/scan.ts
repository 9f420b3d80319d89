// A scan's summary, shared by the WiFi driver (which makes it) and the portal (which lists it):
// one string, strongest network first, at most SCAN_MAX records of
//   [rssi + 128][channel][security index into SEC_NAMES][hidden 0/1][12 hex digits BSSID][ssid length][ssid]
// A string holds a network in about 4 JsVars where Espruino's own scan object takes about 20.

/** At most this many networks are kept from a scan, the strongest (Edgent lists 15). */
export const SCAN_MAX = 15;

/** Security names for /wifi_scan.json, indexed like AUTH_MODES. */
export const SEC_NAMES = "OPEN WEP WPA WPA2 WPA+WPA2 WPA2-EAP WPA3 WPA2+WPA3 unknown";
/** Espruino's authMode words, in SEC_NAMES order. */
export const AUTH_MODES = "open wep wpa wpa2 wpa_wpa2 wpa2_enterprise wpa3 wpa2_wpa3";

/** Length of the record at `i`. */
export function recordLength(list: string, i: number): number {
  return 17 + list.charCodeAt(i + 16);
}

/**
 * Adds one network of Espruino's scan ({ssid, mac, rssi, channel, authMode, isHidden}) to a
 * summary, keeping it sorted by signal and at most SCAN_MAX long; returns the new summary.
 */
export function addNetwork(list: string, a: any): string {
  var i = 0;
  var ssid = String(a.ssid || "").substr(0, 32);
  var rssi = a.rssi < -127 ? -127 : a.rssi > 127 ? 127 : a.rssi | 0;
  // the word's index in AUTH_MODES, counted in place (a split would make 8 strings per network)
  var words = " " + AUTH_MODES + " ";
  var at = words.indexOf(" " + a.authMode + " ");
  var sec = 8; // unknown
  // Espruino 2v29's indexOf may report a partial match at the very end: check the match
  if (at >= 0 && words.substr(at, String(a.authMode).length + 2) === " " + a.authMode + " ") for (sec = 0, i = 0; i < at; i++) if (words.charCodeAt(i) === 32) sec++;
  var m = String(a.mac || "");
  var mac = "";
  for (i = 0; i < m.length; i++) if (m.charAt(i) !== ":") mac += m.charAt(i);
  mac = (mac.toUpperCase() + "000000000000").substr(0, 12);
  var rec = String.fromCharCode(rssi + 128, (parseInt(a.channel, 10) || 0) & 255, sec, a.isHidden || !ssid ? 1 : 0) + mac + String.fromCharCode(ssid.length) + ssid;
  // insert before the first weaker one
  i = 0;
  var n = 0;
  while (i < list.length && list.charCodeAt(i) >= rssi + 128) {
    i += 17 + list.charCodeAt(i + 16);
    n++;
  }
  if (n >= SCAN_MAX) return list;
  list = list.substr(0, i) + rec + list.substr(i);
  // past SCAN_MAX: cut after the SCAN_MAX-th record
  for (i = 0, n = 0; i < list.length && n < SCAN_MAX; n++) i += 17 + list.charCodeAt(i + 16);
  return list.substr(0, i);
}

/** The SSIDs of a summary, strongest first. */
export function scanSsids(list: string): string[] {
  var out: string[] = [];
  for (var i = 0; i < list.length; i += 17 + list.charCodeAt(i + 16)) out.push(list.substr(i + 17, list.charCodeAt(i + 16)));
  return out;
}
