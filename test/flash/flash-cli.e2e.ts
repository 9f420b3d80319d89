// `npm run flash` as a user runs it: the real CLI process, the real espruino CLI underneath, and a
// fake Espruino telnet console (or nothing) at the other end. No hardware.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeEspruino } from "./fake-espruino.ts";
import { runFlash } from "./run-flash.ts";
import { REAL_DIST, dist, NODEMCU, C3, useSampleDist, assertOneLineError } from "./sample-dist.ts";

describe("npm run flash errors from the port or the board", function () {
  this.timeout(60_000);
  useSampleDist();

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
