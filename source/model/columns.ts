// Columns as data (title, width, alignment, default direction, value, formatter), made from a
// view's measures in the registry, and which column a sort reads. Pure.
import {totalKey, type Measure, type Unit, type ViewDefinition} from '../registry.js';
import {humanAge, humanBytes, humanBytesRate, humanCount, humanMs, humanRate, sanitize} from '../format.js';
import {hasTotal, isUnknown, RATE_HISTORY, valueOf, type TableRow} from './table.js';
import {sparkline} from './sparkline.js';
import {labelOfPath} from './cgroup.js';

/** A column's id: pid, comm, cache, a measure id, total<Measure>, rate, trend, allocator or cgroup. */
export type ColumnId = string;

/** What the optional columns need: a process's cgroup path, and whether to draw in ASCII. */
export interface ColumnExtras {
  /** With it, a CGROUP column (container id or the cgroup path's tail). */
  cgroupOf?: (pid: number) => string | undefined;
  /** With it, a TREND column: a sparkline of the row's rate over the last intervals. */
  trend?: {ascii: boolean};
  /** With it, an ALLOC column: the allocator a process's allocations went through (glibc, musl, jemalloc, go...). */
  allocatorOf?: (pid: number) => string | undefined;
  /**
   * A live view's processes with an allocation its tracer could not track: their figures are a
   * floor (shown ≥) and their growth unknown (shown ?), never a number that looks exact and is not.
   */
  untrackedPids?: readonly number[];
  /** Measures the running script cannot give (an older kernel's fallback): shown as NOT_MEASURED, never as 0. */
  unmeasured?: readonly string[];
  /** Draw in ASCII (a floor as >=): the terminal is not UTF-8. */
  ascii?: boolean;
}

/** The mark of a floor: a figure that misses what could not be tracked. */
export const FLOOR_MARK = '≥';
/** What a rate, or a measure its tracer could not see (Measure.unknown), reads when it cannot be known. */
export const UNKNOWN_RATE = '?';
/** What a measure reads where the running script cannot measure it. */
export const NOT_MEASURED = '-';

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

function measureColumn(measure: Measure, key: string, title: string, width: number, floor?: {of: (row: TableRow) => boolean; mark: string}): Column {
  const format = measure.unknown === undefined ? (row: TableRow) => formatValue(valueOf(row, key), measure.unit) : (row: TableRow) => (isUnknown(row, measure, key) ? UNKNOWN_RATE : formatValue(valueOf(row, key), measure.unit));
  return {id: key, title, width, align: 'right', defaultDescending: true, value: row => valueOf(row, key), format: floor ? row => (floor.of(row) ? floor.mark + format(row) : format(row)) : format};
}

/** The columns of a view, left to right. */
export function columnsFor(definition: ViewDefinition, extras: ColumnExtras = {}): Column[] {
  const columns: Column[] = [];
  if (definition.rows === 'cache') {
    columns.push({id: 'cache', title: 'CACHE', width: 24, align: 'left', defaultDescending: false, value: row => row.cache ?? '', format: row => sanitize(row.cache ?? '')});
  } else {
    columns.push(
      {id: 'pid', title: 'PID', width: 8, align: 'right', defaultDescending: false, value: row => row.pid ?? 0, format: row => String(row.pid ?? '')},
      {id: 'comm', title: 'COMM', width: 16, align: 'left', defaultDescending: false, value: row => row.comm ?? '', format: row => sanitize(row.comm ?? '')},
    );
  }
  // A live view's outstanding figures (its gauges: bytes and allocations, not an age) of a process
  // with an allocation not tracked are floors, and their growth is unknown.
  const untracked = extras.untrackedPids && extras.untrackedPids.length > 0 ? new Set(extras.untrackedPids) : undefined;
  const floor = untracked ? {of: (row: TableRow) => row.pid !== undefined && untracked.has(row.pid), mark: extras.ascii ? '>=' : FLOOR_MARK} : undefined;
  // A measure the running script cannot give reads as not measured, its total too, and sorts as 0.
  const unmeasured = (id: string, column: Column): Column => (extras.unmeasured?.includes(id) ? {...column, value: () => 0, format: () => NOT_MEASURED} : column);
  for (const measure of definition.measures) columns.push(unmeasured(measure.id, measureColumn(measure, measure.id, measure.title, 9, measure.kind === 'gauge' && measure.unit !== 'seconds' ? floor : undefined)));
  const first = definition.measures[0];
  const rateText = (row: TableRow) => formatRate(first, row.rate);
  columns.push({id: 'rate', title: definition.rateTitle ?? '/s', width: 9, align: 'right', defaultDescending: true, value: row => row.rate, format: floor ? row => (floor.of(row) ? UNKNOWN_RATE : rateText(row)) : rateText});
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
    if (hasTotal(measure)) columns.push(unmeasured(measure.id, measureColumn(measure, totalKey(measure.id), measure.totalTitle!, measure.unit === 'bytes' ? 10 : 9, measure.kind === 'gauge' && measure.unit !== 'seconds' ? floor : undefined)));
  }
  if (extras.allocatorOf && definition.rows === 'process') {
    const allocatorOf = extras.allocatorOf;
    const kind = (row: TableRow) => (row.pid === undefined ? '' : (allocatorOf(row.pid) ?? ''));
    columns.push({id: 'allocator', title: 'ALLOC', width: 8, align: 'left', defaultDescending: false, value: kind, format: row => sanitize(kind(row))});
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
export function defaultSortColumn(view: ViewDefinition): ColumnId {
  return view.measures[0]?.id ?? 'pid';
}

/**
 * In cumulative mode the per-interval columns sort by their since-start twins: a measure by its
 * total (a gauge by its peak; one without a peak by itself), the rate by the first measure's.
 */
export function effectiveSortColumn(id: ColumnId, cumulative: boolean, view: ViewDefinition): ColumnId {
  if (!cumulative) return id;
  const measures = view.measures;
  const twin = (measure: Measure | undefined) => (measure && hasTotal(measure) ? totalKey(measure.id) : undefined);
  if (id === 'rate') return twin(measures[0]) ?? id;
  return twin(measures.find(measure => measure.id === id)) ?? id;
}

/** What a measure is, as the help screen says it. */
function measureText(measure: Measure): string {
  return measure.help ?? measure.metric?.help ?? measure.title;
}

/** Where a measure reads ?, for its help line. */
function unknownText(measure: Measure): string {
  return measure.unknown === undefined ? '' : `; ${UNKNOWN_RATE} for ${measure.unknown}`;
}

/** What one column of a view shows, in a line. */
function columnText(definition: ViewDefinition, id: ColumnId): string {
  const first = definition.measures[0];
  const firstTitle = first?.title ?? 'events';
  switch (id) {
    case 'pid':
      return 'process id';
    case 'comm':
      return 'process name, as the kernel keeps it (at most 15 characters)';
    case 'cache':
      return 'slab cache';
    case 'rate':
      return first?.kind === 'gauge'
        ? `how fast ${firstTitle} grew (+) or shrank (-) a second since the last interval`
        : `${firstTitle} a second: this interval's ${firstTitle} over its measured length (never exactly the asked one, so the two differ a little)`;
    case 'trend':
      return `${first?.kind === 'gauge' ? firstTitle : definition.rateTitle ?? '/s'} over the last ${RATE_HISTORY} intervals, oldest left`;
    case 'allocator':
      return 'the allocator its calls went through: glibc, musl, jemalloc, tcmalloc, mimalloc or go';
    case 'cgroup':
      return "container id (docker, containerd, cri-o, podman), else the cgroup path's last two parts";
    default:
      break;
  }
  const measure = definition.measures.find(each => each.id === id);
  if (measure) return `${measureText(measure)}, ${measure.kind === 'gauge' ? 'now' : 'this interval'}${unknownText(measure)}`;
  const totalled = definition.measures.find(each => totalKey(each.id) === id);
  if (totalled) return totalled.kind === 'gauge' ? `the peak of ${totalled.title} since the view opened` : `${measureText(totalled)}, since memtop started${unknownText(totalled)}`;
  return id;
}

/** The help screen's lines for the columns on screen: each one's title and what it shows. */
export function columnHelp(definition: ViewDefinition, columns: readonly Column[]): {title: string; text: string}[] {
  return columns.map(column => ({title: column.title, text: columnText(definition, column.id)}));
}
