// What the core shares with the modules it loads for a phase (the portal, the cloud link, ...): one
// object, the core's own state record, plus one dispatcher for questions and requests. A phase
// module keeps nothing of the core but this object, so it holds no second copy of any state.
import { Config } from "./core/config";
import { State } from "./core/state";

/** Requests a phase makes of the core through Kernel.ev(). */
export const enum Ev {
  INFO, // /board_info.json was asked for: "configuring starts with board info request"
  SUBMIT, // (Pending) a validated /config: test it; returns "" or why it was refused
  RESET, // /reset: erase the configuration (after the reply went out)
  REBOOT, // /reboot
  SCAN, // (cb(list)) scan, or join the scan under way; list as wifi.ts scan() gives it
  JOINED, // -> true while the device holds an address on a WiFi network
}

export interface Kernel {
  /** current state */
  s: State;
  /** the device's name: the setup access point's SSID */
  n: string;
  /** the access point's address while it is up */
  a: string;
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
  now(): number;
  log(line: string): void;
  ev(e: Ev, arg?: any): any;
}

/** A phase loaded from its own module: it ends with close(), which cancels all it started. */
export interface Phase {
  close(): void;
  /** Drops what it can rebuild (cached answers, the scan list) when the core needs the RAM. */
  shed?(): void;
}
