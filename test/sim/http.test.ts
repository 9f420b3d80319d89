import assert from 'node:assert/strict';
import * as net from 'node:net';
import { afterEach, describe, it } from 'mocha';
import { MAX_SOCKETS } from '../../sim/index.ts';
import type { SimOptions } from '../../sim/index.ts';
import { START_AP, boot, stopAll } from './fixture.ts';

/** Boot and let the access point come up (ESP32 reports AP_START after a few ms). */
async function portal(bundle: string, opts: Partial<SimOptions> = {}) {
  const sim = await boot(bundle, opts);
  await sim.advance(100);
  return sim;
}

/** Echo server: replies with what the firmware saw (method, url, headers, data chunks). */
const ECHO = START_AP + `
require("http").createServer(function (req, res) {
  var parts = [];
  req.on("data", function (d) { parts.push(d); });
  req.on("end", function () {
    res.writeHead(200, {"Content-Type": "application/json"});
    res.end(JSON.stringify({m: req.method, u: req.url, h: req.headers, parts: parts}));
  });
}).listen(80);
`;

describe('sim http server', () => {
  afterEach(stopAll);

  it('answers a GET with Espruino\'s status line and headers, and closes', async () => {
    const sim = await portal(ECHO);
    const r = await sim.fetch('/status?x=1');
    assert.equal(r.status, 200);
    assert.match(r.raw, /^HTTP\/1\.1 200 OK\r\nServer: Espruino 2v29\r\nConnection: close\r\nContent-Type: application\/json\r\n\r\n/);
    assert.equal(r.headers['content-length'], undefined, 'Espruino adds no Content-Length');
    assert.deepEqual(JSON.parse(r.body).u, '/status?x=1');
  });

  it('says "OK" whatever the status code', async () => {
    const sim = await portal(START_AP + 'require("http").createServer(function (q, s) { s.writeHead(404); s.end(); }).listen(80);');
    const r = await sim.fetch('/missing');
    assert.equal(r.status, 404);
    assert.equal(r.statusText, 'OK');
  });

  it('delivers a POST body split over two packets as two data events, then end', async () => {
    const sim = await portal(ECHO);
    const r = await sim.fetch('', { chunks: ['POST /save HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello', 'world'] });
    assert.deepEqual(JSON.parse(r.body).parts, ['hello', 'world']);
  });

  it('decodes a chunked request body', async () => {
    const sim = await portal(ECHO);
    const r = await sim.fetch('/', { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, body: '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n' });
    assert.equal(JSON.parse(r.body).parts.join(''), 'hello world');
  });

  it('keeps header names exactly as sent (the first of duplicates wins)', async () => {
    const sim = await portal(ECHO);
    const r = await sim.fetch('/', { headers: [['x-CuStOm', 'one'], ['x-CuStOm', 'two'], ['ACCEPT', '*/*']] });
    const h = JSON.parse(r.body).h;
    assert.equal(h['x-CuStOm'], 'one');
    assert.equal(h.ACCEPT, '*/*');
    assert.equal(h.accept, undefined);
  });

  it('delivers request data in chunks of at most 268 bytes on ESP8266', async () => {
    const sim = await portal(ECHO, { chip: 'ESP8266' });
    const body = 'x'.repeat(1000);
    const r = await sim.fetch('/big', { method: 'POST', body });
    const parts: string[] = JSON.parse(r.body).parts;
    assert.equal(parts.join(''), body);
    assert.ok(parts.length > 3 && parts.every((p) => p.length <= 268), `chunk sizes ${parts.map((p) => p.length)}`);
  });

  it('buffers the body for req.read() when nobody listens to data', async () => {
    const sim = await portal(START_AP + `require("http").createServer(function (req, res) {
      setTimeout(function () { res.end("avail=" + req.available() + " body=" + req.read()); }, 50);
    }).listen(80);`);
    const r = await sim.fetch('/', { method: 'POST', body: 'ssid=Home&pass=x' });
    assert.equal(r.body, 'avail=16 body=ssid=Home&pass=x');
  });

  it('prints "Headers have already been sent" for a second writeHead', async () => {
    const sim = await portal(START_AP + 'require("http").createServer(function (q, s) { s.writeHead(200); s.writeHead(302, {Location: "/"}); s.end("x"); }).listen(80);');
    const r = await sim.fetch('/');
    assert.equal(r.status, 200);
    assert.deepEqual(sim.errors, ['Headers have already been sent']);
  });

  it('throws "This socket is closed" when writing after end()', async () => {
    const sim = await portal(START_AP + 'require("http").createServer(function (q, s) { s.end("a"); s.write("b"); }).listen(80);');
    await sim.fetch('/');
    assert.ok(sim.console.includes('Uncaught Error: This socket is closed'));
  });

  it('is unreachable while the device has no link (no AP, no STA)', async () => {
    const sim = await boot('require("http").createServer(function (q, s) { s.end("hi"); }).listen(80);');
    await assert.rejects(sim.fetch('/'), /closed the connection without answering/);
  });

  it('keeps the socket of a client that left before finishing its headers (socketserver.c leak)', async () => {
    const sim = await portal(ECHO);
    const c = net.connect(sim.httpPort(80), '127.0.0.1');
    await new Promise<void>((r) => c.once('connect', () => r()));
    c.end('GET / HTTP/1.1\r\nHost: x\r\n');
    await sim.advance(1000);
    assert.equal(sim.socketCount(), 2, 'server + the abandoned connection');
    assert.equal(sim.sockets()[1].hadHeaders, false);
  });

  it('answers concurrent fetches while a test advances time', async () => {
    const sim = await portal(ECHO);
    const results = Promise.all([1, 2, 3, 4, 5].map((i) => sim.fetch(`/n${i}`)));
    await sim.advance(500);
    const urls = (await results).map((r) => JSON.parse(r.body).u);
    assert.deepEqual(urls, ['/n1', '/n2', '/n3', '/n4', '/n5']);
  });

  it(`drops connections beyond ${MAX_SOCKETS} sockets`, async () => {
    const sim = await portal(START_AP + 'require("http").createServer(function (q, s) { /* never answers */ }).listen(80);');
    await sim.advance(100);
    const clients: net.Socket[] = [];
    let dropped = 0;
    for (let i = 0; i < MAX_SOCKETS + 2; i++) {
      const c = net.connect(sim.httpPort(80), '127.0.0.1');
      c.on('error', () => {});
      c.on('close', () => dropped++);
      clients.push(c);
      await sim.advance(5);
    }
    await sim.advance(50);
    assert.equal(sim.socketCount(), MAX_SOCKETS);
    assert.equal(dropped, 3, '1 server + 9 connections fit');
    for (const c of clients) c.destroy();
  });
});
