// Number and histogram helpers shared by the SystemTap and DTrace output parsers; pure functions.
import type {HistogramBucket} from '../types.js';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const MIN = -MAX;

/**
 * A decimal integer as printed by a tracer, or undefined when the text is not one.
 * Tracers count in 64 bits; a value past 2^53 - 1 cannot be held exactly in a JS number, and
 * Number() would round it silently. The value is parsed exactly (BigInt) and saturated at
 * ±Number.MAX_SAFE_INTEGER instead, so a huge count reads as "at least 9007199254740991",
 * never as a different, smaller-looking number.
 */
export function parseSaturatedInteger(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^-?\d{1,40}$/.test(trimmed)) return undefined;
  const value = BigInt(trimmed);
  if (value > MAX) return Number.MAX_SAFE_INTEGER;
  if (value < MIN) return -Number.MAX_SAFE_INTEGER;
  return Number(value);
}

/** A count (0 or more), saturated like parseSaturatedInteger. */
export function parseCount(text: string): number | undefined {
  const value = parseSaturatedInteger(text);
  return value !== undefined && value >= 0 ? value : undefined;
}

/** A process id: a whole number from 0 to 2^31 - 1. */
export function parsePid(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{1,10}$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return value <= 0x7fffffff ? value : undefined;
}

/** Milliseconds since the epoch as an ISO 8601 string, or undefined when out of Date's range. */
export function isoFromEpochMs(ms: number): string | undefined {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return undefined;
  return new Date(ms).toISOString();
}

function saturate(value: bigint): number {
  if (value > MAX) return Number.MAX_SAFE_INTEGER;
  if (value < MIN) return -Number.MAX_SAFE_INTEGER;
  return Number(value);
}

/**
 * The power-of-two bucket whose lowest value is `low` (DTrace's quantize() labels buckets so):
 * 0 holds [0, 0], 1 holds [1, 1], 2^k holds [2^k, 2^(k+1) - 1], and the negative buckets
 * mirror them (-1 holds [-1, -1], -2^k holds [-(2^(k+1) - 1), -2^k]).
 * Undefined when `low` is not such a bound.
 */
export function powerOfTwoBucket(lowText: string, count: number): HistogramBucket | undefined {
  const trimmed = lowText.trim();
  if (!/^-?\d{1,40}$/.test(trimmed)) return undefined;
  const low = BigInt(trimmed);
  const magnitude = low < 0n ? -low : low;
  if (magnitude !== 0n && (magnitude & (magnitude - 1n)) !== 0n) return undefined;
  if (low >= 0n) {
    const high = low <= 1n ? low : low * 2n - 1n;
    return {min: saturate(low), max: saturate(high), count};
  }
  const lowest = magnitude === 1n ? low : low * 2n + 1n;
  return {min: saturate(lowest), max: saturate(low), count};
}

/**
 * Buckets sorted by their lower bound, from the first to the last non-empty one, with the
 * empty power-of-two buckets between them filled in, so that every tracer's histogram reads
 * the same (bpftrace prints it so; DTrace adds an empty bucket on each side; memtop's stap
 * script prints only non-empty ones). Buckets with the same bounds are added up.
 */
export function normalizeHistogram(buckets: readonly HistogramBucket[]): HistogramBucket[] {
  const byMin = new Map<number, HistogramBucket>();
  for (const bucket of buckets) {
    const existing = byMin.get(bucket.min);
    if (existing) existing.count += bucket.count;
    else byMin.set(bucket.min, {...bucket});
  }
  const sorted = [...byMin.values()].sort((a, b) => a.min - b.min);
  const first = sorted.findIndex(bucket => bucket.count !== 0);
  if (first === -1) return [];
  let last = sorted.length - 1;
  while (sorted[last]!.count === 0) last--;
  const kept = sorted.slice(first, last + 1);
  const filled: HistogramBucket[] = [];
  for (const bucket of kept) {
    const previous = filled.at(-1);
    if (previous && previous.min >= 0) {
      let next = nextBucket(previous);
      while (next && next.min < bucket.min) {
        filled.push(next);
        next = nextBucket(next);
      }
    }
    filled.push(bucket);
  }
  return filled;
}

/** The empty non-negative power-of-two bucket after `bucket`, or undefined past the safe range. */
function nextBucket(bucket: HistogramBucket): HistogramBucket | undefined {
  if (bucket.max >= Number.MAX_SAFE_INTEGER / 2) return undefined;
  const min = bucket.max + 1;
  return {min, max: min <= 1 ? min : min * 2 - 1, count: 0};
}
