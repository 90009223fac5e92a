// The skeleton SystemTap's and DTrace's output is read by: lines grouped into begin..end blocks,
// a block's edges and body read by the tracer's own tokeniser (parse/stap-output.ts,
// parse/dtrace-output.ts), and the snapshots every backend yields put together here. Pure.
import {fromTracer, hasView, TABS, viewOf, type Measure} from '../registry.js';
import type {BackendId, HistogramBucket, ProcessShare, RawRow, StackRow, StackTarget, TabId, TracerSnapshot, TracerStackSnapshot, ViewId} from '../types.js';
import {normalizeHistogram} from './tracer-values.js';
import {ageClassesAt, liveRowsOf, liveStacksOf, type ClassStart, type ProcessClassAmount, type StackClassAmount} from './live.js';

/** How a tracer's output marks its blocks, and how long one may grow. */
export interface BlockMarks {
  isBegin: (line: string) => boolean;
  isEnd: (line: string) => boolean;
  /** A block longer than this is not a snapshot memtop's scripts print; it is dropped. */
  maxLines: number;
  /** Lines outside a block that are the tracer's layout (DTrace's empty lines), not lost data. */
  isLayout?: (line: string) => boolean;
}

/**
 * Groups a stream of lines into blocks from a begin line to the next end line. Lines outside a
 * block, and the lines of a block cut short (a new begin before its end, or more than maxLines
 * lines), are counted in `skippedLines` and dropped.
 */
export class BlockReader {
  skippedLines = 0;
  private open: string[] | undefined;

  constructor(private readonly marks: BlockMarks) {}

  /** Feed one line; returns a whole block when this line ends one. */
  push(line: string): string[] | undefined {
    if (this.marks.isBegin(line)) {
      if (this.open) this.skippedLines += this.open.length;
      this.open = [line];
      return undefined;
    }
    if (!this.open) {
      if (!this.marks.isLayout?.(line)) this.skippedLines++;
      return undefined;
    }
    this.open.push(line);
    if (this.marks.isEnd(line)) {
      const block = this.open;
      this.open = undefined;
      return block;
    }
    if (this.open.length > this.marks.maxLines) {
      this.skippedLines += this.open.length;
      this.open = undefined;
    }
    return undefined;
  }
}

/** What a parser needs to know beyond the text: which tab and probe the script traces. */
export interface TextContext {
  tab: TabId;
  probe: string;
  /** The view's measures the script cannot give (ScriptChoice.lacks). */
  unmeasured?: string[];
}

/** A drill-down's context: the tab and probe, its target, and the bytes per sample of a sampled script. */
export type StackContext = TextContext & StackTarget & {sampleBytes?: number};

/** One block read: its snapshot, and how many of its lines were not understood. */
export interface BlockParse<T> {
  /** Undefined when the block is not a valid snapshot (then every line counts as skipped). */
  snapshot: T | undefined;
  /** Lines of this block that could not be understood. */
  skippedLines: number;
}

/** What a block's begin and end lines say. */
export interface BlockEdges {
  time: string;
  elapsedMs: number;
  /** The begin line says the block is a live view's. */
  live: boolean;
  /** The end line says the script dropped keys (undefined: this tracer does not say). */
  capped?: boolean;
  /** The process's name, when the end line carries it. */
  comm?: string;
}

/** The measures each of a tab's table views reads, resolved once per block. */
export interface TableMeasures {
  process: readonly Measure[];
  /** Undefined when the tab has no cache view. */
  cache?: readonly Measure[];
}

/** What a live block's body says: since when, what could not be tracked, its classes and amounts. */
export interface LiveRead {
  since?: string;
  untracked: number;
  starts: ClassStart[];
  /** Per process (a table's block). */
  amounts: ProcessClassAmount[];
  /** The process's exact totals per class (a drill-down's block). */
  totals: {index: number; count: number; bytes: number}[];
  /** Per stack and class (a drill-down's block). */
  stacks: StackClassAmount[];
  skippedLines: number;
}

/** An empty LiveRead for a tokeniser to fill. */
export function emptyLiveRead(): LiveRead {
  return {untracked: 0, starts: [], amounts: [], totals: [], stacks: [], skippedLines: 0};
}

/** What a tab's drill-down carries beside its stacks' counts (from the registry). */
export interface StackShape {
  withBytes: boolean;
  /** The stacks carry the time their events took (printed in ns). */
  withTime: boolean;
  histogramKind: true | 'latency' | undefined;
}

/** What a drill-down block's body says. */
export interface StackRead {
  stacks: StackRow[];
  histogram: HistogramBucket[];
  entryPoints: {name: string; count: number}[];
  processes: ProcessShare[];
  skippedLines: number;
}

/** A stack as the drill-down shows it: bytes and time (from ns) only where the tab's stacks carry them. */
export function stackRowOf(shape: StackShape, count: number, bytes: number | undefined, ns: number | undefined, frames: string[]): StackRow {
  return {count, ...(shape.withBytes ? {bytes: bytes ?? 0} : {}), ...(shape.withTime ? {ms: fromTracer('ms', ns ?? 0)} : {}), frames};
}

/** How one text tracer's output reads: its blocks' marks and the tokens its own file reads; the rest is read here. */
export interface TextFormat {
  backend: BackendId;
  blocks: BlockMarks;
  /** The block's begin and end lines; undefined when either is missing or malformed. */
  edges(lines: readonly string[], tab: TabId): BlockEdges | undefined;
  /** One table line: a row; null for a line that carries nothing (layout, or a row with nothing counted); undefined when not understood. */
  row(line: string, measures: TableMeasures): RawRow | null | undefined;
  /** A live block's body, of a table (`drill` false) or of a drill-down. */
  live(body: readonly string[], drill: boolean): LiveRead;
  /** A drill-down block's body. */
  stacks(body: readonly string[], context: StackContext, shape: StackShape): StackRead;
}

/** Just the target of a drill-down context: its pid, or its cache. */
function targetOf(context: StackTarget): StackTarget {
  return context.cache !== undefined ? {cache: context.cache} : {pid: context.pid};
}

/** A live block's capped: what the end line says, else whether anything could not be tracked. */
function liveCapped(edges: BlockEdges, read: LiveRead): boolean {
  return edges.capped ?? read.untracked > 0;
}

/**
 * Parse one table block (from begin to end, as BlockReader returns it). Unknown and malformed
 * lines inside are skipped and counted, never thrown.
 */
export function parseTableBlock(format: TextFormat, lines: readonly string[], context: TextContext): BlockParse<TracerSnapshot> {
  const edges = format.edges(lines, context.tab);
  if (!edges) return {snapshot: undefined, skippedLines: lines.length};
  // Keys in the order every backend's snapshots have them (a recording writes them so).
  const head = (view: ViewId) => ({tab: context.tab, view, backend: format.backend, probe: context.probe, time: edges.time, elapsedMs: edges.elapsedMs});
  if (edges.live) {
    const read = format.live(lines.slice(1, -1), false);
    if (read.since === undefined) return {snapshot: undefined, skippedLines: lines.length};
    const rows = liveRowsOf(read.amounts, ageClassesAt(read.starts, Date.parse(edges.time), 1000));
    return {snapshot: {...head('live'), rows, capped: liveCapped(edges, read), since: read.since, untracked: read.untracked}, skippedLines: read.skippedLines};
  }
  // The script prints the measures it gives, in the registry's order: not those it lacks.
  const given = (view: ViewId) => viewOf(context.tab, view).measures.filter(measure => !context.unmeasured?.includes(measure.id));
  const measures: TableMeasures = {process: given('process'), ...(hasView(context.tab, 'cache') ? {cache: given('cache')} : {})};
  const rows: RawRow[] = [];
  const cacheRows: RawRow[] = [];
  let skippedLines = 0;
  for (const line of lines.slice(1, -1)) {
    const row = format.row(line, measures);
    if (row === undefined) skippedLines++;
    else if (row !== null) (row.cache === undefined ? rows : cacheRows).push(row);
  }
  const snapshot: TracerSnapshot = {...head('process'), rows, ...(edges.capped !== undefined ? {capped: edges.capped} : {})};
  if (measures.cache) snapshot.otherViews = {cache: cacheRows};
  return {snapshot, skippedLines};
}

/**
 * Parse one drill-down block: its stacks, and as the tab's registry entry says, a histogram, entry
 * points, or (a cache's) the processes behind it. A live block gives its age classes, exact totals
 * and stacks per class.
 */
export function parseStackBlock(format: TextFormat, lines: readonly string[], context: StackContext): BlockParse<TracerStackSnapshot> {
  const edges = format.edges(lines, context.tab);
  if (!edges) return {snapshot: undefined, skippedLines: lines.length};
  const times = {time: edges.time, elapsedMs: edges.elapsedMs};
  if (edges.live) {
    const read = format.live(lines.slice(1, -1), true);
    if (read.since === undefined) return {snapshot: undefined, skippedLines: lines.length};
    const stacks = liveStacksOf(read.stacks, read.totals, ageClassesAt(read.starts, Date.parse(edges.time), 1000));
    const snapshot: TracerStackSnapshot = {
      tab: context.tab,
      view: 'live',
      backend: format.backend,
      probe: context.probe,
      ...targetOf(context),
      ...(edges.comm ? {comm: edges.comm} : {}),
      ...times,
      stacks: stacks.stacks,
      live: {since: read.since, classes: stacks.classes, totals: stacks.totals, untracked: read.untracked, ...(context.sampleBytes ? {sampleBytes: context.sampleBytes} : {})},
      capped: liveCapped(edges, read),
    };
    return {snapshot, skippedLines: read.skippedLines};
  }
  const tab = TABS[context.tab];
  const shape: StackShape = {withBytes: tab.stackBytes, withTime: tab.stackTime === true, histogramKind: tab.stackHistogram};
  const read = format.stacks(lines.slice(1, -1), context, shape);
  const snapshot: TracerStackSnapshot = {tab: context.tab, backend: format.backend, probe: context.probe, ...targetOf(context), ...times, stacks: read.stacks, ...(edges.capped !== undefined ? {capped: edges.capped} : {})};
  if (context.cache !== undefined) Object.assign(snapshot, {processes: read.processes.sort((a, b) => b.count - a.count), kernel: true});
  else if (edges.comm) snapshot.comm = edges.comm;
  if (shape.histogramKind !== undefined) snapshot.histogram = normalizeHistogram(read.histogram);
  if (shape.histogramKind === true) snapshot.entryPoints = read.entryPoints;
  return {snapshot, skippedLines: read.skippedLines};
}

/**
 * Blocks to snapshots, line by line, with skippedLines counted cumulatively: the lines the
 * reader dropped and those no block understood, since the tracer started. A live backend and a
 * captured output (a fixture) count them alike.
 */
export class BlockSnapshots<T extends {skippedLines?: number}> {
  private readonly reader: BlockReader;
  private blockSkipped = 0;

  constructor(
    marks: BlockMarks,
    private readonly parse: (block: string[]) => BlockParse<T>,
  ) {
    this.reader = new BlockReader(marks);
  }

  /** Feed one line; returns a snapshot when the line ends a block that is one. */
  push(line: string): T | undefined {
    const block = this.reader.push(line);
    if (!block) return undefined;
    const {snapshot, skippedLines} = this.parse(block);
    this.blockSkipped += skippedLines;
    return snapshot ? {...snapshot, skippedLines: this.reader.skippedLines + this.blockSkipped} : undefined;
  }
}

function collectBlocks<T extends {skippedLines?: number}>(text: string, snapshots: BlockSnapshots<T>): T[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map(line => snapshots.push(line)).filter(snapshot => snapshot !== undefined);
}

/** Parse a whole captured table output (e.g. a fixture) into snapshots, as a live backend reads them. */
export function parseTableOutput(format: TextFormat, text: string, context: TextContext): TracerSnapshot[] {
  return collectBlocks(text, new BlockSnapshots(format.blocks, block => parseTableBlock(format, block, context)));
}

/** parseTableOutput for drill-down output. */
export function parseStackOutput(format: TextFormat, text: string, context: StackContext): TracerStackSnapshot[] {
  return collectBlocks(text, new BlockSnapshots(format.blocks, block => parseStackBlock(format, block, context)));
}
