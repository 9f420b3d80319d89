/**
 * A tiny firmware (plain ES5: the entry is not type-checked) for the OTA tests on the simulator and on the real interpreter: firmware/ota's
 * downloader bound to Espruino's http.get and Storage (chunked Storage.write(name, chunk, offset,
 * size)), driven from the console:
 *   __ota.start(url, {name?, room?, prefer?, scheme?, connectMs?, idleMs?, native?})
 *   __ota.close()
 * It prints "@@OTA <result JSON>" once (with `base`: process.memory(false).usage when start() began,
 * `peak`: the highest usage seen after a chunk was written, `ms`: the time from start to the
 * outcome), or "@@OTA closed".
 * `native: true` checks SHA-256 with require("crypto") over the stored file (hash.ts stored()).
 */
import { bundleEntry, fw } from "./bundle.ts";

export interface DeviceBundleOptions {
  /** Wifi.connect(ssid, {password}) at boot, printing "@@WIFI <err>" (the simulator needs a link). */
  wifi?: { ssid: string; password: string };
}

export function otaEntry(o: DeviceBundleOptions = {}): string {
  return `
import { download } from ${fw("ota/download.ts")};
import { stored } from ${fw("ota/hash.ts")};
var S = require("Storage");
var d;
global.__ota = {
  start: function (url, o) {
    o = o || {};
    var name = o.name || "fw.new";
    var base = process.memory(false).usage;
    var peak = 0;
    var t0 = getTime();
    if (S.read(name) !== undefined) S.erase(name);
    d = download({
      url: url,
      get: require("http").get,
      write: function (c, off, size) {
        S.write(name, c, off, size);
        var u = process.memory(false).usage;
        if (u > peak) peak = u;
      },
      room: o.room !== undefined ? o.room : S.getFree(),
      now: function () { return Math.floor(getTime() * 1000); },
      toBuffer: E.toArrayBuffer,
      prefer: o.prefer,
      scheme: o.scheme,
      connectMs: o.connectMs,
      idleMs: o.idleMs,
      sha256: o.native ? function () {
        return stored(function () { return E.toString(require("crypto").SHA256(S.read(name))); });
      } : undefined,
      onDone: function (r) {
        d = undefined;
        r.base = base;
        r.peak = peak;
        r.ms = Math.round((getTime() - t0) * 1000);
        print("@@OTA " + JSON.stringify(r));
      }
    });
  },
  close: function () {
    if (d) d.close();
    d = undefined;
    print("@@OTA closed");
  }
};
${o.wifi ? `require("Wifi").connect(${JSON.stringify(o.wifi.ssid)}, { password: ${JSON.stringify(o.wifi.password)} }, function (e) { print("@@WIFI " + e); });` : ""}
`;
}

/** The test firmware as an Espruino bundle (built like the firmware, conformance-checked). */
export function otaBundle(o: DeviceBundleOptions = {}): Promise<string> {
  return bundleEntry(otaEntry(o));
}

/** The result printed by the device, parsed from its "@@OTA {...}" line. */
export function parseOtaLine(line: string): Record<string, unknown> & { ok: boolean } {
  return JSON.parse(line.slice(line.indexOf("{")));
}
