// Writes a drill-down's stacks to a folded-stack file (the w key), never over another file.
import {closeSync, constants, openSync, writeSync} from 'node:fs';
import {join} from 'node:path';
import {foldedFileName} from '../model/folded.js';
import type {StackTarget, TabId, ViewId} from '../types.js';

/**
 * Write `text` (folded stacks, model/folded.ts) to a new file in `dir` and return its path. The name is
 * foldedFileName(); if it exists (two writes in one second) "-2", "-3", ... is added before
 * ".folded". Never overwrites or follows a symbolic link (O_EXCL). Throws Error with one line.
 */
export function writeFoldedFile(dir: string, target: number | StackTarget, tab: TabId, text: string, options: {now?: Date; view?: ViewId} = {}): string {
  const base = foldedFileName(tab, target, options.now ?? new Date(), options.view).replace(/\.folded$/, '');
  for (let attempt = 1; attempt <= 100; attempt++) {
    const path = join(dir, `${base}${attempt === 1 ? '' : `-${attempt}`}.folded`);
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new Error(`cannot write stacks to ${dir}: ${(error as Error).message.split('\n')[0]}`);
    }
    try {
      const buffer = Buffer.from(text, 'utf8');
      for (let offset = 0; offset < buffer.length; ) offset += writeSync(fd, buffer, offset);
    } catch (error) {
      throw new Error(`cannot write stacks to ${path}: ${(error as Error).message.split('\n')[0]}`);
    } finally {
      closeSync(fd);
    }
    return path;
  }
  throw new Error(`cannot write stacks to ${dir}: too many files named ${base}-N.folded`);
}
