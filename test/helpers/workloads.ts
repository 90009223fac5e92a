// Builds the C workloads in test/fixtures/workloads/ and starts them: one per memtop tab, each
// doing a known number of events at a steady rate from a chain of wl_* functions.
import {readFileSync} from 'node:fs';
import {mkdir, rename, stat} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import type {TabId} from '../../source/types.js';
import {startLineChild, type LineChild} from './child-lines.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const SOURCE_DIR = path.join(FIXTURES, 'workloads');

/**
 * This system's name from /etc/os-release ("debian-12", "debian-trixie"): the CI runs the tests on
 * the host and in Debian roots sharing one checkout, and a workload built against one glibc may
 * not run against an older one.
 */
function systemName(): string {
  try {
    const fields = Object.fromEntries(
      readFileSync('/etc/os-release', 'utf8')
        .split('\n')
        .map(line => /^(\w+)="?([^"]*)"?$/.exec(line))
        .filter(match => match !== null)
        .map(match => [match[1], match[2]]),
    );
    return `${fields.ID ?? 'linux'}-${fields.VERSION_ID || fields.VERSION_CODENAME || 'unstable'}`.replace(/[^\w.-]/g, '_');
  } catch {
    return 'linux';
  }
}

/** Where the built workloads go (gitignored), one directory per system. */
export const WORKLOAD_BIN_DIR = path.join(FIXTURES, 'bin', systemName());

/**
 * Frame pointers and no inlining, so that a frame-pointer unwinder (bpftrace's ustack) sees the
 * wl_* functions (GCC 12 still drops the frame of a leaf function: see wl_count_event in
 * workload.h); -g and an unstripped binary so that there are symbols to name them.
 */
const CFLAGS = ['-O1', '-g', '-fno-omit-frame-pointer', '-fno-inline', '-Wall', '-Wextra'];

/** What each workload is called (its binary and its comm) and the functions of its call chain. */
export interface WorkloadSpec {
  tab: TabId;
  name: string;
  /** Its call chain: the leaf functions that make the events (any one per stack), then the outer function that calls them, last. */
  chain: string[];
}

/** One workload per tab. */
export const WORKLOADS: Readonly<Record<TabId, WorkloadSpec>> = {
  malloc: {tab: 'malloc', name: 'wl_malloc', chain: ['wl_leaf_malloc', 'wl_outer_malloc']},
  brk: {tab: 'brk', name: 'wl_brk', chain: ['wl_leaf_brk', 'wl_outer_brk']},
  slab: {tab: 'slab', name: 'wl_slab', chain: ['wl_leaf_pipe', 'wl_leaf_open', 'wl_leaf_socket', 'wl_outer_slab']},
  majfault: {tab: 'majfault', name: 'wl_majflt', chain: ['wl_leaf_majflt', 'wl_outer_majflt']},
  anonpgin: {tab: 'anonpgin', name: 'wl_swapin', chain: ['wl_leaf_swapin', 'wl_outer_swapin']},
  minfault: {tab: 'minfault', name: 'wl_minflt', chain: ['wl_leaf_minflt', 'wl_outer_minflt']},
  reclaim: {tab: 'reclaim', name: 'wl_reclaim', chain: ['wl_leaf_reclaim', 'wl_outer_reclaim']},
  growth: {tab: 'growth', name: 'wl_growth', chain: ['wl_leaf_grow', 'wl_outer_grow']},
};

async function modifiedMs(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Compile one workload with gcc unless its binary is newer than its source and workload.h.
 * Writes to a temporary name first, so that a concurrent run never sees half a binary.
 * Returns the binary's path.
 */
export async function buildWorkload(name: string): Promise<string> {
  // One build per workload at a time: a second one renaming its binary over the first would
  // leave a process started from the first running a deleted file, which no tracer can name.
  const pending = building.get(name);
  if (pending) return pending;
  const build = compileWorkload(name).finally(() => building.delete(name));
  building.set(name, build);
  return build;
}

/** Builds under way, by workload. */
const building = new Map<string, Promise<string>>();

async function compileWorkload(name: string): Promise<string> {
  const source = path.join(SOURCE_DIR, `${name}.c`);
  const header = path.join(SOURCE_DIR, 'workload.h');
  const binary = path.join(WORKLOAD_BIN_DIR, name);
  const built = await modifiedMs(binary);
  const newestInput = Math.max((await modifiedMs(source)) ?? Infinity, (await modifiedMs(header)) ?? Infinity);
  if (built !== undefined && built >= newestInput) return binary;
  await mkdir(WORKLOAD_BIN_DIR, {recursive: true});
  const temporary = `${binary}.${process.pid}.tmp`;
  const result = await execa('gcc', [...CFLAGS, '-o', temporary, source], {reject: false, all: true});
  if (result.exitCode !== 0) {
    throw new Error(`gcc failed to build ${name} (exit ${result.exitCode}):\n${result.all ?? ''}`);
  }
  await rename(temporary, binary);
  return binary;
}

/** Build every workload; returns the binaries' paths by tab. */
export async function buildWorkloads(): Promise<Record<TabId, string>> {
  const tabs = Object.keys(WORKLOADS) as TabId[];
  const [binaries] = await Promise.all([Promise.all(tabs.map(async tab => buildWorkload(WORKLOADS[tab].name))), buildWorkload(LEAK_WORKLOAD.name)]);
  return Object.fromEntries(tabs.map((tab, index) => [tab, binaries[index]])) as Record<TabId, string>;
}

/**
 * The malloc tab's live view's workload: wl_keep_leak keeps a known number of bytes while
 * wl_churn_leak allocates and frees far more through every allocator.
 */
export const LEAK_WORKLOAD: WorkloadSpec = {tab: 'malloc', name: 'wl_leak', chain: ['wl_keep_leak', 'wl_outer_leak']};

/** Filesystems where a file mapping never faults from a disk. */
const MEMORY_FILESYSTEMS = new Set(['tmpfs', 'ramfs']);

/**
 * A writable directory on a disk filesystem (for wl_majflt's file): /var/tmp, else the
 * workloads' own bin directory in the repository. Throws when neither is on a disk.
 */
export async function diskDirectory(): Promise<string> {
  await mkdir(WORKLOAD_BIN_DIR, {recursive: true});
  for (const directory of ['/var/tmp', WORKLOAD_BIN_DIR]) {
    const result = await execa('stat', ['-f', '-c', '%T', directory], {reject: false});
    if (result.exitCode === 0 && !MEMORY_FILESYSTEMS.has(result.stdout.trim())) return directory;
  }
  throw new Error(`neither /var/tmp nor ${WORKLOAD_BIN_DIR} is on a disk filesystem: major faults need one`);
}

/** Arguments every workload takes, plus its own extras (a directory, a size in MiB). */
export interface WorkloadRun {
  eventsPerSecond: number;
  seconds: number;
  /** Idle this long after the last event before exiting (default 0). */
  lingerSeconds?: number;
  extra?: string[];
}

/** Turns a command into the command that runs it somewhere else (e.g. inside a memory cgroup). */
export type Launcher = (file: string, args: string[]) => {file: string; args: string[]};

/** How to start a workload. */
export interface StartOptions {
  /** Run it through this (e.g. into a memory cgroup). */
  launcher?: Launcher;
  /** Let it set itself up, print its ready line and wait for {@link RunningWorkload.go}. */
  waitForGo?: boolean;
}

/** A started workload program: its process, and its start and done lines once printed. */
export interface RunningProgram {
  process: LineChild;
  pid: number;
  /** With waitForGo: wait for `{"phase":"ready"}`, printed once it is set up and waiting. */
  ready(timeoutMs?: number): Promise<Record<string, unknown>>;
  /** With waitForGo: let it start its events (SIGUSR1). */
  go(): void;
  /** Wait for `{"phase":"start",...}`: the first event comes right after. */
  started(timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Wait for `{"phase":"done","events":N,...}`: every event is done. */
  done(timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** A started tab workload. */
export interface RunningWorkload extends RunningProgram {
  spec: WorkloadSpec;
}

/** Start the workload of `tab`, or the one `spec` names (building it if needed). */
export async function startWorkload(workload: TabId | WorkloadSpec, run: WorkloadRun, options: StartOptions = {}): Promise<RunningWorkload> {
  const spec = typeof workload === 'string' ? WORKLOADS[workload] : workload;
  return {spec, ...(await startProgram(spec.name, run, options))};
}

/** Start the workload program test/fixtures/workloads/<name>.c (building it if needed), e.g. wl_churn. */
export async function startProgram(name: string, run: WorkloadRun, options: StartOptions = {}): Promise<RunningProgram> {
  const binary = await buildWorkload(name);
  const args = [String(run.eventsPerSecond), String(run.seconds), String(run.lingerSeconds ?? 0), ...(run.extra ?? [])];
  const command = options.launcher ? options.launcher(binary, args) : {file: binary, args};
  const child = startLineChild(command.file, command.args, {
    what: name,
    env: {WL_WAIT_FOR_GO: options.waitForGo ? '1' : '0'},
  });
  const defaultTimeoutMs = 10_000 + run.seconds * 1000;
  return {
    process: child,
    pid: child.pid,
    ready: async (timeoutMs = 30_000) => child.waitForRecord(record => record.phase === 'ready', 'its ready line', timeoutMs),
    go: () => {
      process.kill(child.pid, 'SIGUSR1');
    },
    started: async (timeoutMs = defaultTimeoutMs) =>
      child.waitForRecord(record => record.phase === 'start', 'its start line', timeoutMs),
    done: async (timeoutMs = defaultTimeoutMs) =>
      child.waitForRecord(record => record.phase === 'done', 'its done line', timeoutMs),
  };
}
