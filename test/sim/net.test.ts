import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { after, afterEach, before, describe, it } from 'mocha';
import { HOME, START_AP, boot, lines, stopAll } from './fixture.ts';

/** Bundle prefix: join HomeNet (the device needs an IP to reach the outside). */
const ONLINE = 'require("Wifi").connect("HomeNet", {password: "correct horse"});\n';

describe('sim net, tls and dgram', () => {
  afterEach(stopAll);

  let server: net.Server;
  let port = 0;
  before(async () => {
    server = net.createServer((s) => s.on('data', (d) => s.write(Buffer.concat([Buffer.from('echo:'), d]))));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => server.close());

  const CLIENT = (host: string, mod = 'net') => `
    function go() {
      try {
        var s = require("${mod}").connect({host: "${host}", port: 80}, function () { print("connected"); s.write("hi\\xff"); });
        s.on("data", function (d) { print("data " + JSON.stringify(d)); s.end(); });
        s.on("error", function (e) { print("error " + JSON.stringify(e)); });
        s.on("close", function (had) { print("close " + had); });
      } catch (e) { print("threw " + e); }
    }`;

  it('reaches a local TCP server through the hosts mapping, byte-exact', async () => {
    const sim = await boot(ONLINE + CLIENT('cloud.example'), { networks: [HOME], hosts: { 'cloud.example:80': `127.0.0.1:${port}` } });
    await sim.advance(2000);
    sim.repl('go()');
    assert.ok(await sim.until(() => sim.console.includes('close false'), 2000));
    assert.deepEqual(lines(sim, /^(connected|data|close)/), ['connected', 'data "echo:hi\\u00FF"', 'close false']);
  });

  it('ESP32: a refused connection throws synchronously', async () => {
    const sim = await boot(ONLINE + CLIENT('down.example'), { networks: [HOME], hosts: { 'down.example:80': 'refuse' } });
    await sim.advance(2000);
    sim.repl('go()');
    assert.deepEqual(lines(sim, /^(threw|ERROR)/), ['ERROR: Connect failed (err 111)', 'threw InternalError: Unable to create socket']);
  });

  it('ESP8266: a refused connection is an async error -9 then close', async () => {
    const sim = await boot(ONLINE + CLIENT('down.example'), { chip: 'ESP8266', networks: [HOME], hosts: { 'down.example:80': 'refuse' } });
    await sim.advance(2000);
    sim.repl('go()');
    await sim.advance(100);
    assert.deepEqual(lines(sim, /^(threw|error|close)/), ['error {"code":-9,"message":"connection reset"}', 'close true']);
  });

  it('fails DNS for an unmapped host: -6 on ESP8266, a throw on ESP32', async () => {
    const esp8266 = await boot(ONLINE + CLIENT('unknown.example'), { chip: 'ESP8266', networks: [HOME] });
    const esp32 = await boot(ONLINE + CLIENT('unknown.example'), { networks: [HOME] });
    await esp8266.advance(2000);
    await esp32.advance(2000);
    esp8266.repl('go()');
    esp32.repl('go()');
    await esp8266.advance(500);
    assert.deepEqual(lines(esp8266, /^error/), ['error {"code":-6,"message":"not found"}']);
    assert.deepEqual(lines(esp32, /^threw/), ['threw InternalError: Unable to locate host']);
  });

  it('tls.connect counts sim.tlsConnects; require("tls") is missing on ESP8266', async () => {
    const sim = await boot(ONLINE + CLIENT('cloud.example', 'tls'), { networks: [HOME], hosts: { 'cloud.example:80': `127.0.0.1:${port}` } });
    await sim.advance(2000);
    sim.repl('go()');
    assert.ok(await sim.until(() => sim.console.includes('close false'), 2000));
    assert.equal(sim.tlsConnects, 1);
    const esp8266 = await boot('', { chip: 'ESP8266' });
    assert.equal(esp8266.repl('require("tls")').message, 'Module "tls" not found');
  });

  it('http.get gets the response with statusCode as a string', async () => {
    const web = net.createServer((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
    try {
      const sim = await boot(ONLINE + `function go() { require("http").get("http://api.example/x", function (res) {
          var b = ""; res.on("data", function (d) { b += d; });
          res.on("close", function () { print(typeof res.statusCode + " " + res.statusCode + " " + b); }); }); }`,
      { networks: [HOME], hosts: { 'api.example:80': `127.0.0.1:${(web.address() as net.AddressInfo).port}` } });
      await sim.advance(2000);
      sim.repl('go()');
      assert.ok(await sim.until(() => sim.console.includes('string 200 ok'), 2000));
    } finally {
      web.close();
    }
  });

  it('UDP: a datagram server answers binary bytes (dgram round trip)', async () => {
    const sim = await boot(START_AP + `var u = require("dgram").createSocket("udp4");
      u.on("message", function (m, r) { u.send("re:" + m, r.port, r.address); });
      u.bind(53);`);
    await sim.advance(100);
    const c = dgram.createSocket('udp4');
    const reply = new Promise<Buffer>((r) => c.on('message', (m) => r(m)));
    c.send(Buffer.from([0x00, 0x80, 0xff]), sim.udpPort(53), '127.0.0.1');
    let got: Buffer | undefined;
    void reply.then((b) => (got = b));
    await sim.until(() => got !== undefined, 1000, 1);
    c.close();
    assert.deepEqual([...got!], [...Buffer.from('re:'), 0x00, 0x80, 0xff]);
  });

  it('ESP8266 drops datagrams longer than 268 bytes', async () => {
    const sim = await boot(`var u = require("dgram").createSocket("udp4");
      u.on("message", function (m) { print("len " + m.length); });
      u.bind(53);`, { chip: 'ESP8266' });
    await sim.advance(10);
    const c = dgram.createSocket('udp4');
    for (const n of [268, 269, 10]) c.send(Buffer.alloc(n, 1), sim.udpPort(53), '127.0.0.1');
    await sim.until(() => sim.console.includes('len 10'), 1000, 1);
    c.close();
    assert.deepEqual(lines(sim, /^len/), ['len 268', 'len 10']);
  });
});
