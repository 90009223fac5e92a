// Pure parsing of bpftrace's NDJSON output (-f json) from memtop's probe scripts into snapshots.
import {fromTracer, type RowKind, type Unit} from '../registry.js';
import type {BpftraceRows, BpftraceStacks, LiveMaps, LiveStackMaps} from './bpftrace-specs.js';
import type {AgeClass, HistogramBucket, ProcessShare, RawRow, StackPlace, StackRow} from '../types.js';
import {ageClassesAt, liveRowsOf, liveStacksOf, type ClassStart, type LiveStackRead, type ProcessClassAmount} from './live.js';
import {JsonSyntaxError, mergeValues, parseJsonMerging, undoSignedByteEscapes, type JsonValue} from './json-merge.js';

/** The maps of one interval, by name without the '@', as bpftrace printed them. */
export interface IntervalMaps {
  maps: Map<string, Record<string, unknown>>;
  hists: Map<string, HistogramBucket[]>;
  /** bpftrace's nsecs at the end of the interval (monotonic). */
  endNs: bigint;
}

/**
 * Collects bpftrace JSON lines until the `memtop-end <nsecs>` marker, then hands back the
 * interval's maps. Lines it does not understand are counted in `skipped`, never thrown.
 */
export class BpftraceJsonParser {
  skipped = 0;
  /**
   * bpftrace 0.22 and 0.23 escape map keys twice: a stack prints as "\\n        sym+off\\n" (a
   * backslash and an n), a quote in a name as \\\". With this set, keys are unescaped once more.
   */
  constructor(private readonly keysEscapedTwice = false) {}

  /** The latest line skipped, cut to 120 characters, to name in the status line what was not understood. */
  skippedSample: string | undefined;
  attached = false;
  /** bpftrace's nsecs when the script's BEGIN ran (every probe attached): the first interval's start. */
  beginNs: bigint | undefined;
  private maps = new Map<string, Record<string, unknown>>();
  private hists = new Map<string, HistogramBucket[]>();

  private skip(line: string): undefined {
    this.skipped++;
    this.skippedSample = line.length > 120 ? `${line.slice(0, 119)}…` : line;
    return undefined;
  }

  /** Feed one line; returns the finished interval when the line ends one. */
  feed(line: string): IntervalMaps | undefined {
    const trimmed = line.trim();
    if (trimmed === '') return undefined;
    let message: {type?: unknown; data?: unknown};
    try {
      // Not JSON.parse: a map may print one key twice (see json-merge.ts), and both count.
      message = parseJsonMerging(trimmed) as {type?: unknown; data?: unknown};
    } catch (error) {
      if (!(error instanceof JsonSyntaxError)) throw error;
      return this.skip(trimmed);
    }
    if (typeof message !== 'object' || message === null) {
      return this.skip(trimmed);
    }
    switch (message.type) {
      case 'attached_probes':
        this.attached = true;
        return undefined;
      case 'map':
      case 'stats':
      case 'hist': {
        const data = message.data;
        if (typeof data !== 'object' || data === null) {
          return this.skip(trimmed);
        }
        for (const [rawName, value] of Object.entries(data)) {
          // Double-buffered scripts print @x_a and @x_b in turn: both are the interval's @x.
          const name = rawName.replace(/^@/, '').replace(/_[ab]$/, '');
          if (message.type === 'hist' && Array.isArray(value)) {
            this.hists.set(name, value.filter(isBucket));
          } else if (typeof value === 'number' || (typeof value === 'string' && /^-?\d+$/.test(value))) {
            // A map without keys (@untracked = count()) prints its one value: read as the key "".
            this.maps.set(name, {'': value});
          } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
            this.maps.set(name, this.keysEscapedTwice ? unescapeKeys(value as Record<string, unknown>) : (value as Record<string, unknown>));
          } else {
            this.skip(trimmed);
          }
        }
        return undefined;
      }
      case 'printf': {
        const begin = typeof message.data === 'string' ? /^memtop-begin (\d+)\s*$/.exec(message.data) : null;
        if (begin) {
          this.beginNs = BigInt(begin[1]!);
          return undefined;
        }
        const match = typeof message.data === 'string' ? /^memtop-end (\d+)\s*$/.exec(message.data) : null;
        if (!match) {
          return this.skip(trimmed);
        }
        const done: IntervalMaps = {maps: this.maps, hists: this.hists, endNs: BigInt(match[1]!)};
        this.maps = new Map();
        this.hists = new Map();
        return done;
      }
      default:
        // lost events, helper errors and other message kinds are not ours to show as rows
        return this.skip(trimmed);
    }
  }
}

/** The map with each key's JSON escapes undone once more (see keysEscapedTwice); keys that come out alike merge. */
function unescapeKeys(map: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(map)) {
    let plain = key;
    if (key.includes('\\')) {
      try {
        plain = JSON.parse(`"${undoSignedByteEscapes(key)}"`) as string;
      } catch {
        plain = key;
      }
    }
    if (Object.hasOwn(result, plain)) result[plain] = mergeValues(result[plain] as JsonValue, value as JsonValue);
    else Object.defineProperty(result, plain, {value, enumerable: true, writable: true, configurable: true});
  }
  return result;
}

function isBucket(value: unknown): value is HistogramBucket {
  if (typeof value !== 'object' || value === null) return false;
  const bucket = value as Record<string, unknown>;
  return typeof bucket.count === 'number' && (typeof bucket.min === 'number' || typeof bucket.max === 'number');
}

/**
 * A map value as a finite number: bpftrace prints integers; a stats() value
 * ({count, average, total}) counts as its count; anything else counts as 0.
 */
export function toCount(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  if (typeof value === 'object' && value !== null && 'count' in value) return toCount((value as {count: unknown}).count);
  return 0;
}

/** The total of a stats() value ({count, average, total}), else the value itself. */
export function toTotal(value: unknown): number {
  if (typeof value === 'object' && value !== null && 'total' in value) return toCount((value as {total: unknown}).total);
  return toCount(value);
}

/**
 * Split a "pid,comm" key, or a bare "pid" (the name then is ''). The pid comes first and is all
 * digits, so everything after the first comma is the name, commas and all.
 */
export function splitPidKey(key: string): {pid: number; comm: string} | undefined {
  const match = /^(\d+)(?:,([\s\S]*))?$/.exec(key);
  if (!match) return undefined;
  return {pid: Number(match[1]), comm: match[2] ?? ''};
}

/** What pid 0 is called: the idle task (swapper/<cpu>), which interrupts taken while idle run as. */
export const IDLE_NAME = 'swapper';

/** A measure's source, "map" or "map.count"/"map.total" (a stats() field), as the map's name and the field. */
function splitSource(source: string): [name: string, field: string | undefined] {
  return source.split('.') as [string, string | undefined];
}

/** One value of a map as a source reads it: a stats() value's total for "total", else its count (see toCount). */
function fieldValue(value: unknown, field: string | undefined): number {
  return field === 'total' ? toTotal(value) : toCount(value);
}

/** A map's value as one measure reads it: "map" the value, "map.count"/"map.total" a stats() field. */
function readSource(maps: Map<string, Record<string, unknown>>, source: string): Record<string, unknown> | undefined {
  const [name, field] = splitSource(source);
  return maps.get(name) && field ? mapValues(maps.get(name)!, field) : maps.get(name);
}

function mapValues(map: Record<string, unknown>, field: string): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(map)) values[key] = fieldValue(value, field);
  return values;
}

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
 * task); cache rows by cache name, and a size-class map adds kmalloc-<size> rows. Keys that are
 * not a pid in a process view are counted as bad.
 */
export function viewRows(
  kind: RowKind,
  spec: BpftraceRows,
  maps: Map<string, Record<string, unknown>>,
  units: Readonly<Record<string, Unit>> = {},
  endNs = 0n,
): {rows: RawRow[]; bad: number; untracked?: number} {
  if (spec.live) return liveRows(spec.live, maps, endNs);
  const byKey = new Map<string, RawRow>();
  const names = spec.names ? maps.get(spec.names) : undefined;
  const measureIds = Object.keys(spec.measures);
  let bad = 0;
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
    }
  }
  return {rows: [...byKey.values()], bad};
}

/** A map's value as a BigInt (bpftrace prints integers past 2^53 as strings from 0.24 on), or undefined. */
function toBigInt(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return BigInt(Math.round(value));
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return undefined;
}

/** Split a "<something>,<class>" key at its last comma: the part before and the age class. */
function splitClass(key: string): [string, number] | undefined {
  const comma = key.lastIndexOf(',');
  const match = comma === -1 ? null : /^\d{1,3}$/.exec(key.slice(comma + 1));
  return match ? [key.slice(0, comma), Number(match[0])] : undefined;
}

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

/**
 * The rows of a live view's interval (keys "pid,class"): per process the bytes and allocations
 * outstanding, and the age of its oldest class that holds one (see liveRowsOf).
 */
export function liveRows(spec: LiveMaps, maps: Map<string, Record<string, unknown>>, endNs: bigint): {rows: RawRow[]; bad: number; untracked: number} {
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
  return {rows: liveRowsOf([...amounts.values()], ageClasses(spec, maps, endNs)), bad, untracked: untrackedOf(spec, maps)};
}

/**
 * A live drill-down's interval: its age classes, the process's exact totals, and its stacks
 * (keys "<ustack>,class", counts scaled by countScale) cut at the process's entry (see
 * trimStack), each with what it has outstanding per class (see liveStacksOf).
 */
export function liveStackRows(spec: LiveStackMaps, maps: Map<string, Record<string, unknown>>, endNs: bigint, isCode?: (address: bigint) => boolean): LiveStackRead & {untracked: number} {
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
  return {...liveStacksOf(amounts, [...totals.values()], ageClasses(spec, maps, endNs)), untracked: untrackedOf(spec, maps)};
}

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

function publicName(frame: string): string {
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
        const address = splitRegion(key)[1] === '0' ? 0 : toCount(where?.[key]);
        row.where = [{mapping: address === 0 ? NO_ADDRESS : mappingOf?.(address) ?? 'unmapped', count: row.count, ...(withBytes ? {bytes: net} : {})}];
      }
      rows.push(row);
    }
  }
  return mergeStacks(rows);
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
