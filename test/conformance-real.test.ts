// The real interpreter parses every statement of each bundle (scripts/espruino-parse.js), so a syntax error in
// a branch no test reaches fails here rather than on a device. Needs ESPRUINO_BIN, a LINUX build of Espruino 2v29.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { checkBundle } from "../scripts/conformance.js";
import { parseManyWithInterpreter, parseWithInterpreter } from "../scripts/espruino-parse.js";

type Problem = { rule: string; message: string; line: number; column: number };
const bin = process.env.ESPRUINO_BIN;

/** Runs code in Espruino and returns what it printed after the banner. */
function runEspruino(code: string): string {
  const dir = mkdtempSync(join(tmpdir(), "espruino-run-"));
  try {
    writeFileSync(join(dir, "run.js"), code + "\nquit();\n");
    const out = execFileSync(bin!, ["run.js"], { cwd: dir, input: "", encoding: "latin1", timeout: 30000 });
    return out.slice(out.indexOf("http://espruino.com/Donate") + 26);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What Espruino parses of a dist file: the file itself or, for a firmware image (scripts/image.js, where it
 * exists), its loader and each of its modules, which sit in a comment that no parser of the whole file reads.
 */
async function textsOf(file: string, text: string): Promise<{ name: string; code: string }[]> {
  const imageJs = new URL("../scripts/image.js", import.meta.url);
  const image = existsSync(imageJs) ? (await import(imageJs.href)).parseImage(text) : undefined;
  if (!image) return [{ name: file, code: text }];
  const mods = Object.entries(image.mods as Record<string, [number, number]>);
  return [
    { name: `${file} (loader)`, code: text.slice(text.indexOf("*/") + 3, mods[0][1][0] - "\n/*\n".length) },
    ...mods.map(([name, [offset, length]]) => ({ name: `${file} (module ${name})`, code: text.slice(offset, offset + length) })),
  ];
}
const dist = new URL("../dist/", import.meta.url);
const distTexts = existsSync(dist)
  ? (await Promise.all(readdirSync(dist).filter((f) => f.endsWith(".js") && !f.endsWith(".ota.js")).map((f) => textsOf(`dist/${f}`, readFileSync(new URL(f, dist), "latin1"))))).flat()
  : [];

if (!bin) it.skip("Espruino parses every statement of the bundles: skipped, ESPRUINO_BIN (a LINUX build of Espruino 2v29) is not set");
else describe("Espruino 2v29 parses every statement (ESPRUINO_BIN)", function () {
  this.timeout(120000);

  let parsed: Problem[][] = [];
  before(async () => { parsed = await parseManyWithInterpreter(bin, distTexts); });
  distTexts.forEach(({ name }, i) => it(`${name}: Espruino parses every branch of it`, () => assert.deepEqual(parsed[i], [])));

  // [what, code, text the reported position must fall on]: each in a function nothing calls.
  const broken: [string, string, string][] = [
    ["a regex with / in a character class", "function never(p) { return p.replace(/[^-_./a-z]/g, '?'); }", "a-z]"],
    ["an array hole in a catch block", "function g() { try { f(); } catch (e) { return [3, 5, , 6]; } }", ", 6]"],
    ["an array hole in an object literal", "function h() { return { a: 1, b: [1, , 2] }; }", ", 2]"],
    ["an array hole in a getter", "var o = { get x() { return [1, , 2]; } };", ", 2]"],
    ["an array hole in a case test", "function c(x) { switch (x) { case [1, , 2][0]: return 1; } }", ", 2]"],
    ["this/2, a regex to Espruino", "var o = { f: function () { return this/2; } };", "/2;"],
    ["a variable named of", "function k() { var of = 1; return of; }", "of ="],
    ["case after default", "function s(x) { switch (x) { default: return 0; case 1: return 1; } }", ": return 0"],
    ["a label", "function l() { a: for (;;) { break a; } }", ": for"],
    ["a \\u escape in a name", "function u() { var \\u0061 = 1; }", "\\u0061"],
    ["a regex after the ) of if", "function i(a, c) { if (a) /b/.test(c); }", "/b/"],
  ];
  const fine = `var o = { 1: 'a', if: 2, "s": 3, get g() { return this.v; }, set g(v) { this.v = v; } };
function f(a, b) { var r = [], k; for (k in a) if (a.hasOwnProperty(k)) r.push(k); try { b(); } catch (e) { r.push(e); } finally { r.sort(); }
  do { a = a.next; } while (a); switch (typeof b) { case "x": break; default: r = void 0; } switch (b) { case"y":r = 1; }
  return r ? /x/.test(b) && !(a instanceof Object) && ("k" in a) ? new Date().getTime() / 1e3 : [void 0, 1, void 0] : delete a.b, 0; }
if (o) {} /re/.test("s");`;
  let crafted: Problem[][] = [];
  before(async () => {
    crafted = await parseManyWithInterpreter(bin, [...broken.map(([name, code]) => ({ name, code })), { name: "fine", code: fine }]);
  });
  broken.forEach(([name, code, at], i) =>
    it(`reports ${name} where it is`, () => {
      const p = crafted[i];
      assert.equal(p.length, 1, JSON.stringify(p));
      assert.equal(p[0].rule, "interpreter");
      assert.match(p[0].message, /^Espruino (Syntax)?Error: /);
      assert.equal(p[0].line, 1);
      assert.ok(p[0].column >= code.indexOf(at) && p[0].column < code.indexOf(at) + at.length, `${p[0].column} is not on "${at}" of ${code}`);
    }));
  it("reports nothing in code that only uses what Espruino parses", () => assert.deepEqual(crafted[broken.length], []));

  it("reports the line and column of the error in a text of several lines", async () => {
    const p: Problem[] = await parseWithInterpreter(bin, "var a = 1;\nfunction f() {\n  return [1, , 2];\n}\n", "lines");
    assert.deepEqual(p.map(({ line, column }) => [line, column]), [[3, 13]]);
  });
  it("names once an interpreter that cannot run at all", async () => {
    const p: Problem[] = await parseWithInterpreter("/nonexistent/espruino", "var a = 1; function f() { return a; }", "missing");
    assert.equal(p.length, 1);
    assert.match(p[0].message, /before it parsed anything/);
  });

  // The static rules in scripts/conformance.js for traps that raise no error: this interpreter really reads
  // each sample differently from JavaScript. [rule, expression that is true in JavaScript]
  const silent: [string, string][] = [
    ["float-literal", ".3 === 3 / 10"],
    ["int-literal", "0x10000000000000000 === 18446744073709552e3"],
    ["octal-escape", "'\\470'.length === 2"],
    ["line-continuation", "'a\\\nb' === 'ab'"],
    ["token-length", `(function () { var o = {}; o.${"a".repeat(64)}X = 1; return o.${"a".repeat(64)}Y === undefined; })()`],
    ["comment", "(function () { var x = 1; // c\rx = 2;\n return x === 2; })()"],
    ["reserved-word", "(function () { var undefined = 1; return undefined === 1; })()"],
    ["regex", "/\\bfoo/.test('a foo')"],
    ["regex", "/(ab)+$/.test('xabab')"],
    ["regex", "!/^x(a|b)$/.test('b')"],
    ["regex", "/^b/m.test('a\\nb')"],
    ["regex", "/\\u0041/.test('A')"],
    ["after-catch", "(function () { var r = false; try {} catch (e) {} \"string\" == typeof \"\" && (r = true); return r; })()"],
  ];
  it("the silent traps the static rules name read differently on this interpreter", () => {
    const out = runEspruino(silent.map(([, expr], i) => `print("#${i}=" + (${expr}));`).join("\n"));
    silent.forEach(([rule, expr], i) => {
      assert.equal(runInNewContext(expr), true, `JavaScript: ${expr}`);
      assert.ok(checkBundle(`var r = ${expr};`).some((p: Problem) => p.rule === rule), `checkBundle does not name [${rule}] for ${expr}`);
      assert.match(out, new RegExp(`#${i}=false`), `[${rule}] Espruino reads ${JSON.stringify(expr)} as JavaScript does:\n${out}`);
    });
  });
});
