// The tracer of memtop -- COMMAND: runs probes/bpftrace/command.bt on the held COMMAND's pid and
// keeps each traced process's heap figures and its stacks not freed at exit; resumes a process
// the script stopped at _exit once its stacks are printed (named while it still has its mappings).
import {TracerError} from '../types.js';
import {BpftraceJsonParser} from '../parse/bpftrace-json.js';
import {hasNames, leakStacks, processFigures, untrackedOf, type LeakStack, type ProcessHeap} from '../model/command-summary.js';
import {findLibc} from '../system/kernel.js';
import {probeScript} from './probe-files.js';
import {tracerLines} from './tracer-process.js';
import {BPFTRACE_NOISE, bpftracePath, bpftraceVersion, explainBpftraceFailure, liveKeysMax} from './bpftrace.js';
import {escapesKeysTwice, mapKeysEnv} from './bpftrace-version.js';
import {processName} from '../system/process-names.js';

/** What the tracer has seen so far. */
export interface CommandTrace {
  processes: Map<number, ProcessHeap>;
  /** Not freed, per process: taken when it stopped at _exit (named), else at its exit. */
  stacks: Map<number, LeakStack[]>;
  exited: Set<number>;
  untracked: number;
  /** bpftrace's nsecs of the last interval's end. */
  lastTickNs: bigint;
}

/** Processes the script has stopped and memtop has not resumed yet: resumed on any way out. */
const stopped = new Set<number>();

/** Resume every process the script stopped (from exit handlers: synchronous). */
export function resumeStopped(): void {
  for (const pid of stopped) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone
    }
  }
  stopped.clear();
}

function resume(pid: number): void {
  stopped.delete(pid);
  try {
    process.kill(pid, 'SIGCONT');
  } catch {
    // gone already
  }
}

const MARK = /^memtop-(begin|end|stopped|exit) (\d+)\s*$/;
/** An empty map print flushes the parser: each print is read as it comes, not per interval. */
const FLUSH = '{"type": "printf", "data": "memtop-end 0\\n"}';

/**
 * Run command.bt for the held pid until `signal` aborts. `onAttached` runs once every probe is
 * attached (BEGIN); `onChange` after each interval ('tick') and each process's exit. Rejects with a
 * TracerError when bpftrace fails.
 */
export async function traceCommand(options: {
  pid: number;
  intervalMs: number;
  signal: AbortSignal;
  onAttached: () => void;
  onChange: (trace: CommandTrace, kind: 'tick' | 'exit') => void;
}): Promise<CommandTrace> {
  const bpftrace = bpftracePath();
  if (!bpftrace) throw new TracerError('bpftrace is not installed', 'install it: apt-get install -y bpftrace');
  const libc = findLibc();
  if (!libc) throw new TracerError('libc not found for the allocator uprobes', 'install libc6, or set MEMTOP_LIBC=/path/to/libc.so.6');
  const parser = new BpftraceJsonParser(escapesKeysTwice(await bpftraceVersion()));
  const latest = new Map<string, Record<string, unknown>>();
  const trace: CommandTrace = {processes: new Map(), stacks: new Map(), exited: new Set(), untracked: 0, lastTickNs: 0n};
  const named = new Set<number>();
  const refresh = () => {
    trace.processes = processFigures(latest);
    const names = latest.get('comm') ?? {};
    for (const heap of trace.processes.values()) {
      heap.exited = trace.exited.has(heap.pid);
      heap.comm = typeof names[heap.pid] === 'string' ? (names[heap.pid] as string) : processName(heap.pid) ?? '';
      // A process that reached _exit and whose stop was not reported (a lost event) is resumed here.
      if (names[heap.pid] !== undefined && !named.has(heap.pid) && !trace.exited.has(heap.pid)) resume(heap.pid);
    }
    trace.untracked = untrackedOf(latest);
  };
  const args = ['--unsafe', '-B', 'line', '-f', 'json', probeScript('bpftrace', 'command.bt'), String(Math.max(100, Math.round(options.intervalMs / 100) * 100)), String(options.pid), libc];
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
        stopped.add(pid);
        trace.stacks.set(pid, leakStacks(latest).get(pid) ?? []);
        named.add(pid);
        resume(pid);
        break;
      case 'exit': {
        trace.exited.add(pid);
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
