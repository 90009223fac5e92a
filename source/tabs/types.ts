// What a tab is: its views, measures, units, and the scripts each tracer runs for it. Each tab's
// definition is a file beside this one; source/registry.ts gathers them in the tab bar's order.
import type {BpftraceRows, BpftraceStacks} from '../parse/bpftrace-specs.js';

/**
 * What a measure is counted in, and so how it is shown. A measure in ms is a time: every
 * tracer's script counts it in nanoseconds (what their clocks give), and the readers turn it
 * into milliseconds (see fromTracer). One in seconds is an age memtop works out itself (the
 * live view's oldest allocation).
 */
export type Unit = 'events' | 'bytes' | 'pages' | 'ms' | 'seconds';

/**
 * How a measure adds up over time: a counter is summed per interval and since memtop started;
 * a max is the largest value in an interval (and since start); a gauge is the value now (bytes
 * outstanding), not a sum over intervals: its since-start twin, when it has one, is its peak.
 */
export type MeasureKind = 'counter' | 'max' | 'gauge';

/** A sum of /proc/PID/status fields less others, floored at 0: `{plus: ['RssAnon', 'RssFile']}`. */
export interface StatusFormula {
  plus: string[];
  minus?: string[];
}

/** One number each row of a view carries per interval. */
export interface Measure {
  /** Its key in rows, batch JSON and recordings ("count", "bytes"); totals are total<Id>. */
  id: string;
  /** Column title of the interval's value. */
  title: string;
  /**
   * Column title of the value since memtop started (of a gauge: its peak since its view
   * opened). A gauge without one has no since-start column or JSON field.
   */
  totalTitle?: string;
  unit: Unit;
  kind: MeasureKind;
  /** How two rows of one key in one interval combine: summed (counters, gauges) or the larger kept (a max, an age). */
  combine?: 'sum' | 'max';
  /**
   * Prometheus metric (memtop_ prefix added): of a counter, the value since start (_total
   * suffix added); of a gauge, the value now. A time (unit ms) is exported in seconds,
   * Prometheus' base unit: name it _seconds.
   */
  metric?: {name: string; help: string};
  /** What it is, for the help screen, where its metric's help does not say it (or it has no metric). */
  help?: string;
  /**
   * Which rows may not have it, and why: the tracer cannot see it for them. Such a row shows ?,
   * its JSON null, never a number that looks exact and is not; its since-start value is unknown
   * too. SystemTap's and DTrace's scripts need not print it (their rows then lack it).
   */
  unknown?: string;
  /**
   * A gauge that /proc/PID/status states exactly (RSS now): memtop reads those fields for each
   * process row of each interval and puts their value in place of the tracer's, which stays only
   * where /proc cannot be read. A process gone has 0. A tracer need not give it (declare it
   * `unknown` then: a row /proc could not answer shows ?).
   */
  procStatus?: StatusFormula;
}

/** A measure's value as a tracer's script printed it, in the measure's unit: nanoseconds become ms. */
export function fromTracer(unit: Unit, value: number): number {
  return unit === 'ms' ? value / 1e6 : value;
}

/** Whether rows of a view are processes or slab caches. */
export type RowKind = 'process' | 'cache';

/** The ways a tab can group its rows, or what it shows of them (live: memory outstanding now). */
export type ViewId = 'process' | 'cache' | 'live';

/** A grouping of a tab's events into rows, with its measures. The first view of a tab is its default. */
export interface ViewDefinition {
  id: ViewId;
  rows: RowKind;
  /** What the status line says of it ("by process"). */
  label: string;
  /** Measures left to right; the first is the one ranked, rated and drawn as a trend by default. */
  measures: Measure[];
  /** Title of the first measure's change per second (default "/s"; of a gauge, its growth). */
  rateTitle?: string;
  /** A view with its own drill-down: its pprof sample types (see TabDefinition.profile). */
  profile?: ProfileTypes;
}

/**
 * The names of a drill-down's pprof sample types, its count's (unit count) and its bytes'
 * (unit bytes), as Go's heap profile names them so that -sample_index means what people expect.
 */
export interface ProfileTypes {
  count: string;
  bytes: string;
  /**
   * The allocator's own frames, as a regular expression of whole function names (pprof's
   * drop_frames): tools cut them off, so that a stack's leaf is the function that allocated, as
   * in Go's heap profiles.
   */
  drop?: string;
}

/** Whether a view shows gauges (the value now): a row its tracer no longer reports is gone, not idle. */
export function isGaugeView(view: ViewDefinition): boolean {
  return view.measures.every(measure => measure.kind === 'gauge');
}

/**
 * Something a probe needs from this machine. memtop checks it before choosing a script, and
 * --check names what is missing.
 */
export type Requirement =
  | {tracepoint: string}
  | {tracepointField: [tracepoint: string, field: string]}
  | {kprobe: string}
  | {libc: true};

/** The bpftrace release facts a script may depend on (see backends/bpftrace-version.ts). */
export type BpftraceQuirk = 'dataLocStringsBroken';

/** One script a tracer can run for a view, in order of preference among its alternatives. */
export interface ScriptChoice {
  /** File in probes/<tracer>/. */
  file: string;
  /** The probe as the status line names it. */
  label: string;
  requires?: Requirement[];
  /** bpftrace only: run this script only where the release has (true) or lacks (false) the quirk. */
  quirk?: {name: BpftraceQuirk; present: boolean};
  /** Takes libc's path after the interval and the pid. */
  libc?: boolean;
  /**
   * Its probes on $3 go on every allocator file memtop finds (see model/allocator-script.ts):
   * 'calls' also on Go's runtime.mallocgc, 'live' on allocators that have a free only.
   */
  allocators?: 'calls' | 'live';
  /** Takes, after libc's path, how many bytes of allocations one stack stands for (0: a stack for every allocation). */
  sample?: boolean;
  /** Keeps every outstanding allocation in a map: its maps are sized for that (MEMTOP_LIVE_KEYS_MAX), not by MEMTOP_MAP_KEYS_MAX. */
  addressTable?: boolean;
  /** The view's measures this script cannot give (a fallback on an older kernel): shown as not measured, never as 0. */
  lacks?: string[];
  /**
   * Takes the tracer's own pid as $3, after the interval and the pid alone (nothing else), and
   * leaves the tracer out: its own reading of its maps would be counted (the slab tab's kmallocs).
   * The tracer is started so that it appends its pid itself (tracer-process.ts, appendPid).
   */
  tracerPid?: boolean;
}


/**
 * A drill-down's bpftrace script and how to read it: `script` or, where it cannot run, the
 * first of `fallbacks` that can (read the same way).
 */
export interface BpftraceDrill {
  script: ScriptChoice;
  fallbacks?: ScriptChoice[];
  read: BpftraceStacks;
}

/** A tab's bpftrace scripts and how to read them. */
export interface BpftraceDefinition {
  /** Each view's scripts, rows, and its own drill-down where it is not the tab's. */
  views: Partial<Record<ViewId, {scripts: ScriptChoice[]; rows: BpftraceRows; stacks?: BpftraceDrill}>>;
  /** The drill-down into a process row: its user stacks. */
  stacks: BpftraceDrill;
  /**
   * The drill-down into a cache row: the kernel paths that allocate from it, filtered in the
   * kernel by the cache's name ($2) and kmalloc size class ($3).
   */
  cacheStacks?: {scripts: ScriptChoice[]; read: BpftraceStacks};
}

/**
 * A tab's SystemTap scripts: one per tab (it prints every view it has) and one drill-down. A
 * label's {libc} is the libc probed and {swap_read} the swap read function this kernel has.
 */
export interface StapDefinition {
  script: ScriptChoice;
  stacks: ScriptChoice;
  /** A view that has scripts of its own (a live view), and its drill-down. */
  views?: Partial<Record<ViewId, {script: ScriptChoice; stacks: ScriptChoice}>>;
  /** The drill-down into a cache row (cache name @2, size class $3). */
  cacheStacks?: ScriptChoice;
}

/** A tab's D scripts. */
export interface DtraceDefinition {
  script: ScriptChoice;
  stacks: ScriptChoice;
  /** A view that has scripts of its own (a live view), and its drill-down. */
  views?: Partial<Record<ViewId, {script: ScriptChoice; stacks: ScriptChoice}>>;
  /** The drill-down into a cache row (cache name $$2, size class $3). */
  cacheStacks?: ScriptChoice;
  /** The pid provider traces one process: the tab needs --pid. */
  needsPid?: boolean;
}

/** One tab. */
export interface TabDefinition {
  /** The tab's name in the tab bar, help and readme (its key in DEFINITIONS is its id: --tab, narrow tab bars). */
  title: string;
  /** The event, for readme's tab table (markdown). */
  event: string;
  /** Columns, for readme's tab table (markdown). */
  columns: string;
  views: ViewDefinition[];
  /** The key that cycles the views, when there is more than one. */
  viewKey?: {key: string; description: string};
  /** The drill-down's stacks carry bytes. */
  stackBytes: boolean;
  /** The drill-down's stacks carry the time their events took (ms). */
  stackTime?: boolean;
  /** The drill-down's pprof sample types (--pprof, /debug/pprof/): a tab without them writes no profile. */
  profile?: ProfileTypes;
  /**
   * The drill-down's histogram: request sizes with the allocator entry points (true, malloc),
   * or the events' lengths ('latency', in microseconds as tracers print them).
   */
  stackHistogram?: true | 'latency';
  bpftrace: BpftraceDefinition;
  stap: StapDefinition;
  dtrace: DtraceDefinition;
}
