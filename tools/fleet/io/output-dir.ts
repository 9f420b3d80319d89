/**
 * "Never a half-written output folder": everything is written into a hidden staging folder
 * next to the target (same filesystem, so the final rename is atomic) and renamed into
 * place only when the whole run succeeded. A failure, an exception or Ctrl-C removes the
 * staging folder.
 */
import { existsSync, promises as fsp, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
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

/** The output folder cannot be used as asked; a usage problem, reported before any work. */
export class OutputFolderError extends Error {}
export class OutputExistsError extends OutputFolderError {}

/** The file every output folder gets; --force only replaces a folder that has it. */
export const MANIFEST = 'manifest.json';
export const GENERATOR = 'espruino-edgent fleet';

function isFleetOutput(dir: string): boolean {
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as { generator?: unknown };
    return m.generator === GENERATOR;
  } catch {
    return false;
  }
}

/** True when `file` is `dir` or lies somewhere below it (symlinks resolved). */
function isInside(file: string, dir: string): boolean {
  const real = (p: string) => { try { return realpathSync(p); } catch { return resolve(p); } };
  const rel = relative(real(dir), real(file));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The nearest existing ancestor of `abs` must be a folder, or mkdir fails with a bare EEXIST/ENOTDIR. */
function checkParent(abs: string): void {
  for (let p = dirname(abs); ; p = dirname(p)) {
    let st;
    try {
      st = statSync(p);
    } catch {
      if (dirname(p) === p) return;
      continue;
    }
    if (!st.isDirectory()) throw new OutputFolderError(`cannot create the output folder ${abs}: ${p} is a file, not a folder`);
    return;
  }
}

export class StagedDir {
  private done = false;

  private constructor(
    readonly target: string, readonly path: string, private readonly force: boolean, private readonly inputs: readonly string[],
  ) {}

  /**
   * Fails before any work when the target cannot be used. An existing target is replaced
   * only with `force`, and only when it is a previous output of this tool (it has our
   * manifest) and holds none of the `inputs`: `-o . --force` must never wipe a folder of
   * the maker's own files.
   */
  static check(target: string, force = false, inputs: readonly string[] = []): void {
    const abs = resolve(target);
    for (const input of inputs) {
      if (isInside(input, abs)) {
        throw new OutputFolderError(`the output folder ${target} holds the input file ${input}; write the output into a folder of its own, e.g. --out ${join(dirname(input), 'fleet-out')}`);
      }
    }
    if (!existsSync(abs)) {
      checkParent(abs);
      return;
    }
    if (!force) {
      throw new OutputExistsError(`the output folder ${target} already exists; choose a new one or pass --force to replace it`);
    }
    if (!statSync(abs).isDirectory()) {
      throw new OutputFolderError(`--force replaces only an earlier output folder, and ${target} is a file; choose another --out`);
    }
    if (!isFleetOutput(abs)) {
      throw new OutputFolderError(`--force replaces only an earlier output folder of this tool (one with its ${MANIFEST}), and ${target} is not one; choose a new folder, or remove ${target} yourself if you mean to`);
    }
  }

  static async create(target: string, opts: { force?: boolean; inputs?: readonly string[] } = {}): Promise<StagedDir> {
    const abs = resolve(target);
    StagedDir.check(abs, opts.force, opts.inputs);
    await fsp.mkdir(dirname(abs), { recursive: true });
    const staging = join(dirname(abs), `.${basename(abs)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
    await fsp.mkdir(staging);
    installExitHook();
    live.add(staging);
    return new StagedDir(abs, staging, !!opts.force, opts.inputs ?? []);
  }

  file(...parts: string[]): string {
    return join(this.path, ...parts);
  }

  /** Moves the staged folder into place; replaces an existing target only with `force`. */
  async commit(): Promise<void> {
    if (this.done) throw new Error('output folder already committed or aborted');
    let old: string | undefined;
    if (existsSync(this.target)) {
      try {
        // Checked again: the folder may have changed while we were generating.
        StagedDir.check(this.target, this.force, this.inputs);
      } catch (e) {
        await this.abort();
        if (e instanceof OutputExistsError) throw new OutputExistsError(`the output folder ${this.target} appeared while generating; nothing was written`);
        throw e;
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
