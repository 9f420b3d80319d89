// The virtual board: the built firmware bundle of one board profile running on the Espruino
// simulator in real time, in a radio world, talking to a local fake Blynk cloud, with its portal
// and a control page served locally. `npm start` (main.ts) and the browser test both start it here.
import { existsSync } from "node:fs";
import { lookup } from "node:dns/promises";
import { isIPv4, type AddressInfo } from "node:net";
import type { Server } from "node:http";
import { Sim } from "../sim/index.ts";
import { startFakeCloud, type FakeCloud } from "../sim/fake-cloud/server.ts";
import { startFakeAir } from "../sim/fake-cloud/air.ts";
import { airPusher, AIR_HOST } from "./air.ts";
import type { NetworkSpec } from "../sim/types.ts";
import { isValidToken } from "../firmware/core/config.ts";
import { parseBrokerUrl } from "../firmware/mqtt/url.ts";
import { DEMO_TOKEN } from "../shared/names.ts";
import { Bench, type BoardProfile, type SimDevice } from "./workbench.ts";
import { controlServer, portalServer } from "./http.ts";
import { loadWorld } from "./world.ts";
import { defaultFlashFile, loadFlash, saveFlash } from "./flash-file.ts";
import { bootWithAdditions, type SimAdditions } from "./sim-additions.ts";

export const DEFAULT_BOARD = "esp32-devkitc";
/** The token the fake cloud accepts unless told otherwise: fixed, so it can be kept in a QA script. */
export { DEMO_TOKEN };
export const DEFAULT_PORT = 8080;
/** How often the flash image is compared with the saved one (wall-clock ms). */
const FLASH_SAVE_MS = 2000;

export interface VirtualBoardOptions {
  /** Board profile id (boards/<id>.json). */
  board?: string;
  /** The radio world; default: the networks of worldFile. */
  networks?: NetworkSpec[];
  /** Default virtual-board/world.json. */
  worldFile?: string;
  /** Control page port; 0 = any free port. Default 8080. */
  port?: number;
  /** Portal port; default port + 1 (any free port when port is 0). */
  portalPort?: number;
  /** Address to listen on; default 127.0.0.1 (0.0.0.0 lets a phone on the LAN open the portal). */
  listen?: string;
  /** Virtual time per wall-clock time; default 1. */
  speed?: number;
  /** Tokens the fake cloud accepts; default [DEMO_TOKEN]. */
  tokens?: string[];
  /** Where the flash image is kept between runs; null keeps nothing. Default: defaultFlashFile(board). */
  flashFile?: string | null;
  /** Start with an erased flash (the file is then overwritten). */
  fresh?: boolean;
  /**
   * An MQTT broker of the user's own the device may reach, mqtt://[user:password@]host[:port]: the
   * device connects to nothing it is not told of, and this is the address it is told of. Enter the
   * same URL as the portal's Server (Advanced). Plain TCP only: the simulator has no TLS.
   */
  broker?: string;
  /** Firmware bundle; default dist/<board>.js. */
  bundle?: string;
  /** Every line the device prints. */
  onConsole?: (line: string) => void;
  /** What the virtual board itself does (power cut, button, ...). */
  onNote?: (line: string) => void;
}

export interface VirtualBoard {
  readonly board: BoardProfile;
  readonly controlUrl: string;
  readonly portalUrl: string;
  readonly tokens: string[];
  /** "" when the flash is not kept. */
  readonly flashFile: string;
  /** The --broker URL without its password, "" without one. */
  readonly broker: string;
  readonly sim: SimDevice;
  readonly cloud: FakeCloud;
  readonly bench: Bench;
  /** Stops the device, saves its flash, closes the servers and the cloud; safe to call twice. */
  close(): Promise<void>;
}

export async function loadBoardProfile(id: string): Promise<BoardProfile> {
  // scripts/boards.js validates and normalises the profiles for the build; use the same reading.
  const mod = (await import(new URL("../scripts/boards.js", import.meta.url).href)) as { loadBoards(): BoardProfile[] };
  const boards = mod.loadBoards();
  const b = boards.find((x) => x.id === id);
  if (!b) throw new Error(`unknown board "${id}"; known: ${boards.map((x) => x.id).join(", ")}`);
  return b;
}

/** Listens on `port`; `inUse` is the message when another program has it. */
function listen(server: Server, port: number, host: string, inUse: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => reject(e.code === "EADDRINUSE" ? new Error(inUse) : e));
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function urlHost(listenOn: string): string {
  return listenOn === "0.0.0.0" || listenOn === "::" ? "localhost" : listenOn.includes(":") ? `[${listenOn}]` : listenOn;
}

export async function startVirtualBoard(opts: VirtualBoardOptions = {}): Promise<VirtualBoard> {
  const board = await loadBoardProfile(opts.board ?? DEFAULT_BOARD);
  const bundle = opts.bundle ?? new URL(`../dist/${board.id}.js`, import.meta.url).pathname;
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: build the firmware first (npm run build)`);
  const tokens = opts.tokens?.length ? opts.tokens : [DEMO_TOKEN];
  for (const t of tokens)
    if (!isValidToken(t)) throw new Error(`the token "${t}" is ${t.length} characters; a Blynk auth token is 32 letters, digits, "-" or "_"`);
  const speed = opts.speed ?? 1;
  if (!(speed > 0 && speed <= 1000)) throw new Error(`speed ${speed} is out of range; use more than 0 and at most 1000`);
  const networks = opts.networks ?? loadWorld(opts.worldFile);
  const flashFile = opts.flashFile === null ? "" : opts.flashFile ?? defaultFlashFile(board.id);
  const note = opts.onNote ?? (() => {});
  const storage = flashFile && !opts.fresh ? loadFlash(flashFile, board.chip, note) : undefined;

  const hosts: Record<string, string> = {};
  let broker = "";
  if (opts.broker) {
    const u = parseBrokerUrl(opts.broker);
    if (typeof u === "string") throw new Error(`--broker ${opts.broker}: ${u}`);
    if (u.tls) throw new Error(`--broker ${opts.broker}: the virtual board has no TLS; give the broker's plain port as mqtt://`);
    // the simulator reaches an IPv4 address: a host name is looked up here, once
    let ip = u.host === "localhost" ? "127.0.0.1" : u.host;
    if (!isIPv4(ip)) {
      try {
        ip = (await lookup(u.host, { family: 4 })).address;
      } catch (e) {
        throw new Error(`--broker ${opts.broker}: cannot find the address of ${u.host} (${(e as Error).message})`);
      }
    }
    hosts[`${u.host}:${u.port}`] = `${ip}:${u.port}`;
    const at = opts.broker.lastIndexOf("@");
    broker = at < 0 ? opts.broker : `${opts.broker.slice(0, opts.broker.indexOf("://") + 3)}${encodeURIComponent(u.user)}${u.pass ? ":****" : ""}${opts.broker.slice(at)}`;
  }
  const cloud = await startFakeCloud({ tokens });
  const cloudAddr = `127.0.0.1:${cloud.port}`;
  // Blynk.Air: the firmware updates the control page pushes are downloaded from here
  const air = await startFakeAir();
  hosts[`${AIR_HOST}:80`] = hosts[`${AIR_HOST}:443`] = `127.0.0.1:${air.port}`;
  let bench: Bench | undefined;
  let sim: SimDevice;
  // The button's level must survive power cuts, and the ESP32-C3's BOOT button (GPIO9) is a flash
  // pin on the classic ESP32 the simulator models: see sim-additions.ts.
  const additions: SimAdditions = {
    held: new Map(board.button ? [[board.button.pin, board.button.activeLow ? 1 : 0]] : []), // released
    watchable: new Set(board.button && board.dev.startsWith("ESP32-C") ? [board.button.pin] : []),
  };
  try {
    sim = (await bootWithAdditions(additions, () => Sim.boot({
      bundle,
      chip: board.chip,
      networks,
      hosts: { "blynk.cloud:80": cloudAddr, "blynk.cloud:443": cloudAddr, ...hosts },
      storage,
      log: (line: string) => {
        bench?.consoleLine(line);
        opts.onConsole?.(line);
      },
    }))) as unknown as SimDevice;
  } catch (e) {
    await cloud.close();
    await air.close();
    throw e;
  }

  const listenOn = opts.listen ?? "127.0.0.1";
  const port = opts.port ?? DEFAULT_PORT;
  const portalPortWanted = opts.portalPort ?? (port === 0 ? 0 : port + 1);
  let controlUrl = "";
  let portalUrl = "";
  const b = new Bench({ sim, cloud, board, tokens, speed, flashFile, note, additions });
  bench = b;
  b.air = airPusher({ air, cloud, board: board.id, note });
  for (const line of sim.console) b.consoleLine(line); // printed before the log callback was attached, if any
  const control = controlServer(b);
  const portal = portalServer(b, () => controlUrl);
  let flashTimer: NodeJS.Timeout | undefined;
  let savedImage: Buffer | undefined;
  const saveIfChanged = () => {
    if (!flashFile) return;
    const img = b.image();
    if (!img) return;
    const bytes = Buffer.from(img.bytes);
    if (savedImage && savedImage.equals(bytes)) return;
    try {
      saveFlash(flashFile, board.chip, img);
      savedImage = bytes;
    } catch (e) {
      note(`cannot save the flash image to ${flashFile}: ${(e as Error).message}`);
    }
  };
  try {
    const cp = await listen(control.server, port, listenOn, `port ${port} on ${listenOn} (the control page) is in use; choose another with --port`);
    const pp = await listen(portal.server, portalPortWanted, listenOn, opts.portalPort === undefined
      ? `port ${portalPortWanted} on ${listenOn} is in use; the portal needs it (the port after --port ${port}): choose another --port`
      : `port ${portalPortWanted} on ${listenOn} (the portal) is in use`);
    controlUrl = `http://${urlHost(listenOn)}:${cp}/`;
    portalUrl = `http://${urlHost(listenOn)}:${pp}/`;
    b.portalUrl = portalUrl;
  } catch (e) {
    await control.close();
    await portal.close();
    sim.stop();
    await cloud.close();
    await air.close();
    b.air.close();
    throw e;
  }
  await b.setSpeed(speed);
  if (flashFile) {
    saveIfChanged();
    flashTimer = setInterval(saveIfChanged, FLASH_SAVE_MS);
  }

  let closing: Promise<void> | undefined;
  return {
    board,
    controlUrl,
    portalUrl,
    tokens,
    flashFile,
    broker,
    sim,
    cloud,
    bench: b,
    close() {
      closing ??= (async () => {
        clearInterval(flashTimer);
        b.close();
        saveIfChanged();
        await control.close();
        await portal.close();
        try {
          sim.pause();
        } catch {
          // already halted
        }
        sim.stop();
        await cloud.close();
        await air.close();
        b.air?.close();
      })();
      return closing;
    },
  };
}
