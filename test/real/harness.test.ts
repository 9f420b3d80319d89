// Tests of the real-interpreter harness (test/real/espruino.ts) with a
// hand-written sample firmware. Skipped unless ESPRUINO_BIN is set.
import assert from "node:assert/strict";
import * as dgram from "node:dgram";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { RealDevice, SKIP_MESSAGE, espruinoBin, requireEspruino, type RealDeviceOptions } from "./espruino.ts";
import { measureBootMemory } from "./memory.ts";

const SAMPLE = fileURLToPath(new URL("./fixtures/sample-firmware.js", import.meta.url));
const NETWORKS = [
  { ssid: "Home", password: "secret123", rssi: -48, channel: 6 },
  { ssid: "Cafe", password: "", rssi: -80, channel: 11 },
];

const devices: RealDevice[] = [];
async function boot(opts: Partial<RealDeviceOptions> = {}): Promise<RealDevice> {
  const dev = await RealDevice.start({ bundle: SAMPLE, chip: "ESP8266", networks: NETWORKS, ...opts });
  devices.push(dev);
  await dev.waitForLog(/^SAMPLE boot /, 5000);
  return dev;
}

/** Polls a device expression until pred(value) holds. */
async function until<T>(dev: RealDevice, expr: string, pred: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await dev.evalJSON<T>(expr);
    if (pred(v)) return v;
    if (Date.now() > end) throw new Error(`timeout: ${expr} = ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends one datagram to the device's UDP port 53 and resolves to its reply. */
async function udpEcho(dev: RealDevice, text: string): Promise<string> {
  const sock = dgram.createSocket("udp4");
  try {
    const reply = new Promise<string>((resolve) => sock.on("message", (m) => resolve(m.toString("latin1"))));
    sock.send(Buffer.from(text), dev.udpPort(53), "127.0.0.1");
    return await reply;
  } finally {
    sock.close();
  }
}

/** Runs device code that records Wifi callbacks/events in the global `R`. */
const RECORD =
  'W=require("Wifi");R=[];' +
  'W.removeAllListeners();["connected","disconnected","associated"].forEach(function(e){W.on(e,function(d){R.push([e,d]);});});';

/** Hooks for a describe that boots real devices: skip without ESPRUINO_BIN, clean up after each test. */
function realDeviceHooks(): void {
  beforeEach(function () {
    requireEspruino(this);
  });
  afterEach(async function () {
    for (const d of devices.splice(0)) await d.cleanup();
  });
}

/** A stand-in cloud on 127.0.0.1 that records each chunk it receives and answers "pong". */
async function pongCloud(): Promise<{ cloud: net.Server; got: string[]; port: number }> {
  const got: string[] = [];
  const cloud = net.createServer((s) => {
    s.setEncoding("latin1");
    s.on("data", (d) => {
      got.push(String(d).trim());
      s.write("pong");
    });
  });
  await new Promise<void>((r) => cloud.listen(0, "127.0.0.1", r));
  return { cloud, got, port: (cloud.address() as net.AddressInfo).port };
}

describe("espruinoBin()", function () {
  it("is undefined unless ESPRUINO_BIN names an executable file", function () {
    const saved = process.env.ESPRUINO_BIN;
    try {
      delete process.env.ESPRUINO_BIN;
      assert.equal(espruinoBin(), undefined);
      process.env.ESPRUINO_BIN = path.join(os.tmpdir(), "no-such-espruino-binary");
      assert.equal(espruinoBin(), undefined);
      process.env.ESPRUINO_BIN = os.tmpdir(); // a directory
      assert.equal(espruinoBin(), undefined);
    } finally {
      if (saved === undefined) delete process.env.ESPRUINO_BIN;
      else process.env.ESPRUINO_BIN = saved;
    }
    assert.match(SKIP_MESSAGE, /ESPRUINO_BIN not set/);
  });
});

describe("real interpreter harness (test/real)", function () {
  this.timeout(60000);
  realDeviceHooks();

  it("boots a bundle from Storage .bootcde after the .boot0 prelude", async function () {
    const dev = await boot({ mac: "5c:cf:7f:aa:bb:cc" });
    assert.ok(dev.console.includes("SAMPLE boot 1 board ESP8266_4MB serial 5ccf7faa-bbcc"), dev.console.join("\n"));
    const files = await dev.listStorage();
    assert.ok(files.includes(".boot0") && files.includes(".bootcde"), String(files));
    assert.equal(await dev.evalJSON('require("Storage").read(".bootcde").length'), fs.statSync(SAMPLE).size);
    assert.equal(await dev.evalJSON("process.env.BOARD"), "ESP8266_4MB");
    assert.ok(dev.bootMemory && dev.bootMemory.usage > 0 && dev.bootMemory.total > 0);
    const m = await dev.memory();
    assert.ok(m.usage > 0 && m.free > 0 && m.total === m.usage + m.free, JSON.stringify(m));
    assert.deepEqual(dev.errors(), []);
    await assert.rejects(dev.eval("throw new Error('boom')"), /boom/);
    assert.equal(await dev.eval("1+1"), "2");
    assert.equal(await dev.eval("undefined"), "undefined");
  });

  it("fake Wifi has the ESP8266 shapes", async function () {
    const dev = await boot({ chip: "ESP8266" });
    await dev.eval(RECORD + 'W.scan(function(l){R.push(["scan",l]);});');
    const scan = await until<[string, any][]>(dev, "R", (r) => r.some((x) => x[0] === "scan"));
    const list = scan.find((x) => x[0] === "scan")![1];
    assert.deepEqual(list[0], { rssi: -48, channel: 6, authMode: "wpa2", isHidden: false, ssid: "Home", mac: "02:00:00:00:00:00" });
    assert.equal(list[1].authMode, "open");

    await dev.eval('W.connect("Home",{password:"secret123"},function(e){R.push(["cb",e]);});');
    let r = await until<[string, any][]>(dev, "R", (x) => x.some((e) => e[0] === "connected"));
    assert.deepEqual(r.find((e) => e[0] === "cb"), ["cb", null]);
    assert.deepEqual(r.find((e) => e[0] === "connected")![1], { ip: "192.168.1.50", mask: "255.255.255.0", gw: "192.168.1.1" });
    assert.deepEqual(r.find((e) => e[0] === "associated")![1], { ssid: "Home", mac: "02:00:00:00:00:00", channel: 6 });
    const s = await dev.evalJSON<any>("W.getStatus()");
    assert.deepEqual(s, { mode: "sta+ap", station: "connected", ap: "enabled", phy: "11n", powersave: "ps-poll", savedMode: "off" });
    assert.equal((await dev.evalJSON<any>("W.getIP()")).ip, "192.168.1.50");
    assert.equal((await dev.evalJSON<any>("W.getAPIP()")).mac, "5e:cf:7f:00:12:34");

    await dev.eval('R=[];W.connect("Home",{password:"wrong"},function(e){R.push(["cb",e]);});');
    r = await until<[string, any][]>(dev, "R", (x) => x.some((e) => e[0] === "cb"));
    assert.deepEqual(r.find((e) => e[0] === "cb"), ["cb", "bad_password"]);
    // leaving "Home" first reports assoc_leave; then reason 202 (AUTH_FAIL), which ESP8266 maps one entry off
    assert.deepEqual(r.filter((e) => e[0] === "disconnected").map((e) => e[1].reason), ["assoc_leave", "no_ap_found"]);
    assert.equal((await dev.evalJSON<any>("W.getStatus()")).station, "bad_password");

    await dev.eval('R=[];W.connect("Nowhere",{password:"x"},function(e){R.push(["cb",e]);});');
    r = await until<[string, any][]>(dev, "R", (x) => x.some((e) => e[0] === "cb"));
    assert.deepEqual(r.find((e) => e[0] === "cb"), ["cb", "no_ap_found"]);
    await dev.eval("W.disconnect()");
    assert.equal((await dev.evalJSON<any>("W.getStatus()")).station, "off");
    // ESP8266 accepts password "" for an open AP
    await dev.eval('W.startAP("Open-AP",{password:""})');
    assert.equal((await dev.evalJSON<any>("W.getAPDetails()")).authMode, "open");
  });

  it("fake Wifi has the ESP32 shapes (2v29 and 2v30 connect failure)", async function () {
    const dev = await boot({ chip: "ESP32", mac: "24:0a:c4:01:02:03" });
    assert.ok(dev.console.some((l) => l.includes("board ESP32 serial 240ac401-0203")), dev.console.join("\n"));
    await dev.eval(RECORD + 'W.scan(function(l){R.push(["scan",l]);});');
    const scan = await until<[string, any][]>(dev, "R", (r) => r.some((x) => x[0] === "scan"));
    assert.deepEqual(scan.find((x) => x[0] === "scan")![1][0], { rssi: -48, authMode: "wpa2", ssid: "Home", mac: "02:00:00:00:00:00", channel: "6" });

    await dev.eval('W.connect("Home",{password:"secret123"},function(e){R.push(["cb",e]);});');
    let r = await until<[string, any][]>(dev, "R", (x) => x.some((e) => e[0] === "connected"));
    assert.deepEqual(r.find((e) => e[0] === "connected")![1], { ip: "192.168.1.50", netmask: "255.255.255.0", gw: "192.168.1.1" });
    assert.equal(r.find((e) => e[0] === "associated")![1].channel, "6");
    const s = await dev.evalJSON<any>("W.getStatus()");
    assert.equal(s.station, "connected");
    assert.equal(s.mode, "APSTA");
    assert.equal(s.channel, 6);
    assert.equal((await dev.evalJSON<any>("W.getAPIP()")).mac, "24:0a:c4:01:02:04");

    // 2v29: a failed connect never calls the callback; only the event reports it
    await dev.eval('R=[];W.connect("Home",{password:"wrong"},function(e){R.push(["cb",e]);});');
    r = await until<[string, any][]>(dev, "R", (x) => x.some((e) => e[0] === "disconnected"));
    assert.deepEqual(r.find((e) => e[0] === "disconnected")![1], { ssid: "Home", mac: "00:00:00:00:00:00", reason: "202", msg: "AUTH_FAIL" });
    await new Promise((res) => setTimeout(res, 300));
    assert.equal((await dev.evalJSON<[string, any][]>("R")).some((e) => e[0] === "cb"), false);
    assert.equal((await dev.evalJSON<any>("W.getStatus()")).station, "AUTH_FAIL");
    await assert.rejects(dev.eval('W.startAP("X",{password:""})'), /at least 8 characters/);
    // ESP32 setIP reports "Failure" on success
    await dev.eval('W.setIP({ip:"192.168.1.77",gw:"192.168.1.1",netmask:"255.255.255.0"},function(e){R.push(["setIP",e]);})');
    await until<[string, any][]>(dev, "R", (x) => x.some((e) => e[0] === "setIP" && e[1] === "Failure"));

    const dev30 = await boot({ chip: "ESP32", espruinoVersion: "2v30" });
    await dev30.eval(RECORD + 'W.connect("Nowhere",{password:"x"},function(e){R.push(["cb",e]);});');
    r = await until<[string, any][]>(dev30, "R", (x) => x.some((e) => e[0] === "cb"));
    assert.deepEqual(r.find((e) => e[0] === "cb"), ["cb", "NO_AP_FOUND"]);
  });

  it("an HTTP request reaches the firmware's server on port 80 (and UDP 53)", async function () {
    const dev = await boot();
    assert.ok(dev.events.includes(`LISTEN tcp 80 ${dev.httpPort(80)}`), dev.events.join("\n"));
    const res = await fetch(`http://127.0.0.1:${dev.httpPort()}/hello?x=1`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "hello GET /hello?x=1");

    assert.equal(await udpEcho(dev, "ping"), "echo:ping");
  });

  it("Storage written by the firmware can be read back after stop, and the flash can be reused", async function () {
    const flashDir = fs.mkdtempSync(path.join(os.tmpdir(), "espruino-flash-test-"));
    try {
      const dev = await boot({ flashDir });
      const body = JSON.stringify({ ssid: "Home", pass: "secret123", token: "abc" });
      const res = await fetch(`http://127.0.0.1:${dev.httpPort()}/save`, { method: "POST", body });
      assert.equal(await res.text(), `saved ${body.length}`);
      assert.equal(await dev.readStorage("cfg.json"), body); // while running (through eval)
      await dev.stop();
      assert.equal(dev.running, false);
      assert.equal(await dev.readStorage("cfg.json"), body); // after stop (interpreter on the flash file)
      assert.equal(await dev.readStorage("no-such-file"), undefined);
      assert.ok((await dev.listStorage()).includes("cfg.json"));

      const again = await boot({ flashDir });
      assert.ok(again.console.some((l) => l.startsWith("SAMPLE boot 2 ")), again.console.join("\n"));
      await again.stop();
      assert.equal(await again.readStorage("sample.json"), '{"boots":2}');
    } finally {
      fs.rmSync(flashDir, { recursive: true, force: true });
    }
  });

  it("redirects connections to blynk.cloud (net and tls) to the test cloud", async function () {
    const { cloud, got, port } = await pongCloud();
    try {
      const dev = await boot({ chip: "ESP32", cloud: { host: "127.0.0.1", port } });
      await dev.eval('sample.cloud("net", 80)');
      await dev.waitForLog(/^SAMPLE cloud data pong/, 5000);
      await dev.eval('sample.cloud("tls", 443)');
      await dev.waitForEvent(/^CLOUD fra1\.blynk\.cloud:443 -> 127\.0\.0\.1:/, 5000);
      const until2 = Date.now() + 5000;
      while (got.length < 2 && Date.now() < until2) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(got.sort(), ["hi from net", "hi from tls"]);
      assert.equal(await dev.evalJSON('(function(){var r;require("Wifi").getHostByName("blynk.cloud",function(ip){r=ip;});return 1;})()'), 1);
    } finally {
      cloud.close();
    }
  });

  it("records pin writes and fires setWatch handlers from setInput()", async function () {
    const dev = await boot({ chip: "ESP32" });
    assert.ok(dev.pinLog.some((p) => p.pin === "D2" && p.value === "1"), JSON.stringify(dev.pinLog));
    assert.equal(await dev.pinValue("D2"), 1);
    assert.equal(await dev.evalJSON("digitalRead(BTN1)"), 0); // ESP32 BTN1 (D0) is negated: idle reads 0
    await dev.setInput("D0", 1);
    await dev.waitForLog(/^SAMPLE button true$/, 3000);
    await dev.eval("LED1.toggle()");
    assert.equal(await dev.pinValue("D2"), 0);
  });

  it("restarts the interpreter on the same flash when the firmware calls E.reboot()", async function () {
    const dev = await boot();
    const res = await fetch(`http://127.0.0.1:${dev.httpPort()}/reboot`);
    assert.equal(await res.text(), "rebooting");
    await dev.waitForLog(/^SAMPLE boot 2 /, 10000);
    assert.equal(dev.reboots, 1);
    assert.ok(dev.events.includes("REBOOT"));
    // the eval server and the port mapping are back
    assert.equal(await dev.eval("1"), "1");
    assert.equal(await (await fetch(`http://127.0.0.1:${dev.httpPort()}/x`)).text(), "hello GET /x");
  });

  it("measures boot memory (memory.ts)", async function () {
    const r = await measureBootMemory(SAMPLE, { settleMs: 500 });
    assert.ok(r.boot && r.baseline.boot, JSON.stringify(r));
    assert.ok(r.firmwareBoot! > 0 && r.firmwareSettled! > 0, JSON.stringify(r));
    assert.equal(r.outOfMemory, false);
    assert.deepEqual(r.errors, []);
  });
});

describe("lean prelude (test/real/prelude-lean.js)", function () {
  this.timeout(60000);
  realDeviceHooks();

  it("runs the sample firmware with ESP8266 Wifi shapes, port and cloud redirects, and a per-call eval", async function () {
    const { cloud, got, port } = await pongCloud();
    try {
      const dev = await boot({ lean: true, mac: "5c:cf:7f:aa:bb:cc", cloud: { host: "127.0.0.1", port } });
      assert.ok(dev.console.some((l) => l.startsWith("SAMPLE boot 1 ") && l.endsWith(" serial 5ccf7faa-bbcc")), dev.console.join("\n"));
      await dev.waitForLog(/^SAMPLE ap null$/, 3000);
      assert.ok(dev.events.some((e) => e.startsWith('WIFI startAP {"ssid":"Sample-AP"')), dev.events.join("\n"));

      // listen(80) / bind(53) on the harness's ports
      const res = await fetch(`http://127.0.0.1:${dev.httpPort()}/hello`);
      assert.equal(await res.text(), "hello GET /hello");
      assert.equal(await udpEcho(dev, "ping"), "echo:ping");

      // Wifi: scan, join, wrong password (ESP8266 shapes)
      await dev.eval(RECORD + 'W.scan(function(l){R.push(["scan",l]);});');
      const scan = await until<[string, any][]>(dev, "R", (r) => r.some((x) => x[0] === "scan"));
      assert.deepEqual(scan.find((x) => x[0] === "scan")![1][0], { rssi: -48, channel: 6, authMode: "wpa2", isHidden: false, ssid: "Home", mac: "02:00:00:00:00:00" });
      await dev.eval('W.connect("Home",{password:"secret123"},function(e){R.push(["cb",e]);});');
      let r = await until<[string, any][]>(dev, "R", (x) => x.some((e) => e[0] === "connected"));
      assert.deepEqual(r.find((e) => e[0] === "cb"), ["cb", null]);
      assert.deepEqual(r.find((e) => e[0] === "connected")![1], { ip: "192.168.1.50", mask: "255.255.255.0", gw: "192.168.1.1" });
      assert.equal((await dev.evalJSON<any>("W.getIP()")).ip, "192.168.1.50");
      assert.equal((await dev.evalJSON<any>("W.getAPIP()")).mac, "5e:cf:7f:aa:bb:cc");
      await dev.eval('R=[];W.connect("Home",{password:"wrong"},function(e){R.push(["cb",e]);});');
      r = await until<[string, any][]>(dev, "R", (x) => x.some((e) => e[0] === "cb"));
      assert.deepEqual(r.find((e) => e[0] === "cb"), ["cb", "bad_password"]);
      assert.deepEqual(r.filter((e) => e[0] === "disconnected").map((e) => e[1].reason), ["assoc_leave", "no_ap_found"]);

      // cloud host names go to the test cloud; an ESP8266 build has no TLS
      await dev.eval('sample.cloud("net", 80)');
      await dev.waitForLog(/^SAMPLE cloud data pong/, 5000);
      assert.deepEqual(got, ["hi from net"]);
      assert.equal(await dev.evalJSON('(function(){return !!require("tls");})()'), false);

      assert.equal(await dev.eval("1+1"), "2");
      await assert.rejects(dev.eval("throw new Error('boom')"), /boom/);
      await assert.rejects(dev.setNetworks([]), /needs the full prelude/);
      assert.deepEqual(dev.errors(), []);
    } finally {
      cloud.close();
    }
  });

  it("holds far fewer JsVars than the full prelude", async function () {
    const empty = fileURLToPath(new URL("./fixtures/empty-firmware.js", import.meta.url));
    const dev = await RealDevice.start({ bundle: empty, chip: "ESP8266", lean: true, debug: false, settleMs: 200 });
    devices.push(dev);
    await dev.waitForEvent(/^SETTLED /, 5000);
    const full = await measureBootMemory(empty, { settleMs: 200, bin: espruinoBin() });
    assert.ok(full.baseline.settled, JSON.stringify(full));
    // interpreter + lean prelude, against interpreter + full prelude (both without pin recorders and eval server)
    const lean = dev.settledMemory!.usage;
    assert.ok(lean < full.baseline.settled!.usage / 2, `lean ${lean} vs full ${full.baseline.settled!.usage}`);
    // .boot0 reports what it holds at its end
    assert.ok(dev.events.some((e) => e.startsWith("PRELUDE {")), dev.events.join("\n"));
    await assert.rejects(RealDevice.start({ bundle: SAMPLE, chip: "ESP32", lean: true }), /ESP8266 only/);
  });
});
