// tools/lib/espruino.ts without a board: its checks, messages and dry runs. The same library against
// the fake telnet REPL through the real espruino CLI is in espruino-lib.e2e.ts.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeEspruino, withFake, rejectsWith } from "./fake-espruino.ts";
import {
  checkSpace, deviceLines, explainFailure, readMarked, writeStorageFiles, EspruinoCliError, type BoardInfo,
} from "../../tools/lib/espruino.ts";

const info = (over: Partial<BoardInfo> = {}): BoardInfo => ({
  board: "ESP8266_BOARD", version: "2v29", storage: { total: 16384, free: 10000, trash: 0 }, sizes: {}, ...over,
});
const target = { port: "/dev/ttyUSB0" };

describe("espruino library without a board: checks, messages, dry runs", () => {
  it("checkSpace counts the .bootcde being replaced as reclaimable", () => {
    checkSpace(target, info({ storage: { total: 16384, free: 100, trash: 0 }, sizes: { ".bootcde": 12000 } }), [{ name: ".bootcde", size: 10000 }], 2048);
  });

  it("checkSpace on a 16 KB ESP8266 points at the 4 MB build", () => {
    assert.throws(() => checkSpace(target, info(), [{ name: ".bootcde", size: 20000 }], 2048),
      (e: EspruinoCliError) => /need 22,080 bytes; 10,000 of 16,384 are available/.test(e.message) && /ESP8266_4MB/.test(e.hint));
  });

  it("checkSpace with other files in the way suggests listing and erasing them", () => {
    assert.throws(() => checkSpace(target, info({ storage: { total: 16384, free: 3000, trash: 0 } }), [{ name: ".bootcde", size: 5000 }], 2048),
      (e: EspruinoCliError) => /require\("Storage"\)\.list\(\)/.test(e.hint));
  });

  it("permission denied from the CLI names the group to join", async () => {
    const e = await explainFailure(target, { stdout: "", stderr: "Error: Error: Permission denied, cannot open /dev/ttyUSB0", timedOut: false }, true);
    assert.match(e!.message, /^permission denied on \/dev\/ttyUSB0$/);
  });

  it("a device node the CLI does not list suggests udev only when udevadm is missing (Linux)", async function () {
    if (process.platform !== "linux") return this.skip();
    const path = process.env.PATH;
    const empty = mkdtempSync(join(tmpdir(), "no-udevadm-"));
    try {
      process.env.PATH = empty;
      const e = await explainFailure({ port: "/dev/null" }, { stdout: "", stderr: "Error: Port /dev/null not found", timedOut: false }, true);
      assert.equal(e!.message, "the espruino CLI does not list /dev/null as a serial port");
      assert.match(e!.hint, /udevadm, which is not installed: install udev/);
    } finally {
      process.env.PATH = path;
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("a busy port names the programs that usually hold it", async () => {
    const e = await explainFailure(target, { stdout: "", stderr: "Error: Resource temporarily unavailable Cannot lock port", timedOut: false }, true);
    assert.match(e!.message, /in use by another program/);
  });

  it("unreadable bytes from a serial port suggest a wrong baud rate", async () => {
    const e = await explainFailure({ port: "/dev/ttyUSB0", baud: 9600 }, { stdout: "--] \xf0\x8f\x80\xff\n", stderr: "", timedOut: false }, true);
    assert.match(e!.message, /^board not answering on \/dev\/ttyUSB0: no reply from Espruino$/);
    assert.match(e!.hint, /unreadable bytes, which is what a wrong baud rate looks like \(using 9600\)/);
  });

  it("the marker line is read, device lines are kept without prompts", () => {
    const out = "Connected\n--] >\n--] hello\r\n--] @@EDGENT{\"a\":1}\r\n--] >\x1b[Jtick\r\n";
    assert.deepEqual(readMarked(out), { a: 1 });
    assert.deepEqual(deviceLines(out), ["hello", "tick"]);
  });

  it("a Storage name longer than 28 bytes is refused before anything is sent", async () => {
    await rejectsWith(writeStorageFiles(target, [{ name: "n".repeat(29), content: "x" }]), /29 bytes; the limit is 28/);
  });

  it("writeStorageFiles with dryRun returns the exact command and opens no connection", async () => {
    await withFake({}, async (fake) => {
      const steps = await writeStorageFiles({ port: fake.url }, [{ name: "edgent.token", content: "tok" }], { dryRun: true, restart: "none" });
      assert.deepEqual(fake.events, []);
      assert.deepEqual(steps, [
        `espruino -p ${fake.url} -b 115200 --no-ble --board board.json --config SERIAL_THROTTLE_SEND=1 --storage edgent.token:file0 program.js`,
        "  sends reset(), then:",
        '  edgent.token <- file0: 3 bytes, CRC32 94bcd626, sent as 1 require("Storage").write() chunk',
        "  then program.js:",
        '    (function(){var S=require("Storage"),x={"edgent.token":[3,2495403558]},r={},ok=1;for(var n in x){var d=S.read(n);r[n]=d===undefined?null:[d.length,E.CRC32?E.CRC32(d):x[n][1]];if(!r[n]||r[n][0]!=x[n][0]||r[n][1]!=x[n][1])ok=0}print("@@"+"EDGENT"+JSON.stringify({ok:ok,r:r}));})();',
      ]);
    });
  });
});
