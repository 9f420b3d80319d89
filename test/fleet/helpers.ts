import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { mapHeader } from '../../tools/fleet/core/columns.ts';
import { defaultDeviceId, type Device } from '../../tools/fleet/core/device.ts';
import { BatchValidator, type ValidateOptions, type ValidationReport } from '../../tools/fleet/core/validator.ts';

export const HEADER = ['Device EUI', 'Join EUI', 'Application Key'];

/** A well-formed, random-looking device for row i (distinct EUIs and keys). */
export function goodRow(i: number): [string, string, string] {
  const dev = `0018B2${i.toString(16).toUpperCase().padStart(10, '0')}`;
  const key = createHash('md5').update(`key-${i}`).digest('hex').toUpperCase();
  return [dev, '70B3D57ED0000010', key];
}

/** Validates in-memory rows; row k is on line k + 2 (after the header). */
export function validateRows(header: string[], rows: string[][], opts: ValidateOptions = {}): ValidationReport {
  const { map, problems } = mapHeader(header);
  if (!map) throw new Error(`bad header: ${problems.map((p) => p.message).join('; ')}`);
  const v = new BatchValidator(map, opts);
  rows.forEach((r, i) => v.row(r, i + 2));
  return v.finish();
}

export function tempDir(prefix = 'fleet-test-'): { dir: string; file(name: string, content?: string | Buffer): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file(name, content) {
      const p = join(dir, name);
      if (content !== undefined) writeFileSync(p, content);
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function csvText(header: string[], rows: string[][], delimiter = ',', eol = '\n'): string {
  return [header, ...rows].map((r) => r.join(delimiter)).join(eol) + eol;
}

// jsqr is a CommonJS bundle whose types declare an ES default export; accept either shape.
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ?? jsQRModule) as unknown as typeof jsQRModule;

function decodeRgba(data: Uint8ClampedArray, width: number, height: number): string | undefined {
  return jsQR(data, width, height)?.data;
}

/** Decodes a PNG with an independent QR reader (jsQR). */
export function decodePng(png: Buffer): string | undefined {
  const img = PNG.sync.read(png);
  return decodeRgba(new Uint8ClampedArray(img.data), img.width, img.height);
}

/**
 * Rasterises the SVG that `qrcode` writes (a white square and one path of `M`/`m` moves
 * and `h` runs along module centre lines) and decodes it with jsQR. Any other path
 * command fails the test, so a change of SVG shape is noticed rather than misread.
 */
export function decodeSvg(svg: string, scale = 4): string | undefined {
  const size = Number(/viewBox="0 0 (\d+) \1"/.exec(svg)?.[1]);
  const d = /<path stroke="#000000" d="([^"]+)"/.exec(svg)?.[1];
  if (!size || !d) throw new Error('unexpected SVG shape');
  const w = size * scale;
  const rgba = new Uint8ClampedArray(w * w * 4).fill(255);
  let x = 0;
  let y = 0;
  for (const m of d.matchAll(/([Mmh])(-?[\d.]+)(?:\s(-?[\d.]+))?/g)) {
    const a = Number(m[2]);
    const b = Number(m[3]);
    if (m[1] === 'M') { x = a; y = b; continue; }
    if (m[1] === 'm') { x += a; y += b; continue; }
    const row = Math.floor(y);
    for (let col = x; col < x + a; col++) {
      for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) {
        const p = ((row * scale + dy) * w + col * scale + dx) * 4;
        rgba[p] = rgba[p + 1] = rgba[p + 2] = 0;
      }
    }
    x += a;
  }
  const leftover = d.replace(/([Mmh])(-?[\d.]+)(?:\s(-?[\d.]+))?/g, '');
  if (leftover.trim()) throw new Error(`unparsed SVG path data: ${leftover.slice(0, 40)}`);
  return decodeRgba(rgba, w, w);
}

/** A device as the validator would build it; the id defaults from the DevEUI. */
export function device(over: Partial<Device> = {}): Device {
  const d: Device = {
    line: 2, deviceIdGiven: false,
    devEui: '0018B20000000101', joinEui: '70B3D57ED0000010', appKey: '2B7E151628AED2A6ABF7158809CF4F3C', nwkKey: '',
    deviceId: '', name: '', serial: '', description: '', profileId: '', ownerToken: '', proprietary: '',
    authToken: '', qrToken: '', orgId: '',
    ...over,
  };
  if (!d.deviceId) d.deviceId = defaultDeviceId(d.devEui);
  else if (over.deviceIdGiven === undefined) d.deviceIdGiven = true;
  return d;
}
