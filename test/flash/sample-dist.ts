// Sample bundles in a dist-like folder, and error checks, for the flash CLI tests.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Run } from "./run-flash.ts";
import { buildRecord } from "../../scripts/identity.js";

export const REAL_DIST = new URL("../../dist/", import.meta.url).pathname;

/** The folder useSampleDist() made for the running describe block. */
export let dist: string;
export const NODEMCU = 'print("nodemcu sample");\n';
export const ESP32 = 'print("esp32-devkitc sample");\n';
export const C3 = 'print("esp32-c3-devkitm sample");\n';
export const PLANT = { templateId: "TMPL4abc123", templateName: "Plant Monitor", firmwareVersion: "1.2.3", setupCode: "", telnet: "off" };

/** A build record as the build writes it beside a bundle. */
export function writeRecord(dir: string, board: string, id: Parameters<typeof buildRecord>[0]): void {
  writeFileSync(join(dir, `${board}.build.json`), JSON.stringify(buildRecord(id)));
}

/** A dist-like folder with small sample bundles, for the duration of one describe block. */
export function useSampleDist(): void {
  before(() => {
    dist = mkdtempSync(join(tmpdir(), "flash-test-dist-"));
    writeFileSync(join(dist, "nodemcu.js"), NODEMCU);
    writeRecord(dist, "nodemcu", PLANT);
    writeFileSync(join(dist, "esp32-devkitc.js"), ESP32);
    writeFileSync(join(dist, "esp32-c3-devkitm.js"), C3);
  });
  after(() => rmSync(dist, { recursive: true, force: true }));
}

/** One line of error, one line of hint, no stack trace. */
export function assertOneLineError(r: Run, message: RegExp, hint: RegExp): void {
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0], message);
  assert.match(lines[1], hint);
  assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
}
