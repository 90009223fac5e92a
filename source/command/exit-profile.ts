// memtop -- COMMAND's --pprof FILE, the same in batch mode and the TUI: FILE checked before
// COMMAND starts, and what was in use at exit written there once the summary is in.
import {summaryProfile} from '../model/command-profile.js';
import type {CommandSummary} from '../model/command-summary.js';
import {encodeProfile} from '../model/pprof.js';
import {checkProfileFile, writeProfileFile} from '../system/pprof-file.js';

/** Why FILE cannot take the profile, as one line with its fix; undefined when it can. */
export function exitProfileProblem(file: string): string | undefined {
  try {
    checkProfileFile(file);
    return undefined;
  } catch (error) {
    return `${(error as Error).message}: give --pprof a file in a directory memtop can write`;
  }
}

/** Write what was in use at COMMAND's exit to FILE as a gzipped pprof profile; throws why it could not. */
export function writeExitProfile(file: string, summary: CommandSummary): void {
  writeProfileFile(file, encodeProfile(summaryProfile(summary, Date.now())));
}
