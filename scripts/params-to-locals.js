// Espruino keeps a function's declared parameters as children of the function object: one JsVar
// each, for as long as the function exists, on top of the 5 every function costs. Read from
// `arguments` instead, a parameter costs RAM only while a call runs. This rewrites the minified
// output of every firmware module, `function f(a,b){...}` -> `function f(){var a=arguments[0],
// b=arguments[1];...}`; the source keeps its ordinary parameters. Left alone: functions that use
// `arguments` themselves (sloppy-mode aliasing of parameters and arguments would change), and
// every function inside another function (Espruino stores `arguments` in the caller's scope when
// it is first read, and a closure's own `arguments` would then find that one). A function that
// makes closures keeps `arguments` alive with its scope: fine for short jobs, to be kept in mind.
import * as acorn from "acorn";
import * as walk from "acorn-walk";

/** `code` with every eligible function's parameters read from `arguments`. */
export function paramsToLocals(code) {
  const ast = acorn.parse(code, { ecmaVersion: 5, sourceType: "script", allowReturnOutsideFunction: true });
  const edits = [];
  const isFunction = (n) => n.type === "FunctionDeclaration" || n.type === "FunctionExpression";
  const visit = (node, ancestors) => {
    // only functions with no enclosing function (those are the ones that live on, anyway)
    if (ancestors.some((a) => a !== node && isFunction(a))) return;
    if (!node.params.length || !node.params.every((p) => p.type === "Identifier")) return;
    const body = code.slice(node.body.start, node.body.end);
    if (/\barguments\b/.test(body)) return;
    const names = node.params.map((p) => p.name);
    edits.push({ start: node.params[0].start, end: node.params[node.params.length - 1].end, text: "" });
    edits.push({ start: node.body.start + 1, end: node.body.start + 1, text: "var " + names.map((n, i) => n + "=arguments[" + i + "]").join(",") + ";" });
  };
  walk.ancestor(ast, { FunctionDeclaration: visit, FunctionExpression: visit });
  edits.sort((a, b) => b.start - a.start);
  let out = code;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** The rollup output plugin. */
export const paramsToLocalsPlugin = {
  name: "espruino-params-to-locals",
  renderChunk(code) {
    return { code: paramsToLocals(code), map: null };
  },
};
