import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'mocha';
import { Sim, lintBundle } from '../../sim/index.ts';
import { HOME, boot, lines, stopAll } from './fixture.ts';

describe('sim boot, reboot and power', () => {
  afterEach(stopAll);

  it('boots in chip order: .boot0, .bootcde, E init, onInit, then Wifi.restore from .wificfg', async () => {
    const wificfg = JSON.stringify({ ssid: 'HomeNet', password: 'correct horse', mode: 1 });
    const storage = Sim.flashWith({ '.boot0': 'print("boot0");', '.wificfg': wificfg }, 'ESP32');
    const sim = await boot(`print("bootcde " + require("Wifi").getDetails().status);
      E.on("init", function () { print("init"); });
      function onInit() { print("onInit"); }
      require("Wifi").on("connected", function () { print("connected"); });`, { storage, networks: [HOME] });
    await sim.advance(2000);
    assert.deepEqual(lines(sim, /^(boot|init|onInit|connected)/), ['boot0', 'bootcde Unknown reason', 'init', 'onInit', 'connected']);
  });

  it('E.reboot runs kill handlers, then boots again from the same flash', async () => {
    const sim = await boot('E.on("kill", function () { print("kill"); }); print("up " + require("Storage").read("n"));');
    let reboots = 0;
    sim.on('reboot', () => reboots++);
    sim.repl('require("Storage").write("n", "1"); E.reboot(); print("never printed")');
    await sim.advance(10);
    assert.deepEqual(lines(sim, /^(up|kill|never)/), ['up undefined', 'kill', 'up 1']);
    assert.equal(sim.bootCount, 2);
    assert.equal(reboots, 1);
    assert.equal(sim.now(), 10, 'the clock restarts at power-on');
  });

  it('powerCut loses RAM without kill handlers; powerOn boots from flash', async () => {
    const sim = await boot('E.on("kill", function () { print("kill"); }); var ram = 0; setInterval(function () { ram++; }, 10);');
    await sim.advance(100);
    sim.powerCut();
    assert.equal(sim.running, false);
    await sim.advance(1000);
    await sim.powerOn();
    assert.equal(sim.repl('ram'), 0);
    assert.deepEqual(lines(sim, /^kill/), []);
  });

  it('load() re-runs .bootcde with fresh RAM but keeps the radio connected', async () => {
    const sim = await boot('var W = require("Wifi"); if (typeof boots == "undefined") boots = 0; boots++;' +
      'if (!W.getIP().ip.indexOf("0.")) W.connect("HomeNet", {password: "correct horse"});', { networks: [HOME] });
    await sim.advance(2000);
    assert.equal(sim.wifi.staSsid(), 'HomeNet');
    sim.repl('load()');
    await sim.advance(10);
    assert.equal(sim.repl('boots'), 1);
    assert.equal(sim.wifi.staSsid(), 'HomeNet');
    assert.equal(sim.bootCount, 1);
  });

  it('records an exception thrown by the boot code and keeps running', async () => {
    const sim = await boot('setTimeout(function () { print("alive"); }, 10); undefinedFunction();');
    await sim.advance(20);
    assert.ok(sim.console.includes('Uncaught ReferenceError: undefinedFunction is not defined'));
    assert.ok(sim.console.includes('alive'));
  });

  it('rejects a bundle that is not ASCII-only', async () => {
    await assert.rejects(Sim.boot({ chip: 'ESP32', bundle: 'print("caf\u00e9");' }), /not ASCII-only: char U\+00E9 at line 1, column 11/);
  });

  it('rejects JavaScript Espruino cannot run (hoisting, X.prototype, destructuring...)', () => {
    const issues = lintBundle(`
      var Derived = (function (_super) { __extends(Derived, _super); function Derived() {} return Derived; })(Base);
      var a = Array.prototype.slice.call(arguments);
      var {x} = o; f(...args); if (/a?b/.test(s)) {}
      var h = [1,,2]; arr.length = 0; var t = a ** 2;`);
    const text = issues.map((i) => i.message).join('\n');
    assert.match(text, /"Derived" is used before its function declaration/);
    assert.match(text, /Array\.prototype\.slice is undefined on Espruino/);
    assert.match(text, /destructuring/);
    assert.match(text, /spread/);
    assert.match(text, /regex \? quantifier/);
    assert.match(text, /holes/);
    assert.match(text, /\.length/);
    assert.match(text, /\*\*/);
    assert.deepEqual(lintBundle('function f() { return g(); } function g() { return 1; } f();'), [], 'calls from inside functions are fine');
  });

  it('lacks the built-ins Espruino lacks (Map, Symbol, Array.from, Promise.prototype.finally)', async () => {
    const sim = await boot('');
    assert.equal(sim.repl('typeof Map + typeof Symbol + typeof Array.from + typeof Promise.resolve().finally'), 'undefinedundefinedundefinedundefined');
  });

  it('throws Module "X" not found for an unknown module; Modules.addCached overrides', async () => {
    const sim = await boot('Modules.addCached("thing", function () { exports.v = 42; });');
    assert.equal(sim.repl('require("nope")').message, 'Module "nope" not found');
    assert.equal(sim.repl('require("thing").v'), 42);
  });

  it('url.parse decodes %XX to raw bytes and keeps + as is', async () => {
    const sim = await boot('');
    const q = sim.repl('url.parse("/save?ssid=Caf%C3%A9+Net&pass=a%3Db&pass=dup", true).query');
    assert.equal(q.ssid, 'Caf\xc3\xa9+Net');
    assert.equal(q.pass, 'a=b');
    assert.equal(sim.repl('url.parse("/x").port'), null);
  });

  it('decodeURIComponent throws on %80..%FF (Espruino signed-char bug)', async () => {
    const sim = await boot('');
    assert.equal(sim.repl('decodeURIComponent("%41%7E")'), 'A~');
    assert.equal(sim.repl('decodeURIComponent("%C3%A9")').message, 'Invalid URI');
  });

  it('JSON.stringify escapes bytes >= 0x7F as \\u00XX like Espruino', async () => {
    const sim = await boot('');
    assert.equal(sim.repl('JSON.stringify("Caf\\xC3\\xA9")'), '"Caf\\u00C3\\u00A9"');
  });

  it('String indexOf, includes and replace match a needle whose beginning ends the string, as Espruino 2v29 does', async () => {
    // values measured on the Espruino 2v29 LINUX build (the same string search as ESP32 and ESP8266)
    const sim = await boot('');
    assert.equal(sim.repl('"abcd".indexOf("dz")'), 3);
    assert.equal(sim.repl('",portal,".indexOf(",blynk,")'), 7);
    assert.equal(sim.repl('"abcd".includes("dz")'), true);
    assert.equal(sim.repl('"abcd".replace("dz", "Q")'), 'abcQ');
    assert.equal(sim.repl('"aXbX".replaceAll("X", "XX")'), 'aXXbXX');
    assert.equal(sim.repl('"abab".replace("b", "$&")'), 'a$&ab');
    assert.deepEqual([sim.repl('"".indexOf("")'), sim.repl('"ab".indexOf("")'), sim.repl('"ab".indexOf("", 5)'), sim.repl('"abcd".indexOf("cd", 3)')], [-1, 0, -1, -1]);
    assert.equal(sim.repl('"abcd".indexOf("bc")'), 1, 'a real match is still found first');
    assert.equal(sim.repl('"abcd".split("dz").length'), 1, 'split is not affected');
  });

  it('E.CRC32, getSerial and process.env identify the device', async () => {
    const sim = await boot('', { chip: 'ESP8266' });
    assert.equal(sim.repl('E.CRC32("123456789")'), 0xcbf43926);
    assert.equal(sim.repl('getSerial()'), '5ccf7f01-0203');
    assert.equal(sim.repl('process.env.BOARD + " " + process.env.VERSION + " " + process.memory().total'), 'ESP8266 2v29 1600');
  });

  it('reports an unhandled promise rejection on the device console', async () => {
    const sim = await boot('Promise.reject(new Error("nope"));');
    await sim.advance(10);
    assert.ok(sim.console.includes('Uncaught Error: Unhandled promise rejection: Error: nope'));
  });
});
