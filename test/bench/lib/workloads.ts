// The bench's own workloads (test/bench/workloads/mb_*.c, and others that follow bench.h's
// protocol): built into test/bench/.bin when their source is newer, started so that they set
// up, say ready, and wait for the bench's go before doing a fixed number of events that they
// time themselves.
import {mkdirSync, renameSync, statSync} from 'node:fs';
import {execFileSync} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import type {TabId} from '../../../source/types.js';
import {spawnChild, type Child} from './proc.js';

const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url));
/** Where the workloads' sources are, and where they are built. */
export const SOURCE_DIR = path.join(BENCH_DIR, 'workloads');
export const BIN_DIR = path.join(BENCH_DIR, '.bin');

/** The workload of each tab: its binary (and comm). */
export const WORKLOAD_NAMES: Readonly<Record<TabId, string>> = {
  malloc: 'mb_malloc',
  brk: 'mb_brk',
  slab: 'mb_slab',
  majfault: 'mb_majflt',
  anonpgin: 'mb_swapin',
  minfault: 'mb_minflt',
  reclaim: 'mb_reclaim',
  // Resident growth is fault by fault: each of the minor-fault workload's events makes a fresh page resident.
  growth: 'mb_minflt',
};

/** The tabs whose workload runs inside the small memory cgroup with swap (their events need memory pressure). */
export const CGROUP_TABS: ReadonlySet<TabId> = new Set(['anonpgin', 'reclaim']);

/** A workload's own arguments: the cgroup workloads' area, larger than the cgroup's limit. */
export function workloadExtra(tab: TabId): string[] {
  return CGROUP_TABS.has(tab) ? ['128'] : [];
}

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/** The C workloads' compiler flags (before the output and the source). */
export const CFLAGS = ['-O2', '-g', '-fno-omit-frame-pointer', '-Wall', '-Wextra'];

/**
 * Build `binary` unless it is newer than every one of `inputs`: `command` with the arguments
 * `args` gives for a temporary output path, renamed into place once built; returns its path.
 */
export function buildIfStale(binary: string, inputs: string[], command: string, args: (output: string) => string[], env?: NodeJS.ProcessEnv): string {
  if (mtime(binary) >= Math.max(...inputs.map(mtime))) return binary;
  mkdirSync(path.dirname(binary), {recursive: true});
  const temporary = `${binary}.${process.pid}.tmp`;
  execFileSync(command, args(temporary), {stdio: ['ignore', 'inherit', 'inherit'], ...(env ? {env} : {})});
  renameSync(temporary, binary);
  return binary;
}

/** Build one workload unless its binary is newer than its source and bench.h; returns its path. */
export function buildWorkload(name: string): string {
  const source = path.join(SOURCE_DIR, `${name}.c`);
  return buildIfStale(path.join(BIN_DIR, name), [source, path.join(SOURCE_DIR, 'bench.h')], 'gcc', output => [...CFLAGS, '-o', output, source]);
}

export function buildWorkloads(): void {
  for (const name of Object.values(WORKLOAD_NAMES)) buildWorkload(name);
}

/** What a workload reports when its events are done. */
export interface WorkloadResult {
  ns: number;
  /** User plus system CPU time of the timed loop (getrusage): includes probes run in its context. */
  cpuNs: number;
  events: number;
  majflt: number;
}

/** A started workload, set up and waiting for go. */
export interface ReadyWorkload {
  child: Child;
  pid: number;
  ready: Record<string, unknown>;
  /** Start the events; resolves with the done line. */
  go(timeoutMs?: number): Promise<WorkloadResult>;
}

/** Runs a command somewhere else (inside a memory cgroup): see test/helpers/swap.ts. */
export type Launcher = (file: string, args: string[]) => {file: string; args: string[]};

/**
 * Start the workload of `tab` for `events` events (0: until stopped) at `eventsPerSecond` (0:
 * unpaced), wait until it is set up, and return it waiting for go (unless `waitForGo` is false,
 * in which case it starts at once).
 */
export async function startWorkload(tab: TabId, options: WorkloadOptions): Promise<ReadyWorkload> {
  const name = WORKLOAD_NAMES[tab];
  return startWorkloadBinary(name, buildWorkload(name), options);
}

/** How a workload is started: see startWorkload. */
export interface WorkloadOptions {
  events: number;
  eventsPerSecond?: number;
  extra?: string[];
  launcher?: Launcher;
  waitForGo?: boolean;
  readyTimeoutMs?: number;
}

/** startWorkload for any built binary that follows bench.h's protocol, known as `name` in messages. */
export async function startWorkloadBinary(name: string, binary: string, options: WorkloadOptions): Promise<ReadyWorkload> {
  const args = [String(options.events), String(options.eventsPerSecond ?? 0), ...(options.extra ?? [])];
  const command = options.launcher ? options.launcher(binary, args) : {file: binary, args};
  const waitForGo = options.waitForGo ?? true;
  const child = spawnChild(name, command.file, command.args, {stdin: waitForGo ? 'pipe' : 'ignore'});
  const readyLine = await child.waitForLine(line => line.stream === 'stdout' && line.text.includes('"phase":"ready"'), 'its ready line', options.readyTimeoutMs ?? 120_000);
  const ready = JSON.parse(readyLine.text) as Record<string, unknown>;
  return {
    child,
    pid: Number(ready.pid),
    ready,
    async go(timeoutMs = 600_000) {
      child.send('go\n');
      const done = await child.waitForLine(line => line.stream === 'stdout' && line.text.includes('"phase":"done"'), 'its done line', timeoutMs);
      await child.exited;
      return JSON.parse(done.text) as WorkloadResult;
    },
  };
}
