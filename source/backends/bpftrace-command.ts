// The tracer of memtop -- COMMAND: runs probes/bpftrace/command.bt on the held COMMAND's pid and
// keeps each traced process's heap figures and its stacks not freed at exit (named while it still
// has its mappings: the script stops it at _exit, prints them and resumes it; memtop resumes it
// too once it reads the stacks, should the script's SIGCONT be lost).
import {TracerError} from '../types.js';
import {BpftraceJsonParser} from '../parse/bpftrace-json.js';
import {hasNames, leakStacks, processFigures, untrackedOf, type LeakStack, type ProcessHeap} from '../model/command-summary.js';
import {findLibc} from '../system/kernel.js';
import {probeScript} from './probe-files.js';
import {tracerLines} from './tracer-process.js';
import {BPFTRACE_NOISE, bpftracePath, bpftraceVersion, explainBpftraceFailure, liveKeysMax} from './bpftrace.js';
import {escapesKeysTwice, mapKeysEnv, type BpftraceVersion} from './bpftrace-version.js';
import {readFileSync} from 'node:fs';
import {expandForFiles, highestPositional, type SiteChooser} from '../model/allocator-script.js';
import {chooseSite, siteIn, takesProbeOffsets} from './allocator-probes.js';
import type {AllocatorFile} from '../system/allocators.js';
import {commandAllocatorFiles} from '../system/command-allocators.js';
import {readElfSymbols} from '../system/elf-file.js';
import {processName} from '../system/process-names.js';

/** What the tracer has seen so far. */
export interface CommandTrace {
  processes: Map<number, ProcessHeap>;
  /** Not freed, per process: taken when it stopped at _exit (named), else at its exit. */
  stacks: Map<number, LeakStack[]>;
  exited: Set<number>;
  /** When each exited process exited (sched_process_exit), in bpftrace's nsecs: CLOCK_MONOTONIC, the clock of process.hrtime. */
  exitNs: Map<number, bigint>;
  untracked: number;
  /** bpftrace's nsecs of the last interval's end. */
  lastTickNs: bigint;
  /** The allocator files probed, by kind ("glibc", "jemalloc", "go"...), each kind once. */
  allocators: string[];
}

/**
 * Go's runtime.mallocgc in a Go file at positional `position`: an allocation of the bytes asked for
 * (in AX, Go's register ABI on amd64) counted as a call and bytes; Go's heap is garbage collected,
 * so it has no free to pair it with and no address to keep (no in-use figure, no stack at exit).
 */
function goBlock(position: number): string {
  return `uprobe:$${position}:runtime.mallocgc /@traced[pid]/\n{\n\t@allocs[pid] = count();\n\t@allocated[pid] = sum(reg("ax"));\n}\n`;
}

/**
 * command.bt's program for COMMAND's allocator files: its probes on $3 put on every C allocator
 * file (jemalloc, tcmalloc, mimalloc, musl, glibc; past an entry instruction the kernel would
 * single-step, where the bpftrace takes offsets), _exit's left on libc, and Go's mallocgc counted
 * in each Go file; the files' paths are passed from $4 on.
 */
export function commandProgram(files: readonly AllocatorFile[], version: BpftraceVersion): {program: string; paths: string[]} {
  const text = readFileSync(probeScript('bpftrace', 'command.bt'), 'utf8');
  const firstPositional = highestPositional(text) + 1;
  // free's probe may also go past its test of its argument: free(NULL) counts as nothing here, and some programs call it far more often than malloc (readme).
  const site: SiteChooser = (file, entry, needs) => chooseSite(file, entry, entry === 'free' ? {...needs, ignoresNull: true} : needs);
  const expanded = expandForFiles(text, files, {firstPositional, go: false, ...(takesProbeOffsets(version) ? {site} : {})});
  const go = files.filter(file => file.kind === 'go');
  const blocks = go.map((_, index) => goBlock(firstPositional + expanded.paths.length + index));
  // musl's exit ends in _Exit (glibc's in _exit): its process is stopped there too, for named stacks.
  const muslExits = expanded.paths.flatMap((file, index) => (files.find(candidate => candidate.path === file)?.kind === 'musl' && readElfSymbols(file, name => name === '_Exit')?.functions.has('_Exit') ? [`uprobe:$${firstPositional + index}:_Exit`] : []));
  const program = expanded.program.replace(/^uprobe:\$3:_exit\b/m, point => [point, ...muslExits].join(', '));
  return {program: [program, ...blocks].join('\n'), paths: [...expanded.paths, ...go.map(file => file.path)]};
}

/** Processes the script has stopped and memtop has not resumed yet: resumed on any way out. */
const stopped = new Set<number>();

/**
 * Every process the script follows: one it stopped at _exit whose report never came (the tracer
 * ended first) is resumed too on the way out, or it would stay stopped once memtop is gone.
 */
const followed = new Set<number>();

/** Whether a process is stopped now (state T in /proc/PID/stat). */
function isStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
  } catch {
    return false;
  }
}

/** Resume every process the script stopped, reported or not (from exit handlers: synchronous). */
export function resumeStopped(): void {
  for (const pid of new Set([...stopped, ...followed])) {
    if (!stopped.has(pid) && !isStopped(pid)) continue;
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone
    }
  }
  stopped.clear();
  followed.clear();
}

function resume(pid: number): void {
  stopped.delete(pid);
  try {
    process.kill(pid, 'SIGCONT');
  } catch {
    // gone already
  }
}

/** Where command.bt's free probe goes in libc (as commandProgram puts it): past free's test of its argument where the bpftrace takes an offset, so that free(NULL) never traps. */
export function freeSite(libc: string, version: BpftraceVersion): string {
  return siteIn(libc, 'free', {arguments: 1, ignoresNull: true}, version);
}

const MARK = /^memtop-(begin|end|stopped|exit) (\d+)(?: (\d+))?\s*$/;
/** An empty map print flushes the parser: each print is read as it comes, not per interval. */
const FLUSH = '{"type": "printf", "data": "memtop-end 0\\n"}';

/**
 * Run command.bt for the held pid until `signal` aborts. `onAttached` runs once every probe is
 * attached (BEGIN); `onChange` after each interval ('tick') and each process's exit. Rejects with a
 * TracerError when bpftrace fails.
 */
export async function traceCommand(options: {
  pid: number;
  /** COMMAND's program (resolved as the shell does) and environment: its allocator files are found from them. */
  executable: string;
  env: Readonly<Record<string, string | undefined>>;
  intervalMs: number;
  signal: AbortSignal;
  onAttached: () => void;
  onChange: (trace: CommandTrace, kind: 'tick' | 'exit') => void;
}): Promise<CommandTrace> {
  const bpftrace = bpftracePath();
  if (!bpftrace) throw new TracerError('bpftrace is not installed', 'install it: apt-get install -y bpftrace');
  const libc = findLibc();
  if (!libc) throw new TracerError('libc not found for the allocator uprobes', 'install libc6, or set MEMTOP_LIBC=/path/to/libc.so.6');
  const version = await bpftraceVersion();
  const parser = new BpftraceJsonParser(escapesKeysTwice(version));
  const files = await commandAllocatorFiles(options.executable, options.env, libc);
  const {program, paths} = commandProgram(files, version);
  const latest = new Map<string, Record<string, unknown>>();
  const trace: CommandTrace = {processes: new Map(), stacks: new Map(), exited: new Set(), exitNs: new Map(), untracked: 0, lastTickNs: 0n, allocators: [...new Set(files.map(file => file.kind))]};
  const named = new Set<number>();
  followed.add(options.pid);
  const refresh = () => {
    trace.processes = processFigures(latest);
    for (const pid of trace.processes.keys()) followed.add(pid);
    const names = latest.get('comm') ?? {};
    for (const heap of trace.processes.values()) {
      heap.exited = trace.exited.has(heap.pid);
      heap.comm = typeof names[heap.pid] === 'string' ? (names[heap.pid] as string) : processName(heap.pid) ?? '';
      // A process that reached _exit and whose stop was not reported (a lost event) is resumed here.
      if (names[heap.pid] !== undefined && !named.has(heap.pid) && !trace.exited.has(heap.pid)) resume(heap.pid);
    }
    trace.untracked = untrackedOf(latest);
  };
  const args = ['--unsafe', '-B', 'line', '-f', 'json', '-e', program, String(Math.max(100, Math.round(options.intervalMs / 100) * 100)), String(options.pid), libc, ...paths];
  for await (const line of tracerLines({
    command: bpftrace,
    args,
    signal: options.signal,
    // Symbols cached per process: uncached, bpftrace 0.17 loaded every library's symbols again for each frame (seconds per stop at _exit).
    env: {...mapKeysEnv(liveKeysMax()), BPFTRACE_NO_CPP_DEMANGLE: '0', BPFTRACE_CACHE_USER_SYMBOLS: '1'},
    explainFailure: explainBpftraceFailure,
    ignoreStderr: BPFTRACE_NOISE,
    privateLibc: true,
  })) {
    let message: {type?: unknown; data?: unknown} | undefined;
    try {
      message = JSON.parse(line) as {type?: unknown; data?: unknown};
    } catch {
      message = undefined;
    }
    const mark = message?.type === 'printf' && typeof message.data === 'string' ? MARK.exec(message.data) : null;
    if (!mark) {
      parser.feed(line);
      for (const [name, map] of parser.feed(FLUSH)?.maps ?? []) latest.set(name, map);
      continue;
    }
    const value = BigInt(mark[2]!);
    const pid = Number(value);
    switch (mark[1]) {
      case 'begin':
        options.onAttached();
        break;
      case 'end':
        trace.lastTickNs = value;
        refresh();
        options.onChange(trace, 'tick');
        break;
      case 'stopped':
        // Stopped at _exit: its stacks were printed just before, while its mappings could be read.
        // The script has resumed it already; a second SIGCONT does no harm.
        stopped.add(pid);
        trace.stacks.set(pid, leakStacks(latest).get(pid) ?? []);
        named.add(pid);
        resume(pid);
        break;
      case 'exit': {
        trace.exited.add(pid);
        if (mark[3] !== undefined) trace.exitNs.set(pid, BigInt(mark[3]));
        stopped.delete(pid);
        const stacks = leakStacks(latest).get(pid) ?? [];
        if (!named.has(pid) || (!hasNames(trace.stacks.get(pid) ?? []) && hasNames(stacks))) trace.stacks.set(pid, stacks);
        refresh();
        options.onChange(trace, 'exit');
        break;
      }
    }
  }
  return trace;
}
