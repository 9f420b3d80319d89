/**
 * Shared helpers for the simulator's own tests: boot small hand-written ES5 bundles, and stop
 * them all after each test (`afterEach(stopAll)` in each describe).
 */
import { Sim } from '../../sim/index.ts';
import type { SimOptions } from '../../sim/index.ts';

const running: Sim[] = [];

/** Stop every Sim booted with boot(). */
export function stopAll(): void {
  while (running.length) running.pop()!.stop();
}

/** Boot `bundle` (ES5 source) on `chip`; the Sim is stopped after the test. */
export async function boot(bundle: string, opts: Partial<SimOptions> = {}): Promise<Sim> {
  const sim = await Sim.boot({ chip: 'ESP32', ...opts, bundle });
  running.push(sim);
  return sim;
}

/** Console lines matching re (the Sim prints one entry per line). */
export function lines(sim: Sim, re: RegExp): string[] {
  return sim.console.filter((l) => re.test(l));
}

export const HOME = { ssid: 'HomeNet', password: 'correct horse', rssi: -48, channel: 6 };

/** Bundle prelude that starts an open access point (so clients have a link to the device). */
export const START_AP = 'require("Wifi").startAP("SimAP");\n';
