import { strict as assert } from 'node:assert';
import type { EspruinoTarget } from '../../tools/lib/espruino.ts';
import {
  LOG_HEADER, logLine, maskToken, runTokenBatch, TOKEN_STORAGE_FILE, TokenError, writeToken,
  type BatchIO, type LogRecord, type StorageFile, type StorageWriter, type TokenEntry,
} from '../../tools/fleet/core/token-batch.ts';

/**
 * A board on a serial port, as strict as Espruino: Storage names over 27 characters and
 * empty files are refused, and a write can be made to fail like a loose cable.
 */
class FakeLine {
  boards: Map<string, string>[] = [new Map()];
  failNext = 0;
  calls = 0;
  get board() { return this.boards[this.boards.length - 1]; }
  swap() { this.boards.push(new Map()); }
  writer: StorageWriter = async (target: EspruinoTarget, files: StorageFile[], opts = {}) => {
    this.calls++;
    const steps = files.map((f) => `espruino -p ${target.port} --storage ${f.name}:file`);
    if (opts.dryRun) return steps;
    for (const f of files) {
      if (f.name.length > 27) throw new Error(`Storage name ${f.name} is over 27 characters`);
      if (f.content.length === 0) throw new Error('empty Storage file');
    }
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error('no answer from the board'), { hint: 'check the cable' });
    }
    for (const f of files) this.board.set(f.name, f.content);
    return steps;
  };
}

const TOKENS = ['Ab3dEfGh1jKlMnOpQrStUvWxYz012345', 'Bb3dEfGh1jKlMnOpQrStUvWxYz012345', 'Cb3dEfGh1jKlMnOpQrStUvWxYz01234-'];
const entries: TokenEntry[] = TOKENS.map((token, i) => ({ line: i + 2, token, serial: `SN${i + 1}`, name: '' }));
const target = { port: '/dev/ttyUSB0' };

function io(line: FakeLine, log: LogRecord[], answers: { board?: Array<'write' | 'quit'>; failure?: Array<'retry' | 'next' | 'quit'> } = {}): BatchIO {
  return {
    writer: line.writer,
    async nextBoard() {
      const a = answers.board?.shift() ?? 'write';
      if (a === 'write' && line.calls > 0) line.swap();
      return a;
    },
    async onFailure() { return answers.failure?.shift() ?? 'quit'; },
    async record(r) { log.push(r); },
    say: () => undefined,
    now: () => new Date('2025-01-01T00:00:00Z'),
  };
}

describe('fleet: writing a static token to a board', () => {
  it('writes exactly the 32-character token into edgent.token', async () => {
    const line = new FakeLine();
    await writeToken({ target, token: TOKENS[0], writer: line.writer });
    assert.deepEqual([...line.board], [[TOKEN_STORAGE_FILE, TOKENS[0]]]);
  });
  it('refuses a token of the wrong length before touching the board', async () => {
    const line = new FakeLine();
    assert.throws(() => writeToken({ target, token: TOKENS[0].slice(1), writer: line.writer }), TokenError);
    assert.equal(line.calls, 0);
  });
  it('refuses characters outside A-Z a-z 0-9 - _', () => {
    assert.throws(() => writeToken({ target, token: `${TOKENS[0].slice(1)}+`, writer: new FakeLine().writer }), /A-Z a-z 0-9 - _/);
  });
  it('--dry-run returns the writer\'s steps and writes nothing', async () => {
    const line = new FakeLine();
    const steps = await writeToken({ target, token: TOKENS[0], writer: line.writer, dryRun: true });
    assert.deepEqual(steps, ['espruino -p /dev/ttyUSB0 --storage edgent.token:file']);
    assert.equal(line.board.size, 0);
  });
  it('masks tokens for the screen', () => {
    assert.equal(maskToken(TOKENS[0]), 'Ab3d…2345');
  });
});

describe('fleet: token batch', () => {
  it('gives each board the next token and logs each write', async () => {
    const line = new FakeLine();
    const log: LogRecord[] = [];
    const s = await runTokenBatch(entries, [], { target }, io(line, log));
    assert.equal(s.written, 3);
    assert.deepEqual(line.boards.map((b) => b.get(TOKEN_STORAGE_FILE)), TOKENS);
    assert.deepEqual(log.map((r) => [r.token, r.serial, r.status, r.port]), TOKENS.map((t, i) => [t, `SN${i + 1}`, 'written', '/dev/ttyUSB0']));
  });
  it('resumes after an interruption without reusing a token', async () => {
    const log: LogRecord[] = [];
    const first = new FakeLine();
    const s1 = await runTokenBatch(entries, [], { target }, io(first, log, { board: ['write', 'quit'] }));
    assert.equal(s1.stoppedBy, 'quit');
    assert.equal(log.length, 1);
    const second = new FakeLine();
    const s2 = await runTokenBatch(entries, log, { target }, io(second, log));
    assert.equal(s2.alreadyUsed, 1);
    assert.deepEqual(second.boards.map((b) => b.get(TOKEN_STORAGE_FILE)), TOKENS.slice(1));
    assert.deepEqual(new Set(log.map((r) => r.token)).size, 3);
  });
  it('--count 1 (the scripted --yes mode) writes one board and stops', async () => {
    const log: LogRecord[] = [];
    const s = await runTokenBatch(entries, [], { target, count: 1 }, io(new FakeLine(), log));
    assert.equal(s.written, 1);
    assert.equal(s.stoppedBy, 'count');
    assert.equal(s.remaining, 2);
  });
  it('retries the same token on the same board when asked', async () => {
    const line = new FakeLine();
    line.failNext = 1;
    const log: LogRecord[] = [];
    await runTokenBatch(entries.slice(0, 1), [], { target }, io(line, log, { failure: ['retry'] }));
    assert.equal(line.board.get(TOKEN_STORAGE_FILE), TOKENS[0]);
    assert.deepEqual(log.map((r) => r.status), ['written']);
  });
  it('a failed token is logged and never handed out again, unless --retry-failed', async () => {
    const line = new FakeLine();
    line.failNext = 1;
    const log: LogRecord[] = [];
    const s = await runTokenBatch(entries, [], { target }, io(line, log, { failure: ['quit'] }));
    assert.equal(s.stoppedBy, 'failure');
    assert.equal(log[0].status, 'failed');
    assert.match(log[0].detail, /check the cable/);
    const again = await runTokenBatch(entries, log, { target, dryRun: true }, io(new FakeLine(), []));
    assert.equal(again.alreadyUsed, 1);
    const retry = await runTokenBatch(entries, log, { target, dryRun: true, retryFailed: true }, io(new FakeLine(), []));
    assert.equal(retry.alreadyUsed, 0);
  });
  it('"next" after a failure sets the board aside and goes on with the next token', async () => {
    const line = new FakeLine();
    line.failNext = 1;
    const log: LogRecord[] = [];
    const s = await runTokenBatch(entries, [], { target }, io(line, log, { failure: ['next'] }));
    assert.deepEqual(log.map((r) => r.status), ['failed', 'written', 'written']);
    assert.equal(s.failed, 1);
  });
  it('a dry run lists steps and logs nothing', async () => {
    const log: LogRecord[] = [];
    const s = await runTokenBatch(entries, [], { target, dryRun: true, count: 2 }, io(new FakeLine(), log));
    assert.equal(s.steps.length, 2);
    assert.equal(log.length, 0);
  });
  it('the log CSV neutralises formula-looking serials', () => {
    const r: LogRecord = { time: 't', line: 2, serial: '=1+1', name: '', token: TOKENS[0], port: 'COM3', status: 'written', detail: '' };
    assert.equal(LOG_HEADER, 'time,line,serial,name,token,port,status,detail\r\n');
    assert.equal(logLine(r), `t,2,'=1+1,,${TOKENS[0]},COM3,written,\r\n`);
  });
});
