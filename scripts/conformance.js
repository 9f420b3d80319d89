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

/** Regex features the Espruino regex engine (src/jswrap_regexp.c) silently mis-matches or rejects. */
export function regexProblems(pattern, flags = "") {
  const out = [];
  let inClass = false;
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      const n = pattern[i + 1];
      if (!inClass && n >= "1" && n <= "9") out.push("backreference \\" + n);
      else if (!inClass && (n === "b" || n === "B")) out.push("\\" + n + " (Espruino reads \\b as a backspace and \\B as a letter B, not a word boundary)");
      else if (n === "u") out.push("\\u escape (Espruino matches a letter u; only \\xNN escapes work)");
      else if (n === "c") out.push("\\c control escape (Espruino matches a letter c)");
      i++;
      continue;
    }
    if (inClass) { if (c === "]") inClass = false; continue; }
    if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")") {
      depth--;
      if (pattern[i + 1] === "*" || pattern[i + 1] === "+") out.push("quantifier " + pattern[i + 1] + " after a group (Espruino repeats single characters and classes only)");
    } else if (c === "|" && depth > 0) out.push("| inside a group (Espruino splits alternatives at the top level only)");
    else if (c === "?") out.push(pattern[i - 1] === "(" ? "group (?" + (pattern[i + 1] || "") + " (non-capturing/lookaround)" : "quantifier ?");
    else if (c === "{" && /^\{\d+(,\d*)?\}/.test(pattern.slice(i))) out.push("quantifier {n}");
  }
  if (flags.includes("m")) out.push("flag m (Espruino ignores it: ^ and $ match only at the ends of the string)");
  return out;
}

// ---- Espruino's lexer (src/jslex.c, 2v29) ------------------------------------------------------
// acorn accepts everything below as ES5, and Espruino's lexer reads it differently: a SyntaxError
// when the function that holds it runs, or a different value with no error at all.

/** Words Espruino's lexer turns into keyword tokens (LEX_R_*, jslGetNextToken). */
const ESPRUINO_WORDS = new Set(("if else do while for break continue function return var let const this throw try catch finally " +
  "true false null undefined new in instanceof switch case default delete typeof void debugger class extends super static of").split(" "));
/** The ones ES5 code may use as a name (acorn accepts them): Espruino rejects the name. Terser's mangler can pick `of`. */
const ESPRUINO_ONLY_WORDS = new Set(["of", "let", "static", "class", "const", "extends", "super"]);
/** Espruino's lexer keeps 63 characters of an identifier or number (JSLEX_MAX_TOKEN_LENGTH 64, src/jsutils.h). */
const MAX_TOKEN = 63;

/** Does Espruino read a "/" after this token as the start of a regex? It decides by the previous token alone. */
function espruinoRegexAfter(code, tok) {
  if (!tok) return true;
  const label = tok.type.label;
  if (label === "num" || label === "string" || label === "regexp") return false;
  if (label === "name" || tok.type.keyword) {
    const word = label === "name" ? tok.value : tok.type.keyword;
    return ESPRUINO_WORDS.has(word) && !["true", "false", "null", "undefined"].includes(word);
  }
  const text = code.slice(tok.start, tok.end);
  if (text.length > 1) return text !== "..."; // every multi-character operator is an Espruino operator token
  return "!%&*+-/<=>?[{}(,;:".includes(text); // not ) ] . ~ | ^
}

/** Whether a regex pattern has a "/" inside [...] without a backslash: Espruino's regex lexer stops at any "/". */
function slashInClass(pattern) {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (inClass) { if (c === "]") inClass = false; else if (c === "/") return true; }
    else if (c === "[") inClass = true;
  }
  return false;
}

/** Espruino's getRadix (src/jsutils.c): a leading 0 means octal unless the digits hold 8, 9 or "." */
function radixOf(s) {
  if (s[0] !== "0") return [10, 0];
  const c = s[1];
  if (c === "o" || c === "O") return [8, 2];
  if (c === "x" || c === "X") return [16, 2];
  if (c === "b" || c === "B") return [2, 2];
  for (let p = 1; p < s.length; p++) {
    if (s[p] === "." || s[p] === "8" || s[p] === "9") return [10, 1];
    if (s[p] < "0" || s[p] > "9") break;
  }
  return [8, 1];
}
const digitOf = (ch) => { const d = parseInt(ch, 36); return Number.isNaN(d) ? -1 : d; };

/** The value Espruino's stringToInt gives an integer token: digits summed into a signed 64-bit integer, which wraps. */
export function espruinoInt(s) {
  const [radix, start] = radixOf(s);
  let v = 0n;
  for (let i = start; i < s.length; i++) {
    const d = digitOf(s[i]);
    if (d < 0 || d >= radix) break;
    v = BigInt.asIntN(64, v * BigInt(radix) + BigInt(d));
  }
  return Number(v);
}

/** The value Espruino's stringToFloat gives a number token with "." or an exponent: digit by digit in doubles, so not the nearest double. */
export function espruinoFloat(s) {
  let [radix, i] = radixOf(s);
  let v = 0;
  for (; i < s.length; i++) {
    const d = digitOf(s[i]);
    if (d < 0 || d >= radix) break;
    v = v * radix + d;
  }
  if (radix !== 10) return v;
  if (s[i] === ".") for (let mul = 0.1, d; ++i < s.length && (d = digitOf(s[i])) >= 0 && d < 10; mul /= 10) v += mul * d;
  if (s[i] === "e" || s[i] === "E") {
    const neg = s[++i] === "-";
    if (s[i] === "-" || s[i] === "+") i++;
    let e = 0;
    for (let d; i < s.length && (d = digitOf(s[i])) >= 0 && d < 10; i++) e = e * 10 + d;
    for (; e > 0; e--) neg ? (v /= 10) : (v *= 10);
  }
  return v;
}

/** Lexer traps found in the token stream and comments: [rule, message, token] triples. */
function lexerProblems(code, tokens, comments) {
  const out = [];
  tokens.forEach((tok, i) => {
    const raw = code.slice(tok.start, tok.end);
    const label = tok.type.label;
    const isRegex = label === "regexp";
    if (isRegex || label === "/" || (label === "_=" && tok.value === "/=")) {
      const espRegex = espruinoRegexAfter(code, tokens[i - 1]);
      if (espRegex !== isRegex) {
        const after = i ? `after "${code.slice(tokens[i - 1].start, tokens[i - 1].end)}"` : "at the start";
        out.push(["slash", `"/" ${after} starts a ${isRegex ? "regex" : "division"} in JavaScript but a ${espRegex ? "regex" : "division"} in Espruino, whose lexer decides by the previous token alone; terser drops redundant parentheses, so put the value in a variable first`, tok]);
      }
    }
    if (isRegex && slashInClass(tok.value.pattern))
      out.push(["regex-slash", `${raw} has a "/" inside [...]: Espruino's lexer ends the regex there (SyntaxError when the function runs): write \\/`, tok]);
    if (label === "name") {
      if (raw !== tok.value) out.push(["identifier-escape", `identifier ${raw} is written with a \\u escape: Espruino's lexer has no escapes in names (SyntaxError)`, tok]);
      if (raw.length > MAX_TOKEN) out.push(["token-length", `identifier ${raw.slice(0, 20)}... is ${raw.length} characters: Espruino's lexer keeps ${MAX_TOKEN}, so names sharing those collide`, tok]);
    }
    if (label === "num") {
      const isInt = /^(0[xXoObB][0-9a-fA-F]+|[0-9]+)$/.test(raw);
      const esp = isInt ? espruinoInt(raw) : espruinoFloat(raw);
      if (raw.length > MAX_TOKEN) out.push(["token-length", `number ${raw.slice(0, 20)}... is ${raw.length} characters: Espruino's lexer keeps ${MAX_TOKEN}`, tok]);
      else if (esp !== tok.value)
        out.push(isInt
          ? ["int-literal", `${raw} is ${tok.value} but Espruino reads ${esp}: it parses integer literals into 64 bits, which wrap; write it as a float or compute it`, tok]
          : ["float-literal", `${raw} is ${tok.value} but Espruino reads ${esp}: its number parser adds up the digits one at a time; compute from integers at run time (x*3/10)`, tok]);
    }
    if (label === "string")
      for (let j = 1; j < raw.length - 1; j++) {
        if (raw[j] !== "\\") continue;
        const n = raw[++j];
        if ("\n\r\u2028\u2029".includes(n))
          out.push(["line-continuation", `a backslash before a line break in a string: Espruino keeps the line break (and after \\r\\n ends the string, SyntaxError)`, tok]);
        else if (n >= "4" && n <= "7" && /^[0-7]{2}/.test(raw.slice(j + 1)))
          out.push(["octal-escape", `\\${raw.slice(j, j + 3)} in a string: Espruino reads three octal digits, JavaScript two (\\${raw.slice(j, j + 2)} then ${raw[j + 2]}); write \\xNN`, tok]);
      }
  });
  for (const c of comments) {
    if (!c.block && !code.startsWith("//", c.start))
      out.push(["comment", `HTML-like comment ${code.slice(c.start, c.start + 4)}: Espruino reads it as code`, c]);
    else if (!c.block && "\r\u2028\u2029".includes(code[c.end] || "\n") && code.slice(c.end, c.end + 2) !== "\r\n")
      out.push(["comment", `// comment ended by a line break other than \\n: Espruino's comment runs on to the next \\n`, c]);
  }
  return out;
}

/** Calls fn(node, parent, key) for every node of an acorn AST. */
function eachNode(node, fn, parent = null, key = "") {
  fn(node, parent, key);
  for (const k of Object.keys(node)) {
    const v = node[k];
    if (Array.isArray(v)) { for (const child of v) if (child && typeof child.type === "string") eachNode(child, fn, node, k); }
    else if (v && typeof v === "object" && typeof v.type === "string" && k !== "loc") eachNode(v, fn, node, k);
  }
}

/** Names Espruino's lexer makes keywords, where JS takes them as names (a property name such as o.of is fine). */
function reservedWordProblems(ast) {
  const out = [];
  eachNode(ast, (node, parent, key) => {
    if (node.type !== "Identifier" || !parent) return;
    if ((parent.type === "MemberExpression" && key === "property" && !parent.computed) || (parent.type === "Property" && key === "key" && !parent.computed) || key === "label") return;
    if (ESPRUINO_ONLY_WORDS.has(node.name)) out.push(["reserved-word", `"${node.name}" is a keyword in Espruino and cannot name a variable or function (SyntaxError)`, node]);
    const binds = (parent.type === "VariableDeclarator" && key === "id") || (/Function/.test(parent.type) && (key === "id" || key === "params")) ||
      (parent.type === "CatchClause" && key === "param") || (parent.type === "AssignmentExpression" && key === "left");
    if (node.name === "undefined" && binds) out.push(["reserved-word", `"undefined" is a keyword in Espruino: declaring or assigning it is a SyntaxError or silently ignored`, node]);
  });
  return out;
}

/**
 * A statement that begins with a string literal right after try {...} catch (e) {...}: Espruino 2v29
 * does not run it (`try{}catch(e){}"s"==typeof x&&f()` never calls f; verified on the LINUX build).
 * Minifiers write comparisons with the literal first, so this comes from code as plain as
 * `if (typeof u === "string") ...` after a try.
 */
function afterCatchProblems(code, ast) {
  const out = [];
  eachNode(ast, (node) => {
    const list = node.type === "Program" || node.type === "BlockStatement" ? node.body : node.type === "SwitchCase" ? node.consequent : null;
    if (!list) return;
    for (let i = 0; i + 1 < list.length; i++) {
      const next = list[i + 1];
      if (list[i].type === "TryStatement" && list[i].handler && !list[i].finalizer && (code[next.start] === '"' || code[next.start] === "'"))
        out.push(["after-catch", "a statement that begins with a string literal right after try/catch is not run by Espruino: begin it with a name (typeof x === \"string\") or end the try with ;", next]);
    }
  });
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
  const tokens = [], comments = [];
  try {
    ast = acorn.parse(code, {
      ecmaVersion: 5, sourceType: "script", locations: true, allowReserved: true, onToken: tokens,
      onComment: (block, _text, start, end, startLoc) => comments.push({ block, start, end, loc: { start: startLoc } }),
    });
  } catch (e) {
    add("syntax", "not ES5 syntax Espruino can parse: " + e.message, { loc: { start: { line: e.loc ? e.loc.line : 0, column: e.loc ? e.loc.column : 0 } } });
    return problems;
  }
  for (const [rule, message, where] of [...lexerProblems(code, tokens, comments), ...reservedWordProblems(ast), ...afterCatchProblems(code, ast)]) add(rule, message, where);
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
        if (node.regex) for (const p of regexProblems(node.regex.pattern, node.regex.flags)) add("regex", `/${node.regex.pattern}/${node.regex.flags} uses ${p}, which Espruino's regex engine does not support`, node);
        else if (typeof node.value === "string" && /[^\x00-\xff]/.test(node.value)) add("unicode", "string literal with characters above \\xFF: Espruino strings are bytes", node);
        break;
      case "NewExpression":
      case "CallExpression":
        if (node.callee.type === "Identifier" && node.callee.name === "RegExp" && node.arguments[0] && node.arguments[0].type === "Literal") {
          const flags = node.arguments[1] && node.arguments[1].type === "Literal" ? String(node.arguments[1].value) : "";
          for (const p of regexProblems(String(node.arguments[0].value), flags)) add("regex", `RegExp("${node.arguments[0].value}") uses ${p}`, node);
        }
        break;
    }
  });
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

export function formatProblems(file, problems) {
  return problems.map((p) => `${file}:${p.line}:${p.column}: [${p.rule}] ${p.message}`).join("\n");
}
