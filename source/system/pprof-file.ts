// Writes a profile to the file --pprof names, whole or not at all: a reader (or a memtop ended
// mid-write) never sees half a profile.
import {accessSync, constants, renameSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {basename, dirname, join} from 'node:path';

/** Write `data` to `path` through a temporary file beside it, renamed over it. Throws Error with one line. */
export function writeProfileFile(path: string, data: Uint8Array): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, data, {mode: 0o644, flag: 'w'});
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, {force: true});
    throw new Error(`cannot write the profile to ${path}: ${(error as Error).message.split('\n')[0]}`);
  }
}

/**
 * Whether `path` can be written as writeProfileFile writes it (its directory exists and is
 * writable, and it is not a directory), before a long run whose profile would then be lost.
 * Throws Error with one line.
 */
export function checkProfileFile(path: string): void {
  try {
    accessSync(dirname(path), constants.W_OK);
  } catch (error) {
    throw new Error(`cannot write the profile to ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message.split('\n')[0]} on its directory`);
  }
  let directory = false;
  try {
    directory = statSync(path).isDirectory();
  } catch {
    // not there yet: it will be created
  }
  if (directory) throw new Error(`cannot write the profile to ${path}: it is a directory`);
}
