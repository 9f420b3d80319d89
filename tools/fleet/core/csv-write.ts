/**
 * Writing CSV cells safely. Spreadsheet programs treat a cell that starts with `=`, `+`,
 * `-`, `@`, tab or CR as a formula (`=cmd|' /C calc'!A0`), so free-text cells we copy
 * from the input are prefixed with `'` (the OWASP "CSV injection" advice). Identifiers
 * (EUIs, keys, ids, tokens) are validated to a fixed alphabet before they get here and
 * are never altered, since changing a token would break the device.
 *
 * Hand-written rather than csv-stringify: the writers build one line per device into their
 * own buffered streams, and the formula guard depends on the column, which a per-column
 * `text` flag says here; the whole writer is these few functions, round-trip tested.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function looksLikeFormula(value: string): boolean {
  return FORMULA_START.test(value);
}

export function neutraliseFormula(value: string): string {
  return looksLikeFormula(value) ? `'${value}` : value;
}

/** RFC 4180 quoting: only when the cell holds the delimiter, a quote, CR/LF or edge spaces. */
export function csvCell(value: string, delimiter: string): string {
  const needsQuotes = value.includes(delimiter) || /["\r\n]/.test(value) || /^\s|\s$/.test(value);
  return needsQuotes ? `"${value.replace(/"/g, '""')}"` : value;
}

export interface CsvColumn<T> {
  header: string;
  get: (row: T) => string;
  /** Free text copied from the input: neutralised against formula injection. */
  text?: boolean;
}

export function csvHeaderLine<T>(columns: readonly CsvColumn<T>[], delimiter: string): string {
  return columns.map((c) => csvCell(c.header, delimiter)).join(delimiter) + '\r\n';
}

export function csvLine<T>(columns: readonly CsvColumn<T>[], row: T, delimiter: string): string {
  let out = '';
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i];
    const v = c.get(row);
    if (i) out += delimiter;
    out += csvCell(c.text ? neutraliseFormula(v) : v, delimiter);
  }
  return out + '\r\n';
}
