// A real terminal for end-to-end TUI tests: tmux on a private socket (never the user's server),
// with send-keys to type and capture-pane to read the screen.
import {execFileSync} from 'node:child_process';
import {waitForValue} from './wait-for-value.js';

export interface Terminal {
  /** The screen as text, one line per row. */
  screen(): string;
  /** The screen with its escape sequences (colours), as tmux keeps them. */
  screenWithEscapes(): string;
  keys(...keys: string[]): void;
  /**
   * Send `first`, wait `gapMs` inside the tmux server, then send `second` (send-keys arguments
   * each): one client command, so that the gap is the one asked for and not the time it takes a
   * loaded machine to start a second tmux client.
   */
  splitKeys(first: string[], gapMs: number, second: string[]): void;
  resize(columns: number, rows: number): void;
  /** The pid of the pane's process (the shell or memtop itself). */
  panePid(): number;
  title(): string;
  /** Wait until the screen satisfies `test`; returns the screen. */
  waitFor(test: (screen: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  /** Whether the pane's process is still there. */
  alive(): boolean;
  kill(): void;
}

let counter = 0;

/** Start `command` in a new detached tmux session of the given size. */
export function startTerminal(command: string[], columns = 120, rows = 40): Terminal {
  const socket = `memtop-test-${process.pid}-${counter++}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], {encoding: 'utf8'});
  tmux('new-session', '-d', '-s', 'm', '-x', String(columns), '-y', String(rows), ...command);
  tmux('set-option', '-t', 'm', 'remain-on-exit', 'on');
  const terminal: Terminal = {
    screen: () => tmux('capture-pane', '-p', '-t', 'm'),
    screenWithEscapes: () => tmux('capture-pane', '-p', '-e', '-t', 'm'),
    keys: (...keys) => {
      tmux('send-keys', '-t', 'm', ...keys);
    },
    splitKeys: (first, gapMs, second) => {
      tmux('send-keys', '-t', 'm', ...first, ';', 'run-shell', `sleep ${(gapMs / 1000).toFixed(3)}`, ';', 'send-keys', '-t', 'm', ...second);
    },
    resize: (width, height) => {
      tmux('resize-window', '-t', 'm', '-x', String(width), '-y', String(height));
    },
    panePid: () => {
      // A newer tmux (Debian unstable's 3.8; not the host's 3.3a) gives a dead pane an empty pane_pid, which
      // Number() reads as 0: the "descendants" of pid 0 are every process on the machine.
      // Older ones keep the pid of the exited process, which may be another's by now: a dead
      // pane has no pid, whichever tmux it is.
      const [dead, pid] = tmux('display-message', '-p', '-t', 'm', '#{pane_dead}:#{pane_pid}').trim().split(':');
      if (dead === '1' || !/^[1-9]\d*$/.test(pid ?? '')) throw new Error(`the pane's process has exited (pane_pid ${JSON.stringify(pid ?? '')})`);
      return Number(pid);
    },
    title: () => tmux('display-message', '-p', '-t', 'm', '#{pane_title}').trim(),
    waitFor: (test, what, timeoutMs = 10_000) =>
      waitForValue(() => {
        const screen = terminal.screen();
        return test(screen) ? screen : undefined;
      }, {timeoutMs, what}, () => terminal.screen()),
    alive: () => tmux('display-message', '-p', '-t', 'm', '#{pane_dead}').trim() !== '1',
    kill: () => {
      try {
        tmux('kill-server');
      } catch {
        // already gone
      }
    },
  };
  return terminal;
}
