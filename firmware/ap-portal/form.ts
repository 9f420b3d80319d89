// application/x-www-form-urlencoded, byte for byte: "%XX" becomes the raw byte (ESP strings are
// bytes, so UTF-8 SSIDs pass through untouched), "+" becomes a space, and characters a script left
// unencoded ("p@ss:w/rd!*'()") are kept as they are. A malformed "%" escape is an error, not a guess.

export type Fields = { [key: string]: string };

/**
 * Parses "a=1&b=2" into `into`. Returns an error message, or "" when fine.
 * Duplicate keys are refused: which of two passwords was meant cannot be known.
 * The helpers live inside: they exist only while a request is parsed (RAM).
 */
export function parseForm(s: string, into: Fields): string {
  function hexVal(c: number): number {
    if (c >= 48 && c <= 57) return c - 48;
    c |= 32;
    return c >= 97 && c <= 102 ? c - 87 : -1;
  }

  /** Decodes one component; returns undefined on a malformed escape. */
  function decodeComponent(s: string): string | undefined {
    var out = "";
    for (var i = 0; i < s.length; i++) {
      var c = s.charAt(i);
      if (c === "+") out += " ";
      else if (c === "%") {
        var h = hexVal(s.charCodeAt(i + 1));
        var l = hexVal(s.charCodeAt(i + 2));
        if (h < 0 || l < 0) return undefined;
        out += String.fromCharCode(h * 16 + l);
        i += 2;
      } else out += c;
    }
    return out;
  }

  /** A key quoted for an error message: printable ASCII only, never an echo of arbitrary bytes. */
  function jsonSafe(k: string): string {
    return '"' + k.replace(/[^-_.a-zA-Z0-9]/g, "?") + '"';
  }

  if (!s) return "";
  var parts = s.split("&");
  for (var i = 0; i < parts.length; i++) {
    if (!parts[i]) continue;
    var eq = parts[i].indexOf("=");
    var k = decodeComponent(eq < 0 ? parts[i] : parts[i].substr(0, eq));
    var v = decodeComponent(eq < 0 ? "" : parts[i].substr(eq + 1));
    if (k === undefined || v === undefined) return "Malformed %-escape in field " + jsonSafe(parts[i].substr(0, eq < 0 ? 20 : Math.min(eq, 20)));
    if (Object.prototype.hasOwnProperty.call(into, k)) return "Field " + jsonSafe(k.substr(0, 20)) + " appears twice";
    into[k] = v;
  }
  return "";
}

/** JSON string literal for a byte string; bytes >= 0x80 pass through so UTF-8 stays UTF-8. */
export function jsonString(s: string): string {
  var out = '"';
  for (var i = 0; i < s.length; i++) {
    var c = s.charCodeAt(i);
    if (c === 34) out += '\\"';
    else if (c === 92) out += "\\\\";
    else if (c < 32 || c === 60 || c === 62 || c === 38 || c === 127) out += "\\u00" + (c < 16 ? "0" : "") + c.toString(16);
    else out += s.charAt(i);
  }
  return out + '"';
}

/** HTML text/attribute escaping (& < > " '), for SSIDs from scans and anything echoed. */
export function html(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}
