// The broker address of the configuration, written as a URL: mqtt://[user:pass@]host[:port] or
// mqtts://... (the form mosquitto_sub -L and most MQTT tools take), for a broker of the user's own
// optionally followed by the topic prefix as its path and `?ha=` (Home Assistant's discovery
// prefix, or 0 for none): mqtt://u:p@broker/garden/pump?ha=0. Pure; runs on the device (the
// portal checks it once, at the edge) and on the host. Every refusal says what is wrong and how to
// write it instead.

export interface BrokerUrl {
  tls: boolean;
  host: string;
  port: number;
  /** "" when the URL has none. %-escapes decoded to bytes, as a URL's user info is. */
  user: string;
  pass: string;
  /** The path without its "/": the topic prefix; "" = none given (the device name's). */
  prefix: string;
  /** Home Assistant's discovery prefix: HA_DISCOVERY unless `?ha=` says another, "" with `?ha=0`. */
  ha: string;
}

/** Home Assistant's default discovery prefix (its MQTT integration's `discovery_prefix`). */
export const HA_DISCOVERY = "homeassistant";

/** Limits of the stored configuration: a host as the portal's host field, user and password as a WiFi password. */
export const enum UrlLimit {
  HOST = 64,
  USER = 64,
  PASS = 64,
  TOPIC = 64,
}

/** Returns the parts, or a string saying what is wrong. */
export function parseBrokerUrl(s: string): BrokerUrl | string {
  var err = "";
  // %XX -> the byte XX; a "%" not followed by two hex digits is an error (in `err`). By hand:
  // Espruino's decodeURIComponent throws on %80-%FF (espruino.md §0.11).
  function decode(what: string, v: string, max: number): string {
    var out = "";
    for (var i = 0; i < v.length; i++) {
      var c = v.charAt(i);
      if (c === "%") {
        var h = v.substr(i + 1, 2);
        if (!/^[0-9a-fA-F][0-9a-fA-F]$/.test(h)) err = err || what + " has a bad %-escape at \"" + v.substr(i, 3) + "\": write a % sign as %25";
        c = String.fromCharCode(parseInt(h, 16));
        i += 2;
      }
      out += c;
    }
    if (out.length > max) err = err || what + " is " + out.length + " bytes; the limit is " + max;
    return out;
  }

  // prefixes compared, not searched: Espruino 2v29's indexOf("://") also "finds" "mqtt:/"
  var head = s.substr(0, 8).toLowerCase();
  var tls = head === "mqtts://";
  if (!tls && head.substr(0, 7) !== "mqtt://") return "The broker URL must start with mqtt:// (or mqtts:// for TLS), like mqtt://192.168.1.10:1883";
  var rest = s.substr(tls ? 8 : 7);
  // the path and query: the topic prefix and ?ha=
  var end = rest.length;
  for (var k = 0; k < 3; k++) {
    var e = rest.indexOf("/?#".charAt(k));
    if (e >= 0 && e < end) end = e;
  }
  var tail = rest.substr(end);
  rest = rest.substr(0, end);
  var qm = tail.indexOf("?");
  var prefix = tail.substr(1, (qm < 0 ? tail.length : qm) - 1);
  var query = qm < 0 ? "" : tail.substr(qm + 1);
  var ha = HA_DISCOVERY;
  if (tail.indexOf("#") >= 0) return "The broker URL has a \"#\" part: MQTT topics cannot hold \"#\"; write mqtt://[user:password@]host[:port][/prefix][?ha=0]";
  if (query) {
    if (query.substr(0, 3) !== "ha=") return "The broker URL has \"?" + query + "\": the only option is ?ha= (Home Assistant's discovery prefix, or ?ha=0 for none)";
    ha = query.substr(3) === "0" ? "" : query.substr(3);
  }
  var topics = [prefix, ha];
  for (var t = 0; t < 2; t++) {
    var x = topics[t];
    if (x && (x.length > UrlLimit.TOPIC || !/^[-_a-zA-Z0-9\/]+$/.test(x) || x.indexOf("//") >= 0 || x.charAt(0) === "/" || x.substr(-1) === "/"))
      return (t ? "The ?ha= discovery prefix" : "The topic prefix (the URL's path)") + " must be at most " + UrlLimit.TOPIC + " characters of letters, digits, - and _ in levels split by single /";
  }
  var at = rest.lastIndexOf("@");
  var user = "";
  var pass = "";
  if (at >= 0) {
    var info = rest.substr(0, at);
    var colon = info.indexOf(":");
    user = decode("The user name", colon < 0 ? info : info.substr(0, colon), UrlLimit.USER);
    pass = colon < 0 ? "" : decode("The password", info.substr(colon + 1), UrlLimit.PASS);
    if (err) return err;
    rest = rest.substr(at + 1);
  }
  if (rest.charAt(0) === "[") return "IPv6 addresses are not supported: use the broker's IPv4 address or host name";
  var port = tls ? 8883 : 1883;
  var pc = rest.indexOf(":");
  var host = pc < 0 ? rest : rest.substr(0, pc);
  if (pc >= 0) {
    var p = rest.substr(pc + 1);
    port = parseInt(p, 10);
    if (!/^[0-9]+$/.test(p) || !(port > 0 && port < 65536)) return "The port must be a number from 1 to 65535 (got \"" + p + "\"); leave it out for " + (tls ? 8883 : 1883);
  }
  if (!host) return "The broker URL has no host: write mqtt://host or mqtt://host:port";
  if (host.length > UrlLimit.HOST || !/^[-.a-zA-Z0-9]+$/.test(host))
    return "The host must be a DNS name or IPv4 address of at most " + UrlLimit.HOST + " characters (letters, digits, - and .)";
  return { tls: tls, host: host, port: port, user: user, pass: pass, prefix: prefix, ha: ha };
}
