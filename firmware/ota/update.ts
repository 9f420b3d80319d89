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
// receive(): the setup portal's /update (Edgent's local upload, behind the setup code when the build
// has one): a form to pick the file, and its upload written to the slot as it arrives, then the
// same checks and switch as a download.
import { download, DownloadResult } from "./download";
import { stored } from "./hash";
import { Kernel, Ev, Phase } from "../kernel";
import { Cmd } from "../cloud/codec";
import type { Send } from "../cloud/api";
import { readRecord, writeRecord, eraseRecord, intactImage, UpdateRecord, SLOT_A, SLOT_B } from "../boot/record";

/** Bytes of Storage left free beside a new image, for the configuration's own writes. */
const ROOM_MARGIN = 4096;
const CODE_LOCK_MS = 30000; // after 5 wrong setup codes (as the portal's /config)
const MAX_PART_HEAD = 1024; // a multipart part's headers, and a form field's value

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

/**
 * Checks the downloaded image and writes the switch to it (""), or erases it and records why not
 * (for the report at the next login; a local upload, `local`, was answered already).
 */
function finish(K: Kernel, res: DownloadResult, file: string, target: string, local?: boolean): string {
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
      K.log("Firmware update failed: " + err);
      if (local) return err;
      r.r = "Firmware update failed: " + err;
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
 * nothing left to say is erased. Without `send` (a device not set up yet, whose new image opened
 * the setup portal: it can reach no cloud) it confirms only, and the report waits for a login.
 */
export function settle(K: Kernel, send: Send | undefined, trial: number): void {
  var S = require("Storage");
  var r = readRecord(S);
  if (!r) return;
  var old = "";
  var confirm = r.n >= 0;
  if (confirm) {
    if (trial > 0) clearTimeout(trial);
    old = r.p;
    r.n = -1;
    r.p = "";
    r.r = "Firmware updated from " + r.f + " to " + r.v;
  }
  if (!send) {
    if (confirm) writeRecord(S, r);
    if (old && S.read(old) !== undefined) S.erase(old);
    return;
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

/** The slot an update goes to, emptied, and the bytes it may take (beside the running image `file`). */
function slot(file: string): [string, number] {
  var S = require("Storage");
  var target = file === SLOT_A ? SLOT_B : SLOT_A;
  if (S.read(target) !== undefined) S.erase(target);
  var st = S.getStats();
  return [target, st.freeBytes + st.trashBytes - ROOM_MARGIN];
}

/**
 * /update of the setup portal. GET: a form (file, and the setup code when the build has one). POST:
 * multipart/form-data with the file in any field (Edgent's form names it "update"), or the file as
 * the whole body (curl --data-binary); the setup code as form field `code` before the file, query
 * `?code=`, or header X-Setup-Code, with the portal's lock after 5 wrong codes (`st`). The file is
 * written to the update slot as it arrives (RAM holds a chunk and a delimiter's length) and checked
 * and switched to as a download is; the core hears the outcome as Ev.OTA_END.
 */
export function receive(k: Kernel, req: EspHttpReq, res: EspHttpRes, send: (res: EspHttpRes, code: number, type: string, body: string) => void, st: { w: number; u: number }): void {
  var S = require("Storage");
  var h: { [n: string]: string } = {};
  for (var n in req.headers) h[n.toLowerCase()] = req.headers[n];
  var url = req.url || "";
  var q = url.indexOf("?") < 0 ? "" : "&" + url.substr(url.indexOf("?") + 1);
  var m = /&code=([^&]*)/.exec(q);
  var code = h["x-setup-code"] || (m ? m[1].replace(/\+/g, " ").replace(/%([0-9a-fA-F][0-9a-fA-F])/g, function (x: string, c: string) { return String.fromCharCode(parseInt(c, 16)); }) : "");
  var file = k.ev(Ev.OTA); // the running image
  var target = "";
  var room = 0;
  var size = parseInt(h["content-length"], 10) || 0;
  var ct = h["content-type"] || "";
  var bi = ct.indexOf("boundary=");
  // the delimiter before each part ("\r\n" is put before the body, so the first one has it too)
  var D = "";
  if (bi > 0 && ct.substr(bi, 9) === "boundary=" && ct.substr(0, 19).toLowerCase() === "multipart/form-data") {
    D = ct.substr(bi + 9).split(";")[0].trim();
    if (D.charAt(0) === '"') D = D.substr(1, D.length - 2);
    D = "\r\n--" + D;
  }
  var b = D ? "\r\n" : "";
  var phase = D ? 0 : 3; // 0 before a delimiter, 1 a part's headers, 2 a form field, 3 the file, 4 done
  var field = "";
  var value = "";
  var got = 0;
  var over = 0;

  function answer(status: number, text: string): void {
    over = 1;
    if (target && S.read(target) !== undefined) S.erase(target);
    send(res, status, "text/plain", text + "\n");
    k.dr("ota");
  }

  /** Where `x` starts in b from `at` (Espruino 2v29's indexOf also "finds" a needle that only begins at b's end). */
  function find(x: string, at: number): number {
    var i = b.indexOf(x, at);
    return i >= 0 && b.substr(i, x.length) === x ? i : -1;
  }

  /** Before the file's first byte: the setup code, and the slot. False when refused (answered). */
  function begin(): boolean {
    if (__BUILD__.setupCode) {
      var t = k.now();
      if (t < st.u) return answer(429, "Too many wrong setup codes; wait 30 seconds"), false;
      if (code !== __BUILD__.setupCode) {
        if (++st.w >= 5) {
          st.w = 0;
          st.u = t + CODE_LOCK_MS;
        }
        return answer(403, "Setup code is missing or wrong (it is printed on the device label)"), false;
      }
      st.w = 0;
    }
    var r = slot(file);
    target = r[0];
    room = r[1];
    if (size > room) return answer(413, "Firmware update failed: Storage full: " + size + " bytes needed, " + room + " free"), false;
    k.log("Update: receiving " + size + " bytes");
    return true;
  }

  function write(x: string): void {
    if (!x.length) return;
    S.write(target, x, got, size);
    got += x.length;
  }

  /** Takes what arrived (`d`), or the end (no `d`). */
  function take(d?: string): void {
    if (over) return;
    if (d === undefined) {
      if (phase === 3 && !D) return end();
      if (phase !== 4) return answer(400, "The upload ended early (" + got + " of about " + size + " bytes)");
      if (!target) return answer(400, "No file in the upload");
      return end();
    }
    b += d;
    try {
      for (;;) {
        if (phase === 0 || phase === 2 || phase === 3) {
          var i = D ? find(D, 0) : -1;
          // all but what may be the start of a delimiter is the part's content
          var cut = i >= 0 ? i : D ? Math.max(0, b.length - D.length - 1) : b.length;
          var x = b.substr(0, cut);
          if (phase === 3) write(x);
          else if (phase === 2 && (value += x).length > MAX_PART_HEAD) return answer(400, "Form field " + field + " is too long");
          if (i < 0) {
            b = b.substr(cut);
            return;
          }
          if (phase === 2 && field === "code") code = value;
          if (b.length < i + D.length + 2) {
            b = b.substr(i); // the delimiter, and what follows it once it is in
            return;
          }
          var after = b.substr(i + D.length, 2);
          b = b.substr(i + D.length + 2);
          if (after === "--") {
            phase = 4;
            b = "";
            return;
          }
          phase = 1;
        } else if (phase === 1) {
          var e = find("\r\n\r\n", 0);
          if (e < 0) {
            if (b.length > MAX_PART_HEAD) return answer(400, "A part's headers are over " + MAX_PART_HEAD + " bytes");
            return;
          }
          var head = b.substr(0, e);
          b = b.substr(e + 4);
          var fm = /name="([^"]*)"/.exec(head);
          field = fm ? fm[1] : "";
          value = "";
          if (/filename=/.test(head) && !target) {
            if (!begin()) return;
            phase = 3;
          } else phase = 2;
        } else return; // after the last delimiter: nothing more to read
      }
    } catch (err) {
      answer(500, "Firmware update failed: write failed at " + got + " bytes: " + err);
    }
  }

  function end(): void {
    over = 1;
    var err = finish(k, { ok: true } as any, file, target, true);
    send(res, err ? 400 : 200, "text/plain", (err ? "Firmware update failed: " + err : "Update Success. Rebooting") + "\n");
    k.ev(Ev.OTA_END, err);
  }

  if (req.method !== "POST") {
    k.dr("ota");
    return send(
      res,
      200,
      "text/html",
      '<!DOCTYPE html><meta name="viewport" content="width=device-width"><title>Firmware update</title><h3>Firmware update</h3>' +
        '<form method="POST" action="/update" enctype="multipart/form-data">' +
        (__BUILD__.setupCode ? '<p>Setup code <input type="password" name="code"></p>' : "") +
        '<p><input type="file" name="update" accept=".js"></p><p><input type="submit" value="Update"></p></form>'
    );
  }
  if (k.ev(Ev.JOINED)) return answer(409, "Refused while the device is joined to a WiFi network; see /status.json");
  if (!size) return answer(411, "The upload needs a Content-Length");
  if (!D && !begin()) return;
  req.on("data", take);
  req.on("end", function () {
    take();
  });
  req.on("close", function () {
    if (!over) answer(400, "The upload ended early (" + got + " bytes)");
  });
}
