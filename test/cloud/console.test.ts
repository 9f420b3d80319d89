import assert from "node:assert/strict";
import { parseCommand } from "../../firmware/cloud/console.ts";

describe("console commands (cloud dbg and REPL)", () => {
  for (const [line, want] of [
    ["config", "config start"],
    ["config start", "config start"],
    ["  config   erase ", "config erase"],
    ["config\terase", "config erase"],
    ["reboot", "reboot"],
    ["config wipe", ""],
    ["config erase now", ""],
    ["reboot now", ""],
    ["Reboot", ""],
    ["", ""],
    ["devinfo", ""],
  ]) {
    it(`${JSON.stringify(line)} is ${want ? JSON.stringify(want) : "not a command this firmware runs"}`, () => {
      assert.equal(parseCommand(line), want);
    });
  }
});
