// The rows a view shows: the pure filter, sort and top-N selection the table view and batch mode
// share, naming unnamed rows only when they are shown.
import type {ViewDefinition} from '../registry.js';
import {effectiveSortColumn, type Column, type ColumnId} from './columns.js';
import {valueOf, type TableRow} from './table.js';
import {matchesCgroup} from './cgroup.js';

/** What to show of a view's rows: the sort, the direction, the filters and how many. */
export interface ViewQuery {
  view: ViewDefinition;
  sortColumn: ColumnId;
  descending: boolean;
  cumulative: boolean;
  /** Case-insensitive substring of the process (or cache) name. */
  filter: string;
  limit: number;
  /** Case-insensitive substring of the cgroup path or container id, with the lookup to use. */
  cgroup?: {pattern: string; cgroupOf: (pid: number) => string | undefined};
  /** Only these processes' rows (-- COMMAND's): rows of no process (a slab cache's) are left out too. */
  pids?: ReadonlySet<number>;
  /**
   * A process's name as shown (system/process-names.ts's shownName), for rows the tracer left
   * unnamed (bpftrace keys rows by pid and names only the processes that exited): asked for the
   * rows returned, or for every row when the filter or the sort reads names. Without it, rows keep
   * the names they came with.
   */
  nameOf?: (pid: number) => string;
}

/** `row` with its process's name when the tracer gave none. */
function named(row: TableRow, nameOf: ((pid: number) => string) | undefined): TableRow {
  if (!nameOf || row.comm || row.cache !== undefined || row.pid === undefined || row.pid <= 0) return row;
  return {...row, comm: nameOf(row.pid)};
}

/**
 * The rows a view shows: filtered, sorted (ties by pid, then name, so the order is stable),
 * and cut to the limit. In per-interval mode rows with nothing this interval are left out,
 * as `foreach (i in s- limit 10)` over an interval map would. Unnamed rows are named through
 * `nameOf` only when shown, or first when the filter or the sort needs every name.
 */
export function selectRows(rows: Iterable<TableRow>, columns: Column[], query: ViewQuery): TableRow[] {
  const sortId = effectiveSortColumn(query.sortColumn, query.cumulative, query.view);
  const firstMeasure = query.view.measures[0]?.id ?? 'count';
  const column = columns.find(candidate => candidate.id === sortId) ?? columns.find(candidate => candidate.id === firstMeasure) ?? columns[0]!;
  const measures = query.view.measures.map(measure => measure.id);
  const needle = query.filter.toLowerCase();
  const namesFirst = needle !== '' || column.id === 'comm';
  const chosen: TableRow[] = [];
  for (const candidate of rows) {
    const row = namesFirst ? named(candidate, query.nameOf) : candidate;
    if (!query.cumulative && measures.every(id => valueOf(row, id) === 0)) continue;
    if (needle && !(row.comm ?? row.cache ?? '').toLowerCase().includes(needle)) continue;
    if (query.pids && !(row.pid !== undefined && query.pids.has(row.pid))) continue;
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
