// Stacks in the folded format that flamegraph.pl, inferno and speedscope read: one line per
// stack, frames outermost first joined by ';', a space, then the count.
import {isTabId} from '../registry.js';
import {isCacheName, type StackRow, type StackTarget, type TabId, type TracerStackSnapshot, type ViewId} from '../types.js';
import {topStacks} from './stacks.js';

/** What a folded line counts: events (default) or, where the tab measures them, bytes. */
export type FoldedWeight = 'count' | 'bytes';

/** The frame written for an empty one (an unwinder that found no symbol). */
export const UNKNOWN_FRAME = '[unknown]';

// ';' separates frames; C0/C1 controls (newline, tab, escape), DEL, the Unicode line and
// paragraph separators and the bidirectional overrides would split a line or garble a terminal.
// eslint-disable-next-line no-control-regex -- finding control characters is what it is for
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
 * What a drill-down's folded stacks count: a live drill-down's weigh what is outstanding (bytes,
 * of allocations at least `minAge` seconds old), the others their events.
 */
export function foldedInput(snapshot: TracerStackSnapshot, minAge: number): {stacks: StackRow[]; weight: FoldedWeight} {
  return snapshot.live ? {stacks: topStacks(snapshot, Number.MAX_SAFE_INTEGER, minAge).stacks, weight: 'bytes'} : {stacks: snapshot.stacks, weight: 'count'};
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

/**
 * "memtop-<tab>-<pid>-<UTC yyyymmddThhmmssZ>.folded", for a view's own drill-down
 * "memtop-<tab>-<view>-<pid>-<time>.folded" (live stacks), or for a cache's drill-down
 * "memtop-<tab>-cache-<name>-<time>.folded": only letters, digits, '_', '-', '.' and 'T'/'Z'.
 */
export function foldedFileName(tab: TabId, target: number | StackTarget, time: Date, view?: ViewId): string {
  if (!isTabId(tab)) throw new Error(`unknown tab ${JSON.stringify(tab)}`);
  if (view !== undefined && !/^[a-z]+$/.test(view)) throw new Error(`not a view: ${JSON.stringify(String(view).slice(0, 64))}`);
  const {pid, cache} = typeof target === 'number' ? {pid: target, cache: undefined} : target;
  if (cache !== undefined && !isCacheName(cache)) throw new Error(`not a cache name: ${JSON.stringify(cache.slice(0, 64))}`);
  if (cache === undefined && (!Number.isSafeInteger(pid) || pid! < 0)) throw new Error(`not a PID: ${pid}`);
  const stamp = time.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
  return `memtop-${tab}-${view !== undefined ? `${view}-` : ''}${cache !== undefined ? `cache-${cache}` : pid}-${stamp}.folded`;
}
