// A build with EDGENT_SETUP_CODE: the access point is WPA2 with the code as its password, /config
// and /reset need the code (form field `code` or header X-Setup-Code), wrong codes lock the portal
// for 30 s after five, and the code never shows up in an answer or on the console. The same build
// also asks for Espruino's telnet console with EDGENT_TELNET=on (default builds turn it off).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { world, BOARDS, TOKEN, HOME, provisionedFlash } from "./helpers.ts";
import { systemSuite, type TestDevice } from "./device.ts";
import { bundleState } from "../../tools/lib/bundle.ts";

const CODE = "Qx7-lamp-42k9";
const ROOT = new URL("../../", import.meta.url).pathname;
const FORM = { "Content-Type": "application/x-www-form-urlencoded" };
const configBody = (pass: string) => "ssid=" + HOME.ssid + "&pass=" + encodeURIComponent(pass) + "&blynk=" + TOKEN;

function build(dir: string, boards: string[], code: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn("npx", ["rollup", "-c", "rollup.config.js"], {
      cwd: ROOT,
      env: { ...process.env, BOARD: boards.join(","), DIST_DIR: dir, EDGENT_SETUP_CODE: code, EDGENT_TELNET: "on" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    p.stderr.on("data", (d) => (err += d));
    p.on("error", reject);
    p.on("close", (rc) => (rc === 0 ? resolve() : reject(new Error("build with a setup code failed:\n" + err))));
  });
}

describe("setup code", function () {
  this.timeout(120000);
  const dir = mkdtempSync(join(tmpdir(), "edgent-code-"));
  // Started when mocha loads this file, so the build (about half a minute) runs on another core
  // while the files before this one are tested; a failed build fails this hook, not the process.
  const built = build(dir, BOARDS.map((b) => b.board), CODE);
  built.catch(() => {});
  before(() => built);
  after(() => rmSync(dir, { recursive: true, force: true }));

  systemSuite("a setup-code build", ({ board: b, boot: bootDevice, simOnly }) => {
    let d: TestDevice;
    /** Every answer the device gave in this test, to check the code never leaks. */
    let seen: string[];
    const boot = async (opts: { files?: Record<string, string> } = {}) => {
      d = await bootDevice({ bundle: join(dir, b.board + ".js"), ...opts });
      seen = [];
      return d;
    };
    const get = async (path: string, init: any = {}) => {
      const r = await d.fetch(path, init);
      seen.push(r.raw);
      return r;
    };
    /** A refused request: a 4xx JSON error saying why, and nothing written or joined. */
    const refused = async (path: string, init: any, status: number, msg: RegExp) => {
      const flash = await d.flash();
      const joins = d.joins().length;
      const r = await get(path, init);
      assert.equal(r.status, status, r.body);
      assert.match(r.headers["content-type"], /application\/json/);
      const j = JSON.parse(r.body);
      assert.equal(j.status, "error");
      assert.match(j.msg, msg);
      await d.advance(500);
      assert.deepEqual(await d.flash(), flash, "nothing written to flash");
      assert.equal(d.joins().length, joins, "no attempt to join a network");
    };
    const WRONG = /setup code is missing or wrong/i;
    const LOCKED = /too many wrong setup codes; wait 30 seconds/i;
    afterEach(() => {
      const all = seen.join("\n") + "\n" + d.console.join("\n");
      assert.ok(!all.includes(CODE), "the setup code appears in an answer or on the console");
    });

    simOnly("keeps Espruino's telnet console on when built with EDGENT_TELNET=on, and says so", "the real-interpreter prelude has no telnet server to switch", async () => {
      await boot();
      await d.advance(2000);
      assert.equal(d.sim.telnet, "on");
      assert.ok(d.console.some((l: string) => /Telnet console on port 23 is open/.test(l)));
    });

    it("runs its access point with WPA2 and the code as password, and the page asks for the code", async () => {
      await boot();
      assert.ok(await d.portal());
      const ap = await d.ap();
      assert.equal(ap.up, true);
      assert.equal(ap.authMode, "wpa2");
      assert.equal(ap.password, CODE);
      const page = await get("/");
      assert.equal(page.status, 200);
      assert.match(page.body, /<label for="code">Setup code<\/label><input id="code" name="code" required/);
      for (const p of ["/board_info.json", "/status.json", "/status", "/wifi_scan.json"]) assert.equal((await get(p)).status, 200, p);
    });

    it("refuses /config without the code or with a wrong one, and accepts it as form field or header", async () => {
      await boot();
      assert.ok(await d.portal());
      await refused("/config?" + configBody(HOME.password), {}, 403, WRONG);
      await refused("/config", { method: "POST", headers: FORM, body: configBody(HOME.password) + "&code=" + CODE.slice(0, -1) }, 403, WRONG);
      await refused("/config?" + configBody(HOME.password), { headers: { "X-Setup-Code": CODE + "x" } }, 403, WRONG);
      // the browser form gets the page back with the reason, and keeps what was typed
      const form = await get("/config", { method: "POST", headers: FORM, body: "ui=1&" + configBody(HOME.password) + "&code=nope" });
      assert.equal(form.status, 400);
      assert.match(form.body, /<p class="e">Setup code is missing or wrong/);
      assert.match(form.body, /name="ssid" list="nets"[^>]*value="HomeNet"/);
      assert.equal(d.joins().length, 0);

      const field = await get("/config", { method: "POST", headers: FORM, body: configBody("wrong horse") + "&code=" + encodeURIComponent(CODE) });
      assert.equal(field.status, 200, field.body);
      assert.equal(JSON.parse(field.body).msg, "Trying to connect...");
      assert.ok(await d.until(async () => (await d.status()).test === "wrong_password", 60000));

      const header = await get("/config?" + configBody(HOME.password), { headers: { "x-setup-code": CODE } });
      assert.equal(header.status, 200, header.body);
      assert.ok(await d.until(async () => (await d.status()).state === "RUNNING", 60000), "provisioned with the code in the header");
      assert.equal(d.cloud.logins.length, 1);
    });

    it("refuses /reset without the right code, and erases the configuration with it", async () => {
      await boot({ files: provisionedFlash() });
      assert.ok(await d.until(async () => (await d.status()).state === "RUNNING", 60000));
      await d.repl('edgent.config("start")');
      assert.ok(await d.waitForLog(/AP URL/, 10000));
      assert.ok(await d.portal());
      const stored = (await d.flash())["edgent.cfg1"];
      assert.ok(stored);
      await refused("/reset", {}, 403, WRONG);
      await refused("/reset?code=" + encodeURIComponent(CODE.toUpperCase()), {}, 403, WRONG);
      assert.equal((await d.flash())["edgent.cfg1"], stored, "configuration kept");
      await refused("/reboot", {}, 403, WRONG);
      assert.equal(d.restarts(), 0, "not restarted");
      const r = await get("/reset", { headers: { "X-Setup-Code": CODE } });
      assert.equal(r.status, 200, r.body);
      assert.ok(await d.until(async () => !Object.keys(await d.flash()).some((n) => n.startsWith("edgent.cfg")), 3000), "configuration erased");
      assert.equal((await d.status()).state, "WAIT_CONFIG");
    });

    it("locks out every code for 30 s after five wrong ones", async () => {
      await boot();
      assert.ok(await d.portal());
      for (let i = 1; i <= 5; i++) await refused("/config?" + configBody("wrong horse") + "&code=guess" + i, {}, 403, WRONG);
      // the lock starts at the fifth wrong code; on the real interpreter the clock runs during the checks
      const lockedAt = Date.now();
      const sim = d.sim;
      const lockedAtDevice = sim?.now();
      await refused("/config?" + configBody("wrong horse") + "&code=" + encodeURIComponent(CODE), {}, 429, LOCKED);
      await refused("/reset", { headers: { "X-Setup-Code": CODE } }, 429, LOCKED);
      if (sim) await sim.advance(lockedAtDevice + 28500 - sim.now());
      else await d.advance(Math.max(0, lockedAt + 26000 - Date.now()));
      await refused("/config?" + configBody("wrong horse"), { headers: { "X-Setup-Code": CODE } }, 429, LOCKED);
      if (sim) await sim.advance(lockedAtDevice + 30500 - sim.now());
      else await d.advance(Math.max(0, lockedAt + 31000 - Date.now()));
      const r = await get("/config?" + configBody("wrong horse"), { headers: { "X-Setup-Code": CODE } });
      assert.equal(r.status, 200, r.body);
      assert.equal(JSON.parse(r.body).msg, "Trying to connect...");
    });

    it("starts counting again after the right code", async () => {
      await boot();
      assert.ok(await d.portal());
      for (let i = 1; i <= 4; i++) await refused("/config?" + configBody("wrong horse") + "&code=guess" + i, {}, 403, WRONG);
      assert.equal((await get("/config?" + configBody("wrong horse") + "&code=" + encodeURIComponent(CODE))).status, 200);
      assert.ok(await d.until(async () => (await d.status()).test === "wrong_password", 60000));
      for (let i = 1; i <= 4; i++) await refused("/config?" + configBody("wrong horse") + "&code=again" + i, {}, 403, WRONG);
      assert.equal((await get("/config?" + configBody("wrong horse") + "&code=" + encodeURIComponent(CODE))).status, 200, "not locked after 4 + 4 wrong codes");
    });
  });

  describe("the build record beside the bundle", function () {
    it("names the identity compiled in, holds the code only as a hash, and the same environment finds the bundle current", () => {
      const env = { ...process.env, EDGENT_SETUP_CODE: CODE, EDGENT_TELNET: "on" };
      for (const b of BOARDS) {
        const record = readFileSync(join(dir, b.board + ".build.json"), "latin1");
        assert.ok(!record.includes(CODE), "the build record holds the setup code itself");
        assert.equal(JSON.parse(record).EDGENT_TELNET, "on");
        assert.ok(readFileSync(join(dir, b.board + ".js"), "latin1").includes(JSON.parse(record).BLYNK_TEMPLATE_ID), "the bundle has the recorded template id");
        assert.equal(bundleState(ROOT, dir, b.board, env).stale, undefined);
        assert.match(bundleState(ROOT, dir, b.board, { ...env, EDGENT_SETUP_CODE: "" }).stale ?? "", /EDGENT_SETUP_CODE that is now unset/);
      }
    });
  });

  describe("without a setup code (default build)", function () {
    it("runs an open access point and neither asks for nor needs a code", async () => {
      const env = await world({ board: BOARDS[1] });
      try {
        const { sim } = env;
        await sim.advance(3000);
        assert.equal(sim.wifi.ap()!.authMode, "open");
        assert.ok(!/name="code"/.test((await sim.fetch("/")).body));
        assert.equal((await sim.fetch("/config?" + configBody("wrong horse"))).status, 200);
      } finally {
        env.sim.stop();
        await env.cloud.close();
      }
    });
  });
});
