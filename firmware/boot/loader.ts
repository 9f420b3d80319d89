// The boot loader: the only code Espruino runs from .bootcde (see scripts/image.js for the image
// layout). It picks the image to start: the one the update record names (firmware/boot/record.ts)
// when that image is whole, else the one to go back to, else .bootcde itself. It checks the image's
// modules against the header's CRC and starts the core module, handing it the image file and its
// module table so the core can load the others (portal, cloud link, ...) only while their phase
// lasts. Everything here is local to one call, so after boot the loader holds no RAM (but for the
// trial timer while a new image is on trial).
//
// An image on trial (just updated to) gets TRIAL_BOOTS boots, each of at most TRIAL_MS, to reach
// the cloud (the "ota" module then confirms it); a boot that throws restarts at once. After that the
// loader goes back to the previous image by itself and leaves the report for it to send.
import { readRecord, writeRecord, eraseRecord, intactImage, TRIAL_BOOTS, TRIAL_MS, SLOT_A, SLOT_B } from "./record";

(function () {
  var S = require("Storage");
  var file = ".bootcde";
  var info = intactImage(S, file);
  var r = readRecord(S);
  var trial: any; // the trial timer; 0: a report waits for the cloud; undefined: neither
  if (r && info && r.b !== info.crc) {
    // a firmware flashed over USB since: the record is stale
    eraseRecord(S, r);
    r = undefined;
  }
  if (r && r.n >= 0) {
    if (r.n >= TRIAL_BOOTS || !intactImage(S, r.a || file)) {
      r.r = "Firmware update to " + r.v + " failed: it did not reach the cloud in " + TRIAL_BOOTS + " boots; back to " + r.f;
      print("Edgent: " + r.r);
      r.a = r.p;
      r.p = "";
      r.n = -1;
    } else {
      r.n++;
      print("Edgent: firmware " + r.v + " on trial, boot " + r.n + " of " + TRIAL_BOOTS);
    }
    // a write that fails (Storage full, a file torn by an earlier cut) must not stop the boot
    try {
      writeRecord(S, r);
    } catch (e) {
      print("Edgent: the update record could not be written: " + e);
    }
  }
  // what the record names, when whole; else the image to go back to
  var x = r && r.a ? intactImage(S, r.a) : undefined;
  if (!x && r && r.p) x = intactImage(S, (r.a = r.p));
  if (x) {
    file = r!.a;
    info = x;
  }
  // no Storage left over: a slot that no record names is a download cut short, or an old image
  if (file !== SLOT_A && (!r || r.p !== SLOT_A) && S.read(SLOT_A) !== undefined) S.erase(SLOT_A);
  if (file !== SLOT_B && (!r || r.p !== SLOT_B) && S.read(SLOT_B) !== undefined) S.erase(SLOT_B);
  if (!info) return print("Edgent: the firmware image in " + file + " is missing or damaged (CRC); flash it again");
  if (r && r.n >= 0) trial = setTimeout(E.reboot, TRIAL_MS);
  else if (r && r.r) trial = 0;
  var m = String(info.m).split(",");
  try {
    Modules.addCached("edgent", S.read(file, +m[1], +m[2]) as string);
    require("edgent").boot(file, info.m, trial);
  } catch (e) {
    print("Edgent: the firmware failed to start: " + e);
    if (trial) {
      // on trial: the next boot, once this one has finished (its count is written already)
      clearTimeout(trial);
      setTimeout(E.reboot, 500);
    }
  }
})();
