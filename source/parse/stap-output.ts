// Reads what memtop's SystemTap scripts (probes/stap/*.stp) print: TAB-separated key=value
// records between a "begin" and an "end" line, names escaped with text_str(). The format is
// documented at the top of each script. This file tokenises; parse/text-blocks.ts reads the
// blocks into snapshots. Pure.
import {fromTracer, isTabId, type Measure} from '../registry.js';
import type {RawRow, StackTarget, TracerSnapshot, TracerStackSnapshot} from '../types.js';
import {isoFromEpochMs, parseCount, parsePid, parseSaturatedInteger} from './tracer-values.js';
import {emptyLiveRead, parseStackOutput, parseTableOutput, stackRowOf, type BlockEdges, type LiveRead, type StackContext, type StackRead, type StackShape, type TableMeasures, type TextContext, type TextFormat} from './text-blocks.js';
import type {StackClassAmount} from './live.js';

/** A block longer than this is not a snapshot memtop's scripts print; it is dropped. */
export const STAP_MAX_BLOCK_LINES = 100_000;

/**
 * Decode a string escaped by SystemTap's text_str(): \a \b \f \n \r \t \v \" \\ and \ooo
 * stand for single bytes, \uXXXX and \UXXXXXXXX for Unicode code points (stap decoded them
 * from UTF-8). Bytes are reassembled and read as UTF-8, so a name that was not valid UTF-8
 * gets U+FFFD where its bad bytes were. Control characters are kept: the UI strips them.
 */
export function decodeStapString(text: string): string {
  const bytes: number[] = [];
  const pushCodePoint = (codePoint: number) => {
    const valid = codePoint <= 0x10ffff && !(codePoint >= 0xd800 && codePoint <= 0xdfff);
    for (const byte of Buffer.from(String.fromCodePoint(valid ? codePoint : 0xfffd), 'utf8')) bytes.push(byte);
  };
  const simple: Record<string, number> = {a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '"': 34, '\\': 92};
  for (let index = 0; index < text.length; index++) {
    const codePoint = text.codePointAt(index)!;
    if (codePoint !== 92 || index === text.length - 1) {
      pushCodePoint(codePoint);
      if (codePoint > 0xffff) index++;
      continue;
    }
    const next = text[index + 1]!;
    const octal = /^[0-7]{3}/.exec(text.slice(index + 1, index + 4));
    const unicode = next === 'u' ? /^[\da-fA-F]{4}/.exec(text.slice(index + 2, index + 6)) : next === 'U' ? /^[\da-fA-F]{8}/.exec(text.slice(index + 2, index + 10)) : null;
    if (simple[next] !== undefined) {
      bytes.push(simple[next]!);
      index++;
    } else if (octal) {
      bytes.push(Number.parseInt(octal[0], 8) & 0xff);
      index += 3;
    } else if (unicode) {
      pushCodePoint(Number.parseInt(unicode[0], 16));
      index += 1 + unicode[0].length;
    } else {
      bytes.push(92);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** One record line: its type and its key=value fields (values still escaped). */
export interface StapRecord {
  type: string;
  fields: Map<string, string>;
}

/** Split one line into its record type and fields; undefined when it is not a record at all. */
export function parseStapRecord(line: string): StapRecord | undefined {
  const parts = line.replace(/\r$/, '').split('\t');
  const type = parts[0]!;
  if (!/^[a-z]+$/.test(type)) return undefined;
  const fields = new Map<string, string>();
  for (const part of parts.slice(1)) {
    const equals = part.indexOf('=');
    if (equals <= 0) return undefined;
    fields.set(part.slice(0, equals), part.slice(equals + 1));
  }
  return {type, fields};
}

/** Check the begin and end lines of a block; undefined when either is missing or malformed. */
function blockEdges(lines: readonly string[], tab: string): BlockEdges | undefined {
  if (lines.length < 2) return undefined;
  const begin = parseStapRecord(lines[0]!);
  const end = parseStapRecord(lines.at(-1)!);
  if (begin?.type !== 'begin' || end?.type !== 'end') return undefined;
  const beginTab = begin.fields.get('tab');
  if (!beginTab || !isTabId(beginTab) || beginTab !== tab) return undefined;
  const ts = parseSaturatedInteger(end.fields.get('ts') ?? '');
  const elapsed = parseSaturatedInteger(end.fields.get('ms') ?? '');
  const time = ts === undefined ? undefined : isoFromEpochMs(ts);
  if (time === undefined || elapsed === undefined) return undefined;
  const comm = end.fields.get('comm');
  return {time, elapsedMs: Math.max(0, elapsed), live: begin.fields.get('view') === 'live', capped: end.fields.get('capped') === '1', ...(comm ? {comm: decodeStapString(comm)} : {})};
}

/** A byte total: may be negative (brk's net growth), saturated at ±2^53 - 1. */
function parseBytes(fields: Map<string, string>): number | undefined | null {
  const text = fields.get('bytes');
  if (text === undefined) return undefined;
  return parseSaturatedInteger(text) ?? null;
}

/**
 * One "row" (per process) or "cache" line as a RawRow with every measure of its view (a field
 * named by the measure: count=, bytes=, ...), or undefined when malformed or one is missing; a
 * measure that can be unknown (Measure.unknown) may be missing, and the row then lacks it.
 */
function parseRow(record: StapRecord, measures: readonly Measure[]): RawRow | undefined {
  const count = parseCount(record.fields.get('count') ?? '');
  if (count === undefined) return undefined;
  const row: RawRow = {count};
  for (const measure of measures) {
    if (measure.id === 'count') continue;
    const text = record.fields.get(measure.id);
    if (text === undefined && measure.unknown !== undefined) continue;
    const value = parseSaturatedInteger(text ?? '');
    if (value === undefined) return undefined;
    row[measure.id] = fromTracer(measure.unit, value);
  }
  if (record.type === 'row') {
    const pid = parsePid(record.fields.get('pid') ?? '');
    const comm = record.fields.get('comm');
    if (pid === undefined || comm === undefined) return undefined;
    row.pid = pid;
    row.comm = decodeStapString(comm);
  } else {
    const name = record.fields.get('name');
    if (name === undefined) return undefined;
    row.cache = decodeStapString(name);
  }
  return row;
}

/** One table line: a "row" of the process view, or a "cache" row of a tab that has a cache view. */
function tableRow(line: string, measures: TableMeasures): RawRow | undefined {
  const record = parseStapRecord(line);
  if (record?.type === 'row') return parseRow(record, measures.process);
  if (record?.type === 'cache' && measures.cache) return parseRow(record, measures.cache);
  return undefined;
}

/** A live block's "live" or "class" line into `read`; false when the line is neither or is malformed. */
function liveHeaderLine(record: StapRecord | undefined, read: LiveRead): boolean {
  if (record?.type === 'live') {
    const since = parseSaturatedInteger(record.fields.get('since') ?? '');
    const untracked = parseCount(record.fields.get('untracked') ?? '');
    const time = since === undefined ? undefined : isoFromEpochMs(since);
    if (time === undefined || untracked === undefined) return false;
    read.since = time;
    read.untracked = untracked;
    return true;
  }
  if (record?.type === 'class') {
    const index = parseCount(record.fields.get('class') ?? '');
    const start = parseSaturatedInteger(record.fields.get('start') ?? '');
    if (index === undefined || start === undefined) return false;
    read.starts.push({index, start});
    return true;
  }
  return false;
}

/** One "amount" or "total" line's class, count and bytes (and for "amount", its pid and name). */
function liveAmount(record: StapRecord): {index: number; count: number; bytes: number} | undefined {
  const index = parseCount(record.fields.get('class') ?? '');
  const count = parseSaturatedInteger(record.fields.get('count') ?? '');
  const bytes = parseSaturatedInteger(record.fields.get('bytes') ?? '');
  return index === undefined || count === undefined || bytes === undefined ? undefined : {index, count, bytes};
}

/** A live view's table block (malloc-live.stp): outstanding bytes and allocations per process and class. */
function liveTableLines(body: readonly string[]): LiveRead {
  const read = emptyLiveRead();
  for (const line of body) {
    const record = parseStapRecord(line);
    if (liveHeaderLine(record, read)) continue;
    const amount = record?.type === 'amount' ? liveAmount(record) : undefined;
    const pid = record ? parsePid(record.fields.get('pid') ?? '') : undefined;
    const comm = record?.fields.get('comm');
    if (!amount || pid === undefined || comm === undefined) read.skippedLines++;
    else read.amounts.push({...amount, pid, comm: decodeStapString(comm)});
  }
  return read;
}


/**
 * A function name as memtop shows it: no "+0x..." offset, no "/0x..." size and no " [module]"
 * (stap's usymdata() form), no "module`" prefix. Hex addresses stay as they are.
 */
export function stapFrameName(symbol: string): string {
  let name = symbol.replace(/\s+\[[^\]]*\]$/, '');
  name = name.replace(/\+0x[\da-f]+(?:\/0x[\da-f]+)?$/i, '');
  const tick = name.indexOf('`');
  if (tick > 0 && !/^0x[\da-f]+$/i.test(name)) name = name.slice(tick + 1);
  return name;
}

/**
 * A live drill-down's block (stacks-malloc-live.stp): its age classes, the process's exact totals
 * per class, and its stacks per class (counts x 1024). A stack cut short is skipped and counted.
 */
function liveStackLines(body: readonly string[]): LiveRead {
  const read = emptyLiveRead();
  let open: (StackClassAmount & {lines: number}) | undefined;
  for (const line of body) {
    const record = parseStapRecord(line);
    if (open && record?.type === 'frame' && record.fields.has('sym')) {
      open.frames.push(stapFrameName(decodeStapString(record.fields.get('sym')!)));
      open.lines++;
      continue;
    }
    if (open && record?.type === 'endstack' && parseCount(record.fields.get('frames') ?? '') === open.frames.length) {
      const {lines: _lines, ...amount} = open;
      read.stacks.push({...amount, count: amount.count / 1024});
      open = undefined;
      continue;
    }
    if (open) {
      read.skippedLines += open.lines;
      open = undefined;
      if (record?.type === 'endstack') {
        read.skippedLines++;
        continue;
      }
    }
    if (liveHeaderLine(record, read)) continue;
    const amount = record && (record.type === 'total' || record.type === 'stack') ? liveAmount(record) : undefined;
    if (!amount) read.skippedLines++;
    else if (record!.type === 'total') read.totals.push(amount);
    else open = {...amount, frames: [], lines: 1};
  }
  if (open) read.skippedLines += open.lines;
  return read;
}

interface OpenStack {
  count: number;
  bytes: number | undefined;
  /** Its time in ns (reclaim). */
  ns: number | undefined;
  frames: string[];
  lines: number;
}

/**
 * A drill-down block's body (stacks, for malloc the size histogram and entry points, for reclaim
 * the stalls' time and lengths). A stack whose "endstack" line is missing or whose frame count
 * disagrees is truncated: its lines are skipped and counted and the stack is dropped. Stacks with
 * no frame at all (no user stack) are dropped, as the bpftrace backend drops them.
 */
function stackLines(body: readonly string[], context: StackTarget, shape: StackShape): StackRead {
  const read: StackRead = {stacks: [], histogram: [], entryPoints: [], processes: [], skippedLines: 0};
  let open: OpenStack | undefined;
  const abandon = () => {
    if (open) read.skippedLines += open.lines;
    open = undefined;
  };
  for (const line of body) {
    const record = parseStapRecord(line);
    if (open && record?.type === 'frame') {
      const symbol = record.fields.get('sym');
      if (symbol === undefined) {
        abandon();
        read.skippedLines++;
        continue;
      }
      open.frames.push(stapFrameName(decodeStapString(symbol)));
      open.lines++;
      continue;
    }
    if (open && record?.type === 'endstack') {
      const frames = parseCount(record.fields.get('frames') ?? '');
      if (frames !== open.frames.length) {
        open.lines++;
        abandon();
        continue;
      }
      if (open.frames.length > 0) read.stacks.push(stackRowOf(shape, open.count, open.bytes, open.ns, open.frames));
      open = undefined;
      continue;
    }
    abandon();
    if (record?.type === 'stack') {
      const count = parseCount(record.fields.get('count') ?? '');
      const bytes = parseBytes(record.fields);
      // A stack's time is printed in ns (the field is named for what memtop shows: ms).
      const ns = shape.withTime ? parseCount(record.fields.get('ms') ?? '') : undefined;
      if (count === undefined || bytes === null || (shape.withBytes && bytes === undefined) || (shape.withTime && ns === undefined)) read.skippedLines++;
      else open = {count, bytes, ns, frames: [], lines: 1};
    } else if (record?.type === 'hist' && shape.histogramKind !== undefined) {
      const min = parseSaturatedInteger(record.fields.get('min') ?? '');
      const max = parseSaturatedInteger(record.fields.get('max') ?? '');
      const count = parseCount(record.fields.get('count') ?? '');
      if (min === undefined || max === undefined || count === undefined || max < min) read.skippedLines++;
      else read.histogram.push({min, max, count});
    } else if (record?.type === 'proc' && context.cache !== undefined) {
      const pid = parsePid(record.fields.get('pid') ?? '');
      const comm = record.fields.get('comm');
      const count = parseCount(record.fields.get('count') ?? '');
      const bytes = parseBytes(record.fields);
      if (pid === undefined || comm === undefined || count === undefined || typeof bytes !== 'number') read.skippedLines++;
      else read.processes.push({pid, comm: decodeStapString(comm), count, bytes});
    } else if (record?.type === 'entry' && shape.histogramKind === true) {
      const name = record.fields.get('name');
      const count = parseCount(record.fields.get('count') ?? '');
      if (name === undefined || count === undefined) read.skippedLines++;
      else read.entryPoints.push({name: decodeStapString(name), count});
    } else {
      read.skippedLines++;
    }
  }
  abandon();
  return read;
}

/** A line's record type, as far as a block's marks need it (the first TAB-separated field). */
const recordType = (line: string) => line.split('\t', 1)[0];

/** SystemTap's output format, read by parse/text-blocks.ts; its blocks run from a "begin" record to the next "end" record. */
export const STAP_FORMAT: TextFormat = {
  backend: 'stap',
  blocks: {isBegin: line => recordType(line) === 'begin', isEnd: line => recordType(line) === 'end', maxLines: STAP_MAX_BLOCK_LINES},
  edges: blockEdges,
  row: tableRow,
  live: (body, drill) => (drill ? liveStackLines(body) : liveTableLines(body)),
  stacks: stackLines,
};

/** Parse a whole captured output (e.g. a fixture) into snapshots, as the live backend reads them. */
export const parseStapOutput = (text: string, context: TextContext): TracerSnapshot[] => parseTableOutput(STAP_FORMAT, text, context);

/** parseStapOutput for drill-down output. */
export const parseStapStackOutput = (text: string, context: StackContext): TracerStackSnapshot[] => parseStackOutput(STAP_FORMAT, text, context);
