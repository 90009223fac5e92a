// Columns as data (title, width, alignment, default direction, value, formatter), made from a
// view's measures in the registry, and the pure sort, filter and top-N selection the table view,
// batch mode and the exporter share.
import {totalKey, viewOf, type Measure, type Unit, type ViewId} from '../registry.js';
import {humanAge, humanBytes, humanBytesRate, humanCount, humanMs, humanRate, sanitize} from '../format.js';
import type {TabId} from '../types.js';
import {hasTotal, valueOf, type TableRow} from './table.js';
import {sparkline} from './sparkline.js';
import {labelOfPath, matchesCgroup} from './cgroup.js';

/** A column's id: pid, comm, cache, a measure id, total<Measure>, rate, trend or cgroup. */
export type ColumnId = string;

/** What the optional columns need: a process's cgroup path, and whether to draw in ASCII. */
export interface ColumnExtras {
  /** With it, a CGROUP column (container id or the cgroup path's tail). */
  cgroupOf?: (pid: number) => string | undefined;
  /** With it, a TREND column: a sparkline of the row's rate over the last intervals. */
  trend?: {ascii: boolean};
}

export interface Column {
  id: ColumnId;
  title: string;
  width: number;
  align: 'left' | 'right';
  /** Whether a first sort on this column puts the largest first. */
  defaultDescending: boolean;
  value: (row: TableRow) => number | string;
  format: (row: TableRow) => string;
}

/** A value in a measure's unit, as the table shows it. */
export function formatValue(value: number, unit: Unit): string {
  if (unit === 'bytes') return humanBytes(value);
  if (unit === 'ms') return humanMs(value);
  if (unit === 'seconds') return humanAge(value);
  return humanCount(value);
}

/** The first measure's rate as the table shows it: a gauge of bytes grows or shrinks by bytes a second. */
function formatRate(first: Measure | undefined, rate: number): string {
  return first?.kind === 'gauge' && first.unit === 'bytes' ? humanBytesRate(rate) : humanRate(rate);
}

function measureColumn(measure: Measure, key: string, title: string, width: number): Column {
  return {id: key, title, width, align: 'right', defaultDescending: true, value: row => valueOf(row, key), format: row => formatValue(valueOf(row, key), measure.unit)};
}

/** The columns of a tab's view, left to right. */
export function columnsFor(tab: TabId, view: ViewId, extras: ColumnExtras = {}): Column[] {
  const definition = viewOf(tab, view);
  const columns: Column[] = [];
  if (definition.rows === 'cache') {
    columns.push({id: 'cache', title: 'CACHE', width: 24, align: 'left', defaultDescending: false, value: row => row.cache ?? '', format: row => sanitize(row.cache ?? '')});
  } else {
    columns.push(
      {id: 'pid', title: 'PID', width: 8, align: 'right', defaultDescending: false, value: row => row.pid ?? 0, format: row => String(row.pid ?? '')},
      {id: 'comm', title: 'COMM', width: 16, align: 'left', defaultDescending: false, value: row => row.comm ?? '', format: row => sanitize(row.comm ?? '')},
    );
  }
  for (const measure of definition.measures) columns.push(measureColumn(measure, measure.id, measure.title, 9));
  const first = definition.measures[0];
  columns.push({id: 'rate', title: definition.rateTitle ?? '/s', width: 9, align: 'right', defaultDescending: true, value: row => row.rate, format: row => formatRate(first, row.rate)});
  if (extras.trend) {
    const {ascii} = extras.trend;
    columns.push({
      id: 'trend',
      title: 'TREND',
      width: 12,
      align: 'left',
      defaultDescending: true,
      // Sorting by trend ranks rows by how much they grew: the last interval against the series mean.
      value: row => (row.history.length === 0 ? 0 : row.history.at(-1)! - row.history.reduce((sum, value) => sum + value, 0) / row.history.length),
      format: row => sparkline(row.history, 12, ascii),
    });
  }
  for (const measure of definition.measures) {
    if (hasTotal(measure)) columns.push(measureColumn(measure, totalKey(measure.id), measure.totalTitle!, measure.unit === 'bytes' ? 10 : 9));
  }
  if (extras.cgroupOf && definition.rows === 'process') {
    const cgroupOf = extras.cgroupOf;
    const label = (row: TableRow) => {
      const path = row.pid === undefined ? undefined : cgroupOf(row.pid);
      return path === undefined ? '' : labelOfPath(path);
    };
    columns.push({id: 'cgroup', title: 'CGROUP', width: 24, align: 'left', defaultDescending: false, value: label, format: row => sanitize(label(row))});
  }
  return columns;
}

/** The column a view ranks by when nothing else is asked: its first measure. */
export function defaultSortColumn(tab: TabId, view: ViewId): ColumnId {
  return viewOf(tab, view).measures[0]?.id ?? 'pid';
}

/**
 * In cumulative mode the per-interval columns sort by their since-start twins: a measure by its
 * total (a gauge by its peak; one without a peak by itself), the rate by the first measure's.
 */
export function effectiveSortColumn(id: ColumnId, cumulative: boolean, tab: TabId, view: ViewId): ColumnId {
  if (!cumulative) return id;
  const measures = viewOf(tab, view).measures;
  const twin = (measure: Measure | undefined) => (measure && hasTotal(measure) ? totalKey(measure.id) : undefined);
  if (id === 'rate') return twin(measures[0]) ?? id;
  return twin(measures.find(measure => measure.id === id)) ?? id;
}

export interface ViewQuery {
  tab: TabId;
  view: ViewId;
  sortColumn: ColumnId;
  descending: boolean;
  cumulative: boolean;
  /** Case-insensitive substring of the process (or cache) name. */
  filter: string;
  limit: number;
  /** Case-insensitive substring of the cgroup path or container id, with the lookup to use. */
  cgroup?: {pattern: string; cgroupOf: (pid: number) => string | undefined};
  /**
   * A process's name, for rows the tracer left unnamed (bpftrace keys rows by pid and names only
   * the processes that exited): asked for the rows returned, or for every row when the filter or
   * the sort reads names. Without it, rows keep the names they came with.
   */
  nameOf?: (pid: number) => string | undefined;
}

/** `row` with its process's name when the tracer gave none ('?' when the process has gone). */
function named(row: TableRow, nameOf: ((pid: number) => string | undefined) | undefined): TableRow {
  if (!nameOf || row.comm || row.cache !== undefined || row.pid === undefined || row.pid <= 0) return row;
  return {...row, comm: nameOf(row.pid) ?? '?'};
}

/**
 * The rows a view shows: filtered, sorted (ties by pid, then name, so the order is stable),
 * and cut to the limit. In per-interval mode rows with nothing this interval are left out,
 * as `foreach (i in s- limit 10)` over an interval map would. Unnamed rows are named through
 * `nameOf` only when shown, or first when the filter or the sort needs every name.
 */
export function selectRows(rows: Iterable<TableRow>, columns: Column[], query: ViewQuery): TableRow[] {
  const sortId = effectiveSortColumn(query.sortColumn, query.cumulative, query.tab, query.view);
  const firstMeasure = viewOf(query.tab, query.view).measures[0]?.id ?? 'count';
  const column = columns.find(candidate => candidate.id === sortId) ?? columns.find(candidate => candidate.id === firstMeasure) ?? columns[0]!;
  const measures = viewOf(query.tab, query.view).measures.map(measure => measure.id);
  const needle = query.filter.toLowerCase();
  const namesFirst = needle !== '' || column.id === 'comm';
  const chosen: TableRow[] = [];
  for (const candidate of rows) {
    const row = namesFirst ? named(candidate, query.nameOf) : candidate;
    if (!query.cumulative && measures.every(id => valueOf(row, id) === 0)) continue;
    if (needle && !(row.comm ?? row.cache ?? '').toLowerCase().includes(needle)) continue;
    if (query.cgroup && !(row.pid !== undefined && matchesCgroup(query.cgroup.cgroupOf(row.pid), query.cgroup.pattern))) continue;
    chosen.push(row);
  }
  const direction = query.descending ? -1 : 1;
  chosen.sort((a, b) => {
    const left = column.value(a);
    const right = column.value(b);
    const order = typeof left === 'number' && typeof right === 'number' ? left - right : String(left).localeCompare(String(right));
    if (order !== 0) return order * direction;
    return (a.pid ?? 0) - (b.pid ?? 0) || a.key.localeCompare(b.key);
  });
  const shown = chosen.slice(0, Math.max(0, query.limit));
  return namesFirst ? shown : shown.map(row => named(row, query.nameOf));
}
