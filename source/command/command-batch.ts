// memtop --batch -- COMMAND: COMMAND runs with memtop's terminal and streams (its stdout and
// stderr to --output FILE when given), and at its exit the heap summary is printed (text, or with
// --json one line {"summary": {...}}), and with --pprof FILE what was in use at exit written as a
// pprof profile; memtop's exit status is COMMAND's.
import type {Options} from '../flags.js';
import {summaryJson, summaryText} from '../model/command-summary.js';
import {TracerError} from '../types.js';
import {exitProfileProblem, writeExitProfile} from './exit-profile.js';
import {CommandError} from './held-command.js';
import {startCommand} from './run-command.js';

/** How many stacks not freed at exit the summary shows at least. */
const SUMMARY_STACKS = 10;

/** Where batch output goes. */
export interface CommandIo {
  write: (text: string) => void;
  say: (text: string) => void;
}

/**
 * Run COMMAND to its end and print the summary; resolves with the status memtop exits with:
 * COMMAND's, or 127/126 when it cannot start, 1 when the tracer cannot, 2 when --pprof's file
 * cannot be written (checked before COMMAND starts). `onSignal` receives the
 * handler that passes memtop's signals on to COMMAND while it runs.
 */
export async function runCommandBatch(options: Options, io: CommandIo, signal: AbortSignal, onSignal: (handler: ((signal: NodeJS.Signals) => boolean) | undefined) => void): Promise<number> {
  const problem = options.pprof === undefined ? undefined : exitProfileProblem(options.pprof);
  if (problem) {
    io.say(problem);
    return 2;
  }
  let run;
  try {
    run = await startCommand({command: options.command!, user: options.user, quiet: false, ...(options.output !== undefined ? {output: options.output} : {}), intervalMs: Math.min(options.intervalMs, 500), signal});
  } catch (error) {
    if (error instanceof CommandError) {
      io.say(error.message);
      return error.status;
    }
    if (error instanceof TracerError) {
      io.say(error.hint ? `${error.message}; ${error.hint}` : error.message);
      return 1;
    }
    throw error;
  }
  const {held} = run;
  // Ctrl-C on a terminal reaches COMMAND itself (one process group, as in a shell): memtop waits
  // for it to end. A signal sent to memtop alone is passed on.
  onSignal(received => {
    if (!(received === 'SIGINT' && process.stdin.isTTY)) held.kill(received);
    return true;
  });
  const summary = await run.summary;
  onSignal(undefined);
  const limit = Math.max(options.limit, SUMMARY_STACKS);
  io.write(options.json ? JSON.stringify(summaryJson(summary, limit)) + '\n' : summaryText(summary, {limit}).join('\n') + '\n');
  if (options.pprof !== undefined) {
    try {
      writeExitProfile(options.pprof, summary);
    } catch (error) {
      io.say((error as Error).message);
      return summary.exitStatus || 1;
    }
  }
  return summary.exitStatus;
}
