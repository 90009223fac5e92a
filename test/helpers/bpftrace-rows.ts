// The bpftrace parser's row and stack readers as each tab's registry entry drives them, for tests.
import {liveRows, liveStackRows} from '../../source/parse/bpftrace-live.js';
import {processShares, viewRows} from '../../source/parse/bpftrace-rows.js';
import {stackRows as readStacks} from '../../source/parse/bpftrace-stacks.js';
import {TABS, unitsOf, viewOf} from '../../source/registry.js';
import type {ProcessShare, RawRow, StackRow, TabId} from '../../source/types.js';

type Maps = Map<string, Record<string, unknown>>;

/** A tab's process rows from one interval's maps. */
export function tabRows(tab: TabId, maps: Maps): {rows: RawRow[]; bad: number} {
  return viewRows('process', TABS[tab].bpftrace.views.process!.rows, maps, unitsOf(viewOf(tab, 'process')));
}

/** Slab's rows by cache from one interval's maps. */
export function cacheRows(maps: Maps): RawRow[] {
  return viewRows('cache', TABS.slab.bpftrace.views.cache!.rows, maps).rows;
}

/** A tab's drill-down stacks from one interval's maps. */
export function stackRows(tab: TabId, maps: Maps, isCode?: (address: bigint) => boolean, mappingOf?: (address: number) => string | undefined): StackRow[] {
  return readStacks(TABS[tab].bpftrace.stacks.read, maps, TABS[tab].stackBytes, isCode, mappingOf);
}

/** Slab's drill into one cache from one interval's maps: its kernel paths and the processes behind them. */
export function cacheStackRows(maps: Maps): {stacks: StackRow[]; processes: ProcessShare[]} {
  const read = TABS.slab.bpftrace.cacheStacks!.read;
  return {stacks: readStacks(read, maps, TABS.slab.stackBytes), processes: processShares(read, maps)};
}

/** The malloc live view's rows from one interval's maps, read at its end. */
export function liveRowsOf(maps: Maps, endNs: bigint): ReturnType<typeof liveRows> {
  return liveRows(TABS.malloc.bpftrace.views.live!.rows.live!, maps, endNs);
}

/** The malloc live view's drill-down from one interval's maps, read at its end. */
export function liveStacksOf(maps: Maps, endNs: bigint, isCode?: (address: bigint) => boolean): ReturnType<typeof liveStackRows> {
  return liveStackRows(TABS.malloc.bpftrace.views.live!.stacks!.read.live!, maps, endNs, isCode);
}
