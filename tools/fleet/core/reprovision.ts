/**
 * Re-provisioning after a hardware change (new DevEUI, JoinEUI or keys). Blynk keeps a
 * device's history when its metafields are edited instead of the device being recreated:
 * "TheThingsStack Device ID", "Device EUI", "Join EUI" and "Application Key" (reference
 * §3.5). Changing EUIs or the AppKey needs a new TTS device, and TTS ids and EUI pairs are
 * unique (§4.1), so this diff also finds the collisions that would otherwise surface as
 * `end_device_euis_taken`, a refused create, or Blynk picking one of two devices at random.
 */
import { csvHeaderLine, csvLine, type CsvColumn } from './csv-write.ts';
import type { Device } from './device.ts';

export type MatchBy = 'serial' | 'name' | 'deviceId' | 'devEui';

export const METAFIELDS = {
  deviceId: 'TheThingsStack Device ID',
  devEui: 'Device EUI',
  joinEui: 'Join EUI',
  appKey: 'Application Key',
} as const;
type Tracked = keyof typeof METAFIELDS;
const TRACKED: readonly Tracked[] = ['deviceId', 'devEui', 'joinEui', 'appKey'];

export interface MetafieldChange {
  metafield: (typeof METAFIELDS)[Tracked];
  from: string;
  to: string;
}

export type TtsAction =
  /** Create the new TTS device, point Blynk at it, then delete the old one. */
  | 'create-new'
  /** Same device id as before: delete the old TTS device first (that frees the id and EUIs), then create. */
  | 'delete-then-create';

export interface ReprovisionUpdate {
  key: string;
  oldLine: number;
  newLine: number;
  changes: MetafieldChange[];
  tts: TtsAction;
}

export type CollisionKind = 'duplicate-key' | 'new-id-shared' | 'id-held-by-other' | 'euis-held-by-other' | 'same-id';

export interface Collision {
  kind: CollisionKind;
  severity: 'error' | 'warning';
  /** Match keys of the devices involved. */
  keys: string[];
  message: string;
}

export interface ReprovisionPlan {
  matchBy: MatchBy;
  updates: ReprovisionUpdate[];
  unchanged: number;
  /** In the new file only: devices to create from scratch. */
  added: string[];
  /** In the old file only: no longer in the batch. */
  removed: string[];
  collisions: Collision[];
  ok: boolean;
}

const MATCH_LABEL: Record<MatchBy, string> = { serial: 'serial', name: 'device name', deviceId: 'TTS device id', devEui: 'DevEUI' };

/** Default match key: something that survives a hardware swap, when both files have it. */
export function chooseMatch(oldHas: (f: MatchBy) => boolean, newHas: (f: MatchBy) => boolean): MatchBy {
  for (const f of ['serial', 'name', 'deviceId'] as const) if (oldHas(f) && newHas(f)) return f;
  return 'devEui';
}

function keyOf(d: Device, by: MatchBy): string {
  return by === 'deviceId' && !d.deviceIdGiven ? '' : d[by];
}

function index(devices: readonly Device[], by: MatchBy, which: string, collisions: Collision[]): Map<string, Device> {
  const m = new Map<string, Device>();
  for (const d of devices) {
    const k = keyOf(d, by);
    if (!k) {
      collisions.push({ kind: 'duplicate-key', severity: 'error', keys: [], message: `${which} file line ${d.line} has no ${MATCH_LABEL[by]} to match on` });
      continue;
    }
    const prev = m.get(k);
    if (prev) {
      collisions.push({ kind: 'duplicate-key', severity: 'error', keys: [k], message: `${which} file lines ${prev.line} and ${d.line} share the ${MATCH_LABEL[by]} "${k}", so they cannot be matched` });
      continue;
    }
    m.set(k, d);
  }
  return m;
}

/** Compares the old and new batch and plans the metafield edits; pure. */
export function planReprovision(oldDevices: readonly Device[], newDevices: readonly Device[], matchBy: MatchBy): ReprovisionPlan {
  const collisions: Collision[] = [];
  const olds = index(oldDevices, matchBy, 'old', collisions);
  const news = index(newDevices, matchBy, 'new', collisions);
  const updates: ReprovisionUpdate[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  let unchanged = 0;

  for (const [key, n] of news) {
    const o = olds.get(key);
    if (!o) {
      added.push(key);
      continue;
    }
    const changes: MetafieldChange[] = [];
    for (const f of TRACKED) if (o[f] !== n[f]) changes.push({ metafield: METAFIELDS[f], from: o[f], to: n[f] });
    if (changes.length === 0) {
      unchanged++;
      continue;
    }
    const credentialsChanged = o.devEui !== n.devEui || o.joinEui !== n.joinEui || o.appKey !== n.appKey;
    const tts: TtsAction = credentialsChanged && o.deviceId === n.deviceId ? 'delete-then-create' : 'create-new';
    if (tts === 'delete-then-create') {
      collisions.push({
        kind: 'same-id', severity: 'warning', keys: [key],
        message: `${key}: the TTS device id stays ${n.deviceId} while its EUIs or key change; delete the old TTS device first (that frees the id), or give the new row its own id`,
      });
    }
    updates.push({ key, oldLine: o.line, newLine: n.line, changes, tts });
  }
  for (const key of olds.keys()) if (!news.has(key)) removed.push(key);

  // Where each new TTS device would land, and who holds those names today.
  const newById = new Map<string, string[]>();
  for (const [key, n] of news) newById.set(n.deviceId, [...(newById.get(n.deviceId) ?? []), key]);
  for (const [id, keys] of newById) {
    if (keys.length > 1) {
      collisions.push({
        kind: 'new-id-shared', severity: 'error', keys,
        message: `${keys.join(' and ')} would all use TTS device id ${id}; Blynk would pick one of them at random`,
      });
    }
  }
  const oldById = new Map<string, string>();
  const oldByPair = new Map<string, string>();
  for (const [key, o] of olds) {
    oldById.set(o.deviceId, key);
    oldByPair.set(o.joinEui + o.devEui, key);
  }
  for (const [key, n] of news) {
    const idOwner = oldById.get(n.deviceId);
    if (idOwner !== undefined && idOwner !== key) {
      const later = news.get(idOwner);
      collisions.push(heldByOther('id-held-by-other', key, idOwner, later, later?.deviceId === n.deviceId, `TTS device id ${n.deviceId}`));
    }
    const pair = n.joinEui + n.devEui;
    const pairOwner = oldByPair.get(pair);
    if (pairOwner !== undefined && pairOwner !== key) {
      const later = news.get(pairOwner);
      collisions.push(heldByOther('euis-held-by-other', key, pairOwner, later, later !== undefined && later.joinEui + later.devEui === pair, `JoinEUI ${n.joinEui} + DevEUI ${n.devEui}`));
    }
  }
  return { matchBy, updates, unchanged, added, removed, collisions, ok: !collisions.some((c) => c.severity === 'error') };
}

/**
 * A name the new device wants is held by another device's current TTS device. If that
 * device keeps it (or is gone from the new file, so its TTS device is still there), this
 * is a hard collision; if it moves away too, it is only a matter of order.
 */
function heldByOther(
  kind: 'id-held-by-other' | 'euis-held-by-other', key: string, owner: string,
  ownerNew: Device | undefined, ownerKeeps: boolean, what: string,
): Collision {
  if (!ownerNew) {
    return { kind, severity: 'error', keys: [key, owner], message: `${key} wants ${what}, which ${owner} still has in TTS (it is not in the new file); delete that TTS device first` };
  }
  return ownerKeeps
    ? { kind, severity: 'error', keys: [key, owner], message: `${key} wants ${what}, which ${owner} keeps` }
    : { kind, severity: 'warning', keys: [key, owner], message: `${key} wants ${what}, which ${owner} has today; delete ${owner}'s old TTS device before creating ${key}'s` };
}

interface PlanRow {
  u: ReprovisionUpdate;
  c: MetafieldChange;
}

const PLAN_COLUMNS: readonly CsvColumn<PlanRow>[] = [
  { header: 'match key', get: (r) => r.u.key, text: true },
  { header: 'old line', get: (r) => String(r.u.oldLine) },
  { header: 'new line', get: (r) => String(r.u.newLine) },
  { header: 'metafield', get: (r) => r.c.metafield },
  { header: 'old value', get: (r) => r.c.from },
  { header: 'new value', get: (r) => r.c.to },
  { header: 'tts action', get: (r) => r.u.tts },
];

/** The edits as CSV, one metafield per line, for whoever updates Blynk. */
export function planCsv(plan: ReprovisionPlan): string {
  let s = csvHeaderLine(PLAN_COLUMNS, ',');
  for (const u of plan.updates) for (const c of u.changes) s += csvLine(PLAN_COLUMNS, { u, c }, ',');
  return s;
}
