// Entry point of the LED and button: the panel, set up for the board profile compiled into the build.
import { Indicator, createIndicator } from "./led/indicator-core.js";
import { panelSpec } from "./led/spec.js";

export { Indicator };

export function startIndicator(onReset: () => void, log: (line: string) => void): Indicator {
  var spec = panelSpec({ chip: __BUILD__.chip, dev: __BUILD__.dev, led: __BUILD__.led, button: __BUILD__.button });
  return createIndicator(spec.led, spec.button, onReset, log);
}
