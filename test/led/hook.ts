// Import this before (dynamically) importing firmware/led/led.ts or indicator-core.ts in Node:
// their platform module is replaced by the fake (see platform-redirect.mjs).
import { register } from "node:module";

register("./platform-redirect.mjs", import.meta.url);
