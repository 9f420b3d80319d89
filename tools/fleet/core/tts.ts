/**
 * The Things Stack: device ids, LoRaWAN / regional-parameter versions, frequency plans,
 * and the two bulk-import formats (`the-things-stack-csv` and the `the-things-stack` JSON
 * stream). Facts and tables are from the reference notes §4.1–4.5.
 */
import { csvHeaderLine, csvLine, type CsvColumn } from './csv-write.ts';
import type { Device } from './device.ts';

/** §4.1: ids other than user ids. Length 3..36, lowercase, digits, single inner dashes. */
export const TTS_ID_PATTERN = /^[a-z0-9](?:-?[a-z0-9]){2,}$/;
export const TTS_ID_MAX = 36;

/** Why a device id is not acceptable to TTS, or undefined when it is. */
export function deviceIdProblem(id: string): string | undefined {
  if (id.length > TTS_ID_MAX) return `is ${id.length} characters; TTS allows at most ${TTS_ID_MAX}`;
  if (id.length < 3) return `is ${id.length} characters; TTS needs at least 3`;
  if (/[A-Z]/.test(id)) return 'has uppercase letters; TTS ids are lowercase';
  if (/[^a-z0-9-]/.test(id)) return 'may only hold lowercase letters, digits and dashes';
  if (id.startsWith('-') || id.endsWith('-')) return 'starts or ends with a dash';
  if (id.includes('--')) return 'has two dashes in a row';
  return TTS_ID_PATTERN.test(id) ? undefined : 'does not match ^[a-z0-9](?:[-]?[a-z0-9]){2,}$';
}

/** §4.5 MACVersion enum names and the text aliases TTS accepts for them. */
export const MAC_VERSIONS: ReadonlyArray<{ name: string; aliases: readonly string[] }> = [
  { name: 'MAC_V1_0', aliases: ['1.0', '1.0.0', 'V1_0'] },
  { name: 'MAC_V1_0_1', aliases: ['1.0.1', 'V1_0_1'] },
  { name: 'MAC_V1_0_2', aliases: ['1.0.2', 'V1_0_2'] },
  { name: 'MAC_V1_0_3', aliases: ['1.0.3', 'V1_0_3'] },
  { name: 'MAC_V1_0_4', aliases: ['1.0.4'] },
  { name: 'MAC_V1_1', aliases: ['1.1', '1.1.0', 'V1_1'] },
];

/**
 * §4.5 PHYVersion names (as TTS emits them in JSON) with their aliases, in the order the
 * regional-parameter documents were published. Band ranges below are slices of this order.
 */
export const PHY_VERSIONS: ReadonlyArray<{ name: string; aliases: readonly string[] }> = [
  { name: 'PHY_V1_0', aliases: ['TS001_V1_0', '1.0', '1.0.0', 'V1_0'] },
  { name: 'PHY_V1_0_1', aliases: ['TS001_V1_0_1', '1.0.1'] },
  { name: 'PHY_V1_0_2_REV_A', aliases: ['RP001_V1_0_2', '1.0.2', '1.0.2-a'] },
  { name: 'PHY_V1_0_2_REV_B', aliases: ['RP001_V1_0_2_REV_B', '1.0.2-b'] },
  { name: 'PHY_V1_0_3_REV_A', aliases: ['RP001_V1_0_3_REV_A', '1.0.3-a'] },
  { name: 'PHY_V1_1_REV_A', aliases: ['RP001_V1_1_REV_A', '1.1-a', '1.1.0-a'] },
  { name: 'PHY_V1_1_REV_B', aliases: ['RP001_V1_1_REV_B', '1.1-b', '1.1.0-b'] },
  { name: 'RP002_V1_0_0', aliases: [] },
  { name: 'RP002_V1_0_1', aliases: [] },
  { name: 'RP002_V1_0_2', aliases: [] },
  { name: 'RP002_V1_0_3', aliases: [] },
  { name: 'RP002_V1_0_4', aliases: [] },
];

const RP002 = ['RP002_V1_0_0', 'RP002_V1_0_1', 'RP002_V1_0_2', 'RP002_V1_0_3', 'RP002_V1_0_4'];

/** §4.5 Console `LORAWAN_VERSION_PAIRS`: which regional parameters go with which MAC version. */
export const MAC_PHY_PAIRS: Readonly<Record<string, readonly string[]>> = {
  MAC_V1_0: ['PHY_V1_0'],
  MAC_V1_0_1: ['PHY_V1_0_1'],
  MAC_V1_0_2: ['PHY_V1_0_2_REV_A', 'PHY_V1_0_2_REV_B'],
  MAC_V1_0_3: ['PHY_V1_0_3_REV_A'],
  MAC_V1_0_4: RP002,
  MAC_V1_1: ['PHY_V1_1_REV_A', 'PHY_V1_1_REV_B', ...RP002],
};

/** §4.5 `pkg/band/all.go`: first and last supported PHY version per band (inclusive). */
export const BAND_PHY_RANGE: Readonly<Record<string, readonly [from: string, to: string]>> = {
  EU_863_870: ['PHY_V1_0', 'RP002_V1_0_4'],
  US_902_928: ['PHY_V1_0', 'RP002_V1_0_4'],
  EU_433: ['PHY_V1_0', 'RP002_V1_0_4'],
  ISM_2400: ['PHY_V1_0', 'RP002_V1_0_4'],
  MA_869_870_DRAFT: ['PHY_V1_0', 'RP002_V1_0_4'],
  AU_915_928: ['PHY_V1_0_1', 'RP002_V1_0_4'],
  AS_923: ['PHY_V1_0_2_REV_A', 'RP002_V1_0_4'],
  KR_920_923: ['PHY_V1_0_2_REV_A', 'RP002_V1_0_4'],
  IN_865_867: ['PHY_V1_0_2_REV_B', 'RP002_V1_0_4'],
  RU_864_870: ['PHY_V1_0_3_REV_A', 'RP002_V1_0_4'],
  CN_470_510: ['PHY_V1_0_1', 'PHY_V1_1_REV_B'],
  CN_470_510_20_A: ['RP002_V1_0_0', 'RP002_V1_0_4'],
  CN_470_510_20_B: ['RP002_V1_0_0', 'RP002_V1_0_4'],
  CN_470_510_26_A: ['RP002_V1_0_0', 'RP002_V1_0_4'],
  CN_470_510_26_B: ['RP002_V1_0_0', 'RP002_V1_0_4'],
  AS_923_2: ['RP002_V1_0_1', 'RP002_V1_0_4'],
  AS_923_3: ['RP002_V1_0_1', 'RP002_V1_0_4'],
  AS_923_4: ['RP002_V1_0_3', 'RP002_V1_0_4'],
  CN_779_787: ['PHY_V1_0', 'RP002_V1_0_3'],
};

function plans(band: string, ids: string[]): Array<[string, string]> {
  return ids.map((id) => [id, band]);
}
const n18 = [1, 2, 3, 4, 5, 6, 7, 8];

/** §4.5 `lorawan-frequency-plans/frequency-plans.yml`: plan id -> band id. */
export const FREQUENCY_PLANS: ReadonlyMap<string, string> = new Map([
  ...plans('EU_863_870', ['EU_863_870', 'EU_863_870_TTN', 'EU_863_870_ROAMING_DRAFT', 'EU_868_1']),
  ...plans('EU_433', ['EU_433']),
  ...plans('US_902_928', [
    ...n18.map((i) => `US_902_928_FSB_${i}`),
    'US_903_0', 'US_904_6', 'US_906_2', 'US_907_8', 'US_909_4', 'US_911_0', 'US_912_6', 'US_914_2',
  ]),
  ...plans('AU_915_928', [...n18.map((i) => `AU_915_928_FSB_${i}`), ...n18.map((i) => `AU_915_928_FSB_${i}_BR`)]),
  ...plans('CN_470_510', ['CN_470_510_FSB_1', 'CN_470_510_FSB_11']),
  ...plans('AS_923', [
    'AS_920_923', 'AS_920_923_LBT', 'AS_920_923_TTN_JP_1', 'AS_920_923_TTN_JP_2', 'AS_920_923_TTN_JP_3',
    'AS_920_923_TTN_JP_1_LAND_MOBILE', 'AS_920_923_TTN_JP_3_LAND_MOBILE', 'AS_923', 'AS_923_NDT', 'AS_923_DT',
    'AS_923_925', 'AS_923_925_LBT', 'AS_920_923_TTN_AU', 'AS_923_925_TTN_AU', 'SG_920_923_TTN', 'UZ_923_1',
  ]),
  ...plans('AS_923_2', ['AS_923_2', 'AS_923_2_NDT', 'AS_923_2_DT']),
  ...plans('AS_923_3', ['AS_923_3', 'AS_923_3_NDT', 'AS_923_3_DT']),
  ...plans('AS_923_4', ['AS_923_4', 'AS_923_4_NDT', 'AS_923_4_DT', 'IL_917_920_TTN', 'IL_917_920_TTN_2']),
  ...plans('KR_920_923', ['KR_920_923_TTN']),
  ...plans('IN_865_867', ['IN_865_867']),
  ...plans('RU_864_870', ['RU_864_870_TTN']),
  ...plans('MA_869_870_DRAFT', ['MA_869_870_DRAFT']),
  ...plans('ISM_2400', ['ISM_2400_3CH_DRAFT2']),
]);

function resolveVersion(table: typeof MAC_VERSIONS, text: string): string | undefined {
  const t = text.trim();
  for (const v of table) if (v.name === t.toUpperCase() || v.aliases.includes(t) || v.aliases.includes(t.toUpperCase())) return v.name;
  return undefined;
}
export function resolveMacVersion(text: string): string | undefined {
  return resolveVersion(MAC_VERSIONS, text);
}
export function resolvePhyVersion(text: string): string | undefined {
  return resolveVersion(PHY_VERSIONS, text);
}

/** The PHY versions a MAC version pairs with, each with its shortest alias: `PHY_V1_0_3_REV_A (1.0.3-a)`. */
function pairsText(mac: string): string {
  return MAC_PHY_PAIRS[mac].map((name) => {
    const short = PHY_VERSIONS.find((v) => v.name === name)?.aliases.filter((a) => /^[0-9]/.test(a)).pop();
    return short ? `${name} (${short})` : name;
  }).join(' or ');
}

export interface TtsOptionsInput {
  frequencyPlan?: string;
  macVersion?: string;
  phyVersion?: string;
  /** Accept a plan id missing from the built-in list (a private server may define more). */
  allowUnknownPlan?: boolean;
}

export interface TtsSettings {
  frequencyPlan?: string;
  band?: string;
  macVersion?: string;
  phyVersion?: string;
}

export interface TtsOptionProblem {
  rule: 'tts-mac-version' | 'tts-phy-version' | 'tts-version-pair' | 'tts-frequency-plan' | 'tts-plan-band';
  message: string;
}

/**
 * Resolves the three TTS options to canonical names and checks them against the pairing
 * tables, so a batch is never exported with a combination the Network Server refuses.
 */
export function checkTtsOptions(input: TtsOptionsInput): { settings: TtsSettings; problems: TtsOptionProblem[] } {
  const problems: TtsOptionProblem[] = [];
  const settings: TtsSettings = {};
  if (input.macVersion !== undefined) {
    settings.macVersion = resolveMacVersion(input.macVersion);
    if (!settings.macVersion) {
      problems.push({ rule: 'tts-mac-version', message: `LoRaWAN version "${input.macVersion}" is unknown; use one of ${MAC_VERSIONS.map((v) => `${v.name} (${v.aliases[0]})`).join(', ')}` });
    }
  }
  if (input.phyVersion !== undefined) {
    settings.phyVersion = resolvePhyVersion(input.phyVersion);
    if (!settings.phyVersion) {
      const t = input.phyVersion.trim();
      const message = /^1\.0\.[0-4]$/.test(t)
        ? `regional-parameters version "${t}" is ambiguous: ${[
          resolvePhyVersion(`${t}-a`) ? `RP001 ${t} revision A is ${t}-a` : '',
          `RP002 versions have no dotted form, write RP002_V${t.replace(/\./g, '_')}`,
        ].filter(Boolean).join('; ')}${settings.macVersion ? `; with ${settings.macVersion} use ${pairsText(settings.macVersion)}` : ''}`
        : `regional-parameters version "${input.phyVersion}" is unknown; use one of ${PHY_VERSIONS.map((v) => v.name).join(', ')}`;
      problems.push({ rule: 'tts-phy-version', message });
    }
  }
  if (settings.macVersion && settings.phyVersion) {
    if (!MAC_PHY_PAIRS[settings.macVersion].includes(settings.phyVersion)) {
      problems.push({ rule: 'tts-version-pair', message: `LoRaWAN ${settings.macVersion} does not pair with ${settings.phyVersion}; with ${settings.macVersion} use ${pairsText(settings.macVersion)}` });
    }
  }
  if (input.frequencyPlan !== undefined) {
    const plan = input.frequencyPlan.trim();
    settings.frequencyPlan = plan;
    settings.band = FREQUENCY_PLANS.get(plan);
    if (!settings.band && !input.allowUnknownPlan) {
      const near = [...FREQUENCY_PLANS.keys()].filter((p) => p.startsWith(plan.slice(0, 6).toUpperCase())).slice(0, 8);
      problems.push({
        rule: 'tts-frequency-plan',
        message: `frequency plan "${plan}" is not one of the known TTS plans${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}; if your server defines it, pass --allow-unknown-plan`,
      });
    }
    if (settings.band && settings.phyVersion) {
      const [from, to] = BAND_PHY_RANGE[settings.band];
      const order = PHY_VERSIONS.map((v) => v.name);
      const i = order.indexOf(settings.phyVersion);
      if (i < order.indexOf(from) || i > order.indexOf(to)) {
        problems.push({ rule: 'tts-plan-band', message: `frequency plan ${plan} is band ${settings.band}, which TTS supports only from ${from} to ${to}, not ${settings.phyVersion}` });
      }
    }
  }
  return { settings, problems };
}

/**
 * §4.1 `serial_number` uses the id pattern (lowercase!), max 36. Factory serials are
 * usually uppercase (`SN0001`), so the TTS copy is lowercased; a serial that does not
 * fit even then is left out. Returns the value to send, or undefined.
 */
export function ttsSerial(serial: string): string | undefined {
  const s = serial.toLowerCase();
  return s.length <= TTS_ID_MAX && TTS_ID_PATTERN.test(s) ? s : undefined;
}

export interface TtsExportShape {
  settings: TtsSettings;
  hasName: boolean;
  hasDescription: boolean;
  hasNwkKey: boolean;
}

/**
 * Columns of the `the-things-stack-csv` file (§4.2), in the order of TTS's own
 * `all_columns.csv`. Names and versions are columns only when known for this batch;
 * missing ones make the Console ask for fallback values.
 */
export function ttsCsvColumns(shape: TtsExportShape): CsvColumn<Device>[] {
  const s = shape.settings;
  const cols: CsvColumn<Device>[] = [
    { header: 'id', get: (d) => d.deviceId },
    { header: 'dev_eui', get: (d) => d.devEui },
    { header: 'join_eui', get: (d) => d.joinEui },
  ];
  if (shape.hasName) cols.push({ header: 'name', get: (d) => d.name, text: true });
  if (shape.hasDescription) cols.push({ header: 'description', get: (d) => d.description, text: true });
  if (s.frequencyPlan) cols.push({ header: 'frequency_plan_id', get: () => s.frequencyPlan! });
  if (s.macVersion) cols.push({ header: 'lorawan_version', get: () => s.macVersion! });
  if (s.phyVersion) cols.push({ header: 'lorawan_phy_version', get: () => s.phyVersion! });
  cols.push({ header: 'app_key', get: (d) => d.appKey });
  if (shape.hasNwkKey) cols.push({ header: 'nwk_key', get: (d) => d.nwkKey });
  return cols;
}

/** TTS auto-detects `;` when the header line holds one (§4.2); we always write `;`. */
export const TTS_CSV_DELIMITER = ';';

export function ttsCsvHeader(shape: TtsExportShape): string {
  return csvHeaderLine(ttsCsvColumns(shape), TTS_CSV_DELIMITER);
}

export function ttsCsvRow(columns: readonly CsvColumn<Device>[], device: Device): string {
  return csvLine(columns, device, TTS_CSV_DELIMITER);
}

/**
 * One EndDevice of the `the-things-stack` JSON import (§4.3): a stream of concatenated
 * objects, one per line here. Keys are uppercase hex, which TTS accepts.
 */
export function ttsJsonDevice(device: Device, settings: TtsSettings): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ids: { device_id: device.deviceId, dev_eui: device.devEui, join_eui: device.joinEui },
  };
  if (device.name) out.name = device.name;
  if (device.description) out.description = device.description;
  const serial = device.serial ? ttsSerial(device.serial) : undefined;
  if (serial) out.serial_number = serial;
  if (settings.frequencyPlan) out.frequency_plan_id = settings.frequencyPlan;
  if (settings.macVersion) out.lorawan_version = settings.macVersion;
  if (settings.phyVersion) out.lorawan_phy_version = settings.phyVersion;
  out.supports_join = true;
  const rootKeys: Record<string, unknown> = { app_key: { key: device.appKey } };
  if (device.nwkKey) rootKeys.nwk_key = { key: device.nwkKey };
  out.root_keys = rootKeys;
  return out;
}

export function ttsJsonLine(device: Device, settings: TtsSettings): string {
  return JSON.stringify(ttsJsonDevice(device, settings)) + '\n';
}
