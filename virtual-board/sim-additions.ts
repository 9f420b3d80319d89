// Two things the virtual board needs from the simulator's pins that it does not model (yet), added
// here for the simulators registered by the virtual board only; every other simulator is untouched.
//
// 1. Levels an outside circuit keeps on input pins across power-ons and reboots: a button held down
//    while the board is switched on. The simulator creates its pins released at every power-on and
//    runs the firmware at once, with no moment in between to press anything; the held levels are
//    applied when the new pins are attached to the device, before the firmware's first read.
// 2. Watchable pins of chip variants the simulator does not tell apart: it knows "ESP32" (classic,
//    GPIO6-12 are the SPI flash and cannot be watched), but on the ESP32-C3 the BOOT button is GPIO9.
import { Pins } from "../sim/pins.ts";

export interface SimAdditions {
  /** Physical input levels, pin -> 0/1 (a live map: the bench changes it). */
  held: Map<number, 0 | 1>;
  /** Pins that can be watched whatever the simulator's chip model says. */
  watchable: Set<number>;
}

const registered = new WeakMap<object, SimAdditions>();
/** The simulator being booted right now (Sim.boot attaches its first pins before it yields). */
let booting: SimAdditions | undefined;
let installed = false;

function additionsOf(pins: Pins): SimAdditions | undefined {
  let x = registered.get(pins.log);
  if (!x && booting) {
    x = booting;
    registered.set(pins.log, x);
  }
  return x;
}

function install(): void {
  if (installed) return;
  installed = true;
  const proto = Pins.prototype as unknown as {
    bind(this: Pins, ...a: unknown[]): void;
    canWatch(this: Pins, pin: number): boolean;
  };
  const bind = proto.bind;
  proto.bind = function (this: Pins, ...args: unknown[]) {
    bind.apply(this, args);
    const x = additionsOf(this);
    if (x) for (const [pin, level] of x.held) this.setInput(pin, level);
  };
  const canWatch = proto.canWatch;
  proto.canWatch = function (this: Pins, pin: number) {
    return registered.get(this.log)?.watchable.has(pin) || canWatch.call(this, pin);
  };
}

/**
 * Boots a simulator with the additions. `boot` must call Sim.boot() directly: the simulator
 * creates and attaches its first pins synchronously inside that call, which is when they are
 * recognised as this simulator's.
 */
export function bootWithAdditions<T>(additions: SimAdditions, boot: () => Promise<T>): Promise<T> {
  install();
  booting = additions;
  try {
    return boot();
  } finally {
    booting = undefined;
  }
}
