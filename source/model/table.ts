// Pure accumulation of tracer snapshots into a tab's table: per-interval values, rates, totals
// since memtop started, bounded memory for processes that have gone.
import type {RawRow, TracerSnapshot} from '../types.js';

/** One row as the views show it. */
export interface TableRow {
  /** "pid:<n>" or "cache:<name>". */
  key: string;
  pid?: number;
  comm?: string;
  cache?: string;
  /** Events in the last interval. */
  count: number;
  bytes?: number;
  /** Events per second over the last interval. */
  rate: number;
  /** Bytes per second over the last interval. */
  byteRate?: number;
  totalCount: number;
  totalBytes?: number;
  /** Interval number this row last had events in. */
  lastSeen: number;
  /** Rate per interval, oldest first, at most RATE_HISTORY long. */
  history: number[];
}

export type Grouping = 'process' | 'cache';

/** Everything one tab has gathered so far, for one grouping. */
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
  /** Machine-wide events per second, oldest first, at most RATE_HISTORY long. */
  totalRateHistory: number[];
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

/**
 * Apply one interval's rows. Rows not in this interval keep their totals and read 0 for the
 * interval. Returns a new state; the input is not changed.
 */
export function applyRows(
  state: TableState,
  rawRows: RawRow[],
  meta: Pick<TracerSnapshot, 'elapsedMs' | 'probe' | 'backend' | 'time' | 'capped' | 'skippedLines' | 'skippedSample'>,
  maxKept = MAX_KEPT_ROWS,
): TableState {
  const intervals = state.intervals + 1;
  const seconds = Math.max(meta.elapsedMs, 1) / 1000;
  const rows = new Map<string, TableRow>();
  const fresh = new Map<string, RawRow>();
  for (const raw of rawRows) {
    const key = rowKey(raw);
    const existing = fresh.get(key);
    if (existing) {
      existing.count += raw.count;
      if (raw.bytes !== undefined) existing.bytes = (existing.bytes ?? 0) + raw.bytes;
      if (raw.comm) existing.comm = raw.comm;
    } else {
      fresh.set(key, {...raw});
    }
  }
  let totalCount = 0;
  for (const [key, previous] of state.rows) {
    if (fresh.has(key)) continue;
    // Quiet for longer than its history: its rates are all zero already, the row can be shared.
    if (previous.count === 0 && intervals - previous.lastSeen > RATE_HISTORY) {
      rows.set(key, previous);
      continue;
    }
    rows.set(key, {...previous, count: 0, bytes: previous.bytes === undefined ? undefined : 0, rate: 0, byteRate: previous.byteRate === undefined ? undefined : 0, history: pushHistory(previous.history, 0)});
  }
  for (const [key, raw] of fresh) {
    const previous = state.rows.get(key);
    const rate = raw.count / seconds;
    totalCount += raw.count;
    const row: TableRow = {
      key,
      pid: raw.pid,
      comm: raw.comm ?? previous?.comm,
      cache: raw.cache,
      count: raw.count,
      rate,
      totalCount: (previous?.totalCount ?? 0) + raw.count,
      lastSeen: intervals,
      history: pushHistory(previous?.history ?? [], rate),
    };
    if (raw.bytes !== undefined) {
      row.bytes = raw.bytes;
      row.byteRate = raw.bytes / seconds;
      row.totalBytes = (previous?.totalBytes ?? 0) + raw.bytes;
    }
    rows.set(key, row);
  }
  if (rows.size > maxKept) {
    const idle = [...rows.values()].filter(row => row.lastSeen !== intervals).sort((a, b) => a.totalCount - b.totalCount);
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
    totalRateHistory: pushHistory(state.totalRateHistory, totalCount / seconds),
  };
}

/** Both groupings of one tab (the cache grouping only fills on the slab tab). */
export interface TabData {
  process: TableState;
  cache: TableState;
}

export function emptyTabData(): TabData {
  return {process: emptyTable(), cache: emptyTable()};
}

/** Apply one tracer snapshot to a tab's data. */
export function applySnapshot(data: TabData, snapshot: TracerSnapshot, maxKept = MAX_KEPT_ROWS): TabData {
  return {
    // A cache-only snapshot says nothing about processes: their table waits as it was.
    process: snapshot.grouping === 'cache' ? data.process : applyRows(data.process, snapshot.rows, snapshot, maxKept),
    cache: snapshot.cacheRows ? applyRows(data.cache, snapshot.cacheRows, snapshot, maxKept) : data.cache,
  };
}
