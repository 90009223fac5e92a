// A child process for tests whose stdout is read line by line (JSON lines parsed as they come),
// that dies with the test process, and that a test can wait on and stop.
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {createInterface} from 'node:readline';
import {execa, type ResultPromise} from 'execa';
import {waitForValue} from './wait-for-value.js';

const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv'];
const STDERR_KEEP = 16_384;

/** How a child ended. */
export interface ChildExit {
  exitCode?: number;
  signal?: string;
}

/** A running child, its output so far, and ways to wait on it and stop it. */
export interface LineChild {
  /** What the child is, for messages ("memtop --tab malloc"). */
  readonly what: string;
  readonly pid: number;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Every stdout line so far that parsed as a JSON object. */
  readonly records: Record<string, unknown>[];
  /** The last 16 KiB of stderr. */
  stderr(): string;
  /** Resolves when the child has exited and its output has been read. */
  readonly exited: Promise<ChildExit>;
  hasExited(): boolean;
  /**
   * Wait for a JSON line matching `predicate` and return it; throws if the child exits first
   * or `timeoutMs` passes, with the child's last output in the message.
   */
  waitForRecord(predicate: (record: Record<string, unknown>) => boolean, what: string, timeoutMs: number): Promise<Record<string, unknown>>;
  /** Send `signal` (default SIGTERM), then SIGKILL after `graceMs` (default 3000); resolves once it is gone. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ChildExit>;
  /** The child's last output, for assertion messages. */
  describe(): string;
}

/** Options of {@link startLineChild}. */
export interface StartLineChildOptions {
  what: string;
  cwd?: string;
  env?: Record<string, string>;
}

/**
 * Start `file args` with stdin closed and stdout read line by line. Where setpriv exists the
 * child gets SIGKILL when the test process dies (PR_SET_PDEATHSIG survives exec), so that no
 * tracer or workload outlives a test run that is killed outright.
 */
export function startLineChild(file: string, args: readonly string[], options: StartLineChildOptions): LineChild {
  const setpriv = SETPRIV_PATHS.find(path => existsSync(path));
  const [command, commandArgs] = setpriv
    ? [setpriv, ['--pdeathsig', 'KILL', '--', file, ...args]]
    : [file, [...args]];
  const child: ResultPromise = execa(command, commandArgs, {
    stdin: 'ignore',
    buffer: false,
    reject: false,
    cwd: options.cwd,
    env: options.env,
    extendEnv: true,
    cleanup: true,
  });
  if (child.pid === undefined) throw new Error(`could not start ${options.what}`);
  const lines: string[] = [];
  const records: Record<string, unknown>[] = [];
  let stderr = '';
  let done = false;
  let ending: ChildExit | undefined;
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  const stdoutRead = new Promise<void>(resolve => {
    if (!child.stdout) return resolve();
    const reader = createInterface({input: child.stdout, crlfDelay: Infinity});
    reader.on('line', line => {
      lines.push(line);
      if (!line.startsWith('{')) return;
      try {
        const value: unknown = JSON.parse(line);
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
          records.push(value as Record<string, unknown>);
        }
      } catch {
        // not JSON: kept in lines only
      }
    });
    reader.on('close', resolve);
  });
  const exited = (async (): Promise<ChildExit> => {
    const result = await child;
    await stdoutRead;
    done = true;
    ending = {exitCode: result.exitCode, signal: result.signal};
    return ending;
  })();

  const describe = (): string => {
    const tail = lines.slice(-8).join('\n');
    const how = ending ? `, exited ${ending.signal ? `on ${ending.signal}` : `with code ${ending.exitCode}`}` : '';
    return `${options.what} (pid ${child.pid}${how}) stdout tail:\n${tail}\nstderr tail:\n${stderr.slice(-2000)}`;
  };

  return {
    what: options.what,
    pid: child.pid,
    lines,
    records,
    stderr: () => stderr,
    exited,
    hasExited: () => done,
    describe,
    async waitForRecord(predicate, what, timeoutMs) {
      return waitForValue(
        () => {
          const found = records.find(record => predicate(record));
          if (found) return found;
          if (done) throw new Error(`${options.what} exited before ${what}\n${describe()}`);
          return undefined;
        },
        {timeoutMs, what: `${what} from ${options.what}`},
        describe,
      );
    },
    async stop(signal = 'SIGTERM', graceMs = 3000) {
      if (!done) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        try {
          await exited;
        } finally {
          clearTimeout(timer);
        }
      }
      return exited;
    },
  };
}

/** Parent pid of every process now, read from /proc/<pid>/stat. */
function parentPids(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The comm field is in parentheses and may hold spaces: the ppid is the 2nd field after it.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // exited while we looked
    }
  }
  return parents;
}

/** Every live descendant of `pid` (children, their children, ...), e.g. the tracers a memtop started. */
export function descendantPids(pid: number): number[] {
  // Those of 0 or 1 are every process on the machine, other tests' and other users' among them:
  // never what a test means, and fatal to whatever it then kills.
  if (!Number.isSafeInteger(pid) || pid < 2) throw new Error(`descendants of pid ${pid} asked for: that is every process`);
  const parents = parentPids();
  const found: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    const parent = pending.pop()!;
    for (const [child, childParent] of parents) {
      if (childParent === parent) {
        found.push(child);
        pending.push(child);
      }
    }
  }
  return found;
}

/** Whether a process with this pid exists (and is not a zombie waiting to be reaped). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * When a process started, in clock ticks since boot (/proc/<pid>/stat's 22nd field), or undefined
 * when it is gone. A pid with its start time names one process: pids are reused, within minutes on
 * a busy machine (pid_max is 32768 here), and a test that kills a pid it saw earlier must not
 * kill whatever process has that pid now.
 */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the process seen as `pid` with start time `start` is still running (and not another that took its pid). */
export function stillRunning(pid: number, start: string | undefined): boolean {
  return start !== undefined && processStart(pid) === start && isRunning(pid);
}

/**
 * Stop a child (SIGTERM, SIGKILL after `graceMs`) and wait until the processes it had started
 * (memtop's tracers) are gone too. Their pids are added to `seen`, for a last check after the tests.
 */
export async function stopWithDescendants(child: LineChild, seen?: Map<number, string>, graceMs = 5000): Promise<void> {
  const descendants = descendantPids(child.pid).map(pid => [pid, processStart(pid)] as const);
  for (const [pid, start] of descendants) if (start !== undefined) seen?.set(pid, start);
  await child.stop('SIGTERM', graceMs);
  await waitForValue(() => descendants.every(([pid, start]) => !stillRunning(pid, start)), {
    timeoutMs: 3000,
    what: `${child.what}'s children (${descendants.map(([pid]) => pid).join(', ')}) to exit after it did`,
  });
}

/** The children a test file starts, so that none outlives its tests. */
export interface ChildTracker {
  /** Remember a child (returned as it is). */
  track<T extends LineChild>(child: T): T;
  /** Processes the children started (memtop's tracers), seen while they ran: pid -> start time. */
  readonly descendants: Map<number, string>;
  /** SIGKILL every child still running (afterEach). */
  stopAll(): Promise<void>;
  /** Kill whatever is still running of the children and their descendants, and return those pids (after: must be none). */
  killLeftovers(): number[];
}

export function childTracker(): ChildTracker {
  const children: LineChild[] = [];
  const descendants = new Map<number, string>();
  return {
    track(child) {
      children.push(child);
      return child;
    },
    descendants,
    async stopAll() {
      await Promise.all(children.map(async child => child.stop('SIGKILL', 1000)));
    },
    killLeftovers() {
      // A child is known by its own exit; a descendant by its pid and start time: never a process that reused a pid.
      const leftovers = [
        ...children.filter(child => !child.hasExited()).map(child => child.pid),
        ...[...descendants].filter(([pid, start]) => stillRunning(pid, start)).map(([pid]) => pid),
      ];
      for (const pid of leftovers) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      return leftovers;
    },
  };
}
