// Entry point of the LED and button: the panel, set up for the board profile compiled into the build.
import { createIndicator } from "./led/indicator-core.js";
import { panelSpec } from "./led/spec.js";

export function startIndicator(onReset: () => void, log: (line: string) => void): void {
  var spec = panelSpec({ chip: __BUILD__.chip, dev: __BUILD__.dev, led: __BUILD__.led, button: __BUILD__.button });
  createIndicator(spec.led, spec.button, onReset, log);
}
