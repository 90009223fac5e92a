// A private tmux server (socket "memtop-bench-<pid>", never the default server others use, nor
// another bench's) to run the real TUI in a real terminal of a fixed size, send it keys and read
// its screen.
import {spawnSync} from 'node:child_process';
import {performance} from 'node:perf_hooks';
import {killTree, onCleanup} from './cleanup.js';
import {OWN_ROOTS, sleep} from './proc.js';

/**
 * One socket per bench process: a bench starts by killing whatever server its socket names, and
 * with one name for all, a second bench on the machine (another soak, a cost run) killed the
 * first one's terminal and memtop with it.
 */
export const SOCKET = `memtop-bench-${process.pid}`;

/** Run one tmux command on the private server; returns stdout. Throws on failure. */
export function tmux(args: string[]): string {
  const result = spawnSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], {encoding: 'utf8'});
  if (result.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${(result.stderr || '').trim() || `exit ${result.status}`}`);
  return result.stdout;
}

/** One screen read: its lines and when the read returned. */
export interface Screen {
  lines: string[];
  at: number;
}

/** A session running one command in a window of `columns` x `rows`. */
export interface Session {
  name: string;
  /** Pid of the pane's process (the command, once it has exec'd). */
  panePid: number;
  capture(): Screen;
  /** Send tmux key names (e.g. "Enter", "Escape") or literal text with `literal`. */
  keys(keys: string[], literal?: boolean): void;
  /** Poll the screen every `everyMs` until `test` holds; throws with the last screen on timeout. */
  waitFor(test: (lines: string[]) => boolean, what: string, timeoutMs: number, everyMs?: number): Promise<Screen>;
  kill(): void;
}

let serverPid: number | undefined;

/** Start the private server (once) with a session that keeps it alive, and register its cleanup. */
export function startServer(): void {
  if (serverPid !== undefined) return;
  tmux(['new-session', '-d', '-s', 'keepalive', '-x', '120', '-y', '40', 'sleep 86400']);
  tmux(['set-option', '-g', 'remain-on-exit', 'off']);
  serverPid = Number(tmux(['display-message', '-p', '-t', 'keepalive', '#{pid}']).trim());
  OWN_ROOTS.add(serverPid);
  onCleanup(`tmux server ${SOCKET}`, () => {
    try {
      tmux(['kill-server']);
    } catch {
      // already gone
    }
    if (serverPid !== undefined) killTree(serverPid);
    serverPid = undefined;
  });
}

/** Open a session running `command` (argv) in a `columns` x `rows` window. */
export function openSession(name: string, command: string[], size = {columns: 120, rows: 40}): Session {
  startServer();
  tmux(['new-session', '-d', '-s', name, '-x', String(size.columns), '-y', String(size.rows), ...command]);
  const panePid = Number(tmux(['display-message', '-p', '-t', name, '#{pane_pid}']).trim());
  const capture = (): Screen => {
    let text = '';
    try {
      text = tmux(['capture-pane', '-p', '-t', name]);
    } catch {
      // the session has ended: an empty screen
    }
    return {lines: text.split('\n'), at: performance.now()};
  };
  return {
    name,
    panePid,
    capture,
    keys(keys, literal = false) {
      tmux(['send-keys', '-t', name, ...(literal ? ['-l'] : []), ...keys]);
    },
    async waitFor(test, what, timeoutMs, everyMs = 20) {
      const deadline = performance.now() + timeoutMs;
      let screen = capture();
      while (!test(screen.lines)) {
        if (performance.now() > deadline) throw new Error(`TUI: no ${what} within ${timeoutMs} ms; screen:\n${screen.lines.join('\n')}`);
        await sleep(everyMs);
        screen = capture();
      }
      return screen;
    },
    kill() {
      try {
        tmux(['kill-session', '-t', name]);
      } catch {
        // gone already
      }
      killTree(panePid);
    },
  };
}
