// The firmware's modules, in image order (the first is the core the loader starts; `fold: false`
// for the modules loaded for one short job, see rollup.config.js firmwareOutputPlugins), and the rule
// that keeps them apart: a module loaded only for a phase (portal, cloud link, ...) gets the
// core's services through the kernel object it is given, never by importing the core's stateful
// files, which would give it a second, separate copy of their state.
import { relative } from "node:path";

export const MODULES = [
  { name: "core", entry: "firmware/main.ts" },
  { name: "portal", entry: "firmware/ap-portal/portal.ts" },
  { name: "setup", entry: "firmware/ap-portal/setup.ts" },
  { name: "blynk", entry: "firmware/cloud/client.ts" },
  { name: "mqtt", entry: "firmware/mqtt/client.ts" },
  { name: "store", entry: "firmware/core/store.ts", fold: false },
  { name: "boot", entry: "firmware/core/boot.ts", fold: false },
  { name: "ota", entry: "firmware/ota/update.ts", fold: false },
];

/** Files with module-level state: only the core may include them. */
const CORE_ONLY = [
  "firmware/edgent.ts", "firmware/main.ts", "firmware/wifi/wifi.ts", "firmware/indicator.ts",
  "firmware/led/indicator-core.ts", "firmware/led/led.ts", "firmware/cloud/api.ts", "firmware/core/log.ts",
];

/** Problems with the files a module's build included (rollup's watchFiles), as messages. */
export function checkImports(mod, files) {
  if (mod.name === "core" || mod.name === "loader") return [];
  return files
    .map((f) => relative(process.cwd(), f).split("\\").join("/"))
    .filter((f) => CORE_ONLY.includes(f))
    .map((f) => `module ${mod.name} includes ${f}, which holds the core's state: reach it through the kernel object instead`);
}
