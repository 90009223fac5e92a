// Shared data types: what every tracer backend yields and what the UI, batch mode and recorder consume.
import type {TabId, ViewId} from './registry.js';

export type {TabId, ViewId} from './registry.js';

/**
 * A live drill-down's default stack sample when sampling is asked for: one stack per about this
 * many bytes allocated (what Go's heap profiler takes by default).
 */
export const DEFAULT_SAMPLE_BYTES = 512 * 1024;

/** The tracers memtop can drive. */
export type BackendId = 'bpftrace' | 'stap' | 'dtrace';

/**
 * One aggregated row of one interval, as the tracer reported it. Per-process rows have pid and
 * comm; rows of a cache view have cache instead. Every other field is one of the view's measures
 * (registry.ts): `count` on every view so far, `bytes` where the view measures bytes.
 */
export interface RawRow {
  pid?: number;
  comm?: string;
  cache?: string;
  count: number;
  bytes?: number;
  [measure: string]: number | string | undefined;
}

/** A measure's value in a row: 0 when the row does not have it. */
export function measureOf(row: RawRow, measure: string): number {
  const value = row[measure];
  return typeof value === 'number' ? value : 0;
}

/**
 * One interval's worth of in-kernel aggregation from a tracer: the whole interval map
 * (or its top entries when the tracer was asked for a limit), not yet sorted or totalled.
 */
export interface TracerSnapshot {
  tab: TabId;
  backend: BackendId;
  /** Human label of the probe actually attached, e.g. "tracepoint:kmem:kmem_cache_alloc". */
  probe: string;
  /** Wall-clock end of the interval, ISO 8601. */
  time: string;
  /** Measured length of the interval in milliseconds (the first one may be short). */
  elapsedMs: number;
  /** Which of the tab's views `rows` are (registry.ts); the tab's first view when unset. */
  view?: ViewId;
  /** The view's measures the running script cannot give (ScriptChoice.lacks): not measured, not 0. */
  unmeasured?: string[];
  /** The view's rows. */
  rows: RawRow[];
  /** Rows of other views the same tracer measured alongside (SystemTap's slab script prints both). */
  otherViews?: Partial<Record<ViewId, RawRow[]>>;
  /** True when an in-kernel map hit its key limit during this interval. */
  capped?: boolean;
  /** Lines of tracer output that could not be understood so far (cumulative). */
  skippedLines?: number;
  /** The latest such line, cut short, to name what was skipped. */
  skippedSample?: string;
  /**
   * The rows' processes the tracer saw exit in the interval (it named them): /proc has nothing of
   * theirs left to read, or another process's under a reused pid.
   */
  exited?: number[];
  /** A live view: when its tracer began tracking allocations (ISO 8601); rows count those made since. */
  since?: string;
  /** A live view: allocations its tracer could not track so far (its table was full, a realloc failed). */
  untracked?: number;
  /** A live view: the processes with an allocation not tracked, whose figures are a floor and whose growth is unknown. */
  untrackedPids?: number[];
  /** A live view past a sixteenth of its address table: 1 in this many addresses is tracked now (absent: every one). */
  sampled?: number;
  /** A live view: by pid, 1 in how many addresses the coarsest of the process's tracked allocations stands for; its figures are estimates. */
  sampledPids?: Record<string, number>;
  /** Allocator probes: the files traced, by kind, and the processes whose allocator memtop cannot probe. */
  allocators?: AllocatorSummary;
  /** Allocator probes, in a recording: each row's allocator kind by pid, as /proc said while it ran (a replay cannot ask). */
  rowAllocators?: Record<string, string>;
}

/** What allocator probes cover: how many distinct files, of which kinds, and what they miss. */
export interface AllocatorSummary {
  /** Distinct allocator files traced (by device and inode). */
  files: number;
  /** Of those, how many of each kind ("glibc", "jemalloc", "go"...). */
  kinds: Partial<Record<string, number>>;
  /**
   * Of those, files found after memtop began whose tracer has not given its first interval yet:
   * calls into them are not counted until it has (absent when none).
   */
  attaching?: number;
  /** Processes whose allocator memtop cannot probe (a stripped static binary, an allocator it does not know). */
  unprobed: number;
  /** Some of their names. */
  unprobedNames?: string[];
  /** The entry points (malloc, free) whose probe single-steps in one of the files: each call pays a second trap. */
  singleSteps?: string[];
  /** In the live view: what it costs each traced allocation with its free (model/live-cost.ts). */
  liveCost?: LiveCost;
}

/** The live view's cost per allocation with its free: its traps, and bench 5's figure where it measured the same. */
export interface LiveCost {
  /** Traps an allocation with its free takes (the allocating call's uprobe and uretprobe, free's uprobe). */
  traps: number;
  /** How many of those single-step (a second trap each). */
  stepped: number;
  /** The bpftrace release ("0.17"). */
  bpftrace: string;
  /** ns of CPU per allocation with its free, the lowest and highest sitting of bench 5; absent where it has not measured this. */
  ns?: {low: number; high: number};
  /** The glibc bench 5 measured on. */
  glibc?: string;
}

/** Outstanding allocations: how many, and their bytes. */
export interface LiveAmount {
  count: number;
  bytes: number;
}

/**
 * One age class of a live drill-down, in seconds before the interval's end: its allocations
 * are at most `oldest` and at least `newest` old (the current class: `newest` 0).
 */
export interface AgeClass {
  oldest: number;
  newest: number;
}

/** One distinct user stack and what it allocated. Frames are innermost first. */
export interface StackRow {
  count: number;
  bytes?: number;
  /** The time its events took (reclaim: the stalls'), ms. */
  ms?: number;
  /** Where its events were (minor faults: the mapping of the faulting address), most first. */
  where?: StackPlace[];
  frames: string[];
  /** A live drill-down: what is outstanding from this stack per age class (the snapshot's live.classes). */
  classes?: LiveAmount[];
  /** A cache's drill-down: objects allocated here since it began and not freed yet (the snapshot's stays), and their bytes. */
  stays?: number;
  staysBytes?: number;
}

/** What a live drill-down knows beyond its stacks. */
export interface LiveStacks {
  /** When its tracer began tracking allocations (ISO 8601). */
  since: string;
  /** Its age classes, oldest first. */
  classes: AgeClass[];
  /** The process's outstanding allocations per class, exact (the stacks' are estimates when sampled). */
  totals: LiveAmount[];
  /** Stacks were taken for about one allocation per this many bytes (and are estimates); absent: for every allocation. */
  sampleBytes?: number;
  /** Allocations that could not be tracked so far. */
  untracked: number;
  /** The process's allocations were tracked for 1 address in this many at the coarsest: its totals and stacks are estimates (absent: every address). */
  sampled?: number;
}

/** A mapping of a process ("[heap]", "[stack]", "anon", "jit", a file's name) and how many of a stack's events were in it (and their bytes, where the stacks have bytes). */
export interface StackPlace {
  mapping: string;
  count: number;
  bytes?: number;
}

/** One power-of-two bucket of a drill-down's histogram: malloc's request sizes (bytes), reclaim's stall lengths (µs). */
export interface HistogramBucket {
  min: number;
  max: number;
  count: number;
}

/** A process behind a cache's allocations, in that cache's drill-down. */
export interface ProcessShare {
  pid: number;
  comm: string;
  count: number;
  bytes?: number;
}

/** One reason a view's frames are unnamed or incomplete, with what to do about it. */
export interface FrameNote {
  /**
   * no-symbols: frames in a file without a symbol table; unresolved: frames in a file that has
   * symbols, which the tracer still could not name; jit: frames in anonymous executable memory,
   * no perf map; perf-map: JIT frames named from the process's perf map; short-stacks: most
   * stacks end before main or a thread's start (no frame pointers); python: CPython serves small
   * objects from its own pools.
   */
  reason: 'no-symbols' | 'unresolved' | 'jit' | 'perf-map' | 'short-stacks' | 'python';
  /** The file the frames are in (no-symbols, unresolved), or the perf map (perf-map), as the process names it. */
  file?: string;
  /** How many distinct unnamed frames (addresses) it is about (no-symbols, unresolved, jit). */
  frames?: number;
  /** The frame most stacks end at (short-stacks). */
  frame?: string;
  /** One line: what it means and what to do, safe to print. */
  text: string;
}

/**
 * What a drill-down looks into: a process row's user stacks (pid), or a cache row's kernel
 * paths (cache: the row's name, e.g. "filp" or "kmalloc-64").
 */
export type StackTarget = {pid: number; cache?: undefined} | {cache: string; pid?: undefined};

/** One interval of a drill-down into one process's stacks, or one cache's. */
export type TracerStackSnapshot = StackTarget & {
  tab: TabId;
  backend: BackendId;
  probe: string;
  comm?: string;
  time: string;
  elapsedMs: number;
  stacks: StackRow[];
  /** malloc only: request sizes in power-of-two buckets. */
  histogram?: HistogramBucket[];
  /** Allocator probes: the process's allocator kind ("glibc", "jemalloc", "go"...). */
  allocator?: string;
  /** malloc only: calls per allocator entry point (malloc, calloc, realloc, free, ...). */
  entryPoints?: { name: string; count: number }[];
  /** A cache's drill-down: the processes allocating from it, most first. */
  processes?: ProcessShare[];
  /** Its stacks are kernel stacks (a cache's drill-down). */
  kernel?: boolean;
  /**
   * A cache's drill-down: what stays is counted, per stack, of the objects allocated since
   * `since` (ISO 8601); `untracked` objects the table was too full to keep are not in it.
   */
  stays?: {since: string; untracked: number};
  /** The view whose drill-down this is, when not the tab's (live: stacks of outstanding memory). */
  view?: ViewId;
  /** A live drill-down: its age classes and the process's exact totals; each stack has its classes. */
  live?: LiveStacks;
  capped?: boolean;
  skippedLines?: number;
  skippedSample?: string;
  /** Why some of its frames are unnamed, or what names them (model/frame-notes.ts). */
  frameNotes?: FrameNote[];
};

/**
 * Options every backend's `start` takes. Values reach probe scripts as positional parameters only.
 * Tracers print every row: memtop sorts and cuts to the top N itself, so that totals, filters and
 * every sort column stay exact.
 */
export interface StartOptions {
  tab: TabId;
  /** Restrict tracing to one process (0 or undefined: every process). */
  pid?: number;
  intervalMs: number;
  signal: AbortSignal;
  /** The view on screen (a tracer may measure only that one). Default: the tab's first view. */
  view?: ViewId;
}

/** One view of one tab. */
export interface ViewRef {
  tab: TabId;
  view: ViewId;
}

/** What starts one tracer for a group of views (Backend.startGroup). */
export interface GroupStartOptions {
  views: ViewRef[];
  /** Restrict tracing to one process (0 or undefined: every process). */
  pid?: number;
  intervalMs: number;
  signal: AbortSignal;
}

export type StackStartOptions = StackTarget & {
  tab: TabId;
  intervalMs: number;
  signal: AbortSignal;
  /** The view drilled from, when it has a drill-down of its own (registry.ts drillView). */
  view?: ViewId;
  /** A live drill-down: take a stack for about one allocation per this many bytes (0 or absent: every allocation). */
  sampleBytes?: number;
};

/** How a stack target reads in messages: "PID 4242" or "cache filp". */
export function targetName(target: StackTarget): string {
  return target.cache !== undefined ? `cache ${target.cache}` : `PID ${target.pid}`;
}

/**
 * Whether a string can be a slab cache's name as memtop passes it to a script and puts it in a
 * file name: what the kernel's caches are called ("filp", "kmalloc-64", "TCPv6", "ext4_inode_cache"), nothing else.
 */
export function isCacheName(name: string): boolean {
  return /^[\w.:-]{1,64}$/.test(name);
}

/** The kmalloc size class a cache row stands for ("kmalloc-64" -> 64), or 0. */
export function sizeClassOf(cache: string): number {
  const match = /^kmalloc-(\d{1,7})$/.exec(cache);
  return match ? Number(match[1]) : 0;
}

/** Result of checking whether a backend can run on this machine. */
export interface Availability {
  ok: boolean;
  version?: string;
  /** One line: why not, and what to do. */
  reason?: string;
}

/** A tracer error carrying the tracer's own reason and a hint to fix it. */
export class TracerError extends Error {
  /** The source has no more to give (a replayed recording's end): following it stops without a word. */
  readonly ended: boolean = false;

  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'TracerError';
  }
}

/**
 * The one interface every tracer implements (source/backends/<tracer>.ts).
 * `start` and `startStacks` spawn the tracer, yield one snapshot per interval, and stop the
 * tracer when `signal` aborts or the consumer stops iterating. They throw TracerError when
 * the tracer fails to start or dies.
 */
export interface Backend {
  readonly id: BackendId;
  available(): Promise<Availability>;
  /** Label of the probe `start` would attach for this tab on this machine. */
  probeFor(tab: TabId): Promise<string>;
  start(options: StartOptions): AsyncIterable<TracerSnapshot>;
  startStacks(options: StackStartOptions): AsyncIterable<TracerStackSnapshot>;
  /**
   * The groups of `views` that can each run in one tracer here (a view in none runs alone);
   * absent where the tracer runs every view alone.
   */
  groupViews?(views: readonly ViewRef[]): Promise<ViewRef[][]>;
  /** One tracer for a group from groupViews: each interval, one snapshot per view, in the group's order. */
  startGroup?(options: GroupStartOptions): AsyncIterable<TracerSnapshot[]>;
}
