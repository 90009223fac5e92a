// Child processes for the bench: started with PR_SET_PDEATHSIG (through setpriv) and registered
// for cleanup, stdout read line by line with a timestamp per line, and what /proc says about
// their CPU time and memory.
import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {createInterface} from 'node:readline';
import {performance} from 'node:perf_hooks';
import {descendants, killTree, onCleanup} from './cleanup.js';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find(path => existsSync(path));

/** One stdout or stderr line and when it arrived (performance.now()). */
export interface TimedLine {
  text: string;
  at: number;
  stream: 'stdout' | 'stderr';
}

/** A started child. */
export interface Child {
  what: string;
  pid: number;
  process: ChildProcess;
  /** performance.now() just before spawn. */
  startedAt: number;
  lines: TimedLine[];
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>;
  hasExited(): boolean;
  /** Resolve with the first line (already seen or still to come) matching `test`; reject on exit or timeout. */
  waitForLine(test: (line: TimedLine) => boolean, what: string, timeoutMs: number): Promise<TimedLine>;
  /** Write to stdin (when started with stdin: 'pipe'). */
  send(text: string): void;
  /** Send `signal`, then SIGKILL the whole tree after `graceMs`; resolves when the child is gone. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** The last lines, for error messages. */
  tail(): string;
}

export interface SpawnOptions {
  stdin?: 'pipe' | 'ignore';
  /** Keep stdout lines (default) or send stdout to /dev/null. */
  stdout?: 'lines' | 'ignore';
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Keep at most this many lines (default 200). */
  keepLines?: number;
}

/** Start `file args`; the child gets SIGKILL if the bench dies, and is killed on the bench's exit. */
export function spawnChild(what: string, file: string, args: string[], options: SpawnOptions = {}): Child {
  const [command, commandArgs] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', file, ...args]] : [file, args];
  const startedAt = performance.now();
  const child = spawn(command, commandArgs, {
    stdio: [options.stdin ?? 'ignore', options.stdout === 'ignore' ? 'ignore' : 'pipe', 'pipe'],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  if (child.pid === undefined) throw new Error(`could not start ${what}`);
  const pid = child.pid;
  const keep = options.keepLines ?? 200;
  const lines: TimedLine[] = [];
  /** Lines dropped from the front of `lines` so far (it keeps only the last `keep`). */
  let dropped = 0;
  const waiters = new Set<() => void>();
  let exitedFlag = false;
  const unregister = onCleanup(what, () => {
    if (!exitedFlag) killTree(pid);
  });
  const push = (text: string, stream: TimedLine['stream']) => {
    lines.push({text, at: performance.now(), stream});
    if (lines.length > keep) {
      dropped += lines.length - keep;
      lines.splice(0, lines.length - keep);
    }
    for (const wake of waiters) wake();
  };
  if (child.stdout) createInterface({input: child.stdout, crlfDelay: Infinity}).on('line', line => push(line, 'stdout'));
  if (child.stderr) createInterface({input: child.stderr, crlfDelay: Infinity}).on('line', line => push(line, 'stderr'));
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>(resolve => {
    child.on('exit', (code, signal) => {
      exitedFlag = true;
      unregister();
      for (const wake of waiters) wake();
      resolve({code, signal});
    });
  });
  child.stdin?.on('error', () => undefined);
  const tail = () => lines.slice(-12).map(line => `  ${line.stream}: ${line.text}`).join('\n');
  return {
    what,
    pid,
    process: child,
    startedAt,
    lines,
    exited,
    hasExited: () => exitedFlag,
    tail,
    send(text: string) {
      child.stdin?.write(text);
    },
    waitForLine(test, description, timeoutMs) {
      return new Promise((resolve, reject) => {
        // Counts every line ever pushed, so that lines dropped from the front do not shift it.
        let seen = dropped;
        const check = () => {
          for (seen = Math.max(seen, dropped); seen < dropped + lines.length; seen++) {
            const line = lines[seen - dropped]!;
            if (test(line)) {
              finish();
              resolve(line);
              return;
            }
          }
          if (exitedFlag) {
            finish();
            reject(new Error(`${what} exited before ${description}:\n${tail()}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`${what}: no ${description} within ${timeoutMs} ms:\n${tail()}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 3000) {
      if (exitedFlag) return;
      const tree = [pid, ...descendants(pid)];
      try {
        process.kill(pid, signal);
      } catch {
        // gone already
      }
      const timer = setTimeout(() => killTree(pid), graceMs);
      await exited;
      clearTimeout(timer);
      // Whatever it started must be gone too (memtop's tracer, a workload's children).
      for (const other of tree.slice(1)) {
        try {
          process.kill(other, 'SIGKILL');
        } catch {
          // gone, as it should be
        }
      }
    },
  };
}

/** Clock ticks per second for /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
export const CLOCK_TICKS = 100;

/** User and system CPU seconds a process has used so far, or undefined when it has gone. */
export function cpuSeconds(pid: number): {user: number; system: number} | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state(0) ppid(1) ... utime(11) stime(12).
    return {user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS};
  } catch {
    return undefined;
  }
}

/**
 * CPU time of every thread of a process in seconds, from /proc/<pid>/task/<tid>/schedstat
 * (nanoseconds, not 10 ms ticks): precise enough for a process that uses 0.1% of a core.
 * Threads that have exited are not counted; memtop's and bpftrace's threads live as long as they do.
 */
export function cpuSecondsPrecise(pid: number): number | undefined {
  try {
    let total = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
      } catch {
        // the thread has just exited
      }
    }
    return total;
  } catch {
    return undefined;
  }
}

/** A field of /proc/<pid>/status in kB (VmHWM, VmRSS), or undefined. */
export function statusKb(pid: number, field: string): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The process's name (comm), or '' when it has gone. */
export function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Daemons the bench started that are not its children (its private tmux server). */
export const OWN_ROOTS = new Set<number>();

const TRACER_COMMS = new Set(['bpftrace', 'stap', 'staprun', 'stapio', 'dtrace', 'perf', 'memtop']);

/**
 * Tracers running on this machine that the bench did not start (other people's memtop or
 * bpftrace): they add probes the bench cannot account for. Returns "pid comm" strings.
 */
export function foreignTracers(): string[] {
  const ours = new Set(descendants(process.pid));
  for (const root of OWN_ROOTS) for (const pid of [root, ...descendants(root)]) ours.add(pid);
  const found: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (ours.has(pid) || pid === process.pid) continue;
    const comm = commOf(pid);
    if (TRACER_COMMS.has(comm) && !isZombie(pid)) found.push(`${pid} ${comm}`);
  }
  return found;
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
