import assert from "node:assert/strict";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { checkBundle } from "../scripts/conformance.js";

const rules = (code: string) => checkBundle(code).map((p: { rule: string }) => p.rule);

describe("bundle conformance check", () => {
  const dist = new URL("../dist/", import.meta.url);
  const bundles = existsSync(dist) ? readdirSync(dist).filter((f) => f.endsWith(".js")) : [];
  it("finds a bundle for every board profile", () => {
    const boards = readdirSync(new URL("../boards/", import.meta.url)).filter((f) => f.endsWith(".json")).map((f) => f.replace(".json", ".js"));
    assert.deepEqual(bundles.sort(), boards.sort());
  });
  for (const f of bundles)
    it(`dist/${f} contains nothing Espruino cannot run`, () => {
      assert.deepEqual(checkBundle(readFileSync(new URL(f, dist), "utf8")), []);
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
  ];
  for (const [name, code, rule] of traps) it(`catches ${name}`, () => assert.ok(rules(code).includes(rule), `${code} -> ${rules(code)}`));
  it("accepts plain ES5 with escapes, [].slice.call and allowed regexes", () =>
    assert.deepEqual(rules("var s='\\xe9'; [].slice.call(arguments); var r=/^[-_a-z0-9]*$/; var q=/a\\?b/; Object.prototype.hasOwnProperty.call(o,k);"), []));
});
