// Parses what memtop's SystemTap scripts (probes/stap/*.stp) print into the snapshot types every
// backend yields. The format is documented at the top of each script: TAB-separated
// key=value records between a "begin" and an "end" line, names escaped with text_str().
// Everything here is pure except StapBlockReader, which only groups lines into blocks.
import {fromTracer, hasView, isTabId, TABS, viewOf, type Measure} from '../registry.js';
import type {HistogramBucket, ProcessShare, RawRow, StackRow, StackTarget, TabId, TracerSnapshot, TracerStackSnapshot} from '../types.js';
import {collectBlocks, isoFromEpochMs, normalizeHistogram, parseCount, parsePid, parseSaturatedInteger, targetOf} from './tracer-values.js';
import {ageClassesAt, liveRowsOf, liveStacksOf, type ClassStart, type ProcessClassAmount, type StackClassAmount} from './live.js';

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

/**
 * Groups a stream of lines into blocks from a "begin" line to the next "end" line.
 * Lines outside a block, and the lines of a block cut short (a new "begin" before its "end",
 * or more than STAP_MAX_BLOCK_LINES lines), are counted in `skippedLines` and dropped.
 */
export class StapBlockReader {
  skippedLines = 0;
  private open: string[] | undefined;

  /** Feed one line; returns a whole block when this line ends one. */
  push(line: string): string[] | undefined {
    const type = line.split('\t', 1)[0];
    if (type === 'begin') {
      if (this.open) this.skippedLines += this.open.length;
      this.open = [line];
      return undefined;
    }
    if (!this.open) {
      this.skippedLines++;
      return undefined;
    }
    this.open.push(line);
    if (type === 'end') {
      const block = this.open;
      this.open = undefined;
      return block;
    }
    if (this.open.length > STAP_MAX_BLOCK_LINES) {
      this.skippedLines += this.open.length;
      this.open = undefined;
    }
    return undefined;
  }
}

/** What the parser needs to know beyond the text: which tab and probe the script traces. */
export interface StapContext {
  tab: TabId;
  probe: string;
}

export interface StapParseResult<T> {
  /** Undefined when the block is not a valid snapshot (then every line counts as skipped). */
  snapshot: T | undefined;
  /** Lines of this block that could not be understood. */
  skippedLines: number;
}

interface BlockEdges {
  begin: StapRecord;
  end: StapRecord;
  time: string;
  elapsedMs: number;
  capped: boolean;
}

/** Check the begin and end lines of a block; undefined when either is missing or malformed. */
function blockEdges(lines: readonly string[], tab: TabId): BlockEdges | undefined {
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
  return {begin, end, time, elapsedMs: Math.max(0, elapsed), capped: end.fields.get('capped') === '1'};
}

/** A byte total: may be negative (brk's net growth), saturated at ±2^53 - 1. */
function parseBytes(fields: Map<string, string>): number | undefined | null {
  const text = fields.get('bytes');
  if (text === undefined) return undefined;
  return parseSaturatedInteger(text) ?? null;
}

/**
 * One "row" (per process) or "cache" line as a RawRow with every measure of its view (a field
 * named by the measure: count=, bytes=, ...), or undefined when malformed or one is missing.
 */
function parseRow(record: StapRecord, measures: readonly Measure[]): RawRow | undefined {
  const count = parseCount(record.fields.get('count') ?? '');
  if (count === undefined) return undefined;
  const row: RawRow = {count};
  for (const measure of measures) {
    if (measure.id === 'count') continue;
    const value = parseSaturatedInteger(record.fields.get(measure.id) ?? '');
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

const measuresOf = (tab: TabId, view: 'process' | 'cache') => viewOf(tab, view).measures;

/** What a live script's "live" and "class" lines say: since when it tracks, what it could not, and when each age class began. */
interface LiveHeader {
  since?: string;
  untracked: number;
  starts: ClassStart[];
}

/** A live block's "live" or "class" line into `header`; false when the line is neither or is malformed. */
function liveHeaderLine(record: StapRecord | undefined, header: LiveHeader): boolean {
  if (record?.type === 'live') {
    const since = parseSaturatedInteger(record.fields.get('since') ?? '');
    const untracked = parseCount(record.fields.get('untracked') ?? '');
    const time = since === undefined ? undefined : isoFromEpochMs(since);
    if (time === undefined || untracked === undefined) return false;
    header.since = time;
    header.untracked = untracked;
    return true;
  }
  if (record?.type === 'class') {
    const index = parseCount(record.fields.get('class') ?? '');
    const start = parseSaturatedInteger(record.fields.get('start') ?? '');
    if (index === undefined || start === undefined) return false;
    header.starts.push({index, start});
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

/** A live view's block (malloc-live.stp): outstanding bytes, allocations and the oldest one's age per process. */
function parseStapLiveSnapshot(lines: readonly string[], context: StapContext, edges: BlockEdges): StapParseResult<TracerSnapshot> {
  const header: LiveHeader = {untracked: 0, starts: []};
  const amounts: ProcessClassAmount[] = [];
  let skippedLines = 0;
  for (const line of lines.slice(1, -1)) {
    const record = parseStapRecord(line);
    if (liveHeaderLine(record, header)) continue;
    const amount = record?.type === 'amount' ? liveAmount(record) : undefined;
    const pid = record ? parsePid(record.fields.get('pid') ?? '') : undefined;
    const comm = record?.fields.get('comm');
    if (!amount || pid === undefined || comm === undefined) skippedLines++;
    else amounts.push({...amount, pid, comm: decodeStapString(comm)});
  }
  if (header.since === undefined) return {snapshot: undefined, skippedLines: lines.length};
  const classes = ageClassesAt(header.starts, Date.parse(edges.time), 1000);
  const snapshot: TracerSnapshot = {
    tab: context.tab,
    view: 'live',
    backend: 'stap',
    probe: context.probe,
    time: edges.time,
    elapsedMs: edges.elapsedMs,
    rows: liveRowsOf(amounts, classes),
    capped: edges.capped,
    since: header.since,
    untracked: header.untracked,
  };
  return {snapshot, skippedLines};
}

/**
 * Parse one per-process snapshot block (from "begin" to "end", as StapBlockReader returns it).
 * Unknown and malformed lines inside are skipped and counted, never thrown.
 */
export function parseStapSnapshot(lines: readonly string[], context: StapContext): StapParseResult<TracerSnapshot> {
  const edges = blockEdges(lines, context.tab);
  if (!edges) return {snapshot: undefined, skippedLines: lines.length};
  if (edges.begin.fields.get('view') === 'live') return parseStapLiveSnapshot(lines, context, edges);
  const byCache = hasView(context.tab, 'cache');
  const rows: RawRow[] = [];
  const cacheRows: RawRow[] = [];
  let skippedLines = 0;
  for (const line of lines.slice(1, -1)) {
    const record = parseStapRecord(line);
    const row =
      record?.type === 'row' ? parseRow(record, measuresOf(context.tab, 'process')) : record?.type === 'cache' && byCache ? parseRow(record, measuresOf(context.tab, 'cache')) : undefined;
    if (!row) skippedLines++;
    else if (row.cache !== undefined) cacheRows.push(row);
    else rows.push(row);
  }
  const snapshot: TracerSnapshot = {
    tab: context.tab,
    view: 'process',
    backend: 'stap',
    probe: context.probe,
    time: edges.time,
    elapsedMs: edges.elapsedMs,
    rows,
    capped: edges.capped,
  };
  if (byCache) snapshot.otherViews = {cache: cacheRows};
  return {snapshot, skippedLines};
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

interface OpenStack {
  count: number;
  bytes: number | undefined;
  /** Its time in ns (reclaim). */
  ns: number | undefined;
  frames: string[];
  lines: number;
}

/**
 * A live drill-down's block (stacks-malloc-live.stp): its age classes, the process's exact totals
 * per class, and its stacks per class (counts x 1024). A stack cut short is skipped and counted.
 */
function parseStapLiveStackSnapshot(lines: readonly string[], context: StapContext & StackTarget, edges: BlockEdges, sampleBytes?: number): StapParseResult<TracerStackSnapshot> {
  const header: LiveHeader = {untracked: 0, starts: []};
  const totals: {index: number; count: number; bytes: number}[] = [];
  const stacks: StackClassAmount[] = [];
  let skippedLines = 0;
  let open: (StackClassAmount & {lines: number}) | undefined;
  for (const line of lines.slice(1, -1)) {
    const record = parseStapRecord(line);
    if (open && record?.type === 'frame' && record.fields.has('sym')) {
      open.frames.push(stapFrameName(decodeStapString(record.fields.get('sym')!)));
      open.lines++;
      continue;
    }
    if (open && record?.type === 'endstack' && parseCount(record.fields.get('frames') ?? '') === open.frames.length) {
      const {lines: _lines, ...amount} = open;
      stacks.push({...amount, count: amount.count / 1024});
      open = undefined;
      continue;
    }
    if (open) {
      skippedLines += open.lines;
      open = undefined;
      if (record?.type === 'endstack') {
        skippedLines++;
        continue;
      }
    }
    if (liveHeaderLine(record, header)) continue;
    const amount = record && (record.type === 'total' || record.type === 'stack') ? liveAmount(record) : undefined;
    if (!amount) skippedLines++;
    else if (record!.type === 'total') totals.push(amount);
    else open = {...amount, frames: [], lines: 1};
  }
  if (open) skippedLines += open.lines;
  if (header.since === undefined) return {snapshot: undefined, skippedLines: lines.length};
  const read = liveStacksOf(stacks, totals, ageClassesAt(header.starts, Date.parse(edges.time), 1000));
  const comm = edges.end.fields.get('comm');
  const snapshot: TracerStackSnapshot = {
    tab: context.tab,
    view: 'live',
    backend: 'stap',
    probe: context.probe,
    ...targetOf(context),
    ...(comm ? {comm: decodeStapString(comm)} : {}),
    time: edges.time,
    elapsedMs: edges.elapsedMs,
    stacks: read.stacks,
    live: {since: header.since, classes: read.classes, totals: read.totals, untracked: header.untracked, ...(sampleBytes ? {sampleBytes} : {})},
    capped: edges.capped,
  };
  return {snapshot, skippedLines};
}

/**
 * Parse one drill-down block (stacks, for malloc the size histogram and entry points, for
 * reclaim the stalls' time and lengths).
 * A stack whose "endstack" line is missing or whose frame count disagrees is truncated: its
 * lines are skipped and counted and the stack is dropped. Stacks with no frame at all (no
 * user stack) are dropped, as the bpftrace backend drops them.
 */
export function parseStapStackSnapshot(
  lines: readonly string[],
  context: StapContext & StackTarget & {sampleBytes?: number},
): StapParseResult<TracerStackSnapshot> {
  const edges = blockEdges(lines, context.tab);
  if (!edges) return {snapshot: undefined, skippedLines: lines.length};
  if (edges.begin.fields.get('view') === 'live') return parseStapLiveStackSnapshot(lines, context, edges, context.sampleBytes);
  const withBytes = TABS[context.tab].stackBytes;
  const withTime = TABS[context.tab].stackTime === true;
  const histogramKind = TABS[context.tab].stackHistogram;
  const withHistogram = histogramKind !== undefined;
  const stacks: StackRow[] = [];
  const histogram: HistogramBucket[] = [];
  const entryPoints: {name: string; count: number}[] = [];
  const processes: ProcessShare[] = [];
  let skippedLines = 0;
  let open: OpenStack | undefined;
  const abandon = () => {
    if (open) skippedLines += open.lines;
    open = undefined;
  };
  for (const line of lines.slice(1, -1)) {
    const record = parseStapRecord(line);
    if (open && record?.type === 'frame') {
      const symbol = record.fields.get('sym');
      if (symbol === undefined) {
        abandon();
        skippedLines++;
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
      if (open.frames.length > 0) {
        stacks.push({count: open.count, ...(withBytes ? {bytes: open.bytes ?? 0} : {}), ...(withTime ? {ms: fromTracer('ms', open.ns ?? 0)} : {}), frames: open.frames});
      }
      open = undefined;
      continue;
    }
    abandon();
    if (record?.type === 'stack') {
      const count = parseCount(record.fields.get('count') ?? '');
      const bytes = parseBytes(record.fields);
      // A stack's time is printed in ns (the field is named for what memtop shows: ms).
      const ns = withTime ? parseCount(record.fields.get('ms') ?? '') : undefined;
      if (count === undefined || bytes === null || (withBytes && bytes === undefined) || (withTime && ns === undefined)) skippedLines++;
      else open = {count, bytes, ns, frames: [], lines: 1};
    } else if (record?.type === 'hist' && withHistogram) {
      const min = parseSaturatedInteger(record.fields.get('min') ?? '');
      const max = parseSaturatedInteger(record.fields.get('max') ?? '');
      const count = parseCount(record.fields.get('count') ?? '');
      if (min === undefined || max === undefined || count === undefined || max < min) skippedLines++;
      else histogram.push({min, max, count});
    } else if (record?.type === 'proc' && context.cache !== undefined) {
      const pid = parsePid(record.fields.get('pid') ?? '');
      const comm = record.fields.get('comm');
      const count = parseCount(record.fields.get('count') ?? '');
      const bytes = parseBytes(record.fields);
      if (pid === undefined || comm === undefined || count === undefined || typeof bytes !== 'number') skippedLines++;
      else processes.push({pid, comm: decodeStapString(comm), count, bytes});
    } else if (record?.type === 'entry' && histogramKind === true) {
      const name = record.fields.get('name');
      const count = parseCount(record.fields.get('count') ?? '');
      if (name === undefined || count === undefined) skippedLines++;
      else entryPoints.push({name: decodeStapString(name), count});
    } else {
      skippedLines++;
    }
  }
  abandon();
  const comm = edges.end.fields.get('comm');
  const snapshot: TracerStackSnapshot = {
    tab: context.tab,
    backend: 'stap',
    probe: context.probe,
    ...targetOf(context),
    time: edges.time,
    elapsedMs: edges.elapsedMs,
    stacks,
    capped: edges.capped,
  };
  if (context.cache !== undefined) Object.assign(snapshot, {processes, kernel: true});
  else if (comm) snapshot.comm = decodeStapString(comm);
  if (withHistogram) snapshot.histogram = normalizeHistogram(histogram);
  if (histogramKind === true) snapshot.entryPoints = entryPoints;
  return {snapshot, skippedLines};
}

/**
 * Parse a whole captured output (e.g. a fixture) into snapshots, with skippedLines counted
 * cumulatively, as the live backend counts them.
 */
export function parseStapOutput(text: string, context: StapContext): TracerSnapshot[] {
  return collectBlocks(text, new StapBlockReader(), block => parseStapSnapshot(block, context));
}

/** parseStapOutput for drill-down output. */
export function parseStapStackOutput(text: string, context: StapContext & StackTarget & {sampleBytes?: number}): TracerStackSnapshot[] {
  return collectBlocks(text, new StapBlockReader(), block => parseStapStackSnapshot(block, context));
}
