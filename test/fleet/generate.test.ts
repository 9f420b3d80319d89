import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate, validateFile } from '../../tools/fleet/io/pipeline.ts';
import { OutputFolderError, StagedDir } from '../../tools/fleet/io/output-dir.ts';
import { createProgress } from '../../tools/fleet/io/progress.ts';
import { csvText, decodePng, decodeSvg, goodRow, HEADER, tempDir } from './helpers.ts';
import { TEST_TOKEN } from '../../shared/names.ts';

const QUIET = { images: [] as const, labels: [] as const };

describe('fleet: CSV dialects', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => { t = tempDir(); });
  afterEach(() => t.cleanup());

  const rows = [goodRow(1), goodRow(2), goodRow(3)];
  async function ttsCsvFor(name: string, content: string | Buffer): Promise<string> {
    const out = join(t.dir, `${name}-out`);
    const res = await generate(t.file(name, content), { out, ...QUIET });
    assert.equal(res.ok, true, JSON.stringify(res.report.issues));
    return readFileSync(join(out, 'tts-devices.csv'), 'utf8');
  }

  it('reads ",", ";" with BOM and CRLF, quoted cells and "App EUI" to the same devices', async () => {
    const plain = await ttsCsvFor('plain.csv', csvText(HEADER, rows));
    const semi = await ttsCsvFor('semi.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csvText(HEADER, rows, ';', '\r\n'))]));
    const quoted = await ttsCsvFor('quoted.csv', csvText(['"Device EUI"', '"App EUI"', '"Application Key"'], rows.map((r) => r.map((c) => `"${c}"`))));
    const messy = await ttsCsvFor('messy.csv', csvText(['dev_eui', 'app_eui', 'AppKey'], rows.map(([d, j, k]) => [`0x${d.toLowerCase()}`, j.match(/../g)!.join(':'), k.match(/..../g)!.join(' ')])));
    assert.equal(semi, plain);
    assert.equal(quoted, plain);
    assert.equal(messy, plain);
    assert.equal(plain.split('\r\n').length, 5);
  });
  it('keeps line numbers right across blank lines and a quoted cell spanning lines (CRLF)', async () => {
    const text = ['Device EUI,Join EUI,Application Key,Name', `${goodRow(1).join(',')},"two\r\nlines"`, '', `${goodRow(2).join(',')},ok`, `0018B2000000010,${goodRow(3)[1]},${goodRow(3)[2]},bad`].join('\r\n');
    const v = await validateFile(t.file('lines.csv', text));
    const i = v.report.issues.find((x) => x.rule === 'deveui-length')!;
    assert.equal(i.line, 6);
    assert.equal(v.report.issues.find((x) => x.rule === 'control-char')?.line, 2, 'a line break inside a name is flagged');
  });
  it('quotes name cells holding the delimiter in every CSV output, and keeps the name whole in the JSON', async () => {
    const out = join(t.dir, 'out');
    const res = await generate(t.file('f.csv', csvText([...HEADER, 'Name'], [[...goodRow(1), '"Hall, north"'], [...goodRow(2), 'Hall; south']])), { out, ...QUIET });
    assert.equal(res.ok, true);
    for (const f of ['qr-codes.csv', 'blynk-devices.csv']) assert.ok(readFileSync(join(out, f), 'utf8').includes('"Hall, north"'), f);
    assert.ok(readFileSync(join(out, 'tts-devices.csv'), 'utf8').includes(';"Hall; south";'));
    const names = readFileSync(join(out, 'tts-devices.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).name);
    assert.deepEqual(names, ['Hall, north', 'Hall; south']);
  });
});

describe('fleet: hostile input never leaves an output folder', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => { t = tempDir(); });
  afterEach(() => t.cleanup());

  async function rejected(name: string, content: string | Buffer, rule: string, opts = {}) {
    const out = join(t.dir, 'out');
    const res = await generate(t.file(name, content), { out, ...opts });
    assert.equal(res.ok, false);
    const issue = res.report.issues.find((i) => i.rule === rule);
    assert.ok(issue, `expected ${rule}, got ${JSON.stringify(res.report.issues.map((i) => i.rule))}`);
    assert.equal(existsSync(out), false, 'no output folder');
    assert.deepEqual(readdirSync(t.dir).filter((n) => n.startsWith('.')), [], 'no staging folder left');
    return issue;
  }

  it('binary junk is "not a text file"', async () => {
    // random bytes may trip the NUL check or the UTF-8 check first; both name the file as not CSV text
    const issue = await rejected('junk.csv', Buffer.concat([Buffer.from('Device EUI,'), randomBytes(256 * 1024)]), 'file-not-text');
    assert.match(issue.message, /CSV UTF-8|not a CSV text file/);
  });
  it('a UTF-16 export is named as such', async () => {
    const issue = await rejected('u16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csvText(HEADER, [goodRow(1)]), 'utf16le')]), 'file-not-text');
    assert.match(issue.message, /UTF-16/);
  });
  it('invalid UTF-8 without NUL bytes is refused', async () => {
    await rejected('latin.csv', Buffer.concat([Buffer.from(csvText([...HEADER, 'Name'], [[...goodRow(1), 'M']])), Buffer.from([0xe9, 0xe9, 0x0a])]), 'file-not-text');
  });
  it('a 10 MB single line is refused as too long', async () => {
    const issue = await rejected('long.csv', `${'A,'.repeat(5 * 1024 * 1024)}\n`, 'line-too-long');
    assert.equal(issue.line, 1);
  });
  it('a 10 MB line in the middle of a file names its line', async () => {
    const text = csvText(HEADER, [goodRow(1), goodRow(2)]) + `${goodRow(3)[0]},"${'x'.repeat(10 * 1024 * 1024)}",k\n`;
    const issue = await rejected('mid.csv', text, 'line-too-long');
    assert.equal(issue.line, 4);
  });
  it('mismatched column counts are reported for every bad row', async () => {
    const out = join(t.dir, 'out');
    const res = await generate(t.file('m.csv', csvText(HEADER, [goodRow(1), [...goodRow(2), 'x'], goodRow(3).slice(0, 2)])), { out });
    assert.deepEqual(res.report.issues.filter((i) => i.rule === 'field-count').map((i) => i.line), [3, 4]);
    assert.equal(existsSync(out), false);
  });
  it('an unclosed quote is a syntax error with its line', async () => {
    const issue = await rejected('q.csv', `${HEADER.join(',')}\n${goodRow(1).join(',')}\n"${goodRow(2).join(',')}\n`, 'csv-syntax');
    assert.equal(issue.line, 3);
  });
  it('a formula-injection name is an error naming line and column; nothing is written', async () => {
    const issue = await rejected('f.csv', csvText([...HEADER, 'Name'], [goodRow(1), [...goodRow(2), "=cmd|' /C calc'!A0"]]), 'formula-cell');
    assert.deepEqual([issue.severity, issue.line, issue.column, issue.columnName], ['error', 3, 4, 'Name']);
  });
  it('a ";" in a comma file\'s header: the error names the delimiter and the columns it saw; quoting that cell fixes it', async () => {
    const rows = csvText(HEADER, [goodRow(1)]).split('\n').slice(1).join('\n');
    const issue = await rejected('semi.csv', `${HEADER.join(',')},Notes; internal\n${rows.replace('\n', ',x\n')}`, 'header-missing-column');
    assert.match(issue.message, /read with delimiter ";"\), 2 column\(s\): "Device EUI,Join EUI,Application Key,Notes", "internal"; .*quote the header cell that holds the ";"/);
    const v = await validateFile(t.file('quoted.csv', `${HEADER.join(',')},"Notes; internal"\n${rows.replace('\n', ',x\n')}`));
    assert.equal(v.report.ok, true, JSON.stringify(v.report.issues));
  });
  it('an empty file and a header-only file are refused', async () => {
    await rejected('empty.csv', '', 'no-rows');
    await rejected('header.csv', `${HEADER.join(',')}\n`, 'no-rows');
  });
  it('an unknown header is refused with the columns it expected', async () => {
    const issue = await rejected('h.csv', 'foo,bar\n1,2\n', 'header-missing-column');
    assert.match(issue.message, /Device EUI,Join EUI,Application Key/);
  });
  it('a rejected run with --force leaves the existing folder untouched', async () => {
    const out = join(t.dir, 'out');
    const ok = await generate(t.file('good.csv', csvText(HEADER, [goodRow(1)])), { out, ...QUIET });
    assert.equal(ok.ok, true);
    const before = readFileSync(join(out, 'tts-devices.csv'), 'utf8');
    const bad = await generate(t.file('bad.csv', csvText(HEADER, [['0'.repeat(16), goodRow(1)[1], goodRow(1)[2]]])), { out, force: true, ...QUIET });
    assert.equal(bad.ok, false);
    assert.equal(readFileSync(join(out, 'tts-devices.csv'), 'utf8'), before);
  });
  it('refuses to overwrite an existing folder without --force', async () => {
    const out = join(t.dir, 'out');
    await generate(t.file('good.csv', csvText(HEADER, [goodRow(1)])), { out, ...QUIET });
    await assert.rejects(generate(t.file('good.csv'), { out, ...QUIET }), /already exists/);
  });
  it('--force refuses a folder that is not an earlier output, and leaves its files alone', async () => {
    const out = join(t.dir, 'mine');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'keep me');
    const input = t.file('good.csv', csvText(HEADER, [goodRow(1)]));
    await assert.rejects(generate(input, { out, force: true, ...QUIET }), /--force replaces only an earlier output folder of this tool \(one with its manifest\.json\)/);
    assert.deepEqual(readdirSync(out), ['notes.txt']);
    assert.deepEqual(readdirSync(t.dir).sort(), ['good.csv', 'mine']);
  });
  it('--force never replaces the folder holding the input, even an earlier output (-o . --force)', async () => {
    const out = join(t.dir, 'out');
    const first = await generate(t.file('good.csv', csvText(HEADER, [goodRow(1)])), { out, ...QUIET });
    assert.equal(first.ok, true);
    const input = join(out, 'devices.csv');
    writeFileSync(input, csvText(HEADER, [goodRow(2)]));
    await assert.rejects(generate(input, { out, force: true, ...QUIET }), OutputFolderError);
    await assert.rejects(generate(input, { out, force: true, ...QUIET }), /holds the input file/);
    assert.ok(existsSync(input), 'the input file is still there');
    await assert.rejects(generate(t.file('good.csv'), { out: t.dir, force: true, ...QUIET }), /holds the input file/);
    assert.ok(existsSync(t.file('good.csv')));
  });
  it('--force replaces an earlier output folder', async () => {
    const out = join(t.dir, 'out');
    await generate(t.file('one.csv', csvText(HEADER, [goodRow(1)])), { out, ...QUIET });
    const res = await generate(t.file('two.csv', csvText(HEADER, [goodRow(2)])), { out, force: true, ...QUIET });
    assert.equal(res.ok, true);
    assert.equal(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).input, 'two.csv');
  });
  it('an output folder below a file is a clear error, not EEXIST', async () => {
    t.file('plain', 'x');
    await assert.rejects(generate(t.file('good.csv', csvText(HEADER, [goodRow(1)])), { out: join(t.dir, 'plain', 'out'), ...QUIET }),
      /cannot create the output folder .*plain[/\\]out: .*plain is a file, not a folder/);
  });
  it('a missing input file is named as such', async () => {
    const missing = join(t.dir, 'nope.csv');
    await assert.rejects(validateFile(missing), (e: Error) => e.message === `no such file: ${missing}`);
  });
  it('a staged folder that is aborted leaves nothing behind', async () => {
    const out = join(t.dir, 'staged');
    const s = await StagedDir.create(out);
    writeFileSync(s.file('half.csv'), 'x');
    await s.abort();
    assert.deepEqual(readdirSync(t.dir), []);
  });
});

describe('fleet: generated QR images, labels and exports', () => {
  let t: ReturnType<typeof tempDir>;
  let out: string;
  const n = 25;
  const rows = Array.from({ length: n }, (_, i) => [...goodRow(i + 1), `SN${String(i + 1).padStart(4, '0')}`, `sqr_tok${i + 1}`]);
  before(async () => {
    t = tempDir();
    out = join(t.dir, 'out');
    const res = await generate(t.file('d.csv', csvText([...HEADER, 'Serial Number', 'QR Token'], rows)), { out, profileId: '000AF8BE', orgId: '42', checksum: true });
    assert.equal(res.ok, true, JSON.stringify(res.report.issues));
  });
  after(() => t.cleanup());

  function bodies(): Map<string, string> {
    const lines = readFileSync(join(out, 'qr-codes.csv'), 'utf8').trim().split('\r\n');
    assert.equal(lines[0], 'line,Device EUI,Join EUI,Serial Number,TR005 QR,Blynk QR');
    return new Map(lines.slice(1).map((l) => l.split(',')).map((c) => [c[1], c[4]]));
  }

  it('writes one TR005 body per device with serial and checksum last', () => {
    const b = bodies();
    assert.equal(b.size, n);
    assert.equal(b.get(goodRow(1)[0]), `LW:D0:70B3D57ED0000010:${goodRow(1)[0]}:000AF8BE:SSN0001:C${b.get(goodRow(1)[0])!.slice(-4)}`);
  });
  it('every PNG decodes (jsQR) to its TR005 body', () => {
    for (const [dev, body] of bodies()) assert.equal(decodePng(readFileSync(join(out, 'qr/tr005', `${dev}.png`))), body, dev);
  });
  it('every SVG decodes (jsQR after rasterising) to its TR005 body', () => {
    for (const [dev, body] of bodies()) assert.equal(decodeSvg(readFileSync(join(out, 'qr/tr005', `${dev}.svg`), 'utf8')), body, dev);
  });
  it('Blynk static-token images are named after the token and hold <token>+<orgId>', () => {
    assert.equal(decodePng(readFileSync(join(out, 'qr/blynk/sqr_tok7.png'))), 'sqr_tok7+42');
    assert.equal(decodeSvg(readFileSync(join(out, 'qr/blynk/sqr_tok7.svg'), 'utf8')), 'sqr_tok7+42');
  });
  it('label sheets hold every DevEUI and serial, with @page sizes for A4 and Letter', () => {
    const a4 = readFileSync(join(out, 'labels-a4.html'), 'utf8');
    const letter = readFileSync(join(out, 'labels-letter.html'), 'utf8');
    assert.match(a4, /@page \{ size: A4;/);
    assert.match(letter, /@page \{ size: letter;/);
    for (const html of [a4, letter]) {
      for (const r of rows) {
        assert.ok(html.includes(`>${r[0]}<`), r[0]);
        assert.ok(html.includes(`>${r[3]}<`), r[3]);
      }
      assert.equal(html.match(/class="label"/g)!.length, n);
    }
    assert.equal(a4.match(/<section class="sheet">/g)!.length, 2, '25 labels at 21 per A4 page');
    assert.equal(letter.match(/<section class="sheet">/g)!.length, 2, '25 labels at 18 per Letter page');
  });
  it('PDF label sheets are written with the right page count', () => {
    for (const p of ['a4', 'letter']) {
      const pdf = readFileSync(join(out, `labels-${p}.pdf`));
      assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
      assert.equal(pdf.toString('latin1').match(/\/Type \/Page\b/g)!.length, 2, p);
    }
  });
  it('the manifest lists every file and no absolute path', () => {
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    assert.equal(m.rows, n);
    assert.equal(m.images.count, 4 * n);
    for (const f of m.files) assert.ok(existsSync(join(out, f)), f);
    assert.ok(!JSON.stringify(m).includes(t.dir));
  });
});

describe('fleet: token-only files', () => {
  it('makes Blynk QR images and labels with the claim QR, and no LoRaWAN exports', async () => {
    const t = tempDir();
    try {
      const out = join(t.dir, 'out');
      const res = await generate(t.file('tok.csv', csvText(['Auth Token', 'QR Token', 'Serial'], [[TEST_TOKEN, 'sqr_a1', 'W-1']])), { out, orgId: '7', labels: ['a4'], pdf: false });
      assert.equal(res.ok, true, JSON.stringify(res.report.issues));
      assert.deepEqual(res.files.sort(), ['labels-a4.html', 'manifest.json', 'qr-codes.csv']);
      assert.equal(decodePng(readFileSync(join(out, 'qr/blynk/sqr_a1.png'))), 'sqr_a1+7');
      assert.ok(!readFileSync(join(out, 'qr-codes.csv'), 'utf8').includes('Ab3d'), 'auth tokens are not copied to print files');
    } finally {
      t.cleanup();
    }
  });
});

describe('fleet: options and pagination', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => { t = tempDir(); });
  afterEach(() => t.cleanup());

  it('a bad --profile-id or --org-id is reported once, not once per row, and stops', async () => {
    const f = t.file('many.csv', csvText(HEADER, Array.from({ length: 2000 }, (_, i) => goodRow(i + 1))));
    for (const [opts, rule] of [[{ profileId: 'XYZ' }, 'profile-id-format'], [{ orgId: 'abc' }, 'org-id-format']] as const) {
      const v = await validateFile(f, { ...opts, maxIssues: 5000 });
      assert.deepEqual(v.report.issues.map((i) => [i.rule, i.line]), [[rule, undefined]], rule);
      assert.equal(v.report.errors, 1);
      assert.equal(v.report.ok, false);
    }
  });
  it('HTML label pages break after the same labels as the PDF when some rows have no QR', async () => {
    // 30 token rows, every third without a QR token: 20 labels, 21 per A4 page -> one page.
    const rows = Array.from({ length: 30 }, (_, i) => [`${'A'.repeat(28)}${String(i).padStart(4, '0')}`, i % 3 === 2 ? '' : `sqr_${i}`]);
    const out = join(t.dir, 'out');
    const res = await generate(t.file('tok.csv', csvText(['Auth Token', 'QR Token'], rows)), { out, images: [], labels: ['a4', 'letter'] });
    assert.equal(res.ok, true, JSON.stringify(res.report.issues));
    for (const [paper, pages] of [['a4', 1], ['letter', 2]] as const) {
      const html = readFileSync(join(out, `labels-${paper}.html`), 'utf8');
      const pdf = readFileSync(join(out, `labels-${paper}.pdf`)).toString('latin1');
      assert.equal(html.match(/class="label"/g)!.length, 20, paper);
      assert.equal(html.match(/<section class="sheet">/g)!.length, pages, `${paper} HTML pages`);
      assert.equal(pdf.match(/\/Type \/Page\b/g)!.length, pages, `${paper} PDF pages`);
    }
  });
});

describe('fleet: progress', () => {
  it('writes at most every 200 ms and clears its line on a terminal', () => {
    let now = 0;
    let written = '';
    const stream = { isTTY: true, write: (s: string) => { written += s; return true; } } as unknown as NodeJS.WriteStream;
    const p = createProgress({ label: 'validating', totalBytes: 1000, enabled: true, stream, now: () => now });
    now = 250; p.update(100, 500);
    now = 300; p.update(200, 600);
    p.done('done');
    assert.match(written, /validating: 100 rows, 50%/);
    assert.ok(!written.includes('200 rows'));
    assert.match(written, /\r\u001b\[Kdone\n$/);
  });
});
