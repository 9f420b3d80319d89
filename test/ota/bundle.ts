/**
 * Bundles a piece of firmware code for the OTA tests and benchmarks the way the firmware is built:
 * TypeScript (tsconfig.json) -> one ES5 IIFE, terser with the firmware's options, the array-hole fix,
 * and scripts/conformance.js's checkBundle (a problem throws). The options are spelled out here
 * rather than taken from rollup.config.js, whose shape is changing; keep them in step with it.
 *
 *   const code = await bundleEntry(`import { md5 } from ${fw("ota/md5.ts")}; global.m = md5;`);
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { rollup, type Plugin } from "rollup";
import typescriptPlugin from "@rollup/plugin-typescript";
import terserPlugin from "@rollup/plugin-terser";
import { checkBundle, formatProblems } from "../../scripts/conformance.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A JSON string literal naming a firmware file, for an import in entry code: fw("ota/md5.ts"). */
export function fw(file: string): string {
  return JSON.stringify(join(ROOT, "firmware", file));
}

// the plugins' CommonJS typings do not describe their default exports under this module setting
const typescript = typescriptPlugin as unknown as (o: object) => Plugin;
const terser = terserPlugin as unknown as (o: object) => Plugin;

const fixHoles: Plugin = {
  name: "espruino-fix-array-holes",
  renderChunk(code) {
    return { code: code.replace(/\[[\d,]+\]/g, (m) => m.replace(/,(?=,)/g, ",void 0")), map: null };
  },
};

const cache = new Map<string, string>();

/** The entry code (TypeScript, may import firmware modules by absolute path) as an Espruino bundle. */
export async function bundleEntry(entryCode: string): Promise<string> {
  const hit = cache.get(entryCode);
  if (hit) return hit;
  const entryId = "\0ota-entry";
  const b = await rollup({
    input: entryId,
    onwarn: () => {},
    plugins: [
      { name: "entry", resolveId: (id: string) => (id === entryId ? id : null), load: (id: string) => (id === entryId ? entryCode : null) },
      typescript({ tsconfig: join(ROOT, "tsconfig.json"), outDir: undefined, noEmitOnError: true, include: [join(ROOT, "firmware/**/*.ts")] }),
    ],
  });
  const { output } = await b.generate({
    format: "iife",
    strict: false,
    plugins: [
      terser({
        ecma: 5,
        compress: { hoist_funs: true, inline: false, unsafe_proto: true, passes: 2, pure_getters: true, keep_fargs: false },
        mangle: { toplevel: true },
        format: { ascii_only: true, comments: false },
      }),
      fixHoles,
    ],
  });
  await b.close();
  const code = output[0].code;
  const problems = checkBundle(code);
  if (problems.length) throw new Error("Espruino cannot run this bundle:\n" + formatProblems("ota-entry", problems));
  cache.set(entryCode, code);
  return code;
}
