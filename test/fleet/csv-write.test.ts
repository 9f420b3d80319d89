import { strict as assert } from 'node:assert';
import { parse } from 'csv-parse/sync';
import { csvCell, csvHeaderLine, csvLine, neutraliseFormula, type CsvColumn } from '../../tools/fleet/core/csv-write.ts';

describe('fleet: CSV writer', () => {
  const cols: CsvColumn<string[]>[] = [
    { header: 'id', get: (r) => r[0] },
    { header: 'name', get: (r) => r[1], text: true },
  ];
  const hostile = ['a,b', 'say "hi"', 'two\r\nlines', ' edge ', 'a;b', '=1+1', '-', '@x', '+', '\tTab', 'plain'];

  it('every value reads back unchanged through csv-parse, "," and ";"', () => {
    for (const d of [',', ';']) {
      const text = csvHeaderLine(cols, d) + hostile.map((v) => csvLine(cols, [v, 'n'], d)).join('');
      const rows = parse(text, { delimiter: d }) as string[][];
      assert.deepEqual(rows.slice(1).map((r) => r[0]), hostile, d);
    }
  });
  it('quotes only when needed', () => {
    assert.equal(csvCell('plain', ','), 'plain');
    assert.equal(csvCell('a;b', ','), 'a;b');
    assert.equal(csvCell('a;b', ';'), '"a;b"');
    assert.equal(csvCell('say "hi"', ','), '"say ""hi"""');
  });
  it('free-text columns start formulas with an apostrophe; identifiers are never altered', () => {
    for (const v of ['=1+1', '+1', '-1', '@x', '\tx', '\rx']) assert.equal(neutraliseFormula(v), `'${v}`, JSON.stringify(v));
    assert.equal(neutraliseFormula('a=1'), 'a=1');
    assert.equal(csvLine(cols, ['-id-', '=1+1'], ','), "-id-,'=1+1\r\n");
  });
});
