/**
 * "Never a half-written output folder": everything is written into a hidden staging folder
 * next to the target (same filesystem, so the final rename is atomic) and renamed into
 * place only when the whole run succeeded. A failure, an exception or Ctrl-C removes the
 * staging folder.
 */
import { existsSync, promises as fsp, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

const live = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous; this is the last chance to clean up.
  process.on('exit', () => {
    for (const p of live) rmSync(p, { recursive: true, force: true });
  });
}

export class OutputExistsError extends Error {}

export class StagedDir {
  private done = false;

  private constructor(readonly target: string, readonly path: string, private readonly force: boolean) {}

  /** Fails before any work when the target exists and `force` is not set. */
  static check(target: string, force = false): void {
    if (!force && existsSync(target)) {
      throw new OutputExistsError(`the output folder ${target} already exists; choose a new one or pass --force to replace it`);
    }
  }

  static async create(target: string, opts: { force?: boolean } = {}): Promise<StagedDir> {
    const abs = resolve(target);
    StagedDir.check(abs, opts.force);
    await fsp.mkdir(dirname(abs), { recursive: true });
    const staging = join(dirname(abs), `.${basename(abs)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
    await fsp.mkdir(staging);
    installExitHook();
    live.add(staging);
    return new StagedDir(abs, staging, !!opts.force);
  }

  file(...parts: string[]): string {
    return join(this.path, ...parts);
  }

  /** Moves the staged folder into place; replaces an existing target only with `force`. */
  async commit(): Promise<void> {
    if (this.done) throw new Error('output folder already committed or aborted');
    let old: string | undefined;
    if (existsSync(this.target)) {
      if (!this.force) {
        await this.abort();
        throw new OutputExistsError(`the output folder ${this.target} appeared while generating; nothing was written`);
      }
      old = join(dirname(this.target), `.${basename(this.target)}.old-${process.pid}-${randomBytes(4).toString('hex')}`);
      await fsp.rename(this.target, old);
    }
    try {
      await fsp.rename(this.path, this.target);
    } catch (e) {
      if (old) await fsp.rename(old, this.target).catch(() => undefined);
      await this.abort();
      throw e;
    }
    this.done = true;
    live.delete(this.path);
    if (old) await fsp.rm(old, { recursive: true, force: true });
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    live.delete(this.path);
    await fsp.rm(this.path, { recursive: true, force: true });
  }
}

/** Removes every staging folder still open; for signal handlers that then exit. */
export function abortAllStaged(): void {
  for (const p of live) rmSync(p, { recursive: true, force: true });
  live.clear();
}
