// How a view's bpftrace output maps to rows and stacks: the maps each measure, drill-down and live
// view reads. The tabs (source/tabs/) declare them; parse/bpftrace-rows.ts, -live.ts and
// -stacks.ts read by them.

/** A measure read from bpftrace maps: the sum of `from` minus the sum of `minus`. */
export interface MapMeasure {
  /** Map name without @ and without the _a/_b of the double buffer; "map.count" or "map.total" read a stats() value. */
  from: string[];
  minus?: string[];
}

/**
 * A live view's maps, printed every interval and never cleared: signed sums of bytes and of
 * allocations outstanding keyed "pid,class", when each age class began (bpftrace nsecs, keyed
 * by class), and the allocations that could not be tracked.
 */
export interface LiveMaps {
  bytes: string;
  count: string;
  epochs: string;
  untracked: string;
  /** A map keyed by pid of the processes with an allocation not tracked (absent: the script has none). */
  untrackedPids?: string;
}

/** How one view's bpftrace output maps to rows. */
export interface BpftraceRows {
  /** Each measure's maps, keyed "pid", "pid,comm" or by cache name. */
  measures: Record<string, MapMeasure>;
  /**
   * A map keyed by kmalloc size class whose values are allocations: rows "kmalloc-<size>", bytes
   * = size x count; their other measures are not known (kfree names neither a cache nor a size).
   */
  sizeClasses?: string;
  /**
   * Measures that are another measure's objects times each row's object size, from a map keyed
   * by cache name that the script keeps (never cleared); a row whose size is not known yet, or
   * whose objects are not known, lacks it.
   */
  objectBytes?: Record<string, {objects: string; size: string}>;
  /** A map pid -> name of the processes that exited during the interval. */
  names?: string;
  /** A live view: rows of outstanding bytes, count and the oldest age (measures bytes, count, age) from these maps. */
  live?: LiveMaps;
}

/** The shape of a bpftrace stack map's key. */
export type StackKey =
  /** "<ustack>,<symbol at the stack pointer>": the caller the frame-pointer chain misses. */
  | 'stack,caller'
  /** "<ustack>,<symbol at the stack pointer>,<address / 2 MiB>": the same, by region of the faulting address. */
  | 'stack,caller,region'
  /** A kernel stack alone (a cache's drill-down): frames as the kernel's symbols name them. */
  | 'kstack'
  /** "<sbrk ustack>,<caller>,<allocator ustack>,<caller>": sbrk joined to the allocator call that grew the heap. */
  | 'sbrk,allocator';

/**
 * Stack maps of a drill-down: events from `count`, bytes from `bytes` (minus `minus`), time
 * from `ns` (a stats() total in nanoseconds) and, for a 'stack,caller,region' key, the latest
 * faulting address of each region from `where` (keyed by the region alone, or by the whole key).
 */
export interface BpftraceStackMap {
  key: StackKey;
  count: string;
  bytes?: string;
  minus?: string;
  ns?: string;
  where?: string;
}

/**
 * A live drill-down's maps besides the process's own (LiveMaps): outstanding bytes and
 * allocations per stack keyed "<ustack>,class", the allocations scaled by `countScale`
 * (estimates where stacks are sampled).
 */
export interface LiveStackMaps extends LiveMaps {
  stackBytes: string;
  stackCount: string;
  countScale: number;
}

export interface BpftraceStacks {
  maps: BpftraceStackMap[];
  /** A live drill-down: stacks of outstanding memory by age class, instead of `maps`. */
  live?: LiveStackMaps;
  /** The processes behind the stacks: a stats() map keyed by pid (count, total = bytes), and the names of those that exited. */
  processes?: {map: string; names: string};
  /** A hist() of request sizes (malloc) or of the events' lengths in microseconds (see TabDefinition.stackHistogram). */
  histogram?: string;
  /** Calls per allocator entry point, keyed by name. */
  entryPoints?: string;
  /**
   * A cache's drill-down: per kernel stack, the objects allocated since it began and not freed
   * (`count`, `bytes`: maps printed whole each interval), and a count of those it could not keep.
   */
  stays?: {count: string; bytes: string; untracked: string};
}
