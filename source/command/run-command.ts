// memtop -- COMMAND from start to summary: COMMAND held, its tracer attached, COMMAND released,
// followed to its exit, and the heap summary built from what the tracer kept.
import {traceCommand, type CommandTrace} from '../backends/bpftrace-command.js';
import {buildSummary, type CommandSummary} from '../model/command-summary.js';
import {TracerError} from '../types.js';
import {resolveProgram, runAsUser, startHeld, type HeldCommand} from './held-command.js';

/** A COMMAND run under memtop: the held process and how it ends. */
export interface CommandRun {
  held: HeldCommand;
  /** Resolves with the summary once COMMAND has exited and its last figures are in. */
  summary: Promise<CommandSummary>;
}

/**
 * Start COMMAND held, attach the tracer, release COMMAND; `onChange` sees the figures each
 * interval. Rejects (COMMAND never having run) when COMMAND cannot start or the tracer fails
 * before attaching; resolves once COMMAND runs.
 */
export async function startCommand(options: {
  command: string[];
  user?: string;
  quiet: boolean;
  /** The file COMMAND's stdout and stderr go to (--output FILE). */
  output?: string;
  intervalMs: number;
  /**
   * Awaited once COMMAND's tracer is attached and before COMMAND is released (at most
   * `beforeReleaseMs`): the TUI's first table tracer attaches meanwhile, to see COMMAND from its start.
   */
  beforeRelease?: () => Promise<void>;
  beforeReleaseMs?: number;
  /** Runs once COMMAND is started and held (it was found and may run as its user). */
  onHeld?: () => void;
  signal: AbortSignal;
  onChange?: (trace: CommandTrace) => void;
}): Promise<CommandRun> {
  const runAs = runAsUser(options.user);
  const heldAt = Date.now();
  const held = await startHeld(options.command, {runAs, quiet: options.quiet, ...(options.output !== undefined ? {output: options.output} : {})});
  options.onHeld?.();
  const tracer = new AbortController();
  const stop = () => tracer.abort();
  options.signal.addEventListener('abort', stop, {once: true});
  let attached!: () => void;
  const whenAttached = new Promise<void>(resolve => {
    attached = resolve;
  });
  let exitTicks = 0;
  let lastFigures!: () => void;
  const figuresFinal = new Promise<void>(resolve => {
    lastFigures = resolve;
  });
  const traced = traceCommand({
    pid: held.pid,
    executable: resolveProgram(options.command[0]!),
    env: process.env,
    intervalMs: options.intervalMs,
    signal: tracer.signal,
    onAttached: attached,
    onChange: (trace, kind) => {
      options.onChange?.(trace);
      // The interval after COMMAND's exit has its last figures.
      if (trace.exited.has(held.pid) && kind === 'tick' && ++exitTicks >= 1) lastFigures();
    },
  });
  const failed = traced.then(
    () => new TracerError('the tracer stopped before COMMAND started'),
    (error: unknown) => (error instanceof TracerError ? error : new TracerError(error instanceof Error ? error.message : String(error))),
  );
  const first = await Promise.race([whenAttached.then(() => undefined), failed, held.exited.then(() => new TracerError(`${options.command[0]} ended before it was released`))]);
  if (first) {
    // Never released: closing the pipe ends the holding shell.
    held.kill('SIGKILL');
    tracer.abort();
    throw first;
  }
  if (options.beforeRelease) {
    let timer: NodeJS.Timeout | undefined;
    const bounded = new Promise<void>(resolve => {
      timer = setTimeout(resolve, options.beforeReleaseMs ?? 20_000);
    });
    const late = await Promise.race([options.beforeRelease().then(() => undefined, () => undefined), bounded.then(() => undefined), held.exited.then(() => undefined), failed]);
    clearTimeout(timer);
    if (late) {
      held.kill('SIGKILL');
      tracer.abort();
      throw late;
    }
  }
  const heldMs = Date.now() - heldAt;
  const releasedAt = process.hrtime.bigint();
  held.release();
  const waitedFor = held.exited.then(() => Number(process.hrtime.bigint() - releasedAt) / 1e6);
  const summary = (async () => {
    const exitStatus = await held.exited;
    const waitedMs = await waitedFor;
    // The exit is seen by the tracer at once; the figures come with the next interval (bounded wait: a lost event must not hang memtop).
    await Promise.race([figuresFinal, failed, new Promise(resolve => setTimeout(resolve, 5000 + options.intervalMs * 2))]);
    tracer.abort();
    const trace = await traced.catch(() => undefined);
    options.signal.removeEventListener('abort', stop);
    const ranMs = runTime(releasedAt, trace?.exitNs.get(held.pid), waitedMs);
    return buildSummary({
      command: options.command,
      exitStatus,
      processes: [...(trace?.processes.values() ?? [])],
      stacks: [...(trace?.stacks.values() ?? [])].flat(),
      allocators: trace?.allocators ?? [],
      untracked: trace?.untracked ?? 0,
      heldMs,
      ranMs,
    });
  })();
  return {held, summary};
}

/**
 * COMMAND's run from its release to its exit in ms: to its exit as the kernel saw it (the tracer's
 * `exitNs`, on process.hrtime's clock), not to when memtop got round to reaping it, which adds
 * memtop's own delay (tens of ms on a busy machine); `waitedMs` (release to reaping) where the
 * tracer did not see the exit or its clock does not agree (a time namespace).
 */
export function runTime(releasedAtNs: bigint, exitNs: bigint | undefined, waitedMs: number): number {
  if (exitNs === undefined) return waitedMs;
  const ranMs = Number(exitNs - releasedAtNs) / 1e6;
  return ranMs > 0 && ranMs <= waitedMs ? ranMs : waitedMs;
}
