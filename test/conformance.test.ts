import assert from "node:assert/strict";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { checkBundle } from "../scripts/conformance.js";
import { parseImage, moduleText, imageIntact } from "../scripts/image.js";
import { findFwTag } from "../scripts/fw-info.js";
import { readIdentity } from "../scripts/identity.js";

const rules = (code: string) => checkBundle(code).map((p: { rule: string }) => p.rule);

describe("bundle conformance check", () => {
  const dist = new URL("../dist/", import.meta.url);
  const bundles = existsSync(dist) ? readdirSync(dist).filter((f) => f.endsWith(".js") && !f.endsWith(".ota.js")) : [];
  it("finds a bundle for every board profile", () => {
    const boards = readdirSync(new URL("../boards/", import.meta.url)).filter((f) => f.endsWith(".json")).map((f) => f.replace(".json", ".js"));
    assert.deepEqual(bundles.sort(), boards.sort());
  });
  for (const f of bundles)
    it(`dist/${f}: its loader and every module contain nothing Espruino cannot run, and the modules match the header's CRC`, () => {
      const text = readFileSync(new URL(f, dist), "latin1");
      const image = parseImage(text);
      assert.ok(image, "a firmware image header");
      assert.deepEqual(Object.keys(image.mods), ["core", ...Object.keys(image.mods).slice(1)], "the core comes first");
      assert.deepEqual(checkBundle(text), [], "the loader");
      for (const name of Object.keys(image.mods)) assert.deepEqual(checkBundle(moduleText(text, name)), [], `module ${name}`);
      assert.ok(imageIntact(text), "CRC");
    });
  for (const f of bundles)
    it(`dist/${f.replace(".js", ".ota.js")} (for Blynk.Air) is dist/${f} with Blynk's firmware info tag after it`, () => {
      const text = readFileSync(new URL(f, dist), "latin1");
      const ota = readFileSync(new URL(f.replace(".js", ".ota.js"), dist), "latin1");
      assert.equal(ota.slice(0, text.length), text);
      assert.equal(ota.slice(text.length, text.length + 2), "\n\0");
      const tag = findFwTag(ota);
      assert.ok(tag && tag.offset === text.length + 2, "the tag, found as Blynk's tools find it, right after the image");
      const id = readIdentity();
      assert.deepEqual(Object.keys(tag.info), ["mcu", "fw-type", "build", "blynk", "hw"]);
      assert.deepEqual([tag.info.mcu, tag.info["fw-type"], tag.info.build, tag.info.hw], [id.firmwareVersion, id.templateId, parseImage(text).build, f.replace(".js", "")]);
    });

  // Each known trap must be caught, or the check above proves nothing.
  const traps: [string, string, string][] = [
    ["arrow function", "var f = () => 1;", "syntax"],
    ["destructuring", "var {a} = o;", "syntax"],
    ["default parameter", "function f(a = 1) {}", "syntax"],
    ["spread", "f(...a);", "syntax"],
    ["Map", "var m = new Map();", "builtin"],
    ["Set", "var s = new Set();", "builtin"],
    ["Symbol", "var s = Symbol('x');", "builtin"],
    ["Array.from", "Array.from(x);", "builtin"],
    ["Object.freeze", "Object.freeze(x);", "builtin"],
    ["Number.isInteger", "Number.isInteger(1);", "builtin"],
    ["Array.prototype.slice access", "Array.prototype.slice.call(arguments);", "prototype"],
    ["array holes", "var a = [1,,2];", "array-hole"],
    ["length assignment", "a.length = 0;", "length-assign"],
    ["regex ?", "var r = /ab?c/;", "regex"],
    ["regex {n}", "var r = /a{2}/;", "regex"],
    ["regex (?:", "var r = /(?:a)/;", "regex"],
    ["regex lookahead", "var r = /a(?=b)/;", "regex"],
    ["regex backreference", "var r = /(a)\\1/;", "regex"],
    ["non-ASCII byte", "var s = '\u00e9';", "ascii"],
    ["character above \\xFF", "var s = '\\u2615';", "unicode"],
    ["String concat from template literals", 'var s = "".concat(a, "b");', "builtin"],
    ["labels", "outer: for (;;) { break outer; }", "label"],
    ["regex \\b word boundary", "var r = /\\bfoo/;", "regex"],
    ["regex \\u escape", "var r = /\\u00e9/;", "regex"],
    ["regex quantifier after a group", "var r = /(ab)+/;", "regex"],
    ["regex | inside a group", "var r = /^x(a|b)$/;", "regex"],
    ["regex flag m", "var r = /^a/m;", "regex"],
    // Espruino's lexer (src/jslex.c): acorn accepts these, Espruino reads them differently.
    ["regex with / inside a character class", "var r = /[^-_./a-z]/g;", "regex-slash"],
    ["/ after this (regex to Espruino)", "var h = this/2;", "slash"],
    ["/ after postfix ++ (regex to Espruino)", "var h = i++/2;", "slash"],
    ["/ after the ) of if (division to Espruino)", "if (a) /b/.test(c) && d();", "slash"],
    ["/ after ~ (division to Espruino)", "var i = ~/b/.exec(s).index;", "slash"],
    ["/ after a function expression (regex to Espruino)", "var x = function () {}/2;", "slash"],
    ["identifier with a \\u escape", "var \\u0061 = 1;", "identifier-escape"],
    ["variable named of (terser can mangle to it)", "var of = 1;", "reserved-word"],
    ["parameter named let", "function f(let) {}", "reserved-word"],
    ["parameter named undefined", "function f(undefined) {}", "reserved-word"],
    ["a statement beginning with a string literal after try/catch (Espruino skips it)", "try { f(); } catch (e) {}\n\"s\" == typeof x && g();", "after-catch"],
    ["name longer than 63 characters", "o." + "a".repeat(64) + " = 1;", "token-length"],
    ["integer literal beyond 64 bits", "var n = 0x10000000000000000;", "int-literal"],
    ["float literal Espruino parses inexactly", "var f = .3;", "float-literal"],
    ["three-digit octal escape from \\4", "var s = '\\470';", "octal-escape"],
    ["line continuation in a string", "var s = 'a\\\nb';", "line-continuation"],
    ["HTML-like comment", "var x = 1;\n<!-- c\n", "comment"],
    ["// comment ended by a lone CR", "var x = 1; // c\rx = 2;\n", "comment"],
  ];
  for (const [name, code, rule] of traps) it(`catches ${name}`, () => assert.ok(rules(code).includes(rule), `${code} -> ${rules(code)}`));
  it("accepts plain ES5 with escapes, [].slice.call and allowed regexes", () =>
    assert.deepEqual(rules("var s='\\xe9'; [].slice.call(arguments); var r=/^[-_a-z0-9]*$/; var q=/a\\?b/; Object.prototype.hasOwnProperty.call(o,k);"), []));
  it("accepts what Espruino's lexer reads as JavaScript does", () =>
    assert.deepEqual(rules([
      "o.of = 1; o.class = 2; var p = {of: 1, let: 2, undefined: 3}; if (x === undefined) p = void 0;",
      "var d = a / 2 + a[0] / 2 + (a) / 2 + f() / 2 + 1 / 2; d /= 2; if (a) {} /b/.test(c); var r = /[\\/]/, q = /[\\b]/;",
      "var n = [0.5, .25, 1e3, 58e3, 0x7fffffff, 4294967295, 010, 1.5e-3]; var s = '\\0\\12\\x41\\u0041'; // fine\n",
    ].join("\n")), []));
});
