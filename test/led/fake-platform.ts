// Stand-in for firmware/platform/espruino.ts in Node (see platform-redirect.mjs): the functions
// the LED and button drivers import, served by the FakeHw currently installed.
import type { FakeHw } from "./fake-hw.ts";

let hw: FakeHw | undefined;

export function useHw(h: FakeHw | undefined): void {
  hw = h;
}

function cur(): FakeHw {
  if (!hw) throw new Error("no FakeHw installed: create one (new FakeHw()) before using the LED code");
  return hw;
}

export const now = (): number => cur().t;
export const pinOutput = (pin: number, level: number): void => cur().out(pin, level);
export const pwmOut = (pin: number, duty: number, options: { freq: number }): void => cur().pwm(pin, duty, options.freq);
export const pixelWriter = () => (pin: number, grb: number[]): void => cur().pixel(pin, grb);
export const pinInput = (pin: number, mode: "input_pullup" | "input_pulldown" | "input"): void => cur().input(pin, mode);
export const pinRead = (pin: number): number => cur().read(pin);
export const pinWatch = (pin: number, debounceMs: number, cb: (e: { state: boolean; time: number }) => void): number => cur().watch(pin, debounceMs, cb);
export const pinUnwatch = (id: number): void => cur().unwatch(id);
