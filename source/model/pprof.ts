// Drill-down stacks as a pprof Profile (the protobuf go tool pprof, Pyroscope and Parca read),
// through the pprof-format library: sample types as Go's heap profile names them, one location
// per distinct frame with its function, and the binaries the frames are in where they are known.
import {gzipSync} from 'node:zlib';
import {Function as ProfileFunction, Location, Mapping, Profile, Sample, StringTable, ValueType} from 'pprof-format';
import {TABS, type ProfileTypes} from '../registry.js';
import {targetName, type StackRow, type TracerStackSnapshot} from '../types.js';
import {sanitize} from '../format.js';
import {UNKNOWN_FRAME} from './folded.js';
import {topStacks} from './stacks.js';

/** A binary a process (or the kernel) has mapped: where its code is, its path and its GNU build id (hex). */
export interface ProfileBinary {
  start: bigint;
  limit: bigint;
  offset: bigint;
  file: string;
  buildId?: string;
}

/** Everything one profile says. */
export interface ProfileSource {
  types: ProfileTypes;
  /** Stacks with their counts and bytes (frames innermost first); counts and bytes are summed per distinct stack. */
  stacks: readonly Pick<StackRow, 'count' | 'bytes' | 'frames'>[];
  /** When the window began and how long it was, ms. */
  startMs: number;
  durationMs: number;
  /** Stacks were sampled, one per about this many bytes, and their figures are already scaled up (as Go writes its heap profile). */
  sampleBytes?: number;
  /** The binaries the frames may be in, the main one first. */
  binaries?: readonly ProfileBinary[];
  /** The binary (index into `binaries`) a frame is in, when known. */
  binaryOf?: (frame: string) => number | undefined;
  /** Lines `go tool pprof -comments` prints: what, whose, how. */
  comments?: readonly string[];
}

/** The unit every profile's period is counted in: bytes allocated between samples, as Go's heap profile. */
export const PERIOD_TYPE = {type: 'space', unit: 'bytes'} as const;

/** A whole number pprof can carry (int64), from a figure that may be an estimate or not finite. */
function whole(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? Math.round(value) : 0;
}

/**
 * The profile of `source`: sample types [count, bytes] named by `types` (the bytes' is the
 * default), one sample per distinct stack (stacks with nothing in them are left out), one
 * location per distinct frame and binary with one line naming its function, each binary a
 * mapping with its build id and has_functions set (memtop names the functions, no tool needs
 * to), the period (bytes per sample, 1 when every event was traced) and the window.
 */
export function buildProfile(source: ProfileSource): Profile {
  const strings = new StringTable();
  const mappings = (source.binaries ?? []).map(
    (binary, index) =>
      new Mapping({
        id: index + 1,
        memoryStart: binary.start,
        memoryLimit: binary.limit,
        fileOffset: binary.offset,
        filename: strings.dedup(sanitize(binary.file)),
        buildId: strings.dedup(binary.buildId ?? ''),
        hasFunctions: true,
      }),
  );
  const functions = new Map<string, ProfileFunction>();
  const locations = new Map<string, Location>();
  const locationOf = (frame: string): number => {
    const binary = source.binaryOf?.(frame);
    // A name from the traced system reaches terminals through go tool pprof: no control characters.
    const name = frame === '' ? UNKNOWN_FRAME : sanitize(frame);
    const mappingId = binary !== undefined && binary >= 0 && binary < mappings.length ? binary + 1 : 0;
    const key = `${mappingId}\u0000${name}`;
    let location = locations.get(key);
    if (!location) {
      let fn = functions.get(name);
      if (!fn) {
        fn = new ProfileFunction({id: functions.size + 1, name: strings.dedup(name), systemName: strings.dedup(name)});
        functions.set(name, fn);
      }
      location = new Location({id: locations.size + 1, mappingId, line: [{functionId: fn.id}]});
      locations.set(key, location);
    }
    return Number(location.id);
  };
  const samples = new Map<string, {locationId: number[]; count: number; bytes: number}>();
  for (const stack of source.stacks) {
    const count = whole(stack.count);
    const bytes = whole(stack.bytes);
    if (count === 0 && bytes === 0) continue;
    const frames = stack.frames.length > 0 ? stack.frames : [UNKNOWN_FRAME];
    const locationId = frames.map(locationOf);
    const key = locationId.join(',');
    const sample = samples.get(key) ?? {locationId, count: 0, bytes: 0};
    sample.count += count;
    sample.bytes += bytes;
    samples.set(key, sample);
  }
  const sampleType = [new ValueType({type: strings.dedup(source.types.count), unit: strings.dedup('count')}), new ValueType({type: strings.dedup(source.types.bytes), unit: strings.dedup('bytes')})];
  return new Profile({
    sampleType,
    sample: [...samples.values()].map(sample => new Sample({locationId: sample.locationId, value: [sample.count, sample.bytes]})),
    mapping: mappings,
    location: [...locations.values()],
    function: [...functions.values()],
    stringTable: strings,
    timeNanos: BigInt(Math.round(source.startMs)) * 1_000_000n,
    durationNanos: BigInt(Math.max(0, Math.round(source.durationMs * 1e6))),
    periodType: new ValueType({type: strings.dedup(PERIOD_TYPE.type), unit: strings.dedup(PERIOD_TYPE.unit)}),
    period: source.sampleBytes !== undefined && source.sampleBytes > 0 ? Math.round(source.sampleBytes) : 1,
    comment: (source.comments ?? []).map(comment => strings.dedup(comment)),
    defaultSampleType: sampleType[1]!.type,
    ...(source.types.drop ? {dropFrames: strings.dedup(source.types.drop)} : {}),
  });
}

/** The profile gzipped, as pprof files and /debug/pprof/ endpoints carry it. */
export function encodeProfile(source: ProfileSource): Buffer {
  return gzipSync(buildProfile(source).encode());
}

/**
 * A requests drill-down's stacks added up over its intervals: its stacks are per interval, a
 * profile is of the whole window. Stacks are summed by their frames.
 */
export class StackTotals {
  private readonly totals = new Map<string, {count: number; bytes: number; frames: string[]}>();
  /** The window: the first interval's start and the intervals' summed length, ms. */
  startMs?: number;
  durationMs = 0;

  /** Add one interval that ended at `endMs` and lasted `elapsedMs`. */
  add(stacks: readonly StackRow[], endMs: number, elapsedMs: number): void {
    this.startMs ??= endMs - elapsedMs;
    this.durationMs += elapsedMs;
    for (const stack of stacks) {
      const key = stack.frames.join('\u0000');
      const total = this.totals.get(key) ?? {count: 0, bytes: 0, frames: stack.frames};
      total.count += stack.count;
      total.bytes += stack.bytes ?? 0;
      this.totals.set(key, total);
    }
  }

  /** The summed stacks. */
  stacks(): StackRow[] {
    return [...this.totals.values()].map(total => ({...total}));
  }
}

/** What the binaries of a profile's frames are, from the system (system/binaries.ts). */
export interface FrameBinaries {
  binaries: ProfileBinary[];
  binaryOf: (frame: string) => number | undefined;
}

/**
 * One drill-down's profile as its intervals come: a requests drill-down's stacks summed over
 * every interval so far, a live one's latest interval (its figures are what is outstanding
 * now, of allocations at least `minAge` seconds old).
 */
export class DrillProfile {
  private readonly totals = new StackTotals();
  private last?: TracerStackSnapshot;
  intervals = 0;

  constructor(
    readonly types: ProfileTypes,
    private readonly minAge = 0,
  ) {}

  add(snapshot: TracerStackSnapshot): void {
    this.last = snapshot;
    this.intervals++;
    if (!snapshot.live) this.totals.add(snapshot.stacks, Date.parse(snapshot.time), snapshot.elapsedMs);
  }

  /** The profile so far (undefined before the first interval), its frames in `binaries`. */
  source(binaries?: FrameBinaries): ProfileSource | undefined {
    const last = this.last;
    if (!last) return undefined;
    const endMs = Date.parse(last.time);
    const what = `memtop ${TABS[last.tab].title}${last.view ? ` ${last.view}` : ''} stacks of ${last.cache !== undefined ? targetName(last) : `PID ${last.pid}${last.comm ? ` (${sanitize(last.comm)})` : ''}`} · ${last.probe}`;
    const frames = binaries ? {binaries: binaries.binaries, binaryOf: binaries.binaryOf} : {};
    if (last.live) {
      const view = topStacks(last, Number.MAX_SAFE_INTEGER, this.minAge);
      const startMs = Date.parse(last.live.since);
      const comments = [what, `outstanding at ${last.time}, of allocations made since ${last.live.since}${this.minAge > 0 ? ` and at least ${this.minAge} s old` : ''}: ${view.totalBytes} bytes in ${view.totalCount} allocations (exact)`];
      if (last.live.sampleBytes !== undefined) comments.push(`stacks sampled, one per about ${last.live.sampleBytes} bytes: their figures are estimates, scaled up`);
      if (last.live.untracked > 0) comments.push(`${last.live.untracked} allocations could not be tracked (the address table was full)`);
      return {types: this.types, stacks: view.stacks, startMs, durationMs: Math.max(0, endMs - startMs), ...(last.live.sampleBytes !== undefined ? {sampleBytes: last.live.sampleBytes} : {}), comments, ...frames};
    }
    return {types: this.types, stacks: this.totals.stacks(), startMs: this.totals.startMs ?? endMs, durationMs: this.totals.durationMs, comments: [what, `${this.intervals} intervals ending ${last.time}, every event traced`], ...frames};
  }
}
