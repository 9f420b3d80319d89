// The whole first-setup flow on the built ESP8266 bundle (dist/nodemcu.js, or EDGENT_DIST) on the real
// Espruino interpreter with ESP8266's budget of 1600 JsVars (ESPRUINO_BIN_1600), using the lean test
// prelude (test/real/prelude-lean.js). See test/real/first-setup.ts for the steps.
//
//   ESPRUINO_BIN_1600=/path/to/espruino-1600 ESPRUINO_BIN=/path/to/espruino \
//     npx mocha --no-config --node-option import=tsx --timeout 180000 test/real/first-setup-1600.test.ts
//
// The verdict run has no eval server (the least RAM the harness can take); a second run with the eval
// server reads process.memory() after each step and prints it (that server costs ~30 JsVars more, so
// it may run out of memory where the verdict run does not). With ESPRUINO_BIN the same flow also runs
// on the resizable binary, printing the firmware's own usage per step (the prelude subtracted).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { espruinoBin, SKIP_MESSAGE } from "./espruino.ts";
import {
  SKIP_1600, bundlePath, espruinoBin1600, formatSteps, leanBaseline, runFirstSetup, type FirstSetupResult, type LeanBaseline,
} from "./first-setup.ts";

function skipWith(ctx: Mocha.Context, message: string): never {
  const t = ctx.currentTest ?? ctx.test;
  if (t && !t.title.includes(message)) t.title += ` (${message})`;
  ctx.skip();
}

function needBundle(): string {
  const bundle = bundlePath("nodemcu");
  assert.ok(fs.existsSync(bundle), `bundle not found: ${bundle} (build it with npm run build, or point EDGENT_DIST at a dist folder)`);
  return bundle;
}

function report(title: string, r: FirstSetupResult, base: LeanBaseline): string {
  return [
    `${title}: ${r.bundle}`,
    `  interpreter ${base.interpreter} + lean prelude ${base.prelude} JsVars of ${base.total}` +
      (r.steps.some((s) => s.usage !== undefined) ? `; samples include the eval server and call (${base.sampleBaseline - base.interpreter - base.prelude})` : ""),
    formatSteps(r, r.steps.some((s) => s.usage !== undefined) ? base.sampleBaseline : undefined),
    ...(r.errors.length ? ["  errors:", ...r.errors.map((e) => "    " + e)] : []),
  ].join("\n");
}

function verdict(r: FirstSetupResult, text: string): void {
  const tail = r.failedAt ? "\n--- console (last 25 lines) ---\n" + r.console.slice(-25).join("\n") : "";
  assert.equal(r.failedAt, undefined, `the first-setup flow failed\n${text}${tail}`);
  assert.deepEqual(r.errors, [], `error lines on the console\n${text}`);
  assert.equal(r.logins, 2, "one login after setup, one after the restart");
  assert.equal(r.reboots, 1, "one E.reboot()");
}

describe("first setup on the real interpreter with 1600 JsVars (lean prelude)", function () {
  this.timeout(180000);

  it("passes on dist/nodemcu.js with ESPRUINO_BIN_1600", async function () {
    const bin = espruinoBin1600();
    if (!bin) skipWith(this, SKIP_1600);
    const bundle = needBundle();
    const base = await leanBaseline(bin);

    // process.memory() after each step (with the eval server), for the numbers
    const measured = await runFirstSetup({ bin, bundle });
    const measuredText = report("with the eval server, process.memory() after each step", measured, base);
    console.log(measuredText.replace(/^/gm, "      "));

    // the verdict: no eval server
    const r = await runFirstSetup({ bin, bundle, measure: false });
    const text = report("without the eval server (verdict)", r, base);
    console.log(text.replace(/^/gm, "      "));
    verdict(r, `${text}\n${measuredText}`);
  });

  it("passes on the resizable interpreter (ESPRUINO_BIN), printing the firmware's usage per step", async function () {
    const bin = espruinoBin();
    if (!bin) skipWith(this, SKIP_MESSAGE);
    const bundle = needBundle();
    const base = await leanBaseline(bin);
    const r = await runFirstSetup({ bin, bundle });
    const text = report("resizable interpreter, firmware = usage - " + base.sampleBaseline, r, base);
    console.log(text.replace(/^/gm, "      "));
    verdict(r, text);
  });
});
