/**
 * Streaming CSV input through csv-parse. Accepts `,` or `;` (chosen from the header line,
 * the rule TTS uses), a UTF-8 BOM, RFC 4180 quotes, CRLF, LF or CR, mixed. Refuses hostile input
 * early with a message naming the line: NUL bytes / invalid UTF-8 (binary files, UTF-16
 * exports) and lines over 64 KiB. Column-count mismatches are left to the validator so
 * every bad row is reported, not just the first.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { Transform, pipeline, type TransformCallback } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import type { RuleId } from '../core/rules.ts';

export const MAX_LINE_BYTES = 64 * 1024;

/** A problem that stops reading the file. */
export class FleetInputError extends Error {
  constructor(readonly rule: RuleId, message: string, readonly line?: number) {
    super(message);
  }
}

/** The input cannot be opened at all (missing, a folder, no permission): an I/O problem, not bad content. */
export class InputFileError extends Error {}

async function statInput(path: string) {
  try {
    return await fsp.stat(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputFileError(`no such file: ${path}`);
    if (code === 'EACCES' || code === 'EPERM') throw new InputFileError(`no permission to read ${path}`);
    throw e;
  }
}

export interface CsvRow {
  cells: string[];
  /** 1-based line where the row starts. */
  line: number;
}

export interface CsvFile {
  path: string;
  delimiter: ',' | ';';
  header: string[];
  headerLine: number;
  size: number;
  mtimeMs: number;
  rows(): AsyncGenerator<CsvRow>;
  /** Bytes consumed so far, for progress. */
  bytesRead(): number;
}

/** Rejects bytes that cannot be CSV text, remembering the line for the message. */
class TextGuard extends Transform {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private offset = 0;
  private line = 1;
  private endsInCR = false;
  bytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const nul = chunk.indexOf(0);
    if (nul >= 0) {
      const line = this.lineAt(chunk, nul);
      done(new FleetInputError('file-not-text', `line ${line} holds a NUL byte (file offset ${this.offset + nul}): this is not a CSV text file (binary, or UTF-16 "Unicode text"); save it as "CSV UTF-8"`, line));
      return;
    }
    try {
      this.decoder.decode(chunk, { stream: true });
    } catch {
      done(new FleetInputError('file-not-text', `line ${this.line} or the one after is not valid UTF-8 text; save the file as "CSV UTF-8"`, this.line));
      return;
    }
    this.line += lineBreaksIn(chunk, this.endsInCR);
    this.endsInCR = chunk[chunk.length - 1] === 0x0d;
    this.offset += chunk.length;
    this.bytes = this.offset;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    try {
      this.decoder.decode();
      done();
    } catch {
      done(new FleetInputError('file-not-text', 'the file ends in the middle of a UTF-8 character; it is truncated or not text', this.line));
    }
  }

  private lineAt(chunk: Buffer, end: number): number {
    return this.line + lineBreaksIn(chunk.subarray(0, end), this.endsInCR);
  }
}

function countByte(buf: Buffer, byte: number): number {
  let n = 0;
  for (let i = buf.indexOf(byte); i >= 0; i = buf.indexOf(byte, i + 1)) n++;
  return n;
}

/** CRLF, LF and CR line breaks in buf; `afterCR` when the byte before it was a CR, whose LF may open buf. */
function lineBreaksIn(buf: Buffer, afterCR: boolean): number {
  let n = countByte(buf, 0x0a) - (afterCR && buf[0] === 0x0a ? 1 : 0);
  for (let i = buf.indexOf(0x0d); i >= 0; i = buf.indexOf(0x0d, i + 1)) if (buf[i + 1] !== 0x0a) n++;
  return n;
}

/** Line breaks in a record's raw text. csv-parse may drop the `\n` of a final CRLF from `raw`. */
function lineBreaks(raw: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x0a) n++;
    else if (c === 0x0d && raw.charCodeAt(i + 1) !== 0x0a) n++;
  }
  return n;
}

/** Looks at the start of the file before streaming it: emptiness, encoding, delimiter. */
async function sniff(path: string): Promise<{ delimiter: ',' | ';'; size: number; mtimeMs: number }> {
  const stat = await statInput(path);
  if (!stat.isFile()) throw new InputFileError(`${path} is ${stat.isDirectory() ? 'a folder' : 'not a regular file'}; give the CSV file itself`);
  const fh = await fsp.open(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(MAX_LINE_BYTES + 4, stat.size));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead);
    if (head.length === 0) throw new FleetInputError('no-rows', 'the file is empty', 1);
    if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
      throw new FleetInputError('file-not-text', 'the file is UTF-16 ("Unicode text"); save it as "CSV UTF-8"', 1);
    }
    const start = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
    let end = start;
    while (end < head.length && head[end] !== 0x0a && head[end] !== 0x0d) end++;
    if (end - start > MAX_LINE_BYTES) {
      throw new FleetInputError('line-too-long', `line 1 is longer than ${MAX_LINE_BYTES / 1024} KiB; a CSV header is a few dozen bytes, so this is not a device list`, 1);
    }
    if (head.subarray(start, end).includes(0)) {
      throw new FleetInputError('file-not-text', 'line 1 holds NUL bytes: this is not a CSV text file', 1);
    }
    const first = head.subarray(start, end).toString('utf8');
    // TTS's rule (";" when the header has one), except that a ";" inside a quoted header cell does not count.
    const unquoted = first.replace(/"(?:[^"]|"")*"/g, '');
    return { delimiter: unquoted.includes(';') ? ';' : ',', size: stat.size, mtimeMs: stat.mtimeMs };
  } finally {
    await fh.close();
  }
}

function translateCsvError(err: CsvError, line: number): FleetInputError {
  if (err.code === 'CSV_MAX_RECORD_SIZE') {
    return new FleetInputError('line-too-long', `line ${line} is longer than ${MAX_LINE_BYTES / 1024} KiB; a device row is a few hundred bytes, so the file is damaged or not a device list`, line);
  }
  if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
    return new FleetInputError('csv-syntax', `line ${line}: a quote opened here is never closed, so the rest of the file would be one cell`, line);
  }
  if (err.code === 'CSV_INVALID_CLOSING_QUOTE') {
    return new FleetInputError('csv-syntax', `line ${line}: text follows a closing quote; quote the whole cell and double any quote inside it ("")`, line);
  }
  return new FleetInputError('csv-syntax', `line ${line}: ${err.message}`, line);
}

/** Opens a CSV: reads the header, then `rows()` streams the data rows once. */
export async function openCsv(path: string): Promise<CsvFile> {
  const { delimiter, size, mtimeMs } = await sniff(path);
  const guard = new TextGuard();
  const parser = parse({
    delimiter,
    // Any line ending on any line: csv-parse would otherwise take the first one it meets for the whole file,
    // so LF rows after a CRLF header became one long row. CRLF first, so that it is not read as CR then LF.
    record_delimiter: ['\r\n', '\n', '\r'],
    bom: true,
    raw: true,
    relax_column_count: true,
    skip_empty_lines: false,
    max_record_size: MAX_LINE_BYTES,
  });
  const source = createReadStream(path, { highWaterMark: 256 * 1024 });
  pipeline(source, guard, parser, () => { /* errors surface through the iterator */ });
  const it: AsyncIterator<{ record: string[]; raw: string }> = parser[Symbol.asyncIterator]();
  let nextLine = 1;

  const pull = async (): Promise<CsvRow | undefined> => {
    for (;;) {
      let step: IteratorResult<{ record: string[]; raw: string }>;
      try {
        step = await it.next();
      } catch (e) {
        if (e instanceof FleetInputError) throw e;
        const err = e as CsvError;
        // Records parsed before the error may be dropped with the stream, so our own count can
        // lag; csv-parse's count can only run ahead (it counts CRLF inside quotes twice).
        if (typeof err.code === 'string' && err.code.startsWith('CSV_')) throw translateCsvError(err, Math.max(nextLine, Number(err.lines) || 0));
        throw e;
      }
      if (step.done) return undefined;
      const line = nextLine;
      nextLine += lineBreaks(step.value.raw);
      const cells = step.value.record;
      if (cells.every((c) => c.trim() === '')) continue; // blank line
      return { cells, line };
    }
  };

  const header = await pull();
  if (!header) {
    source.destroy();
    throw new FleetInputError('no-rows', 'the file holds no header row', 1);
  }
  let consumed = false;
  return {
    path, delimiter, header: header.cells.map((h) => h.trim()), headerLine: header.line, size, mtimeMs,
    bytesRead: () => guard.bytes,
    async *rows() {
      if (consumed) throw new Error('rows() can only be read once; open the file again');
      consumed = true;
      try {
        for (let row = await pull(); row; row = await pull()) yield row;
      } finally {
        source.destroy();
        parser.destroy();
      }
    },
  };
}
