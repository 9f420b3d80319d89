import { strict as assert } from 'node:assert';
import type { EspruinoTarget } from '../../tools/lib/espruino.ts';
import { TOKEN_FILE } from '../../firmware/core/config.ts';
import {
  boardInspector, CONFIG_STORAGE_FILES, inspectExpression, LOG_HEADER, logLine, maskToken, runTokenBatch, TOKEN_STORAGE_FILE, TokenError, writeToken, writeTokenChecked,
  type BatchIO, type BoardInspector, type LogRecord, type StorageFile, type StorageWriter, type TokenEntry,
} from '../../tools/fleet/core/token-batch.ts';
import { TEST_TOKEN } from '../../shared/names.ts';

/**
 * A board on a serial port, as strict as Espruino: Storage names over 27 characters and
 * empty files are refused, and a write can be made to fail like a loose cable. Each board
 * has its own serial (getSerial()); `swap()` connects the next board.
 */
let boardsMade = 0;
const newSerial = () => `aabbcc00-${String(++boardsMade).padStart(4, '0')}`;

class FakeLine {
  boards: { serial: string; files: Map<string, string> }[] = [{ serial: newSerial(), files: new Map() }];
  failNext = 0;
  calls = 0;
  get board() { return this.boards[this.boards.length - 1].files; }
  swap(files: Record<string, string> = {}) {
    this.boards.push({ serial: newSerial(), files: new Map(Object.entries(files)) });
  }
  writer: StorageWriter = async (target: EspruinoTarget, files: StorageFile[], opts = {}) => {
    this.calls++;
    const steps = files.map((f) => `espruino -p ${target.port} --storage ${f.name}:file${opts.erase ? ` erase ${opts.erase.join(',')}` : ''}`);
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
    for (const n of opts.erase ?? []) this.board.delete(n);
    return steps;
  };
  inspect: BoardInspector = async (_target, token) => {
    const b = this.boards[this.boards.length - 1];
    return {
      serial: b.serial,
      tokenFile: b.files.has(TOKEN_STORAGE_FILE),
      configFiles: CONFIG_STORAGE_FILES.filter((n) => b.files.has(n)),
      sameToken: b.files.get(TOKEN_STORAGE_FILE) === token,
    };
  };
}

const TOKENS = [TEST_TOKEN, 'Bb3dEfGh1jKlMnOpQrStUvWxYz012345', 'Cb3dEfGh1jKlMnOpQrStUvWxYz01234-'];
const entries: TokenEntry[] = TOKENS.map((token, i) => ({ line: i + 2, token, serial: `SN${i + 1}`, name: '' }));
const target = { port: '/dev/ttyUSB0' };

interface Answers {
  board?: Array<'write' | 'quit'>;
  failure?: Array<'retry' | 'next' | 'quit'>;
  refused?: Array<'again' | 'quit'>;
  /** The operator swaps boards before each prompt after the first write (default true). */
  swaps?: boolean;
}

function io(line: FakeLine, log: LogRecord[], answers: Answers = {}, said: string[] = []): BatchIO {
  return {
    writer: line.writer,
    inspect: line.inspect,
    async nextBoard() {
      const a = answers.board?.shift() ?? 'write';
      if (a === 'write' && line.calls > 0 && answers.swaps !== false) line.swap();
      return a;
    },
    async onRefused() {
      const a = answers.refused?.shift() ?? 'quit';
      if (a === 'again') answers.swaps = true; // the operator notices and swaps
      return a;
    },
    async onFailure() { return answers.failure?.shift() ?? 'quit'; },
    async record(r) { log.push(r); },
    say: (l) => { said.push(l); },
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
    assert.deepEqual(line.boards.map((b) => b.files.get(TOKEN_STORAGE_FILE)), TOKENS);
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
    assert.deepEqual(second.boards.map((b) => b.files.get(TOKEN_STORAGE_FILE)), TOKENS.slice(1));
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
    const r: LogRecord = { time: 't', line: 2, serial: '=1+1', name: '', token: TOKENS[0], port: 'COM3', board: 'aabbccdd-eeff', status: 'written', detail: '' };
    assert.equal(LOG_HEADER, 'time,line,serial,name,token,port,board,status,detail\r\n');
    assert.equal(logLine(r), `t,2,'=1+1,,${TOKENS[0]},COM3,aabbccdd-eeff,written,\r\n`);
  });
});

describe('fleet: token writes look at the board first', () => {
  it('uses the firmware\'s token file name', () => {
    assert.equal(TOKEN_STORAGE_FILE, TOKEN_FILE);
  });
  it('refuses a board that holds a token or a stored config, naming what it holds and how to go on', async () => {
    for (const files of [{ [TOKEN_STORAGE_FILE]: TOKENS[1] }, { 'edgent.cfg1': 'x' }]) {
      const line = new FakeLine();
      line.boards[0].files = new Map(Object.entries(files));
      await assert.rejects(writeTokenChecked({ target, token: TOKENS[0], writer: line.writer, inspect: line.inspect }), (e: TokenError) => {
        assert.match(e.message, /already holds (a token \(edgent\.token\)|a stored WiFi\/token configuration \(edgent\.cfg1\)); nothing was written/);
        assert.match(e.hint ?? '', /--overwrite/);
        return true;
      });
      assert.equal(line.calls, 0, 'nothing written');
    }
  });
  it('--overwrite writes the token and erases the stored config so the new token is used', async () => {
    const line = new FakeLine();
    line.boards[0].files = new Map([[TOKEN_STORAGE_FILE, TOKENS[1]], ['edgent.cfg0', 'a'], ['edgent.cfg1', 'b'], ['.bootcde', 'fw']]);
    const r = await writeTokenChecked({ target, token: TOKENS[0], writer: line.writer, inspect: line.inspect, overwrite: true });
    assert.equal(r.written, true);
    assert.deepEqual([...line.board].sort(), [['.bootcde', 'fw'], [TOKEN_STORAGE_FILE, TOKENS[0]]]);
  });
  it('a board that already holds exactly this token is left alone', async () => {
    const line = new FakeLine();
    line.boards[0].files.set(TOKEN_STORAGE_FILE, TOKENS[0]);
    assert.deepEqual(await writeTokenChecked({ target, token: TOKENS[0], writer: line.writer, inspect: line.inspect }), { written: false, reason: 'same-token' });
    assert.equal(line.calls, 0);
  });
  it('the inspector reads serial and files through the board\'s REPL', async () => {
    let sent = '';
    const inspect = boardInspector(async (_t, expr) => {
      sent = expr;
      return { value: { s: '5ccf7f01-0203', f: ['edgent.cfg0'], m: false }, steps: [] };
    });
    assert.deepEqual(await inspect(target, TOKENS[0]), { serial: '5ccf7f01-0203', tokenFile: false, configFiles: ['edgent.cfg0'], sameToken: false });
    assert.equal(sent, inspectExpression(TOKENS[0]));
    assert.match(sent, /getSerial\(\)/);
    assert.ok(!/=>|\blet\b|\bconst\b/.test(sent), 'plain ES5 for Espruino');
  });
});

describe('fleet: token batch refuses a board it already wrote', () => {
  it('the operator forgot to swap: the second token is not written to the same board', async () => {
    const line = new FakeLine();
    const log: LogRecord[] = [];
    const said: string[] = [];
    const s = await runTokenBatch(entries, [], { target }, io(line, log, { swaps: false }, said));
    assert.equal(s.stoppedBy, 'refused');
    assert.equal(s.written, 1);
    assert.equal(line.board.get(TOKEN_STORAGE_FILE), TOKENS[0], 'the board keeps its first token');
    const serial = line.boards[0].serial;
    assert.deepEqual(log.map((r) => [r.token, r.board, r.status]), [[TOKENS[0], serial, 'written']]);
    assert.ok(said.some((l) => l.includes(`(serial ${serial}) already got`) && /already got token Ab3d…2345 \(line 2, serial SN1\).*nothing was written/.test(l)), said.join('\n'));
  });
  it('after a refusal the operator swaps and the same token goes to the next board', async () => {
    const line = new FakeLine();
    const log: LogRecord[] = [];
    const s = await runTokenBatch(entries.slice(0, 2), [], { target }, io(line, log, { swaps: false, refused: ['again'] }));
    assert.equal(s.written, 2);
    assert.deepEqual(line.boards.map((b) => b.files.get(TOKEN_STORAGE_FILE)), TOKENS.slice(0, 2));
  });
  it('a board listed in the log of an earlier run is refused (one token per run with --yes)', async () => {
    const line = new FakeLine();
    const log: LogRecord[] = [];
    await runTokenBatch(entries, [], { target, count: 1 }, io(line, log));
    line.board.delete(TOKEN_STORAGE_FILE); // even if its Storage was wiped since
    const again = await runTokenBatch(entries, log, { target, count: 1 }, io(line, log, { swaps: false }));
    assert.equal(again.stoppedBy, 'refused');
    assert.equal(log.length, 1);
  });
  it('a board holding a token is refused in a batch unless --overwrite', async () => {
    const line = new FakeLine();
    line.boards[0].files.set('edgent.cfg0', 'x');
    const log: LogRecord[] = [];
    assert.equal((await runTokenBatch(entries, [], { target, count: 1 }, io(line, log))).stoppedBy, 'refused');
    assert.equal(log.length, 0);
    const s = await runTokenBatch(entries, [], { target, count: 1, overwrite: true }, io(line, log));
    assert.equal(s.written, 1);
    assert.equal(line.board.has('edgent.cfg0'), false);
  });
});
