// `npm run flash` as a user runs it: the real CLI process, the real espruino CLI underneath, and a
// fake Espruino telnet console (or nothing) at the other end. No hardware.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeEspruino } from "./fake-espruino.ts";
import { runFlash, type Run } from "./run-flash.ts";
import { buildRecord } from "../../scripts/identity.js";

const REAL_DIST = new URL("../../dist/", import.meta.url).pathname;

let dist: string;
const NODEMCU = 'print("nodemcu sample");\n';
const ESP32 = 'print("esp32-devkitc sample");\n';
const C3 = 'print("esp32-c3-devkitm sample");\n';
const PLANT = { templateId: "TMPL4abc123", templateName: "Plant Monitor", firmwareVersion: "1.2.3", setupCode: "", telnet: "off" };

/** A build record as the build writes it beside a bundle. */
function writeRecord(dir: string, board: string, id: Parameters<typeof buildRecord>[0]): void {
  writeFileSync(join(dir, `${board}.build.json`), JSON.stringify(buildRecord(id)));
}

/** A dist-like folder with small sample bundles, for the duration of one describe block. */
function useSampleDist(): void {
  before(() => {
    dist = mkdtempSync(join(tmpdir(), "flash-test-dist-"));
    writeFileSync(join(dist, "nodemcu.js"), NODEMCU);
    writeRecord(dist, "nodemcu", PLANT);
    writeFileSync(join(dist, "esp32-devkitc.js"), ESP32);
    writeFileSync(join(dist, "esp32-c3-devkitm.js"), C3);
  });
  after(() => rmSync(dist, { recursive: true, force: true }));
}

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

describe("npm run flash errors", function () {
  this.timeout(60_000);
  useSampleDist();

  /** One line of error, one line of hint, no stack trace. */
  function assertOneLineError(r: Run, message: RegExp, hint: RegExp): void {
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0], message);
    assert.match(lines[1], hint);
    assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
  }

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

  it("a port that does not exist is 'no such port' with the ports there are", async () => {
    const r = await runFlash(["--board", "nodemcu", "--port", "/dev/ttyNOPE", "--dist", dist]);
    assert.equal(r.code, 1);
    assertOneLineError(r, /^flash: no such port \/dev\/ttyNOPE$/, /^ {2}hint: (serial ports found: |no serial ports found: plug the board in)/);
  });

  it("a tcp:// target where nothing listens is 'board not answering: connection refused'", async () => {
    const fake = new FakeEspruino();
    const port = await fake.start();
    await fake.close(); // a port that was just free
    const r = await runFlash(["--board", "nodemcu", "--port", `tcp://127.0.0.1:${port}`, "--dist", dist]);
    assert.equal(r.code, 1);
    assertOneLineError(r, new RegExp(`^flash: board not answering at tcp://127\\.0\\.0\\.1:${port}: connection refused$`), /telnet console/);
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

  it("an IPv6 address where nothing listens is 'connection refused' (the espruino CLI itself cannot parse it)", async function () {
    const probe = net.createServer();
    const hasIpv6 = await new Promise<boolean>((res) => probe.once("error", () => res(false)).listen(0, "::1", () => res(true)));
    if (!hasIpv6) return this.skip();
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((res) => probe.close(res));
    const r = await runFlash(["--board", "nodemcu", "--port", `tcp://[::1]:${port}`, "--dist", dist]);
    assert.equal(r.code, 1);
    assertOneLineError(r, new RegExp(`^flash: board not answering at tcp://\\[::1\\]:${port}: connection refused$`), /telnet console/);
  });

  it("a device node the espruino CLI does not list as a serial port: the ports it lists and a USB hint, not udev", async function () {
    if (process.platform !== "linux") return this.skip();
    // A udevadm that knows no devices, as in a container: the CLI lists nothing, but udev is installed.
    const bin = mkdtempSync(join(tmpdir(), "flash-test-udevadm-"));
    writeFileSync(join(bin, "udevadm"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    try {
      const r = await runFlash(["--board", "nodemcu", "--port", "/dev/null", "--dist", dist], undefined, { PATH: bin });
      assert.equal(r.code, 1);
      assertOneLineError(r, /^flash: the espruino CLI does not list \/dev\/null as a serial port$/,
        /^ {2}hint: it lists no serial ports at all; a board appears as a USB serial adapter .*CP210x or CH340\)$/);
      assert.doesNotMatch(r.stderr, /udev/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  for (const wrong of [
    {
      name: "an ESP8266 bundle is refused on an ESP32", board: "nodemcu", runs: "ESP32",
      error: /nodemcu\.js \(NodeMCU v3 \(ESP-12E\/F\)\) is built for ESP8266, but the board on tcp:.* runs Espruino for ESP32 \(process\.env\.BOARD is ESP32\)$/,
      hint: /^ {2}hint: flash an ESP32 bundle instead \(--board esp32-devkitc or --board esp32-wrover-kit\), or check that --port is the board you mean$/,
    },
    {
      name: "an ESP32-C3 bundle is refused on a classic ESP32", board: "esp32-c3-devkitm", runs: "ESP32_IDF4",
      error: /esp32-c3-devkitm\.js \(ESP32-C3-DevKitM-1\) is built for ESP32-C3, but the board on tcp:.* runs Espruino for ESP32 \(process\.env\.BOARD is ESP32_IDF4\)$/,
      hint: /^ {2}hint: flash an ESP32 bundle instead \(--board esp32-devkitc or --board esp32-wrover-kit\), or check that --port is the board you mean$/,
    },
    {
      name: "a classic ESP32 bundle is refused on an ESP32-C3", board: "esp32-devkitc", runs: "ESP32C3_IDF4",
      error: /esp32-devkitc\.js \(ESP32 DevKitC \/ DevKit V1\) is built for ESP32, but the board on tcp:.* runs Espruino for ESP32-C3 \(process\.env\.BOARD is ESP32C3_IDF4\)$/,
      hint: /^ {2}hint: flash an ESP32-C3 bundle instead \(--board esp32-c3-devkitm\)/,
    },
  ])
    it(`${wrong.name} before anything is written`, async () => {
      const fake = new FakeEspruino({ board: wrong.runs, storageBytes: 917504 });
      await fake.start();
      try {
        const r = await runFlash(["--board", wrong.board, "--port", fake.url, "--dist", dist]);
        assert.equal(r.code, 1);
        assertOneLineError(r, wrong.error, wrong.hint);
        assert.deepEqual(fake.events, ["connect"]);
        assert.deepEqual(fake.storage.list(), []);
      } finally {
        await fake.close();
      }
    });

  it("a bundle larger than a 16 KB ESP8266 Storage is refused with the 4 MB advice", async () => {
    const big = mkdtempSync(join(tmpdir(), "flash-test-big-"));
    writeFileSync(join(big, "nodemcu.js"), "//" + "x".repeat(15000) + "\n");
    const fake = new FakeEspruino({ storageBytes: 16384 });
    await fake.start();
    try {
      const r = await runFlash(["--board", "nodemcu", "--port", fake.url, "--dist", big]);
      assert.equal(r.code, 1);
      assertOneLineError(r, /not enough Storage on .*: \.bootcde \(15,003 bytes\) plus 2,048 bytes for the config need 17,084 bytes; 16,384 of 16,384 are available$/, /ESP8266_4MB/);
      assert.deepEqual(fake.storage.list(), []);
    } finally {
      await fake.close();
      rmSync(big, { recursive: true, force: true });
    }
  });
});

describe("npm run flash end to end over tcp:// (fake Espruino)", function () {
  this.timeout(120_000);
  useSampleDist();

  it("stores the bundle byte for byte, erases .wificfg, restarts and streams the console until Ctrl-C", async () => {
    const bundle = 'print("sample up");var n=0;setInterval(function(){print("tick "+(++n))},100);\n';
    writeFileSync(join(dist, "nodemcu.js"), bundle);
    const fake = new FakeEspruino({ runBootCode: true, files: { ".wificfg": "{mode:'client'}", "edgent.cfg0": "cfg", "edgent.token": "tok" } });
    await fake.start();
    try {
      const r = await runFlash(["--board", "nodemcu", "--port", fake.url, "--dist", dist], (out) => /tick 3/.test(out));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(fake.storage.read(".bootcde"), bundle);
      assert.deepEqual(fake.storage.list().sort(), [".bootcde", "edgent.cfg0", "edgent.token"]);
      assert.deepEqual(fake.events, ["connect", "connect", "reset", "connect", "load .bootcde"]);
      assert.match(r.stdout, /flash: verified \.bootcde on the board \(length and CRC32\)\nflash: console of tcp:\S+ \(Ctrl-C to stop\)\n[\s\S]*sample up[\s\S]*tick 1/);
    } finally {
      await fake.close();
      writeFileSync(join(dist, "nodemcu.js"), NODEMCU);
    }
  });

  it("an ESP32-C3 bundle goes onto Espruino's ESP32-C3 build", async () => {
    const fake = new FakeEspruino({ board: "ESP32C3_IDF4", storageBytes: 917504 });
    await fake.start();
    try {
      const r = await runFlash(["--board", "esp32-c3-devkitm", "--port", fake.url, "--dist", dist, "--no-console"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(fake.storage.read(".bootcde"), C3);
    } finally {
      await fake.close();
    }
  });

  it("--erase-config erases both config slots and keeps the token", async () => {
    const fake = new FakeEspruino({ files: { "edgent.cfg0": "a", "edgent.cfg1": "b", "edgent.token": "tok" } });
    await fake.start();
    try {
      const r = await runFlash(["--board", "nodemcu", "--port", fake.url, "--dist", dist, "--erase-config", "--no-console"]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(fake.storage.list().sort(), [".bootcde", "edgent.token"]);
      assert.deepEqual(fake.events.slice(-1), ["load .bootcde"]);
    } finally {
      await fake.close();
    }
  });

  it("the real dist bundle (or a 30 KB stand-in) arrives byte for byte on a 4 MB ESP8266", async () => {
    // Copy it, so a build running meanwhile cannot change it under the test.
    const real = join(REAL_DIST, "nodemcu.js");
    const own = mkdtempSync(join(tmpdir(), "flash-test-real-"));
    const content = existsSync(real) ? readFileSync(real) : Buffer.from("/*" + "0123456789abcdef".repeat(1900) + "*/\n");
    writeFileSync(join(own, "nodemcu.js"), content);
    const fake = new FakeEspruino({ board: "ESP8266_4MB", storageBytes: 196608 });
    await fake.start();
    try {
      const r = await runFlash(["--board", "nodemcu", "--port", fake.url, "--dist", own, "--no-console", "--restart", "none"]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(fake.storage.readBuffer(".bootcde")!.equals(content), "the stored .bootcde differs from the bundle");
    } finally {
      await fake.close();
      rmSync(own, { recursive: true, force: true });
    }
  });
});
