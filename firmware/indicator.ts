// Entry point of the LED and button: binds the panel to this chip's pins and timers and to the
// board profile compiled into the build.
import { now, pinOutput, pinPwm, pixelWrite, pinInput, pinRead, pinWatch, pinUnwatch } from "./platform/espruino.js";
import { Indicator, createIndicator, panelSpec } from "./led/indicator-core.js";

export { Indicator };

export function startIndicator(onReset: () => void, log: (line: string) => void): Indicator {
  return createIndicator(
    panelSpec({ chip: __BUILD__.chip, dev: __BUILD__.dev, led: __BUILD__.led, button: __BUILD__.button }),
    {
      now: now,
      out: pinOutput,
      pwm: pinPwm,
      pixel: pixelWrite,
      after: setTimeout,
      every: setInterval,
      cancel: clearTimeout,
      input: pinInput,
      read: pinRead,
      watch: pinWatch,
      unwatch: pinUnwatch,
    },
    onReset,
    log
  );
}
