import assert from "node:assert/strict";
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import { renderDocs } from "../../scripts/led-docs.ts";
import { Pat, patternName } from "../../firmware/led/patterns.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("LED docs", () => {
  it("are up to date with the pattern table and the board profiles (run npm run docs)", async () => {
    const files = await renderDocs();
    for (const [rel, content] of Object.entries(files)) {
      const file = ROOT + rel;
      assert.ok(fs.existsSync(file), `${rel} is missing: run npm run docs`);
      assert.ok(fs.readFileSync(file, "utf8") === content, `${rel} is out of date: run npm run docs`);
    }
  });

  it("draw every pattern and put each picture in docs/led.md", async () => {
    const files = await renderDocs();
    for (let p = 0; p < Pat.COUNT; p++) {
      const svg = files[`docs/led/${patternName(p)}.svg`];
      assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.ok(files["docs/led.md"].includes(`led/${patternName(p)}.svg`), patternName(p));
    }
    assert.match(files["docs/led.md"], /edgent\.qa\(\)/);
    assert.match(files["docs/led.md"], /Hold the button for 10 seconds to reset configuration\.\.\./);
  });
});
