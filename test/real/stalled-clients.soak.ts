// On the real interpreter: Espruino's HTTP server keeps a connection while the client has not sent
// its whole request, so the portal closes such connections itself (see closeStalledHttp in
// firmware/platform/espruino.ts). Needs ESPRUINO_BIN; skipped otherwise. Soak tier: it waits 27 s of
// real time (test/system/hostile.test.ts checks the same in the simulator's virtual time).
import assert from "node:assert/strict";
import { request } from "node:http";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { RealDevice, requireEspruino } from "./espruino.ts";

const bundle = fileURLToPath(new URL("../../dist/nodemcu.js", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("stalled portal clients on the real interpreter (nodemcu bundle)", function () {
  this.timeout(60000);
  let dev: RealDevice | undefined;
  beforeEach(function () {
    requireEspruino(this);
  });
  afterEach(async () => {
    await dev?.cleanup();
    dev = undefined;
  });

  it("closes clients that send nothing, half a request line, or less body than announced", async () => {
    dev = await RealDevice.start({ chip: "ESP8266", networks: [], bundle });
    await dev.waitForLog(/AP URL/, 10000);
    await dev.waitForEvent(/^LISTEN tcp 80 /, 10000); // the log line comes just before the server listens
    const t0 = Date.now();
    const clients = ["", "GET /board_info.js", "POST /config HTTP/1.1\r\nContent-Length: 100\r\n\r\nssid=a"].map((first) => {
      const c = { first, closedAfter: -1, reply: "" };
      const s = connect(dev!.httpPort(80), "127.0.0.1");
      s.on("data", (d) => (c.reply += String(d)));
      s.on("close", () => (c.closedAfter = Date.now() - t0));
      s.on("error", () => {});
      if (first) s.write(first);
      return c;
    });
    await sleep(27000);
    const [silent, half, short] = clients;
    assert.ok(silent.closedAfter >= 9000 && silent.closedAfter <= 16000, "silent client closed after " + silent.closedAfter + " ms");
    assert.ok(half.closedAfter >= 9000 && half.closedAfter <= 16000, "half request line closed after " + half.closedAfter + " ms");
    assert.match(short.reply, /^HTTP\/1\.[01] 408/, "short body: 408 after the request timeout");
    assert.ok(short.closedAfter > 0 && short.closedAfter <= 26000, "short body closed after " + short.closedAfter + " ms");
    // and the portal still answers
    const status = await new Promise<number>((resolve) => {
      const req = request({ host: "127.0.0.1", port: dev!.httpPort(80), path: "/board_info.json", headers: { Host: "192.168.4.1" } }, (res) => {
        res.resume();
        resolve(res.statusCode || 0);
      });
      req.on("error", () => resolve(0));
      req.end();
    });
    assert.equal(status, 200);
    assert.deepEqual(dev.errors(), []);
  });
});
