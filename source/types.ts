// Shared data types: what every tracer backend yields and what the UI, batch mode and recorder consume.

/** The five memory events memtop shows, one tab each. */
export type TabId = 'malloc' | 'brk' | 'slab' | 'majfault' | 'anonpgin';

/** Every tab id, in the order of the tab bar (keys 1-5). */
export const TAB_IDS: readonly TabId[] = ['malloc', 'brk', 'slab', 'majfault', 'anonpgin'];

/** The tracers memtop can drive. */
export type BackendId = 'bpftrace' | 'stap' | 'dtrace';

/**
 * One aggregated row of one interval, as the tracer reported it.
 * Per-process rows have pid and comm; slab rows grouped by cache have cache instead.
 * `bytes` is present only on tabs that measure bytes (malloc, brk, slab).
 */
export interface RawRow {
  pid?: number;
  comm?: string;
  cache?: string;
  count: number;
  bytes?: number;
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
  /** Rows per process. */
  rows: RawRow[];
  /** Slab only: rows per cache name (kmalloc-N for kmalloc by size class). */
  cacheRows?: RawRow[];
  /**
   * Slab only: which grouping this snapshot measured, when the tracer measures one at a time
   * ('cache': `rows` is empty and says nothing about processes). Unset: both, or not slab.
   */
  grouping?: 'process' | 'cache';
  /** True when an in-kernel map hit its key limit during this interval. */
  capped?: boolean;
  /** Lines of tracer output that could not be understood so far (cumulative). */
  skippedLines?: number;
  /** The latest such line, cut short, to name what was skipped. */
  skippedSample?: string;
}

/** One distinct user stack and what it allocated. Frames are innermost first. */
export interface StackRow {
  count: number;
  bytes?: number;
  frames: string[];
}

/** One power-of-two bucket of the malloc request-size histogram. */
export interface HistogramBucket {
  min: number;
  max: number;
  count: number;
}

/** One interval of a drill-down into one process's stacks. */
export interface TracerStackSnapshot {
  tab: TabId;
  backend: BackendId;
  probe: string;
  pid: number;
  comm?: string;
  time: string;
  elapsedMs: number;
  stacks: StackRow[];
  /** malloc only: request sizes in power-of-two buckets. */
  histogram?: HistogramBucket[];
  /** malloc only: calls per allocator entry point (malloc, calloc, realloc, free, ...). */
  entryPoints?: { name: string; count: number }[];
  capped?: boolean;
  skippedLines?: number;
  skippedSample?: string;
}

/** Options every backend's `start` takes. Values reach probe scripts as positional parameters only. */
export interface StartOptions {
  tab: TabId;
  /** Restrict tracing to one process (0 or undefined: every process). */
  pid?: number;
  intervalMs: number;
  /** How many rows the tracer prints per interval (0: all). */
  limit: number;
  signal: AbortSignal;
  /** Slab: the grouping on screen (a tracer may measure only that one). Default 'process'. */
  grouping?: 'process' | 'cache';
}

export interface StackStartOptions {
  tab: TabId;
  pid: number;
  intervalMs: number;
  limit: number;
  signal: AbortSignal;
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
}
