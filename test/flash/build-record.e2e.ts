// A real build (rollup) with an identity in the environment writes beside the bundle the record of
// what it compiled in (setup-code.test.ts checks the record of the build it makes for its own tests).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleState } from "../../tools/lib/bundle.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

describe("the build writes the identity it compiled in beside the bundle", function () {
  this.timeout(120_000);

  it("<board>.build.json matches the environment of the build, so the same environment finds it current", () => {
    const dist = mkdtempSync(join(tmpdir(), "bundle-record-"));
    const env = { ...process.env, BOARD: "nodemcu", DIST_DIR: dist, BLYNK_TEMPLATE_ID: "TMPL4rec0rd1", BLYNK_TEMPLATE_NAME: "Record Lamp", EDGENT_SETUP_CODE: "Qx7-lamp-42k9", EDGENT_TELNET: "on" };
    try {
      const r = spawnSync(process.execPath, [join(ROOT, "node_modules/rollup/dist/bin/rollup"), "-c", "rollup.config.js"], { cwd: ROOT, env, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(readFileSync(join(dist, "nodemcu.js"), "latin1").includes("TMPL4rec0rd1"));
      const record = JSON.parse(readFileSync(join(dist, "nodemcu.build.json"), "utf8"));
      assert.equal(record.BLYNK_TEMPLATE_ID, "TMPL4rec0rd1");
      assert.equal(record.EDGENT_TELNET, "on");
      assert.ok(!JSON.stringify(record).includes("Qx7-lamp-42k9"));
      const same = { BLYNK_TEMPLATE_ID: "TMPL4rec0rd1", BLYNK_TEMPLATE_NAME: "Record Lamp", EDGENT_SETUP_CODE: "Qx7-lamp-42k9", EDGENT_TELNET: "on" };
      assert.equal(bundleState(ROOT, dist, "nodemcu", same).stale, undefined);
      assert.match(bundleState(ROOT, dist, "nodemcu", { ...same, EDGENT_SETUP_CODE: "" }).stale ?? "", /EDGENT_SETUP_CODE that is now unset/);
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });
});
