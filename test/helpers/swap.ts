// Sets up what the anonpgin workload needs to swap in: a swap file on a disk filesystem and a
// memory cgroup with a low limit (cgroup v1 or v2, whichever has the memory controller), and
// tears both down again, including after a failed test or a test process that exits early.
import {execFileSync} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import type {Launcher} from './workloads.js';

/** Everything memtop-test swap files and cgroups are called start with this, then the creator's pid. */
const NAME_PREFIX = 'memtop-test-';

/** The highest priority swapon accepts. */
const MAX_SWAP_PRIORITY = 32767;

/** Signals that end a node process without running its 'exit' handlers. */
const FATAL_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Filesystems a swap file cannot live on (or would not test a real disk on). */
const UNFIT_FILESYSTEMS = new Set(['tmpfs', 'ramfs', 'overlayfs', 'nfs', 'btrfs', 'squashfs']);

/** Options of {@link setUpSwap}. */
export interface SwapOptions {
  /** Size of the swap file (default 512 MiB). */
  swapMiB?: number;
  /** Memory limit of the cgroup (default 32 MiB). */
  limitMiB?: number;
  /** Directory for the swap file, on a disk filesystem (default /var/tmp). */
  directory?: string;
}

/** A live swap file and memory cgroup. */
export interface SwapSetup {
  swapFile: string;
  cgroupDir: string;
  hierarchy: 'v1' | 'v2';
  limitBytes: number;
  /** Runs a command inside the cgroup: `sh -c 'echo $$ > cgroup.procs && exec command'`, same pid throughout. */
  launcher: Launcher;
  /** Kill what runs in the cgroup, remove it, swapoff and delete the swap file. Safe to call twice. */
  tearDown(): Promise<void>;
}

/** Where the memory controller is mounted and which cgroup this process is in there. */
interface MemoryController {
  hierarchy: 'v1' | 'v2';
  mountPoint: string;
  ownPath: string;
}

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

/** Find the hierarchy that has the memory controller: a v1 `memory` mount, else a cgroup2 mount offering it. */
export function findMemoryController(): MemoryController | undefined {
  const mounts = readText('/proc/self/mounts')
    .split('\n')
    .map(line => line.split(' '))
    .filter(fields => fields.length >= 4);
  const ownCgroups = readText('/proc/self/cgroup')
    .split('\n')
    .filter(Boolean)
    .map(line => {
      const [, , controllers = '', cgroupPath = '/'] = /^(\d+):([^:]*):(.*)$/.exec(line) ?? [];
      return {controllers: controllers.split(','), cgroupPath};
    });
  const v1 = mounts.find(fields => fields[2] === 'cgroup' && fields[3].split(',').includes('memory'));
  if (v1) {
    const own = ownCgroups.find(entry => entry.controllers.includes('memory'));
    return {hierarchy: 'v1', mountPoint: v1[1], ownPath: own?.cgroupPath ?? '/'};
  }
  for (const fields of mounts.filter(entry => entry[2] === 'cgroup2')) {
    const controllers = path.join(fields[1], 'cgroup.controllers');
    if (existsSync(controllers) && readText(controllers).split(/\s+/).includes('memory')) {
      const own = ownCgroups.find(entry => entry.controllers.length === 1 && entry.controllers[0] === '');
      return {hierarchy: 'v2', mountPoint: fields[1], ownPath: own?.cgroupPath ?? '/'};
    }
  }
  return undefined;
}

/** One counter of /proc/vmstat (e.g. pswpin), or undefined if the kernel has none by that name. */
export function readVmstat(name: string): number | undefined {
  const line = readText('/proc/vmstat')
    .split('\n')
    .find(entry => entry.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

/** /proc/swaps as it is now, for messages. */
export function swapsNow(): string {
  return readText('/proc/swaps').trimEnd();
}

function activeSwapFiles(): string[] {
  return readText('/proc/swaps')
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map(line => line.split(/\s+/)[0]);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of the test process that made a swap file or cgroup called `name`, if it is one of ours. */
function creatorPid(name: string): number | undefined {
  const match = new RegExp(`^${NAME_PREFIX}(\\d+)(?:\\.swap)?$`).exec(name);
  return match ? Number(match[1]) : undefined;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function cgroupPids(cgroupDir: string): number[] {
  try {
    return readText(path.join(cgroupDir, 'cgroup.procs')).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Kill everything in the cgroup and remove it; synchronous so that it can run in an exit handler. */
function removeCgroupSync(cgroupDir: string): void {
  if (!existsSync(cgroupDir)) return;
  const deadline = Date.now() + 5000;
  for (;;) {
    const pids = cgroupPids(cgroupDir);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    try {
      rmdirSync(cgroupDir);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    // rmdir fails with EBUSY until the killed processes are reaped: wait a little and retry.
    sleepSync(50);
  }
}

/** swapoff and delete a swap file; synchronous so that it can run in an exit handler. */
function removeSwapFileSync(swapFile: string): void {
  // swapoff reads every page in the file back in, charged to its cgroup; when that cgroup is at
  // its limit (another process's pages, swapped here meanwhile) it can fail with ENOMEM: retry.
  for (let attempt = 1; activeSwapFiles().includes(swapFile); attempt++) {
    try {
      execFileSync('swapoff', [swapFile], {stdio: ['ignore', 'ignore', 'pipe']});
    } catch (error) {
      if (attempt >= 5) throw error;
      sleepSync(200 * attempt);
    }
  }
  rmSync(swapFile, {force: true});
}

/** Remove swap files and cgroups left by earlier test processes that are gone (killed outright). */
function removeLeftovers(directory: string, cgroupParent: string): void {
  for (const name of readdirSync(directory)) {
    const pid = creatorPid(name);
    if (pid !== undefined && name.endsWith('.swap') && !isAlive(pid)) removeSwapFileSync(path.join(directory, name));
  }
  if (!existsSync(cgroupParent)) return;
  for (const name of readdirSync(cgroupParent)) {
    const pid = creatorPid(name);
    if (pid !== undefined && !isAlive(pid)) removeCgroupSync(path.join(cgroupParent, name));
  }
}

async function filesystemType(directory: string): Promise<string> {
  const {stdout} = await execa('stat', ['-f', '-c', '%T', directory]);
  return stdout.trim();
}

/** Make the cgroup directory under `parent`, with the memory controller enabled for it on v2. */
function makeCgroup(controller: MemoryController, parent: string, name: string): string {
  if (controller.hierarchy === 'v2') {
    // v2 only lets a cgroup with no processes of its own hand controllers down: when this
    // process's own cgroup cannot, use the root of the hierarchy.
    try {
      writeFileSync(path.join(parent, 'cgroup.subtree_control'), '+memory');
    } catch {
      parent = controller.mountPoint;
      writeFileSync(path.join(parent, 'cgroup.subtree_control'), '+memory');
    }
  }
  const cgroupDir = path.join(parent, name);
  mkdirSync(cgroupDir);
  return cgroupDir;
}

function limitCgroup(controller: MemoryController, cgroupDir: string, limitBytes: number): void {
  if (controller.hierarchy === 'v1') {
    writeFileSync(path.join(cgroupDir, 'memory.limit_in_bytes'), String(limitBytes));
    try {
      // Prefer swapping anonymous memory over dropping page cache (v1 keeps swappiness per cgroup).
      writeFileSync(path.join(cgroupDir, 'memory.swappiness'), '100');
    } catch {
      // not settable here: the inherited value is used
    }
    return;
  }
  writeFileSync(path.join(cgroupDir, 'memory.max'), String(limitBytes));
  if (existsSync(path.join(cgroupDir, 'memory.swap.max'))) {
    writeFileSync(path.join(cgroupDir, 'memory.swap.max'), 'max');
  }
}

/**
 * Turn on a swap file and make a memory cgroup limited to `limitMiB`, as a child of this
 * process's own memory cgroup (so that whoever accounts for this process accounts for the
 * workload too). Needs root. Call `tearDown` in a finally or `after` hook; it also runs when
 * this process exits or is ended by SIGINT, SIGTERM or SIGHUP without calling it, and a later
 * call cleans up after a test process that was killed outright.
 */
export async function setUpSwap(options: SwapOptions = {}): Promise<SwapSetup> {
  const swapMiB = options.swapMiB ?? 512;
  const limitBytes = (options.limitMiB ?? 32) * 1024 * 1024;
  const directory = options.directory ?? '/var/tmp';
  if (process.getuid?.() !== 0) throw new Error('setting up swap needs root');
  const controller = findMemoryController();
  if (!controller) throw new Error('no cgroup hierarchy has the memory controller');
  const fsType = await filesystemType(directory);
  if (UNFIT_FILESYSTEMS.has(fsType)) throw new Error(`${directory} is on ${fsType}: a swap file needs a disk filesystem such as ext4 or xfs`);

  const name = `${NAME_PREFIX}${process.pid}`;
  const ownCgroup = path.join(controller.mountPoint, controller.ownPath);
  removeLeftovers(directory, ownCgroup);

  const swapFile = path.join(directory, `${name}.swap`);
  let cgroupDir: string | undefined;
  let tornDown = false;
  const tearDownSync = (): void => {
    if (tornDown) return;
    tornDown = true;
    process.off('exit', tearDownSync);
    for (const signal of FATAL_SIGNALS) process.off(signal, tearDownOnSignal);
    const errors: unknown[] = [];
    // Kill the workload first: swapoff would otherwise have to read its pages back into memory.
    try {
      if (cgroupDir) removeCgroupSync(cgroupDir);
    } catch (error) {
      errors.push(error);
    }
    try {
      removeSwapFileSync(swapFile);
    } catch (error) {
      errors.push(error);
    }
    if (errors.length > 0) throw new AggregateError(errors, `tearing down ${swapFile} and ${cgroupDir ?? 'no cgroup'} failed`);
  };
  // A signal that would end this process skips 'exit' handlers: tear down, then die of it as before.
  const tearDownOnSignal = (signal: NodeJS.Signals): void => {
    try {
      tearDownSync();
    } finally {
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    }
  };
  process.on('exit', tearDownSync);
  for (const signal of FATAL_SIGNALS) process.on(signal, tearDownOnSignal);

  try {
    const allocated = await execa('fallocate', ['-l', `${swapMiB}M`, swapFile], {reject: false});
    if (allocated.exitCode !== 0) {
      await execa('dd', ['if=/dev/zero', `of=${swapFile}`, 'bs=1M', `count=${swapMiB}`, 'status=none']);
    }
    await execa('chmod', ['600', swapFile]);
    await execa('mkswap', [swapFile]);
    // The highest priority, so that the workload's pages go to this file and not to another
    // one, whose swapoff (another test run tearing down) would read them back in without a fault.
    await execa('swapon', ['--priority', String(MAX_SWAP_PRIORITY), swapFile]);
    if (!activeSwapFiles().includes(swapFile)) throw new Error(`swapon ${swapFile} did not show in /proc/swaps`);
    cgroupDir = makeCgroup(controller, ownCgroup, name);
    limitCgroup(controller, cgroupDir, limitBytes);
  } catch (error) {
    tearDownSync();
    throw error;
  }

  const procsFile = path.join(cgroupDir, 'cgroup.procs');
  return {
    swapFile,
    cgroupDir,
    hierarchy: controller.hierarchy,
    limitBytes,
    launcher: (file, args) => ({
      file: '/bin/sh',
      args: ['-c', 'echo $$ > "$1" && shift && exec "$@"', 'sh', procsFile, file, ...args],
    }),
    async tearDown() {
      tearDownSync();
    },
  };
}
