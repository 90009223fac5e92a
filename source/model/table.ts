// Pure accumulation of tracer snapshots into a view's table: per-interval values of each of the
// view's measures, the first measure's rate and trend, totals since memtop started, and bounded
// memory for rows that have gone quiet. A gauge view (live memory) holds what is true now: its
// rate is the first gauge's change per second, its trend that gauge's value, its totals peaks,
// and a row its tracer no longer reports is gone.
import {isGaugeView, TABS, totalKey, viewOf, type Measure, type ViewDefinition, type ViewId} from '../registry.js';
import {measureOf, type AllocatorSummary, type RawRow, type TabId, type TracerSnapshot} from '../types.js';

/**
 * One row as the views show it: its identity, each measure's value this interval (`count`,
 * `bytes`, ...), each measure's value since start (`totalCount`, ...), and the first measure's
 * rate and its history.
 */
export interface TableRow {
  /** "pid:<n>" or "cache:<name>". */
  key: string;
  pid?: number;
  comm?: string;
  cache?: string;
  /** The first measure per second over the last interval (of a gauge: its change per second). */
  rate: number;
  /** Interval number this row last had events in. */
  lastSeen: number;
  /** `rate` per interval (of a gauge: its value), oldest first, at most RATE_HISTORY long. */
  history: number[];
  [measure: string]: number | string | number[] | undefined;
}

/**
 * Every TableRow applyRows makes, from one constructor. Rows made as object literals went
 * through V8's map updater for each literal every interval under node --no-opt (a malloc or
 * three each, and each malloc of memtop's is one more uprobe hit on the malloc tab). Its
 * prototype is Object.prototype's, so a row is a plain object as a literal would be.
 */
function Row(this: TableRow, key: string, pid: number | undefined, comm: string | undefined, cache: string | undefined, rate: number, lastSeen: number, history: number[]): void {
  this.key = key;
  this.pid = pid;
  this.comm = comm;
  this.cache = cache;
  this.rate = rate;
  this.lastSeen = lastSeen;
  this.history = history;
}
Row.prototype = Object.prototype;
const NewRow = Row as unknown as new (key: string, pid: number | undefined, comm: string | undefined, cache: string | undefined, rate: number, lastSeen: number, history: number[]) => TableRow;

/** A measure's (or total's) value in a table row: 0 when the row does not have it. */
export function valueOf(row: TableRow, key: string): number {
  const value = row[key];
  return typeof value === 'number' ? value : 0;
}

/** Everything one view has gathered so far. */
export interface TableState {
  rows: Map<string, TableRow>;
  /** Intervals applied so far. */
  intervals: number;
  elapsedMs: number;
  probe: string;
  backend: string;
  time: string;
  capped: boolean;
  skippedLines: number;
  /** The latest line the tracer printed that memtop could not read, if any. */
  skippedSample?: string;
  /** The first measure of every row together, per second (a gauge: its value), oldest first, at most RATE_HISTORY long. */
  totalRateHistory: number[];
  /** A live view: when its tracer began tracking (ISO 8601); a new tracer starts a new table. */
  since?: string;
  /** A live view: allocations its tracer could not track so far. */
  untracked?: number;
  /** A live view: the processes with an allocation not tracked (their figures are a floor, their growth unknown). */
  untrackedPids?: number[];
  /** The view's measures its tracer cannot give: shown as not measured. */
  unmeasured?: string[];
  /** Allocator probes: what the latest interval's tracers covered (files by kind, processes not probed). */
  allocators?: AllocatorSummary;
  /** Allocator probes, replayed: the shown rows' allocator kinds by pid, as recorded. */
  rowAllocators?: Record<string, string>;
}

/** How many rows of gone or idle processes are kept with their totals; the smallest go first. */
export const MAX_KEPT_ROWS = 2000;
export const RATE_HISTORY = 30;

export function emptyTable(): TableState {
  return {rows: new Map(), intervals: 0, elapsedMs: 0, probe: '', backend: '', time: '', capped: false, skippedLines: 0, totalRateHistory: []};
}

function rowKey(row: RawRow): string {
  return row.cache !== undefined ? `cache:${row.cache}` : `pid:${row.pid ?? 0}`;
}

function pushHistory(history: number[], value: number): number[] {
  const next = history.length >= RATE_HISTORY ? history.slice(history.length - RATE_HISTORY + 1) : history.slice();
  next.push(value);
  return next;
}

/** How two values of a measure in one interval combine: summed, or the larger kept. */
function combineOf(measure: Measure): 'sum' | 'max' {
  return measure.combine ?? (measure.kind === 'max' ? 'max' : 'sum');
}

/** A measure's since-start value after one more interval's `value`: a counter's sum, a max's or gauge's peak. */
function sinceStart(measure: Measure, before: number, value: number): number {
  return measure.kind === 'counter' ? before + value : Math.max(before, value);
}

/** Whether a measure has a since-start value (every counter and max; a gauge with a totalTitle). */
export function hasTotal(measure: Measure): boolean {
  return measure.totalTitle !== undefined;
}

/**
 * Whether a row lacks a measure that can be unknown (Measure.unknown): the tracer could not see
 * it. A row lacking any other measure reads 0 for it.
 */
export function isUnknown(row: RawRow | TableRow, measure: Measure, key = measure.id): boolean {
  return measure.unknown !== undefined && typeof row[key] !== 'number';
}

/** Two rows of one key in one interval (a tracer that printed a process twice) as one. */
function mergeRaw(into: RawRow, raw: RawRow, view: ViewDefinition): void {
  for (const measure of view.measures) {
    if (isUnknown(into, measure) || isUnknown(raw, measure)) {
      into[measure.id] = undefined;
      continue;
    }
    const value = measureOf(raw, measure.id);
    into[measure.id] = combineOf(measure) === 'max' ? Math.max(measureOf(into, measure.id), value) : measureOf(into, measure.id) + value;
  }
  if (raw.comm) into.comm = raw.comm;
}

/**
 * Apply one interval's rows of `view`. Rows not in this interval keep their totals and read 0
 * for the interval. Returns a new state; the input is not changed.
 */
export function applyRows(
  state: TableState,
  rawRows: RawRow[],
  meta: Pick<TracerSnapshot, 'elapsedMs' | 'probe' | 'backend' | 'time' | 'capped' | 'skippedLines' | 'skippedSample' | 'since' | 'untracked' | 'untrackedPids' | 'allocators' | 'rowAllocators' | 'unmeasured'>,
  view: ViewDefinition,
  maxKept = MAX_KEPT_ROWS,
): TableState {
  const intervals = state.intervals + 1;
  const seconds = Math.max(meta.elapsedMs, 1) / 1000;
  const [first] = view.measures;
  const gauges = isGaugeView(view);
  const rows = new Map<string, TableRow>();
  const fresh = new Map<string, RawRow>();
  const merged = new Set<RawRow>();
  for (const raw of rawRows) {
    const key = rowKey(raw);
    const existing = fresh.get(key);
    // The snapshot's own row unless its key comes twice, then a copy to merge into: the input is not changed.
    if (existing === undefined) fresh.set(key, raw);
    else if (merged.has(existing)) mergeRaw(existing, raw, view);
    else {
      const copy = {...existing};
      mergeRaw(copy, raw, view);
      merged.add(copy);
      fresh.set(key, copy);
    }
  }
  const quiet: Record<string, number> = {};
  for (const measure of view.measures) quiet[measure.id] = 0;
  // A row whose measure is unknown since start (a kmalloc size class's frees) is as unknown while quiet.
  const unknowable = view.measures.filter(measure => measure.unknown !== undefined && hasTotal(measure));
  for (const [key, previous] of state.rows) {
    if (fresh.has(key) || gauges) continue;
    // Quiet for longer than its history: its rates are all zero already, the row can be shared.
    if (previous.rate === 0 && intervals - previous.lastSeen > RATE_HISTORY) {
      rows.set(key, previous);
      continue;
    }
    const row: TableRow = {...previous, ...quiet, rate: 0, history: pushHistory(previous.history, 0)};
    for (const measure of unknowable) if (isUnknown(previous, measure, totalKey(measure.id))) row[measure.id] = undefined;
    rows.set(key, row);
  }
  let firstTotal = 0;
  for (const [key, raw] of fresh) {
    const previous = state.rows.get(key);
    const primary = first ? measureOf(raw, first.id) : 0;
    // A gauge's rate is how fast it grew (or shrank) since the last interval; its trend is its value.
    const rate = first?.kind === 'gauge' ? (primary - (previous ? valueOf(previous, first.id) : 0)) / seconds : primary / seconds;
    firstTotal += primary;
    const row: TableRow = new NewRow(key, raw.pid, raw.comm ?? previous?.comm, raw.cache, rate, intervals, pushHistory(previous?.history ?? [], first?.kind === 'gauge' ? primary : rate));
    for (const measure of view.measures) {
      if (isUnknown(raw, measure)) {
        // Unknown this interval: so is its value since start, from now on.
        row[measure.id] = undefined;
        if (hasTotal(measure)) row[totalKey(measure.id)] = undefined;
        continue;
      }
      const value = measureOf(raw, measure.id);
      row[measure.id] = value;
      if (!hasTotal(measure)) continue;
      const key = totalKey(measure.id);
      row[key] = previous && isUnknown(previous, measure, key) ? undefined : sinceStart(measure, previous ? valueOf(previous, key) : 0, value);
    }
    rows.set(key, row);
  }
  if (rows.size > maxKept && first) {
    const total = hasTotal(first) ? totalKey(first.id) : first.id;
    const idle = [...rows.values()].filter(row => row.lastSeen !== intervals).sort((a, b) => valueOf(a, total) - valueOf(b, total));
    for (const row of idle.slice(0, rows.size - maxKept)) rows.delete(row.key);
  }
  return {
    rows,
    intervals,
    elapsedMs: meta.elapsedMs,
    probe: meta.probe,
    backend: meta.backend,
    time: meta.time,
    capped: Boolean(meta.capped),
    skippedLines: meta.skippedLines ?? state.skippedLines,
    ...((meta.skippedSample ?? state.skippedSample) !== undefined ? {skippedSample: meta.skippedSample ?? state.skippedSample} : {}),
    totalRateHistory: pushHistory(state.totalRateHistory, first?.kind === 'gauge' ? firstTotal : firstTotal / seconds),
    ...(meta.since !== undefined ? {since: meta.since} : {}),
    ...(meta.untracked !== undefined ? {untracked: meta.untracked} : {}),
    ...(meta.untrackedPids ? {untrackedPids: meta.untrackedPids} : {}),
    ...(meta.unmeasured ? {unmeasured: meta.unmeasured} : {}),
    ...(meta.allocators ? {allocators: meta.allocators} : {}),
    ...(meta.rowAllocators || state.rowAllocators ? {rowAllocators: rowKinds(rows, state.rowAllocators, meta.rowAllocators)} : {}),
  };
}

/** A recording's allocator kinds of the rows kept: the latest interval's over those recorded before. */
function rowKinds(rows: ReadonlyMap<string, TableRow>, before: Record<string, string> = {}, now: Record<string, string> = {}): Record<string, string> {
  const kinds: Record<string, string> = {};
  for (const row of rows.values()) {
    if (row.pid === undefined) continue;
    const kind = now[String(row.pid)] ?? before[String(row.pid)];
    if (kind !== undefined) kinds[String(row.pid)] = kind;
  }
  return kinds;
}

/** Every view of one tab gathered so far (a view fills once its tracer has run). */
export type TabData = Partial<Record<ViewId, TableState>>;

export function emptyTabData(): TabData {
  return {};
}

/** A view's table in a tab's data, empty when that view has not run yet. */
export function viewTable(data: TabData | undefined, view: ViewId): TableState {
  return data?.[view] ?? emptyTable();
}

/** Apply one tracer snapshot to its tab's data: its view's rows and any other views it measured alongside. */
export function applySnapshot(data: TabData, snapshot: TracerSnapshot, maxKept = MAX_KEPT_ROWS): TabData {
  const tab: TabId = snapshot.tab;
  const main = viewOf(tab, snapshot.view);
  // A live view counts what was allocated since its tracer began: a tracer that began anew starts a new table.
  const previous = viewTable(data, main.id);
  const table = snapshot.since !== previous.since ? emptyTable() : previous;
  const next: TabData = {...data, [main.id]: applyRows(table, snapshot.rows, snapshot, main, maxKept)};
  for (const [id, rows] of Object.entries(snapshot.otherViews ?? {}) as [ViewId, RawRow[]][]) {
    if (!TABS[tab].views.some(view => view.id === id) || id === main.id) continue;
    next[id] = applyRows(viewTable(data, id), rows, snapshot, viewOf(tab, id), maxKept);
  }
  return next;
}
