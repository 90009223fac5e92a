// Writes a profile to the file --pprof names, whole or not at all: a reader (or a memtop ended
// mid-write) never sees half a profile.
import {renameSync, rmSync, writeFileSync} from 'node:fs';
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
