// Pure shaping of a drill-down snapshot: top stacks with their share of the process's total; for
// a live drill-down, what is outstanding and at least a given age old; its histogram's unit.
import {clockTime, humanAge, humanBytes, humanCount, humanMicros} from '../format.js';
import {TABS} from '../registry.js';
import type {HistogramBucket, LiveAmount, StackRow, TabId, TracerStackSnapshot} from '../types.js';

/** One of the top stacks, with its share of the total. */
export interface TopStack extends StackRow {
  /** Percent of the process's events in this interval (live: of its outstanding bytes). */
  share: number;
  /** Live: the age of the oldest outstanding allocation from this stack, seconds. */
  age?: number;
}

/** What a live drill-down's view shows beyond its stacks. */
export interface LiveView {
  /** Only allocations at least this many seconds old are counted. */
  minAge: number;
  /** When tracking began (ISO 8601). */
  since: string;
  /** Stacks are estimates from one sample per about this many bytes. */
  sampleBytes?: number;
  untracked: number;
  /** The age of the oldest outstanding allocation counted, seconds. */
  oldest: number;
  /** How long the view had tracked when its stacks were read, seconds (no allocation it counts is older). */
  tracked: number;
}

/** A drill-down's top stacks as shown: each with its share, the totals they share, and for a live view its summary. */
export interface TopStacks {
  hasBytes: boolean;
  /** The stacks carry the time their events took (ms). */
  hasTime: boolean;
  /** The stacks say where their events were (mappings). */
  hasPlaces: boolean;
  totalCount: number;
  totalBytes: number;
  stacks: TopStack[];
  live?: LiveView;
  /** A cache's drill-down: what stays of the objects allocated since it began, in all its stacks. */
  stays?: StaysView;
}

/** What a cache's drill-down says of what stays: objects allocated since `since` and not freed. */
export interface StaysView {
  since: string;
  count: number;
  bytes: number;
  /** Objects its table was too full to keep (not counted). */
  untracked: number;
  /** The stacks are ranked by what stays, not by this interval's allocations. */
  ranked: boolean;
}

/** How a drill-down ranks its stacks: by this interval's events, or (a cache's) by what stays. */
export type StackRank = 'events' | 'stays';

/** A drill-down from a table sorted by what stays (NET, NET B, or their totals) ranks its stacks by what stays. */
export function stackRankFor(sortColumn: string): StackRank {
  return ['net', 'netBytes', 'totalNet', 'totalNetBytes'].includes(sortColumn) ? 'stays' : 'events';
}

/** The sum of the amounts at the kept indexes, and the `oldest` of the first kept class that has an allocation. */
function keptAmount(amounts: readonly LiveAmount[] | undefined, kept: readonly number[], oldest: readonly number[]): {count: number; bytes: number; age: number} {
  let count = 0;
  let bytes = 0;
  let age = 0;
  for (const at of kept) {
    const amount = amounts?.[at];
    if (!amount) continue;
    count += amount.count;
    bytes += amount.bytes;
    if (amount.count > 0 && age === 0) age = oldest[at]!;
  }
  return {count, bytes, age};
}

/** A live drill-down's top `limit` stacks by outstanding bytes, counting only allocations at least `minAge` seconds old. */
function liveTopStacks(snapshot: TracerStackSnapshot & {live: NonNullable<TracerStackSnapshot['live']>}, limit: number, minAge: number): TopStacks {
  const {live} = snapshot;
  // A class counts when every allocation in it is old enough: the threshold never lets a younger one in.
  const kept = live.classes.flatMap((ageClass, at) => (ageClass.newest >= minAge ? [at] : []));
  const oldest = live.classes.map(ageClass => ageClass.oldest);
  const totals = keptAmount(live.totals, kept, oldest);
  const amounts = snapshot.stacks.map(stack => ({stack, amount: keptAmount(stack.classes, kept, oldest)}));
  // The tracer reads the stacks a moment before the totals: shares are of whichever is more, so that they never pass 100%.
  const whole = Math.max(totals.bytes, amounts.reduce((sum, {amount}) => sum + amount.bytes, 0));
  const stacks = amounts
    .filter(({amount}) => amount.count > 0 || amount.bytes > 0)
    .sort((a, b) => b.amount.bytes - a.amount.bytes || b.amount.count - a.amount.count || a.stack.frames.join(';').localeCompare(b.stack.frames.join(';')))
    .slice(0, Math.max(0, limit))
    .map(({stack, amount}): TopStack => ({
      count: amount.count,
      bytes: amount.bytes,
      frames: stack.frames,
      age: amount.age,
      share: whole > 0 ? (amount.bytes / whole) * 100 : 0,
    }));
  return {
    hasBytes: true,
    hasTime: false,
    hasPlaces: false,
    totalCount: totals.count,
    totalBytes: totals.bytes,
    stacks,
    live: {
      minAge,
      since: live.since,
      untracked: live.untracked,
      oldest: totals.age,
      tracked: Math.max(0, (Date.parse(snapshot.time) - Date.parse(live.since)) / 1000) || 0,
      ...(live.sampleBytes !== undefined ? {sampleBytes: live.sampleBytes} : {}),
    },
  };
}

/**
 * The top `limit` stacks by count (ties by bytes, then frames), with shares. A live drill-down's
 * are by outstanding bytes, counting only allocations at least `minAge` seconds old. A cache's
 * ranked by what stays are by the objects still allocated (ties by their bytes, then count).
 */
export function topStacks(snapshot: TracerStackSnapshot, limit: number, minAge = 0, rank: StackRank = 'events'): TopStacks {
  if (snapshot.live) return liveTopStacks({...snapshot, live: snapshot.live}, limit, minAge);
  if (snapshot.stays) {
    const ranked = rank === 'stays';
    const view = eventTopStacks({...snapshot, stacks: ranked ? [...snapshot.stacks].sort((a, b) => (b.stays ?? 0) - (a.stays ?? 0) || (b.staysBytes ?? 0) - (a.staysBytes ?? 0) || b.count - a.count) : snapshot.stacks}, limit, ranked);
    const count = snapshot.stacks.reduce((sum, stack) => sum + (stack.stays ?? 0), 0);
    const bytes = snapshot.stacks.reduce((sum, stack) => sum + (stack.staysBytes ?? 0), 0);
    return {...view, stays: {since: snapshot.stays.since, count, bytes, untracked: snapshot.stays.untracked, ranked}};
  }
  return eventTopStacks(snapshot, limit, false);
}

/** Stacks by count (or, `keepOrder`, in the order given), cut to `limit`, with shares of the interval's events. */
function eventTopStacks(snapshot: TracerStackSnapshot, limit: number, keepOrder: boolean): TopStacks {
  const hasBytes = snapshot.stacks.some(stack => stack.bytes !== undefined);
  const hasTime = snapshot.stacks.some(stack => stack.ms !== undefined);
  const hasPlaces = snapshot.stacks.some(stack => stack.where !== undefined);
  const totalCount = snapshot.stacks.reduce((sum, stack) => sum + stack.count, 0);
  const totalBytes = snapshot.stacks.reduce((sum, stack) => sum + (stack.bytes ?? 0), 0);
  const stacks = (keepOrder ? [...snapshot.stacks] : [...snapshot.stacks].sort((a, b) => b.count - a.count || (b.bytes ?? 0) - (a.bytes ?? 0) || a.frames.join(';').localeCompare(b.frames.join(';'))))
    .slice(0, Math.max(0, limit))
    .map(stack => ({...stack, share: totalCount > 0 ? (stack.count / totalCount) * 100 : 0}));
  return {hasBytes, hasTime, hasPlaces, totalCount, totalBytes, stacks};
}

/** What a live drill-down counts, in one line: since when, the age threshold, the totals, and whether its stacks are sampled. */
export function liveSummary(data: TopStacks): string {
  const live = data.live;
  if (!live) return '';
  const parts = [`live since ${clockTime(live.since)}${live.minAge > 0 ? `, older than ${humanAge(live.minAge)}` : ''}: ${humanBytes(data.totalBytes)} in ${humanCount(data.totalCount)} allocations, oldest ${humanAge(live.oldest)}`];
  if (live.sampleBytes !== undefined) parts.push(`stacks SAMPLED, 1 per ${humanBytes(live.sampleBytes)}: estimates`);
  if (live.untracked > 0) parts.push(`CAPPED: ${humanCount(live.untracked)} not tracked`);
  return parts.join(' · ');
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

/** A drill-down histogram's unit: microseconds for a latency histogram (reclaim's stall lengths), else bytes (request sizes). */
export function histogramUnit(tab: TabId): 'us' | 'bytes' {
  return TABS[tab].stackHistogram === 'latency' ? 'us' : 'bytes';
}

/** A histogram bucket's range as shown: "[low, high)" in the histogram's unit. */
export function histogramRange(tab: TabId, bucket: HistogramBucket): string {
  const edge = histogramUnit(tab) === 'us' ? humanMicros : humanBytes;
  return `[${edge(bucket.min)}, ${edge(bucket.max + 1)})`;
}

/**
 * Why a view has no stacks to show: a live view whose age threshold is older than the view
 * itself cannot count anything yet, one past it has nothing that old outstanding.
 */
/** What a cache's drill-down says of what stays, in one line; `tui`: with the key that ranks by it. */
export function staysSummary(stays: StaysView, tui = false): string {
  const parts = [`stays: ${humanCount(stays.count)} objects, ${humanBytes(stays.bytes)}, allocated since ${clockTime(stays.since)} and not freed`];
  parts.push(stays.ranked ? 'paths ranked by what stays' : tui ? 'sort the table by NET to rank paths by what stays' : "paths ranked by this interval's allocations");
  if (stays.untracked > 0) parts.push(`CAPPED: ${humanCount(stays.untracked)} objects not kept`);
  return parts.join(' · ');
}

export function emptyStacksText(data: TopStacks): string {
  const live = data.live;
  if (!live) return 'no stacks in this interval';
  if (live.minAge <= 0) return 'no allocation outstanding from any stack';
  if (live.tracked < live.minAge) {
    return `nothing can be older than ${humanAge(live.minAge)} yet: the view began ${humanAge(live.tracked)} ago (o changes the age)`;
  }
  return `no allocation outstanding older than ${humanAge(live.minAge)} (o changes the age)`;
}
