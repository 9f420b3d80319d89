// The OTA pieces on the real Espruino interpreter (LINUX builds): ESPRUINO_BIN (resizable, 64-bit)
// and ESPRUINO_BIN_1600 (1600 JsVars of 12 bytes, the ESP8266 memory model; code from Storage stays
// in flash there, as on the chip). Skipped without them. real.test.ts hashes and downloads a few KB
// on the resizable build; real.soak.ts 40 KB on both.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RealDevice, espruinoBin, executable, SKIP_MESSAGE } from "../real/espruino.ts";
import { startFakeAir, FakeAir } from "../../sim/fake-cloud/air.ts";
import { withFwTag } from "../../scripts/fw-info.js";
import { bundleEntry, fw } from "./bundle.ts";
import { otaBundle, parseOtaLine } from "./device.ts";
import { rng } from "./helpers.ts";

const SKIP_1600 = "ESPRUINO_BIN_1600 not set: skipping 1600-JsVar test";
const bin1600 = () => executable(process.env.ESPRUINO_BIN_1600);
/** `size` bytes of a firmware file (the same bytes for the same size). */
const firmwareFile = (size: number) => Buffer.from(Array.from({ length: size }, ((r) => () => Math.floor(r() * 256))(rng(34))));

function skipWith(ctx: Mocha.Context, message: string): never {
  const t = ctx.currentTest ?? ctx.test;
  if (t && !t.title.includes(message)) t.title += ` (${message})`;
  ctx.skip();
}

export type Interpreter = "resizable" | "1600 JsVars";

/** The interpreters asked for, with the options to start a device on each (bin unset: skipped). */
function interpreters(names: Interpreter[] = ["resizable", "1600 JsVars"]): { name: string; bin?: string; lean: boolean; skip: string }[] {
  return [
    { name: "resizable", bin: espruinoBin(), lean: false, skip: SKIP_MESSAGE },
    { name: "1600 JsVars", bin: bin1600(), lean: true, skip: SKIP_1600 },
  ].filter((i) => names.includes(i.name as Interpreter));
}

/** Runs a script file with `espruino` (no boot code) in a fresh directory; returns stdout. */
function runScript(bin: string, code: string): string {
  const dir = mkdtempSync(join(tmpdir(), "ota-real-"));
  try {
    writeFileSync(join(dir, "t.js"), code, "latin1");
    const r = spawnSync(bin, ["t.js"], { cwd: dir, encoding: "latin1", timeout: 120000, stdio: ["ignore", "pipe", "pipe"] });
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The same generator on both sides: xorshift32 in 32-bit operations only
const XORSHIFT = `var seed = 12345;
function chunk(n) { var s = ""; for (var i = 0; i < n; i++) { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; seed |= 0; s += String.fromCharCode(seed & 255); } return s; }`;
function xorshiftBytes(n: number): Buffer {
  let seed = 12345;
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed |= 0;
    b[i] = seed & 255;
  }
  return b;
}

async function bundleFile(code: string | Buffer): Promise<{ file: string; done: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), "ota-bundle-"));
  const file = join(dir, "bundle.js");
  writeFileSync(file, code);
  return { file, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** MD5 and SHA-256 (string and ArrayBuffer input) over `size` bytes in 268-byte chunks on the resizable build. */
export function hashesOnInterpreter(size: number): void {
  const updates = Math.ceil(size / 268);
  it(`the hashes give node:crypto's digests for ${size / 1024} KB in 268-byte chunks, and leave RAM where it was`, async function () {
    const bin = espruinoBin();
    if (!bin) skipWith(this, SKIP_MESSAGE);
    const code = await bundleEntry(`import { md5 } from ${fw("ota/md5.ts")}; import { sha256 } from ${fw("ota/sha256.ts")}; import { hex } from ${fw("ota/hash.ts")};
global.H = { md5: md5, sha256: sha256, hex: hex };`);
    const out = runScript(bin, code + "\n" + XORSHIFT + `
var chunks = []; for (var i = 0; i < ${size}; i += 268) chunks.push(chunk(Math.min(268, ${size} - i)));
["md5", "sha256"].forEach(function (name) {
  [undefined, E.toArrayBuffer].forEach(function (tb) {
    var h = H[name](tb), m0, m1;
    for (var i = 0; i < chunks.length; i++) { h.update(chunks[i]); if (i === 10) m0 = process.memory().usage; }
    m1 = process.memory().usage;
    print("@@" + name + " " + (tb ? "buf" : "str") + " " + H.hex(h.digest()) + " " + (m1 - m0));
  });
});
`);
    const data = xorshiftBytes(size);
    const want = { md5: createHash("md5").update(data).digest("hex"), sha256: createHash("sha256").update(data).digest("hex") };
    const lines = out.split("\n").filter((l) => l.startsWith("@@"));
    assert.equal(lines.length, 4, out.slice(-2000));
    for (const l of lines) {
      const [name, how, digest, grew] = l.slice(2).trim().split(" ");
      assert.equal(digest, want[name as "md5" | "sha256"], `${name} (${how})`);
      assert.equal(Number(grew), 0, `${name} (${how}): JsVars in use grew by ${grew} over ${updates - 11} updates`);
    }
  });
}

/** Native SHA-256 of a stored file and a firmware info tag in .bootcde, on every interpreter that is set. */
export function storedFileOnInterpreters(): void {
  const FILE = firmwareFile(40960);
  for (const it_ of interpreters()) {
    it(`${it_.name}: native require("crypto").SHA256 of the stored file matches node:crypto`, async function () {
      if (!it_.bin) skipWith(this, it_.skip);
      const b = await bundleFile(";\n");
      const dev = await RealDevice.start({ bundle: b.file, chip: "ESP8266", bin: it_.bin, lean: it_.lean, files: { "fw.new": FILE }, bootTimeoutMs: 60000 });
      try {
        const got = await dev.evalJSON<string>('btoa(require("crypto").SHA256(require("Storage").read("fw.new")))', 30000);
        assert.equal(got, createHash("sha256").update(FILE).digest("base64"));
      } finally {
        await dev.cleanup();
        b.done();
      }
    });

    it(`${it_.name}: a bundle with a blnkinf tag runs from .bootcde and Espruino stops reading at the NUL`, async function () {
      if (!it_.bin) skipWith(this, it_.skip);
      const tagged = withFwTag("global.__before = 1;\n// a last comment line", { mcu: "0.1.0", "fw-type": "TMPL4xxxxxxxx", build: "Jan  1 2026 12:00:00", blynk: "1.4.0" });
      const b = await bundleFile(Buffer.concat([tagged, Buffer.from("\nglobal.__after = 1;\n")]));
      const dev = await RealDevice.start({ bundle: b.file, chip: "ESP8266", bin: it_.bin, lean: it_.lean, bootTimeoutMs: 60000 });
      try {
        assert.equal(await dev.evalJSON("[global.__before, global.__after]", 30000).then(JSON.stringify), "[1,null]");
        assert.deepEqual(dev.errors(), []);
      } finally {
        await dev.cleanup();
        b.done();
      }
    });
  }

}

/**
 * The downloader with Espruino's http client and Storage: `size` bytes downloaded three ways and
 * verified, and a second download, on the `interpreters` named; with `close`, close() during a download.
 */
export function downloaderOnInterpreters(o: { size: number; interpreters: Interpreter[]; close: boolean }): void {
  const FILE = firmwareFile(o.size);
  const KB = o.size / 1024;
  describe("the downloader with Espruino's http client and Storage", () => {
    let air: FakeAir;
    let bundle: { file: string; done: () => void };
    before(async () => {
      bundle = await bundleFile(await otaBundle());
    });
    after(() => bundle.done());
    beforeEach(async () => {
      air = await startFakeAir();
    });
    afterEach(() => air.close());

    async function device(bin: string, lean: boolean): Promise<RealDevice> {
      return RealDevice.start({ bundle: bundle.file, chip: "ESP8266", bin, lean, bootTimeoutMs: 60000 });
    }
    async function ota(dev: RealDevice, options: Record<string, unknown> = {}) {
      const from = dev.events.length;
      await dev.eval(`__ota.start(${JSON.stringify(air.url("fw.js"))}, ${JSON.stringify(options)})`, 30000);
      return parseOtaLine(await dev.waitForEvent(/^OTA \{/, 240000, from));
    }

    for (const it_ of interpreters(o.interpreters)) {
      it(`${it_.name}: downloads ${KB} KB into Storage and verifies it (MD5, SHA-256 in JS, native SHA-256)`, async function () {
        if (!it_.bin) skipWith(this, it_.skip);
        const s = air.serve("fw.js", FILE);
        const dev = await device(it_.bin, it_.lean);
        try {
          for (const [options, hash, digest] of [[{ prefer: "md5" }, "md5", s.md5], [{}, "sha256", s.sha256], [{ native: true }, "sha256", s.sha256]] as const) {
            const r = await ota(dev, options);
            assert.deepEqual([r.ok, r.size, r.hash, r.digest], [true, FILE.length, hash, digest], JSON.stringify(r));
            const stored = await dev.evalJSON<string>('btoa(require("crypto").SHA256(require("Storage").read("fw.new")))', 60000);
            assert.equal(stored, s.sha256, "the file in Storage is the served file");
          }
          assert.deepEqual(dev.errors(), []);
        } finally {
          await dev.cleanup();
        }
      });

      it(`${it_.name}: a second download of ${KB} KB leaves RAM where the first left it`, async function () {
        if (!it_.bin) skipWith(this, it_.skip);
        air.serve("fw.js", FILE);
        const dev = await device(it_.bin, it_.lean);
        try {
          await ota(dev, { prefer: "md5" });
          const first = (await dev.memory()).usage;
          await ota(dev, { prefer: "md5" });
          const second = (await dev.memory()).usage;
          assert.equal(second, first);
        } finally {
          await dev.cleanup();
        }
      });
    }

    if (o.close) it("close() makes Espruino close the connection at once (req.clsNow)", async function () {
      const bin = bin1600() ?? espruinoBin();
      if (!bin) skipWith(this, SKIP_MESSAGE);
      air.serve("fw.js", firmwareFile(40960), { trickle: { bytes: 1024, everyMs: 100 } }); // 4 s of trickle: still running at close()
      const dev = await device(bin, bin === bin1600());
      try {
        const from = dev.events.length;
        await dev.eval(`__ota.start(${JSON.stringify(air.url("fw.js"))}, {prefer: "md5"})`, 30000);
        const t0 = Date.now();
        while (air.requests.length === 0 || air.requests[0].sent < 3000) {
          assert.ok(Date.now() - t0 < 30000, "the download did not start");
          await new Promise((r) => setTimeout(r, 20));
        }
        await dev.eval("__ota.close()", 30000);
        const t1 = Date.now();
        while (air.openCount() > 0) {
          assert.ok(Date.now() - t1 < 5000, "Espruino kept the connection open after close()");
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(air.requests[0].clientGone, true);
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(dev.events.slice(from).filter((e) => e.startsWith("OTA")), ["OTA closed"], "no outcome after close()");
      } finally {
        await dev.cleanup();
      }
    });
  });
}
