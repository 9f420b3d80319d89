// Names the device and the host side must agree on: Espruino Storage file names, Espruino's limit
// on them, and the auth tokens of the tests and the virtual board. Host code (tools, scripts, the
// virtual board, the simulator, tests) imports them from here. The firmware keeps its own copies,
// so its bundle is built from firmware/ alone; test/unit/names.test.ts checks that they agree.

/** Longest Storage file name in bytes; Espruino truncates longer names silently (jsflash.c). */
export const MAX_STORAGE_NAME = 28;

/** The boot code Espruino runs at every start: the firmware image (firmware/boot/loader.ts). */
export const BOOT_FILE = ".bootcde";
/** Boot code Espruino runs before .bootcde (the real-interpreter tests put their prelude there). */
export const BOOT0_FILE = ".boot0";
/** Espruino's saved WiFi settings (Wifi.save): restored after the boot code runs, so it would fight the firmware. */
export const WIFI_FILE = ".wificfg";
/** The firmware's two alternating config slots: record number q is stored in CONFIG_FILES[q % 2] (firmware/core/config.ts). */
export const CONFIG_FILES: readonly string[] = ["edgent.cfg0", "edgent.cfg1"];
/** Preprovisioned static token written at the factory (fleet tool `token`); never erased by a reset. */
export const TOKEN_FILE = "edgent.token";
/**
 * A firmware update's files (firmware/boot/record.ts): the update record's two files and the two
 * update slots. Flashing over USB erases them, so the firmware flashed is the one that boots.
 */
export const UPDATE_FILES: readonly string[] = ["edgent.upd0", "edgent.upd1", "edgent.img1", "edgent.img2"];

/** The auth token of the tests and benchmarks (32 characters of Blynk's token alphabet). */
export const TEST_TOKEN = "Ab3dEfGh1jKlMnOpQrStUvWxYz012345";
/** The token the virtual board's fake cloud accepts unless told otherwise. */
export const DEMO_TOKEN = "VirtualBoardDemoToken_0123456789";
