// The espruino CLI command that README.md and docs/flashing.md give for flashing by hand, run as
// written (only the port and the bundle swapped) against the fake Espruino: it must store the
// bundle byte for byte, erase .wificfg, start the code, and fetch nothing from the internet.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeEspruino } from "./fake-espruino.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The `npx espruino ...` line of the docs' shell blocks, split into words (single quotes only). */
function manualCommand(file: string): string[] {
  const line = readFileSync(join(ROOT, file), "utf8").split("\n").map((l) => l.trim()).find((l) => l.startsWith("npx espruino ") && l.includes("--storage .bootcde:"));
  assert.ok(line, `${file} shows an npx espruino command that stores .bootcde`);
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

describe("flashing by hand with the espruino CLI (the command in the docs)", function () {
  this.timeout(60_000);

  it("README.md and docs/flashing.md give the same command", () => {
    assert.deepEqual(manualCommand("README.md"), manualCommand("docs/flashing.md"));
  });

  it("stores the bundle byte for byte as .bootcde, erases .wificfg and loads it, without going online", async () => {
    const words = manualCommand("README.md");
    assert.deepEqual(words.slice(0, 2), ["npx", "espruino"]);
    const dir = mkdtempSync(join(tmpdir(), "manual-route-"));
    // Every byte value a minifier or module loader would trip over: quotes, backslashes, non-ASCII, require().
    const bundle = Buffer.from('var s=require("Storage"),m=require("tls");print("up \\u00e9\\\\ \'q\'");/*\xe9\xff\x00*/\n', "latin1");
    writeFileSync(join(dir, "nodemcu.js"), bundle);
    const fake = new FakeEspruino({ board: "ESP8266_4MB", storageBytes: 196608, files: { ".wificfg": "{mode:'client'}", "edgent.cfg0": "cfg" } });
    await fake.start();
    try {
      const args = words.slice(2).map((w) => w === "/dev/ttyUSB0" ? fake.url : w.replace("dist/nodemcu.js", join(dir, "nodemcu.js")));
      const cli = createRequire(import.meta.url).resolve("espruino/bin/espruino-cli.js");
      const output = await new Promise<string>((resolve) => {
        const child = spawn(process.execPath, [cli, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        const timer = setTimeout(() => child.kill(), 45_000);
        child.on("close", () => (clearTimeout(timer), resolve(out)));
      });
      assert.match(output, /Upload Complete/, output);
      assert.doesNotMatch(output, /getURL|Module \S+ not found|No list of built-in modules/, "the CLI looked something up online");
      assert.ok(fake.storage.readBuffer(".bootcde")?.equals(bundle), "the stored .bootcde differs from the bundle");
      assert.deepEqual(fake.storage.list().sort(), [".bootcde", "edgent.cfg0"]);
      assert.equal(fake.events.at(-1), "load .bootcde");
    } finally {
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
