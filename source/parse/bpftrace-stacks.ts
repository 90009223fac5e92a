// bpftrace's stacks as memtop shows them: frames from ustack/kstack strings and the keys that join
// them with callers and regions, cut at the process's entry, merged by frames. Pure.
import {fromTracer} from '../registry.js';
import type {BpftraceStacks} from './bpftrace-specs.js';
import type {StackPlace, StackRow} from '../types.js';
import {readSource, toCount} from './bpftrace-values.js';

/** One frame as memtop shows it: the symbol without its +offset. */
export function frameName(line: string): string {
  const trimmed = line.trim();
  const match = /^(.*?)\+\d+$/.exec(trimmed);
  return match ? match[1]! : trimmed;
}

/** Frames of a bpftrace ustack string ("\n    sym+off\n    sym+off\n"), innermost first. */
export function stackFrames(text: string): string[] {
  return text
    .split('\n')
    .map(line => line.trim())
    .filter(line => line !== '')
    .map(frameName);
}

/**
 * Frames that begin a process's or a thread's code (glibc's and musl's): an unwinder that goes
 * on past one of them reads whatever lies further up the stack.
 */
const ENTRY_FRAMES = new Set(['_start', 'start_thread', 'thread_start', 'clone', '__clone', 'clone3', '__clone3']);

/** The lowest and highest user-space code address on 64-bit Linux (x86-64 and arm64, 47/48-bit). */
const LOWEST_CODE = 0x1000n;
const HIGHEST_CODE = 0xffffffffffffn;

/** A frame bpftrace could not name, as its address; undefined for a named frame. */
export function frameAddress(frame: string): bigint | undefined {
  return /^0x[0-9a-f]{1,16}$/i.test(frame) ? BigInt(frame) : undefined;
}

/**
 * The frames of one user stack, innermost first, up to the process's or thread's entry: frames
 * past an entry frame (_start, start_thread, clone3) are dropped, and so is everything from the
 * first unnamed frame that cannot be code: an address outside user space, or, when `isCode` can
 * tell (the process's executable mappings), one outside every executable mapping. A frame-pointer
 * unwinder that leaves the chain reads stack slots and text (bpftrace 0.27 after glibc's start code
 * printed "0x7ffe0ecefeef" and "0x2f747365742f6e69", which is ASCII).
 */
export function trimStack(frames: string[], isCode?: (address: bigint) => boolean): string[] {
  for (let index = 0; index < frames.length; index++) {
    const frame = frames[index]!;
    if (ENTRY_FRAMES.has(frame)) return frames.slice(0, index + 1);
    const address = frameAddress(frame);
    if (address !== undefined && (address < LOWEST_CODE || address > HIGHEST_CODE || (isCode !== undefined && !isCode(address)))) {
      return frames.slice(0, index);
    }
  }
  return frames;
}

/** A symbol bpftrace could not resolve prints as a hex address (or 0 when there was none). */
export function isSymbolName(symbol: string): boolean {
  const trimmed = symbol.trim();
  return trimmed !== '' && !/^(0x)?[0-9a-f]+$/i.test(trimmed) && trimmed !== '[unknown]';
}

/**
 * Split a "<ustack>,<symbol>" key. bpftrace joins key parts with ','; a ustack prints as
 * "\n    frame\n    frame\n", so the stack ends at the last "\n," and the symbol (which may
 * itself hold commas, as C++ names do) is all that follows. An empty stack prints as "".
 */
export function splitStackAndSymbol(key: string): [stack: string, symbol: string] {
  const cut = key.lastIndexOf('\n,');
  if (cut !== -1) return [key.slice(0, cut + 1), key.slice(cut + 2)];
  const comma = key.indexOf(',');
  return comma === -1 ? [key, ''] : [key.slice(0, comma), key.slice(comma + 1)];
}

/**
 * Split a "<ustack>,<symbol>,<ustack>,<symbol>" key: the first stack ends at the first "\n,";
 * the rest is a "<symbol>,<ustack>,<symbol>" whose stack starts at the first ",\n" (or is
 * empty, which prints as ",,").
 */
export function splitTwoStacks(key: string): [string, string, string, string] {
  const firstEnd = key.indexOf('\n,');
  const [stack1, rest] = firstEnd === -1 ? ['', key.replace(/^,/, '')] : [key.slice(0, firstEnd + 1), key.slice(firstEnd + 2)];
  const secondStart = rest.indexOf(',\n');
  if (secondStart !== -1) {
    const [stack2, symbol2] = splitStackAndSymbol(rest.slice(secondStart + 1));
    return [stack1, rest.slice(0, secondStart), stack2, symbol2];
  }
  const empty = rest.indexOf(',,');
  if (empty !== -1) return [stack1, rest.slice(0, empty), '', rest.slice(empty + 2)];
  return [stack1, rest, '', ''];
}

/**
 * Frames for an entry-point stack: frame 0 (the probed function), then the caller found at
 * the stack pointer when it names a function and is not already the next frame, then the rest.
 */
export function joinCaller(frames: string[], caller: string | undefined): string[] {
  if (frames.length === 0) return caller && isSymbolName(caller) ? [caller] : [];
  if (!caller || !isSymbolName(caller) || frames[1] === caller || frames[0] === caller) return frames;
  return [frames[0]!, caller, ...frames.slice(1)];
}

/** Names glibc gives its allocator internals; a sbrk called from one of these came from malloc. */
const ALLOCATOR_INTERNAL = /morecore|sysmalloc|_int_|malloc|calloc|realloc|memalign|ptmalloc|tcache/;

/** Display names for glibc's internal aliases of public entry points. */
const ALIASES: Record<string, string> = {
  __GI___libc_malloc: 'malloc',
  __libc_malloc: 'malloc',
  __sbrk: 'sbrk',
  __brk: 'brk',
};

/** A frame under its public name: glibc's internal aliases as the entry point they stand for. */
export function publicName(frame: string): string {
  return ALIASES[frame] ?? frame;
}

/** Merge stack rows whose frames are the same (bpftrace may print one stack under two ids). */
function mergeStacks(rows: StackRow[]): StackRow[] {
  const byKey = new Map<string, StackRow>();
  for (const row of rows) {
    const key = row.frames.join('\u0000');
    const existing = byKey.get(key);
    if (existing) {
      existing.count += row.count;
      if (row.bytes !== undefined) existing.bytes = (existing.bytes ?? 0) + row.bytes;
      if (row.ms !== undefined) existing.ms = (existing.ms ?? 0) + row.ms;
      if (row.where) existing.where = mergePlaces([...(existing.where ?? []), ...row.where]);
      if (row.stays !== undefined) existing.stays = (existing.stays ?? 0) + row.stays;
      if (row.staysBytes !== undefined) existing.staysBytes = (existing.staysBytes ?? 0) + row.staysBytes;
    } else {
      byKey.set(key, {...row, frames: [...row.frames], ...(row.where ? {where: [...row.where]} : {})});
    }
  }
  return [...byKey.values()];
}

/** Places merged by mapping, most bytes (where they have bytes) or events first (ties by name). */
export function mergePlaces(places: readonly StackPlace[]): StackPlace[] {
  const byMapping = new Map<string, StackPlace>();
  for (const place of places) {
    const merged = byMapping.get(place.mapping);
    if (!merged) byMapping.set(place.mapping, {...place});
    else {
      merged.count += place.count;
      if (place.bytes !== undefined) merged.bytes = (merged.bytes ?? 0) + place.bytes;
    }
  }
  return [...byMapping.values()].sort((a, b) => (b.bytes ?? 0) - (a.bytes ?? 0) || b.count - a.count || a.mapping.localeCompare(b.mapping));
}

/** What a fault's place is called when it has no address (a fault the kernel took on user memory, or no address probe). */
export const NO_ADDRESS = 'no address';

/** Split a "<ustack>,<symbol>,<region>" key: the region is the number after the last comma. */
export function splitRegion(key: string): [stackAndSymbol: string, region: string] {
  const comma = key.lastIndexOf(',');
  return comma === -1 ? [key, ''] : [key.slice(0, comma), key.slice(comma + 1).trim()];
}

/**
 * Stack rows of one drill-down interval from the maps the registry names, innermost frame first,
 * each cut at the process's entry (see trimStack, which `isCode` helps), merged by frames.
 */
export function stackRows(
  read: BpftraceStacks,
  maps: Map<string, Record<string, unknown>>,
  withBytes: boolean,
  isCode?: (address: bigint) => boolean,
  mappingOf?: (address: number) => string | undefined,
): StackRow[] {
  const rows: StackRow[] = [];
  const stackWithCaller = (key: string) => {
    const [stack, caller] = splitStackAndSymbol(key);
    return joinCaller(stackFrames(stack), caller);
  };
  const withRegion = (key: string) => stackWithCaller(splitRegion(key)[0]);
  const sbrkJoined = (key: string) => {
    const [sbrkStack, sbrkCaller, allocStack, allocCaller] = splitTwoStacks(key);
    const sbrkFrames = stackFrames(sbrkStack);
    const allocFrames = stackFrames(allocStack);
    if (ALLOCATOR_INTERNAL.test(sbrkCaller) && allocFrames.length > 0) {
      // sbrk called by the allocator: the allocator's own entry stack is the true caller chain
      return [sbrkFrames[0] ?? 'sbrk', sbrkCaller, ...joinCaller(allocFrames, allocCaller)];
    }
    return joinCaller(sbrkFrames, sbrkCaller);
  };
  for (const map of read.maps) {
    const framesOf = map.key === 'sbrk,allocator' ? sbrkJoined : map.key === 'kstack' ? kernelFrames : map.key === 'stack,caller,region' ? withRegion : stackWithCaller;
    const counts = readSource(maps, map.count) ?? {};
    const bytes = map.bytes ? readSource(maps, map.bytes) ?? {} : {};
    const minus = map.minus ? readSource(maps, map.minus) ?? {} : {};
    const ns = map.ns ? readSource(maps, map.ns) ?? {} : undefined;
    const where = map.where ? maps.get(map.where) : undefined;
    for (const [key, value] of Object.entries(counts)) {
      const frames = map.key === 'kstack' ? framesOf(key) : trimStack(framesOf(key), isCode).map(publicName);
      if (frames.length === 0) continue;
      const net = toCount(bytes[key]) - toCount(minus[key]);
      const row: StackRow = {count: toCount(value), ...(withBytes ? {bytes: net} : {}), frames};
      if (ns) row.ms = fromTracer('ms', toCount(ns[key]));
      if (map.key === 'stack,caller,region' && map.where) {
        // Region 0 holds the faults without an address; any other region names its mapping by its latest address.
        const region = splitRegion(key)[1];
        // Keyed by the region alone (growth), or by the whole key (minor faults).
        const address = region === '0' ? 0 : toCount(where?.[region] ?? where?.[key]);
        row.where = [{mapping: address === 0 ? NO_ADDRESS : mappingOf?.(address) ?? 'unmapped', count: row.count, ...(withBytes ? {bytes: net} : {})}];
      }
      rows.push(row);
    }
  }
  if (read.stays) {
    // What stays per stack, beside what the interval allocated: a stack may have objects left and no allocation now.
    const stayCounts = maps.get(read.stays.count) ?? {};
    const stayBytes = maps.get(read.stays.bytes) ?? {};
    for (const row of rows) row.stays = 0;
    for (const [key, value] of Object.entries(stayCounts)) {
      const stays = toCount(value);
      if (stays <= 0) continue;
      const frames = kernelFrames(key);
      if (frames.length === 0) continue;
      rows.push({count: 0, ...(withBytes ? {bytes: 0} : {}), frames, stays, staysBytes: toCount(stayBytes[key])});
    }
  }
  return mergeStacks(rows);
}

/** A cache's drill-down: the objects its table was too full to keep, so far. */
export function staysUntracked(stays: NonNullable<BpftraceStacks['stays']>, maps: Map<string, Record<string, unknown>>): number {
  return Object.values(maps.get(stays.untracked) ?? {}).reduce<number>((sum, value) => sum + toCount(value), 0);
}

/**
 * The frames that put a tracing program on the kernel stack (a raw tracepoint's BPF program and
 * the tracepoint's own call), above the code that allocated.
 */
const TRACING_FRAMES = /^(?:bpf_prog_[0-9a-f]{16}|bpf_trace_run\d|__bpf_trace_|__traceiter_|trace_call_bpf|perf_trace_)/;

/** A kernel stack's frames, innermost first, from the code that allocated (the tracing machinery above it dropped). */
function kernelFrames(key: string): string[] {
  const frames = stackFrames(key);
  let first = 0;
  while (first < frames.length - 1 && TRACING_FRAMES.test(frames[first]!)) first++;
  return frames.slice(first);
}
