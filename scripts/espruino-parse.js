// Has the real Espruino interpreter (a LINUX build) parse every statement of a JS text, without running it.
//
// Espruino parses lazily: defining a function only scans its body for the matching brace, a call parses
// the statements it executes, and a block in a branch not taken ({...} after if(0), a case not matched),
// an object literal or a switch body reached with execution off is skipped by brace matching too. A syntax
// error in code no test reaches therefore surfaces on the chip. Here every statement list of the text (the
// program, each block and function body, each case) becomes one probe: the list, with the blocks and object
// literals nested in it emptied to {} (they are probes of their own), placed after `switch(1){case 0:` so
// that Espruino parses each statement with execution off. Object literals and switch statements also get a
// probe of their frame (keys, get/set, case/default) with every value and case emptied, which does run.
// All probes go into one file and one interpreter run; each is eval'd in a try/catch, so one bad probe
// neither stops nor hides the others.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as acorn from "acorn";

const PREFIX = "switch(1){case 0:"; // Espruino parses the statements of a case not matched with execution off
const SUFFIX = "\n}";

/** The {start, end} range Espruino skips by brace matching when not executing: blocks, switch bodies, object literals. */
function skippedRange(code, node) {
  if (node.type === "BlockStatement" || node.type === "ObjectExpression") return { start: node.start, end: node.end, text: "{}" };
  if (node.type === "SwitchStatement") {
    let i = node.discriminant.end;
    while (i < node.end && code[i] !== "{") {
      if (code.startsWith("/*", i)) i = code.indexOf("*/", i + 2) + 2;
      else if (code.startsWith("//", i)) i = code.indexOf("\n", i);
      else i++;
    }
    return { start: i, end: node.end, text: "{}" };
  }
  return null;
}

function children(node) {
  const out = [];
  for (const k of Object.keys(node)) {
    const v = node[k];
    if (Array.isArray(v)) { for (const c of v) if (c && typeof c.type === "string") out.push(c); }
    else if (v && typeof v === "object" && typeof v.type === "string" && k !== "loc") out.push(v);
  }
  return out;
}

/** The outermost skipped ranges inside the given nodes: what a probe of them replaces with {}. */
function holesIn(code, nodes) {
  const holes = [];
  const visit = (node) => {
    const r = skippedRange(code, node);
    if (r) holes.push(r);
    if (node.type === "SwitchStatement") visit(node.discriminant);
    else if (!r) children(node).forEach(visit);
  };
  nodes.forEach(visit);
  return holes;
}

/**
 * The probes for a text: {text, map: [probeOffset, codeOffset, length][], start}. Parsed with execution off:
 * every statement list (program, block, function body, case) and every case test and object property value.
 * Run with execution on: the frame of every object literal (keys, get/set) with its values replaced by 0, and
 * of every switch (case after default) with its cases emptied: Espruino skips both by brace matching when not
 * executing, and parses them only when they run.
 * Template literals are parsed only when executing too; they are not ES5, so checkBundle rejects them first.
 */
export function buildProbes(code) {
  const ast = acorn.parse(code, { ecmaVersion: "latest", sourceType: "script", allowReserved: true, allowReturnOutsideFunction: true, allowHashBang: true });
  const probes = [];
  const add = (start, end, holes, prefix, suffix) => {
    let text = prefix;
    const map = [];
    let at = start;
    for (const h of holes.sort((x, y) => x.start - y.start)) {
      map.push([text.length, at, h.start - at]);
      text += code.slice(at, h.start) + h.text;
      at = h.end;
    }
    map.push([text.length, at, end - at]);
    text += code.slice(at, end) + suffix;
    probes.push({ text, map, start });
  };
  const list = (nodes) => { if (nodes.length) add(nodes[0].start, nodes[nodes.length - 1].end, holesIn(code, nodes), PREFIX, SUFFIX); };
  const expression = (node) => add(node.start, node.end, holesIn(code, [node]), PREFIX + "(", ");" + SUFFIX);
  const visit = (node) => {
    if (node.type === "Program" || node.type === "BlockStatement") list(node.body);
    else if (node.type === "SwitchCase") { if (node.test) expression(node.test); list(node.consequent); }
    else if (node.type === "SwitchStatement") {
      // the case/default frame, run: no case matches NaN and every case is emptied, so nothing else runs
      const frame = [{ start: node.discriminant.start, end: node.discriminant.end, text: "NaN" }];
      for (const c of node.cases) {
        // " 0": a minifier writes case"a": with no space, and case0 would be a name
        if (c.test) frame.push({ start: c.test.start, end: c.test.end, text: " 0" });
        if (c.consequent.length) frame.push({ start: c.consequent[0].start, end: c.consequent[c.consequent.length - 1].end, text: "" });
      }
      add(node.start, node.end, frame, "", "");
    }
    else if (node.type === "ObjectExpression") {
      const frame = [];
      for (const p of node.properties) {
        if (p.type !== "Property") continue;
        if (p.shorthand) { frame.push({ start: p.start, end: p.end, text: p.key.name + ":0" }); continue; } // {a} would read a
        if (p.kind !== "init" || p.method) frame.push({ start: p.value.body.start, end: p.value.body.end, text: "{}" });
        else { frame.push({ start: p.value.start, end: p.value.end, text: "0" }); expression(p.value); }
        if (p.computed) { frame.push({ start: p.key.start, end: p.key.end, text: "0" }); expression(p.key); }
      }
      add(node.start, node.end, frame, "(", ");");
    }
    children(node).forEach(visit);
  };
  visit(ast);
  return probes;
}

/** The offset in code of an offset in a probe (text the probe added maps to the code just before it). */
function toCodeOffset(probe, offset) {
  let best = probe.start;
  for (const [p, c, len] of probe.map) {
    if (offset < p) break;
    best = c + Math.min(offset - p, len);
  }
  return best;
}

/** Espruino's string lexer knows \n \r \t \\ \" and \xNN; everything outside printable ASCII is escaped. */
function espruinoString(s) {
  return '"' + s.replace(/[\\"]/g, "\\$&").replace(/[^\x20-\x7e]/g, (c) => {
    const n = c.charCodeAt(0);
    return n === 10 ? "\\n" : n === 13 ? "\\r" : n === 9 ? "\\t" : n < 256 ? "\\x" + n.toString(16).padStart(2, "0") : "\\u" + n.toString(16).padStart(4, "0");
  }) + '"';
}

const RUNNER = 'function R(i,s){try{eval(s);print("@"+i)}catch(e){print("@"+i+"!"+JSON.stringify([""+(e&&e.type),""+(e&&e.message!==undefined?e.message:e),""+(e&&e.stack)]))}}\n';

function run(bin, file, cwd, timeoutMs) {
  return new Promise((resolve) => {
    const child = execFile(bin, [file], { cwd, timeout: timeoutMs, maxBuffer: 64 << 20, encoding: "latin1" }, (err, stdout, stderr) =>
      resolve({ err, stdout: String(stdout), stderr: String(stderr) }));
    child.stdin.end(); // Espruino reads stdin as its console; an open one can end in FIFO_FULL
  });
}

/** Where in the code an error Espruino reported in a probe is, from the "(:line:col)" of its stack. */
function errorOffset(probe, stack) {
  const pos = /\(:(\d+):(\d+)\)/.exec(stack);
  if (!pos) return probe.start;
  const lines = probe.text.split("\n");
  let o = 0;
  for (let l = 1; l < Number(pos[1]) && l <= lines.length; l++) o += lines[l - 1].length + 1;
  return toCodeOffset(probe, o + Number(pos[2]) - 1);
}

function problemAt(code, offset, message) {
  const { line, column } = acorn.getLineInfo(code, offset);
  const near = code.slice(offset, offset + 30).split("\n")[0];
  return { rule: "interpreter", message: near ? `${message} (at: ${near})` : message, line, column };
}

/**
 * Has the Espruino interpreter at `bin` (a LINUX build) parse every statement of each text, without running
 * it. texts: [{code, name}]. All probes go into one interpreter run (or one per `chunkBytes` of probe source).
 * Returns, per text, a list of {rule: "interpreter", message, line, column} (line 1-based, column 0-based, as
 * checkBundle reports them), empty when Espruino parsed everything.
 */
export async function parseManyWithInterpreter(bin, texts, { timeoutMs = 120000, chunkBytes = 4 << 20 } = {}) {
  if (!bin) throw new Error("parseWithInterpreter needs the path of an Espruino LINUX build (ESPRUINO_BIN)");
  const all = [];
  const results = texts.map(({ code, name }) => {
    const problems = [];
    try {
      for (const p of buildProbes(code)) all.push({ ...p, code, problems, source: `R(${all.length},${espruinoString(p.text)});\n` });
    } catch (e) {
      problems.push({ rule: "interpreter", message: `${name}: acorn cannot parse it, so it was not split into probes: ${e.message}`, line: e.loc ? e.loc.line : 0, column: e.loc ? e.loc.column : 0 });
    }
    return problems;
  });
  const dir = mkdtempSync(join(tmpdir(), "espruino-parse-"));
  try {
    let next = 0;
    while (next < all.length) {
      const from = next;
      let src = RUNNER, to = from;
      while (to < all.length && (to === from || src.length + all[to].source.length < chunkBytes)) src += all[to++].source;
      writeFileSync(join(dir, "probe.js"), src + 'print("@END");quit();\n', "latin1");
      const { err, stdout, stderr } = await run(bin, "probe.js", dir, timeoutMs);
      let ended = false;
      for (const line of stdout.split(/\r?\n/)) {
        if (line.startsWith("@END")) ended = true;
        const m = /^@(\d+)(?:!(.*))?$/.exec(line);
        if (!m) continue;
        const i = Number(m[1]);
        next = Math.max(next, i + 1);
        if (m[2] === undefined) continue;
        const [type, message, stack] = JSON.parse(m[2]);
        all[i].problems.push(problemAt(all[i].code, errorOffset(all[i], stack), `Espruino ${type}: ${message}`));
      }
      if (ended) { next = to; continue; }
      const output = (stderr.trim() || stdout.replace(/[^\x20-\x7e\n]/g, "").trim()).split("\n").pop();
      const why = err && err.killed ? `timed out after ${timeoutMs} ms` : `exited (${err ? "code " + err.code : "without @END"}: ${output})`;
      if (next === from) {
        // nothing ran: the interpreter cannot run these probes at all (wrong binary, out of memory); say so once
        for (const r of results) r.push({ rule: "interpreter", message: `Espruino ${bin} ${why} before it parsed anything; ${all.length - from} probes not run`, line: 0, column: 0 });
        break;
      }
      // it died or hung inside probe `next`: blame that one and go on after it
      all[next].problems.push(problemAt(all[next].code, all[next].start, `Espruino ${why} while parsing the statements here`));
      next++;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const problems of results) {
    const seen = new Set();
    const unique = problems.filter((p) => !seen.has(p.line + ":" + p.column + p.message) && seen.add(p.line + ":" + p.column + p.message));
    problems.splice(0, problems.length, ...unique.sort((a, b) => a.line - b.line || a.column - b.column));
  }
  return results;
}

/** parseManyWithInterpreter for one text. `name` labels the text in messages; the code is not read from a file. */
export async function parseWithInterpreter(bin, code, name = "code", options = {}) {
  return (await parseManyWithInterpreter(bin, [{ code, name }], options))[0];
}
