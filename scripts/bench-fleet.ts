/**
 * Fleet tool benchmark: validation + generation throughput and peak memory for 10k and
 * 100k generated rows, and what each default output costs per 1000 devices: SVG and PNG QR
 * images, HTML and PDF label sheets (one paper size each). Each measurement runs in its own
 * child process so peak RSS (`process.resourceUsage().maxRSS`) belongs to that run alone.
 *
 *   tsx scripts/bench-fleet.ts            prints a table
 *   import { benchFleet } from './bench-fleet.ts'   returns the numbers
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..');

async function writeRows(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  await write('Device EUI,Join EUI,Application Key,Serial Number,Device Name\n');
  for (let i = 1; i <= rows; i++) {
    const dev = `0018B2${i.toString(16).toUpperCase().padStart(10, '0')}`;
    const key = createHash('md5').update(`bench-${i}`).digest('hex').toUpperCase();
    await write(`${dev},70B3D57ED0000010,${key},SN${String(i).padStart(7, '0')},Sensor ${i}\n`);
  }
  await new Promise<void>((r) => out.end(() => r()));
}

interface ChildResult { ms: number; rows: number; maxRssMb: number }

/** What each generate mode writes besides the CSV/JSON exports. */
const OUTPUTS: Record<string, { images: ('svg' | 'png')[]; labels: ('a4' | 'letter')[]; pdf: boolean }> = {
  generate: { images: [], labels: [], pdf: false },
  svg: { images: ['svg'], labels: [], pdf: false },
  png: { images: ['png'], labels: [], pdf: false },
  'labels-html': { images: [], labels: ['a4'], pdf: false },
  'labels-pdf': { images: [], labels: ['a4'], pdf: true },
  defaults: { images: ['svg', 'png'], labels: ['a4', 'letter'], pdf: true },
};

/** Runs one measurement in a fresh process (this file with --child). */
function child(mode: string, csv: string, out: string): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--child', mode, csv, out], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`bench child ${mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function runChild(mode: string, csv: string, out: string): Promise<void> {
  const { validateFile, generate } = await import('../tools/fleet/io/pipeline.ts');
  const t0 = performance.now();
  let rows = 0;
  if (mode === 'baseline') {
    rows = 0;
  } else if (mode === 'validate') {
    const v = await validateFile(csv);
    if (!v.report.ok) throw new Error('bench input did not validate');
    rows = v.report.rows;
  } else {
    const outputs = OUTPUTS[mode];
    if (!outputs) throw new Error(`unknown bench mode ${mode}`);
    const res = await generate(csv, {
      out, profileId: '000AF8BE', tts: { frequencyPlan: 'EU_863_870_TTN', macVersion: '1.0.3', phyVersion: 'RP001_V1_0_3_REV_A' },
      checksum: true, ...outputs,
    });
    if (!res.ok) throw new Error('bench generate failed');
    rows = res.rows;
  }
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ ms, rows, maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

export async function benchFleet(): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-fleet-'));
  const results: Record<string, number | string> = {};
  try {
    const base = child('baseline', '', '');
    results['fleet.node_baseline_rss_mb'] = round(base.maxRssMb);
    for (const n of [10_000, 100_000]) {
      const csv = join(dir, `rows-${n}.csv`);
      await writeRows(csv, n);
      const label = n >= 1000 ? `${n / 1000}k` : String(n);
      const v = child('validate', csv, '');
      results[`fleet.validate_${label}_rows_per_s`] = Math.round(v.rows / (v.ms / 1000));
      results[`fleet.validate_${label}_peak_rss_mb`] = round(v.maxRssMb);
      const g = child('generate', csv, join(dir, `out-${n}`));
      // generate = validation pass + generation pass (QR bodies, Blynk CSV, TTS CSV + JSON).
      results[`fleet.generate_${label}_rows_per_s`] = Math.round(g.rows / (g.ms / 1000));
      results[`fleet.generate_${label}_peak_rss_mb`] = round(g.maxRssMb);
      rmSync(join(dir, `out-${n}`), { recursive: true, force: true });
    }
    const csv = join(dir, 'rows-1000.csv');
    await writeRows(csv, 1000);
    const ms: Record<string, number> = {};
    for (const mode of Object.keys(OUTPUTS)) ms[mode] = child(mode, csv, join(dir, `out-${mode}`)).ms;
    const per1000 = (more: number, less: number) => round(Math.max(0, more - less) / 1000, 3);
    results['fleet.generate_1000_exports_only_s'] = round(ms.generate / 1000, 3);
    results['fleet.svg_qr_s_per_1000'] = per1000(ms.svg, ms.generate);
    results['fleet.png_qr_s_per_1000'] = per1000(ms.png, ms.generate);
    // Labels draw their own QR codes when no images are written; the PDF figure is on top of the HTML sheet.
    results['fleet.html_labels_s_per_1000'] = per1000(ms['labels-html'], ms.generate);
    results['fleet.pdf_labels_s_per_1000'] = per1000(ms['labels-pdf'], ms['labels-html']);
    results['fleet.generate_1000_defaults_s'] = round(ms.defaults / 1000, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

const argv = process.argv.slice(2);
if (resolve(process.argv[1] ?? '') === SELF) {
  if (argv[0] === '--child') {
    runChild(argv[1], argv[2], argv[3]).catch((e) => {
      process.stderr.write(`${(e as Error).stack}\n`);
      process.exitCode = 1;
    });
  } else {
    benchFleet().then((r) => {
      for (const [k, v] of Object.entries(r)) process.stdout.write(`${k.padEnd(36)} ${v}\n`);
    });
  }
}
