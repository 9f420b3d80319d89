// `fleet token` end to end: the real espruino CLI talking to a fake board over tcp://.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeEspruino } from '../flash/fake-espruino.ts';
import { csvText, tempDir } from './helpers.ts';
import { TEST_TOKEN } from '../../shared/names.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'tools/fleet/cli.ts');
const TOKENS = [TEST_TOKEN, 'Bb3dEfGh1jKlMnOpQrStUvWxYz012345'];

/** Runs the CLI without blocking this process, which is where the fake board answers. */
function fleet(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('fleet token against a board (espruino CLI, fake board)', function () {
  this.timeout(120_000);
  const boards: FakeEspruino[] = [];
  let t: ReturnType<typeof tempDir>;
  async function board(opts: ConstructorParameters<typeof FakeEspruino>[0] = {}): Promise<FakeEspruino> {
    const b = new FakeEspruino(opts);
    await b.start();
    boards.push(b);
    return b;
  }
  beforeEach(() => { t = tempDir(); });
  afterEach(async () => {
    t.cleanup();
    for (const b of boards.splice(0)) await b.close();
  });

  it('writes the token to a blank board, then refuses a second token with a hint', async () => {
    const b = await board();
    const first = await fleet(['token', '--port', b.url, '--token', TOKENS[0]]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(b.storage.read('edgent.token'), TOKENS[0]);
    const second = await fleet(['token', '--port', b.url, '--token', TOKENS[1]]);
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, /already holds a token \(edgent\.token\); nothing was written\n {2}hint: .*--overwrite/);
    assert.equal(b.storage.read('edgent.token'), TOKENS[0], 'the board keeps its token');
    const same = await fleet(['token', '--port', b.url, '--token', TOKENS[0]]);
    assert.equal(same.code, 0);
    assert.match(same.stderr, /already holds token Ab3d…2345; nothing to do/);
  });

  it('--overwrite replaces the token and erases a stored config', async () => {
    const b = await board({ files: { 'edgent.token': TOKENS[0], 'edgent.cfg1': '00000000{"q":1}' } });
    const refused = await fleet(['token', '--port', b.url, '--token', TOKENS[1]]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /a token \(edgent\.token\) and a stored WiFi\/token configuration \(edgent\.cfg1\)/);
    const r = await fleet(['token', '--port', b.url, '--token', TOKENS[1], '--overwrite']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(b.storage.list().sort(), ['edgent.token']);
    assert.equal(b.storage.read('edgent.token'), TOKENS[1]);
  });

  it('batch --yes: one board per run, the same board twice is refused, and a used-up CSV says so', async () => {
    const csv = t.file('tokens.csv', csvText(['Auth Token', 'Serial'], [[TOKENS[0], 'W1'], [TOKENS[1], 'W2']]));
    const log = join(t.dir, 'tokens.log.csv');
    const a = await board({ serial: 'aabbccdd-0001' });
    const run1 = await fleet(['token', '--port', a.url, '--csv', csv, '--yes']);
    assert.equal(run1.code, 0, run1.stderr);
    assert.equal(a.storage.read('edgent.token'), TOKENS[0]);

    const again = await fleet(['token', '--port', a.url, '--csv', csv, '--yes']);
    assert.equal(again.code, 1, again.stderr);
    assert.match(again.stderr, /\(serial aabbccdd-0001\) already got token Ab3d…2345 \(line 2, serial W1\)/);
    assert.equal(a.storage.read('edgent.token'), TOKENS[0]);

    const b = await board({ serial: 'aabbccdd-0002' });
    const run2 = await fleet(['token', '--port', b.url, '--csv', csv, '--yes']);
    assert.equal(run2.code, 0, run2.stderr);
    assert.equal(b.storage.read('edgent.token'), TOKENS[1]);
    const rows = readFileSync(log, 'utf8').trim().split('\r\n').map((l) => l.split(','));
    assert.deepEqual(rows.map((r) => [r[4], r[6], r[7]]), [['token', 'board', 'status'], [TOKENS[0], 'aabbccdd-0001', 'written'], [TOKENS[1], 'aabbccdd-0002', 'written']]);

    const c = await board({ serial: 'aabbccdd-0003' });
    const done = await fleet(['token', '--port', c.url, '--csv', csv, '--yes']);
    assert.equal(done.code, 1);
    assert.ok(done.stderr.includes(`all 2 tokens in ${csv} are already assigned (see ${log})`), done.stderr);
    assert.equal(c.storage.read('edgent.token'), undefined);
  });
});
