// The virtual board's flash between runs: the simulator's Storage image (and the ESP8266 SDK's
// persisted radio mode) in one JSON file, written whole through a temporary file and a rename so
// an interrupted save leaves the previous image.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { FlashImage } from "../sim/types.ts";

const FORMAT = "espruino-edgent virtual flash 1";

/** Default place of a board's flash image: the OS temp directory, one file per board profile. */
export function defaultFlashFile(board: string): string {
  return join(tmpdir(), "espruino-edgent-virtual-board", board + ".flash.json");
}

/** The saved image, or undefined when there is none; a damaged file is reported and ignored. */
export function loadFlash(file: string, chip: string, warn: (msg: string) => void): FlashImage | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    const j = JSON.parse(text);
    if (j.format !== FORMAT) throw new Error("not a virtual board flash file");
    if (j.chip !== chip) throw new Error(`it belongs to an ${j.chip}, this board is an ${chip}`);
    const bytes = new Uint8Array(Buffer.from(j.bytes, "base64"));
    if (bytes.length === 0 || bytes.length % 4096) throw new Error(`its size ${bytes.length} is not a whole number of 4096-byte pages`);
    return { bytes, sdkOpmode: typeof j.sdkOpmode === "number" ? j.sdkOpmode : undefined };
  } catch (e) {
    warn(`ignoring the flash image ${file} (${(e as Error).message}); starting with an erased flash`);
    return undefined;
  }
}

export function saveFlash(file: string, chip: string, image: FlashImage): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = file + ".tmp";
  const body = { format: FORMAT, chip, sdkOpmode: image.sdkOpmode, bytes: Buffer.from(image.bytes).toString("base64") };
  writeFileSync(tmp, JSON.stringify(body));
  renameSync(tmp, file);
}
