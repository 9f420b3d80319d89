// Edgent's device states (blynk-library Edgent_ESP32/BlynkState.h); the order fixes the numbers.
export const enum State {
  INIT,
  WAIT_CONFIG,
  CONFIGURING,
  CONNECTING_NET,
  CONNECTING_CLOUD,
  RUNNING,
  OTA_UPGRADE,
  SWITCH_TO_STA,
  RESET_CONFIG,
  ERROR,
}

/** Log name of a state; built on demand so the names stay in flash, not RAM. */
export function stateName(s: State): string {
  return "INIT WAIT_CONFIG CONFIGURING CONNECTING_NET CONNECTING_CLOUD RUNNING OTA_UPGRADE SWITCH_TO_STA RESET_CONFIG ERROR".split(" ")[s];
}

/** last_error codes reported in /board_info.json (Edgent ConfigStore.h). */
export const enum LastError {
  NONE = 0,
  CONFIG = 700,
  NETWORK = 701,
  CLOUD = 702,
  TOKEN = 703,
  INTERNAL = 704,
}
