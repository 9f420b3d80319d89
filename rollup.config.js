// Builds dist/<board>.js for every boards/<board>.json: TypeScript -> one ES5 IIFE that Espruino
// runs from Storage (.bootcde). Board profile and device identity are compiled in as constants.
import typescript from "@rollup/plugin-typescript";
import terser from "@rollup/plugin-terser";
import replace from "@rollup/plugin-replace";
import { basename } from "node:path";
import { loadBoards } from "./scripts/boards.js";
import { readIdentity, buildRecord } from "./scripts/identity.js";
import { checkBundle, formatProblems } from "./scripts/conformance.js";

let identity;
try {
  identity = readIdentity();
} catch (e) {
  console.error(e.message);
  process.exit(2);
}

const only = process.env.BOARD ? process.env.BOARD.split(",") : null;
const boards = loadBoards().filter((b) => !only || only.includes(b.id));
if (only && boards.length !== only.length) {
  console.error(`Unknown board in BOARD=${process.env.BOARD}; known: ${loadBoards().map((b) => b.id).join(", ")}`);
  process.exit(2);
}

// Same format as the C++ __DATE__ " " __TIME__ that Blynk reports as "build".
function buildStamp() {
  const d = process.env.SOURCE_DATE_EPOCH ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000) : new Date();
  const mon = d.toUTCString().slice(8, 11);
  const day = String(d.getUTCDate()).padStart(2, " ");
  return `${mon} ${day} ${d.getUTCFullYear()} ${d.toISOString().slice(11, 19)}`;
}

/** The pins the firmware drives itself, which Blynk's pin commands must leave alone: ",2L,0B," (L LED, B button). */
function ownPins(board) {
  return "," + board.led.pins.map((p) => p + "L,").join("") + (board.button ? board.button.pin + "B," : "");
}

/** Flattens the build record into "__BUILD__.a.b" -> literal replacements. */
function constants(board) {
  const build = {
    board: board.id, chip: board.chip, dev: board.dev,
    tmplId: identity.templateId, tmplName: identity.templateName, fwVer: identity.firmwareVersion, build: buildStamp(),
    led: board.led, button: board.button, setupCode: identity.setupCode, telnet: identity.telnet === "on",
    ownPins: ownPins(board),
  };
  const out = {};
  const flat = (prefix, v) => {
    out[prefix] = JSON.stringify(v);
    if (v && typeof v === "object" && !Array.isArray(v)) for (const k of Object.keys(v)) flat(prefix + "." + k, v[k]);
  };
  flat("__BUILD__", build);
  return out;
}

// Espruino throws SyntaxError on array holes ([3,5,,6]) in code it skips; TS emits them in __generator.
const fixHoles = {
  name: "espruino-fix-array-holes",
  renderChunk(code) {
    return { code: code.replace(/\[[\d,]+\]/g, (m) => m.replace(/,(?=,)/g, ",void 0")), map: null };
  },
};

const conformance = {
  name: "espruino-conformance",
  generateBundle(_opts, bundle) {
    for (const [file, chunk] of Object.entries(bundle)) {
      const problems = chunk.type === "chunk" ? checkBundle(chunk.code) : [];
      if (problems.length) this.error("Espruino cannot run this bundle:\n" + formatProblems(file, problems));
    }
  },
};

// <board>.build.json beside the bundle: the identity compiled in (scripts/identity.js, buildRecord).
// Written in the same step as the bundle, and not at all when a check above fails.
const record = {
  name: "edgent-build-record",
  generateBundle(opts) {
    if (!opts.file) return; // an in-memory bundle (the benchmarks) has no file to sit beside
    const name = basename(opts.file, ".js") + ".build.json";
    this.emitFile({ type: "asset", fileName: name, source: JSON.stringify(buildRecord(identity), null, 2) + "\n" });
  },
};

export default boards.map((board) => ({
  input: "firmware/main.ts",
  output: {
    file: `${process.env.DIST_DIR || "dist"}/${board.id}.js`,
    format: "iife",
    strict: false,
    plugins: [
      terser({
        ecma: 5,
        // Single-use functions are folded into their one caller as function expressions (reduce_funcs,
        // on by default): run-once code then never sits in the module scope, which saves about 350
        // JsVars. Hot paths must therefore not call single-use helpers (see firmware/led/led.ts).
        compress: { hoist_funs: true, inline: false, unsafe_proto: true, passes: 2, pure_getters: true, keep_fargs: false },
        mangle: { toplevel: true },
        format: { ascii_only: true, comments: false },
      }),
      fixHoles,
      conformance,
      record,
    ],
  },
  onwarn(w, warn) {
    if (w.code !== "CIRCULAR_DEPENDENCY") warn(w);
  },
  plugins: [
    replace({ preventAssignment: true, delimiters: ["\\b", "\\b(?![.\\w])"], values: constants(board) }),
    typescript({ tsconfig: "./tsconfig.json", outDir: undefined, noEmitOnError: true }),
  ],
}));
