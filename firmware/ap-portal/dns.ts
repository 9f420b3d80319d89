// Captive-portal DNS responder (RFC 1035): every A query gets the AP address so phones open the
// sign-in sheet; dns.msftncsi.com gets Windows' expected 131.107.255.255; other query types get an
// empty NOERROR answer; anything that is not a well-formed standard query is ignored.

/** Returns the reply datagram, or "" when the query must be ignored. */
export function dnsReply(q: string, apIp: string): string {
  function u16(s: string, i: number): number {
    return (s.charCodeAt(i) << 8) | s.charCodeAt(i + 1);
  }

  function ipBytes(ip: string): string {
    var p = ip.split(".");
    return String.fromCharCode(+p[0], +p[1], +p[2], +p[3]);
  }

  if (q.length < 17 || q.length > 512) return "";
  var flags = u16(q, 2);
  if (flags & 0xf800) return ""; // a response, or not a standard QUERY opcode
  if (u16(q, 4) !== 1) return ""; // exactly one question
  var i = 12;
  var name = "";
  while (true) {
    var len = q.charCodeAt(i);
    if (!(len >= 0) || len > 63) return ""; // truncated, or a compression pointer in a question
    i++;
    if (len === 0) break;
    if (i + len > q.length) return "";
    name += (name ? "." : "") + q.substr(i, len);
    i += len;
  }
  if (i + 4 > q.length) return "";
  var qtype = u16(q, i);
  var question = q.substr(12, i + 4 - 12);
  var answer = "";
  if (qtype === 1 && u16(q, i + 2) === 1) {
    var addr = name.toLowerCase() === "dns.msftncsi.com" ? "131.107.255.255" : apIp;
    // name pointer to offset 12, type A, class IN, TTL 60 s (short: phones re-resolve after setup), 4 bytes
    answer = "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + ipBytes(addr);
  }
  // flags 0x8180: response, recursion desired and available, NOERROR
  return q.substr(0, 2) + "\x81\x80\x00\x01\x00" + (answer ? "\x01" : "\x00") + "\x00\x00\x00\x00" + question + answer;
}
