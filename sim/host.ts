/**
 * What the emulated modules need from the running device: time, the console, the JS event
 * queue and the vm realm. Implemented by Runtime (runtime.ts); kept as an interface so each
 * module file stays independent of the others.
 */
import type { Chip } from './types.ts';

export interface Host {
  readonly chip: Chip;
  /** Virtual ms since power-on. */
  now(): number;
  /** getTime(): seconds, including setTime() offset. */
  timeSec(): number;
  /** One console line (print/console.log). */
  print(line: string): void;
  /** Espruino's jsError: prints "ERROR: msg" and records it in sim.errors (no exception). */
  jsError(msg: string): void;
  /** Espruino's jsWarn: prints "WARNING: msg". */
  jsWarn(msg: string): void;
  /** jsiQueueObjectCallbacks: snapshot obj's listeners for `ev` now, run them at the end of this loop iteration. */
  queueEvent(obj: object, ev: string, args: unknown[]): void;
  /** jsiQueueEvents: queue a single function (or nothing if fn is not a function). */
  queueCall(fn: unknown, args: unknown[], thisArg?: unknown): void;
  /** Execute now (from the idle loop); an exception prints "Uncaught ..." and is swallowed. */
  call(fn: unknown, thisArg: unknown, args: unknown[]): unknown;
  /** Listeners registered with obj.on(ev, ...). */
  listeners(obj: object, ev: string): unknown[];
  /** Driver-side delayed task (not a JS timer). */
  later(ms: number, fn: () => void): number;
  cancel(handle: number | undefined): void;
  /** A new plain object of the device realm, optionally with properties. */
  obj(props?: Record<string, unknown>): any;
  /** Deep-copy plain data (JSON-able) into the device realm. */
  data<T>(value: T): T;
  /** A new array of the device realm. */
  arr(items?: unknown[]): any;
  /** The device realm's Uint8Array constructor. */
  readonly Uint8Array: Uint8ArrayConstructor;
  /** Throws HaltSignal if the machine is dead (power cut / reboot in progress). */
  alive(): void;
  /** Power cut now (used by Storage fault injection): halts the device and throws HaltSignal. */
  powerCutNow(why: string): never;
}
