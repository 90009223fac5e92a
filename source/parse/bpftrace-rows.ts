// A view's rows of one bpftrace interval, as the tab's read spec maps the maps to measures; also the
// processes behind a cache's stacks and the allocator entry points. Pure.
import {fromTracer, type RowKind, type Unit} from '../registry.js';
import type {BpftraceRows, BpftraceStacks} from './bpftrace-specs.js';
import type {ProcessShare, RawRow} from '../types.js';
import {liveRows} from './bpftrace-live.js';
import {fieldValue, IDLE_NAME, splitPidKey, splitSource, toCount} from './bpftrace-values.js';

/**
 * A row as viewRows builds it, from one constructor: its measures start at 0 and are added to
 * map by map. Rows spread from an object literal ({...fresh(), pid}) each had a shape of their
 * own under node --no-opt, and the first sum into each went through V8's map updater (three
 * mallocs a row an interval, each one more hit on memtop's own malloc uprobe). Its prototype is
 * Object.prototype's, so a row is a plain object as a literal would be.
 */
function ParsedRow(this: RawRow, pid: number | undefined, comm: string | undefined, cache: string | undefined, measureIds: readonly string[]): void {
  if (cache !== undefined) this.cache = cache;
  else {
    this.pid = pid;
    this.comm = comm;
  }
  this.count = 0;
  for (const id of measureIds) this[id] = 0;
}
ParsedRow.prototype = Object.prototype;
const NewParsedRow = ParsedRow as unknown as new (pid: number | undefined, comm: string | undefined, cache: string | undefined, measureIds: readonly string[]) => RawRow;

/**
 * The rows of one view's interval, as its registry entry maps bpftrace maps to measures: each
 * measure is the sum of its `from` maps minus its `minus` maps, merged by the map key. Process
 * rows are keyed "pid,comm" or "pid" (a bare pid is named from the `names` map of processes that
 * exited in the interval, else left '' for the caller to name from /proc; pid 0 is the idle
 * task); cache rows by cache name, and a size-class map adds kmalloc-<size> rows, which lack every
 * measure but count and bytes. A measure of objectBytes is another's objects times the row's
 * object size, lacking where the size is not known. Keys that are not a pid in a process view
 * are counted as bad.
 */
export function viewRows(
  kind: RowKind,
  spec: BpftraceRows,
  maps: Map<string, Record<string, unknown>>,
  units: Readonly<Record<string, Unit>> = {},
  endNs = 0n,
): {rows: RawRow[]; bad: number; exited?: number[]; untracked?: number; untrackedPids?: number[]; sampled?: number; sampledPids?: Record<string, number>} {
  if (spec.live) return liveRows(spec.live, maps, endNs);
  const byKey = new Map<string, RawRow>();
  const names = spec.names ? maps.get(spec.names) : undefined;
  const measureIds = Object.keys(spec.measures);
  let bad = 0;
  // The rows' processes named from the names map: they exited in the interval.
  const exited: number[] = [];
  const fresh = (pid: number | undefined, comm: string | undefined, cache: string | undefined): RawRow => new NewParsedRow(pid, comm, cache, measureIds);
  const rowOf = (key: string): RawRow | undefined => {
    if (kind === 'cache') {
      let row = byKey.get(key);
      if (!row) byKey.set(key, (row = fresh(undefined, undefined, key)));
      return row;
    }
    const split = splitPidKey(key);
    if (!split) {
      bad++;
      return undefined;
    }
    const id = String(split.pid);
    let row = byKey.get(id);
    if (!row) {
      const named = names?.[id];
      if (typeof named === 'string' && split.pid > 0) exited.push(split.pid);
      const comm = split.comm || (typeof named === 'string' ? named : split.pid === 0 ? IDLE_NAME : '');
      byKey.set(id, (row = fresh(split.pid, comm, undefined)));
    }
    if (split.comm) row.comm = split.comm;
    return row;
  };
  for (const [id, measure] of Object.entries(spec.measures)) {
    for (const [sources, sign] of [[measure.from, 1], [measure.minus ?? [], -1]] as const) {
      for (const source of sources) {
        // Straight from the map as printed, not readSource's copy of it per source.
        const [name, field] = splitSource(source);
        const map = maps.get(name);
        if (!map) continue;
        const unit = units[id] ?? 'events';
        for (const key in map) {
          if (!Object.hasOwn(map, key)) continue;
          const row = rowOf(key);
          if (row) row[id] = (row[id] as number) + sign * fromTracer(unit, fieldValue(map[key], field));
        }
      }
    }
  }
  if (spec.sizeClasses) {
    for (const [size, value] of Object.entries(maps.get(spec.sizeClasses) ?? {})) {
      const row = rowOf(`kmalloc-${size}`)!;
      const allocations = toCount(value);
      row.count += allocations;
      if ('bytes' in spec.measures) row.bytes = (row.bytes ?? 0) + (/^\d+$/.test(size) ? Number(size) * allocations : 0);
      // Allocations are all a size class tells: kfree names neither a cache nor a size.
      for (const id of measureIds) if (id !== 'count' && id !== 'bytes') row[id] = undefined;
    }
  }
  for (const [id, {objects, size}] of Object.entries(spec.objectBytes ?? {})) {
    const sizes = maps.get(size) ?? {};
    for (const [key, row] of byKey) {
      const objectSize = Object.hasOwn(sizes, key) ? toCount(sizes[key]) : 0;
      const count = row[objects];
      row[id] = objectSize > 0 && typeof count === 'number' ? count * objectSize : undefined;
    }
  }
  return {rows: [...byKey.values()], bad, ...(exited.length > 0 ? {exited} : {})};
}

/** The processes behind a cache's stacks, from a stats() map keyed by pid: most allocations first. */
export function processShares(read: BpftraceStacks, maps: Map<string, Record<string, unknown>>): ProcessShare[] {
  if (!read.processes) return [];
  const {map, names} = read.processes;
  const {rows} = viewRows('process', {measures: {count: {from: [`${map}.count`]}, bytes: {from: [`${map}.total`]}}, names}, maps);
  return rows
    .map(row => ({pid: row.pid ?? 0, comm: row.comm ?? '', count: row.count, bytes: row.bytes ?? 0}))
    .sort((a, b) => b.count - a.count || a.pid - b.pid);
}

/** Calls per allocator entry point, largest first. */
export function entryPoints(maps: Map<string, Record<string, unknown>>, map: string): {name: string; count: number}[] {
  return Object.entries(maps.get(map) ?? {})
    .map(([name, value]) => ({name, count: toCount(value)}))
    .sort((a, b) => b.count - a.count);
}
