// A fake Espruino reachable like its telnet console (tcp://127.0.0.1:<port>), close enough to the
// real REPL for the espruino CLI: echo (off for lines starting with DLE 0x10), the ">" prompt,
// Ctrl-C, Alt-Enter continuation, a line runs once its brackets balance, "=result" after echoed
// lines, "Uncaught Error: ..." on exceptions, reset()/load() deferred to the end of the line.
// Commands run in a vm sandbox with print, require("Storage"), process.env, getSerial, E.CRC32/E.reboot, atob/btoa
// and timers. Storage enforces what the chip enforces (28-byte names silently truncated, no
// zero-length files, writes at an offset only into still-erased bytes, a fixed capacity with 32-byte
// headers and 4-byte alignment), so a tool that works here is not merely lucky.
import net from "node:net";
import vm from "node:vm";
import assert from "node:assert/strict";
import { crc32, EspruinoCliError } from "../../tools/lib/espruino.ts";
import { MAX_STORAGE_NAME } from "../../shared/names.ts";

const NAME_BYTES = MAX_STORAGE_NAME;
const HEADER = 32;

interface StoredFile {
  name: string;
  data: Buffer; // full declared size, 0xFF where not yet written
}

class EspruinoError extends Error {}

/** Log-structured Storage of a fixed size, with the chip's rules. */
export class FakeStorage {
  private files: StoredFile[] = [];
  private trash = 0;
  readonly writes: { name: string; offset: number; length: number }[] = [];
  constructor(readonly capacity: number) {}

  private static name(n: unknown): string {
    return Buffer.from(String(n), "latin1").subarray(0, NAME_BYTES).toString("latin1");
  }
  private static footprint(size: number): number {
    return HEADER + ((size + 3) & ~3);
  }
  private used(): number {
    return this.files.reduce((n, f) => n + FakeStorage.footprint(f.data.length), 0);
  }
  private find(name: string): StoredFile | undefined {
    return this.files.find((f) => f.name === name);
  }

  write(nameArg: unknown, dataArg: unknown, offsetArg?: number, sizeArg?: number): boolean {
    const name = FakeStorage.name(nameArg);
    const data = Buffer.from(typeof dataArg === "string" ? dataArg : JSON.stringify(dataArg), "latin1");
    const offset = offsetArg ?? 0;
    this.writes.push({ name, offset, length: data.length });
    let file = this.find(name);
    if (offset === 0) {
      const size = sizeArg ?? data.length;
      if (size === 0) throw new EspruinoError("Can't create zero length file");
      if (data.length > size) throw new EspruinoError("Too much data for file size");
      if (file && sizeArg === undefined && file.data.equals(data)) return true; // identical write: no-op
      if (file) this.erase(name);
      const need = FakeStorage.footprint(size);
      if (this.used() + this.trash + need > this.capacity) {
        if (this.used() + need > this.capacity) throw new EspruinoError("Unable to find or create file");
        this.trash = 0; // compaction
      }
      file = { name, data: Buffer.alloc(size, 0xff) };
      this.files.push(file);
      data.copy(file.data, 0);
      return true;
    }
    if (!file) throw new EspruinoError("Unable to find or create file");
    if (offset + data.length > file.data.length) throw new EspruinoError("Too much data for file size");
    for (let i = 0; i < data.length; i++) {
      const old = file.data[offset + i];
      if (old !== 0xff && old !== data[i]) throw new EspruinoError("File already written with different data");
    }
    data.copy(file.data, offset);
    return true;
  }
  read(name: unknown): string | undefined {
    return this.find(FakeStorage.name(name))?.data.toString("latin1");
  }
  readBuffer(name: string): Buffer | undefined {
    return this.find(FakeStorage.name(name))?.data;
  }
  erase(name: unknown): void {
    const f = this.find(FakeStorage.name(name));
    if (!f) return;
    this.files.splice(this.files.indexOf(f), 1);
    this.trash += FakeStorage.footprint(f.data.length);
  }
  eraseAll(): void {
    this.files = [];
    this.trash = 0;
  }
  list(): string[] {
    return this.files.map((f) => f.name);
  }
  getFree(): number {
    return this.capacity - this.used() - this.trash;
  }
  getStats() {
    return { totalBytes: this.capacity, freeBytes: this.getFree(), fileBytes: this.used(), fileCount: this.files.length, trashBytes: this.trash, trashCount: this.trash ? 1 : 0 };
  }
  compact(): void {
    this.trash = 0;
  }
  /** Every file with its content, e.g. to boot the simulator with what a tool wrote here. */
  contents(): Record<string, string> {
    return Object.fromEntries(this.files.map((f) => [f.name, f.data.toString("latin1")]));
  }
}

export interface FakeEspruinoOptions {
  board?: string; // process.env.BOARD, default ESP8266_BOARD
  version?: string;
  storageBytes?: number; // default 16 KB, the ESP8266 512K/1M Storage size
  files?: Record<string, string>; // initial Storage content
  silent?: boolean; // accept connections but never answer (a board at the wrong baud rate)
  runBootCode?: boolean; // evaluate .bootcde on load()/boot (only for small test bundles)
  tamper?: (line: string) => string; // rewrite each received line before it runs (a lossy link)
  serial?: string; // getSerial(): the chip's MAC as Espruino formats it, default "5ccf7f01-0203"
}

/** The fake board. `events` records reset/load/reboot/connect in order. */
export class FakeEspruino {
  readonly storage: FakeStorage;
  readonly events: string[] = [];
  readonly env: Record<string, string>;
  port = 0;
  private server = net.createServer((s) => this.accept(s));
  private client?: net.Socket;
  private context!: vm.Context;
  private timers = new Set<NodeJS.Timeout>();
  private line = "";
  private echoOff = false;
  private escape = ""; // pending escape sequence
  private promptShown = false;
  private pendingAfterLine?: () => void;

  constructor(private opts: FakeEspruinoOptions = {}) {
    this.storage = new FakeStorage(opts.storageBytes ?? 16384);
    for (const [n, c] of Object.entries(opts.files ?? {})) this.storage.write(n, c);
    this.env = { VERSION: opts.version ?? "2v29", BOARD: opts.board ?? "ESP8266_BOARD", CONSOLE: "Telnet", MODULES: "Storage,Wifi,http,net,dgram" };
    this.newContext();
  }

  async start(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    this.clearTimers();
    this.client?.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  get url(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  private accept(s: net.Socket): void {
    // Like Espruino's telnet server: a new client takes the console from the old one.
    this.client?.destroy();
    this.client = s;
    this.events.push("connect");
    s.on("error", () => {});
    s.on("close", () => {
      if (this.client === s) this.client = undefined;
    });
    if (this.opts.silent) return;
    this.line = "";
    this.promptShown = false;
    this.showPrompt();
    s.on("data", (d) => {
      for (const ch of d.toString("latin1")) this.handleChar(ch);
    });
  }

  private out(text: string): void {
    if (this.promptShown) {
      this.client?.write("\r\x1b[J", "latin1");
      this.promptShown = false;
    }
    this.client?.write(text.replace(/\r?\n/g, "\r\n"), "latin1");
  }

  private showPrompt(): void {
    if (this.promptShown) return;
    this.client?.write(">", "latin1");
    this.promptShown = true;
  }

  private handleChar(ch: string): void {
    const code = ch.charCodeAt(0);
    if (this.escape) {
      this.escape += ch;
      if (this.escape === "\x1b\n") this.line += "\n"; // Alt-Enter: newline without running
      else if (this.escape.length === 2 && ch === "[") return; // CSI: wait for its final byte
      else if (this.escape.length > 2 && !/[A-Za-z~]/.test(ch)) return;
      this.escape = "";
      return;
    }
    if (code === 0x1b) this.escape = ch;
    else if (code === 0x10) {
      if (this.line === "") this.echoOff = true;
    } else if (code === 3) {
      // Ctrl-C: clear the input line
      if (this.line !== "") {
        this.line = "";
        this.client?.write("\r\n", "latin1");
        this.promptShown = false;
        this.showPrompt();
      }
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r") return;
      if (!this.complete(this.line)) {
        this.line += "\n";
        return;
      }
      const text = this.opts.tamper ? this.opts.tamper(this.line) : this.line;
      const echo = !this.echoOff;
      this.line = "";
      this.echoOff = false;
      if (echo) {
        this.client?.write("\r\n", "latin1");
        this.promptShown = false;
      }
      this.execute(text, echo);
      const after = this.pendingAfterLine;
      this.pendingAfterLine = undefined;
      after?.();
      if (this.client && !this.client.destroyed) this.showPrompt();
    } else if (code >= 32 || code === 9) {
      this.line += ch;
      if (!this.echoOff) this.client?.write(ch, "latin1");
    }
  }

  /** True when the brackets of `src` balance outside strings, as Espruino checks before running a line. */
  private complete(src: string): boolean {
    let depth = 0;
    let quote = "";
    for (let i = 0; i < src.length; i++) {
      const c = src[i];
      if (quote) {
        if (c === "\\") i++;
        else if (c === quote) quote = "";
      } else if (c === '"' || c === "'" || c === "`") quote = c;
      else if ("([{".includes(c)) depth++;
      else if (")]}".includes(c)) depth--;
    }
    return depth <= 0;
  }

  private execute(src: string, echo: boolean): void {
    if (src.trim() === "") return;
    try {
      const v = vm.runInContext(src, this.context, { filename: "REPL" });
      if (echo) this.out("=" + (v === undefined ? "undefined" : JSON.stringify(v)) + "\n");
    } catch (e) {
      const err = e as Error;
      const kind = err instanceof EspruinoError || !err.name ? "Error" : err.name;
      this.out(`Uncaught ${kind}: ${err.message}\n`);
    }
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private newContext(): void {
    this.clearTimers();
    const storage = this.storage;
    const print = (...a: unknown[]) => this.out(a.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(" ") + "\n");
    const track = (t: NodeJS.Timeout) => (this.timers.add(t), t);
    const sandbox = {
      print,
      console: { log: print },
      JSON,
      process: { env: this.env, memory: () => ({ free: 1500, total: 1700 }) },
      require: (m: string) => {
        if (m === "Storage") return storage;
        throw new EspruinoError(`Module ${m} not found`);
      },
      getSerial: () => this.opts.serial ?? "5ccf7f01-0203",
      atob: (s: string) => Buffer.from(String(s), "base64").toString("latin1"),
      btoa: (s: string) => Buffer.from(String(s), "latin1").toString("base64"),
      E: {
        CRC32: (s: string) => crc32(Buffer.from(String(s), "latin1")),
        reboot: () => {
          this.pendingAfterLine = () => this.reboot();
        },
      },
      reset: () => {
        this.pendingAfterLine = () => {
          this.events.push("reset");
          this.newContext();
          this.out("\n _____ fake Espruino " + this.env.VERSION + " " + this.env.BOARD + "\n");
        };
      },
      load: (file?: string) => {
        this.pendingAfterLine = () => this.load(file ?? ".bootcde");
      },
      setTimeout: (f: () => void, ms: number) => track(setTimeout(() => this.callback(f), ms)),
      setInterval: (f: () => void, ms: number) => track(setInterval(() => this.callback(f), ms)),
      clearTimeout: (t: NodeJS.Timeout) => (clearTimeout(t), this.timers.delete(t)),
      clearInterval: (t: NodeJS.Timeout) => (clearInterval(t), this.timers.delete(t)),
    };
    this.context = vm.createContext(sandbox);
  }

  private callback(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.out(`Uncaught Error: ${(e as Error).message}\n`);
    }
    if (this.client && !this.client.destroyed) this.showPrompt();
  }

  private load(file: string): void {
    this.events.push(`load ${file}`);
    this.newContext();
    this.runBoot(file);
  }

  private runBoot(file: string): void {
    const code = this.storage.read(file);
    if (code === undefined || !this.opts.runBootCode) return;
    try {
      vm.runInContext(code, this.context, { filename: file });
    } catch (e) {
      this.out(`Uncaught Error: ${(e as Error).message}\n`);
    }
  }

  /** E.reboot(): the chip restarts, the telnet link drops, the boot code runs again. */
  private reboot(): void {
    this.events.push("reboot");
    this.newContext();
    this.client?.destroy();
    this.client = undefined;
    this.runBoot(".bootcde");
  }
}

/** Runs `fn` with a started FakeEspruino, closed afterwards whatever happens. */
export async function withFake<T>(opts: ConstructorParameters<typeof FakeEspruino>[0], fn: (fake: FakeEspruino) => Promise<T>): Promise<T> {
  const fake = new FakeEspruino(opts);
  await fake.start();
  try {
    return await fn(fake);
  } finally {
    await fake.close();
  }
}

/** Asserts that `p` rejects with an EspruinoCliError whose message (and hint) match. */
export async function rejectsWith(p: Promise<unknown>, message: RegExp, hint?: RegExp): Promise<EspruinoCliError> {
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
