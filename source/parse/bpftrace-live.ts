// A live view's bpftrace maps (outstanding allocations by age class) as rows and as a drill-down's stacks. Pure.
import type {LiveMaps, LiveStackMaps} from './bpftrace-specs.js';
import type {AgeClass, RawRow} from '../types.js';
import {ageClassesAt, liveRowsOf, liveStacksOf, type ClassStart, type LiveStackRead, type ProcessClassAmount} from './live.js';
import {publicName, stackFrames, trimStack} from './bpftrace-stacks.js';
import {IDLE_NAME, splitClass, splitPidKey, toBigInt, toCount} from './bpftrace-values.js';

/** The age classes a live script printed, oldest first, with their age bounds in seconds at `endNs`. */
export function ageClasses(spec: LiveMaps, maps: Map<string, Record<string, unknown>>, endNs: bigint): {index: number; age: AgeClass}[] {
  const starts: ClassStart[] = [];
  for (const [key, value] of Object.entries(maps.get(spec.epochs) ?? {})) {
    const start = toBigInt(value);
    // Ages from bpftrace's nanoseconds, taken against the interval's end exactly, then in seconds.
    if (/^\d{1,3}$/.test(key) && start !== undefined) starts.push({index: Number(key), start: Number(start - endNs)});
  }
  return ageClassesAt(starts, 0, 1e9);
}

/** Allocations a live script could not track so far. */
function untrackedOf(spec: LiveMaps, maps: Map<string, Record<string, unknown>>): number {
  return Object.values(maps.get(spec.untracked) ?? {}).reduce<number>((sum, value) => sum + toCount(value), 0);
}

/** The processes with an allocation a live script could not track, in pid order. */
function untrackedPidsOf(spec: LiveMaps, maps: Map<string, Record<string, unknown>>): number[] {
  if (!spec.untrackedPids) return [];
  return Object.entries(maps.get(spec.untrackedPids) ?? {})
    .filter(([key, value]) => /^\d+$/.test(key) && toCount(value) > 0)
    .map(([key]) => Number(key))
    .sort((a, b) => a - b);
}

/** 1 in how many addresses a level k tracks (2^k), from a level as printed; 1 for what is not a level. */
export function sampledOf(level: unknown): number {
  const k = toCount(level);
  return Number.isInteger(k) && k > 0 && k <= 31 ? 2 ** k : 1;
}

/**
 * How a live script samples addresses: 1 in `sampled` tracked now, and by pid 1 in how many the
 * coarsest of each sampled process's tracked allocations stood for (only processes with one
 * above 1: their figures are estimates).
 */
export function samplingOf(spec: LiveMaps, maps: Map<string, Record<string, unknown>>): {sampled: number; sampledPids: Record<string, number>} {
  const sampledPids: Record<string, number> = {};
  if (spec.sampledPids) {
    for (const [key, value] of Object.entries(maps.get(spec.sampledPids) ?? {})) {
      const sampled = sampledOf(value);
      if (/^\d+$/.test(key) && sampled > 1) sampledPids[key] = sampled;
    }
  }
  return {sampled: spec.sampling ? sampledOf(maps.get(spec.sampling)?.['']) : 1, sampledPids};
}

/**
 * The rows of a live view's interval (keys "pid,class"): per process the bytes and allocations
 * outstanding, and the age of its oldest class that holds one (see liveRowsOf); and which
 * processes had an allocation it could not track (their figures are a floor).
 */
export function liveRows(
  spec: LiveMaps,
  maps: Map<string, Record<string, unknown>>,
  endNs: bigint,
): {rows: RawRow[]; bad: number; untracked: number; untrackedPids: number[]; sampled: number; sampledPids: Record<string, number>} {
  const amounts = new Map<string, ProcessClassAmount>();
  let bad = 0;
  for (const field of ['bytes', 'count'] as const) {
    for (const [key, value] of Object.entries(maps.get(spec[field]) ?? {})) {
      const split = splitClass(key);
      const pid = split ? splitPidKey(split[0])?.pid : undefined;
      if (!split || pid === undefined) {
        bad++;
        continue;
      }
      const id = `${pid},${split[1]}`;
      let amount = amounts.get(id);
      if (!amount) amounts.set(id, (amount = {pid, comm: pid === 0 ? IDLE_NAME : '', index: split[1], count: 0, bytes: 0}));
      amount[field] += toCount(value);
    }
  }
  return {rows: liveRowsOf([...amounts.values()], ageClasses(spec, maps, endNs)), bad, untracked: untrackedOf(spec, maps), untrackedPids: untrackedPidsOf(spec, maps), ...samplingOf(spec, maps)};
}

/**
 * A live drill-down's interval: its age classes, the process's exact totals, and its stacks
 * (keys "<ustack>,class", counts scaled by countScale) cut at the process's entry (see
 * trimStack), each with what it has outstanding per class (see liveStacksOf).
 */
export function liveStackRows(spec: LiveStackMaps, maps: Map<string, Record<string, unknown>>, endNs: bigint, isCode?: (address: bigint) => boolean): LiveStackRead & {untracked: number; sampled: number} {
  const byClass = (map: string, field: 'bytes' | 'count', scale: number, into: Map<string, {key: string; index: number; count: number; bytes: number}>) => {
    for (const [key, value] of Object.entries(maps.get(map) ?? {})) {
      const split = splitClass(key);
      if (!split) continue;
      let amount = into.get(key);
      if (!amount) into.set(key, (amount = {key: split[0], index: split[1], count: 0, bytes: 0}));
      amount[field] += toCount(value) / scale;
    }
  };
  const totals = new Map<string, {key: string; index: number; count: number; bytes: number}>();
  byClass(spec.bytes, 'bytes', 1, totals);
  byClass(spec.count, 'count', 1, totals);
  const stacks = new Map<string, {key: string; index: number; count: number; bytes: number}>();
  byClass(spec.stackBytes, 'bytes', 1, stacks);
  byClass(spec.stackCount, 'count', spec.countScale, stacks);
  const amounts = [...stacks.values()].map(({key, ...amount}) => ({...amount, frames: trimStack(stackFrames(key), isCode).map(publicName)}));
  return {...liveStacksOf(amounts, [...totals.values()], ageClasses(spec, maps, endNs)), untracked: untrackedOf(spec, maps), sampled: Math.max(1, ...Object.values(samplingOf(spec, maps).sampledPids))};
}
