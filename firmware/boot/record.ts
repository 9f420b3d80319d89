// The update record: which stored firmware image the boot loader starts, kept power-safe.
//
// The image Espruino runs at boot is `.bootcde` (as flashed over USB); an update over the air never
// rewrites it (a cut while Espruino rewrites a file leaves no file at all, and then nothing boots).
// An update goes into one of two slot files (SLOT_A, SLOT_B: the one not running) and is switched to
// by writing a new record, which names the image to start. The record is written like the
// configuration (core/config.ts): two alternating files, each "CRC-32 in 8 hex digits + JSON", the
// valid one with the higher sequence number wins, so a cut during the write of a record leaves the
// previous record in charge: the switch happens whole or not at all.
//
// Shared by the boot loader (firmware/boot/loader.ts: reads it, counts trial boots, rolls back) and
// the "ota" module (firmware/ota/update.ts: writes the switch, confirms or reports); the core holds
// none of it.

/** What the loader does with an image on trial: boots it at most TRIAL_BOOTS times ... */
export const TRIAL_BOOTS = 3;
/** ... each time for at most TRIAL_MS to reach the cloud before it restarts. */
export const TRIAL_MS = 180000;

export const REC = "edgent.upd";
export const SLOT_A = "edgent.img1";
export const SLOT_B = "edgent.img2";

export interface UpdateRecord {
  /** sequence number: the record goes to REC + (q % 2) */
  q: number;
  /** the CRC in the header of the `.bootcde` this record was made beside; another one (a new
   * firmware flashed over USB) makes the record stale and the loader ignores it */
  b: number;
  /** the image to start: a slot file, "" for .bootcde */
  a: string;
  /** the image to go back to while `a` is on trial ("" .bootcde) */
  p: string;
  /** boots of `a` on trial so far; -1 once it reached the cloud (confirmed) */
  n: number;
  /** versions: the one updated from and the one updated to */
  f: string;
  v: string;
  /** what to report (sys_ota event, log) at the next cloud login; "" nothing */
  r: string;
}

/** Storage's read/write/erase as the loader and the ota module have them. */
export interface RecordFiles {
  read(name: string, offset?: number, length?: number): string | undefined;
  write(name: string, data: string, offset?: number, size?: number): any;
  erase(name: string): void;
}

function hex8(n: number): string {
  return ("0000000" + (n >>> 0).toString(16)).substr(-8);
}

/** The newest valid record, or undefined (none, or both torn). A torn record file is erased. */
export function readRecord(S: RecordFiles): UpdateRecord | undefined {
  var best: UpdateRecord | undefined;
  for (var i = 0; i < 2; i++) {
    var t = S.read(REC + i);
    if (t === undefined) continue;
    var r: any = undefined;
    var json = t.substr(8);
    if (t.substr(0, 8) === hex8(E.CRC32(json)))
      try {
        r = JSON.parse(json);
      } catch (e) {}
    if (r && typeof r.q === "number") {
      if (!best || r.q > best.q) best = r;
    } else S.erase(REC + i); // a write cut short: the other file holds the record in charge
  }
  return best;
}

/** Writes `r` as the newest record (its q goes up by one), into the file not holding the current one. */
export function writeRecord(S: RecordFiles, r: UpdateRecord): void {
  r.q++;
  var json = JSON.stringify(r);
  S.write(REC + (r.q % 2), hex8(E.CRC32(json)) + json);
}

/** Forgets the record: the older file first, so a cut between the two leaves the newer one in charge. */
export function eraseRecord(S: RecordFiles, r: UpdateRecord): void {
  for (var i = 1; i >= 0; i--) if (S.read(REC + ((r.q + i) % 2)) !== undefined) S.erase(REC + ((r.q + i) % 2));
}

/**
 * The header of the image in `file` ({fw, board, m, crc, len, ...}) when the image is whole: its
 * header parses and its modules match the header's CRC. Undefined otherwise.
 */
export function intactImage(S: RecordFiles, file: string): any {
  var h = S.read(file, 0, 700) || "";
  var end = h.indexOf("\n") - 2; // the header's "*" "/" and its line end (JSON has no raw line break)
  var info: any;
  try {
    info = JSON.parse(h.substr(10, end - 10));
  } catch (e) {}
  if (h.substr(0, 10) !== "/*EDGENT1 " || !info) return undefined;
  var m = String(info.m).split(",");
  var first = +m[1];
  var last = m.length - 3;
  return E.CRC32(S.read(file, first, +m[last + 1] + +m[last + 2] + 1 - first) as string) === info.crc ? info : undefined;
}
