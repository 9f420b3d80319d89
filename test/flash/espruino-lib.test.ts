// tools/lib/espruino.ts against the fake telnet REPL (real espruino CLI, real TCP) and its pure parts.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeEspruino } from "./fake-espruino.ts";
import {
  checkSpace, deviceLines, evaluate, eraseStorageFiles, explainFailure, probeBoard, readMarked,
  streamConsole, storeBundle, writeStorageFiles, EspruinoCliError, type BoardInfo,
} from "../../tools/lib/espruino.ts";

const SLOW = 60_000;

async function withFake<T>(opts: ConstructorParameters<typeof FakeEspruino>[0], fn: (fake: FakeEspruino) => Promise<T>): Promise<T> {
  const fake = new FakeEspruino(opts);
  await fake.start();
  try {
    return await fn(fake);
  } finally {
    await fake.close();
  }
}

async function rejectsWith(p: Promise<unknown>, message: RegExp, hint?: RegExp): Promise<EspruinoCliError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof EspruinoCliError, `expected an EspruinoCliError, got ${e}`);
    assert.match(e.message, message);
    if (hint) assert.match(e.hint, hint);
    return e;
  }
  assert.fail("expected a rejection");
}

const info = (over: Partial<BoardInfo> = {}): BoardInfo => ({
  board: "ESP8266_BOARD", version: "2v29", storage: { total: 16384, free: 10000, trash: 0 }, sizes: {}, ...over,
});
const target = { port: "/dev/ttyUSB0" };

describe("espruino library over tcp:// (fake REPL)", function () {
  this.timeout(SLOW);

  it("writeStorageFiles stores binary content byte for byte", async () => {
    const all = new Uint8Array(3000).map((_, i) => (i * 7) & 255); // every byte value, 3 chunks
    await withFake({}, async (fake) => {
      await writeStorageFiles({ port: fake.url }, [{ name: "blob.bin", content: all }, { name: "edgent.token", content: "tok" }], { restart: "none" });
      assert.deepEqual(new Uint8Array(fake.storage.readBuffer("blob.bin")!), all);
      assert.equal(fake.storage.read("edgent.token"), "tok");
    });
  });

  it("writeStorageFiles resets first, erases the listed files and restarts with load()", async () => {
    await withFake({ files: { ".wificfg": "w", keep: "k" } }, async (fake) => {
      await storeBundle({ port: fake.url }, "print(1)", { erase: [".wificfg"] });
      assert.deepEqual(fake.events, ["connect", "reset", "load .bootcde"]);
      assert.deepEqual(fake.storage.list().sort(), [".bootcde", "keep"]);
    });
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

  it("a byte changed on the way is caught by the CRC32 check and the board is not restarted", async () => {
    // Flip one base64 character of the uploaded chunk: same length, other content.
    const tamper = (l: string) => l.replace('atob("Q', 'atob("R');
    await withFake({ tamper }, async (fake) => {
      await rejectsWith(storeBundle({ port: fake.url }, "AAAAAAAA"), /upload to .* was corrupted: \.bootcde arrived as 8 bytes with another CRC32/);
      assert.ok(!fake.events.some((e) => e.startsWith("load")));
    });
  });

  it("a full Storage reported by the board becomes 'not enough Storage'", async () => {
    await withFake({ storageBytes: 2048 }, async (fake) => {
      await rejectsWith(storeBundle({ port: fake.url }, "x".repeat(4000)), /not enough Storage on .*Unable to find or create file/, /eraseAll/);
    });
  });

  it("a Storage name longer than 28 bytes is refused before anything is sent", async () => {
    await rejectsWith(writeStorageFiles(target, [{ name: "n".repeat(29), content: "x" }]), /29 bytes; the limit is 28/);
  });

  it("probeBoard reads process.env.BOARD, Storage statistics and file sizes", async () => {
    await withFake({ board: "ESP32", files: { ".bootcde": "abc" } }, async (fake) => {
      const { info: i } = await probeBoard({ port: fake.url }, [".bootcde", "edgent.cfg0"]);
      assert.deepEqual(i, { board: "ESP32", version: "2v29", storage: { total: 16384, free: 16384 - 36, trash: 0 }, sizes: { ".bootcde": 3, "edgent.cfg0": -1 } });
    });
  });

  it("evaluate returns the JSON value of an expression", async () => {
    await withFake({}, async (fake) => {
      const { value } = await evaluate({ port: fake.url }, "[1+1, process.env.VERSION]");
      assert.deepEqual(value, [2, "2v29"]);
    });
  });

  it("eraseStorageFiles erases without resetting the running program", async () => {
    await withFake({ files: { "edgent.cfg0": "a", "edgent.cfg1": "b" } }, async (fake) => {
      await eraseStorageFiles({ port: fake.url }, ["edgent.cfg0", "edgent.cfg1", "missing"]);
      assert.deepEqual(fake.storage.list(), []);
      assert.deepEqual(fake.events, ["connect"]);
    });
  });

  it("a board that never answers is reported as not answering", async () => {
    await withFake({ silent: true }, async (fake) => {
      await rejectsWith(probeBoard({ port: fake.url }), /^board not answering at tcp:\/\/127\.0\.0\.1:\d+: no reply from Espruino$/);
    });
  });

  it("streamConsole types load() into the console, relays the boot output and stops on abort", async () => {
    await withFake({ runBootCode: true, files: { ".bootcde": 'print("booted")' } }, async (fake) => {
      const abort = new AbortController();
      let seen = "";
      await streamConsole({ port: fake.url }, { restart: "load", signal: abort.signal, write: (t) => { seen += t; if (seen.includes("booted")) abort.abort(); } });
      assert.deepEqual(fake.events, ["connect", "load .bootcde"]);
    });
  });

  it("streamConsole reconnects after E.reboot() drops the telnet link", async () => {
    const boot = 'var n=0;setInterval(function(){print("up "+(++n))},100)';
    await withFake({ runBootCode: true, files: { ".bootcde": boot } }, async (fake) => {
      const abort = new AbortController();
      const notes: string[] = [];
      await streamConsole({ port: fake.url }, {
        restart: "reboot", signal: abort.signal, log: (l) => notes.push(l),
        write: (t) => { if (/up \d/.test(t) && fake.events.filter((e) => e === "connect").length >= 2) abort.abort(); },
      });
      assert.deepEqual(fake.events.slice(0, 3), ["connect", "reboot", "connect"]);
      assert.ok(notes.some((n) => /closed; reconnecting/.test(n)), notes.join("\n"));
    });
  });
});

describe("espruino library checks and messages", () => {
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
});
