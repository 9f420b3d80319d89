// The firmware image: what `npm run build` writes as dist/<board>.js and what a board stores as
// `.bootcde` (or, after an update over the air, as an update slot). One text file:
//
//   /*EDGENT1 {"fw":"0.1.0","board":"nodemcu",...,"m":"core,412,9876,portal,10289,7000,...","crc":123}*/
//   <loader: plain statements, run by Espruino at boot>
//   /*
//   <module core>
//   <module portal>
//   ...
//   */
//
// Espruino runs the header comment and the loader; the modules sit in a comment, so booting costs
// no RAM for them. The loader (firmware/boot/loader.ts) reads the header, takes each module as a
// slice of the Storage file (`require("Storage").read(file, offset, length)`: memory-mapped flash,
// one JsVar) and evaluates it with `Modules.addCached`, so function bodies stay in flash and a
// module costs RAM only for its function objects and data, and only while it is loaded.
// `m` lists name, offset and length of each module; `crc` is E.CRC32 over the bytes from the first
// module to the end of the last; `len` the image's length (an update slot may hold more after it).
import { createHash } from "node:crypto";

export const IMAGE_MAGIC = "/*EDGENT1 ";

/** Standard reflected CRC-32 (zlib, Espruino's E.CRC32). */
export function crc32(bytes) {
  let c = ~0;
  for (let i = 0; i < bytes.length; i++) {
    c ^= bytes.charCodeAt(i) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/**
 * Assembles an image from the loader's code and the modules' codes ([name, code] in load order).
 * Throws when a module cannot sit inside a comment. `info` goes into the header as it is.
 */
export function assembleImage(info, loader, modules) {
  for (const [name, code] of modules) {
    if (code.includes("*/")) throw new Error(`module ${name} contains "*/", which would end the comment that holds it: rewrite that string or regex (e.g. "*\\/")`);
    if (/[^\x09\x0a\x0d\x20-\x7e]/.test(code)) throw new Error(`module ${name} is not printable ASCII`);
  }
  const body = modules.map(([, code]) => code + "\n").join("");
  const bodyCrc = crc32(body);
  // offsets depend on the header's own length: settle it by recomputing until it stops changing
  let header = "";
  for (let i = 0; i < 5; i++) {
    let off = header.length + loader.length + 1 + 3; // header, loader, "\n", "/*\n"
    const m = [];
    for (const [name, code] of modules) {
      m.push(name, off, code.length);
      off += code.length + 1;
    }
    const next = IMAGE_MAGIC + JSON.stringify({ ...info, m: m.join(","), crc: bodyCrc, len: off + 3 }) + "*/\n";
    if (next === header) break;
    header = next;
  }
  const image = header + loader + "\n/*\n" + body + "*/\n";
  const parsed = parseImage(image);
  if (!parsed || parsed.len !== image.length) throw new Error("image layout did not settle");
  return image;
}

/** The header of an image text (or undefined), with `mods` as {name: [offset, length]}. */
export function parseImage(text) {
  if (!text.startsWith(IMAGE_MAGIC)) return undefined;
  const end = text.indexOf("*/");
  if (end < 0) return undefined;
  let h;
  try {
    h = JSON.parse(text.slice(IMAGE_MAGIC.length, end));
  } catch {
    return undefined;
  }
  const parts = String(h.m).split(",");
  const mods = {};
  for (let i = 0; i + 2 < parts.length; i += 3) mods[parts[i]] = [Number(parts[i + 1]), Number(parts[i + 2])];
  return { ...h, mods };
}

/** The source text of one module of an image, or undefined. */
export function moduleText(text, name) {
  const h = parseImage(text);
  const m = h && h.mods[name];
  return m ? text.slice(m[0], m[0] + m[1]) : undefined;
}

/** True when the image's modules still match the CRC in its header (what the loader checks). */
export function imageIntact(text) {
  const h = parseImage(text);
  if (!h) return false;
  const names = Object.keys(h.mods);
  const first = h.mods[names[0]][0];
  const lastMod = h.mods[names[names.length - 1]];
  return crc32(text.slice(first, lastMod[0] + lastMod[1] + 1)) === h.crc;
}

export function sha256Hex(text) {
  return createHash("sha256").update(Buffer.from(text, "latin1")).digest("hex");
}
