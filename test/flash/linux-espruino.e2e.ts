// `npm run flash` against a real Espruino: the LINUX build started with --telnet, whose console
// listens on tcp://127.0.0.1:2323 (fixed in Espruino's libs/network/telnet/jswrap_telnet.c).
// Runs only when ESPRUINO_BIN names that binary.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFlash } from "./run-flash.ts";
import { evaluate } from "../../tools/lib/espruino.ts";

const BIN = process.env.ESPRUINO_BIN;
const TELNET_PORT = 2323;

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

function waitForListener(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const c = net.connect(port, "127.0.0.1", () => {
        c.destroy();
        resolve();
      });
      c.on("error", () => (Date.now() > until ? reject(new Error(`nothing listens on ${port}`)) : setTimeout(attempt, 100)));
    };
    attempt();
  });
}

describe("npm run flash against the Espruino LINUX build (ESPRUINO_BIN)", function () {
  this.timeout(120_000);
  let dir: string;
  let espruino: ChildProcess | undefined;
  const url = `tcp://127.0.0.1:${TELNET_PORT}`;
  const id = `run-${process.pid}-${Date.now()}`;

  before(async function () {
    if (!BIN) {
      console.log("      skipped: set ESPRUINO_BIN to an Espruino LINUX binary (built with TELNET) to run these");
      return this.skip();
    }
    if (!(await portIsFree(TELNET_PORT))) {
      console.log(`      skipped: port ${TELNET_PORT} is in use; the LINUX build's telnet console needs it`);
      return this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), "flash-test-linux-"));
    // Storage lives in ./espruino.flash. Mark it so we can tell this instance from any other on 2323.
    spawnSync(BIN, ["-e", `require("Storage").write("edgent.testid",${JSON.stringify(id)});quit()`], { cwd: dir, stdio: "ignore", timeout: 10_000 });
    // stdin stays an open pipe: the REPL misbehaves once stdin reaches end of file.
    espruino = spawn(BIN, ["--telnet"], { cwd: dir, stdio: ["pipe", "ignore", "ignore"] });
    await waitForListener(TELNET_PORT, 10_000);
    const { value } = await evaluate({ port: url }, 'require("Storage").read("edgent.testid")');
    assert.equal(value, id, "another Espruino answers on port 2323");
  });

  after(() => {
    // The LINUX build ignores SIGTERM while its REPL runs.
    espruino?.kill("SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("stores a small bundle as .bootcde, erases .wificfg, and load() runs it", async () => {
    const dist = join(dir, "dist");
    mkdirSync(dist);
    const bundle = 'print("linux sample up");var n=0;var iv=setInterval(function(){print("tick "+(++n));if(n>20)clearInterval(iv)},100);\n';
    writeFileSync(join(dist, "nodemcu.js"), bundle);
    await evaluate({ port: url }, 'require("Storage").write(".wificfg","{mode:1}")');

    // process.env.BOARD is LINUX, so the family check must be skipped.
    const r = await runFlash(["--board", "nodemcu", "--port", url, "--dist", dist, "--force"], (out) => /tick 2/.test(out));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /found Espruino \S+ for LINUX/);
    assert.match(r.stdout, /linux sample up/);

    espruino!.kill("SIGKILL");
    await new Promise((r2) => espruino!.once("close", r2));
    espruino = undefined;
    const read = spawnSync(BIN!, ["-e", 'print("B64:"+btoa(require("Storage").read(".bootcde")));print("WIFI:"+require("Storage").read(".wificfg"));quit()'],
      { cwd: dir, encoding: "latin1", timeout: 20_000, stdio: ["ignore", "pipe", "pipe"] });
    const b64 = /B64:(\S+)/.exec(read.stdout)?.[1];
    assert.equal(Buffer.from(b64 ?? "", "base64").toString("latin1"), bundle);
    assert.match(read.stdout, /WIFI:undefined/);
  });
});
