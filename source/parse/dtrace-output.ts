// Reads what memtop's D scripts (probes/dtrace/*.d) print. The lines the scripts print themselves
// are TAB-separated with the name last (D cannot escape strings); stacks and histograms come in
// DTrace's own layout: %k frames one per line, indented, as module`function+0xoffset, and
// quantize()'s ASCII table. The format is documented at the top of each script. This file
// tokenises; parse/text-blocks.ts reads the blocks into snapshots. Pure.
import {fromTracer, type Measure} from '../registry.js';
import type {RawRow, StackTarget, TracerSnapshot, TracerStackSnapshot} from '../types.js';
import {isoFromEpochMs, parseCount, parsePid, parseSaturatedInteger, powerOfTwoBucket} from './tracer-values.js';
import {emptyLiveRead, parseStackOutput, parseTableOutput, stackRowOf, type BlockEdges, type LiveRead, type StackContext, type StackRead, type StackShape, type TableMeasures, type TextContext, type TextFormat} from './text-blocks.js';

/** A block longer than this is not a snapshot memtop's scripts print; it is dropped. */
export const DTRACE_MAX_BLOCK_LINES = 200_000;

const BEGIN = 'memtop\tbegin\t';
const END = 'memtop\tend\t';

/** Check the begin and end lines of a block; undefined when either is missing or malformed. */
function blockEdges(lines: readonly string[], tab: string): BlockEdges | undefined {
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

/**
 * A live block's body (malloc-live.d, stacks-malloc-live.d): "live", "class", "amount" (per
 * process), "total" and "stack" (a drill-down's, by caller; counts x 1024). Empty lines are
 * DTrace's layout; anything else is skipped and counted.
 */
function liveLines(body: readonly string[]): LiveRead {
  const read = emptyLiveRead();
  const number = (text: string | undefined) => (text === undefined ? undefined : parseSaturatedInteger(text));
  for (const line of body) {
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
 * lacks a key) carries nothing: dropped, not skipped. Measures that can be unknown
 * (Measure.unknown) are not printed: the row lacks them.
 */
function parseRow(line: string, all: readonly Measure[]): RowParse {
  const measures = all.filter(measure => measure.unknown === undefined);
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

/** One table line: a "row" of the process view, or a "cache" row of a tab that has a cache view; null for an empty line (DTrace's layout) or a row with nothing counted. */
function tableRow(line: string, measures: TableMeasures): RawRow | null | undefined {
  if (line.trim() === '') return null;
  const type = line.split('\t', 1)[0];
  const parsed = type === 'row' ? parseRow(line, measures.process) : type === 'cache' && measures.cache ? parseRow(line, measures.cache) : undefined;
  return parsed && ('row' in parsed ? parsed.row : null);
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
 * A drill-down block's body: stacks (from "stack" to "endstack"), and for malloc the quantize()
 * histogram (between "hist" and "endhist") and the entry points. A stack cut off by another
 * record before its "endstack" is truncated: its lines are skipped and counted and it is
 * dropped. Stacks with no frame at all (no user stack, e.g. in a kernel thread) are dropped,
 * as the bpftrace backend drops them.
 */
function stackLines(body: readonly string[], context: StackTarget, shape: StackShape): StackRead {
  const read: StackRead = {stacks: [], histogram: [], entryPoints: [], processes: [], skippedLines: 0};
  let stack: {count: number; bytes: number | undefined; frames: string[]; lines: number} | undefined;
  let inHistogram = false;
  for (const line of body) {
    if (stack) {
      if (line === 'endstack') {
        // The second column is the stack's bytes, or its time in ns (reclaim).
        if (stack.count > 0 && stack.frames.length > 0) read.stacks.push(stackRowOf(shape, stack.count, stack.bytes, stack.bytes, stack.frames));
        stack = undefined;
        continue;
      }
      if (!isStructureLine(line)) {
        stack.lines++;
        if (line.trim() !== '' && !ANNOTATION.test(line)) stack.frames.push(dtraceFrameName(line));
        continue;
      }
      read.skippedLines += stack.lines;
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
        if (bucket && !Number.isNaN(bucket.count)) read.histogram.push(bucket);
        else read.skippedLines++;
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
      if (count === undefined || bytes === null || (shape.withBytes || shape.withTime) !== (bytes !== undefined) || rest !== '') read.skippedLines++;
      else stack = {count, bytes, frames: [], lines: 1};
    } else if (line === 'hist' && shape.histogramKind !== undefined) {
      inHistogram = true;
    } else if (parts[0] === 'proc' && context.cache !== undefined && parts.length >= 5) {
      const pid = parsePid(parts[1]!);
      const count = parseCount(parts[2]!);
      const bytes = parseSaturatedInteger(parts[3]!);
      if (pid === undefined || count === undefined || bytes === undefined) read.skippedLines++;
      else if (count > 0) read.processes.push({pid, comm: parts.slice(4).join('\t'), count, bytes});
    } else if (parts[0] === 'entry' && shape.histogramKind === true && parts.length >= 3) {
      const count = parseCount(parts[1]!);
      if (count === undefined) read.skippedLines++;
      else read.entryPoints.push({name: parts.slice(2).join('\t'), count});
    } else {
      read.skippedLines++;
    }
  }
  if (stack) read.skippedLines += stack.lines;
  return read;
}

/**
 * DTrace's output format, read by parse/text-blocks.ts. Its blocks run from a "memtop<TAB>begin"
 * line to the next "memtop<TAB>end" line; DTrace ends some output with empty lines, which are
 * layout, not lost data.
 */
export const DTRACE_FORMAT: TextFormat = {
  backend: 'dtrace',
  blocks: {isBegin: line => line.startsWith(BEGIN), isEnd: line => line.startsWith(END), maxLines: DTRACE_MAX_BLOCK_LINES, isLayout: line => line.trim() === ''},
  edges: blockEdges,
  row: tableRow,
  live: liveLines,
  stacks: stackLines,
};

/** Parse a whole captured output (e.g. a fixture) into snapshots, as the live backend reads them. */
export const parseDtraceOutput = (text: string, context: TextContext): TracerSnapshot[] => parseTableOutput(DTRACE_FORMAT, text, context);

/** parseDtraceOutput for drill-down output. */
export const parseDtraceStackOutput = (text: string, context: StackContext): TracerStackSnapshot[] => parseStackOutput(DTRACE_FORMAT, text, context);
