/**
 * The two streaming passes behind `validate` and `generate`. Pass 1 validates the whole
 * file and writes nothing; pass 2 runs only on a clean file, re-reads it and writes every
 * output into a staging folder that is renamed into place at the end. Neither pass holds
 * rows in memory; pass 1 keeps the duplicate-detection keys.
 */
import { createWriteStream, promises as fsp, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { basename } from 'node:path';
import { COLUMN_BY_FIELD, mapHeader, printable, type ColumnMap, type Field } from '../core/columns.ts';
import { csvHeaderLine, csvLine, type CsvColumn } from '../core/csv-write.ts';
import type { Device } from '../core/device.ts';
import { labelHtml, labelSheetFooter, labelSheetHeader, PAPERS, type LabelContent, type PaperId } from '../core/labels.ts';
import { checkDevice, RULES } from '../core/rules.ts';
import { encodeTr005 } from '../core/tr005.ts';
import { checkTtsOptions, ttsCsvColumns, ttsCsvHeader, ttsCsvRow, ttsJsonLine, type TtsOptionsInput, type TtsSettings } from '../core/tts.ts';
import { BatchValidator, buildDevice, IssueLog, type ValidateOptions, type ValidationReport } from '../core/validator.ts';
import { qrPng, qrSvg } from './images.ts';
import { GENERATOR, MANIFEST, StagedDir } from './output-dir.ts';
import { PdfLabelSheet } from './pdf.ts';
import { createProgress } from './progress.ts';
import { FleetInputError, openCsv } from './read-csv.ts';

export type ImageFormat = 'svg' | 'png';
export type LabelQr = 'tr005' | 'token';

export interface FileValidateOptions extends ValidateOptions {
  tts?: TtsOptionsInput;
  /** Which QR goes on labels; checked against the columns. */
  labelQr?: LabelQr;
  progress?: boolean;
}

export interface FileValidation {
  report: ValidationReport;
  map?: ColumnMap;
  tts: TtsSettings;
  size: number;
  mtimeMs: number;
}

/** Pass 1: every rule over the whole file. Never throws for bad input; it reports. */
export async function validateFile(path: string, opts: FileValidateOptions = {}): Promise<FileValidation> {
  const log = new IssueLog(opts.strict, opts.maxIssues);
  const { settings, problems } = checkTtsOptions(opts.tts ?? {});
  for (const p of problems) log.add({ rule: p.rule, severity: 'error', message: p.message });
  if (opts.profileId !== undefined && !/^[0-9A-F]{8}$/.test(opts.profileId.toUpperCase())) {
    log.add({ rule: 'profile-id-format', severity: 'error', message: `--profile-id "${opts.profileId}" must be 8 hex digits (VendorID + VendorProfileID)` });
  }
  if (opts.orgId !== undefined && !/^[0-9]{1,10}$/.test(opts.orgId)) {
    log.add({ rule: 'org-id-format', severity: 'error', message: `--org-id "${opts.orgId}" is not a whole number` });
  }
  // A bad option would fail every row the same way (100k rows, 100k messages): say it once and stop.
  if (log.errors > 0) return { report: log.toReport([], 0), tts: settings, size: 0, mtimeMs: 0 };

  let file;
  try {
    file = await openCsv(path);
  } catch (e) {
    return { report: fatal(log, e, [], 0), tts: settings, size: 0, mtimeMs: 0 };
  }
  const { map, problems: headerProblems } = mapHeader(file.header, file.delimiter);
  for (const p of headerProblems) {
    log.add({ rule: p.rule, severity: p.severity, line: file.headerLine, column: p.column, columnName: p.column ? file.header[p.column - 1] : undefined, message: p.message });
  }
  if (!map) {
    // Drain nothing: the header alone decides that the file cannot be used.
    for await (const _ of file.rows()) break;
    return { report: log.toReport(file.header, 0), tts: settings, size: file.size, mtimeMs: file.mtimeMs };
  }
  if (map.kind === 'lorawan' && settings.macVersion === 'MAC_V1_1' && map.index.nwkKey === undefined) {
    log.add({ rule: 'tts-nwkkey-required', severity: 'error', line: file.headerLine, message: 'LoRaWAN 1.1 devices need a Network Key column as well as the Application Key' });
  }
  if (opts.labelQr === 'token' && map.index.qrToken === undefined) {
    log.add({ rule: 'header-missing-column', severity: 'error', line: file.headerLine, message: 'labels with the Blynk token QR need a QR Token column' });
  }

  const validator = new BatchValidator(map, opts, log);
  const progress = createProgress({ label: 'validating', totalBytes: file.size, enabled: !!opts.progress });
  let rows = 0;
  try {
    for await (const row of file.rows()) {
      validator.row(row.cells, row.line);
      if ((++rows & 1023) === 0) progress.update(rows, file.bytesRead());
    }
  } catch (e) {
    progress.done();
    return { report: fatal(log, e, file.header, rows, map), map, tts: settings, size: file.size, mtimeMs: file.mtimeMs };
  }
  progress.done();
  return { report: validator.finish(), map, tts: settings, size: file.size, mtimeMs: file.mtimeMs };
}

function fatal(log: IssueLog, e: unknown, header: readonly string[], rows: number, map?: ColumnMap): ValidationReport {
  if (!(e instanceof FleetInputError)) throw e;
  log.add({ rule: e.rule, severity: 'error', line: e.line, message: e.message });
  return log.toReport(header, rows, map?.kind);
}

export interface GenerateOptions extends FileValidateOptions {
  out: string;
  force?: boolean;
  /** Append the TR005 C field (CRC-16/MODBUS). */
  checksum?: boolean;
  images?: readonly ImageFormat[];
  labels?: readonly PaperId[];
  pdf?: boolean;
}

export interface GenerateResult {
  ok: boolean;
  report: ValidationReport;
  /** Files written, relative to the output folder (images counted, not listed). */
  files: string[];
  images: number;
  rows: number;
}

/** Buffers small writes and respects back-pressure, so a 100k-row export stays flat in memory. */
class BufferedFile {
  private buf = '';
  private readonly stream: WriteStream;
  private error: Error | undefined;

  constructor(path: string) {
    this.stream = createWriteStream(path);
    // Kept so an error between writes is not an uncaught exception; rethrown on the next call.
    this.stream.on('error', (e) => { this.error = e; });
  }

  async write(s: string): Promise<void> {
    this.buf += s;
    if (this.buf.length >= 64 * 1024) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.error) throw this.error;
    const chunk = this.buf;
    this.buf = '';
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    if (this.buf) await this.flush();
    if (this.error) throw this.error;
    const finished = once(this.stream, 'finish');
    this.stream.end();
    await finished;
  }
}

interface DeviceOutput {
  device: Device;
  tr005: string;
  blynkQr: string;
}

function blynkQrContent(d: Device): string {
  if (!d.qrToken) return '';
  return d.orgId ? `${d.qrToken}+${d.orgId}` : d.qrToken;
}

/** The header text the maker used for a column, or our label when the file has none. */
function headerFor(map: ColumnMap, field: Field): string {
  const i = map.index[field];
  return i === undefined ? COLUMN_BY_FIELD[field].label : map.header[i];
}

function qrCodesColumns(map: ColumnMap): CsvColumn<DeviceOutput>[] {
  const cols: CsvColumn<DeviceOutput>[] = [{ header: 'line', get: (o) => String(o.device.line) }];
  if (map.kind === 'lorawan') {
    cols.push({ header: 'Device EUI', get: (o) => o.device.devEui }, { header: 'Join EUI', get: (o) => o.device.joinEui });
  }
  if (map.index.serial !== undefined) cols.push({ header: 'Serial Number', get: (o) => o.device.serial, text: true });
  if (map.index.name !== undefined) cols.push({ header: 'Device Name', get: (o) => o.device.name, text: true });
  if (map.kind === 'lorawan') cols.push({ header: 'TR005 QR', get: (o) => o.tr005 });
  if (map.index.qrToken !== undefined) cols.push({ header: 'Blynk QR', get: (o) => o.blynkQr });
  return cols;
}

/**
 * The CSV to upload in Blynk (Static Tokens -> Create From File, or the TTS integration):
 * headers must equal the template's metadata names, so the three LoRaWAN fields use
 * Blynk's names and any serial/name column keeps the maker's own header text.
 */
function blynkColumns(map: ColumnMap): CsvColumn<Device>[] {
  const cols: CsvColumn<Device>[] = [
    { header: 'Device EUI', get: (d) => d.devEui },
    { header: 'Join EUI', get: (d) => d.joinEui },
    { header: 'Application Key', get: (d) => d.appKey },
  ];
  if (map.index.serial !== undefined) cols.push({ header: headerFor(map, 'serial'), get: (d) => d.serial, text: true });
  if (map.index.name !== undefined) cols.push({ header: headerFor(map, 'name'), get: (d) => d.name, text: true });
  return cols;
}

/** Pass 1, then (only if clean) pass 2 into a staged folder. Nothing is written on failure. */
export async function generate(path: string, opts: GenerateOptions): Promise<GenerateResult> {
  StagedDir.check(opts.out, opts.force, [path]);
  const v = await validateFile(path, opts);
  if (!v.report.ok || !v.map) return { ok: false, report: v.report, files: [], images: 0, rows: v.report.rows };
  const map = v.map;
  const staged = await StagedDir.create(opts.out, { force: opts.force, inputs: [path] });
  try {
    const res = await writeOutputs(path, staged, map, v, opts);
    await staged.commit();
    return { ok: true, report: v.report, ...res };
  } catch (e) {
    await staged.abort();
    throw e;
  }
}

async function writeOutputs(
  path: string, staged: StagedDir, map: ColumnMap, v: FileValidation, opts: GenerateOptions,
): Promise<{ files: string[]; images: number; rows: number }> {
  const lora = map.kind === 'lorawan';
  const hasQrToken = map.index.qrToken !== undefined;
  const formats = opts.images ?? ['svg', 'png'];
  const labelQr: LabelQr = opts.labelQr ?? (lora ? 'tr005' : 'token');
  const canLabel = labelQr === 'tr005' ? lora : hasQrToken;
  const papers = canLabel ? opts.labels ?? ['a4', 'letter'] : [];
  const qrSerial = opts.qrSerial !== false;
  const files: string[] = [];
  const open = (name: string) => {
    files.push(name);
    return new BufferedFile(staged.file(name));
  };

  const file = await openCsv(path);
  if (file.size !== v.size || file.mtimeMs !== v.mtimeMs) {
    throw new FleetInputError('csv-syntax', `${basename(path)} changed between validation and generation; run again`);
  }

  const qrCols = qrCodesColumns(map);
  const qrCsv = open('qr-codes.csv');
  await qrCsv.write(csvHeaderLine(qrCols, ','));
  let blynkCsv: BufferedFile | undefined;
  let ttsCsv: BufferedFile | undefined;
  let ttsJson: BufferedFile | undefined;
  const blynkCols = blynkColumns(map);
  const shape = { settings: v.tts, hasName: map.index.name !== undefined, hasDescription: map.index.description !== undefined, hasNwkKey: map.index.nwkKey !== undefined };
  const ttsCols = ttsCsvColumns(shape);
  if (lora) {
    blynkCsv = open('blynk-devices.csv');
    await blynkCsv.write(csvHeaderLine(blynkCols, ','));
    ttsCsv = open('tts-devices.csv');
    await ttsCsv.write(ttsCsvHeader(shape));
    ttsJson = open('tts-devices.json');
  }
  const imageDirs: string[] = [];
  if (formats.length && lora) imageDirs.push('qr/tr005');
  if (formats.length && hasQrToken) imageDirs.push('qr/blynk');
  for (const d of imageDirs) await fsp.mkdir(staged.file(d), { recursive: true });

  const title = `${basename(path)} labels`;
  const html = papers.map((p) => ({ paper: PAPERS[p], out: open(`labels-${p}.html`) }));
  for (const h of html) await h.out.write(labelSheetHeader(h.paper, title));
  const pdfs = opts.pdf === false ? [] : papers.map((p) => {
    files.push(`labels-${p}.pdf`);
    return new PdfLabelSheet(staged.file(`labels-${p}.pdf`), PAPERS[p], title);
  });

  const ctx = { kind: map.kind, qrSerial };
  const progress = createProgress({ label: 'generating', totalBytes: file.size, enabled: !!opts.progress });
  let rows = 0;
  let labels = 0;
  let images = 0;
  let pending: Promise<void>[] = [];
  const writeImage = async (rel: string, data: string | Buffer) => {
    pending.push(fsp.writeFile(staged.file(rel), data));
    images++;
    if (pending.length >= 32) {
      await Promise.all(pending);
      pending = [];
    }
  };

  for await (const row of file.rows()) {
    const { device } = buildDevice(row.cells, map, row.line, opts);
    const bad = row.cells.length !== map.header.length ? 'field-count' : checkDevice(device, ctx).find((f) => f.severity === 'error' || (opts.strict && f.severity === 'warning'))?.rule;
    if (bad) {
      throw new FleetInputError(bad, `line ${row.line} fails ${bad} on the second pass (${RULES[bad].meaning}); the file changed while running?`, row.line);
    }
    const out: DeviceOutput = {
      device,
      tr005: lora
        ? encodeTr005({
          joinEui: device.joinEui, devEui: device.devEui, profileId: device.profileId || '00000000',
          ownerToken: device.ownerToken || undefined,
          serial: qrSerial && device.serial ? device.serial.toUpperCase() : undefined,
          proprietary: device.proprietary ? [device.proprietary] : [],
        }, { checksum: opts.checksum })
        : '',
      blynkQr: blynkQrContent(device),
    };
    await qrCsv.write(csvLine(qrCols, out, ','));
    if (lora) {
      await blynkCsv!.write(csvLine(blynkCols, device, ','));
      await ttsCsv!.write(ttsCsvRow(ttsCols, device));
      await ttsJson!.write(ttsJsonLine(device, v.tts));
    }

    let tr005Svg: string | undefined;
    let blynkSvg: string | undefined;
    if (formats.includes('svg')) {
      if (lora) await writeImage(`qr/tr005/${device.devEui}.svg`, (tr005Svg = await qrSvg(out.tr005)));
      if (out.blynkQr) await writeImage(`qr/blynk/${device.qrToken}.svg`, (blynkSvg = await qrSvg(out.blynkQr)));
    }
    if (formats.includes('png')) {
      if (lora) await writeImage(`qr/tr005/${device.devEui}.png`, await qrPng(out.tr005));
      if (out.blynkQr) await writeImage(`qr/blynk/${device.qrToken}.png`, await qrPng(out.blynkQr));
    }
    if (papers.length) {
      const qrText = labelQr === 'tr005' ? out.tr005 : out.blynkQr;
      if (qrText) {
        const svg = (labelQr === 'tr005' ? tr005Svg : blynkSvg) ?? (await qrSvg(qrText));
        const label: LabelContent = {
          qrText, qrSvg: svg, devEui: lora ? device.devEui : undefined,
          serial: device.serial || undefined, name: device.name || undefined,
          hint: labelQr === 'token' ? 'Scan in the Blynk app' : undefined,
        };
        // Pages break by labels, not rows (rows without a QR get no label), as in the PDF.
        for (const h of html) await h.out.write(labelHtml(h.paper, label, labels));
        for (const p of pdfs) p.add(label);
        labels++;
      }
    }
    if ((++rows & 255) === 0) progress.update(rows, file.bytesRead());
  }
  await Promise.all(pending);
  progress.done();
  if (rows !== v.report.rows) {
    throw new FleetInputError('csv-syntax', `${basename(path)} had ${v.report.rows} rows when validated and ${rows} now; run again`);
  }
  await qrCsv.close();
  await blynkCsv?.close();
  await ttsCsv?.close();
  await ttsJson?.close();
  for (const h of html) {
    await h.out.write(labelSheetFooter());
    await h.out.close();
  }
  for (const p of pdfs) await p.close();

  const manifest = {
    generator: GENERATOR,
    input: basename(path),
    kind: map.kind,
    rows,
    warnings: v.report.warnings,
    qr: { format: lora ? 'LoRaWAN TR005' : 'Blynk static token', checksum: !!opts.checksum, serialInQr: lora && qrSerial, errorCorrection: 'M' },
    tts: lora ? { ...v.tts, csvHeader: ttsCsvHeader(shape).trim() } : undefined,
    images: { formats: imageDirs.length ? formats : [], count: images, folders: imageDirs },
    labels: papers,
    files: [...files, MANIFEST],
  };
  files.push(MANIFEST);
  await fsp.writeFile(staged.file(MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  return { files, images, rows };
}

/** Human-readable issue line: `file line 7, column 2 (Join EUI): error [rule]: message`. */
export function formatIssue(file: string, i: ValidationReport['issues'][number]): string {
  const where = [
    i.line !== undefined ? `line ${i.line}` : undefined,
    i.column !== undefined ? `column ${i.column}${i.columnName !== undefined ? ` (${printable(i.columnName)})` : ''}` : undefined,
  ].filter(Boolean).join(', ');
  const sev = i.strict ? 'error (strict)' : i.severity;
  // Messages quote cell values; control characters are shown escaped so input cannot drive the terminal.
  return `${printable(file, 200)}${where ? ` ${where}` : ''}: ${sev} [${i.rule}]: ${printable(i.message, 400)}`;
}
