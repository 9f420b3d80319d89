// TLS that cannot work for lack of memory (stock ESP32 builds leave about 40 KB of heap to mbedTLS,
// and Espruino then throws "mbedtls_ssl_setup: Not enough memory"): after three such failures in a
// row the ESP32 firmware falls back to plain TCP on `port`, and says so in words everywhere; a build
// with EDGENT_TLS=require stays on TLS (offline) instead. Other TLS failures are reported in words.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { world, BOARDS, TOKEN, HOME, provisionedFlash } from "../system/helpers.ts";

const ESP32 = BOARDS.find((b) => b.chip === "ESP32")!;
const ROOT = new URL("../..", import.meta.url).pathname;
const status = (sim: any) => JSON.parse(sim.repl("JSON.stringify(edgent.status())") as string);
const sentTo = (sim: any, to: string) => (sim.netStats.sent as { to: string }[]).some((c) => c.to === to);
const FALLBACK = /TLS failed 3 times in a row for lack of memory: falling back to plain TCP on port 80\. THE CLOUD LINK IS NOT ENCRYPTED/;

function buildRequire(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn("npx", ["rollup", "-c", "rollup.config.js"], {
      cwd: ROOT,
      env: { ...process.env, BOARD: ESP32.board, DIST_DIR: dir, EDGENT_TLS: "require" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    p.stderr.on("data", (d) => (err += d));
    p.on("error", reject);
    p.on("close", (rc) => (rc === 0 ? resolve() : reject(new Error("build with EDGENT_TLS=require failed:\n" + err))));
  });
}

describe(`TLS short of memory on ${ESP32.board}`, function () {
  this.timeout(120000);
  let env: Awaited<ReturnType<typeof world>> | undefined;
  afterEach(async () => {
    env?.sim.stop();
    await env?.cloud.close();
    env = undefined;
  });

  it("falls back to plain TCP on port 80 after three memory failures, goes online, and says so on the console and in edgent.status()", async () => {
    env = await world({ board: ESP32, storage: provisionedFlash(), sim: { tlsShortOfMemory: true } });
    const { sim, cloud } = env;
    assert.ok(await sim.until(() => status(sim).cloud === true, 120000), sim.console.slice(-12).join("\n"));
    const fails = sim.console.filter((l: string) => /Secure connection failed: mbedtls_ssl_setup: Not enough memory/.test(l));
    assert.equal(fails.length, 3, "three TLS attempts first");
    assert.ok(sim.console.some((l: string) => FALLBACK.test(l)), "the fallback is said in words");
    assert.ok(sentTo(sim, "blynk.cloud:80"), "the login went to the plain port");
    assert.equal(cloud.logins.length, 1);
    assert.equal(status(sim).link, "plain TCP, not encrypted: TLS failed for lack of memory");
  });

  it("a first setup on a board short of TLS memory still completes within the test's time, and the phone's status says plain TCP", async () => {
    env = await world({ board: ESP32, sim: { tlsShortOfMemory: true } });
    const { sim } = env;
    await sim.advance(3000);
    await sim.fetch("/config?ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + TOKEN + "&host=blynk.cloud&port=80&port_ssl=443");
    assert.ok(await sim.until(() => status(sim).state === "RUNNING", 60000), sim.console.slice(-12).join("\n"));
    const s = JSON.parse((await sim.fetch("/status.json")).body);
    assert.equal(s.test, "online");
    assert.equal(s.link, "plain TCP, not encrypted: TLS failed for lack of memory");
  });

  it("keeps TLS when it fails for another reason, and reports that reason in words (not only 702)", async () => {
    env = await world({ board: ESP32, hosts: { "blynk.cloud:443": "refuse" } });
    const { sim } = env;
    await sim.advance(3000);
    await sim.fetch("/config?ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(HOME.password) + "&blynk=" + TOKEN);
    assert.ok(await sim.until(() => status(sim).test === "cloud_unreachable", 60000), sim.console.slice(-12).join("\n"));
    assert.ok(!sentTo(sim, "blynk.cloud:80"), "no plain TCP");
    const s = JSON.parse((await sim.fetch("/status.json")).body);
    assert.equal(s.last_error, 702);
    assert.match(s.link, /^TLS; last attempt: Secure connection failed: Unable to create socket/);
    assert.match((await sim.fetch("/status")).body, /could not reach the Blynk cloud \(702\): TLS; last attempt: Secure connection failed: Unable to create socket/);
    assert.match(status(sim).link, /Secure connection failed/);
  });

  describe("built with EDGENT_TLS=require", function () {
    const dir = mkdtempSync(join(tmpdir(), "edgent-tls-"));
    const built = buildRequire(dir);
    built.catch(() => {}); // reported by the before hook
    before(() => built);
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("never falls back: stays on TLS, offline, and says why", async () => {
      env = await world({ board: ESP32, storage: provisionedFlash(), bundle: join(dir, ESP32.board + ".js"), sim: { tlsShortOfMemory: true } });
      const { sim, cloud } = env;
      assert.ok(await sim.until(() => sim.console.some((l: string) => /EDGENT_TLS=require forbids plain TCP: retrying TLS/.test(l)), 120000), sim.console.slice(-12).join("\n"));
      await sim.advance(120000);
      assert.ok(!sentTo(sim, "blynk.cloud:80"), "nothing sent in clear text");
      assert.equal(cloud.logins.length, 0);
      assert.match(status(sim).link, /^TLS; last attempt: Secure connection failed: mbedtls_ssl_setup: Not enough memory/);
      // the board with enough heap then gets online over TLS by itself
      sim.tlsMemory.short = false;
      assert.ok(await sim.until(() => status(sim).cloud === true, 120000));
      assert.equal(status(sim).link, "TLS");
    });
  });
});
