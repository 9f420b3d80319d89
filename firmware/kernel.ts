// What the core shares with the modules it loads for a phase (the portal, the cloud link, ...): one
// object, the core's own state record, plus one dispatcher for questions and requests. A phase
// module keeps nothing of the core but this object, so it holds no second copy of any state.
import { Config } from "./core/config";
import { State } from "./core/state";

/**
 * Everything that reaches the core's step function (edgent.ts step()): the phases' requests
 * through Kernel.ev(), the WiFi driver's news, the cloud link's, the REPL's and the timer.
 */
export const enum Ev {
  TICK, // the machine's timer: do what is due
  // from the portal
  INFO, // /board_info.json or the page was asked for: "configuring starts with board info request"
  SUBMIT, // (Pending) a validated /config: test it; returns "" or why it was refused
  RESET, // /reset: erase the configuration (after the reply went out)
  REBOOT, // /reboot
  SCAN, // (cb(list)) scan, or join the scan under way; list as wifi/scan.ts makes it
  JOINED, // -> true while the device holds an address on a WiFi network
  STATIONS, // (count) phones on the access point
  AP_FAILED, // the access point did not start
  // from the WiFi driver
  JOIN, // (Join, ip) a join's outcome
  LOST, // the network was lost
  // from the cloud link
  LOGIN, // (status) 200 or 4 online, 9 token rejected (over MQTT: the broker refused the credentials)
  OFFLINE, // an online session ended (the link reconnects by itself)
  COMMAND, // (line) an Edgent console command ("config erase", ...); -> what it does, in words
  LINK, // (send, up) the session went online with its sender (up true) or ended (false): the user API's link
  WRITE, // (pin, values) a write from the cloud to a virtual pin: the user's onWrite handler
  // from the REPL and the button
  STATUS, // -> edgent.status()
  WORDS, // (text) the cloud link in words: its transport and why its last attempt failed
  CONNECT, // ({blynk, ssid, pass, host}: /config's fields) -> edgent.connect()
  BUTTON, // the button was held 10 s and released
  // firmware update
  OTA, // (url) Blynk.Air offers an update (the Blynk protocol's internal "ota", MQTT downlink/ota/json); () -> the running image's file
  OTA_END, // (why) the "ota" module's outcome: "" the new image is switched to (restart), else why not
}

export interface Kernel {
  /** current state */
  s: State;
  /** the device's name: the setup access point's SSID */
  n: string;
  /** the stored configuration (read only) */
  c: Config;
  /** the factory token ("" = none) */
  f: string;
  /** provisioning test: its outcome word ("" none, connecting, cloud, online, wrong_password, not_found, no_dhcp, wifi_failed, token_rejected, cloud_unreachable) */
  t: string;
  /** the network of the last test, and the address it got */
  ts: string;
  ti: string;
  /** 1 once a tested configuration is stored while this access point is up */
  o: number;
  /** the cloud link in words (Ev.WORDS): its transport and why its last attempt failed; unset or "" while all is well */
  w?: string;
  /** the last scan's summary (wifi/scan.ts), "" when none or dropped for the room */
  l: string;
  now(): number;
  log(line: string): void;
  ev(e: Ev, a?: any, b?: any, c?: any): any;
  /** the exports of another module of the running image (loaded on first use) */
  ld(name: string): any;
  /** forgets a module loaded with ld() */
  dr(name: string): void;
}

/** A phase loaded from its own module: it ends with close(), which cancels all it started. */
export interface Phase {
  close(): void;
}
