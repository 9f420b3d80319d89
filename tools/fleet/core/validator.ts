/**
 * Batch validation: turns CSV cells into normalised devices, runs the rule table on each,
 * and the batch rules (duplicates) across the file. Rows are fed one at a time, so a file
 * is validated while it streams; only the duplicate-detection keys stay in memory
 * (about 100 bytes per key, so 100 000 rows cost a few tens of MB).
 */
import { COLUMN_BY_FIELD, type ColumnMap, type Field, type FileKind } from './columns.ts';
import { defaultDeviceId, type Device } from './device.ts';
import { normaliseHex } from './hex.ts';
import { checkDevice, RULES, type CheckContext, type RuleId, type Severity } from './rules.ts';

export interface Issue {
  rule: RuleId;
  severity: Severity;
  /** 1-based source line; absent for problems with options. */
  line?: number;
  /** 1-based column index and the header cell as written. */
  column?: number;
  columnName?: string;
  message: string;
  /** A warning raised to an error by --strict. */
  strict?: boolean;
}

export interface RowDefaults {
  /** Used when the file has no Profile ID cell. Blynk's TTS integration shows the value to use. */
  profileId?: string;
  orgId?: string;
}

export interface ValidateOptions extends RowDefaults {
  /** Warnings become errors. */
  strict?: boolean;
  /** Put the serial into the TR005 S field (default true). */
  qrSerial?: boolean;
  /** How many issues are kept for the report; counting continues past it. */
  maxIssues?: number;
}

export interface NormalisedSummary {
  field: Field;
  count: number;
  example: { line: number; from: string; to: string };
}

export interface ValidationReport {
  kind?: FileKind;
  header: readonly string[];
  rows: number;
  errors: number;
  warnings: number;
  infos: number;
  issues: Issue[];
  /** Issues counted but not kept because of maxIssues. */
  dropped: number;
  normalised: NormalisedSummary[];
  ok: boolean;
}

const HEX_FIELDS: readonly Field[] = ['devEui', 'joinEui', 'appKey', 'nwkKey', 'profileId'];
const TRIMMED_FIELDS: readonly Field[] = ['deviceId', 'name', 'serial', 'description', 'ownerToken', 'proprietary', 'authToken', 'qrToken', 'orgId'];

/**
 * Cells -> Device. Hex fields are normalised (§5.1), text is trimmed, the TTS device id
 * defaults to `eui-<deveui>`. `changed` lists the hex fields normalisation altered.
 */
export function buildDevice(cells: readonly string[], map: ColumnMap, line: number, defaults: RowDefaults = {}): { device: Device; changed: Field[] } {
  const cell = (f: Field): string => {
    const i = map.index[f];
    return i === undefined ? '' : cells[i] ?? '';
  };
  const d = { line, deviceIdGiven: false } as Device;
  const changed: Field[] = [];
  for (const f of HEX_FIELDS) {
    const raw = cell(f);
    const v = normaliseHex(raw);
    if (v !== raw) changed.push(f);
    d[f] = v;
  }
  for (const f of TRIMMED_FIELDS) d[f] = cell(f).trim();
  if (!d.profileId && defaults.profileId) d.profileId = normaliseHex(defaults.profileId);
  if (!d.orgId && defaults.orgId) d.orgId = defaults.orgId.trim();
  d.deviceIdGiven = d.deviceId !== '';
  if (!d.deviceIdGiven && map.kind === 'lorawan') d.deviceId = defaultDeviceId(d.devEui);
  return { device: d, changed };
}

/** Counts every issue, keeps the first `max` for the report; --strict is applied here, in one place. */
export class IssueLog {
  errors = 0;
  warnings = 0;
  infos = 0;
  dropped = 0;
  readonly issues: Issue[] = [];

  constructor(private readonly strict = false, private readonly max = 500) {}

  add(issue: Issue): void {
    if (issue.severity === 'warning' && this.strict) issue = { ...issue, severity: 'error', strict: true };
    if (issue.severity === 'error') this.errors++;
    else if (issue.severity === 'warning') this.warnings++;
    else this.infos++;
    if (this.issues.length < this.max) this.issues.push(issue);
    else this.dropped++;
  }

  toReport(header: readonly string[], rows: number, kind?: FileKind, normalised: NormalisedSummary[] = []): ValidationReport {
    return {
      kind, header, rows, errors: this.errors, warnings: this.warnings, infos: this.infos,
      issues: this.issues, dropped: this.dropped, normalised, ok: this.errors === 0,
    };
  }
}

export class BatchValidator {
  private readonly ctx: CheckContext;
  private readonly log: IssueLog;
  private rows = 0;
  private readonly normalised = new Map<Field, NormalisedSummary>();
  // Duplicate detection, the only per-row state kept. A batch usually shares one JoinEUI,
  // so DevEUIs map to their first line with the JoinEUI folded in as a small index
  // (line + index * 2^32): one map entry per device instead of a pair map and a DevEUI map.
  private readonly joins: string[] = [];
  private readonly joinIndex = new Map<string, number>();
  private readonly devEuis = new Map<string, number>();
  /** JoinEUI+DevEUI -> line, only for DevEUIs seen more than once. */
  private readonly repeatedPairs = new Map<string, number>();
  private readonly appKeys = new Map<string, number>();
  /** Only when the file has an id column; default ids collide exactly when DevEUIs do. */
  private readonly deviceIds = new Map<string, number>();
  private readonly tokens = new Map<string, number>();

  constructor(readonly map: ColumnMap, private readonly opts: ValidateOptions = {}, log?: IssueLog) {
    this.ctx = { kind: map.kind, qrSerial: opts.qrSerial !== false };
    this.log = log ?? new IssueLog(opts.strict, opts.maxIssues);
  }

  add(issue: Issue): void {
    this.log.add(issue);
  }

  private columnOf(field: Field): { column?: number; columnName?: string } {
    const i = this.map.index[field];
    return i === undefined ? {} : { column: i + 1, columnName: this.map.header[i] };
  }

  /** Validates one data row. Returns the device when the row itself has no error. */
  row(cells: readonly string[], line: number): Device | undefined {
    this.rows++;
    if (cells.length !== this.map.header.length) {
      this.add({
        rule: 'field-count', severity: RULES['field-count'].severity, line,
        message: cells.length > this.map.header.length
          ? `the row has ${cells.length} cells but the header has ${this.map.header.length}: a stray delimiter, or an unquoted value that contains one`
          : `the row has ${cells.length} cells but the header has ${this.map.header.length}: a cell is missing`,
      });
      return undefined;
    }
    const { device, changed } = buildDevice(cells, this.map, line, this.opts);
    for (const f of changed) this.noteNormalised(f, line, cells[this.map.index[f]!], device[f]);
    let rowHasError = false;
    for (const f of checkDevice(device, this.ctx)) {
      this.add({ rule: f.rule, severity: f.severity, line, ...this.columnOf(f.field), message: f.message });
      if (f.severity === 'error') rowHasError = true;
    }
    this.checkDuplicates(device);
    return rowHasError ? undefined : device;
  }

  private noteNormalised(field: Field, line: number, from: string, to: string): void {
    const s = this.normalised.get(field);
    if (s) s.count++;
    else this.normalised.set(field, { field, count: 1, example: { line, from, to } });
  }

  private duplicate(
    seen: Map<string, number>, key: string, d: Device, rule: RuleId, field: Field, what: string,
  ): boolean {
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, d.line);
      return false;
    }
    this.add({ rule, severity: RULES[rule].severity, line: d.line, ...this.columnOf(field), message: `${what} is also on line ${first}` });
    return true;
  }

  private checkDuplicates(d: Device): void {
    if (this.map.kind === 'lorawan' && d.devEui.length === 16 && d.joinEui.length === 16) this.checkEuis(d);
    if (d.appKey.length === 32) this.duplicate(this.appKeys, d.appKey, d, 'duplicate-appkey', 'appKey', 'this Application Key');
    if (d.nwkKey.length === 32) this.duplicate(this.appKeys, d.nwkKey, d, 'duplicate-appkey', 'nwkKey', 'this Network Key');
    if (d.deviceId && this.map.index.deviceId !== undefined) {
      this.duplicate(this.deviceIds, d.deviceId, d, 'duplicate-device-id', 'deviceId', `TTS device id ${d.deviceId}${d.deviceIdGiven ? '' : ' (the default from the DevEUI)'}`);
    }
    if (d.authToken) this.duplicate(this.tokens, `a:${d.authToken}`, d, 'duplicate-token', 'authToken', 'this auth token');
    if (d.qrToken) this.duplicate(this.tokens, `q:${d.qrToken}`, d, 'duplicate-token', 'qrToken', 'this QR token');
  }

  private checkEuis(d: Device): void {
    let ji = this.joinIndex.get(d.joinEui);
    if (ji === undefined) {
      ji = this.joins.length;
      this.joins.push(d.joinEui);
      this.joinIndex.set(d.joinEui, ji);
    }
    const first = this.devEuis.get(d.devEui);
    if (first === undefined) {
      this.devEuis.set(d.devEui, d.line + ji * 2 ** 32);
      return;
    }
    const firstLine = first % 2 ** 32;
    const firstPair = this.joins[Math.floor(first / 2 ** 32)] + d.devEui;
    if (!this.repeatedPairs.has(firstPair)) this.repeatedPairs.set(firstPair, firstLine);
    const pairLine = this.repeatedPairs.get(d.joinEui + d.devEui);
    const col = this.columnOf('devEui');
    if (pairLine !== undefined) {
      this.add({ rule: 'duplicate-eui-pair', severity: RULES['duplicate-eui-pair'].severity, line: d.line, ...col, message: `JoinEUI ${d.joinEui} + DevEUI ${d.devEui} is also on line ${pairLine}` });
      return;
    }
    this.repeatedPairs.set(d.joinEui + d.devEui, d.line);
    this.add({ rule: 'duplicate-deveui', severity: RULES['duplicate-deveui'].severity, line: d.line, ...col, message: `DevEUI ${d.devEui} (with JoinEUI ${d.joinEui}) is also on line ${firstLine}` });
    if (this.map.index.deviceId === undefined) {
      this.add({ rule: 'duplicate-device-id', severity: RULES['duplicate-device-id'].severity, line: d.line, ...col, message: `TTS device id ${d.deviceId} (the default from the DevEUI) is also on line ${firstLine}; add an id column to tell them apart` });
    }
  }

  finish(): ValidationReport {
    if (this.rows === 0) {
      this.add({ rule: 'no-rows', severity: 'error', line: 1, message: 'the file has a header but no device rows' });
    }
    for (const s of this.normalised.values()) {
      this.add({
        rule: 'normalised', severity: 'info', line: s.example.line, ...this.columnOf(s.field),
        message: `${COLUMN_BY_FIELD[s.field].label}: ${s.count} value${s.count === 1 ? '' : 's'} normalised, e.g. "${s.example.from}" -> "${s.example.to}"`,
      });
    }
    return this.log.toReport(this.map.header, this.rows, this.map.kind, [...this.normalised.values()]);
  }
}
