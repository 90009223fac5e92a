// Parses what memtop's D scripts (probes/dtrace/*.d) print into the snapshot types every backend
// yields. The lines the scripts print themselves are TAB-separated with the name last (D cannot
// escape strings); stacks and histograms come in DTrace's own layout: %k frames one per line,
// indented, as module`function+0xoffset, and quantize()'s ASCII table. The format is documented
// at the top of each script. Everything here is pure except DtraceBlockReader, which only groups
// lines into blocks.
import {fromTracer, hasView, TABS, viewOf, type Measure} from '../registry.js';
import type {HistogramBucket, ProcessShare, RawRow, StackRow, StackTarget, TabId, TracerSnapshot, TracerStackSnapshot} from '../types.js';
import {collectBlocks, isoFromEpochMs, normalizeHistogram, parseCount, parsePid, parseSaturatedInteger, powerOfTwoBucket, targetOf} from './tracer-values.js';
import {ageClassesAt, liveRowsOf, liveStacksOf, type ClassStart, type ProcessClassAmount, type StackClassAmount} from './live.js';

/** A block longer than this is not a snapshot memtop's scripts print; it is dropped. */
export const DTRACE_MAX_BLOCK_LINES = 200_000;

const BEGIN = 'memtop\tbegin\t';
const END = 'memtop\tend\t';

/**
 * Groups a stream of lines into blocks from a "memtop<TAB>begin" line to the next
 * "memtop<TAB>end" line. Lines outside a block, and the lines of a block cut short, are
 * counted in `skippedLines` and dropped.
 */
export class DtraceBlockReader {
  skippedLines = 0;
  private open: string[] | undefined;

  /** Feed one line; returns a whole block when this line ends one. */
  push(line: string): string[] | undefined {
    if (line.startsWith(BEGIN)) {
      if (this.open) this.skippedLines += this.open.length;
      this.open = [line];
      return undefined;
    }
    if (!this.open) {
      // DTrace ends some output with empty lines; those are layout, not lost data.
      if (line.trim() !== '') this.skippedLines++;
      return undefined;
    }
    this.open.push(line);
    if (line.startsWith(END)) {
      const block = this.open;
      this.open = undefined;
      return block;
    }
    if (this.open.length > DTRACE_MAX_BLOCK_LINES) {
      this.skippedLines += this.open.length;
      this.open = undefined;
    }
    return undefined;
  }
}

/** What the parser needs to know beyond the text: which tab and probe the script traces. */
export interface DtraceContext {
  tab: TabId;
  probe: string;
}

export interface DtraceParseResult<T> {
  /** Undefined when the block is not a valid snapshot (then every line counts as skipped). */
  snapshot: T | undefined;
  /** Lines of this block that could not be understood. */
  skippedLines: number;
}

interface BlockEdges {
  time: string;
  elapsedMs: number;
  /** The begin line says the block is a live view's. */
  live: boolean;
}

function blockEdges(lines: readonly string[], tab: TabId): BlockEdges | undefined {
  if (lines.length < 2) return undefined;
  const begin = lines[0]!.split('\t');
  const end = lines.at(-1)!.split('\t');
  if (begin[0] !== 'memtop' || begin[1] !== 'begin' || begin[2]?.trim() !== tab) return undefined;
  const live = begin.at(-1)?.trim() === 'live' && begin.length > 3;
  if (end.length !== 4 || end[0] !== 'memtop' || end[1] !== 'end') return undefined;
  const wallMs = parseSaturatedInteger(end[2]!);
  const elapsed = parseSaturatedInteger(end[3]!);
  const time = wallMs === undefined ? undefined : isoFromEpochMs(wallMs);
  if (time === undefined || elapsed === undefined) return undefined;
  return {time, elapsedMs: Math.max(0, elapsed), live};
}

/** What a live script's lines say, by kind: since when, what it could not track, its classes, and its amounts. */
interface LiveLines {
  since?: string;
  untracked: number;
  starts: ClassStart[];
  amounts: ProcessClassAmount[];
  totals: {index: number; count: number; bytes: number}[];
  stacks: StackClassAmount[];
  skippedLines: number;
}

/**
 * A live block's lines (malloc-live.d, stacks-malloc-live.d): "live", "class", "amount" (per
 * process), "total" and "stack" (a drill-down's, by caller; counts x 1024). Empty lines are
 * DTrace's layout; anything else is skipped and counted.
 */
function liveLines(lines: readonly string[]): LiveLines {
  const read: LiveLines = {untracked: 0, starts: [], amounts: [], totals: [], stacks: [], skippedLines: 0};
  const number = (text: string | undefined) => (text === undefined ? undefined : parseSaturatedInteger(text));
  for (const line of lines.slice(1, -1)) {
    if (line.trim() === '') continue;
    const parts = line.split('\t');
    const [first, second, third, fourth] = [1, 2, 3, 4].map(at => number(parts[at]));
    let ok = false;
    if (parts[0] === 'live' && parts.length === 3 && first !== undefined && second !== undefined && second >= 0) {
      read.since = isoFromEpochMs(first);
      read.untracked = second;
      ok = read.since !== undefined;
    } else if (parts[0] === 'class' && parts.length === 3 && first !== undefined && first >= 0 && second !== undefined) {
      read.starts.push({index: first, start: second});
      ok = true;
    } else if (parts[0] === 'amount' && parts.length >= 6 && first !== undefined && second !== undefined && third !== undefined && fourth !== undefined) {
      const pid = parsePid(parts[1]!);
      if (pid !== undefined) read.amounts.push({pid, index: second, count: third, bytes: fourth, comm: parts.slice(5).join('\t')});
      ok = pid !== undefined;
    } else if (parts[0] === 'total' && parts.length === 4 && first !== undefined && second !== undefined && third !== undefined) {
      read.totals.push({index: first, count: second, bytes: third});
      ok = true;
    } else if (parts[0] === 'stack' && parts.length >= 5 && first !== undefined && second !== undefined && third !== undefined) {
      const frame = dtraceFrameName(parts.slice(4).join('\t'));
      if (frame !== '') read.stacks.push({index: first, count: second / 1024, bytes: third, frames: [frame]});
      ok = frame !== '';
    }
    if (!ok) read.skippedLines++;
  }
  return read;
}

/** "-" (no bytes measured), a signed byte total, or null when malformed. */
function parseBytes(text: string): number | undefined | null {
  if (text.trim() === '-') return undefined;
  return parseSaturatedInteger(text) ?? null;
}

type RowParse = {row: RawRow} | {dropped: true} | undefined;

/**
 * One "row" (row, pid, values, name) or "cache" (cache, values, name) line. The values are the
 * view's measures in the registry's order, at least two columns of them: a view that measures
 * one thing prints "-" in the second. The name is the rest of the line (D cannot escape it).
 * A row with a count of 0 (printa() prints the keys of all its aggregations, with 0 where one
 * lacks a key) carries nothing: dropped, not skipped.
 */
function parseRow(line: string, measures: readonly Measure[]): RowParse {
  const parts = line.split('\t');
  const isRow = parts[0] === 'row';
  const first = isRow ? 2 : 1;
  const columns = Math.max(2, measures.length);
  if (parts.length < first + columns + 1) return undefined;
  const values = parts.slice(first, first + columns);
  const row: RawRow = {count: 0};
  for (const [index, text] of values.entries()) {
    const measure = measures[index];
    if (measure === undefined) {
      if (text.trim() !== '-') return undefined;
      continue;
    }
    const value = measure.id === 'count' ? parseCount(text) : parseSaturatedInteger(text);
    if (value === undefined) return undefined;
    row[measure.id] = fromTracer(measure.unit, value);
  }
  if (row.count === 0) return {dropped: true};
  const name = parts.slice(first + columns).join('\t');
  if (isRow) {
    const pid = parsePid(parts[1]!);
    if (pid === undefined) return undefined;
    row.pid = pid;
    row.comm = name;
  } else {
    row.cache = name;
  }
  return {row};
}

const measuresOf = (tab: TabId, view: 'process' | 'cache') => viewOf(tab, view).measures;

/**
 * Parse one per-process snapshot block (from "memtop<TAB>begin" to "memtop<TAB>end").
 * Unknown and malformed lines inside are skipped and counted, never thrown; empty lines are
 * DTrace's layout and are ignored.
 */
export function parseDtraceSnapshot(lines: readonly string[], context: DtraceContext): DtraceParseResult<TracerSnapshot> {
  const edges = blockEdges(lines, context.tab);
  if (!edges) return {snapshot: undefined, skippedLines: lines.length};
  if (edges.live) {
    const read = liveLines(lines);
    if (read.since === undefined) return {snapshot: undefined, skippedLines: lines.length};
    const rows = liveRowsOf(read.amounts, ageClassesAt(read.starts, Date.parse(edges.time), 1000));
    const snapshot: TracerSnapshot = {tab: context.tab, view: 'live', backend: 'dtrace', probe: context.probe, time: edges.time, elapsedMs: edges.elapsedMs, rows, since: read.since, untracked: read.untracked, capped: read.untracked > 0};
    return {snapshot, skippedLines: read.skippedLines};
  }
  const byCache = hasView(context.tab, 'cache');
  const rows: RawRow[] = [];
  const cacheRows: RawRow[] = [];
  let skippedLines = 0;
  for (const line of lines.slice(1, -1)) {
    if (line.trim() === '') continue;
    const type = line.split('\t', 1)[0];
    const parsed = type === 'row' ? parseRow(line, measuresOf(context.tab, 'process')) : type === 'cache' && byCache ? parseRow(line, measuresOf(context.tab, 'cache')) : undefined;
    if (!parsed) skippedLines++;
    else if ('row' in parsed) (parsed.row.cache === undefined ? rows : cacheRows).push(parsed.row);
  }
  const snapshot: TracerSnapshot = {
    tab: context.tab,
    view: 'process',
    backend: 'dtrace',
    probe: context.probe,
    time: edges.time,
    elapsedMs: edges.elapsedMs,
    rows,
  };
  if (byCache) snapshot.otherViews = {cache: cacheRows};
  return {snapshot, skippedLines};
}

/**
 * A frame as memtop shows it: "libc.so.1`malloc+0x8" becomes "malloc", "a.out`main" stays
 * "main"; frames DTrace could not name ("libc.so.1`0x7fff0010", "0x401234") become the bare
 * hex address.
 */
export function dtraceFrameName(frame: string): string {
  const trimmed = frame.trim();
  const tick = trimmed.indexOf('`');
  const symbol = tick === -1 ? trimmed : trimmed.slice(tick + 1);
  if (/^0x[\da-f]+$/i.test(symbol)) return symbol;
  return symbol.replace(/\+0x[\da-f]+$/i, '');
}

/** A line that belongs to the structure of the block, not to a stack being printed. */
function isStructureLine(line: string): boolean {
  return /^(?:memtop|stack|row|cache|entry|proc)\t/.test(line) || /^(?:endstack|hist|endhist)$/.test(line);
}

const ANNOTATION = /^\s*\[ .* \]\s*$/;
const QUANTIZE_HEADER = /^\s*value\s+-+ Distribution -+\s+count\s*$/;
/** One quantize() bucket line: its lower bound, a bar (ASCII @ or UTF-8 blocks) around "|", the count. */
const QUANTIZE_ROW = /^\s*(-?\d+) [^|]*\|\D*?(\d+)\s*$/;

/**
 * Parse one drill-down block: stacks (from "stack" to "endstack"), and for malloc the quantize()
 * histogram (between "hist" and "endhist") and the entry points. A stack cut off by another
 * record before its "endstack" is truncated: its lines are skipped and counted and it is
 * dropped. Stacks with no frame at all (no user stack, e.g. in a kernel thread) are dropped,
 * as the bpftrace backend drops them.
 */
export function parseDtraceStackSnapshot(
  lines: readonly string[],
  context: DtraceContext & StackTarget & {sampleBytes?: number},
): DtraceParseResult<TracerStackSnapshot> {
  const edges = blockEdges(lines, context.tab);
  if (!edges) return {snapshot: undefined, skippedLines: lines.length};
  if (edges.live) {
    const read = liveLines(lines);
    if (read.since === undefined) return {snapshot: undefined, skippedLines: lines.length};
    const stacks = liveStacksOf(read.stacks, read.totals, ageClassesAt(read.starts, Date.parse(edges.time), 1000));
    const snapshot: TracerStackSnapshot = {
      tab: context.tab,
      view: 'live',
      backend: 'dtrace',
      probe: context.probe,
      ...targetOf(context),
      time: edges.time,
      elapsedMs: edges.elapsedMs,
      stacks: stacks.stacks,
      live: {since: read.since, classes: stacks.classes, totals: stacks.totals, untracked: read.untracked, ...(context.sampleBytes ? {sampleBytes: context.sampleBytes} : {})},
      capped: read.untracked > 0,
    };
    return {snapshot, skippedLines: read.skippedLines};
  }
  const withBytes = TABS[context.tab].stackBytes;
  const withTime = TABS[context.tab].stackTime === true;
  const histogramKind = TABS[context.tab].stackHistogram;
  const withHistogram = histogramKind !== undefined;
  const stacks: StackRow[] = [];
  const histogram: HistogramBucket[] = [];
  const entryPoints: {name: string; count: number}[] = [];
  const processes: ProcessShare[] = [];
  let skippedLines = 0;
  let stack: {count: number; bytes: number | undefined; frames: string[]; lines: number} | undefined;
  let inHistogram = false;
  for (const line of lines.slice(1, -1)) {
    if (stack) {
      if (line === 'endstack') {
        if (stack.count > 0 && stack.frames.length > 0) {
          stacks.push({
            count: stack.count,
            ...(withBytes ? {bytes: stack.bytes ?? 0} : {}),
            ...(withTime ? {ms: fromTracer('ms', stack.bytes ?? 0)} : {}),
            frames: stack.frames,
          });
        }
        stack = undefined;
        continue;
      }
      if (!isStructureLine(line)) {
        stack.lines++;
        if (line.trim() !== '' && !ANNOTATION.test(line)) stack.frames.push(dtraceFrameName(line));
        continue;
      }
      skippedLines += stack.lines;
      stack = undefined;
    }
    if (inHistogram) {
      if (line === 'endhist') {
        inHistogram = false;
        continue;
      }
      if (!isStructureLine(line)) {
        if (line.trim() === '' || QUANTIZE_HEADER.test(line)) continue;
        const match = QUANTIZE_ROW.exec(line);
        const bucket = match ? powerOfTwoBucket(match[1]!, parseCount(match[2]!) ?? Number.NaN) : undefined;
        if (bucket && !Number.isNaN(bucket.count)) histogram.push(bucket);
        else skippedLines++;
        continue;
      }
      inHistogram = false;
    }
    if (line.trim() === '') continue;
    const parts = line.split('\t');
    if (parts[0] === 'stack') {
      const count = parts.length >= 3 ? parseCount(parts[1]!) : undefined;
      const bytes = parts.length >= 3 ? parseBytes(parts[2]!) : null;
      const rest = parts.slice(3).join('\t').trim();
      // The second column is the stack's bytes, or its time in ns (reclaim), or "-".
      if (count === undefined || bytes === null || (withBytes || withTime) !== (bytes !== undefined) || rest !== '') skippedLines++;
      else stack = {count, bytes, frames: [], lines: 1};
    } else if (line === 'hist' && withHistogram) {
      inHistogram = true;
    } else if (parts[0] === 'proc' && context.cache !== undefined && parts.length >= 5) {
      const pid = parsePid(parts[1]!);
      const count = parseCount(parts[2]!);
      const bytes = parseSaturatedInteger(parts[3]!);
      if (pid === undefined || count === undefined || bytes === undefined) skippedLines++;
      else if (count > 0) processes.push({pid, comm: parts.slice(4).join('\t'), count, bytes});
    } else if (parts[0] === 'entry' && histogramKind === true && parts.length >= 3) {
      const count = parseCount(parts[1]!);
      if (count === undefined) skippedLines++;
      else entryPoints.push({name: parts.slice(2).join('\t'), count});
    } else {
      skippedLines++;
    }
  }
  if (stack) skippedLines += stack.lines;
  const snapshot: TracerStackSnapshot = {
    tab: context.tab,
    backend: 'dtrace',
    probe: context.probe,
    ...targetOf(context),
    time: edges.time,
    elapsedMs: edges.elapsedMs,
    stacks,
  };
  if (context.cache !== undefined) Object.assign(snapshot, {processes: processes.sort((a, b) => b.count - a.count), kernel: true});
  if (withHistogram) snapshot.histogram = normalizeHistogram(histogram);
  if (histogramKind === true) snapshot.entryPoints = entryPoints;
  return {snapshot, skippedLines};
}

/**
 * Parse a whole captured output (e.g. a fixture) into snapshots, with skippedLines counted
 * cumulatively, as the live backend counts them.
 */
export function parseDtraceOutput(text: string, context: DtraceContext): TracerSnapshot[] {
  return collectBlocks(text, new DtraceBlockReader(), block => parseDtraceSnapshot(block, context));
}

/** parseDtraceOutput for drill-down output. */
export function parseDtraceStackOutput(text: string, context: DtraceContext & StackTarget & {sampleBytes?: number}): TracerStackSnapshot[] {
  return collectBlocks(text, new DtraceBlockReader(), block => parseDtraceStackSnapshot(block, context));
}
