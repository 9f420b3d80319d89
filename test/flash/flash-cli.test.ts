// `npm run flash` as a user runs it, for what needs no board: the dry run's steps and the argument
// errors. flash-cli.e2e.ts runs it against a fake Espruino telnet console through the real espruino CLI.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFlash } from "./run-flash.ts";
import { REAL_DIST, dist, NODEMCU, PLANT, writeRecord, useSampleDist, assertOneLineError } from "./sample-dist.ts";

const PROBE = `-e 'print("@@"+"EDGENT"+JSON.stringify(((function(){var S=require("Storage"),t=S.getStats?S.getStats():{totalBytes:0,freeBytes:S.getFree(),trashBytes:0},n=[".bootcde"],c={};n.forEach(function(f){var d=S.read(f);c[f]=d===undefined?-1:d.length});return {b:process.env.BOARD,v:process.env.VERSION,t:t.totalBytes,f:t.freeBytes,x:t.trashBytes,c:c}})())))'`;
const VERIFY = (len: number, crc: number) => `(function(){var S=require("Storage"),x={".bootcde":[${len},${crc}]},r={},ok=1;for(var n in x){var d=S.read(n);r[n]=d===undefined?null:[d.length,E.CRC32?E.CRC32(d):x[n][1]];if(!r[n]||r[n][0]!=x[n][0]||r[n][1]!=x[n][1])ok=0}print("@@"+"EDGENT"+JSON.stringify({ok:ok,r:r}));})();`;

describe("npm run flash --dry-run", function () {
  this.timeout(60_000);
  useSampleDist();

  it("prints the exact steps for nodemcu and opens no port", async () => {
    const r = await runFlash(["--board", "nodemcu", "--port", "/dev/ttyUSB0", "--dist", dist, "--dry-run"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.replaceAll(dist, "<dist>"), [
      "flash nodemcu (NodeMCU v3 (ESP-12E/F), ESP8266) on /dev/ttyUSB0 at 115200 baud: dry run, no port is opened",
      "1. bundle  <dist>/nodemcu.js: 25 bytes (--dist: never rebuilt)",
      '          identity: template TMPL4abc123 "Plant Monitor", firmware 1.2.3, setup code none, telnet off',
      `2. probe   espruino -p /dev/ttyUSB0 -b 115200 --no-ble --board board.json --config SERIAL_THROTTLE_SEND=1 ${PROBE}`,
      "          then: process.env.BOARD must be an Espruino build for ESP8266 (ESP8266_4MB or ESP8266_BOARD)",
      "          then: Storage must have room for .bootcde (25 bytes) plus 2,048 bytes for the config",
      "3. write   espruino -p /dev/ttyUSB0 -b 115200 --no-ble --board board.json --config SERIAL_THROTTLE_SEND=1 --storage .bootcde:file0 program.js",
      "          sends reset(), then:",
      '          .bootcde <- file0: 25 bytes, CRC32 65c3e3a3, sent as 1 require("Storage").write() chunk',
      "          then program.js:",
      '            require("Storage").erase(".wificfg");',
      '            require("Storage").erase("edgent.upd0");',
      '            require("Storage").erase("edgent.upd1");',
      '            require("Storage").erase("edgent.img1");',
      '            require("Storage").erase("edgent.img2");',
      "            " + VERIFY(25, 0x65c3e3a3),
      "4. console espruino -p /dev/ttyUSB0 -b 115200 --no-ble --board board.json",
      "          types load() once connected, then streams the console until Ctrl-C (reconnects if the link drops)",
      "",
    ].join("\n"));
  });

  it("prints the exact steps for esp32-devkitc with config and token erased and a reboot", async () => {
    const r = await runFlash(["--board", "esp32-devkitc", "--port", "COM3", "--dist", dist, "--dry-run", "--erase-config", "--erase-token", "--restart", "reboot", "--no-console"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.replaceAll(dist, "<dist>"), [
      "flash esp32-devkitc (ESP32 DevKitC / DevKit V1, ESP32) on COM3 at 115200 baud: dry run, no port is opened",
      "1. bundle  <dist>/esp32-devkitc.js: 31 bytes (--dist: never rebuilt)",
      "          identity: unknown (no esp32-devkitc.build.json beside the bundle)",
      `2. probe   espruino -p COM3 -b 115200 --no-ble --board board.json --config SERIAL_THROTTLE_SEND=1 ${PROBE}`,
      "          then: process.env.BOARD must be an Espruino build for ESP32 (ESP32 or ESP32_IDF4)",
      "          then: Storage must have room for .bootcde (31 bytes) plus 2,048 bytes for the config",
      "3. write   espruino -p COM3 -b 115200 --no-ble --board board.json --config SERIAL_THROTTLE_SEND=1 --storage .bootcde:file0 program.js",
      "          sends reset(), then:",
      '          .bootcde <- file0: 31 bytes, CRC32 72dcdaeb, sent as 1 require("Storage").write() chunk',
      "          then program.js:",
      '            require("Storage").erase(".wificfg");',
      '            require("Storage").erase("edgent.upd0");',
      '            require("Storage").erase("edgent.upd1");',
      '            require("Storage").erase("edgent.img1");',
      '            require("Storage").erase("edgent.img2");',
      '            require("Storage").erase("edgent.cfg0");',
      '            require("Storage").erase("edgent.cfg1");',
      '            require("Storage").erase("edgent.token");',
      "            " + VERIFY(31, 0x72dcdaeb),
      `4. restart espruino -p COM3 -b 115200 --no-ble --board board.json --config SERIAL_THROTTLE_SEND=1 -e 'print("@@"+"EDGENT"+"{}");E.reboot()'`,
      "",
    ].join("\n"));
  });

  it("keeps the token when only the config is erased", async () => {
    const r = await runFlash(["--board", "nodemcu", "--port", "/dev/ttyUSB0", "--dist", dist, "--dry-run", "--erase-config"]);
    assert.match(r.stdout, /erase\("edgent\.cfg0"\)[\s\S]*erase\("edgent\.cfg1"\)/);
    assert.doesNotMatch(r.stdout, /edgent\.token/);
  });

  it("says a C3 bundle needs Espruino's ESP32-C3 build", async () => {
    const r = await runFlash(["--board", "esp32-c3-devkitm", "--port", "/dev/ttyUSB0", "--dist", dist, "--dry-run"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^flash esp32-c3-devkitm \(ESP32-C3-DevKitM-1, ESP32-C3\) on/);
    assert.match(r.stdout, /then: process\.env\.BOARD must be an Espruino build for ESP32-C3 \(ESP32C3_IDF4\)\n/);
  });

  it("warns, with a hint, when the bundle carries the placeholder identity of edgent.config.json", async () => {
    const own = mkdtempSync(join(tmpdir(), "flash-test-placeholder-"));
    try {
      writeFileSync(join(own, "nodemcu.js"), NODEMCU);
      writeRecord(own, "nodemcu", { ...PLANT, templateId: "TMPL4xxxxxxxx", templateName: "My Device" });
      const r = await runFlash(["--board", "nodemcu", "--port", "/dev/ttyUSB0", "--dist", own, "--dry-run"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\nwarning: the identity is still the placeholder of edgent\.config\.json \(template TMPL4xxxxxxxx "My Device"\); the Blynk app will not match it to your template\n {2}hint: set BLYNK_TEMPLATE_ID and BLYNK_TEMPLATE_NAME .* in edgent\.config\.json or the environment\n2\. probe/);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
    const real = await runFlash(["--board", "nodemcu", "--port", "/dev/ttyUSB0", "--dist", dist, "--dry-run"]);
    assert.doesNotMatch(real.stdout, /placeholder/, "a real template id gets no warning");
  });

  it("shows that a setup code is compiled in, never the code", async () => {
    const own = mkdtempSync(join(tmpdir(), "flash-test-code-"));
    try {
      writeFileSync(join(own, "nodemcu.js"), NODEMCU);
      writeRecord(own, "nodemcu", { ...PLANT, setupCode: "Qx7-lamp-42k9" });
      const r = await runFlash(["--board", "nodemcu", "--port", "/dev/ttyUSB0", "--dist", own, "--dry-run"], undefined, { EDGENT_SETUP_CODE: "Qx7-lamp-42k9" });
      assert.match(r.stdout, /identity: template TMPL4abc123 "Plant Monitor", firmware 1\.2\.3, setup code set \(not shown\), telnet off/);
      assert.doesNotMatch(r.stdout + r.stderr, /Qx7-lamp-42k9/);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it("rebuilds dist/<board>.js when the environment names another template, and shows the identity it would flash", async function () {
    // Needs the repository's own dist/ with its build record (npm test builds it first).
    if (!existsSync(join(REAL_DIST, "nodemcu.build.json"))) return this.skip();
    const env = { BLYNK_TEMPLATE_ID: "TMPLenvOnly1", BLYNK_TEMPLATE_NAME: "Env Lamp", EDGENT_SETUP_CODE: "Qx7-lamp-42k9" };
    const r = await runFlash(["--board", "nodemcu", "--port", "/dev/ttyUSB0", "--dry-run"], undefined, env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\n1\. build {3}BOARD=nodemcu npx rollup -c rollup\.config\.js {3}\(dist\/nodemcu\.js was built with BLYNK_TEMPLATE_ID "TMPL\w+", not "TMPLenvOnly1"\)\n/);
    assert.match(r.stdout, /\n {10}identity: template TMPLenvOnly1 "Env Lamp", firmware \S+, setup code set \(not shown\), telnet off\n/);
    assert.doesNotMatch(r.stdout + r.stderr, /Qx7-lamp-42k9|placeholder/);
  });
});

describe("npm run flash argument errors", function () {
  this.timeout(60_000);
  useSampleDist();

  it("an unknown board lists the valid ones and exits 2", async () => {
    const r = await runFlash(["--board", "esp8266-nope", "--port", "/dev/ttyUSB0"]);
    assert.equal(r.code, 2);
    assertOneLineError(r, /^flash: unknown board "esp8266-nope"$/, /^ {2}hint: valid boards: .*esp32-devkitc, esp32-wrover-kit, nodemcu, wemos-d1-mini/);
  });

  it("a missing --port says how to name one", async () => {
    const r = await runFlash(["--board", "nodemcu", "--dist", dist]);
    assert.equal(r.code, 2);
    assertOneLineError(r, /^flash: --port is missing$/, /tcp:\/\/<host>:23/);
  });

  it("a --dist folder without the board's bundle points at --dist", async () => {
    const r = await runFlash(["--board", "wemos-d1-mini", "--port", "/dev/ttyUSB0", "--dist", dist, "--no-build"]);
    assert.equal(r.code, 2);
    assertOneLineError(r, /^flash: --dist \S+ holds no wemos-d1-mini\.js$/, /^ {2}hint: pass the folder that holds wemos-d1-mini\.js, or leave --dist out to use \(and build\) dist\/$/);
  });

  it("a --dist folder that does not exist says so", async () => {
    const r = await runFlash(["--board", "nodemcu", "--port", "/dev/ttyUSB0", "--dist", "/nope"]);
    assert.equal(r.code, 2);
    assertOneLineError(r, /^flash: --dist \/nope: no such folder$/, /^ {2}hint: pass the folder that holds nodemcu\.js/);
  });
});
