// Stacks in the folded format that flamegraph.pl, inferno and speedscope read: one line per
// stack, frames outermost first joined by ';', a space, then the count.
import {constants, openSync, writeSync, closeSync} from 'node:fs';
import {join} from 'node:path';
import {TAB_IDS, type StackRow, type TabId} from '../types.js';

/** What a folded line counts: events (default) or, where the tab measures them, bytes. */
export type FoldedWeight = 'count' | 'bytes';

/** The frame written for an empty one (an unwinder that found no symbol). */
export const UNKNOWN_FRAME = '[unknown]';

// ';' separates frames; C0/C1 controls (newline, tab, escape), DEL, the Unicode line and
// paragraph separators and the bidirectional overrides would split a line or garble a terminal.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[;\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * A frame made safe for the folded format: every ';', control character, line separator or
 * bidi override becomes '_'; an empty frame becomes "[unknown]". Spaces are kept: readers take
 * the count after the last space.
 */
export function foldFrame(frame: string): string {
  return frame === '' ? UNKNOWN_FRAME : frame.replace(UNSAFE, '_');
}

/**
 * The stacks in the folded format, one line each ("main;outer;leaf;malloc 42"), frames turned
 * outermost first (StackRow keeps them innermost first), sorted by stack for stable output.
 * Stacks that fold to the same line are summed; stacks weighing 0 or less (or, by bytes, a
 * shrinking brk stack) are left out, as flame graphs cannot draw them. Ends with a newline
 * unless empty.
 */
export function foldedStacks(stacks: StackRow[], weight: FoldedWeight = 'count'): string {
  const totals = new Map<string, number>();
  for (const stack of stacks) {
    const value = weight === 'bytes' ? stack.bytes ?? 0 : stack.count;
    if (!Number.isFinite(value) || value <= 0) continue;
    const frames = stack.frames.length > 0 ? [...stack.frames].reverse().map(foldFrame) : [UNKNOWN_FRAME];
    const line = frames.join(';');
    totals.set(line, (totals.get(line) ?? 0) + Math.round(value));
  }
  const lines = [...totals].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([line, value]) => `${line} ${value}`);
  return lines.length > 0 ? lines.join('\n') + '\n' : '';
}

/** One parsed folded line: frames outermost first, and the count. */
export interface FoldedLine {
  frames: string[];
  count: number;
}

/** Parse folded text back (the count after the last space of each non-empty line). Throws on a malformed line. */
export function parseFolded(text: string): FoldedLine[] {
  const parsed: FoldedLine[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const match = /^(.*) (\d+(?:\.\d+)?)$/.exec(line);
    if (!match || match[1] === '') throw new Error(`folded line ${index + 1} has no "frames count" shape: ${JSON.stringify(line.slice(0, 80))}`);
    parsed.push({frames: match[1]!.split(';'), count: Number(match[2])});
  });
  return parsed;
}

/** Stacks of several intervals added up, for a flame graph of a whole drill-down. Pure. */
export function addStacks(total: StackRow[], more: StackRow[]): StackRow[] {
  const byFrames = new Map<string, StackRow>();
  for (const stack of [...total, ...more]) {
    const key = stack.frames.join('\u0000');
    const previous = byFrames.get(key);
    if (!previous) {
      byFrames.set(key, {...stack, frames: [...stack.frames]});
      continue;
    }
    previous.count += stack.count;
    if (stack.bytes !== undefined || previous.bytes !== undefined) previous.bytes = (previous.bytes ?? 0) + (stack.bytes ?? 0);
  }
  return [...byFrames.values()];
}

/** "memtop-<tab>-<pid>-<UTC yyyymmddThhmmssZ>.folded": only letters, digits, '-', '.' and 'T'/'Z'. */
export function foldedFileName(tab: TabId, pid: number, time: Date): string {
  if (!(TAB_IDS as readonly string[]).includes(tab)) throw new Error(`unknown tab ${JSON.stringify(tab)}`);
  if (!Number.isSafeInteger(pid) || pid < 0) throw new Error(`not a PID: ${pid}`);
  const stamp = time.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
  return `memtop-${tab}-${pid}-${stamp}.folded`;
}

/**
 * Write the stacks in folded format to a new file in `dir` and return its path. The name is
 * foldedFileName(); if it exists (two writes in one second) "-2", "-3", ... is added before
 * ".folded". Never overwrites or follows a symbolic link (O_EXCL). Throws Error with one line.
 */
export function writeFoldedFile(dir: string, pid: number, tab: TabId, stacks: StackRow[], options: {now?: Date; weight?: FoldedWeight} = {}): string {
  const text = foldedStacks(stacks, options.weight);
  const base = foldedFileName(tab, pid, options.now ?? new Date()).replace(/\.folded$/, '');
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
