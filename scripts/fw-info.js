// Blynk's firmware info tag: how Blynk.Air tells which firmware a file is (type, version, build).
//
// Layout, as C source writes it (blynk-library src/BlynkApiArduino.h `profile[]`, the Blynk.NCP
// examples' `firmwareTag[]`, with src/Blynk/BlynkParam.h `BLYNK_PARAM_KV(k, v)` = k "\0" v "\0"):
//   "blnkinf\0" + key "\0" value "\0" ... + "\0" + the C string's own terminating "\0"
// Keys: `mcu` (the firmware version), `fw-type` (usually the template id), `build` (__DATE__ " "
// __TIME__), `blynk` (library version), optionally `hw` and others. Blynk's tools find the tag with
// the pattern of blynk_tag.py (Blynk-Technologies/Blynk-NCP-Example-Arduino tools/) and of
// blynk-tools' lib/firmware.js: "blnkinf\0", then only [A-Za-z0-9_ whitespace . , : - ( ) \0], up
// to the first "\0\0". A value with any other character ("+", "/") hides the whole tag from them.
//
// A JavaScript bundle can carry the tag after its last line: Espruino's lexer takes a NUL byte where
// a token starts as the end of the code (verified on the 2v29 LINUX build, see test/ota), so
// withFwTag() appends "\n\0" and the tag. The "\n" ends a trailing // comment, inside which a NUL
// would not end anything.

export const TAG_NAME = "blnkinf";

/** Keys in the order Blynk writes them; any others follow in the order given. */
const ORDER = ["mcu", "fw-type", "build", "blynk", "hw"];
const ALLOWED = /^[A-Za-z0-9_ \t\n\r\f\v.,:()-]+$/;
const FIND = /blnkinf\x00[A-Za-z0-9_ \t\n\r\f\v.,:()\x00-]*?\x00\x00/;

/**
 * The tag's bytes, exactly as the C array `firmwareTag[]` holds them (one NUL more at the end than
 * blynk_tag.py's `create`, which Blynk's finder ignores). Throws when `mcu` or `fw-type` is missing
 * or a key or value is empty or has a character Blynk's finder would stop at.
 * @param {Record<string, string | undefined>} info
 * @returns {Buffer}
 */
export function buildFwTag(info) {
  const keys = ORDER.filter((k) => info[k] !== undefined).concat(Object.keys(info).filter((k) => !ORDER.includes(k) && info[k] !== undefined));
  const problems = [];
  for (const k of ["mcu", "fw-type"]) if (info[k] === undefined) problems.push(`"${k}" is missing`);
  for (const k of keys) {
    const v = String(info[k]);
    if (!ALLOWED.test(k)) problems.push(`key "${k}" must be letters, digits, space or _ . , : - ( )`);
    if (v === "") problems.push(`"${k}" is empty: an empty value ends the tag early`);
    else if (!ALLOWED.test(v)) {
      const bad = [...new Set(v.replace(/[A-Za-z0-9_ \t\n\r\f\v.,:()-]/g, ""))].map((c) => JSON.stringify(c)).join(" ");
      problems.push(`"${k}" is ${JSON.stringify(v)}: Blynk's tag finder stops at ${bad}; use only letters, digits, space and _ . , : - ( )`);
    }
  }
  if (problems.length) throw new Error("Cannot build the Blynk firmware tag:\n  - " + problems.join("\n  - "));
  const parts = [TAG_NAME];
  for (const k of keys) parts.push(k, String(info[k]));
  return Buffer.from(parts.join("\0") + "\0\0\0", "latin1");
}

/**
 * The key/value pairs of one tag (from "blnkinf\0" up to its "\0\0"), in order.
 * @param {Uint8Array | string} tag
 * @returns {Record<string, string>}
 */
export function parseFwTag(tag) {
  const s = typeof tag === "string" ? tag : Buffer.from(tag.buffer, tag.byteOffset, tag.byteLength).toString("latin1");
  if (!s.startsWith(TAG_NAME + "\0")) throw new Error(`not a Blynk firmware tag: it must start with "${TAG_NAME}\\0"`);
  const end = s.indexOf("\0\0", TAG_NAME.length);
  const fields = s.slice(TAG_NAME.length + 1, end < 0 ? s.length : end + 1).split("\0");
  fields.pop(); // after the last value's NUL
  /** @type {Record<string, string>} */
  const out = {};
  for (let i = 0; i + 1 < fields.length; i += 2) if (!(fields[i] in out)) out[fields[i]] = fields[i + 1];
  return out;
}

/**
 * The first tag in a file, found the way Blynk's tools find it.
 * @param {Uint8Array | string} data  file bytes (a string is taken as one char per byte)
 * @returns {{ offset: number, length: number, info: Record<string, string> } | undefined}
 */
export function findFwTag(data) {
  const s = typeof data === "string" ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("latin1");
  const m = FIND.exec(s);
  if (!m) return undefined;
  return { offset: m.index, length: m[0].length, info: parseFwTag(m[0]) };
}

/**
 * A bundle with the tag after its code: bundle + "\n\0" + tag. Espruino stops reading code at the
 * NUL; an existing tag is replaced, so tagging twice gives the same bytes.
 * @param {Uint8Array | string} bundle
 * @param {Record<string, string | undefined>} info
 * @returns {Buffer}
 */
export function withFwTag(bundle, info) {
  let code = typeof bundle === "string" ? Buffer.from(bundle, "latin1") : Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const cut = code.indexOf("\n\0" + TAG_NAME + "\0", 0, "latin1");
  if (cut >= 0) code = code.subarray(0, cut);
  return Buffer.concat([code, Buffer.from("\n\0", "latin1"), buildFwTag(info)]);
}
