// The build's device identity and options: what a maker gets told when a setting is wrong.
import assert from "node:assert/strict";
import { readIdentity } from "../../scripts/identity.js";

const GOOD = { BLYNK_TEMPLATE_ID: "TMPL4abc123", BLYNK_TEMPLATE_NAME: "Plant Monitor", BLYNK_FIRMWARE_VERSION: "1.2.3" };

describe("build identity (BLYNK_* and EDGENT_* settings)", () => {
  it("takes the environment over edgent.config.json, with telnet off by default", () => {
    const id = readIdentity(GOOD);
    assert.equal(id.templateId, "TMPL4abc123");
    assert.equal(id.templateName, "Plant Monitor");
    assert.equal(id.telnet, "off");
    assert.equal(id.setupCode, "");
  });

  it("names every wrong setting and how to fix it", () => {
    assert.throws(() => readIdentity({ ...GOOD, BLYNK_TEMPLATE_ID: "abc" }), /BLYNK_TEMPLATE_ID "abc" must start with "TMPL"/);
    assert.throws(() => readIdentity({ ...GOOD, BLYNK_TEMPLATE_NAME: " " }), /BLYNK_TEMPLATE_NAME is empty/);
    assert.throws(() => readIdentity({ ...GOOD, BLYNK_FIRMWARE_VERSION: "v1" }), /must look like 1\.2\.3/);
    assert.throws(() => readIdentity({ ...GOOD, EDGENT_SETUP_CODE: "short" }), /EDGENT_SETUP_CODE must be 8 to 63/);
    assert.throws(() => readIdentity({ ...GOOD, EDGENT_TELNET: "yes" }), /EDGENT_TELNET "yes" must be "on" or "off"/);
  });

  it("accepts a setup code and the telnet console when asked", () => {
    const id = readIdentity({ ...GOOD, EDGENT_SETUP_CODE: "Qx7-lamp-42k9", EDGENT_TELNET: "on" });
    assert.equal(id.setupCode, "Qx7-lamp-42k9");
    assert.equal(id.telnet, "on");
  });
});
