// The plumbing every tracer backend shares: finding the tracer's binary, checking the positional
// values a script gets, and running one tracer process with its stdout streamed line by line.
// The child is started so that it cannot outlive memtop: it gets SIGKILL when memtop dies
// (prctl PR_SET_PDEATHSIG through setpriv, where setpriv exists), it is killed when the
// caller's AbortSignal fires, and it is killed when the consumer stops iterating.
import {execa, type ResultPromise} from 'execa';
import {existsSync} from 'node:fs';
import type {ScriptChoice} from '../registry.js';
import {isCacheName, sizeClassOf, TracerError} from '../types.js';
import {tracerLibcEnv} from './tracer-libc.js';

const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv'];

/** Every tracer child alive right now, so that exit handlers can kill them synchronously. */
const liveChildren = new Set<ResultPromise>();

/**
 * Set once memtop is ending: no tracer starts after that. Without it, a tracer started for a new
 * allocator file while memtop waited for the others to go (processes keep starting) was neither
 * killed nor waited for, and outlived memtop (seen in e2e under a busy bench).
 */
let ending = false;

/** The pids of every tracer child alive right now (setpriv execs the tracer: the pid is the tracer's). */
export function tracerPids(): number[] {
  return [...liveChildren].flatMap(child => (child.pid === undefined ? [] : [child.pid]));
}

/** Kill every tracer child now (used from exit and signal handlers, where nothing can be awaited). */
export function killAllTracers(): void {
  ending = true;
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
}

/**
 * Kill every tracer and wait (at most `timeoutMs`) until each has exited and been reaped, so
 * none lingers even as a zombie once memtop is gone. A SIGKILLed tracer is gone at once unless
 * the kernel still has its probes to take down: the live view's 19 uprobes and uretprobes on
 * libc take 2-3.5 s on 6.18 (each unregister waits for a grace period), and memtop leaves only
 * after that rather than leave a dying bpftrace behind.
 */
export async function stopAllTracers(timeoutMs = 10_000): Promise<void> {
  const children = [...liveChildren];
  killAllTracers();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(children),
    new Promise(resolve => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}

/** Absolute path of an installed tracer binary: the PATH's absolute entries first, then known places. */
export function findTracerBinary(name: string, fallbacks: readonly string[]): string | undefined {
  const fromPath = (process.env.PATH ?? '')
    .split(':')
    .filter(dir => dir.startsWith('/'))
    .map(dir => `${dir}/${name}`);
  return [...fromPath, ...fallbacks].find(file => existsSync(file));
}

/**
 * The positional values every memtop script takes first ($1 interval in ms, $2 pid), as decimal
 * strings, or a TracerError when a value is out of range.
 */
export function positionalArguments(intervalMs: number, pid: number, pidRequired: boolean): string[] {
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 10 || intervalMs > 3_600_000) {
    throw new TracerError(`interval ${intervalMs} ms is out of range`, 'use a whole number of milliseconds from 10 to 3600000');
  }
  if (!Number.isSafeInteger(pid) || pid < (pidRequired ? 1 : 0) || pid > 0x3fffff) {
    throw new TracerError(`pid ${pid} is not a process id`, pidRequired ? 'pick the process to drill into' : 'use 0 for every process');
  }
  return [String(intervalMs), String(pid)];
}

/**
 * The positional values of a cache's drill-down ($1 interval in ms, $2 the cache's name, $3 its
 * kmalloc size class), or a TracerError when the name is not one a cache can have.
 */
export function cacheArguments(intervalMs: number, cache: string): string[] {
  const [interval] = positionalArguments(intervalMs, 0, false);
  if (!isCacheName(cache)) throw new TracerError(`"${cache.slice(0, 64)}" is not a slab cache name`, 'pick a cache from the slab tab grouped by cache (g)');
  return [interval!, cache, String(sizeClassOf(cache))];
}

/** The bytes one sampled stack stands for, as a whole number from 0 (0 also for a script that does not sample). */
export function sampleBytesOf(script: ScriptChoice, requested: number | undefined): number {
  return script.sample ? Math.max(0, Math.round(requested ?? 0)) : 0;
}

/** Why a drill into a cache cannot start on a tab without cache rows (only slab has them). */
export function noCacheRows(title: string): TracerError {
  return new TracerError(`the ${title} tab has no cache rows to drill into`, 'press Enter on a row of a cache view');
}

function setprivPath(): string | undefined {
  return SETPRIV_PATHS.find(path => existsSync(path));
}

export interface TracerProcessOptions {
  /** Absolute path of the tracer binary. */
  command: string;
  args: string[];
  signal: AbortSignal;
  env?: Record<string, string>;
  /** Turns the tracer's stderr into one line that says what went wrong and how to fix it. */
  explainFailure: (stderr: string, exitCode: number | undefined, signal?: string) => TracerError;
  /** stderr lines that are noise, not errors (e.g. bpftrace's RLIMIT_MEMLOCK warning). */
  ignoreStderr?: RegExp;
  /** Run it on memtop's private copy of libc, where it does not trap on memtop's own malloc probes (tracer-libc.ts). */
  privateLibc?: boolean;
  /**
   * Append the tracer's own pid to its arguments: a shell that execs it passes its `$$`, which
   * the tracer keeps, so a script can leave the tracer itself out (ScriptChoice.tracerPid).
   */
  appendPid?: boolean;
}

const STDERR_KEEP = 8192;

/** An environment without LD_PRELOAD: what memtop's own environment preloads is for COMMAND. */
function withoutPreload(env: NodeJS.ProcessEnv): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (name !== 'LD_PRELOAD' && value !== undefined) kept[name] = value;
  return kept;
}

/**
 * Start the tracer and yield its stdout lines. Ends quietly when `signal` aborts; throws a
 * TracerError (from `explainFailure`) when the tracer exits on its own.
 */
export async function* tracerLines(options: TracerProcessOptions): AsyncGenerator<string> {
  if (options.signal.aborted || ending) return;
  const libcEnv = options.privateLibc ? await tracerLibcEnv(options.command) : {};
  if (options.signal.aborted || ending) return;
  const setpriv = setprivPath();
  const [tracer, tracerArgs] = setpriv
    ? [setpriv, ['--pdeathsig', 'KILL', '--', options.command, ...options.args]]
    : [options.command, options.args];
  // sh execs the tracer (setpriv execs it in turn): one pid throughout, the one sh appends.
  const [file, args] = options.appendPid ? ['/bin/sh', ['-c', 'exec "$@" "$$"', 'sh', tracer, ...tracerArgs]] : [tracer, tracerArgs];
  const child = execa(file, args, {
    stdin: 'ignore',
    buffer: false,
    reject: false,
    cancelSignal: options.signal,
    forceKillAfterDelay: 500,
    // LD_PRELOAD in memtop's environment is for COMMAND (LD_PRELOAD=libjemalloc.so.2 memtop -- prog), not for a tracer.
    env: {...withoutPreload(process.env), ...libcEnv, ...options.env},
    extendEnv: false,
    cleanup: true,
  });
  liveChildren.add(child);
  let stderr = '';
  // Tracers write a line in several pieces: filter whole lines only, or the head of a noise
  // line ("ERROR: ... couldn't set RLIMIT_MEMLOCK" arrives as "ERROR" then the rest) survives.
  let partial = '';
  const keepLine = (line: string) => {
    if (line.trim() === '' || (options.ignoreStderr?.test(line) ?? false)) return;
    stderr = (stderr + line + '\n').slice(-STDERR_KEEP);
  };
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = (lines.pop() ?? '').slice(-STDERR_KEEP);
    for (const line of lines) keepLine(line);
  });
  child.stderr?.on('end', () => {
    keepLine(partial);
    partial = '';
  });
  let finished = false;
  try {
    for await (const line of child.iterable({from: 'stdout'})) {
      if (options.signal.aborted) return;
      let resumed = false;
      try {
        yield line;
        resumed = true;
      } finally {
        // The consumer stopped iterating: kill the tracer now, before the line iterator is
        // closed, since closing it waits for the process to end.
        if (!resumed) child.kill('SIGKILL');
      }
    }
    const result = await child;
    finished = true;
    if (options.signal.aborted) return;
    throw options.explainFailure(stderr, result.exitCode, result.signal);
  } finally {
    if (!finished) {
      child.kill('SIGKILL');
      await child.catch(() => undefined);
    }
    liveChildren.delete(child);
  }
}
