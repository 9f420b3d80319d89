/**
 * A process-wide watchdog for device JS. Callbacks into the device are plain function calls
 * (vm's per-call `timeout` costs ~0.5 ms each, too slow for minutes of virtual time), so an
 * infinite loop in firmware would hang the host forever. A worker thread watches how long the
 * current device call has been running and, past the limit, reports it and terminates the
 * process, like the chip's watchdog would reset the chip.
 */
import { Worker } from 'node:worker_threads';

/** Real seconds a single device callback may run before the host process is killed. */
export const WATCHDOG_SECONDS = 60;

let started: Float64Array | undefined;
let depth = 0;

function ensureWorker(): Float64Array {
  if (started) return started;
  const shared = new SharedArrayBuffer(8 + 4);
  started = new Float64Array(shared, 0, 1);
  const code = `
    const { workerData } = require('node:worker_threads');
    const t = new Float64Array(workerData.shared, 0, 1);
    const tick = new Int32Array(workerData.shared, 8, 1);
    for (;;) {
      Atomics.wait(tick, 0, 0, 1000);
      const s = t[0];
      if (s && Date.now() - s > workerData.limit * 1000) {
        process.stderr.write('\\nsim watchdog: device JavaScript has been running for more than ' + workerData.limit +
          ' s without returning (infinite loop in firmware?). Terminating the process.\\n');
        process.kill(process.pid, 'SIGTERM');
        break;
      }
    }`;
  const w = new Worker(code, { eval: true, workerData: { shared, limit: WATCHDOG_SECONDS } });
  w.unref();
  return started;
}

/** Mark the start of a (possibly nested) call into device code. */
export function enterDevice(): void {
  const t = ensureWorker();
  if (depth++ === 0) t[0] = Date.now();
}

export function leaveDevice(): void {
  if (--depth === 0 && started) started[0] = 0;
}
