// Columns as data (title, width, alignment, default direction, value, formatter) and the pure
// sort, filter and top-N selection the table view and batch mode share.
import {TABS} from '../tabs.js';
import {humanBytes, humanCount, humanRate, sanitize} from '../format.js';
import type {TabId} from '../types.js';
import type {Grouping, TableRow} from './table.js';
import {sparkline} from '../ui/sparkline.js';
import {labelOfPath, matchesCgroup} from './cgroup.js';

export type ColumnId = 'pid' | 'comm' | 'cache' | 'count' | 'bytes' | 'rate' | 'trend' | 'totalCount' | 'totalBytes' | 'cgroup';

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

/** The columns of a tab in one grouping, left to right. */
export function columnsFor(tab: TabId, grouping: Grouping, extras: ColumnExtras = {}): Column[] {
  const info = TABS[tab];
  const columns: Column[] = [];
  if (grouping === 'cache' && info.hasCacheGrouping) {
    columns.push({id: 'cache', title: 'CACHE', width: 24, align: 'left', defaultDescending: false, value: row => row.cache ?? '', format: row => sanitize(row.cache ?? '')});
  } else {
    columns.push(
      {id: 'pid', title: 'PID', width: 8, align: 'right', defaultDescending: false, value: row => row.pid ?? 0, format: row => String(row.pid ?? '')},
      {id: 'comm', title: 'COMM', width: 16, align: 'left', defaultDescending: false, value: row => row.comm ?? '', format: row => sanitize(row.comm ?? '')},
    );
  }
  columns.push({id: 'count', title: info.eventName, width: 9, align: 'right', defaultDescending: true, value: row => row.count, format: row => humanCount(row.count)});
  if (info.hasBytes) {
    columns.push({id: 'bytes', title: info.bytesName ?? 'BYTES', width: 9, align: 'right', defaultDescending: true, value: row => row.bytes ?? 0, format: row => humanBytes(row.bytes ?? 0)});
  }
  columns.push({id: 'rate', title: '/s', width: 9, align: 'right', defaultDescending: true, value: row => row.rate, format: row => humanRate(row.rate)});
  if (extras.trend) {
    const {ascii} = extras.trend;
    columns.push({
      id: 'trend',
      title: 'TREND',
      width: 12,
      align: 'left',
      defaultDescending: true,
      // Sorting by trend ranks rows by how much they grew: the last interval against the series mean.
      value: row => (row.history.length === 0 ? 0 : row.rate - row.history.reduce((sum, rate) => sum + rate, 0) / row.history.length),
      format: row => sparkline(row.history, 12, ascii),
    });
  }
  columns.push({id: 'totalCount', title: 'TOTAL', width: 9, align: 'right', defaultDescending: true, value: row => row.totalCount, format: row => humanCount(row.totalCount)});
  if (info.hasBytes) {
    columns.push({id: 'totalBytes', title: `TOT ${info.bytesName ?? 'BYTES'}`, width: 10, align: 'right', defaultDescending: true, value: row => row.totalBytes ?? 0, format: row => humanBytes(row.totalBytes ?? 0)});
  }
  if (extras.cgroupOf && !(grouping === 'cache' && info.hasCacheGrouping)) {
    const cgroupOf = extras.cgroupOf;
    const label = (row: TableRow) => {
      const path = row.pid === undefined ? undefined : cgroupOf(row.pid);
      return path === undefined ? '' : labelOfPath(path);
    };
    columns.push({id: 'cgroup', title: 'CGROUP', width: 24, align: 'left', defaultDescending: false, value: label, format: row => sanitize(label(row))});
  }
  return columns;
}

/** In cumulative mode the per-interval columns sort by their since-start twins. */
export function effectiveSortColumn(id: ColumnId, cumulative: boolean): ColumnId {
  if (!cumulative) return id;
  if (id === 'count' || id === 'rate') return 'totalCount';
  if (id === 'bytes') return 'totalBytes';
  return id;
}

export interface ViewQuery {
  sortColumn: ColumnId;
  descending: boolean;
  cumulative: boolean;
  /** Case-insensitive substring of the process (or cache) name. */
  filter: string;
  limit: number;
  /** Case-insensitive substring of the cgroup path or container id, with the lookup to use. */
  cgroup?: {pattern: string; cgroupOf: (pid: number) => string | undefined};
}

/**
 * The rows a view shows: filtered, sorted (ties by pid, then name, so the order is stable),
 * and cut to the limit. In per-interval mode rows with nothing this interval are left out,
 * as `foreach (i in s- limit 10)` over an interval map would.
 */
export function selectRows(rows: Iterable<TableRow>, columns: Column[], query: ViewQuery): TableRow[] {
  const sortId = effectiveSortColumn(query.sortColumn, query.cumulative);
  const column = columns.find(candidate => candidate.id === sortId) ?? columns.find(candidate => candidate.id === 'count')!;
  const needle = query.filter.toLowerCase();
  const chosen: TableRow[] = [];
  for (const row of rows) {
    if (!query.cumulative && row.count === 0 && (row.bytes ?? 0) === 0) continue;
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
  return chosen.slice(0, Math.max(0, query.limit));
}
