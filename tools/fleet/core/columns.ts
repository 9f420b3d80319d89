/**
 * Input columns. Header cells are matched after lowercasing and dropping everything that
 * is not a letter or digit, so `Device EUI`, `dev_eui` and `DevEUI` all mean the same.
 * `App EUI` is the older name of `Join EUI` (reference §5.2 "AppEUI vs JoinEUI naming").
 */
export type Field =
  | 'devEui' | 'joinEui' | 'appKey' | 'nwkKey'
  | 'deviceId' | 'name' | 'serial' | 'description'
  | 'profileId' | 'ownerToken' | 'proprietary'
  | 'authToken' | 'qrToken' | 'orgId';

export interface ColumnSpec {
  field: Field;
  /** The name used in messages and in the Blynk CSV we write. */
  label: string;
  aliases: readonly string[];
  /** Free text that ends up in CSV outputs, so it is checked for formula injection. */
  text?: boolean;
}

export const COLUMNS: readonly ColumnSpec[] = [
  { field: 'devEui', label: 'Device EUI', aliases: ['deviceeui', 'deveui'] },
  { field: 'joinEui', label: 'Join EUI', aliases: ['joineui', 'appeui', 'applicationeui', 'joineuiappeui'] },
  { field: 'appKey', label: 'Application Key', aliases: ['applicationkey', 'appkey'] },
  { field: 'nwkKey', label: 'Network Key', aliases: ['networkkey', 'nwkkey'] },
  { field: 'deviceId', label: 'TheThingsStack Device ID', aliases: ['thethingsstackdeviceid', 'thethingsnetworkdeviceid', 'ttsdeviceid', 'deviceid', 'id'] },
  { field: 'name', label: 'Device Name', aliases: ['devicename', 'name'], text: true },
  { field: 'serial', label: 'Serial Number', aliases: ['serialnumber', 'serial', 'serialno', 'sn', 'sernum'], text: true },
  { field: 'description', label: 'Description', aliases: ['description'], text: true },
  { field: 'profileId', label: 'Profile ID', aliases: ['profileid'] },
  { field: 'ownerToken', label: 'Owner Token', aliases: ['ownertoken', 'claimcode', 'claimauthenticationcode'] },
  { field: 'proprietary', label: 'Proprietary', aliases: ['proprietary'] },
  { field: 'authToken', label: 'Auth Token', aliases: ['authtoken', 'devicetoken', 'blynkauthtoken'] },
  { field: 'qrToken', label: 'QR Token', aliases: ['qrtoken', 'statictoken', 'token'] },
  { field: 'orgId', label: 'Org ID', aliases: ['orgid', 'organizationid', 'organisationid'] },
];

export const COLUMN_BY_FIELD: Readonly<Record<Field, ColumnSpec>> = Object.fromEntries(
  COLUMNS.map((c) => [c.field, c]),
) as Record<Field, ColumnSpec>;

export function headerKey(cell: string): string {
  return cell.toLowerCase().replace(/[^a-z0-9]/g, '');
}

const FIELD_BY_KEY = new Map<string, Field>();
for (const c of COLUMNS) for (const a of c.aliases) FIELD_BY_KEY.set(a, c.field);

/** What the file holds: LoRaWAN identities (optionally with tokens), or Blynk tokens only. */
export type FileKind = 'lorawan' | 'tokens';

export interface HeaderProblem {
  column?: number; // 1-based
  severity: 'error' | 'info';
  rule: 'header-missing-column' | 'header-duplicate-column' | 'header-unused-column';
  message: string;
}

export interface ColumnMap {
  kind: FileKind;
  /** 0-based cell index per field present in the file. */
  index: Partial<Record<Field, number>>;
  /** Header cells as written, for messages and for echoing the maker's names. */
  header: readonly string[];
}

/** Maps a header row to fields; problems are reported, not thrown, so all are shown at once. */
export function mapHeader(header: readonly string[], delimiter?: string): { map?: ColumnMap; problems: HeaderProblem[] } {
  const problems: HeaderProblem[] = [];
  const index: Partial<Record<Field, number>> = {};
  header.forEach((cell, i) => {
    const field = FIELD_BY_KEY.get(headerKey(cell));
    if (!field) {
      problems.push({ column: i + 1, severity: 'info', rule: 'header-unused-column', message: `column "${printable(cell)}" is not one this tool uses; it is ignored` });
      return;
    }
    const earlier = index[field];
    if (earlier !== undefined) {
      problems.push({
        column: i + 1, severity: 'error', rule: 'header-duplicate-column',
        message: `columns ${earlier + 1} ("${printable(header[earlier])}") and ${i + 1} ("${printable(cell)}") both mean ${COLUMN_BY_FIELD[field].label}; keep one`,
      });
      return;
    }
    index[field] = i;
  });
  const lora = index.devEui !== undefined || index.joinEui !== undefined || index.appKey !== undefined;
  if (lora) {
    for (const f of ['devEui', 'joinEui', 'appKey'] as const) {
      if (index[f] === undefined) {
        problems.push({
          severity: 'error', rule: 'header-missing-column',
          message: `the header has no ${COLUMN_BY_FIELD[f].label} column; a LoRaWAN file needs Device EUI, Join EUI (or App EUI) and Application Key`,
        });
      }
    }
  } else if (index.authToken === undefined && index.qrToken === undefined) {
    const seen = `${header.length} column(s): ${header.slice(0, 6).map((h) => `"${printable(h, 80)}"`).join(', ')}${header.length > 6 ? ', …' : ''}`;
    // The delimiter is ";" whenever the header line holds one, so a ";" inside a comma file's header cell swallows the header.
    const why = delimiter === ';' && header.some((h) => h.includes(','))
      ? '; the header line holds a ";", so the file was read as ";"-separated: if it is comma-separated, quote the header cell that holds the ";" or remove the ";"'
      : '';
    problems.push({
      severity: 'error', rule: 'header-missing-column',
      message: `no known columns in the header${delimiter ? ` (read with delimiter "${delimiter}")` : ''}, ${seen}${why}; expected "Device EUI,Join EUI,Application Key", or "Auth Token"/"QR Token" for a token file`,
    });
  }
  if (problems.some((p) => p.severity === 'error')) return { problems };
  return { map: { kind: lora ? 'lorawan' : 'tokens', index, header }, problems };
}

/** Shortens and makes control characters visible, so junk in a header cannot mangle the terminal. */
export function printable(s: string, max = 40): string {
  // eslint-disable-next-line no-control-regex
  const shown = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return shown.length > max ? `${shown.slice(0, max)}…` : shown;
}
