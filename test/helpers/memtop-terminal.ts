// memtop's TUI in a private tmux for end-to-end tests, closed so that nothing outlives the test:
// the tmux server is killed, and a memtop that is still there two seconds later (a bug the
// tests report elsewhere) is killed by its pid, so that it cannot spin on a dead terminal.
import {descendantPids, isRunning, processStart, stillRunning} from './child-lines.js';
import {CLI} from './requirements.js';
import {startTerminal, type Terminal} from './tmux.js';
import {isMemtop} from './tracer-processes.js';
import {waitForValue} from './wait-for-value.js';

/** A terminal running memtop. */
export interface MemtopTerminal extends Terminal {
  /** Kill the terminal (noting first which memtop runs in it, for close). */
  kill(): void;
  /** Kill the terminal if it is not yet; resolves once no memtop started in it is left (killing stragglers). */
  close(): Promise<void>;
}

/** memtop processes in a tmux pane right now (the pane's process and its descendants). */
function memtopsIn(terminal: Terminal): number[] {
  try {
    const pane = terminal.panePid();
    return [pane, ...descendantPids(pane)].filter(pid => isRunning(pid) && isMemtop(pid));
  } catch {
    return [];
  }
}

/**
 * Start `memtop args` in a new tmux of the given size, with `env` set for it (tmux starts a
 * pane with its server's environment, so the variables go through env(1)). `wrap` goes before
 * node on the command line (e.g. ['setsid', '-w']).
 */
export function startMemtopTerminal(
  args: string[],
  options: {columns?: number; rows?: number; env?: Record<string, string>; wrap?: string[]} = {},
): MemtopTerminal {
  const assignments = Object.entries(options.env ?? {}).map(([name, value]) => `${name}=${value}`);
  const command = [...(options.wrap ?? []), 'env', ...assignments, process.execPath, CLI, ...args];
  const terminal = startTerminal(command, options.columns ?? 120, options.rows ?? 40);
  // pid -> start time: a pid seen earlier may belong to another process by the time it is killed.
  const seen = new Map<number, string>();
  let killed = false;
  const kill = () => {
    if (killed) return;
    killed = true;
    for (const pid of memtopsIn(terminal)) {
      const start = processStart(pid);
      if (start !== undefined) seen.set(pid, start);
    }
    terminal.kill();
  };
  return {
    ...terminal,
    kill,
    async close() {
      kill();
      const left = () => [...seen].filter(([pid, start]) => stillRunning(pid, start)).map(([pid]) => pid);
      try {
        await waitForValue(() => left().length === 0, {timeoutMs: 2000, what: 'memtop to end with its terminal'});
      } catch {
        for (const pid of left()) process.kill(pid, 'SIGKILL');
      }
    },
  };
}
