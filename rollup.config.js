// Builds dist/<board>.js for every boards/<board>.json: the firmware image (scripts/image.js), a
// small boot loader plus the firmware's modules, each TypeScript -> ES5 that Espruino runs from
// Storage. Board profile and device identity are compiled in as constants. Beside it: the same
// image with Blynk's firmware info tag for Blynk.Air (<board>.ota.js) and the build record.
import typescript from "@rollup/plugin-typescript";
import terser from "@rollup/plugin-terser";
import replace from "@rollup/plugin-replace";
import { rollup } from "rollup";
import { basename } from "node:path";
import { loadBoards } from "./scripts/boards.js";
import { readIdentity, buildRecord } from "./scripts/identity.js";
import { checkBundle, formatProblems } from "./scripts/conformance.js";
import { assembleImage } from "./scripts/image.js";
import { withFwTag } from "./scripts/fw-info.js";
import { MODULES, checkImports } from "./scripts/modules.js";
import { parseManyWithInterpreter } from "./scripts/espruino-parse.js";
import { paramsToLocalsPlugin } from "./scripts/params-to-locals.js";

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
const stamp = buildStamp();

/** The pins the firmware drives itself, which Blynk's pin commands must leave alone: ",2L,0B," (L LED, B button). */
function ownPins(board) {
  return "," + board.led.pins.map((p) => p + "L,").join("") + (board.button ? board.button.pin + "B," : "");
}

/** The build record as constants: "__BUILD__.a.b" -> literal. */
export function constants(board) {
  const build = {
    board: board.id, chip: board.chip, dev: board.dev,
    tmplId: identity.templateId, tmplName: identity.templateName, fwVer: identity.firmwareVersion, build: stamp,
    led: board.led, button: board.button, setupCode: identity.setupCode, telnet: identity.telnet === "on", tlsRequire: identity.tls === "require",
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

/**
 * Blynk's firmware info tag for a board's bundle (scripts/fw-info.js): what Blynk.Air shows for an
 * uploaded file and sends back as x-fw-type / x-fw-ver / x-fw-build. `blynk` is the protocol level
 * of the info message (firmware/cloud/session.ts BLYNK_VERSION) without its "+espruino", which
 * Blynk's tag finder would stop at.
 */
export function fwTagInfo(board) {
  return { mcu: identity.firmwareVersion, "fw-type": identity.templateId, build: stamp, blynk: "1.4.0", hw: board.id };
}

// Espruino throws SyntaxError on array holes ([3,5,,6]) in code it skips; TS emits them in __generator.
const fixHoles = {
  name: "espruino-fix-array-holes",
  renderChunk(code) {
    return { code: code.replace(/\[[\d,]+\]/g, (m) => m.replace(/,(?=,)/g, ",void 0")), map: null };
  },
};

/** Compiler and minifier settings shared by every module of every board. */
export function firmwarePlugins(board) {
  return [
    replace({ preventAssignment: true, delimiters: ["\\b", "\\b(?![.\\w])"], values: constants(board) }),
    typescript({ tsconfig: "./tsconfig.json", outDir: undefined, noEmitOnError: true }),
  ];
}

/**
 * Minifier settings. `fold`: single-use functions are folded into their one caller as function
 * expressions (reduce_funcs), so run-once code never sits in a module's scope - right for modules
 * that stay loaded (hot paths must then not call single-use helpers, see firmware/led/led.ts). A
 * module loaded for one short job (a config write, the boot) is better without: there a folded
 * function is made on every call, with its own copy of the scope chain.
 */
export function firmwareOutputPlugins(fold = true) {
  return [
    terser({
      ecma: 5,
      compress: { hoist_funs: true, inline: false, unsafe_proto: true, passes: 2, pure_getters: true, keep_fargs: false, reduce_funcs: fold },
      // EDGENT_KEEP_NAMES=1 keeps function and variable names (scripts/ram-map.ts reads them)
      mangle: process.env.EDGENT_KEEP_NAMES ? false : { toplevel: true },
      format: { ascii_only: true, comments: false },
    }),
    fixHoles,
    paramsToLocalsPlugin,
  ];
}

/** One module as Espruino evaluates it with Modules.addCached: flat code, `exports.x = ...`. */
async function buildModule(board, mod, warn) {
  const b = await rollup({ input: mod.entry, plugins: firmwarePlugins(board), onwarn: (w) => w.code !== "CIRCULAR_DEPENDENCY" && warn(w) });
  const problems = checkImports(mod, b.watchFiles);
  if (problems.length) throw new Error(problems.join("\n"));
  const { output } = await b.generate({ format: mod.name === "loader" ? "iife" : "cjs", strict: false, esModule: false, exports: "named", plugins: firmwareOutputPlugins(mod.fold !== false) });
  await b.close();
  const code = output[0].code.trim();
  const issues = checkBundle(code);
  if (issues.length) throw new Error("Espruino cannot run this module:\n" + formatProblems(`${board.id}/${mod.name}`, issues));
  return code;
}

/** Builds every module of the board and puts the image in place of the loader's own chunk. */
function image(board) {
  return {
    name: "edgent-image",
    async generateBundle(opts, bundle) {
      const warn = (w) => this.warn(w);
      const mods = [];
      for (const m of MODULES) mods.push([m.name, await buildModule(board, m, warn)]);
      const loader = await buildModule(board, { name: "loader", entry: "firmware/boot/loader.ts" }, warn);
      // With an Espruino LINUX build at hand, the interpreter itself parses every function of every
      // module, so a syntax error in a branch no test reaches fails the build, not a user's request.
      if (process.env.ESPRUINO_BIN) {
        const texts = [{ name: `${board.id}/loader`, code: loader }, ...mods.map(([name, code]) => ({ name: `${board.id}/${name}`, code }))];
        const results = await parseManyWithInterpreter(process.env.ESPRUINO_BIN, texts);
        const report = texts.map((t, i) => formatProblems(t.name, results[i])).filter(Boolean).join("\n");
        if (report) this.error("Espruino cannot parse this firmware:\n" + report);
      }
      const info = { fw: identity.firmwareVersion, board: board.id, chip: board.chip, tmpl: identity.templateId, build: stamp };
      const text = assembleImage(info, loader, mods);
      const chunk = Object.values(bundle).find((c) => c.type === "chunk");
      chunk.code = text;
      if (!opts.file) return; // an in-memory build (benchmarks) has no files beside it
      const base = basename(opts.file, ".js");
      this.emitFile({ type: "asset", fileName: base + ".build.json", source: JSON.stringify(buildRecord(identity), null, 2) + "\n" });
      // for Blynk.Air: the same image with Blynk's firmware info tag after it (the boot loader reads
      // the image by its header and never runs the tag)
      this.emitFile({ type: "asset", fileName: base + ".ota.js", source: withFwTag(text, fwTagInfo(board)) });
    },
  };
}

export default boards.map((board) => ({
  input: "firmware/boot/loader.ts",
  output: { file: `${process.env.DIST_DIR || "dist"}/${board.id}.js`, format: "iife", strict: false, plugins: [image(board)] },
  onwarn(w, warn) {
    if (w.code !== "CIRCULAR_DEPENDENCY") warn(w);
  },
  plugins: firmwarePlugins(board),
}));
