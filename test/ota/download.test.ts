// The OTA downloader in Node: firmware/ota/download.ts against the fake Blynk.Air server, through a
// client with the shapes of Espruino's http.get (./espruino-http.ts), on real sockets and timers.
import assert from "node:assert/strict";
import { createServer, Server } from "node:net";
import { download, parseUrl, DownloadOptions, DownloadResult, Download } from "../../firmware/ota/download.ts";
import { startFakeAir, FakeAir, AirFaults } from "../../sim/fake-cloud/air.ts";
import { espruinoHttp, EspHttp, EspHttpOptions } from "./espruino-http.ts";
import { withFwTag } from "../../scripts/fw-info.js";
import { rng, toBuffer } from "./helpers.ts";
import { stored } from "../../firmware/ota/hash.ts";
import { createHash } from "node:crypto";

const FILE = Buffer.from(Array.from({ length: 40960 }, ((r) => () => Math.floor(r() * 256))(rng(13))));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Timers that know which are still pending. */
function trackedTimers() {
  const live = new Set<NodeJS.Timeout>();
  return {
    live,
    setTimeout: (fn: () => void, ms: number) => {
      const t = setTimeout(() => {
        live.delete(t);
        fn();
      }, ms);
      live.add(t);
      return t;
    },
    clearTimeout: (t: NodeJS.Timeout) => {
      live.delete(t);
      clearTimeout(t);
    },
  };
}

interface Run {
  result?: DownloadResult;
  results: DownloadResult[];
  /** What the sink holds, and each write's offset and size argument. */
  sink: Buffer;
  writes: { offset: number; length: number; size: number }[];
  progress: [number, number][];
  http: EspHttp;
  timers: ReturnType<typeof trackedTimers>;
  handle: Download;
  done: Promise<DownloadResult>;
  returnedFirst: boolean;
}

describe("OTA download (Node, Espruino-shaped http client, fake Blynk.Air)", function () {
  this.timeout(20000);
  let air: FakeAir;
  const extra: Server[] = [];

  beforeEach(async () => {
    air = await startFakeAir();
  });
  afterEach(async () => {
    await air.close();
    for (const s of extra.splice(0)) s.close();
  });

  function start(o: Partial<DownloadOptions> & { http?: EspHttpOptions } = {}): Run {
    const http = espruinoHttp(o.http ?? { chunkSize: 536 });
    const timers = trackedTimers();
    const run = { results: [], sink: Buffer.alloc(0), writes: [], progress: [], http, timers, returnedFirst: false } as unknown as Run;
    let returned = false;
    run.done = new Promise((resolve) => {
      run.handle = download({
        url: air.url("fw.js"),
        get: http.get as unknown as DownloadOptions["get"],
        write(chunk, offset, size) {
          run.writes.push({ offset, length: chunk.length, size });
          if (offset === 0) run.sink = Buffer.alloc(size);
          run.sink.write(chunk, offset, "latin1");
        },
        room: 100000,
        now: () => performance.now(),
        onDone(r) {
          run.returnedFirst = returned;
          run.results.push(r);
          run.result = r;
          resolve(r);
        },
        onProgress: (got, size) => void run.progress.push([got, size]),
        setTimeout: timers.setTimeout,
        clearTimeout: timers.clearTimeout,
        toBuffer,
        ...o,
      });
      returned = true;
    });
    return run;
  }

  /** The outcome, after checking it came once, after download() returned, and left nothing behind. */
  async function outcome(run: Run): Promise<DownloadResult> {
    const r = await run.done;
    await run.http.idle();
    await sleep(30);
    assert.equal(run.results.length, 1, "exactly one outcome");
    assert.ok(run.returnedFirst, "onDone came after download() returned");
    assert.equal(run.timers.live.size, 0, "no timer left");
    return r;
  }

  async function failure(run: Run) {
    const r = await outcome(run);
    assert.equal(r.ok, false, "expected a failure, got " + JSON.stringify(r));
    return r as Extract<DownloadResult, { ok: false }>;
  }

  function serve(faults?: AirFaults, bytes: Buffer = FILE) {
    return air.serve("fw.js", bytes, faults);
  }

  it("downloads the file: HTTP 200, each byte written once at its offset, SHA-256 verified", async () => {
    const s = serve();
    const run = start();
    const r = await outcome(run);
    assert.deepEqual(r, { ok: true, size: FILE.length, hash: "sha256", digest: s.sha256, fwType: undefined, fwVer: undefined, fwBuild: undefined });
    assert.deepEqual(run.sink, FILE);
    let at = 0;
    for (const w of run.writes) {
      assert.equal(w.offset, at, "contiguous writes");
      assert.equal(w.size, FILE.length, "every write is told the Content-Length");
      at += w.length;
    }
    assert.equal(at, FILE.length);
    assert.deepEqual(run.progress.at(-1), [FILE.length, FILE.length]);
  });

  it("checks the MD5 when the server sends only x-md5", async () => {
    const s = serve({ sha256: null });
    const r = await outcome(start());
    assert.equal(r.ok && r.hash, "md5");
    assert.equal(r.ok && r.digest, s.md5);
  });

  it("checks the MD5 when asked to prefer it and both headers come", async () => {
    serve();
    const r = await outcome(start({ prefer: "md5" }));
    assert.equal(r.ok && r.hash, "md5");
  });

  it("checks the SHA-256 when MD5 is preferred but only x-sha256 comes", async () => {
    serve({ md5: null });
    const r = await outcome(start({ prefer: "md5" }));
    assert.equal(r.ok && r.hash, "sha256");
  });

  it("passes on x-fw-type, x-fw-ver and x-fw-build (from the file's blnkinf tag)", async () => {
    const tagged = withFwTag(FILE.toString("latin1"), { mcu: "0.2.0", "fw-type": "TMPL4xxxxxxxx", build: "Jan  1 2026 12:00:00", blynk: "1.4.0" });
    serve({}, tagged);
    const r = await outcome(start());
    assert.ok(r.ok);
    assert.equal(r.size, tagged.length);
    assert.deepEqual([r.fwType, r.fwVer, r.fwBuild], ["TMPL4xxxxxxxx", "0.2.0", "Jan  1 2026 12:00:00"]);
  });

  it("checks the digest of the stored file when given a hash factory such as stored() (a native hash on the ESP32)", async () => {
    const s = serve();
    let run: Run | undefined = undefined;
    run = start({ sha256: () => stored(() => createHash("sha256").update(run!.sink).digest().toString("latin1")) });
    const r = await outcome(run);
    assert.deepEqual([r.ok, r.ok && r.digest], [true, s.sha256]);
  });

  it("fails with HTTP 404 for a file the server does not have", async () => {
    const run = start({ url: air.url("nope.js") });
    const r = await failure(run);
    assert.deepEqual([r.code, r.message], ["http", "HTTP 404"]);
    assert.equal(run.writes.length, 0);
  });

  it("fails with HTTP 500 when the server errs", async () => {
    serve({ status: 500 });
    const r = await failure(start());
    assert.deepEqual([r.code, r.message], ["http", "HTTP 500"]);
  });

  it("fails without a Content-Length", async () => {
    serve({ contentLength: null });
    const run = start();
    const r = await failure(run);
    assert.deepEqual([r.code, r.message], ["length", "no Content-Length"]);
    assert.equal(run.writes.length, 0);
  });

  it("fails a Content-Length below the minimum of 1024 bytes", async () => {
    serve({}, FILE.subarray(0, 1000));
    const r = await failure(start());
    assert.deepEqual([r.code, r.message], ["length", "Content-Length 1000 is below the minimum of 1024 bytes"]);
  });

  it("fails with 'Storage full' before writing anything when the file is bigger than the room", async () => {
    serve();
    const run = start({ room: 12000 });
    const r = await failure(run);
    assert.deepEqual([r.code, r.message], ["room", "Storage full: 40960 bytes needed, 12000 free"]);
    assert.equal(run.writes.length, 0);
  });

  it("fails without an X-SHA256 or X-MD5 header", async () => {
    serve({ md5: null, sha256: null });
    const r = await failure(start());
    assert.deepEqual([r.code, r.message], ["hash", "no X-SHA256 or X-MD5 header"]);
  });

  it("fails an X-SHA256 header that is not 44 base64 characters", async () => {
    serve({ sha256: "abc" });
    const r = await failure(start());
    assert.deepEqual([r.code, r.message], ["hash", "X-SHA256 is not 44 base64 characters: abc"]);
  });

  it("fails an X-MD5 header that is not 32 hex digits", async () => {
    serve({ sha256: null, md5: "xyz" });
    const r = await failure(start());
    assert.deepEqual([r.code, r.message], ["hash", "X-MD5 is not 32 hex digits: xyz"]);
  });

  it("accepts an X-MD5 header in upper case", async () => {
    const s = serve({ sha256: null, md5: air.serve("x", FILE).md5.toUpperCase() });
    const r = await outcome(start());
    assert.equal(r.ok && r.digest, s.md5);
  });

  it("fails 'body ended at 12000 of 40960 bytes' when the server closes early", async () => {
    serve({ cutAt: 12000 });
    const run = start();
    const r = await failure(run);
    assert.deepEqual([r.code, r.message, r.got, r.size], ["short", "body ended at 12000 of 40960 bytes", 12000, 40960]);
  });

  it("fails as a short body when Content-Length announces more than is sent", async () => {
    serve({ contentLength: FILE.length + 1000 });
    const r = await failure(start());
    assert.deepEqual([r.code, r.message], ["short", "body ended at 40960 of 41960 bytes"]);
  });

  it("fails as a short body, naming the error, when the connection is reset", async () => {
    serve({ resetAt: 8000, chunk: 1000 });
    const r = await failure(start());
    assert.equal(r.code, "short");
    assert.match(r.message, /^body ended at \d+ of 40960 bytes: connection reset$/);
  });

  it("fails a body longer than its Content-Length", async () => {
    serve({ extra: 600 });
    const r = await failure(start());
    assert.deepEqual([r.code, r.message], ["long", "body longer than its Content-Length of 40960 bytes"]);
  });

  it("fails 'MD5 mismatch' when the body is not what x-md5 says", async () => {
    const wrong = "0123456789abcdef0123456789abcdef";
    const s = serve({ sha256: null, md5: wrong });
    const r = await failure(start());
    assert.deepEqual([r.code, r.message], ["mismatch", `MD5 mismatch: got ${s.md5}, expected ${wrong}`]);
  });

  it("fails 'SHA-256 mismatch' when the body is not what x-sha256 says", async () => {
    const wrong = Buffer.alloc(32, 7).toString("base64");
    const s = serve({ sha256: wrong });
    const r = await failure(start());
    assert.deepEqual([r.code, r.message], ["mismatch", `SHA-256 mismatch: got ${s.sha256}, expected ${wrong}`]);
  });

  it("times out when no response comes", async () => {
    const mute = createServer(() => {}); // accepts, never answers
    extra.push(mute);
    await new Promise<void>((r) => mute.listen(0, "127.0.0.1", () => r()));
    const port = (mute.address() as { port: number }).port;
    const run = start({ url: `http://127.0.0.1:${port}/fw.js`, connectMs: 300 });
    const r = await failure(run);
    assert.deepEqual([r.code, r.message], ["timeout", "no response within 0.3 s"]);
    assert.equal(run.http.stats.aborted, 1, "the connection was closed");
  });

  it("times out when the body stalls, and closes the connection", async () => {
    serve({ stallAt: 5000 });
    const run = start({ idleMs: 300 });
    const r = await failure(run);
    assert.deepEqual([r.code, r.message, r.got], ["timeout", "timeout after 0.3 s without data", 5000]);
    await sleep(50);
    assert.equal(air.openCount(), 0, "the server saw the connection close");
    assert.equal(air.requests[0].clientGone, true);
  });

  it("completes a slow trickle whose pauses stay within the idle limit", async () => {
    serve({ trickle: { bytes: 4096, everyMs: 60 } });
    const r = await outcome(start({ idleMs: 400 }));
    assert.equal(r.ok, true);
  });

  it("fails to connect when the port refuses (reported on the request, as the ESP8266 does)", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const r = await failure(start({ url: `http://127.0.0.1:${port}/fw.js` }));
    assert.deepEqual([r.code, r.message], ["connect", "connection failed: connection reset"]);
  });

  it("fails to connect, after download() returned, when get() throws (the ESP32 refuses at once)", async () => {
    const run = start({ get: () => { throw new Error("Unable to create socket"); } });
    const r = await failure(run);
    assert.deepEqual([r.code, r.message], ["connect", "connection failed: Unable to create socket"]);
  });

  it("fails to connect when get() returns nothing (Espruino's get while offline)", async () => {
    const r = await failure(start({ get: () => undefined }));
    assert.deepEqual([r.code, r.message], ["connect", "connection failed: network offline"]);
  });

  it("fails a URL it cannot use", async () => {
    for (const url of ["ftp://host/x", "http://", "http://host:0/x", "http://host:70000/", "no scheme"]) {
      const r = await failure(start({ url }));
      assert.deepEqual([r.code, r.message], ["url", "bad URL: " + url]);
    }
  });

  it("fails the download with the sink's words when a write throws, and stops", async () => {
    serve();
    let calls = 0;
    const r = await failure(
      start({
        write(_chunk, offset) {
          calls++;
          if (offset > 10000) throw new Error("Unable to find or create file");
        },
      }),
    );
    assert.equal(r.code, "write");
    assert.match(r.message, /^write failed at \d+ of 40960 bytes: Unable to find or create file$/);
    const at = calls;
    await sleep(50);
    assert.equal(calls, at, "no write after the failure");
  });

  it("takes chunks of any size, 1 to 1460 bytes, and verifies the same file", async () => {
    const small = FILE.subarray(0, 4096);
    const s = serve({ chunk: 97 }, small);
    for (const chunkSize of [1, 3, 63, 64, 65, 268, 536, 1000, 1460]) {
      const run = start({ http: { chunkSize } });
      const r = await outcome(run);
      assert.ok(r.ok && r.digest === s.sha256, "chunk size " + chunkSize);
      assert.deepEqual(run.sink, small, "chunk size " + chunkSize);
      assert.ok(Math.max(...run.http.stats.chunks) <= chunkSize, "chunks of at most " + chunkSize);
    }
  });

  it("close() during the download stops it: no outcome, no timer, the connection closed", async () => {
    serve({ trickle: { bytes: 2048, everyMs: 20 } });
    const run = start();
    while (run.progress.length < 2) await sleep(5);
    run.handle.close();
    const writes = run.writes.length;
    await run.http.idle();
    await sleep(100);
    assert.equal(run.results.length, 0, "no outcome after close()");
    assert.equal(run.writes.length, writes, "no write after close()");
    assert.equal(run.timers.live.size, 0, "no timer left");
    assert.equal(run.http.stats.aborted, 1, "the client closed the connection (clsNow)");
    assert.equal(air.requests[0].clientGone, true);
  });

  it("close() inside onProgress stops at once", async () => {
    serve();
    let run: Run | undefined = undefined;
    run = start({ onProgress: () => run!.handle.close() });
    await run.http.idle();
    await sleep(30);
    assert.equal(run.writes.length, 1);
    assert.equal(run.results.length, 0);
    assert.equal(run.timers.live.size, 0);
  });

  it("close() twice, or after the outcome, does nothing", async () => {
    serve();
    const run = start();
    await outcome(run);
    run.handle.close();
    run.handle.close();
    assert.equal(run.results.length, 1);
    const early = start();
    early.handle.close();
    early.handle.close();
    await early.http.idle();
    assert.equal(early.results.length, 0);
    assert.equal(early.timers.live.size, 0);
  });

  describe("URL and scheme rules", () => {
    it("parses Blynk.Air URLs like OTA.h's parseURL", () => {
      assert.deepEqual(parseUrl("https://fra1.blynk.cloud/ota/fw?token=x&s=1"), { https: true, host: "fra1.blynk.cloud", port: 443, path: "/ota/fw?token=x&s=1" });
      assert.deepEqual(parseUrl("http://10.0.0.5:8080"), { https: false, host: "10.0.0.5", port: 8080, path: "/" });
      assert.deepEqual(parseUrl("HTTP://host/a"), { https: false, host: "host", port: 80, path: "/a" });
    });

    it("fetches an https:// URL over plain HTTP on a chip without TLS (scheme 'http', Edgent's ESP8266 rule)", async () => {
      serve();
      const run = start({ url: air.url("fw.js").replace("http://", "https://"), scheme: "http" });
      const r = await outcome(run);
      assert.equal(r.ok, true);
      assert.equal(run.http.stats.requests[0].protocol, "http:");
    });

    it("keeps https when the URL ends in &s=1, and fails where there is no TLS", async () => {
      serve();
      const run = start({ url: air.url("fw.js", "token=t&s=1").replace("http://", "https://"), scheme: "http" });
      const r = await failure(run);
      assert.deepEqual([r.code, r.message], ["connect", "connection failed: No SSL support compiled in"]);
    });

    it("fetches an http:// URL over TLS on a chip with TLS (scheme 'https', Edgent's ESP32 rule), unless it ends in &s=0", async () => {
      serve();
      const tls = start({ scheme: "https", http: { tls: true } });
      assert.equal((await outcome(tls)).ok, true);
      assert.equal(tls.http.stats.requests[0].protocol, "https:");
      assert.equal(tls.http.stats.requests[0].port, air.port, "an explicit port stays");
      const plain = start({ url: air.url("fw.js", "token=t&s=0"), scheme: "https", http: { tls: true } });
      await outcome(plain);
      assert.equal(plain.http.stats.requests[0].protocol, "http:");
    });
  });
});
