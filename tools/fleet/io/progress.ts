/**
 * Progress on long runs: one line on stderr, rewritten at most five times a second, only
 * when stderr is a terminal (or when asked), so scripts and CI logs stay clean.
 */
export interface Progress {
  update(rows: number, bytes: number): void;
  done(summary?: string): void;
}

export interface ProgressOptions {
  label: string;
  totalBytes: number;
  enabled: boolean;
  stream?: NodeJS.WriteStream;
  now?: () => number;
}

export function createProgress(opts: ProgressOptions): Progress {
  const out = opts.stream ?? process.stderr;
  const now = opts.now ?? Date.now;
  const started = now();
  let last = 0;
  let shown = false;
  const tty = !!out.isTTY;
  return {
    update(rows, bytes) {
      if (!opts.enabled) return;
      const t = now();
      if (t - last < (tty ? 200 : 2000)) return;
      last = t;
      const pct = opts.totalBytes ? Math.min(100, Math.floor((bytes / opts.totalBytes) * 100)) : 0;
      const rate = rows / Math.max(0.001, (t - started) / 1000);
      const text = `${opts.label}: ${rows.toLocaleString('en')} rows, ${pct}% (${Math.round(rate).toLocaleString('en')} rows/s)`;
      if (tty) out.write(`\r${text}\u001b[K`);
      else out.write(`${text}\n`);
      shown = true;
    },
    done(summary) {
      if (!opts.enabled) return;
      if (shown && tty) out.write('\r\u001b[K');
      if (summary) out.write(`${summary}\n`);
    },
  };
}
