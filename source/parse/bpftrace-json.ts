// Pure parsing of bpftrace's NDJSON output (-f json) from memtop's probe scripts into each interval's maps.
import type {HistogramBucket} from '../types.js';
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
      case 'helper_error':
        // bpftrace 0.23 and later report a delete of a key that is not there. memtop's scripts
        // delete only what they read as there, but two CPUs can race to delete one key (the
        // growth script's, as a multithreaded runtime's counters change on two CPUs at once,
        // seen once in CI): the key is gone, as the script meant. Any other helper error counts.
        if ((message as {helper?: unknown}).helper === 'map_delete_elem' && (message as {retcode?: unknown}).retcode === -2) return undefined;
        // bpftrace 0.23 puts a new key into a per-CPU count() or sum() map with BPF_NOEXIST: two CPUs
        // first to one key at once, the second's insert fails with EEXIST and its one event is lost
        // (bpftrace issue #4068, fixed after 0.23 by inserting with BPF_ANY, pull request #4074).
        // Seen in CI as a slab cache's first frees on two CPUs. One event, not a line memtop misread.
        if ((message as {helper?: unknown}).helper === 'map_update_elem' && (message as {retcode?: unknown}).retcode === -17) return undefined;
        return this.skip(trimmed);
      default:
        // lost events and other message kinds are not ours to show as rows
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
