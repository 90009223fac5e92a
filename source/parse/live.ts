// The live view's output as every tracer's parser reads it, put together once: outstanding
// allocations by process or by stack and by age class, and when each class began, become rows
// (bytes, count, the oldest one's age) and a drill-down's age classes, exact totals and stacks.
// Pure.
import type {AgeClass, LiveAmount, RawRow, StackRow} from '../types.js';

/** When one age class began, in the unit of the `now` it is read against. */
export interface ClassStart {
  index: number;
  start: number;
}

/** Outstanding allocations of one process in one age class, as a script printed them. */
export interface ProcessClassAmount {
  pid: number;
  comm?: string;
  index: number;
  count: number;
  bytes: number;
}

/** Outstanding allocations from one stack (frames innermost first) in one age class. */
export interface StackClassAmount {
  frames: string[];
  index: number;
  count: number;
  bytes: number;
}

/**
 * The age classes oldest first, each with its index and its age bounds in seconds at `now`:
 * a class ends where the next begins, the last one now. `perSecond` is the unit of the starts
 * and of `now` (1e9 for nanoseconds, 1000 for milliseconds).
 */
export function ageClassesAt(starts: readonly ClassStart[], now: number, perSecond: number): {index: number; age: AgeClass}[] {
  const sorted = [...starts].sort((a, b) => a.index - b.index);
  const seconds = (time: number) => Math.max(0, (now - time) / perSecond);
  return sorted.map((entry, at) => ({index: entry.index, age: {oldest: seconds(entry.start), newest: at + 1 < sorted.length ? seconds(sorted[at + 1]!.start) : 0}}));
}

/**
 * Per process: the bytes and allocations outstanding, and the age of its oldest class that
 * still holds one. A sum can read below zero for an instant (an allocation and its free counted
 * on two CPUs, read between them): a row never shows less than nothing.
 */
export function liveRowsOf(amounts: readonly ProcessClassAmount[], classes: readonly {index: number; age: AgeClass}[]): RawRow[] {
  const oldestOf = new Map(classes.map(entry => [entry.index, entry.age.oldest]));
  const byPid = new Map<number, {comm?: string; bytes: number; count: number; age: number}>();
  for (const amount of amounts) {
    let row = byPid.get(amount.pid);
    if (!row) byPid.set(amount.pid, (row = {bytes: 0, count: 0, age: 0}));
    if (amount.comm) row.comm = amount.comm;
    row.bytes += amount.bytes;
    row.count += amount.count;
    if (amount.count > 0) row.age = Math.max(row.age, oldestOf.get(amount.index) ?? 0);
  }
  return [...byPid].map(([pid, row]) => ({pid, comm: row.comm ?? '', count: Math.max(0, row.count), bytes: Math.max(0, row.bytes), age: row.age}));
}

/** A live drill-down's interval: its age classes, the process's exact totals per class, and its stacks per class. */
export interface LiveStackRead {
  classes: AgeClass[];
  totals: LiveAmount[];
  stacks: StackRow[];
}

/**
 * The classes oldest first, the process's totals per class, and the stacks merged by frames with
 * what each has outstanding per class (whole numbers, never below zero); a stack with nothing
 * outstanding is left out.
 */
export function liveStacksOf(stacks: readonly StackClassAmount[], totals: readonly {index: number; count: number; bytes: number}[], classes: readonly {index: number; age: AgeClass}[]): LiveStackRead {
  const slot = new Map(classes.map((entry, at) => [entry.index, at]));
  const empty = (): LiveAmount[] => classes.map(() => ({count: 0, bytes: 0}));
  const add = (into: LiveAmount[], amount: {index: number; count: number; bytes: number}) => {
    const at = slot.get(amount.index);
    if (at === undefined) return;
    into[at]!.count += amount.count;
    into[at]!.bytes += amount.bytes;
  };
  const clamp = (amounts: LiveAmount[]) => amounts.map(amount => ({count: Math.max(0, Math.round(amount.count)), bytes: Math.max(0, Math.round(amount.bytes))}));
  const processTotals = empty();
  for (const amount of totals) add(processTotals, amount);
  const byFrames = new Map<string, {frames: string[]; classes: LiveAmount[]}>();
  for (const amount of stacks) {
    if (amount.frames.length === 0) continue;
    const id = amount.frames.join('\u0000');
    let row = byFrames.get(id);
    if (!row) byFrames.set(id, (row = {frames: amount.frames, classes: empty()}));
    add(row.classes, amount);
  }
  const rows: StackRow[] = [];
  for (const {frames, classes: amounts} of byFrames.values()) {
    const kept = clamp(amounts);
    const count = kept.reduce((sum, amount) => sum + amount.count, 0);
    const bytes = kept.reduce((sum, amount) => sum + amount.bytes, 0);
    if (count > 0 || bytes > 0) rows.push({count, bytes, frames, classes: kept});
  }
  return {classes: classes.map(entry => entry.age), totals: clamp(processTotals), stacks: rows};
}
