/**
 * Writing Blynk static auth tokens into boards (the "preprovisioned" WiFi path): the
 * firmware reads Storage file `edgent.token`, whose content is exactly the 32-character
 * token, and then the portal asks only for WiFi. The board is reached through an injected
 * writer with the signature of `writeStorageFiles` in tools/lib/espruino.ts, so tests and
 * --dry-run never touch a serial port.
 *
 * Batch mode hands out tokens from a CSV one board at a time and appends every outcome to
 * a log CSV before moving on. A resumed batch skips every token the log shows as written
 * or failed (a failed write may still have reached the board), so no token is reused.
 */
import type { EspruinoTarget } from '../../lib/espruino.ts';
import { csvHeaderLine, csvLine, type CsvColumn } from './csv-write.ts';

/** Storage file name agreed with the firmware; 12 characters, under Espruino's 27 limit. */
export const TOKEN_STORAGE_FILE = 'edgent.token';
/** Edgent's portal pattern for an auth token (ConfigMode.h). */
export const AUTH_TOKEN_PATTERN = /^[-_a-zA-Z0-9]{32}$/;

export interface StorageFile {
  name: string;
  content: string;
}

/** Same shape as `writeStorageFiles` from tools/lib/espruino.ts. */
export type StorageWriter = (
  target: EspruinoTarget,
  files: StorageFile[],
  opts?: { dryRun?: boolean; log?: (line: string) => void },
) => Promise<string[]>;

export class TokenError extends Error {}

/** `Ab3d…2345`: enough to tell tokens apart on screen without showing a credential. */
export function maskToken(token: string): string {
  return token.length <= 8 ? '…' : `${token.slice(0, 4)}…${token.slice(-4)}`;
}

export function tokenStorageFiles(token: string): StorageFile[] {
  if (!AUTH_TOKEN_PATTERN.test(token)) {
    const why = token.length !== 32 ? `is ${token.length} characters; it must be exactly 32` : 'may only hold A-Z a-z 0-9 - _';
    throw new TokenError(`the auth token ${why}`);
  }
  return [{ name: TOKEN_STORAGE_FILE, content: token }];
}

export interface WriteTokenOptions {
  target: EspruinoTarget;
  token: string;
  writer: StorageWriter;
  dryRun?: boolean;
  log?: (line: string) => void;
}

/** Writes one token; returns the writer's steps (the exact commands for --dry-run). */
export function writeToken(o: WriteTokenOptions): Promise<string[]> {
  return o.writer(o.target, tokenStorageFiles(o.token), { dryRun: o.dryRun, log: o.log });
}

export interface TokenEntry {
  /** Line in the tokens CSV. */
  line: number;
  token: string;
  serial: string;
  name: string;
}

export type LogStatus = 'written' | 'failed';

export interface LogRecord {
  time: string;
  line: number;
  serial: string;
  name: string;
  token: string;
  port: string;
  status: LogStatus;
  detail: string;
}

export const LOG_COLUMNS: readonly CsvColumn<LogRecord>[] = [
  { header: 'time', get: (r) => r.time },
  { header: 'line', get: (r) => String(r.line) },
  { header: 'serial', get: (r) => r.serial, text: true },
  { header: 'name', get: (r) => r.name, text: true },
  { header: 'token', get: (r) => r.token },
  { header: 'port', get: (r) => r.port, text: true },
  { header: 'status', get: (r) => r.status },
  { header: 'detail', get: (r) => r.detail, text: true },
];

export const LOG_HEADER = csvHeaderLine(LOG_COLUMNS, ',');
export function logLine(r: LogRecord): string {
  return csvLine(LOG_COLUMNS, r, ',');
}

export type BoardAnswer = 'write' | 'quit';
export type FailureAnswer = 'retry' | 'next' | 'quit';

export interface BatchIO {
  writer: StorageWriter;
  /** Asks for the next board. Non-interactive runs answer 'write' without waiting. */
  nextBoard(entry: TokenEntry, done: number, remaining: number): Promise<BoardAnswer>;
  /** After a failed write: try the same token on the same board, move on, or stop. */
  onFailure(entry: TokenEntry, error: Error): Promise<FailureAnswer>;
  /** Appends one record to the log; must be durable before it resolves. */
  record(r: LogRecord): Promise<void>;
  say(line: string): void;
  now(): Date;
}

export interface BatchOptions {
  target: EspruinoTarget;
  /** Boards to do in this run; default all remaining. */
  count?: number;
  dryRun?: boolean;
  /** Reuse tokens whose earlier write failed (only when that board was set aside). */
  retryFailed?: boolean;
}

export interface BatchSummary {
  written: number;
  failed: number;
  remaining: number;
  /** Tokens skipped because the log already has them. */
  alreadyUsed: number;
  stoppedBy: 'done' | 'count' | 'quit' | 'failure';
  steps: string[];
}

/** Which tokens the log has used up: last status per token. */
export function usedTokens(previous: readonly LogRecord[], retryFailed = false): Map<string, LogStatus> {
  const last = new Map<string, LogStatus>();
  for (const r of previous) last.set(r.token, r.status);
  if (retryFailed) for (const [t, s] of last) if (s === 'failed') last.delete(t);
  return last;
}

function errorDetail(e: unknown): string {
  const err = e as Error & { hint?: string };
  return err.hint ? `${err.message} (${err.hint})` : String(err?.message ?? e);
}

export async function runTokenBatch(
  entries: readonly TokenEntry[], previous: readonly LogRecord[], opts: BatchOptions, io: BatchIO,
): Promise<BatchSummary> {
  const used = usedTokens(previous, opts.retryFailed);
  const todo = entries.filter((e) => !used.has(e.token));
  const summary: BatchSummary = { written: 0, failed: 0, remaining: todo.length, alreadyUsed: entries.length - todo.length, stoppedBy: 'done', steps: [] };
  if (summary.alreadyUsed) io.say(`${summary.alreadyUsed} token(s) already used according to the log; ${todo.length} left`);
  const limit = Math.min(opts.count ?? todo.length, todo.length);

  let i = 0;
  while (i < limit) {
    const entry = todo[i];
    const who = `token ${maskToken(entry.token)} (line ${entry.line}${entry.serial ? `, serial ${entry.serial}` : ''})`;
    if (opts.dryRun) {
      io.say(`dry run: board ${i + 1} would get ${who}`);
      summary.steps.push(...await io.writer(opts.target, tokenStorageFiles(entry.token), { dryRun: true, log: io.say }));
      i++;
      continue;
    }
    if ((await io.nextBoard(entry, summary.written, todo.length - i)) === 'quit') {
      summary.stoppedBy = 'quit';
      break;
    }
    const base = { line: entry.line, serial: entry.serial, name: entry.name, token: entry.token, port: opts.target.port };
    let stop = false;
    for (;;) {
      try {
        await io.writer(opts.target, tokenStorageFiles(entry.token), { log: io.say });
      } catch (e) {
        const detail = errorDetail(e);
        io.say(`writing ${who} failed: ${detail}`);
        const answer = await io.onFailure(entry, e as Error);
        if (answer === 'retry') continue;
        // Logged before moving on: the board may hold the token, so it is never handed out again.
        await io.record({ ...base, time: io.now().toISOString(), status: 'failed', detail });
        summary.failed++;
        summary.remaining--;
        stop = answer === 'quit';
        break;
      }
      await io.record({ ...base, time: io.now().toISOString(), status: 'written', detail: '' });
      summary.written++;
      summary.remaining--;
      io.say(`wrote ${who} to the board on ${opts.target.port}`);
      break;
    }
    i++;
    if (stop) {
      summary.stoppedBy = 'failure';
      break;
    }
  }
  if (summary.stoppedBy === 'done' && limit < todo.length && !opts.dryRun) summary.stoppedBy = 'count';
  return summary;
}
