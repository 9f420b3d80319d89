// The workbench the virtual device sits on: its button, its power supply, the routers around it and the
// cloud it talks to, plus what can be seen of it (console, LED, state, stored config). Everything
// the control page shows or changes goes through here; the HTTP layer only translates.
import type { FakeCloud } from "../sim/fake-cloud/server.ts";
import type { FlashImage, NetworkSpec, PinLogEntry } from "../sim/types.ts";
import { LedTracker, classify, expectedPattern, patternLabel, monoColour, type LedBoard, type Observed, type Rgb } from "./led-view.ts";
import { readStored, type StoredView } from "./config-view.ts";
import type { SimAdditions } from "./sim-additions.ts";
import type { AirPusher } from "./air.ts";

/** The parts of the simulator (sim/, `Sim`) the bench uses. */
export interface SimDevice {
  now(): number;
  readonly bootCount: number;
  readonly console: string[];
  readonly pins: {
    readonly log: PinLogEntry[];
    setInput(pin: number, level: 0 | 1): void;
  };
  readonly storage: {
    read(name: string): unknown;
    list(): string[];
    image(): FlashImage;
  };
  readonly world: {
    set(ssid: string, partial: Partial<NetworkSpec>): void;
    list(): Required<NetworkSpec>[];
  };
  readonly wifi: {
    apRunning(): boolean;
    apSsid(): string | undefined;
    staSsid(): string | undefined;
    staIp(): string | undefined;
  };
  httpPort(port: number): number | undefined;
  stationJoin(mac: string): boolean;
  repl(code: string): unknown;
  realtime(speed: number): unknown;
  pause(): unknown;
  advance(ms: number): Promise<void>;
  powerCut(): unknown;
  powerOn(): unknown;
  stop(): unknown;
}

/** A board profile as scripts/boards.js normalises it. */
export interface BoardProfile extends LedBoard {
  id: string;
  name: string;
  dev: string;
  notes: string;
  button: { pin: number; activeLow: boolean } | null;
}

/** What `edgent.status()` returns on the device. */
export interface DeviceStatus {
  state: string;
  last_error: number;
  test: string;
  ssid: string;
  ip: string;
  cloud: boolean;
  name: string;
  memory: number;
}

export interface Snapshot {
  board: { id: string; name: string; chip: string; led: LedBoard["led"]; ledColour: Rgb; button: BoardProfile["button"]; notes: string };
  portalUrl: string;
  /** The token the fake cloud accepts: a demo token, shown whole so a person can paste it into the portal. */
  token: string;
  speed: number;
  power: boolean;
  /** edgent.status() as the device reports it, plus what the radio says: AP name, joined network and address. */
  device: DeviceStatus & { ap: string; sta: string; staIp: string; reachable: boolean };
  stored: StoredView;
  world: { ssid: string; password: string; up: boolean; rssi: number; channel: number }[];
  cloud: { rejecting: boolean; connections: number; logins: number; lastLogin: string };
  flashFile: string;
}

export interface Frame {
  /** Virtual ms on the LED view's clock. */
  t: number;
  rgb: Rgb;
  /** Light changes since the previous frame: [t, r, g, b]. */
  samples: number[][];
  button: { pressed: boolean; heldMs: number };
  pattern: { observed: Observed; expected: string };
  state: string;
  power: boolean;
}

export interface BenchOptions {
  sim: SimDevice;
  cloud: FakeCloud;
  board: BoardProfile;
  tokens: string[];
  speed: number;
  flashFile: string;
  /** What the simulator was booted with (bootWithAdditions): the bench keeps the button's level there. */
  additions: SimAdditions;
  /** One line about each thing done to the device (printed beside its console). */
  note(line: string): void;
}

/** A phone's MAC (locally administered) for the browser that opens the portal. */
export const PHONE_MAC = "da:a1:19:00:00:01";
const TAIL = 300;
const STATE_LINE = /^\[\d+\] (\w+) => (\w+)$/;
const bytesToText = (s: string) => Buffer.from(s, "latin1").toString("utf8");
const textToBytes = (s: string) => Buffer.from(s, "utf8").toString("latin1");

export class Bench {
  readonly led: LedTracker;
  /** Where the portal is served, for the control page's link (set once the server listens). */
  portalUrl = "";
  /** Blynk.Air: pushes firmware updates (virtual-board/air.ts). */
  air?: AirPusher;
  private readonly sim: SimDevice;
  private readonly opts: BenchOptions;
  private speedX: number;
  private powered = true;
  private pressed = false;
  private pressedAt = 0;
  private rejecting = false;
  private status: DeviceStatus = { state: "INIT", last_error: 0, test: "", ssid: "", ip: "", cloud: false, name: "", memory: 0 };
  private lines: { n: number; text: string }[] = [];
  private lineCount = 0;
  private powerTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Physical levels the bench holds on input pins (the button), also through power-ons (sim-additions.ts). */
  private inputs: Map<number, 0 | 1>;

  constructor(opts: BenchOptions) {
    this.opts = opts;
    this.sim = opts.sim;
    this.speedX = opts.speed;
    this.led = new LedTracker(opts.board);
    this.inputs = opts.additions.held;
    this.applyButton(); // released: the level its wiring gives (pulled up for an active-low button)
  }

  // ---------------------------------------------------------------- what comes out of the device

  /** Every console line of the device (the simulator's log callback). */
  consoleLine(text: string): void {
    this.lines.push({ n: ++this.lineCount, text });
    if (this.lines.length > TAIL) this.lines.splice(0, this.lines.length - TAIL);
    const m = STATE_LINE.exec(text);
    if (m) this.status = { ...this.status, state: m[2] };
  }

  /** Console lines after number `after` (0 = the whole tail), with the number of the newest. */
  consoleSince(after: number): { last: number; lines: string[] } {
    return { last: this.lineCount, lines: this.lines.filter((l) => l.n > after).map((l) => l.text) };
  }

  /** Asks the device for edgent.status(); keeps the last answer while it cannot reply (booting, no power). */
  async pollStatus(): Promise<void> {
    if (!this.powered || this.closed) return;
    try {
      // Guarded: an exception on the REPL would be printed on the device console every poll.
      const s = (await this.sim.repl('typeof edgent === "object" && edgent.status ? edgent.status() : undefined')) as DeviceStatus | undefined;
      if (s && typeof s === "object" && typeof s.state === "string") this.status = { ...s };
    } catch {
      // `edgent` does not exist yet (booting) or the device is halted: the console still tells the state
    }
  }

  /** Reads new pin writes into the LED view. */
  sampleLed(): void {
    if (this.powered) this.led.update(this.sim.pins.log, this.sim.bootCount, this.sim.now());
  }

  heldMs(): number {
    return this.pressed ? Math.max(0, this.led.now() - this.pressedAt) : 0;
  }

  frame(): Frame {
    this.sampleLed();
    const expected = this.powered ? expectedPattern(this.status.state, this.heldMs()) : -1;
    return {
      t: this.led.now(),
      rgb: this.led.light(),
      samples: this.led.takeNew().map((s) => [s.t, ...s.rgb]),
      button: { pressed: this.pressed, heldMs: this.heldMs() },
      pattern: { observed: classify(this.opts.board, this.led.samples(), this.led.now(), expected), expected: patternLabel(expected) },
      state: this.powered ? this.status.state : "NO POWER",
      power: this.powered,
    };
  }

  snapshot(): Snapshot {
    const b = this.opts.board;
    const cloud = this.opts.cloud;
    const last = cloud.logins[cloud.logins.length - 1];
    let ap = "";
    let sta = "";
    let staIp = "";
    let reachable = false;
    let stored: StoredView = { config: null, corrupt: [], factoryToken: "", files: [] };
    try {
      ap = bytesToText(this.sim.wifi.apSsid() ?? "");
      sta = bytesToText(this.sim.wifi.staSsid() ?? "");
      staIp = this.sim.wifi.staIp() ?? "";
      reachable = this.portalPort() !== undefined;
      stored = readStored((name) => this.storageRead(name), this.sim.storage.list()); // flash keeps its content without power
    } catch {
      // the simulator was stopped
    }
    return {
      board: { id: b.id, name: b.name, chip: b.chip, led: b.led, ledColour: monoColour(b), button: b.button, notes: b.notes },
      portalUrl: this.portalUrl,
      token: this.opts.tokens[0],
      speed: this.speedX,
      power: this.powered,
      device: { ...this.status, ssid: bytesToText(this.status.ssid || ""), ap, sta, staIp, reachable },
      stored,
      world: this.sim.world.list().map((n) => ({ ssid: bytesToText(n.ssid), password: n.password, up: n.up, rssi: n.rssi, channel: n.channel })),
      cloud: {
        rejecting: this.rejecting,
        connections: cloud.openCount(),
        logins: cloud.logins.length,
        lastLogin: last ? `${last.status === 200 || last.status === 4 ? "accepted" : last.status === 9 ? "rejected (invalid token)" : "status " + last.status} at ${new Date(last.t).toLocaleTimeString()}` : "",
      },
      flashFile: this.opts.flashFile,
    };
  }

  private storageRead(name: string): string | undefined {
    const v = this.sim.storage.read(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v === "string") return v;
    if (v instanceof Uint8Array) return Buffer.from(v).toString("latin1");
    return String(v);
  }

  /** The simulator's local port for the device's HTTP port 80, when something listens there. */
  portalPort(): number | undefined {
    if (!this.powered) return undefined;
    try {
      const p = this.sim.httpPort(80);
      return typeof p === "number" && p > 0 ? p : undefined;
    } catch {
      return undefined;
    }
  }

  /** A browser is about to talk to the portal: like a phone, it joins the access point first. */
  phoneJoins(): void {
    try {
      if (this.powered && this.sim.wifi.apRunning()) this.sim.stationJoin(PHONE_MAC);
    } catch {
      // the access point went down in between
    }
  }

  get power(): boolean {
    return this.powered;
  }

  get speed(): number {
    return this.speedX;
  }

  // ---------------------------------------------------------------- what a person does to it

  /** The board's button: pressed or released (physical level through the profile's wiring). */
  button(pressed: boolean): void {
    const btn = this.opts.board.button;
    if (!btn) throw new UserError("this board profile has no button");
    if (pressed === this.pressed) return;
    this.sampleLed();
    const held = this.heldMs();
    this.pressed = pressed;
    this.pressedAt = this.led.now();
    this.applyButton();
    this.opts.note(pressed ? "button pressed" : `button released after ${(held / 1000).toFixed(1)} s`);
  }

  private applyButton(): void {
    const btn = this.opts.board.button;
    if (!btn) return;
    const level = ((this.pressed ? 1 : 0) ^ (btn.activeLow ? 1 : 0)) as 0 | 1;
    this.inputs.set(btn.pin, level);
    if (this.powered) this.sim.pins.setInput(btn.pin, level);
  }

  /** A router goes off the air or comes back. */
  network(ssid: string, change: { up?: boolean; password?: string }): void {
    const raw = textToBytes(ssid);
    if (!this.sim.world.list().some((n) => n.ssid === raw)) throw new UserError(`no network named ${JSON.stringify(ssid)} in this world`);
    const partial: Partial<NetworkSpec> = {};
    if (change.up !== undefined) partial.up = !!change.up;
    if (change.password !== undefined) {
      const p = String(change.password);
      if (p !== "" && (p.length < 8 || p.length > 63)) throw new UserError(`the password is ${p.length} characters; WPA2 needs 8 to 63 ("" makes the network open)`);
      partial.password = p;
      partial.authMode = p ? "wpa2" : "open";
    }
    this.sim.world.set(raw, partial);
    if (partial.up !== undefined) this.opts.note(`network ${ssid} ${partial.up ? "back on the air" : "off the air"}`);
    if (partial.password !== undefined) this.opts.note(`network ${ssid}: password changed${partial.password ? "" : " (now open)"}`);
  }

  /** The cloud starts (or stops) rejecting the device's token, like a device deleted in the console. */
  rejectToken(on: boolean): void {
    const cloud = this.opts.cloud;
    this.rejecting = on;
    const tokens = new Set([...this.opts.tokens, ...cloud.logins.map((l) => l.token)]);
    for (const t of tokens) {
      if (on) cloud.invalidate(t);
      else if (this.opts.tokens.includes(t)) cloud.accept(t);
    }
    // Open links were accepted at login: drop them so the device logs in again and hears the answer.
    if (on) cloud.closeSockets();
    this.opts.note(on ? "cloud now rejects the token (as if the device was deleted in the console)" : "cloud accepts the token again");
  }

  /** Power off; with `restoreAfterMs`, back on after that many wall-clock ms. */
  powerOff(restoreAfterMs?: number): void {
    if (!this.powered) return;
    this.sampleLed();
    this.sim.powerCut();
    this.powered = false;
    this.led.powerOff();
    this.opts.note("power cut");
    if (restoreAfterMs !== undefined) this.powerTimer = setTimeout(() => void this.powerOn(), restoreAfterMs);
  }

  async powerOn(): Promise<void> {
    clearTimeout(this.powerTimer);
    this.powerTimer = undefined;
    if (this.powered || this.closed) return;
    this.opts.note("power on");
    this.status = { ...this.status, state: "INIT", test: "", cloud: false, ip: "" };
    await this.sim.powerOn(); // boots with the button as it is now (sim-additions.ts); the real-time clock kept running
    this.powered = true;
  }

  /** Virtual time per wall-clock time; 0 pauses the device. */
  async setSpeed(x: number): Promise<void> {
    if (!(x >= 0 && x <= 1000)) throw new UserError(`speed ${x} is out of range; use 0 (paused) to 1000`);
    if (x !== this.speedX) this.opts.note(x ? `time runs at ${x}x` : "time paused");
    this.speedX = x;
    this.sim.pause();
    // The simulator's real-time loop finishes the step it is in after pause(); starting a new loop
    // before that step ends would leave two loops counting the same wall-clock time twice.
    await this.quiet();
    if (x && this.speedX === x && !this.closed) this.sim.realtime(x);
  }

  /** Resolves once no time step of the simulator is in progress (advance() refuses to run beside one). */
  private async quiet(): Promise<void> {
    for (;;) {
      try {
        await this.sim.advance(0);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 2));
      }
    }
  }

  image(): FlashImage | undefined {
    if (!this.powered) return undefined;
    try {
      return this.sim.storage.image();
    } catch {
      return undefined;
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.powerTimer);
    this.powerTimer = undefined;
  }
}

/** A request the bench refuses, with the reason in words (HTTP 400). */
export class UserError extends Error {}
