// Conformance check for built bundles: finds what the Espruino interpreter cannot run.
// Each rule names the trap it guards against (Espruino 2v29 on ESP32/ESP8266).
import * as acorn from "acorn";
import * as walk from "acorn-walk";

const MISSING_GLOBALS = ["Map", "Set", "WeakMap", "WeakSet", "Symbol", "Proxy", "Reflect", "Intl", "RangeError",
  "encodeURI", "decodeURI", "setImmediate", "queueMicrotask", "TextEncoder", "TextDecoder", "BigInt"];
const MISSING_STATICS = {
  Array: ["from", "of"],
  Object: ["freeze", "seal", "is", "isFrozen", "getOwnPropertySymbols"],
  Number: ["isInteger", "isNaN", "isFinite", "isSafeInteger", "EPSILON", "MAX_SAFE_INTEGER", "MIN_SAFE_INTEGER"],
  Math: ["trunc", "log2", "log10", "hypot", "cbrt", "sign", "fround", "imul", "clz32"],
  Promise: ["race", "allSettled", "any"],
  String: ["raw"],
};
const MISSING_METHODS = ["reduceRight", "flatMap", "flat", "findLast", "findLastIndex", "copyWithin", "trimStart", "trimEnd",
  "codePointAt", "localeCompare", "normalize", "matchAll", "finally"];
// Built-ins whose prototype methods are not reachable through X.prototype in Espruino.
const PROTO_UNREACHABLE = ["Array", "String", "Function", "Number", "Boolean", "RegExp", "Date", "Uint8Array", "ArrayBuffer", "Error"];

/** Regex features the Espruino regex engine silently mis-matches or rejects. */
export function regexProblems(pattern) {
  const out = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      const n = pattern[i + 1];
      if (!inClass && n >= "1" && n <= "9") out.push("backreference \\" + n);
      i++;
      continue;
    }
    if (inClass) { if (c === "]") inClass = false; continue; }
    if (c === "[") inClass = true;
    else if (c === "?") out.push(pattern[i - 1] === "(" ? "group (?" + (pattern[i + 1] || "") + " (non-capturing/lookaround)" : "quantifier ?");
    else if (c === "{" && /^\{\d+(,\d*)?\}/.test(pattern.slice(i))) out.push("quantifier {n}");
  }
  return out;
}

/** Returns a list of {rule, message, line, column}; empty when the bundle is fine. */
export function checkBundle(code) {
  const problems = [];
  const add = (rule, message, node) => problems.push({ rule, message, line: node && node.loc ? node.loc.start.line : 0, column: node && node.loc ? node.loc.start.column : 0 });
  for (let i = 0; i < code.length; i++) {
    if (code.charCodeAt(i) > 0x7e && code.charCodeAt(i) !== 0x7f || (code.charCodeAt(i) < 0x20 && !"\n\r\t".includes(code[i]))) {
      const line = code.slice(0, i).split("\n").length;
      add("ascii", `byte ${code.charCodeAt(i)} at offset ${i}: the bundle must be ASCII-only (write bytes as \\xNN)`, { loc: { start: { line, column: 0 } } });
      break;
    }
  }
  let ast;
  try {
    ast = acorn.parse(code, { ecmaVersion: 5, sourceType: "script", locations: true, allowReserved: true });
  } catch (e) {
    add("syntax", "not ES5 syntax Espruino can parse: " + e.message, { loc: { start: { line: e.loc ? e.loc.line : 0, column: e.loc ? e.loc.column : 0 } } });
    return problems;
  }
  walk.full(ast, (node) => {
    switch (node.type) {
      case "Identifier":
        if (MISSING_GLOBALS.includes(node.name)) add("builtin", node.name + " does not exist in Espruino", node);
        break;
      case "MemberExpression": {
        const obj = node.object, prop = node.computed ? null : node.property.name;
        if (obj.type === "Identifier" && prop && MISSING_STATICS[obj.name] && MISSING_STATICS[obj.name].includes(prop))
          add("builtin", obj.name + "." + prop + " does not exist in Espruino", node);
        if (prop && MISSING_METHODS.includes(prop)) add("builtin", "." + prop + "() does not exist in Espruino", node);
        if (obj.type === "MemberExpression" && !obj.computed && obj.property.name === "prototype" && obj.object.type === "Identifier" &&
            PROTO_UNREACHABLE.includes(obj.object.name))
          add("prototype", obj.object.name + ".prototype." + (prop || "[...]") + " is undefined in Espruino: call it on an instance ([].slice.call)", node);
        if (prop === "concat" && obj.type === "Literal" && typeof obj.value === "string")
          add("builtin", "String.prototype.concat does not exist in Espruino (template literal downlevelled by TypeScript?)", node);
        break;
      }
      case "ArrayExpression":
        if (node.elements.some((e) => e === null)) add("array-hole", "array literal with holes throws a SyntaxError when skipped", node);
        break;
      case "AssignmentExpression":
        if (node.left.type === "MemberExpression" && !node.left.computed && node.left.property.name === "length")
          add("length-assign", "assigning .length throws in Espruino: use splice", node);
        break;
      case "LabeledStatement":
        add("label", "labels are not supported", node);
        break;
      case "Literal":
        if (node.regex) for (const p of regexProblems(node.regex.pattern)) add("regex", `/${node.regex.pattern}/ uses ${p}, which Espruino's regex engine does not support`, node);
        else if (typeof node.value === "string" && /[^\x00-\xff]/.test(node.value)) add("unicode", "string literal with characters above \\xFF: Espruino strings are bytes", node);
        break;
      case "NewExpression":
      case "CallExpression":
        if (node.callee.type === "Identifier" && node.callee.name === "RegExp" && node.arguments[0] && node.arguments[0].type === "Literal")
          for (const p of regexProblems(String(node.arguments[0].value))) add("regex", `RegExp("${node.arguments[0].value}") uses ${p}`, node);
        break;
    }
  });
  return problems;
}

export function formatProblems(file, problems) {
  return problems.map((p) => `${file}:${p.line}:${p.column}: [${p.rule}] ${p.message}`).join("\n");
}
