// The boot loader: the only code Espruino runs from .bootcde (see scripts/image.js for the image
// layout). It reads the image's header, checks the modules against the header's CRC and starts the
// core module, handing it the image file and its module table so the core can load the others
// (portal, cloud link, ...) only while their phase lasts. Everything here is local to one call, so
// after boot the loader holds no RAM.


(function () {
  var S = require("Storage");
  var file = ".bootcde";
  var h = S.read(file, 0, 700) || "";
  var end = h.indexOf("*/");
  var info: any;
  try {
    info = JSON.parse(h.substr(10, end - 10));
  } catch (e) {}
  if (h.substr(0, 10) !== "/*EDGENT1 " || !info) return print("Edgent: no firmware image header in " + file);
  var m = String(info.m).split(",");
  var first = +m[1];
  var last = m.length - 3;
  if (E.CRC32(S.read(file, first, +m[last + 1] + +m[last + 2] + 1 - first) as string) !== info.crc) return print("Edgent: the firmware image in " + file + " is damaged (CRC); flash it again");
  Modules.addCached("edgent", S.read(file, first, +m[2]) as string);
  require("edgent").boot(file, info.m);
})();
