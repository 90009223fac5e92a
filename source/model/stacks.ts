// Pure shaping of a drill-down snapshot: top stacks with their share of the process's total.
import type {StackRow, TracerStackSnapshot} from '../types.js';

export interface StackViewRow extends StackRow {
  /** Percent of the process's events in this interval. */
  share: number;
}

export interface StackView {
  hasBytes: boolean;
  /** The stacks carry the time their events took (ms). */
  hasTime: boolean;
  /** The stacks say where their events were (mappings). */
  hasPlaces: boolean;
  totalCount: number;
  totalBytes: number;
  stacks: StackViewRow[];
}

/** The top `limit` stacks by count (ties by bytes, then frames), with shares. */
export function stackView(snapshot: TracerStackSnapshot, limit: number): StackView {
  const hasBytes = snapshot.stacks.some(stack => stack.bytes !== undefined);
  const hasTime = snapshot.stacks.some(stack => stack.ms !== undefined);
  const hasPlaces = snapshot.stacks.some(stack => stack.where !== undefined);
  const totalCount = snapshot.stacks.reduce((sum, stack) => sum + stack.count, 0);
  const totalBytes = snapshot.stacks.reduce((sum, stack) => sum + (stack.bytes ?? 0), 0);
  const stacks = [...snapshot.stacks]
    .sort((a, b) => b.count - a.count || (b.bytes ?? 0) - (a.bytes ?? 0) || a.frames.join(';').localeCompare(b.frames.join(';')))
    .slice(0, Math.max(0, limit))
    .map(stack => ({...stack, share: totalCount > 0 ? (stack.count / totalCount) * 100 : 0}));
  return {hasBytes, hasTime, hasPlaces, totalCount, totalBytes, stacks};
}

/**
 * How many innermost frames every one of these stacks shares (the allocator's own frames, such as
 * kmem_cache_alloc_noprof <- alloc_empty_file into filp), leaving each stack at least one frame
 * of its own: a view short of lines shows those once and each stack from where it differs.
 */
export function sharedInnermost(stacks: readonly {frames: readonly string[]}[]): number {
  if (stacks.length < 2) return 0;
  const shortest = Math.min(...stacks.map(stack => stack.frames.length));
  let shared = 0;
  while (shared < shortest - 1 && stacks.every(stack => stack.frames[shared] === stacks[0]!.frames[shared])) shared++;
  return shared;
}
