// What the OTA hashes share: the incremental interface, the constant tables and the text forms of a
// digest. Pure: no Espruino globals, so the same code runs in Node's tests and on the chip.
// Strings are byte strings (one char per byte), as Espruino's sockets and Storage deliver them.

/**
 * An incremental hash: update() with byte strings of any length, split anywhere, then digest()
 * once. The digest is the raw bytes as a byte string (16 for MD5, 32 for SHA-256); hex() and
 * base64() give the forms Blynk's headers use (x-md5: hex, x-sha256: base64).
 */
export interface Hash {
  update(bytes: string): void;
  digest(): string;
}

/**
 * A Hash that ignores the stream and digests the stored file once it is complete: for a native
 * hash over flash, e.g. on the ESP32 build with CRYPTO, where Storage.read() is memory-mapped and
 * require("crypto").SHA256 reads it in place:
 *   sha256: function () { return stored(function () { return E.toString(require("crypto").SHA256(require("Storage").read(name))); }); }
 * It checks what was written rather than what was received, at C speed.
 */
export function stored(digest: () => string): Hash {
  return { update: function () {}, digest: digest };
}

/**
 * A table of 32-bit constants from 8 hex digits each. The table is one string literal rather than
 * an array literal: while it is parsed it costs about one JsVar per 10 characters instead of one
 * per number, and only while the hash is created.
 */
export function words(hex: string): Int32Array {
  var t = new Int32Array(hex.length >> 3);
  for (var i = 0; i < t.length; i++) t[i] = parseInt(hex.substr(i << 3, 8), 16);
  return t;
}

// The alphabets below are literals inside the functions, not module variables: a module variable
// would hold its string in RAM for good, a literal costs RAM only while the function runs.

/** Lower-case hex of a byte string ("\x01\xab" -> "01ab"). */
export function hex(bytes: string): string {
  var HEX = "0123456789abcdef";
  var s = "";
  for (var i = 0; i < bytes.length; i++) {
    var c = bytes.charCodeAt(i);
    s += HEX.charAt(c >> 4) + HEX.charAt(c & 15);
  }
  return s;
}

/** Standard base64 with "=" padding (RFC 4648 §4), what btoa() gives; written out because it is not a global everywhere. */
export function base64(bytes: string): string {
  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  var s = "";
  for (var i = 0; i < bytes.length; i += 3) {
    var n = bytes.length - i;
    var v = (bytes.charCodeAt(i) << 16) | (n > 1 ? bytes.charCodeAt(i + 1) << 8 : 0) | (n > 2 ? bytes.charCodeAt(i + 2) : 0);
    s += B64.charAt(v >> 18) + B64.charAt((v >> 12) & 63) + (n > 1 ? B64.charAt((v >> 6) & 63) : "=") + (n > 2 ? B64.charAt(v & 63) : "=");
  }
  return s;
}
