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
 *
 * Every write is preceded by a look at the board: one that already holds a token or a
 * stored configuration is refused unless the operator says --overwrite, and in a batch a
 * board whose serial (getSerial()) the log already lists is refused, which catches an
 * operator who forgot to swap boards.
 */
import type { EspruinoTarget } from '../../lib/espruino.ts';
import { csvHeaderLine, csvLine, type CsvColumn } from './csv-write.ts';
import { CONFIG_FILES, TOKEN_FILE } from '../../../shared/names.ts';

/** Storage file name agreed with the firmware (shared/names.ts; firmware/core/config.ts). */
export const TOKEN_STORAGE_FILE = TOKEN_FILE;
/**
 * The firmware's two alternating config slots (firmware/core/config.ts). A stored config
 * with a token wins over the factory token, so --overwrite erases them.
 */
export const CONFIG_STORAGE_FILES: readonly string[] = CONFIG_FILES;
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
  opts?: { dryRun?: boolean; log?: (line: string) => void; erase?: string[] },
) => Promise<string[]>;

/** Same shape as `evaluate` from tools/lib/espruino.ts. */
export type Evaluator = (
  target: EspruinoTarget, expr: string, opts?: { dryRun?: boolean; log?: (line: string) => void },
) => Promise<{ value: unknown; steps: string[] }>;

/** What a board holds before a token is written. */
export interface BoardState {
  /** getSerial(): the chip's MAC as hex, "" when the firmware has no getSerial. */
  serial: string;
  /** Our Storage files present on the board. */
  tokenFile: boolean;
  configFiles: string[];
  /** The token file holds exactly the token about to be written. */
  sameToken: boolean;
}

export type BoardInspector = (target: EspruinoTarget, token: string) => Promise<BoardState>;

/** Espruino (ES5) source that reads the board's serial and which of our files it has. */
export function inspectExpression(token: string): string {
  const names = [TOKEN_STORAGE_FILE, ...CONFIG_STORAGE_FILES];
  return '(function(){var S=require("Storage"),n=' + JSON.stringify(names) + ',f=[];' +
    'n.forEach(function(x){if(S.read(x)!==undefined)f.push(x)});' +
    'return {s:typeof getSerial=="function"?String(getSerial()):"",f:f,m:S.read(' + JSON.stringify(TOKEN_STORAGE_FILE) + ')===' + JSON.stringify(token) + '}})()';
}

export function boardInspector(evaluate: Evaluator): BoardInspector {
  return async (target, token) => {
    const { value } = await evaluate(target, inspectExpression(token));
    const v = value as { s?: unknown; f?: unknown; m?: unknown } | undefined;
    if (!v || !Array.isArray(v.f)) throw new TokenError(`the board on ${target.port} did not say what its Storage holds`);
    const files = v.f.map(String);
    return {
      serial: typeof v.s === 'string' ? v.s : '',
      tokenFile: files.includes(TOKEN_STORAGE_FILE),
      configFiles: files.filter((f) => CONFIG_STORAGE_FILES.includes(f)),
      sameToken: v.m === true,
    };
  };
}

/** Why a board must not get a token without --overwrite, or undefined when it is blank. */
export function notBlank(state: BoardState, port: string): { message: string; hint: string } | undefined {
  if (!state.tokenFile && state.configFiles.length === 0) return undefined;
  const held = [
    state.tokenFile ? `a token (${TOKEN_STORAGE_FILE})` : '',
    state.configFiles.length ? `a stored WiFi/token configuration (${state.configFiles.join(', ')})` : '',
  ].filter(Boolean).join(' and ');
  return {
    message: `the board on ${port}${state.serial ? ` (serial ${state.serial})` : ''} already holds ${held}; nothing was written`,
    hint: 'connect a blank board, or pass --overwrite to replace the token; --overwrite also erases the stored configuration, '
      + 'since a stored token would win over the new one: the board then boots with the new token and asks for WiFi again',
  };
}

export class TokenError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

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
  /** Also erase the stored configuration (whose token would win over this one). */
  overwrite?: boolean;
}

/** Writes one token; returns the writer's steps (the exact commands for --dry-run). */
export function writeToken(o: WriteTokenOptions): Promise<string[]> {
  return o.writer(o.target, tokenStorageFiles(o.token), { dryRun: o.dryRun, log: o.log, ...(o.overwrite ? { erase: [...CONFIG_STORAGE_FILES] } : {}) });
}

export type CheckedWrite = { written: true; steps: string[] } | { written: false; reason: 'same-token' };

/**
 * One board: looks first, refuses a board that is not blank (TokenError with a hint)
 * unless `overwrite`, and skips the write when the board already holds exactly this token.
 */
export async function writeTokenChecked(o: WriteTokenOptions & { inspect: BoardInspector }): Promise<CheckedWrite> {
  tokenStorageFiles(o.token); // a bad token is refused before the board is touched
  if (o.dryRun) return { written: true, steps: await writeToken(o) };
  const state = await o.inspect(o.target, o.token);
  if (state.sameToken && state.configFiles.length === 0) return { written: false, reason: 'same-token' };
  const problem = notBlank(state, o.target.port);
  if (problem && !o.overwrite) throw new TokenError(problem.message, problem.hint);
  return { written: true, steps: await writeToken(o) };
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
  /** getSerial() of the board that got (or failed to get) the token; "" when unknown. */
  board: string;
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
  { header: 'board', get: (r) => r.board, text: true },
  { header: 'status', get: (r) => r.status },
  { header: 'detail', get: (r) => r.detail, text: true },
];

export const LOG_HEADER = csvHeaderLine(LOG_COLUMNS, ',');
export function logLine(r: LogRecord): string {
  return csvLine(LOG_COLUMNS, r, ',');
}

export type BoardAnswer = 'write' | 'quit';
export type FailureAnswer = 'retry' | 'next' | 'quit';
/** After a board was refused (not blank, or already done): ask for another board, or stop. */
export type RefusedAnswer = 'again' | 'quit';

export interface BatchIO {
  writer: StorageWriter;
  /** Looks at the board before each write. */
  inspect: BoardInspector;
  /** The board was refused; nothing was written and the token is still free. */
  onRefused(entry: TokenEntry, message: string, hint: string): Promise<RefusedAnswer>;
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
  /** Write over a token or stored config already on the board (and erase the config). */
  overwrite?: boolean;
}

export interface BatchSummary {
  written: number;
  failed: number;
  remaining: number;
  /** Tokens skipped because the log already has them. */
  alreadyUsed: number;
  stoppedBy: 'done' | 'count' | 'quit' | 'failure' | 'refused';
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
  // Boards that already got a token, by serial: from the log, then from this run.
  const boards = new Map<string, LogRecord>();
  for (const r of previous) if (r.status === 'written' && r.board) boards.set(r.board, r);

  let i = 0;
  while (i < limit) {
    const entry = todo[i];
    const who = `token ${maskToken(entry.token)} (line ${entry.line}${entry.serial ? `, serial ${entry.serial}` : ''})`;
    if (opts.dryRun) {
      io.say(`dry run: board ${i + 1} would get ${who}`);
      summary.steps.push(...await writeToken({ target: opts.target, token: entry.token, writer: io.writer, dryRun: true, log: io.say, overwrite: opts.overwrite }));
      i++;
      continue;
    }
    if ((await io.nextBoard(entry, summary.written, todo.length - i)) === 'quit') {
      summary.stoppedBy = 'quit';
      break;
    }
    let state: BoardState;
    try {
      state = await io.inspect(opts.target, entry.token);
    } catch (e) {
      // Nothing was written, so the token stays free whatever the answer.
      io.say(`reading the board on ${opts.target.port} failed: ${errorDetail(e)}`);
      const answer = await io.onFailure(entry, e as Error);
      if (answer === 'quit') {
        summary.stoppedBy = 'failure';
        break;
      }
      continue;
    }
    const done = state.serial ? boards.get(state.serial) : undefined;
    const refusal = done
      ? {
        message: `the board on ${opts.target.port} (serial ${state.serial}) already got token ${maskToken(done.token)} (line ${done.line}${done.serial ? `, serial ${done.serial}` : ''}) at ${done.time}; nothing was written`,
        hint: 'was the board swapped? Connect the next board; one board never gets two tokens',
      }
      : opts.overwrite ? undefined : notBlank(state, opts.target.port);
    if (refusal) {
      io.say(`${refusal.message}\n  hint: ${refusal.hint}`);
      if ((await io.onRefused(entry, refusal.message, refusal.hint)) === 'again') continue;
      summary.stoppedBy = 'refused';
      break;
    }
    const base = { line: entry.line, serial: entry.serial, name: entry.name, token: entry.token, port: opts.target.port, board: state.serial };
    let stop = false;
    for (;;) {
      try {
        await writeToken({ target: opts.target, token: entry.token, writer: io.writer, log: io.say, overwrite: opts.overwrite });
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
      const record: LogRecord = { ...base, time: io.now().toISOString(), status: 'written', detail: '' };
      await io.record(record);
      if (state.serial) boards.set(state.serial, record);
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
