// memtop -- COMMAND in the TUI: COMMAND started held and released as in batch mode, and what the
// screen needs of it as one store (its processes so far, whether it runs, its exit status, then
// its summary), with the two ways the TUI ends it: q (SIGTERM, SIGKILL after 5 s) and Ctrl-C
// (SIGINT, as a shell passes it on).
import type {CommandSummary} from '../model/command-summary.js';
import {writeExitProfile} from './exit-profile.js';
import {startCommand, type CommandRun} from './run-command.js';

/**
 * Where COMMAND is: running; being ended (q: SIGTERM sent); exited, its last figures still to
 * come; or its summary is in.
 */
export type CommandPhase = 'running' | 'ending' | 'exited' | 'summary';

/** What the screen shows of COMMAND at one moment (a new object whenever anything changes). */
export interface CommandView {
  phase: CommandPhase;
  /** COMMAND's pid and every process it started that the tracer has seen. */
  pids: ReadonlySet<number>;
  exitStatus?: number;
  summary?: CommandSummary;
  /** --pprof: the file the summary's in-use-at-exit profile went to, or why it could not. */
  profile?: {file: string; error?: string};
}

/** COMMAND under the TUI. */
export interface CommandSession {
  command: string[];
  pid: number;
  /** Where its stdout and stderr go: a file, or /dev/null. */
  output: string;
  view: () => CommandView;
  /** Calls `listener` after each change of view(); returns the unsubscribe. */
  subscribe: (listener: () => void) => () => void;
  /** Ctrl-C: SIGINT to COMMAND. */
  interrupt: () => void;
  /** q: SIGTERM, SIGKILL after 5 s; resolves with COMMAND's exit status. */
  end: () => Promise<number>;
  /** Send COMMAND a signal memtop received. */
  kill: (signal: NodeJS.Signals) => void;
  /** Resolves with COMMAND's exit status once it has exited. */
  exited: Promise<number>;
}

/** Write the summary's in-use-at-exit profile to `file`: where it went, or why it did not. */
function writeProfile(file: string, summary: CommandSummary): {file: string; error?: string} {
  try {
    writeExitProfile(file, summary);
    return {file};
  } catch (error) {
    return {file, error: (error as Error).message};
  }
}

/** The view after COMMAND's tracer has seen `pids` (COMMAND's own always in): unchanged when it adds none. */
export function withPids(view: CommandView, pid: number, seen: Iterable<number>): CommandView {
  const added = [pid, ...seen].filter(candidate => !view.pids.has(candidate));
  return added.length === 0 ? view : {...view, pids: new Set([...view.pids, ...added])};
}

/**
 * Start COMMAND for the TUI (its stdin /dev/null, its output to the file `output` or nowhere) and
 * release it once its tracer is attached and `beforeRelease` has resolved. Rejects as
 * startCommand does (CommandError, TracerError) with COMMAND never having run.
 */
export async function startCommandSession(options: {
  command: string[];
  user?: string;
  output?: string;
  intervalMs: number;
  signal: AbortSignal;
  beforeRelease?: () => Promise<void>;
  onHeld?: () => void;
  /** --pprof: where what was in use at exit goes as a pprof profile, once the summary is in (checked writable before). */
  pprof?: string;
}): Promise<CommandSession> {
  let view: CommandView = {phase: 'running', pids: new Set()};
  let pid = 0;
  const listeners = new Set<() => void>();
  const change = (next: CommandView) => {
    if (next === view) return;
    view = next;
    for (const listener of listeners) listener();
  };
  const run: CommandRun = await startCommand({
    command: options.command,
    user: options.user,
    quiet: true,
    ...(options.output !== undefined ? {output: options.output} : {}),
    intervalMs: options.intervalMs,
    signal: options.signal,
    ...(options.beforeRelease ? {beforeRelease: options.beforeRelease} : {}),
    ...(options.onHeld ? {onHeld: options.onHeld} : {}),
    onChange: trace => {
      if (pid) change(withPids(view, pid, trace.processes.keys()));
    },
  });
  const {held} = run;
  pid = held.pid;
  view = withPids(view, pid, []);
  void held.exited.then(exitStatus => {
    if (view.phase !== 'summary') change({...view, phase: 'exited', exitStatus});
  });
  run.summary.then(
    summary => change({...view, phase: 'summary', exitStatus: summary.exitStatus, summary, ...(options.pprof !== undefined ? {profile: writeProfile(options.pprof, summary)} : {})}),
    () => undefined,
  );
  return {
    command: options.command,
    pid,
    output: options.output ?? '/dev/null',
    view: () => view,
    subscribe: listener => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    interrupt: () => held.kill('SIGINT'),
    end: () => {
      if (view.phase === 'running') change({...view, phase: 'ending'});
      return held.end();
    },
    kill: signal => held.kill(signal),
    exited: held.exited,
  };
}
