// When dist/<board>.js must be rebuilt (tools/lib/bundle.ts), and which Espruino builds a profile runs on.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleState, chipOfBuild, chipOfProfile, loadProfiles } from "../../tools/lib/bundle.ts";
import { EspruinoCliError } from "../../tools/lib/espruino.ts";
import { buildRecord } from "../../scripts/identity.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const PLACEHOLDER = { BLYNK_TEMPLATE_ID: "TMPL4xxxxxxxx", BLYNK_TEMPLATE_NAME: "My Device", BLYNK_FIRMWARE_VERSION: "0.1.0" };
const PLACEHOLDER_ID = { templateId: "TMPL4xxxxxxxx", templateName: "My Device", firmwareVersion: "0.1.0", setupCode: "", telnet: "off" };

describe("which Espruino build a board profile runs on", () => {
  it("reads the chip from process.env.BOARD, telling the ESP32 variants apart", () => {
    assert.equal(chipOfBuild("ESP8266_4MB"), "ESP8266");
    assert.equal(chipOfBuild("ESP8266_BOARD"), "ESP8266");
    assert.equal(chipOfBuild("ESP32"), "ESP32");
    assert.equal(chipOfBuild("ESP32_IDF4"), "ESP32");
    assert.equal(chipOfBuild("ESP32C3_IDF4"), "ESP32-C3");
    assert.equal(chipOfBuild("ESP32S3_IDF4"), "ESP32-S3");
    assert.equal(chipOfBuild("LINUX"), undefined);
  });

  it("gives every profile in boards/ the chip of its bundle", () => {
    const chips = Object.fromEntries(loadProfiles(ROOT).map((p) => [p.id, chipOfProfile(p)]));
    assert.deepEqual(chips, { "esp32-c3-devkitm": "ESP32-C3", "esp32-devkitc": "ESP32", "esp32-wrover-kit": "ESP32", nodemcu: "ESP8266", "wemos-d1-mini": "ESP8266" });
  });
});

describe("bundle staleness: sources and device identity", () => {
  let root: string;
  let dist: string;

  /** A repository with one board whose bundle was built, after every source, with `id`. */
  function built(id = PLACEHOLDER_ID, record = true): void {
    writeFileSync(join(dist, "nodemcu.js"), "print(1)\n");
    if (record) writeFileSync(join(dist, "nodemcu.build.json"), JSON.stringify(buildRecord(id)));
    else rmSync(join(dist, "nodemcu.build.json"), { force: true });
  }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "bundle-state-"));
    dist = join(root, "dist");
    mkdirSync(join(root, "boards"));
    mkdirSync(join(root, "firmware"));
    mkdirSync(dist);
    cpSync(join(ROOT, "boards", "nodemcu.json"), join(root, "boards", "nodemcu.json"));
    writeFileSync(join(root, "firmware", "main.ts"), "");
    writeFileSync(join(root, "edgent.config.json"), JSON.stringify(PLACEHOLDER));
    const past = new Date(Date.now() - 60_000);
    for (const f of ["boards/nodemcu.json", "firmware/main.ts", "edgent.config.json"]) utimesSync(join(root, f), past, past);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("a bundle built after its sources with the identity asked for is current", () => {
    built();
    assert.equal(bundleState(root, dist, "nodemcu", {}).stale, undefined);
  });

  it("a missing bundle, or one older than a source, must be built", () => {
    assert.equal(bundleState(root, dist, "nodemcu", {}).stale, "is missing");
    built();
    const future = new Date(Date.now() + 60_000);
    utimesSync(join(root, "firmware", "main.ts"), future, future);
    assert.equal(bundleState(root, dist, "nodemcu", {}).stale, "is older than firmware/main.ts");
  });

  it("a template id or name set in the environment makes it stale, though no file changed", () => {
    built();
    assert.equal(bundleState(root, dist, "nodemcu", { BLYNK_TEMPLATE_ID: "TMPL4real123" }).stale, 'was built with BLYNK_TEMPLATE_ID "TMPL4xxxxxxxx", not "TMPL4real123"');
    assert.equal(bundleState(root, dist, "nodemcu", { BLYNK_TEMPLATE_NAME: "Plant Monitor" }).stale, 'was built with BLYNK_TEMPLATE_NAME "My Device", not "Plant Monitor"');
    assert.equal(bundleState(root, dist, "nodemcu", { EDGENT_TELNET: "on" }).stale, 'was built with EDGENT_TELNET "off", not "on"');
  });

  it("a setup code set, changed or removed makes it stale, and the reason never shows the code", () => {
    built();
    assert.equal(bundleState(root, dist, "nodemcu", { EDGENT_SETUP_CODE: "Qx7-lamp-42k9" }).stale, "was built without EDGENT_SETUP_CODE");
    built({ ...PLACEHOLDER_ID, setupCode: "Qx7-lamp-42k9" });
    assert.equal(bundleState(root, dist, "nodemcu", { EDGENT_SETUP_CODE: "Qx7-lamp-42k9" }).stale, undefined);
    assert.equal(bundleState(root, dist, "nodemcu", { EDGENT_SETUP_CODE: "other-code-77" }).stale, "was built with another EDGENT_SETUP_CODE");
    assert.equal(bundleState(root, dist, "nodemcu", {}).stale, "was built with an EDGENT_SETUP_CODE that is now unset");
    assert.ok(!readFileSync(join(dist, "nodemcu.build.json"), "latin1").includes("Qx7-lamp-42k9"), "the record keeps only a hash of the code");
  });

  it("a bundle without a build record (built before records existed) is rebuilt", () => {
    built(PLACEHOLDER_ID, false);
    assert.match(bundleState(root, dist, "nodemcu", {}).stale ?? "", /^has no build record \(nodemcu\.build\.json/);
  });

  it("an invalid identity in the environment is one clear error", () => {
    built();
    assert.throws(() => bundleState(root, dist, "nodemcu", { BLYNK_TEMPLATE_ID: "abc" }),
      (e: EspruinoCliError) => e instanceof EspruinoCliError && /^invalid device identity: BLYNK_TEMPLATE_ID "abc" must start with "TMPL"/.test(e.message) && !e.message.includes("\n"));
  });
});
