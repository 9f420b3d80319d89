import { strict as assert } from 'node:assert';
import { validateFile } from '../../tools/fleet/io/pipeline.ts';
import { FleetInputError, openCsv } from '../../tools/fleet/io/read-csv.ts';
import { goodRow, HEADER, tempDir } from './helpers.ts';

describe('fleet: CSV line endings', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => { t = tempDir(); });
  afterEach(() => t.cleanup());

  async function read(content: string | Buffer): Promise<{ header: string[]; rows: [number, string[]][] }> {
    const csv = await openCsv(t.file('in.csv', content));
    const rows: [number, string[]][] = [];
    for await (const r of csv.rows()) rows.push([r.line, r.cells]);
    return { header: csv.header, rows };
  }
  const expected = { header: ['a', 'b', 'c'], rows: [[2, ['1', '2', '3']], [3, ['4', '5', '6']]] };

  it('reads a CRLF header with LF rows', async () => assert.deepEqual(await read('a,b,c\r\n1,2,3\n4,5,6\n'), expected));
  it('reads a CRLF header with CR rows', async () => assert.deepEqual(await read('a,b,c\r\n1,2,3\r4,5,6\r'), expected));
  it('reads an LF header with CRLF rows, leaving no CR in the last cell', async () => assert.deepEqual(await read('a,b,c\n1,2,3\r\n4,5,6\r\n'), expected));
  it('reads a BOM, a CRLF header and LF rows without a final line break', async () =>
    assert.deepEqual(await read(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a,b,c\r\n1,2,3\n4,5,6')])), expected));
  it('counts a line break inside a quoted cell in a CR file', async () =>
    assert.deepEqual((await read('a,b,c\r1,2,"x\ry"\r4,5,6\r')).rows.map(([line]) => line), [2, 4]));
  it('reads a CRLF split between two reads of the file as one line break', async () => {
    const lines = ['a,b,c\r\n'];
    let size = lines[0].length;
    const row = (n: number) => `1,2,${'x'.repeat(n - '1,2,\r\n'.length)}\r\n`;
    while (size + 2000 < 256 * 1024) { lines.push(row(1000)); size += 1000; }
    lines.push(row(256 * 1024 - size + 1)); // its CR is the last byte of the first 256 KiB read, its LF the first of the next
    lines.push(row(10), row(10));
    const { rows } = await read(lines.join(''));
    assert.deepEqual(rows.map(([line]) => line), lines.slice(1).map((_, i) => i + 2));
    assert.ok(rows.every(([, cells]) => cells.length === 3 && !/[\r\n]/.test(cells[2])));
  });
  it('names the right line for a NUL byte in a CR file', async () => {
    const err = await read('a,b,c\r1,2,3\r4,5,\0\r').catch((e: unknown) => e);
    assert.ok(err instanceof FleetInputError, String(err));
    assert.equal(err.line, 3);
  });
  it('validates a device list whose header ends in CRLF and whose rows end in LF', async () => {
    const text = `${HEADER.join(',')}\r\n${[goodRow(1), goodRow(2), goodRow(3)].map((r) => r.join(',')).join('\n')}\n`;
    const v = await validateFile(t.file('devices.csv', text));
    assert.deepEqual(v.report.issues.filter((i) => i.severity === 'error'), []);
  });
});
