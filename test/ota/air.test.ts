// The fake Blynk.Air server on its own, with Node's HTTP client: the headers Blynk sends and the
// request record. Its faults are exercised by download.test.ts.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { request } from "node:http";
import { startFakeAir, FakeAir } from "../../sim/fake-cloud/air.ts";
import { withFwTag } from "../../scripts/fw-info.js";

function get(url: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (d: Buffer) => parts.push(d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

describe("fake Blynk.Air server", () => {
  let air: FakeAir;
  beforeEach(async () => {
    air = await startFakeAir();
  });
  afterEach(() => air.close());

  it("serves a file with Content-Length, x-md5 in hex and x-sha256 in base64", async () => {
    const file = Buffer.from("x".repeat(5000));
    air.serve("fw.js", file);
    const r = await get(air.url("fw.js"));
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, file);
    assert.equal(r.headers["content-length"], "5000");
    assert.equal(r.headers["x-md5"], createHash("md5").update(file).digest("hex"));
    assert.equal(r.headers["x-sha256"], createHash("sha256").update(file).digest("base64"));
  });

  it("sends x-fw-type, x-fw-ver and x-fw-build from the file's blnkinf tag", async () => {
    air.serve("fw.js", withFwTag("print(1);", { mcu: "1.2.3", "fw-type": "TMPL0123456", build: "Jan  1 2026 12:00:00" }));
    const r = await get(air.url("fw.js"));
    assert.deepEqual([r.headers["x-fw-type"], r.headers["x-fw-ver"], r.headers["x-fw-build"]], ["TMPL0123456", "1.2.3", "Jan  1 2026 12:00:00"]);
  });

  it("answers 404 for a file it does not have", async () => {
    assert.equal((await get(air.url("missing.js"))).status, 404);
  });

  it("records each request: path, query, headers as sent, status and body bytes", async () => {
    air.serve("fw.js", Buffer.alloc(2000, 1));
    await get(air.url("fw.js", "token=abc&s=0"));
    await new Promise((r) => setTimeout(r, 20));
    const q = air.requests[0];
    assert.deepEqual([q.method, q.path, q.query, q.name, q.status, q.sent, q.complete, q.clientGone], ["GET", "/air/fw.js", "token=abc&s=0", "fw.js", 200, 2000, true, false]);
    assert.ok(q.headers.some(([k]) => k === "Host"));
    assert.equal(air.openCount(), 0);
  });
});
