// A corpus of hostile or odd requests for the setup portal. Each entry is raw bytes (latin1 string)
// sent over one TCP connection, optionally in pieces with pauses, and what the device must do.
// Sources of the credential vectors: WiFiManager #804 and #1370, homie-esp8266 #75, the XSS strings
// from WiFiManager #581 / Tasmota #3967 / AutoConnect CVE-2025-50740.

import { TEST_TOKEN } from "../../shared/names.ts";

export const TOKEN = TEST_TOKEN;

export interface Expect {
  /** Acceptable HTTP statuses; 0 means "the device may close or ignore the connection". */
  status: number[];
  /** For accepted configs: the exact bytes the device must try to join with. */
  joins?: { ssid: string; pass: string };
  /** A regexp the response body must match. */
  body?: RegExp;
}
export interface Case {
  name: string;
  chunks: { data: string; gapMs?: number }[];
  expect: Expect;
}

const utf8 = (s: string) => Buffer.from(s, "utf8").toString("latin1");
const get = (target: string, headers = "Host: 192.168.4.1\r\n") => `GET ${target} HTTP/1.1\r\n${headers}\r\n`;
const post = (target: string, body: string, type = "application/x-www-form-urlencoded", extra = "") =>
  `POST ${target} HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;
const one = (data: string) => [{ data }];

/** The three encodings a value can arrive in: the app (%20), a browser form (+), and a script (raw). */
function encodings(v: string): [string, string][] {
  const pct = [...Buffer.from(v, "latin1")].map((c) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(c)) ? String.fromCharCode(c) : "%" + c.toString(16).toUpperCase().padStart(2, "0"))).join("");
  const form = pct.replace(/%20/g, "+");
  const out: [string, string][] = [["app %-encoding", pct], ["browser form encoding", form]];
  if (!/[&=+%#\s\x00-\x1f\x7f-\xff]/.test(v)) out.push(["raw reserved characters", v]);
  return out;
}

function configCases(label: string, ssid: string, pass: string): Case[] {
  const cases: Case[] = [];
  for (const [how, ps] of encodings(pass)) {
    const [, ss] = encodings(ssid)[0];
    const q = `ssid=${ss}&pass=${ps}&blynk=${TOKEN}`;
    cases.push({ name: `${label} via ${how} (GET)`, chunks: one(get("/config?" + q)), expect: { status: [200], joins: { ssid, pass } } });
    if (how !== "raw reserved characters") cases.push({ name: `${label} via ${how} (POST body)`, chunks: one(post("/config", q)), expect: { status: [200], joins: { ssid, pass } } });
  }
  return cases;
}

function seeded(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

export function hostileCorpus(): Case[] {
  const c: Case[] = [];
  // --- credentials that must arrive byte for byte ---
  const passwords: [string, string][] = [
    ["WiFiManager #804 password", "32<@werpW&uqyW=dmk0FSD"],
    ["double spaces", "Lots of  Spaces"],
    ["homie #75 password", "abcdef%&\"'+_"],
    ["UTF-8 password with quotes and brackets", utf8("pässwörd!\"'<>")],
    ["64-hex PSK", "0123456789abcdefABCDEF0123456789abcdef0123456789abcdef0123456789"],
    ["every special character", "+ % & = \" ' < >"],
    ["reserved characters", "p@ss:w/rd!*'()"],
    ["leading and trailing spaces", "  padded pass  "],
    ["63 characters", "x".repeat(63)],
  ];
  for (const [label, pass] of passwords) c.push(...configCases(label, "HomeNet", pass));
  c.push({ name: "empty password for an open network", chunks: one(get(`/config?ssid=Open&pass=&blynk=${TOKEN}`)), expect: { status: [200], joins: { ssid: "Open", pass: "" } } });
  c.push({ name: "no pass field at all", chunks: one(get(`/config?ssid=Open&blynk=${TOKEN}`)), expect: { status: [200], joins: { ssid: "Open", pass: "" } } });
  const ssids: [string, string][] = [
    ["1-byte SSID", "a"],
    ["Caf\u00e9 with a coffee cup", utf8("Café ☕")],
    ["4-byte emoji SSID", utf8("😀 home")],
    ["32-byte UTF-8 SSID", utf8("ééééééééééééééé") + "xy"],
    ["32 ASCII bytes", "s".repeat(32)],
    ["SSID with quotes", 'My "quoted" net'],
    ["XSS SSID img", "<img src=x onerror=alert(1)>"],
    ["XSS SSID attribute", '-"onfocus=alert(1) autofocus x="'],
    ["XSS SSID script", "x');alert(1)//"],
    ["SSID with ampersand and equals", "a&b=c"],
  ];
  for (const [label, ssid] of ssids) {
    const [, ss] = encodings(ssid)[0];
    c.push({ name: `${label} (GET)`, chunks: one(get(`/config?ssid=${ss}&pass=password1&blynk=${TOKEN}`)), expect: { status: [200], joins: { ssid, pass: "password1" } } });
    c.push({ name: `${label} via ssidManual`, chunks: one(post("/config", `ssid=Other&ssidManual=${ss}&pass=password1&blynk=${TOKEN}`)), expect: { status: [200], joins: { ssid, pass: "password1" } } });
  }
  // --- overlong and invalid fields ---
  const invalid: [string, string, RegExp][] = [
    ["33-byte SSID", `ssid=${"s".repeat(33)}&blynk=${TOKEN}`, /SSID is 33 bytes/],
    ["33-byte UTF-8 SSID", `ssid=${"%C3%A9".repeat(16)}x&blynk=${TOKEN}`, /SSID is 33 bytes/],
    ["580-byte SSID", `ssid=${"s".repeat(580)}&blynk=${TOKEN}`, /SSID is 580 bytes/],
    ["65-byte password", `ssid=a&pass=${"p".repeat(65)}&blynk=${TOKEN}`, /Password is 65 bytes/],
    ["7-byte password", `ssid=a&pass=1234567&blynk=${TOKEN}`, /Password is 7 bytes/],
    ["64 non-hex characters", `ssid=a&pass=${"g".repeat(64)}&blynk=${TOKEN}`, /64 hex/],
    ["31-character token", `ssid=a&blynk=${TOKEN.slice(1)}`, /32 characters/],
    ["33-character token", `ssid=a&blynk=${TOKEN}x`, /32 characters/],
    ["token with a space", `ssid=a&blynk=${TOKEN.slice(0, 31)}+`, /32 characters/],
    ["token with a quote", `ssid=a&blynk=${TOKEN.slice(0, 31)}%22`, /32 characters/],
    ["no SSID", `pass=password1&blynk=${TOKEN}`, /SSID is missing/],
    ["empty SSID", `ssid=&blynk=${TOKEN}`, /SSID is missing/],
    ["no token", `ssid=a&pass=password1`, /token is missing/],
    ["65-character host", `ssid=a&blynk=${TOKEN}&host=${"h".repeat(65)}`, /host must be/],
    ["host with a slash", `ssid=a&blynk=${TOKEN}&host=evil.com/x`, /host must be/],
    ["port 0", `ssid=a&blynk=${TOKEN}&port=0`, /port must be/],
    ["port 70000", `ssid=a&blynk=${TOKEN}&port_ssl=70000`, /port_ssl must be/],
    ["port with letters", `ssid=a&blynk=${TOKEN}&port=80a`, /port must be/],
    ["ip without mask", `ssid=a&blynk=${TOKEN}&ip=192.168.1.9`, /mask and gw/],
    ["ip out of range", `ssid=a&blynk=${TOKEN}&ip=300.1.1.1&mask=255.255.255.0&gw=1.1.1.1`, /ip must be/],
    ["ip with five parts", `ssid=a&blynk=${TOKEN}&ip=1.2.3.4.5&mask=255.255.255.0&gw=1.1.1.1`, /ip must be/],
    ["dns not an address", `ssid=a&blynk=${TOKEN}&dns=example.com`, /dns must be/],
  ];
  for (const [label, q, msg] of invalid) {
    c.push({ name: `${label} (GET)`, chunks: one(get("/config?" + q)), expect: { status: [500], body: msg } });
    // a body over the 1 KB cap is refused before its fields are read
    c.push({ name: `${label} (POST)`, chunks: one(post("/config", q)), expect: q.length > 1024 ? { status: [413], body: /over 1024 bytes/ } : { status: [500], body: msg } });
  }
  // a URL over 640 bytes is refused before it is read (each copy of a 1 KB URL is ~90 JsVars on an ESP8266)
  c.push({ name: "1000-byte SSID (GET)", chunks: one(get(`/config?ssid=${"s".repeat(1000)}&blynk=${TOKEN}`)), expect: { status: [414], body: /URL is over 640 bytes/ } });
  c.push({ name: "1000-byte SSID (POST)", chunks: one(post("/config", `ssid=${"s".repeat(1000)}&blynk=${TOKEN}`)), expect: { status: [413], body: /over 1024 bytes/ } });
  c.push({ name: "2000-byte path", chunks: one(get("/" + "x".repeat(2000))), expect: { status: [414], body: /URL is over 640 bytes/ } });
  for (const bad of ["%", "%4", "%zz", "%G0", "%%41", "abc%", "%0", "%-1", "%+1", "% 1"])
    for (const field of ["ssid", "pass"]) {
      const q = field === "ssid" ? `ssid=${bad}&blynk=${TOKEN}` : `ssid=a&pass=${bad}xxxxxxxx&blynk=${TOKEN}`;
      c.push({ name: `invalid escape ${JSON.stringify(bad)} in ${field}`, chunks: one(get("/config?" + q)), expect: { status: [400], body: /Malformed %-escape/ } });
    }
  for (const dup of ["ssid=a&ssid=b", "pass=a&pass=b", "blynk=x&blynk=y", "ssid=a&SSID=a&ssid=c", "host=a&host=a"])
    c.push({ name: `duplicate key ${dup}`, chunks: one(get(`/config?${dup}&blynk=${TOKEN}`)), expect: { status: [400], body: /appears twice/ } });
  c.push({ name: "duplicate key across query and body", chunks: one(post(`/config?ssid=a`, `ssid=b&blynk=${TOKEN}`)), expect: { status: [400], body: /appears twice/ } });
  // --- framing ---
  c.push({ name: "POST without Content-Length", chunks: one(`POST /config HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nssid=a&blynk=${TOKEN}`), expect: { status: [200, 500] } });
  const chunked = (body: string) => body.length.toString(16) + "\r\n" + body + "\r\n0\r\n\r\n";
  c.push({ name: "chunked body", chunks: one(`POST /config HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n` + chunked(`ssid=Chunked&pass=password1&blynk=${TOKEN}`)), expect: { status: [200, 400, 500, 0] } });
  c.push({ name: "chunked body with a bogus size", chunks: one(`POST /config HTTP/1.1\r\nHost: 192.168.4.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nssid=a\r\n0\r\n\r\n`), expect: { status: [200, 400, 500, 0] } });
  c.push({ name: "chunked body that never ends", chunks: [{ data: `POST /config HTTP/1.1\r\nHost: 192.168.4.1\r\nTransfer-Encoding: chunked\r\n\r\n100\r\nssid=a`, gapMs: 15000 }], expect: { status: [408, 0] } });
  for (const size of [1025, 16 * 1024, 64 * 1024])
    c.push({ name: `${size}-byte body`, chunks: one(post("/config", "ssid=" + "a".repeat(size - 5))), expect: { status: [413], body: /over 1024 bytes/ } });
  c.push({ name: "Content-Length larger than the body, then silence", chunks: [{ data: post("/config", "ssid=a").replace("Content-Length: 6", "Content-Length: 600"), gapMs: 12000 }], expect: { status: [408, 0] } });
  c.push({ name: "negative Content-Length", chunks: one(post("/config", "ssid=a").replace("Content-Length: 6", "Content-Length: -5")), expect: { status: [200, 400, 500, 0] } });
  c.push({ name: "JSON body", chunks: one(post("/config", `{"ssid":"a","blynk":"${TOKEN}"}`, "application/json")), expect: { status: [400], body: /x-www-form-urlencoded/ } });
  c.push({ name: "multipart body", chunks: one(post("/config", "--b\r\nContent-Disposition: form-data; name=\"ssid\"\r\n\r\na\r\n--b--", "multipart/form-data; boundary=b")), expect: { status: [400] } });
  let headers = "";
  for (let i = 0; i < 200; i++) headers += `X-Junk-${i}: ${"v".repeat(20)}\r\n`;
  c.push({ name: "200 headers", chunks: one(get("/board_info.json", "Host: 192.168.4.1\r\n" + headers)), expect: { status: [200, 431, 0] } });
  c.push({ name: "8 KB header line", chunks: one(get("/board_info.json", "Host: 192.168.4.1\r\nX-Big: " + "b".repeat(8192) + "\r\n")), expect: { status: [200, 431, 0] } });
  c.push({ name: "header without a colon", chunks: one(get("/board_info.json", "Host: 192.168.4.1\r\nnocolon\r\n")), expect: { status: [200, 400, 0] } });
  c.push({ name: "4 KB URL", chunks: one(get("/config?ssid=" + "u".repeat(4096))), expect: { status: [400, 413, 414, 500, 0] } });
  // --- methods and request lines ---
  for (const line of ["GET /\r\n\r\n", "GET /\r\n", "GET\r\n\r\n", "\r\n\r\n", "HELLO\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "get /board_info.json HTTP/1.1\r\n\r\n", "GET /board_info.json HTTP/1.0\r\n\r\n", "GET  /  HTTP/1.1\r\n\r\n", "GET /\tHTTP/1.1\r\n\r\n"])
    c.push({ name: `request line ${JSON.stringify(line)}`, chunks: one(line), expect: { status: [0, 200, 302, 400, 404, 405] } });
  for (const m of ["PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT"])
    c.push({ name: `${m} /config`, chunks: one(`${m} /config?ssid=a&blynk=${TOKEN} HTTP/1.1\r\nHost: 192.168.4.1\r\n\r\n`), expect: { status: [405, 0] } });
  // --- paths ---
  for (const p of ["/../../etc/passwd", "/%00", "/config%00.json", "/board_info.json/../reset", "//", "/?", "/index.html?x=%", "/%2e%2e/reset", "/.bootcde", "/edgent.cfg0", "/status.json?x=1&x=2", "/wifi_scan.json?scan=%zz"])
    c.push({ name: `path ${p}`, chunks: one(get(p)), expect: { status: [200, 302, 400, 404] } });
  // --- binary junk ---
  const rnd = seeded(4242);
  for (let i = 0; i < 25; i++) {
    let s = "";
    const n = 1 + Math.floor(rnd() * 600);
    for (let k = 0; k < n; k++) s += String.fromCharCode(Math.floor(rnd() * 256));
    // Terminated, so the device parses and answers it. (Espruino's HTTP server has no header
    // timeout: a connection that never ends its headers holds a socket until the client leaves.)
    s += "\r\n\r\n";
    c.push({ name: `binary junk #${i} (${n} bytes)`, chunks: one(s), expect: { status: [0, 200, 302, 400, 404, 405, 413] } });
  }
  c.push({ name: "NUL bytes in the request line", chunks: one("GET /\x00\x00 HTTP/1.1\r\n\r\n"), expect: { status: [0, 302, 400, 404] } });
  c.push({ name: "TLS ClientHello on port 80", chunks: one("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + "\xaa".repeat(64) + "\r\n\r\n"), expect: { status: [0, 400, 404, 405] } });
  // --- slow clients ---
  const slow = get("/board_info.json");
  c.push({ name: "a byte a second (headers complete in time)", chunks: [...slow.slice(0, 8)].map((ch) => ({ data: ch, gapMs: 1000 })).concat([{ data: slow.slice(8), gapMs: 0 }]), expect: { status: [200, 408, 0] } });
  c.push({ name: "a slow body, a byte a second", chunks: [{ data: post("/config", `ssid=Slow&pass=password1&blynk=${TOKEN}`).split("\r\n\r\n")[0] + "\r\n\r\n", gapMs: 0 }].concat([..."ssid=Slow&pass=password1&blynk="].map((ch) => ({ data: ch, gapMs: 1000 }))), expect: { status: [408, 0] } });
  // --- captive probes and foreign hosts ---
  for (const h of ["connectivitycheck.gstatic.com", "captive.apple.com", "www.msftconnecttest.com", "example.com", "192.168.4.2", "evil.com:8080", ""])
    c.push({ name: `foreign Host ${JSON.stringify(h)}`, chunks: one(get("/anything", h ? `Host: ${h}\r\n` : "")), expect: { status: h ? [302] : [404] } });
  return c;
}
