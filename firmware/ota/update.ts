// Module "ota": a firmware update over the air (Blynk.Air), loaded by the core only while an update
// runs and once after a boot that has something to confirm or report.
//
// start(): downloads the new image (./download.ts: HTTP 200, Content-Length, x-sha256 / x-md5, the
// body written to Storage chunk by chunk as it comes) into the update slot the running image is not
// in, checks that it is a whole Edgent image for this board, then switches to it by writing the
// update record (firmware/boot/record.ts) and restarts. Until that record is written the running
// image stays the one that boots; any failure erases the slot and leaves the report in the record.
// settle(): at the first cloud login after a boot, confirms an image on trial (the loader then
// stops counting its boots) and reports what the record holds: "Firmware updated from X to Y", a
// failed download, or a rollback, as Blynk's Edgent does with the sys_ota event.
import { download, DownloadResult } from "./download";
import { stored } from "./hash";
import { Kernel, Ev, Phase } from "../kernel";
import { Cmd } from "../cloud/codec";
import type { Send } from "../cloud/api";
import { readRecord, writeRecord, eraseRecord, intactImage, UpdateRecord, SLOT_A, SLOT_B } from "../boot/record";

/** Bytes of Storage left free beside a new image, for the configuration's own writes. */
const ROOM_MARGIN = 4096;

/**
 * Starts the update from `url` beside the running image `file`. The outcome comes to the core as
 * Ev.OTA_END with "" (the switch is made: restart) or the reason it failed (nothing switched).
 */
export function start(K: Kernel, url: string, file: string): Phase {
  var S = require("Storage");
  var target = file === SLOT_A ? SLOT_B : SLOT_A;
  if (S.read(target) !== undefined) S.erase(target);
  var st = S.getStats();
  var sha: any;
  var C: any; // outside the try: Espruino 2v29 forgets a var declared inside a try block after it
  try {
    C = require("crypto");
    // where the build has a native SHA-256 (ESP32), it checks the stored file in place at the end
    if (C && C.SHA256)
      sha = function () {
        return stored(function () {
          return E.toString(C.SHA256(S.read(target)));
        });
      };
  } catch (e) {}
  K.log("Firmware update URL: " + url);
  var d: any = download({
    url: url,
    get: require("http").get,
    write: function (chunk: string, at: number, size: number) {
      S.write(target, chunk, at, size);
    },
    room: st.freeBytes + st.trashBytes - ROOM_MARGIN,
    now: K.now,
    toBuffer: E.toArrayBuffer,
    // as Blynk's Edgent for ESP8266: plain HTTP (Espruino has no TLS there)
    scheme: __BUILD__.chip === "ESP8266" ? "http" : undefined,
    sha256: sha,
    onDone: function (res: DownloadResult) {
      d = undefined;
      K.ev(Ev.OTA_END, finish(K, res, file, target));
    },
  });
  return {
    close: function () {
      if (!d) return;
      d.close();
      d = undefined;
      if (S.read(target) !== undefined) S.erase(target);
    },
  };
}

/** Checks the downloaded image and writes the switch to it (""), or erases it and records why not. */
function finish(K: Kernel, res: DownloadResult, file: string, target: string): string {
  var S = require("Storage");
  var run = intactImage(S, file) || {};
  var info: any;
  var err = "";
  if (!res.ok) {
    err = res.message;
    // a board whose Storage holds two images (ESP8266: 192 KB) has no room for a third
    if (res.code === "room" && file !== ".bootcde") err += "; this board has room for the firmware flashed over USB and one update only: flash the new firmware over USB";
  }
  else if (!(info = intactImage(S, target))) err = "the file is not a whole Edgent firmware image";
  else if (info.board !== __BUILD__.board) err = "the firmware is built for " + info.board + ", this device is " + __BUILD__.board;
  else if (info.crc === run.crc) err = "firmware " + info.fw + " is running already";
  var r: UpdateRecord = readRecord(S) || { q: 0, b: (intactImage(S, ".bootcde") || {}).crc, a: "", p: "", n: -1, f: "", v: "", r: "" };
  try {
    if (err) {
      if (S.read(target) !== undefined) S.erase(target);
      r.r = "Firmware update failed: " + err;
      K.log(r.r);
    } else {
      r.p = r.a;
      r.a = target;
      r.n = 0;
      r.f = run.fw;
      r.v = info.fw;
      r.r = "";
      K.log("=== Update successfully completed. Rebooting.");
    }
    writeRecord(S, r);
  } catch (e) {
    // Storage full while writing the record: the old record still names the running image
    err = err || "the update record could not be written: " + e;
    if (S.read(target) !== undefined) S.erase(target);
  }
  return err;
}

/**
 * At a cloud login: confirms an image on trial (its trial timer `trial` cleared) and sends what the
 * record has to report, once: the record is rewritten before the event goes out. A record with
 * nothing left to say is erased.
 */
export function settle(K: Kernel, send: Send, trial: number): void {
  var S = require("Storage");
  var r = readRecord(S);
  if (!r) return;
  var old = "";
  if (r.n >= 0) {
    if (trial > 0) clearTimeout(trial);
    old = r.p;
    r.n = -1;
    r.p = "";
    r.r = "Firmware updated from " + r.f + " to " + r.v;
  }
  var text = r.r;
  if (!text && r.a) return;
  r.r = "";
  if (r.a) writeRecord(S, r);
  else eraseRecord(S, r);
  if (old && S.read(old) !== undefined) S.erase(old);
  if (!text) return;
  K.log(text);
  send(Cmd.EVENT_LOG, "sys_ota\x00" + text);
}
