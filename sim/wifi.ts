/**
 * The radio: a scripted world of access points, and the `require("Wifi")` module with the
 * ESP32 and ESP8266 behaviours (callback shapes, retry rules, inverted setIP result, persisted
 * ESP8266 opmode, AP channel following the STA...).
 *
 * Ported from espruino/Espruino libs/network/esp32/jswrap_esp32_network.c and
 * libs/network/esp8266/jswrap_esp8266_network.c (see the reference, §1).
 */
import { crc32, jsException, toBytes, typeName } from './bytes.ts';
import type { Clock } from './clock.ts';
import type { Host } from './host.ts';
import type { Chip, NetworkSpec, WifiCallRecord, WifiMode } from './types.ts';

// ------------------------------------------------------------------ timing (virtual ms)
/** Wifi.scan duration (active scan of 13 channels). */
export const SCAN_MS = 2000;
/** A connection attempt to an SSID that is not on the air (one full scan). */
export const NOT_FOUND_MS = 2500;
/** ESP8266 SDK: pause between its background reconnect attempts. */
export const ESP8266_RETRY_MS = 1000;
/** Time until a vanished AP is noticed (beacon timeout). */
export const BEACON_LOSS_MS = 3000;
/** ESP32: startAP -> SYSTEM_EVENT_AP_START. */
export const AP_START_MS = 50;
/** esp_wifi_disconnect -> STA_DISCONNECTED event. */
export const DISCONNECT_EVENT_MS = 20;
/** ESP8266: associated but no DHCP lease -> 'dhcp_timeout' (repeats). */
export const DHCP_TIMEOUT_MS = 10000;
const DEFAULT_JOIN_MS = 1500;
const MAX_STATIONS = 4;

// IDF / SDK reason codes
const R = {
  UNSPECIFIED: 1, AUTH_EXPIRE: 2, ASSOC_LEAVE: 8, FOURWAY_HANDSHAKE_TIMEOUT: 15,
  BEACON_TIMEOUT: 200, NO_AP_FOUND: 201, AUTH_FAIL: 202, ASSOC_FAIL: 203, HANDSHAKE_TIMEOUT: 204,
} as const;

const ESP32_REASONS: Record<number, string> = {
  1: 'UNSPECIFIED', 2: 'AUTH_EXPIRE', 3: 'AUTH_LEAVE', 4: 'ASSOC_EXPIRE', 5: 'ASSOC_TOOMANY', 6: 'NOT_AUTHED',
  7: 'NOT_ASSOCED', 8: 'ASSOC_LEAVE', 9: 'ASSOC_NOT_AUTHED', 10: 'DISASSOC_PWRCAP_BAD', 11: 'DISASSOC_SUPCHAN_BAD',
  13: 'IE_INVALID', 14: 'MIC_FAILURE', 15: '4WAY_HANDSHAKE_TIMEOUT', 16: 'GROUP_KEY_UPDATE_TIMEOUT',
  17: 'IE_IN_4WAY_DIFFERS', 18: 'GROUP_CIPHER_INVALID', 19: 'PAIRWISE_CIPHER_INVALID', 20: 'AKMP_INVALID',
  21: 'REASON_UNSUPP_RSN_IE_VERSION', 22: 'INVALID_RSN_IE_CAP', 23: '802_1X_AUTH_FAILED', 24: 'CIPHER_SUITE_REJECTED',
  200: 'BEACON_TIMEOUT', 201: 'NO_AP_FOUND', 202: 'AUTH_FAIL', 203: 'ASSOC_FAIL', 204: 'HANDSHAKE_TIMEOUT',
};

/** ESP32 wifiReasonToString */
function esp32Reason(code: number): string {
  return ESP32_REASONS[code] ?? 'Unknown reason';
}

const ESP8266_REASONS = [
  '0 - <Not Used>', 'unspecified', 'auth_expire', 'auth_leave', 'assoc_expire', 'assoc_toomany', 'not_authed',
  'not_assoced', 'assoc_leave', 'assoc_not_authed', 'disassoc_pwrcap_bad', 'disassoc_supchan_bad', '12 - <Not Used>',
  'ie_invalid', 'mic_failure', '4way_handshake_timeout', 'group_key_update_timeout', 'ie_in_4way_differs',
  'group_cipher_invalid', 'pairwise_cipher_invalid', 'akmp_invalid', 'unsupp_rsn_ie_version', 'invalid_rsn_ie_cap',
  '802_1x_auth_failed', 'cipher_suite_rejected', 'beacon_timeout', 'no_ap_found', 'auth_failed', 'assoc_failed',
  'handshake_timeout',
];

/**
 * ESP8266 wifiGetReason, bug included: codes 200..204 index one entry too early
 * (201 NO_AP_FOUND -> "beacon_timeout", 200 -> "cipher_suite_rejected").
 */
function esp8266Reason(code: number): string {
  if (code <= 24) return ESP8266_REASONS[code];
  if (code >= 200 && code <= 204) return ESP8266_REASONS[code - 200 + 24];
  return ESP8266_REASONS[1];
}

const AUTH_MODES = ['open', 'wep', 'wpa', 'wpa2', 'wpa_wpa2'] as const;
type AuthMode = (typeof AUTH_MODES)[number];

/** ESP8266 station status (wifi_station_get_connect_status) and its strings. */
const enum St { IDLE = 0, CONNECTING = 1, WRONG_PASSWORD = 2, NO_AP_FOUND = 3, CONNECT_FAIL = 4, GOT_IP = 5 }
const ESP8266_CONN = ['off', 'connecting', 'bad_password', 'no_ap_found', 'connect_failed', 'connected'];
/** ESP32 wifi_mode_t; ESP8266 opmode uses the same numbers. */
const enum Mode { NULL = 0, STA = 1, AP = 2, APSTA = 3 }
const ESP32_MODES = ['NULL', 'STA', 'AP', 'APSTA'];
const ESP8266_MODES: WifiMode[] = ['off', 'sta', 'ap', 'sta+ap'];

interface IpInfo {
  ip: string;
  netmask: string;
  gw: string;
}

interface ApConfig {
  ssid: string;
  password: string;
  authMode: AuthMode;
  /** configured channel, 0 = automatic */
  channel: number;
  hidden: boolean;
}

interface Station {
  mac: string;
  ip: string;
}

function macFromSsid(ssid: string): string {
  const c = crc32(Buffer.from(ssid, 'latin1'));
  const b = [0xa0, (c >>> 24) & 0xff, (c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff, ssid.length & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function normalizeNetwork(spec: NetworkSpec): Required<NetworkSpec> {
  const ssid = spec.ssid;
  toBytes(ssid, 'NetworkSpec.ssid');
  return {
    ssid,
    password: spec.password ?? '',
    rssi: spec.rssi,
    channel: spec.channel,
    bssid: (spec.bssid ?? macFromSsid(ssid)).toLowerCase(),
    authMode: spec.authMode ?? (spec.password ? 'wpa2' : 'open'),
    joinDelayMs: spec.joinDelayMs ?? DEFAULT_JOIN_MS,
    dhcp: spec.dhcp ?? true,
    hidden: spec.hidden ?? false,
    ip: spec.ip ?? '192.168.1.50',
    up: spec.up ?? true,
    badPasswordReason: spec.badPasswordReason ?? 'AUTH_FAIL',
  };
}

/** The scripted radio environment: access points that can appear, vanish and change. */
export class World {
  private nets: Required<NetworkSpec>[] = [];
  /** Called after every change (the radio re-checks its link). */
  onChange: () => void = () => {};

  constructor(specs: NetworkSpec[] = []) {
    for (const s of specs) this.nets.push(normalizeNetwork(s));
  }

  list(): Required<NetworkSpec>[] {
    return this.nets.map((n) => ({ ...n }));
  }

  get(ssid: string): Required<NetworkSpec> | undefined {
    return this.nets.find((n) => n.ssid === ssid);
  }

  add(spec: NetworkSpec): void {
    this.nets.push(normalizeNetwork(spec));
    this.onChange();
  }

  set(ssid: string, partial: Partial<NetworkSpec>): void {
    const i = this.nets.findIndex((n) => n.ssid === ssid);
    if (i < 0) throw new Error(`world.set: no network with SSID ${JSON.stringify(ssid)}`);
    this.nets[i] = normalizeNetwork({ ...this.nets[i], ...partial });
    this.onChange();
  }

  remove(ssid: string): void {
    this.nets = this.nets.filter((n) => n.ssid !== ssid);
    this.onChange();
  }

  /** APs on the air. */
  onAir(): Required<NetworkSpec>[] {
    return this.nets.filter((n) => n.up);
  }

  /** The AP a station joining `ssid` (optionally a given bssid) would pick: strongest signal. */
  findForJoin(ssid: string, bssid?: string): Required<NetworkSpec> | undefined {
    return this.onAir()
      .filter((n) => n.ssid === ssid && (!bssid || n.bssid === bssid.toLowerCase()))
      .sort((a, b) => b.rssi - a.rssi)[0];
  }
}

function parseIp(s: unknown): number[] | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255) || b.every((x) => x === 0)) return undefined;
  return b;
}

function gatewayOf(ip: string): string {
  return ip.replace(/\.\d+$/, '.1');
}

function macBytes(mac: string): number[] {
  return mac.split(':').map((x) => parseInt(x, 16));
}

function macString(b: number[]): string {
  return b.map((x) => (x & 0xff).toString(16).padStart(2, '0')).join(':');
}

/**
 * The Wifi hardware of one power session (state survives load()/reset(); JS callbacks do not).
 */
export class Radio {
  readonly log: WifiCallRecord[];
  readonly staMac: string;
  readonly apMac: string;
  private host: Host | undefined;
  private module: any;
  // -- mode bookkeeping
  /** ESP32 wifi_mode_t, or ESP8266 current opmode. */
  private mode: Mode;
  /** ESP8266: opmode as persisted by the SDK (survives reboot, lives in the flash image). */
  persistedOpmode: number;
  /** ESP32: esp_wifi_start() was called (not stopped by stopWifiIfIdle). */
  private started = false;
  // -- station
  private staCfg = { ssid: '', password: '', bssid: undefined as string | undefined };
  private staNet: Required<NetworkSpec> | undefined;
  private staIp: IpInfo | undefined;
  private staticIp: IpInfo | undefined;
  private associated = false;
  /** ESP32 g_isStaConnected (set on association, cleared only when retries are exhausted). */
  private isStaConnected = false;
  private retry = 0;
  private lastReason = 0;
  private lastAuth: AuthMode = 'open';
  private status: St = St.IDLE;
  private skipDisconnect = false;
  private disconnecting = false;
  private attemptTasks: number[] = [];
  private lossTask: number | undefined;
  // -- AP
  private apRunning = false;
  private apStarting: number | undefined;
  private apCfg: ApConfig;
  private apIp: IpInfo = { ip: '192.168.4.1', netmask: '255.255.255.0', gw: '192.168.4.1' };
  private apChannel = 1;
  private stations: Station[] = [];
  private hostname: string;
  private scanning = false;
  // -- JS callbacks (per JS session)
  private gotIpCb: unknown;
  private disconnectCb: unknown;
  private scanCb: unknown;
  private apStartCb: unknown;

  constructor(readonly chip: Chip, staMac: string, readonly world: World, private clock: Clock, log: WifiCallRecord[],
    persistedOpmode: number | undefined, private hostLookup: (name: string) => boolean) {
    this.log = log;
    this.staMac = staMac.toLowerCase();
    const b = macBytes(this.staMac);
    b[5] = (b[5] + 1) & 0xff;
    this.apMac = macString(b);
    const tail = macBytes(this.apMac).slice(3).map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join('');
    this.apCfg = { ssid: `ESP_${tail}`, password: '', authMode: 'open', channel: chip === 'ESP8266' ? 1 : 0, hidden: false };
    this.hostname = chip === 'ESP32' ? 'espressif' : `ESP_${macBytes(this.staMac).slice(3).map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join('')}`;
    // A fresh ESP8266 SDK starts as an open "ESP_XXXXXX" access point; whatever opmode was
    // persisted by wifi_set_opmode() comes back at every boot before any JS runs.
    this.persistedOpmode = chip === 'ESP8266' ? (persistedOpmode ?? Mode.AP) : 0;
    this.mode = chip === 'ESP8266' ? this.persistedOpmode : Mode.NULL;
    if (chip === 'ESP8266' && this.mode & Mode.AP) {
      this.apRunning = true;
      this.apChannel = this.apCfg.channel || 1;
    }
    world.onChange = () => this.checkLink();
  }

  // ------------------------------------------------------------------ test API

  /** Current radio mode in one vocabulary for both chips. */
  wifiMode(): WifiMode {
    return ESP8266_MODES[this.mode];
  }

  apSsid(): string | undefined {
    return this.apRunning ? this.apCfg.ssid : undefined;
  }

  apInfo(): { running: boolean; ssid: string; password: string; authMode: string; channel: number; hidden: boolean; stations: Station[] } {
    return { running: this.apRunning, ...this.apCfg, channel: this.apChannel, stations: this.stations.map((s) => ({ ...s })) };
  }

  isApRunning(): boolean {
    return this.apRunning;
  }

  staSsid(): string | undefined {
    return this.associated ? this.staNet?.ssid : undefined;
  }

  staIpAddress(): string | undefined {
    return this.staIp?.ip;
  }

  /** Device reachable by a client: AP up or STA has an address. */
  linkUp(): boolean {
    return this.apRunning || !!this.staIp;
  }

  stationJoin(mac: string): boolean {
    mac = mac.toLowerCase();
    if (!this.apRunning) throw new Error('stationJoin: the access point is not running');
    if (this.stations.some((s) => s.mac === mac)) return true;
    if (this.stations.length >= MAX_STATIONS) return false;
    let n = 2;
    while (this.stations.some((s) => s.ip === `192.168.4.${n}`)) n++;
    this.stations.push({ mac, ip: this.apIp.ip.replace(/\.\d+$/, `.${n}`) });
    this.emit('sta_joined', { mac });
    return true;
  }

  stationLeave(mac: string): void {
    mac = mac.toLowerCase();
    const before = this.stations.length;
    this.stations = this.stations.filter((s) => s.mac !== mac);
    if (this.stations.length !== before) this.emit('sta_left', { mac });
  }

  // ------------------------------------------------------------------ JS binding

  /** Attach to a new JS session: the module object to emit on; JS callbacks are forgotten. */
  bind(host: Host, module: any): void {
    this.host = host;
    this.module = module;
    this.gotIpCb = this.disconnectCb = this.scanCb = this.apStartCb = undefined;
  }

  private emit(ev: string, details: unknown): void {
    if (this.host && this.module) this.host.queueEvent(this.module, ev, [details === null ? null : this.host.data(details)]);
  }

  private cb(fn: unknown, args: unknown[]): void {
    if (this.host && typeof fn === 'function') this.host.queueCall(fn, args);
  }

  private record(call: string, args: unknown[]): void {
    this.log.push({ t: this.clock.now, call, args: JSON.parse(JSON.stringify(args.map((a) => (typeof a === 'function' ? '[Function]' : a)))) });
  }

  /** Driver-side task: survives load()/reset() like the radio itself. */
  private later(ms: number, fn: () => void): number {
    return this.clock.at(ms, fn);
  }

  private cancelAttempt(): void {
    for (const t of this.attemptTasks) this.clock.cancel(t);
    this.attemptTasks = [];
  }

  private expectCb(cb: unknown): void {
    if (cb !== undefined && cb !== null && typeof cb !== 'function') {
      throw jsException('Error', `Expecting callback function but got ${String(cb)}`);
    }
  }

  // ------------------------------------------------------------------ channel rule

  /** The AP shares the radio with the STA: once the STA is associated, the AP must use its channel. */
  private updateApChannel(): void {
    const want = this.associated && this.staNet ? this.staNet.channel : this.apCfg.channel || 1;
    if (want === this.apChannel) return;
    const from = this.apChannel;
    this.apChannel = want;
    if (!this.apRunning) return;
    this.record('ap_channel', [from, want]);
    // phones on the AP do not follow the switch: they drop off
    for (const s of this.stations.slice()) this.stationLeave(s.mac);
  }

  // ------------------------------------------------------------------ station state machine

  private passwordOk(net: Required<NetworkSpec>, password: string): boolean {
    if (net.authMode === 'open' || net.password === '') return true;
    return net.password === password;
  }

  /** esp_wifi_connect / wifi_station_connect: one attempt with the current station config. */
  private attempt(): void {
    this.cancelAttempt();
    this.status = St.CONNECTING;
    const net = this.world.findForJoin(this.staCfg.ssid, this.chip === 'ESP8266' ? this.staCfg.bssid : undefined);
    if (!net) {
      this.attemptTasks.push(this.later(NOT_FOUND_MS, () => this.attemptFailed(R.NO_AP_FOUND, St.NO_AP_FOUND)));
      return;
    }
    if (!this.passwordOk(net, this.staCfg.password)) {
      const code = this.chip === 'ESP32'
        ? { AUTH_FAIL: R.AUTH_FAIL, '4WAY_HANDSHAKE_TIMEOUT': R.FOURWAY_HANDSHAKE_TIMEOUT, HANDSHAKE_TIMEOUT: R.HANDSHAKE_TIMEOUT }[net.badPasswordReason]
        : R.FOURWAY_HANDSHAKE_TIMEOUT;
      this.attemptTasks.push(this.later(net.joinDelayMs, () => this.attemptFailed(code, St.WRONG_PASSWORD, net)));
      return;
    }
    const half = net.joinDelayMs / 2;
    this.attemptTasks.push(this.later(half, () => {
      if (!this.world.findForJoin(net.ssid) || !this.passwordOk(net, this.staCfg.password)) {
        this.attemptFailed(R.NO_AP_FOUND, St.NO_AP_FOUND);
        return;
      }
      this.associate(net);
      if (net.dhcp) {
        this.attemptTasks.push(this.later(net.joinDelayMs - half, () => this.gotIp(net)));
      } else if (this.chip === 'ESP8266') {
        const tick = () => {
          this.emit('dhcp_timeout', null);
          this.attemptTasks.push(this.later(DHCP_TIMEOUT_MS, tick));
        };
        this.attemptTasks.push(this.later(DHCP_TIMEOUT_MS, tick));
      }
      // ESP32 without DHCP: associated, 'connected' never comes, the callback is never called
    }));
  }

  private associate(net: Required<NetworkSpec>): void {
    this.staNet = net;
    this.associated = true;
    this.isStaConnected = true;
    this.lastAuth = net.authMode;
    this.updateApChannel();
    this.emit('associated', { ssid: net.ssid, mac: net.bssid, channel: this.chip === 'ESP32' ? String(net.channel) : net.channel });
  }

  private gotIp(net: Required<NetworkSpec>): void {
    this.staIp = this.staticIp ?? { ip: net.ip, netmask: '255.255.255.0', gw: gatewayOf(net.ip) };
    this.status = St.GOT_IP;
    const cb = this.gotIpCb;
    this.gotIpCb = undefined;
    this.cb(cb, [null]);
    const ip = this.staIp;
    this.emit('connected', this.chip === 'ESP32' ? { ip: ip.ip, netmask: ip.netmask, gw: ip.gw } : { ip: ip.ip, mask: ip.netmask, gw: ip.gw });
  }

  private dropLink(): void {
    this.associated = false;
    this.staIp = undefined;
    this.clock.cancel(this.lossTask);
    this.lossTask = undefined;
    this.updateApChannel();
  }

  /** A connection attempt (or an established link) ended with `reason`. */
  private attemptFailed(reason: number, st: St, net?: Required<NetworkSpec>): void {
    this.cancelAttempt();
    const mac = net?.bssid ?? this.staNet?.bssid ?? '00:00:00:00:00:00';
    const ssid = this.staCfg.ssid;
    this.dropLink();
    if (this.chip === 'ESP32') this.esp32Disconnected(reason, ssid, reason === R.NO_AP_FOUND ? '00:00:00:00:00:00' : mac);
    else this.esp8266Disconnected(reason, st, ssid, reason === R.NO_AP_FOUND ? '00:00:00:00:00:00' : mac);
  }

  /** ESP32 event_handler, SYSTEM_EVENT_STA_DISCONNECTED. */
  private esp32Disconnected(reason: number, ssid: string, mac: string): void {
    if (--this.retry > 0) {
      this.attempt();
      return;
    }
    this.status = St.IDLE;
    this.isStaConnected = false;
    this.lastReason = reason;
    if (typeof this.disconnectCb === 'function') {
      this.cb(this.disconnectCb, []);
      this.disconnectCb = undefined;
    }
    this.emit('disconnected', { ssid, mac, reason: String(reason), msg: esp32Reason(reason) });
    if (this.gotIpCb) {
      const cb = this.gotIpCb;
      this.gotIpCb = undefined;
      this.cb(cb, [esp32Reason(reason)]);
    }
    this.stopWifiIfIdle();
  }

  /** ESP8266 wifiEventHandler, EVENT_STAMODE_DISCONNECTED (and the SDK's endless reconnect). */
  private esp8266Disconnected(reason: number, st: St, ssid: string, mac: string): void {
    this.status = st;
    if (this.skipDisconnect) {
      this.skipDisconnect = false;
    } else {
      if ((st === St.WRONG_PASSWORD || st === St.NO_AP_FOUND || st === St.CONNECT_FAIL) && typeof this.gotIpCb === 'function') {
        const cb = this.gotIpCb;
        this.gotIpCb = undefined;
        this.cb(cb, [ESP8266_CONN[st]]);
      }
      if (this.disconnecting) {
        this.setOpmode(this.mode & Mode.AP, true);
        this.disconnecting = false;
        if (typeof this.disconnectCb === 'function') {
          this.cb(this.disconnectCb, []);
          this.disconnectCb = undefined;
        }
      }
      this.emit('disconnected', { ssid, mac, reason: esp8266Reason(reason) });
    }
    if (this.mode & Mode.STA && st !== St.IDLE) {
      // the SDK keeps trying in the background until disconnect()
      this.attemptTasks.push(this.later(ESP8266_RETRY_MS, () => this.attempt()));
    }
  }

  /** ESP32 stopWifiIfIdle */
  private stopWifiIfIdle(): void {
    if ((this.mode === Mode.NULL || (this.mode === Mode.STA && !this.isStaConnected)) && !this.scanning) this.started = false;
  }

  /** The world changed: a joined AP that vanished (or changed its key) is lost after a beacon timeout. */
  private checkLink(): void {
    if (!this.associated || !this.staNet || this.lossTask !== undefined) return;
    const net = this.world.findForJoin(this.staNet.ssid);
    if (net && net.bssid === this.staNet.bssid && this.passwordOk(net, this.staCfg.password)) return;
    this.lossTask = this.later(BEACON_LOSS_MS, () => {
      this.lossTask = undefined;
      const still = this.world.findForJoin(this.staNet?.ssid ?? '');
      if (still && still.bssid === this.staNet?.bssid && this.passwordOk(still, this.staCfg.password)) return;
      this.attemptFailed(R.BEACON_TIMEOUT, this.chip === 'ESP8266' ? St.CONNECTING : St.IDLE);
    });
  }

  private setOpmode(m: number, persist: boolean): void {
    const had = this.mode;
    this.mode = m;
    if (this.chip === 'ESP8266' && persist) this.persistedOpmode = m;
    if (had & Mode.AP && !(m & Mode.AP)) this.apDown();
    if (!(had & Mode.AP) && m & Mode.AP && this.chip === 'ESP8266') this.apUp();
  }

  private apUp(): void {
    this.apRunning = true;
    this.apChannel = this.associated && this.staNet ? this.staNet.channel : this.apCfg.channel || 1;
  }

  private apDown(): void {
    this.clock.cancel(this.apStarting);
    this.apStarting = undefined;
    for (const s of this.stations.slice()) this.stationLeave(s.mac);
    this.apRunning = false;
  }

  // ------------------------------------------------------------------ module

  makeModule(host: Host): any {
    const w = host.obj();
    this.bind(host, w);
    const esp32 = this.chip === 'ESP32';
    const ipObj = (info: IpInfo | undefined, mac: string) =>
      host.obj({ ip: info?.ip ?? '0.0.0.0', netmask: info?.netmask ?? '0.0.0.0', gw: info?.gw ?? '0.0.0.0', mac });

    w.connect = (ssid: unknown, opts?: unknown, cb?: unknown) => {
      host.alive();
      this.record('connect', [ssid, opts, cb]);
      if (typeof ssid !== 'string') throw jsException('Error', 'No SSID provided');
      const ssidB = toBytes(ssid, 'Wifi.connect ssid').subarray(0, 32).toString('latin1');
      if (esp32 && opts !== undefined && (typeof opts !== 'object' || opts === null || Array.isArray(opts))) {
        throw jsException('Error', `Expecting Object, got ${typeName(opts)}`);
      }
      this.gotIpCb = undefined;
      this.expectCb(cb);
      this.disconnectCb = undefined;
      let password = '';
      let bssid: string | undefined;
      if (opts !== undefined) {
        if (!esp32 && (typeof opts !== 'object' || opts === null || Array.isArray(opts))) {
          throw jsException('Error', `Expecting Object, got ${typeName(opts)}`);
        }
        const o = opts as Record<string, unknown>;
        if (o.password !== undefined && typeof o.password !== 'string') {
          throw jsException('Error', `Expecting options.password to be a string but got ${typeName(o.password)}`);
        }
        password = o.password === undefined ? '' : toBytes(o.password as string, 'Wifi.connect password').subarray(0, 64).toString('latin1');
        if (!esp32) {
          if (typeof o.bssid === 'string') {
            if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(o.bssid)) throw jsException('Error', 'Expecting bssid as "aa:bb:cc:dd:cc:ff"');
            bssid = o.bssid.toLowerCase();
          }
          if (typeof o.channel === 'number' && Number.isInteger(o.channel) && (o.channel < 0 || o.channel > 14)) {
            throw jsException('Error', `Expecting options.channel to be a integer between 0 and  14, but got ${typeName(o.channel)}`);
          }
        }
      }
      if (esp32) {
        this.mode = this.mode === Mode.AP || this.mode === Mode.APSTA ? Mode.APSTA : Mode.STA;
        this.staCfg = { ssid: ssidB, password, bssid: undefined };
        this.retry = 3;
        if (this.isStaConnected) {
          // esp_wifi_disconnect(): the STA_DISCONNECTED event consumes one retry and reconnects
          this.cancelAttempt();
          this.attemptTasks.push(this.later(DISCONNECT_EVENT_MS, () => this.attemptFailed(R.ASSOC_LEAVE, St.IDLE)));
        } else {
          this.started = true;
          this.attempt();
        }
        this.gotIpCb = typeof cb === 'function' ? cb : undefined;
        return;
      }
      // ESP8266
      if (this.status === St.GOT_IP && this.staCfg.ssid === ssidB && this.staCfg.password === password) {
        this.cb(cb, [null]); // already connected to that network
        return;
      }
      const wasConnected = this.status === St.GOT_IP;
      this.cancelAttempt();
      if (wasConnected) {
        const oldSsid = this.staCfg.ssid;
        const oldMac = this.staNet?.bssid ?? '00:00:00:00:00:00';
        this.dropLink();
        this.emit('disconnected', { ssid: oldSsid, mac: oldMac, reason: esp8266Reason(R.ASSOC_LEAVE) });
      } else if (this.associated) this.dropLink();
      this.skipDisconnect = false;
      this.setOpmode(this.mode | Mode.STA, true);
      this.gotIpCb = typeof cb === 'function' ? cb : undefined;
      this.staCfg = { ssid: ssidB, password, bssid };
      if (!this.hostname) this.hostname = 'espruino';
      this.attempt();
    };

    w.disconnect = (cb?: unknown) => {
      host.alive();
      this.record('disconnect', [cb]);
      this.disconnectCb = undefined;
      if (cb !== undefined && typeof cb !== 'function') throw jsException('Error', `Expecting callback function but got ${String(cb)}`);
      this.disconnectCb = cb;
      if (esp32) {
        this.retry = 0;
        if (this.associated || this.attemptTasks.length) {
          this.cancelAttempt();
          this.attemptTasks.push(this.later(DISCONNECT_EVENT_MS, () => this.attemptFailed(R.ASSOC_LEAVE, St.IDLE)));
        }
        this.cb(cb, []); // queued immediately (and again on the STA_DISCONNECTED event)
        return;
      }
      const wasConnected = this.status === St.GOT_IP;
      this.cancelAttempt();
      if (wasConnected) {
        this.disconnecting = true;
        this.attemptTasks.push(this.later(DISCONNECT_EVENT_MS, () => {
          const mac = this.staNet?.bssid ?? '00:00:00:00:00:00';
          this.dropLink();
          this.esp8266Disconnected(R.ASSOC_LEAVE, St.IDLE, this.staCfg.ssid, mac);
        }));
      } else {
        this.dropLink();
        this.status = St.IDLE;
        this.setOpmode(this.mode & Mode.AP, true);
        this.disconnecting = false;
        this.disconnectCb = undefined;
        this.cb(cb, []);
      }
    };

    w.startAP = (ssid: unknown, opts?: unknown, cb?: unknown) => {
      host.alive();
      this.record('startAP', [ssid, opts, cb]);
      this.expectCb(cb);
      if (typeof ssid !== 'string') throw jsException('Error', 'No SSID');
      if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) {
        throw jsException('Error', `Expecting Object, got ${typeName(opts)}`);
      }
      if (esp32) this.apStartCb = undefined;
      const cfg: ApConfig = {
        ssid: toBytes(ssid, 'Wifi.startAP ssid').subarray(0, 32).toString('latin1'),
        password: '', authMode: 'open', channel: 0, hidden: false,
      };
      if (opts && typeof opts === 'object') {
        const o = opts as Record<string, unknown>;
        if (!esp32 && typeof o.hidden === 'number' && Number.isInteger(o.hidden) && (o.hidden === 0 || o.hidden === 1)) {
          cfg.hidden = o.hidden === 1;
        }
        if (typeof o.channel === 'number' && Number.isInteger(o.channel) && o.channel >= 1 && o.channel <= 13) cfg.channel = o.channel;
        if (o.password !== undefined) {
          const emptyOk = !esp32 && o.password === '';
          if (!emptyOk) {
            if (typeof o.password !== 'string' || o.password.length < 8) {
              throw jsException('Error', 'Password must be string of at least 8 characters');
            }
            cfg.password = toBytes(o.password, 'Wifi.startAP password').subarray(0, 63).toString('latin1');
          }
        }
        if (typeof o.authMode === 'string') {
          if (o.authMode === 'open' || o.authMode === 'wpa2' || o.authMode === 'wpa' || o.authMode === 'wpa_wpa2') cfg.authMode = o.authMode;
          else throw jsException('Error', 'Unknown authMode value');
        } else cfg.authMode = cfg.password ? 'wpa2' : 'open';
        if (cfg.authMode !== 'open' && !cfg.password) throw jsException('Error', 'Password not set but authMode not open');
        if (cfg.authMode === 'open' && cfg.password) throw jsException('Error', 'Auth mode set to open but password supplied');
      }
      if (!esp32 && cfg.channel === 0) cfg.channel = this.apCfg.channel || 1;
      this.apCfg = cfg;
      if (esp32) {
        if (typeof cb === 'function') this.apStartCb = cb;
        const wasAp = this.apRunning || this.apStarting !== undefined;
        this.mode |= Mode.AP;
        this.started = true;
        if (!wasAp) {
          this.apStarting = this.later(AP_START_MS, () => {
            this.apStarting = undefined;
            this.apUp();
            const f = this.apStartCb;
            this.apStartCb = undefined;
            this.cb(f, [null]);
          });
        } else {
          // reconfigured while running: no new AP_START event, so the callback never comes
          this.updateApChannel();
        }
        return;
      }
      this.setOpmode(this.mode | Mode.AP, true);
      this.apUp();
      if (cb !== undefined) this.cb(cb, [null]);
    };

    w.stopAP = (cb?: unknown) => {
      host.alive();
      this.record('stopAP', [cb]);
      this.expectCb(cb);
      if (esp32) {
        const m = this.mode === Mode.AP ? Mode.NULL : this.mode === Mode.APSTA ? Mode.STA : this.mode;
        this.setOpmode(m, false);
        this.stopWifiIfIdle();
      } else this.setOpmode(this.mode & Mode.STA, true);
      this.cb(cb, []);
    };

    w.scan = (cb: unknown) => {
      host.alive();
      this.record('scan', [cb]);
      if (this.scanning) throw jsException('Error', 'A scan is already in progress');
      if (typeof cb !== 'function') throw jsException('Error', `Expecting callback function but got ${String(cb)}`);
      this.scanning = true;
      this.scanCb = cb;
      if (esp32) {
        this.mode = this.mode === Mode.NULL ? Mode.STA : this.mode === Mode.AP ? Mode.APSTA : this.mode;
        this.started = true;
      } else {
        this.disconnecting = false;
        this.setOpmode(this.mode | Mode.STA, false); // wifi_set_opmode_current: not persisted
      }
      this.later(SCAN_MS, () => {
        this.scanning = false;
        let aps = this.world.onAir();
        if (esp32) aps = aps.slice().sort((a, b) => b.rssi - a.rssi);
        const list = aps.map((n) => esp32
          ? { rssi: n.rssi, authMode: n.authMode, ssid: n.hidden ? '' : n.ssid, mac: n.bssid, channel: String(n.channel) }
          : { rssi: Math.min(0, n.rssi), channel: n.channel, authMode: n.authMode, isHidden: n.hidden, ssid: n.hidden ? '' : n.ssid, mac: n.bssid });
        const f = this.scanCb;
        this.scanCb = undefined;
        this.cb(f, [host.data(list)]);
        if (esp32) this.stopWifiIfIdle();
      });
    };

    w.getStatus = (cb?: unknown) => {
      host.alive();
      if (esp32) {
        const st: Record<string, unknown> = {};
        if (this.isStaConnected) {
          st.station = 'connected';
          if ((this.mode === Mode.STA || this.mode === Mode.APSTA) && this.staNet) {
            st.ssid = this.staNet.ssid;
            st.bssid = this.staNet.bssid;
            st.channel = this.staNet.channel;
            st.rssi = this.staNet.rssi;
            st.htMode = 'HT20';
            st.authMode = this.lastAuth;
          }
        } else st.station = esp32Reason(this.lastReason);
        st.mode = !this.apRunning && !this.isStaConnected ? 'NULL' : ESP32_MODES[this.mode];
        st.powersave = 'min_modem';
        return host.data(st); // the ESP32 implementation ignores the callback
      }
      if (cb !== undefined && cb !== null && typeof cb !== 'function') throw jsException('Error', `Expecting callback function but got ${String(cb)}`);
      const st = host.data({
        mode: ESP8266_MODES[this.mode],
        station: this.mode & Mode.STA ? ESP8266_CONN[this.status] : 'off',
        ap: this.mode & Mode.AP ? 'enabled' : 'disabled',
        phy: '11n',
        powersave: 'ps-poll',
        savedMode: ESP8266_MODES[this.savedMode],
      });
      this.cb(cb, [st]);
      return st;
    };

    w.getDetails = (cb?: unknown) => {
      host.alive();
      if (cb !== undefined && cb !== null && typeof cb !== 'function') throw jsException('Error', `Expecting callback function but got ${String(cb)}`);
      let d: Record<string, unknown>;
      if (esp32) {
        d = this.isStaConnected
          ? { ssid: this.staCfg.ssid, password: this.staCfg.password, status: 'connected', authMode: this.lastAuth }
          : { status: esp32Reason(this.lastReason) };
      } else {
        d = { status: ESP8266_CONN[this.status], ssid: this.staCfg.ssid, password: this.staCfg.password };
        if (this.mode & Mode.STA) d.rssi = this.associated && this.staNet ? Math.min(0, this.staNet.rssi) : 0;
        d.savedSsid = null;
      }
      const v = host.data(d);
      this.cb(cb, [v]);
      return v;
    };

    w.getAPDetails = (cb?: unknown) => {
      host.alive();
      if (cb !== undefined && cb !== null && typeof cb !== 'function') throw jsException('Error', `Expecting callback function but got ${String(cb)}`);
      const c = this.apCfg;
      const d: Record<string, unknown> = esp32
        ? { authMode: c.authMode, hidden: false, maxConn: MAX_STATIONS, ssid: c.ssid, password: c.password }
        : { status: this.mode & Mode.AP ? 'enabled' : 'disabled', authMode: c.authMode, hidden: c.hidden, maxConn: MAX_STATIONS, ssid: c.ssid, password: c.password, savedSsid: null };
      if (!esp32 && this.mode & Mode.AP) d.stations = this.stations.map((s) => ({ ip: s.ip, mac: s.mac }));
      const v = host.data(d);
      this.cb(cb, [v]);
      return v;
    };

    const getIp = (ap: boolean) => (cb?: unknown) => {
      host.alive();
      if (cb !== undefined && cb !== null && typeof cb !== 'function') throw jsException('Error', `Expecting callback function but got ${String(cb)}`);
      const v = ap ? ipObj(this.apRunning ? this.apIp : undefined, this.apMac) : ipObj(this.staIp, this.staMac);
      this.cb(cb, [null, v]);
      return v;
    };
    w.getIP = getIp(false);
    w.getAPIP = getIp(true);

    const setIp = (ap: boolean) => (settings: unknown, cb?: unknown) => {
      host.alive();
      this.record(ap ? 'setAPIP' : 'setIP', [settings]);
      if (typeof settings !== 'object' || settings === null) throw jsException('Error', `Expecting Object, got ${typeName(settings)}`);
      const s = settings as Record<string, unknown>;
      if (!parseIp(s.ip)) throw jsException('Error', 'Not a valid IP address');
      if (!parseIp(s.gw)) throw jsException('Error', 'Not a valid Gateway address');
      if (!parseIp(s.netmask)) throw jsException('Error', 'Not a valid Netmask');
      const info = { ip: s.ip as string, gw: s.gw as string, netmask: s.netmask as string };
      if (ap) this.apIp = info;
      else {
        this.staticIp = info;
        if (this.staIp) this.staIp = info;
      }
      if (typeof cb !== 'function') throw jsException('Error', 'Callback is not a function');
      // ESP32 bug: params[0] = err ? null : "Failure" -> success reports "Failure"
      this.cb(cb, [esp32 ? 'Failure' : null]);
    };
    w.setIP = setIp(false);
    w.setAPIP = setIp(true);

    w.setHostname = (name: unknown, cb?: unknown) => {
      host.alive();
      this.record('setHostname', [name]);
      this.hostname = String(name);
      this.cb(cb, []);
    };
    w.getHostname = (cb?: unknown) => {
      host.alive();
      this.cb(cb, [this.hostname]);
      return this.hostname;
    };

    w.getHostByName = (name: unknown, cb: unknown) => {
      host.alive();
      if (typeof name !== 'string') throw jsException('Error', 'Hostname parameter is not a string');
      if (typeof cb !== 'function') throw jsException('Error', 'Callback is not a function');
      const ok = !!this.staIp && (!!parseIp(name) || this.hostLookup(name));
      this.later(ok ? 50 : 5000, () => this.cb(cb, [ok ? (parseIp(name) ? name : fakeIpFor(name)) : null]));
    };

    w.setSNTP = (server: unknown, zone: unknown) => {
      host.alive();
      if (esp32 && typeof zone !== 'string') throw jsException('Error', 'Zone is not a string');
      if (!esp32 && typeof zone !== 'number') throw jsException('Error', 'Zone is not a number');
      if (typeof server !== 'string') throw jsException('Error', 'Server is not a string');
      this.record('setSNTP', [server, zone]);
    };

    w.setConfig = (settings: unknown) => {
      host.alive();
      if (typeof settings !== 'object' || settings === null) throw jsException('Error', `Expecting Object, got ${typeName(settings)}`);
      this.record('setConfig', [settings]);
    };

    w.save = (what?: unknown) => {
      host.alive();
      this.record('save', [what]);
      this.save(what === 'clear');
    };
    w.restore = () => {
      host.alive();
      this.record('restore', []);
      this.restore();
    };
    return w;
  }

  private savedMode = 0;

  /** Wifi.save: writes .wificfg through the Storage module (a real flash write). */
  private save(clear: boolean): void {
    const storage = this.storage();
    if (clear) {
      storage.erase('.wificfg');
      return;
    }
    const auth = AUTH_MODES.indexOf(this.apCfg.authMode);
    const o: Record<string, unknown> = { ssid: this.staCfg.ssid, password: this.staCfg.password, mode: this.mode };
    if (this.chip === 'ESP8266') {
      o.phyMode = 3;
      o.sleepType = 2;
      o.hostname = this.hostname;
    } else o.sleepType = 1;
    Object.assign(o, { ssidAP: this.apCfg.ssid, passwordAP: this.apCfg.password, authmodeAP: auth, hiddenAP: this.apCfg.hidden ? 1 : 0, channelAP: this.apCfg.channel });
    if (this.chip === 'ESP32') o.hostname = this.hostname;
    if (this.chip === 'ESP8266') this.savedMode = this.mode;
    storage.erase('.wificfg');
    storage.write('.wificfg', this.host!.data(o));
  }

  /** Injected by the runtime: the device's Storage module. */
  storage: () => { erase(n: string): void; write(n: string, d: unknown): boolean; readJSON(n: string, ne: boolean): any } = () => {
    throw new Error('storage not bound');
  };

  /** Wifi.restore / boot-time restore from .wificfg. */
  restore(): void {
    const o = this.storage().readJSON('.wificfg', true);
    if (!o || typeof o !== 'object') return;
    const mode = Number(o.mode) & 3;
    const str = (v: unknown) => (typeof v === 'string' ? v : '');
    if (this.chip === 'ESP32') {
      this.mode = mode;
      if (mode & Mode.AP) {
        // restore bug: the zeroed apConfig is applied, not the one read from .wificfg
        // (esp_wifi_set_config rejects it; the AP comes up with the IDF default config)
        const tail = macBytes(this.apMac).slice(3).map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join('');
        this.apCfg = { ssid: `ESP_${tail}`, password: '', authMode: 'open', channel: 0, hidden: false };
      }
      if (mode & Mode.STA) this.staCfg = { ssid: str(o.ssid).slice(0, 32), password: str(o.password).slice(0, 64), bssid: undefined };
      this.started = true;
      if (mode & Mode.AP && !this.apRunning) {
        this.apStarting = this.later(AP_START_MS, () => {
          this.apStarting = undefined;
          this.apUp();
        });
      }
      if (mode & Mode.STA) {
        if (typeof o.hostname === 'string') this.hostname = o.hostname;
        this.attempt(); // s_retry_num is whatever is left: no retries after a fresh boot
      }
      return;
    }
    this.savedMode = mode;
    if (mode & Mode.AP) {
      this.apCfg = {
        ssid: str(o.ssidAP).slice(0, 32), password: str(o.passwordAP), authMode: AUTH_MODES[Number(o.authmodeAP)] ?? 'open',
        channel: Number(o.channelAP) || 1, hidden: !!o.hiddenAP,
      };
    }
    this.setOpmode(mode, false);
    if (mode & Mode.STA) {
      if (typeof o.hostname === 'string') this.hostname = o.hostname;
      this.staCfg = { ssid: str(o.ssid).slice(0, 32), password: str(o.password).slice(0, 64), bssid: undefined };
      this.attempt();
    }
  }

  /** Power is going away / JS session ends: stop talking to JS. */
  unbind(): void {
    this.host = undefined;
    this.module = undefined;
  }
}

/** Deterministic fake public address for a host name (Wifi.getHostByName). */
export function fakeIpFor(name: string): string {
  const c = crc32(Buffer.from(name, 'latin1'));
  return `100.${64 + ((c >>> 16) & 63)}.${(c >>> 8) & 0xff}.${(c & 0xff) || 1}`;
}
