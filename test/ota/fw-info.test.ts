import assert from "node:assert/strict";
import { buildFwTag, parseFwTag, findFwTag, withFwTag } from "../../scripts/fw-info.js";

/** C string literal concatenation as the compiler does it: the pieces, then the implicit final NUL. */
const cArray = (...pieces: string[]) => Buffer.from(pieces.join("") + "\0", "latin1");
/** BLYNK_PARAM_KV(k, v) from blynk-library src/Blynk/BlynkParam.h. */
const KV = (k: string, v: string) => k + "\0" + v + "\0";

// blynk-library src/BlynkApiArduino.h `profile[]` for an ESP32 Edgent build of library 1.4.0
// (BLYNK_FIRMWARE_VERSION "0.1.0", BLYNK_FIRMWARE_TYPE = the template id, BLYNK_HEARTBEAT 40,
// BLYNK_MAX_READBYTES 1024, BLYNK_INFO_DEVICE "ESP32"; no cpu/con on ESP SSL builds)
const ARDUINO_PROFILE = cArray(
  "blnkinf\0",
  KV("mcu", "0.1.0"), KV("fw-type", "TMPL4xxxxxxxx"), KV("build", "Jan  1 2025 12:00:00"), KV("blynk", "1.4.0"),
  KV("h-beat", "40"), KV("buff-in", "1024"), KV("dev", "ESP32"),
  "\0",
);

// Blynk-Technologies/Blynk-NCP-Example-Arduino tools/blynk_tag.py, its own example:
//   blynk-tag.py create ./tag.bin --mcu 0.1.2 --type TMPL0123456 --build "Apr 19 2023 12:01:07" --blynk "0.3.0"
// create_tag() joins the fields with NUL and appends "\0\0" (no third NUL: no C terminator)
const TAG_PY_CREATE = Buffer.from(["blnkinf", "mcu", "0.1.2", "fw-type", "TMPL0123456", "build", "Apr 19 2023 12:01:07", "blynk", "0.3.0"].join("\0") + "\0\0", "latin1");
const TAG_PY_INFO = { mcu: "0.1.2", "fw-type": "TMPL0123456", build: "Apr 19 2023 12:01:07", blynk: "0.3.0" };

describe("Blynk firmware info tag (scripts/fw-info.js)", () => {
  it("builds the bytes of the NCP examples' firmwareTag[] C array", () => {
    const want = cArray("blnkinf\0", KV("mcu", "0.1.2"), KV("fw-type", "TMPL0123456"), KV("build", "Apr 19 2023 12:01:07"), KV("blynk", "0.3.0"), "\0");
    assert.deepEqual(buildFwTag(TAG_PY_INFO), want);
  });

  it("differs from blynk_tag.py's create only by the C string's final NUL", () => {
    assert.deepEqual(buildFwTag(TAG_PY_INFO), Buffer.concat([TAG_PY_CREATE, Buffer.from([0])]));
  });

  it("writes Blynk's keys in Blynk's order, whatever order they are given in", () => {
    const tag = buildFwTag({ blynk: "0.3.0", build: "Apr 19 2023 12:01:07", "fw-type": "TMPL0123456", mcu: "0.1.2" });
    assert.deepEqual(tag, buildFwTag(TAG_PY_INFO));
  });

  it("puts further keys (hw, dev, ...) after Blynk's, in the order given", () => {
    const tag = buildFwTag({ mcu: "0.1.0", "fw-type": "TMPL4xxxxxxxx", build: "Jan  1 2025 12:00:00", blynk: "1.4.0", "h-beat": "40", "buff-in": "1024", dev: "ESP32" });
    assert.deepEqual(tag, ARDUINO_PROFILE);
    assert.match(buildFwTag({ ...TAG_PY_INFO, hw: "nodemcu" }).toString("latin1"), /blynk\x000\.3\.0\x00hw\x00nodemcu\x00\x00\x00$/);
  });

  it("finds BlynkApiArduino.h's profile inside a binary and reads all its pairs", () => {
    const bin = Buffer.concat([Buffer.from([0xe9, 0x03, 0x02, 0x20, 0, 0, 0xff]), ARDUINO_PROFILE, Buffer.from("\x00\x00trailing code", "latin1")]);
    const found = findFwTag(bin);
    assert.ok(found);
    assert.equal(found.offset, 7);
    assert.deepEqual(found.info, { mcu: "0.1.0", "fw-type": "TMPL4xxxxxxxx", build: "Jan  1 2025 12:00:00", blynk: "1.4.0", "h-beat": "40", "buff-in": "1024", dev: "ESP32" });
  });

  it("finds exactly what blynk_tag.py's find_tag finds: up to the first double NUL", () => {
    const found = findFwTag(Buffer.concat([Buffer.from("junk"), buildFwTag(TAG_PY_INFO)]));
    assert.ok(found);
    assert.equal(found.length, TAG_PY_CREATE.length);
    assert.deepEqual(found.info, TAG_PY_INFO);
  });

  it("parses a tag like blynk-tools' infoParse and blynk_tag.py's parse_tag", () => {
    assert.deepEqual(parseFwTag(TAG_PY_CREATE), TAG_PY_INFO);
    assert.deepEqual(parseFwTag(TAG_PY_CREATE.toString("latin1")), TAG_PY_INFO, "a byte string works too");
    assert.throws(() => parseFwTag("blnkopt\0ssid\0x\0\0"), /must start with "blnkinf\\0"/);
  });

  it("does not take the tag's name written with escapes in source text for a tag", () => {
    assert.equal(findFwTag('var t = "blnkinf\\0mcu\\0" + v;\n'), undefined);
    assert.equal(findFwTag("blnkinf\0mcu\x000.1.0+espruino\0\0"), undefined, "a '+' hides the tag from Blynk's finder");
  });

  it("refuses a value Blynk's finder would stop at, naming the character", () => {
    assert.throws(() => buildFwTag({ ...TAG_PY_INFO, blynk: "1.4.0+espruino" }), /"blynk" is "1\.4\.0\+espruino": Blynk's tag finder stops at "\+"/);
    assert.throws(() => buildFwTag({ ...TAG_PY_INFO, build: "2025/01/01" }), /stops at "\/"/);
  });

  it("refuses an empty value, which would end the tag early", () => {
    assert.throws(() => buildFwTag({ ...TAG_PY_INFO, build: "" }), /"build" is empty/);
  });

  it("requires mcu and fw-type", () => {
    assert.throws(() => buildFwTag({ "fw-type": "TMPL0123456" } as never), /"mcu" is missing/);
    assert.throws(() => buildFwTag({ mcu: "0.1.0" } as never), /"fw-type" is missing/);
  });

  it("appends the tag to a bundle after a newline and a NUL", () => {
    const code = "print(1);\n// last line is a comment";
    const tagged = withFwTag(code, TAG_PY_INFO);
    assert.deepEqual(tagged, Buffer.concat([Buffer.from(code + "\n\0", "latin1"), buildFwTag(TAG_PY_INFO)]));
    assert.deepEqual(findFwTag(tagged)?.info, TAG_PY_INFO);
  });

  it("tagging a tagged bundle again replaces the tag", () => {
    const once = withFwTag("print(1);", TAG_PY_INFO);
    assert.deepEqual(withFwTag(once, TAG_PY_INFO), once);
    const newer = withFwTag(once, { ...TAG_PY_INFO, mcu: "0.1.3" });
    assert.deepEqual(newer, withFwTag("print(1);", { ...TAG_PY_INFO, mcu: "0.1.3" }));
  });
});
