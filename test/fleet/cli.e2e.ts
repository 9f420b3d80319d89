import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { csvText, goodRow, HEADER, tempDir } from './helpers.ts';
import { TEST_TOKEN } from '../../shared/names.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'tools/fleet/cli.ts');

function fleet(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('fleet CLI (tsx subprocess)', function () {
  this.timeout(120_000);
  let t: ReturnType<typeof tempDir>;
  before(() => { t = tempDir(); });
  after(() => t.cleanup());

  it('validate: exit 0 on a clean file', () => {
    const r = fleet(['validate', t.file('ok.csv', csvText(HEADER, [goodRow(1), goodRow(2)]))]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /2 device row\(s\), 0 error\(s\)/);
  });
  it('validate: exit 1 naming line and column', () => {
    const r = fleet(['validate', t.file('bad.csv', csvText(HEADER, [goodRow(1), [goodRow(2)[0], '70B3D57ED000001', goodRow(2)[2]]]))]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.csv line 3, column 2 \(Join EUI\): error \[joineui-length\]/);
  });
  it('validate --strict: a warning fails the run', () => {
    const f = t.file('warn.csv', csvText(HEADER, [[goodRow(1)[0], '0000000000000000', goodRow(1)[2]]]));
    assert.equal(fleet(['validate', f]).code, 0);
    const r = fleet(['validate', '--strict', f]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error \(strict\) \[joineui-zero\]/);
  });
  it('validate --json: prints the report', () => {
    const r = fleet(['validate', '--json', t.file('ok.csv')]);
    assert.equal(JSON.parse(r.stdout).rows, 2);
  });
  it('validate: rejects a version pairing TTS would refuse', () => {
    const r = fleet(['validate', t.file('ok.csv'), '--lorawan-version', 'MAC_V1_0_3', '--phy-version', 'RP002_V1_0_3']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /tts-version-pair/);
  });
  it('generate: exit 0 and a complete output folder', () => {
    const out = join(t.dir, 'out');
    const r = fleet(['generate', t.file('ok.csv'), '--out', out, '--profile-id', '000AF8BE', '--frequency-plan', 'EU_863_870_TTN', '--lorawan-version', '1.0.3', '--phy-version', 'RP001_V1_0_3_REV_A', '--no-pdf']);
    assert.equal(r.code, 0, r.stderr);
    for (const f of ['qr-codes.csv', 'blynk-devices.csv', 'tts-devices.csv', 'tts-devices.json', 'labels-a4.html', 'labels-letter.html', 'manifest.json', `qr/tr005/${goodRow(1)[0]}.svg`, `qr/tr005/${goodRow(1)[0]}.png`]) {
      assert.ok(existsSync(join(out, f)), f);
    }
    assert.equal(readFileSync(join(out, 'tts-devices.csv'), 'utf8').split('\r\n')[0], 'id;dev_eui;join_eui;frequency_plan_id;lorawan_version;lorawan_phy_version;app_key');
  });
  it('generate: exit 2 when the output folder exists', () => {
    const r = fleet(['generate', t.file('ok.csv'), '--out', join(t.dir, 'out')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /already exists/);
  });
  it('generate: exit 1 with line/column and no folder for a bad file', () => {
    const out = join(t.dir, 'out-bad');
    const r = fleet(['generate', t.file('bad.csv'), '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /line 3, column 2/);
    assert.equal(existsSync(out), false);
  });
  it('generate: killed half way, it leaves neither the folder nor a staging folder', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => goodRow(i + 1));
    const src = t.file('big.csv', csvText(HEADER, rows));
    const out = join(t.dir, 'killed');
    const staging = () => readdirSync(t.dir).some((n) => n.startsWith('.killed.partial'));
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'generate', src, '--out', out, '--no-labels'], { cwd: ROOT, stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    try {
      const deadline = Date.now() + 60_000;
      while (!staging() && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(staging(), 'the run got to writing before it was stopped');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(t.dir).filter((n) => n.startsWith('.')), []);
  });
  it('parse: exit 0 for a good code, 1 for a draft, codes from stdin one per line', () => {
    const ok = fleet(['parse', 'LW:D0:70B3D57ED0000010:0018B20000000101:000AF8BE:C8525']);
    assert.equal(ok.code, 0);
    assert.match(ok.stdout, /ACCEPTED/);
    assert.match(ok.stdout, /CheckSum {3}8525 \(valid\)/);
    const draft = fleet(['parse', 'URN:DEV:LW:70B3D57ED0000000_0004A31000FFFFFF_00000000_VD53FFFFF']);
    assert.equal(draft.code, 1);
    assert.match(draft.stdout, /draft 3/);
    const piped = fleet(['parse', '--json'], 'LW:D0:70B3D57ED0000010:0018B20000000101:000AF8BE\n0018B20000000101\n');
    assert.equal(piped.code, 1);
    assert.deepEqual(JSON.parse(piped.stdout).map((r: { accepted: boolean }) => r.accepted), [true, false]);
    // a scanner that ends its lines with CR alone (old Mac style) gives the same two codes
    const cr = fleet(['parse', '--json'], 'LW:D0:70B3D57ED0000010:0018B20000000101:000AF8BE\r0018B20000000101\r');
    assert.deepEqual(JSON.parse(cr.stdout).map((r: { accepted: boolean }) => r.accepted), [true, false]);
  });
  it('reprovision: lists metafield edits and writes the CSV', () => {
    const old = t.file('old.csv', csvText([...HEADER, 'Serial'], [[...goodRow(1), 'SN1'], [...goodRow(2), 'SN2']]));
    const neu = t.file('new.csv', csvText([...HEADER, 'Serial'], [[goodRow(9)[0], goodRow(1)[1], goodRow(9)[2], 'SN1'], [...goodRow(2), 'SN2']]));
    const csv = join(t.dir, 'edits.csv');
    const r = fleet(['reprovision', '--old', old, '--new', neu, '--csv', csv]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 device\(s\) to update, 1 unchanged/);
    assert.match(r.stdout, /set "Device EUI": 0018B20000000001 -> 0018B20000000009/);
    assert.ok(!r.stdout.includes(goodRow(9)[2]), 'keys are masked on screen');
    assert.match(readFileSync(csv, 'utf8'), /SN1,2,2,TheThingsStack Device ID,eui-0018b20000000001,eui-0018b20000000009,create-new/);
  });
  it('reprovision: paired by DevEUI, a changed DevEUI gets a hint on how to pair', () => {
    const old = t.file('old-eui.csv', csvText(HEADER, [goodRow(1), goodRow(2)]));
    const neu = t.file('new-eui.csv', csvText(HEADER, [goodRow(9), goodRow(2)]));
    const r = fleet(['reprovision', '--old', old, '--new', neu]);
    assert.match(r.stdout, /matched by devEui: .*1 new, 1 gone/);
    assert.match(r.stderr, /hint: rows were paired by DevEUI.*add a column that stays with the device \(Serial Number/);
    const same = fleet(['reprovision', '--old', old, '--new', old]);
    assert.ok(!same.stderr.includes('hint:'), 'no hint when nothing is new and gone');
  });
  it('reprovision: exit 1 when a new id is still held by another device in TTS', () => {
    const old = t.file('old2.csv', csvText([...HEADER, 'Serial'], [[...goodRow(1), 'SN1'], [...goodRow(2), 'SN2']]));
    const neu = t.file('new2.csv', csvText([...HEADER, 'Serial', 'id'], [[...goodRow(3), 'SN1', 'eui-0018b20000000002']]));
    const r = fleet(['reprovision', '--old', old, '--new', neu]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error \[id-held-by-other\]: SN1 wants TTS device id eui-0018b20000000002, which SN2 still has in TTS/);
  });
  it('reprovision: a new file with two rows on one TTS id is rejected before diffing', () => {
    const old = t.file('old2.csv');
    const neu = t.file('new3.csv', csvText([...HEADER, 'Serial', 'id'], [[...goodRow(3), 'SN1', 'eui-0018b20000000002'], [...goodRow(2), 'SN2', '']]));
    const r = fleet(['reprovision', '--old', old, '--new', neu]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /duplicate-device-id/);
  });
  it('token --dry-run prints the steps for edgent.token and touches no port', () => {
    const r = fleet(['token', '--port', '/dev/ttyUSB0', '--token', TEST_TOKEN, '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /edgent\.token/);
  });
  it('token: a bad token is refused with exit 2', () => {
    const r = fleet(['token', '--port', '/dev/ttyUSB0', '--token', 'short', '--dry-run']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /exactly 32/);
  });
  it('token --csv without a terminal needs --yes', () => {
    const f = t.file('tokens.csv', csvText(['Auth Token', 'Serial'], [[TEST_TOKEN, 'W1']]));
    const r = fleet(['token', '--port', '/dev/ttyUSB0', '--csv', f], '');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--yes/);
  });
  it('token --csv --dry-run shows the next board without writing a log', () => {
    const f = t.file('tokens.csv');
    const r = fleet(['token', '--port', '/dev/ttyUSB0', '--csv', f, '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /board 1 would get token Ab3d…2345 \(line 2, serial W1\)/);
    assert.equal(existsSync(join(t.dir, 'tokens.log.csv')), false);
  });
  it('rules --markdown lists every rule, and docs/fleet.md explains each', () => {
    const r = fleet(['rules', '--markdown']);
    assert.equal(r.code, 0);
    const ids = [...r.stdout.matchAll(/^\| `([a-z0-9-]+)`/gm)].map((m) => m[1]);
    assert.ok(ids.length > 40);
    const docs = readFileSync(join(ROOT, 'docs/fleet.md'), 'utf8');
    for (const id of ids) assert.ok(docs.includes(`\`${id}\``), `docs/fleet.md mentions ${id}`);
  });
  it('exit 2 on an unknown option', () => {
    assert.equal(fleet(['validate', '--nope', t.file('ok.csv')]).code, 2);
  });
});
