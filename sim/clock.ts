/**
 * Virtual time: the JS timer table (with Espruino's id and ordering rules), the driver-side
 * scheduler (radio/SDK events) and the JS event queue (jsiQueueEvents).
 *
 * Ported from espruino/Espruino src/jsinteractive.c (jsiIdle, jsiTimerAdd) and
 * src/jswrap_interactive.c (setTimeout/clearTimeout/changeInterval).
 */

/** Minimum timer period in ms (TIMER_MIN_INTERVAL, src/jsinteractive.h). */
export const TIMER_MIN_INTERVAL = 0.1;
/** Maximum timer period in ms (100 years). */
export const TIMER_MAX_INTERVAL = 31536000001000;

/** Re-scans of the timer table per idle-loop iteration at most (host safety valve). */
const MAX_TIMER_PASSES = 1000;

export interface DebounceTimeout {
  /** The watch this debounce timeout belongs to. */
  watch: unknown;
  /** Pin level the timeout will commit when it fires. */
  state: boolean;
}

export interface JsTimer {
  id: number;
  /** Absolute virtual ms. */
  due: number;
  /** Period (ms) for setInterval; undefined for setTimeout. */
  interval?: number;
  /** Function or code string. */
  fn: unknown;
  args: unknown[];
  /** Set for the hidden timers setWatch's debounce creates (they still consume an id). */
  debounce?: DebounceTimeout;
  removed?: boolean;
}

export interface QueuedEvent {
  fns: unknown[];
  thisArg: unknown;
  args: unknown[];
}

interface DriverTask {
  t: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class Clock {
  /** Virtual ms since power-on. */
  now = 0;
  /** Espruino's timerArray: always sorted by id (new id = last id + 1, or 1 when empty). */
  readonly timers: JsTimer[] = [];
  /** jsiStatus & JSIS_TIMERS_CHANGED */
  private timersChanged = false;
  /** Espruino's event queue: callbacks run at the end of the idle loop, FIFO. */
  readonly events: QueuedEvent[] = [];
  private tasks: DriverTask[] = [];
  private seq = 0;

  // ---------------------------------------------------------------- JS timers

  /** jsiTimerAdd: the id is the last timer's id + 1, so ids are reused once the newest timer is gone. */
  addTimer(t: Omit<JsTimer, 'id'>): number {
    const last = this.timers[this.timers.length - 1];
    const id = last ? last.id + 1 : 1;
    this.timers.push({ ...t, id });
    this.timersChanged = true;
    return id;
  }

  findTimer(id: number): JsTimer | undefined {
    return this.timers.find((t) => t.id === id);
  }

  removeTimer(t: JsTimer): void {
    const i = this.timers.indexOf(t);
    if (i >= 0) this.timers.splice(i, 1);
    t.removed = true;
    this.timersChanged = true;
  }

  /** clearTimeout()/clearInterval() with no argument: every timer except watch debounce timers. */
  clearUserTimers(): void {
    for (const t of this.timers.filter((x) => !x.debounce)) this.removeTimer(t);
    this.timersChanged = true;
  }

  clearAllTimers(): void {
    for (const t of this.timers.slice()) this.removeTimer(t);
  }

  markTimersChanged(): void {
    this.timersChanged = true;
  }

  nextTimerDue(): number {
    let d = Infinity;
    for (const t of this.timers) if (t.due < d) d = t.due;
    return d;
  }

  /**
   * Execute every due timer once, in timer-array order; restart the scan whenever a callback
   * added or removed timers (jsiIdle's JSIS_TIMERS_CHANGED loop).
   */
  runTimers(exec: (t: JsTimer) => void, alive: () => boolean): void {
    let passes = 0;
    do {
      // host safety valve: a timer table that changes forever is finished in the next iteration
      if (++passes > MAX_TIMER_PASSES) return;
      this.timersChanged = false;
      for (let i = 0; i < this.timers.length && !this.timersChanged; ) {
        if (!alive()) return;
        const t = this.timers[i];
        if (t.due > this.now) {
          i++;
          continue;
        }
        const timerTime = t.due;
        exec(t);
        // "Load interval *after* executing code, in case it has changed": the next due time
        // is the old due time plus the (possibly changed) interval, not now + interval.
        if (t.interval !== undefined && !t.removed) {
          t.due = timerTime + t.interval;
          i++;
        } else {
          // the callback may have added/removed timers: find this one again by identity
          if (!t.removed) this.removeTimer(t);
          this.timersChanged = true;
        }
      }
    } while (this.timersChanged && alive());
  }

  // ---------------------------------------------------------------- driver tasks (radio, SDK)

  /** Run `fn` at now + delayMs (driver side, not a JS timer). Returns a handle for cancel(). */
  at(delayMs: number, fn: () => void): number {
    const task: DriverTask = { t: this.now + Math.max(0, delayMs), seq: ++this.seq, fn, cancelled: false };
    this.tasks.push(task);
    this.tasks.sort((a, b) => a.t - b.t || a.seq - b.seq);
    return task.seq;
  }

  cancel(handle: number | undefined): void {
    if (handle === undefined) return;
    const t = this.tasks.find((x) => x.seq === handle);
    if (t) t.cancelled = true;
    this.tasks = this.tasks.filter((x) => !x.cancelled);
  }

  cancelAllTasks(): void {
    this.tasks = [];
  }

  nextTaskDue(): number {
    return this.tasks.length ? this.tasks[0].t : Infinity;
  }

  runTasks(alive: () => boolean): void {
    while (this.tasks.length && this.tasks[0].t <= this.now && alive()) {
      const task = this.tasks.shift()!;
      if (!task.cancelled) task.fn();
    }
  }

  // ---------------------------------------------------------------- event queue

  queue(fns: unknown[], thisArg: unknown, args: unknown[]): void {
    if (fns.length) this.events.push({ fns, thisArg, args });
  }
}
