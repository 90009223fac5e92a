// Reading a recording back: a checked load with one-line errors, a pure timeline the UI can
// pause, step and play at a speed, and a Backend that plays the recorded snapshots.
import {readFileSync} from 'node:fs';
import {checkEvent, checkHeader, looksLikeHeader, RECORDING_VERSION, unknownTab, type RecordingEvent, type RecordingHeader, type StacksEvent, type TableEvent} from './format.js';
import {viewOf} from '../registry.js';
import {applySnapshot, emptyTabData, MAX_KEPT_ROWS, type TabData} from '../model/table.js';
import {targetName, TracerError, type Availability, type Backend, type BackendId, type StackStartOptions, type StartOptions, type TabId, type TracerSnapshot, type TracerStackSnapshot, type ViewId} from '../types.js';

/** A recording that cannot be replayed: the message is the one line to show. */
export class ReplayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayError';
  }
}

/** A loaded recording. */
export interface Recording {
  path: string;
  header: RecordingHeader;
  events: RecordingEvent[];
  /** 1 when the last line was cut off (memtop was killed while writing it) and skipped, else 0. */
  truncatedLines: number;
  /** Lines of an event kind this memtop does not know, skipped. */
  unknownEvents: number;
}

/** Playback speeds the UI cycles through. */
export const SPEEDS = [0.5, 1, 2, 4] as const;

/** The next speed of SPEEDS after `speed` (wrapping round), for a key that cycles them. */
export function nextSpeed(speed: number): number {
  const index = SPEEDS.findIndex(candidate => candidate > speed);
  return index === -1 ? SPEEDS[0] : SPEEDS[index]!;
}

/** The longest pause between two recorded events that playback keeps (a tracer restart's gap is cut to this). */
export const MAX_PLAYBACK_GAP_MS = 60_000;

function fileReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file; check the path (make one with memtop --record FILE)';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied; make it readable (chmod a+r) or copy it';
  if (code === 'EISDIR') return 'it is a directory; give the recording file inside it';
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Load and check a recording. Throws ReplayError with one line saying what is wrong and what
 * to do: missing or unreadable file, not a recording, a newer format version, a damaged header,
 * a corrupt line (numbered), or no snapshots. A cut-off last line is skipped and counted.
 */
export function readRecording(path: string): Recording {
  let buffer: Buffer;
  try {
    buffer = readFileSync(path);
  } catch (error) {
    throw new ReplayError(`cannot read ${path}: ${fileReason(error)}`);
  }
  // Split the bytes, not one big string: a long recording may not fit in a single JS string.
  const lines: {text: string; complete: boolean}[] = [];
  for (let start = 0; start < buffer.length; ) {
    const end = buffer.indexOf(10, start);
    const stop = end === -1 ? buffer.length : end;
    lines.push({text: buffer.toString('utf8', start, stop), complete: end !== -1});
    start = stop + 1;
  }
  if (lines.length === 0) throw new ReplayError(`${path} is empty: not a memtop recording (make one with memtop --record FILE)`);

  const first = lines[0]!;
  const headerValue = parse(first.text);
  if (!looksLikeHeader(headerValue)) {
    if (!first.complete && first.text.startsWith('{"memtop":"recording"')) {
      throw new ReplayError(`${path} holds no snapshots: memtop stopped while writing its header`);
    }
    throw new ReplayError(`${path} is not a memtop recording (its first line is not a memtop header); make one with memtop --record FILE`);
  }
  const version = headerValue.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new ReplayError(`${path} has a damaged header (bad version): it cannot be replayed`);
  }
  if (version > RECORDING_VERSION) {
    throw new ReplayError(`${path} was recorded by a newer memtop (format ${version}); upgrade memtop to replay it`);
  }
  const headerProblem = checkHeader(headerValue as unknown as Record<string, unknown>);
  if (headerProblem) throw new ReplayError(`${path} has a damaged header (${headerProblem}): it cannot be replayed`);
  const unknown = unknownTab(headerValue as unknown as RecordingHeader);
  if (unknown) throw new ReplayError(`${path} was recorded with the ${unknown} view, which this memtop does not have: upgrade memtop to replay it`);

  const events: RecordingEvent[] = [];
  let truncatedLines = 0;
  let unknownEvents = 0;
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.text.trim() === '') continue;
    const checked = checkEvent(parse(line.text));
    if (checked === 'unknown') {
      unknownEvents++;
      continue;
    }
    if ('problem' in checked) {
      // Only the very last line can be cut short by a kill: every line is one whole write.
      if (!line.complete && index === lines.length - 1) {
        truncatedLines++;
        continue;
      }
      const lineNumber = index + 1;
      const problem = parse(line.text) === undefined ? 'not JSON' : checked.problem;
      throw new ReplayError(`${path} is corrupt at line ${lineNumber} (${problem}); to replay what came before: head -n ${lineNumber - 1} ${path} > fixed.ndjson`);
    }
    events.push(checked);
  }
  if (events.length === 0) throw new ReplayError(`${path} holds no snapshots: memtop stopped before its first interval`);
  return {path, header: headerValue as unknown as RecordingHeader, events, truncatedLines, unknownEvents};
}

/**
 * Which events a step looks for: one tab's table, or drill-downs (optionally of one tab, one pid
 * or one cache, and of one view's own drill-down, or with 'tab' the tab's).
 */
export type EventFilter = {kind: 'table'; tab: TabId} | {kind: 'stacks'; tab?: TabId; pid?: number; cache?: string; view?: ViewId | 'tab'};

function matches(event: RecordingEvent, filter: EventFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.kind === 'table') return event.kind === 'table' && event.tab === filter.tab;
  return (
    event.kind === 'stacks' &&
    (filter.tab === undefined || event.snapshot.tab === filter.tab) &&
    (filter.pid === undefined || event.snapshot.pid === filter.pid) &&
    (filter.cache === undefined || event.snapshot.cache === filter.cache) &&
    (filter.view === undefined || (event.snapshot.view ?? 'tab') === filter.view)
  );
}

/** Number of sorted positions that are <= index. */
function countUpTo(positions: number[], index: number): number {
  let low = 0;
  let high = positions.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (positions[middle]! <= index) low = middle + 1;
    else high = middle;
  }
  return low;
}

interface TabFold {
  /** Event indexes of this tab's table snapshots, in order. */
  positions: number[];
  /** Data after the first `count` of them. */
  last: {count: number; data: TabData};
  /** Data after every `spacing`-th count, so stepping back replays at most `spacing` snapshots. */
  checkpoints: Map<number, TabData>;
  spacing: number;
}

/**
 * The recorded session as a timeline of events (indexes 0 to length-1, in recorded order), with
 * what each view showed at any index. Pure: no timers; the UI keeps the index, pauses by not
 * advancing it, steps with nextIndex/previousIndex and plays by waiting playbackDelayMs.
 */
export class ReplayTimeline {
  private readonly folds = new Map<TabId, TabFold>();
  private readonly cgroupHistory = new Map<number, {index: number; path: string}[]>();

  constructor(readonly events: readonly RecordingEvent[], private readonly maxKept = MAX_KEPT_ROWS) {
    events.forEach((event, index) => {
      if (event.kind !== 'table') return;
      let fold = this.folds.get(event.tab);
      if (!fold) {
        fold = {positions: [], last: {count: 0, data: emptyTabData()}, checkpoints: new Map([[0, emptyTabData()]]), spacing: 16};
        this.folds.set(event.tab, fold);
      }
      fold.positions.push(index);
      for (const [pid, path] of Object.entries(event.cgroups ?? {})) {
        const history = this.cgroupHistory.get(Number(pid)) ?? [];
        if (history.at(-1)?.path !== path) history.push({index, path});
        this.cgroupHistory.set(Number(pid), history);
      }
    });
    for (const fold of this.folds.values()) fold.spacing = Math.max(16, Math.ceil(Math.sqrt(fold.positions.length)));
  }

  get length(): number {
    return this.events.length;
  }

  /** Tabs that have table snapshots in the recording, in recorded order of first appearance. */
  get tabs(): TabId[] {
    return [...this.folds.keys()];
  }

  /**
   * A tab's data as the live UI had it once event `index` had arrived: applySnapshot folded
   * over that tab's table snapshots up to and including `index`. Stepping forward costs one
   * applySnapshot; stepping back replays from the nearest checkpoint (at most ~sqrt(n) snapshots).
   */
  tableDataAt(tab: TabId, index: number): TabData {
    const fold = this.folds.get(tab);
    if (!fold) return emptyTabData();
    const count = countUpTo(fold.positions, index);
    let {count: from, data} = fold.last;
    if (from > count) {
      from = Math.floor(count / fold.spacing) * fold.spacing;
      data = fold.checkpoints.get(from)!;
    }
    for (let next = from; next < count; next++) {
      const event = this.events[fold.positions[next]!] as TableEvent;
      data = applySnapshot(data, event.snapshot, this.maxKept);
      if ((next + 1) % fold.spacing === 0) fold.checkpoints.set(next + 1, data);
    }
    fold.last = {count, data};
    return data;
  }

  /** The latest table snapshot of `tab` at or before `index` (its probe, time, capped flag). */
  tableSnapshotAt(tab: TabId, index: number): TracerSnapshot | undefined {
    const fold = this.folds.get(tab);
    const count = fold ? countUpTo(fold.positions, index) : 0;
    return count > 0 ? (this.events[fold!.positions[count - 1]!] as TableEvent).snapshot : undefined;
  }

  /**
   * Whether `view` of `tab` was being recorded at `index`: its latest snapshot then is of that
   * view and less than two of its intervals (and a second) older than the event at `index`. A
   * recording holds only what the live screen traced: a tab it had left shows rows from before.
   */
  tableIsCurrent(tab: TabId, view: ViewId, index: number): boolean {
    const snapshot = this.tableSnapshotAt(tab, index);
    if (!snapshot || (viewOf(tab, snapshot.view).id !== view && snapshot.otherViews?.[view] === undefined)) return false;
    const gap = Date.parse(this.timeAt(index) ?? '') - Date.parse(snapshot.time);
    return !Number.isFinite(gap) || gap <= 2 * snapshot.elapsedMs + 1000;
  }

  /** The latest drill-down snapshot at or before `index`, of one tab and pid (or cache), and one view's drill-down ('tab': the tab's), when given. */
  stacksAt(index: number, target: {tab?: TabId; pid?: number; cache?: string; view?: ViewId | 'tab'} = {}): TracerStackSnapshot | undefined {
    const filter: EventFilter = {kind: 'stacks', ...target};
    for (let at = Math.min(index, this.events.length - 1); at >= 0; at--) {
      const event = this.events[at]!;
      if (matches(event, filter)) return (event as StacksEvent).snapshot;
    }
    return undefined;
  }

  /** The cgroup path recorded for `pid` at or before `index`, if the recording has one (infoOfPath makes the label). */
  cgroupAt(pid: number, index: number): string | undefined {
    const history = this.cgroupHistory.get(pid);
    if (!history) return undefined;
    let path: string | undefined;
    for (const entry of history) {
      if (entry.index > index) break;
      path = entry.path;
    }
    return path;
  }

  /** The recorded wall-clock time (ISO) of event `index`. */
  timeAt(index: number): string | undefined {
    return this.events[index]?.snapshot.time;
  }

  /** The first index after `index` whose event matches, or undefined at the end. */
  nextIndex(index: number, filter?: EventFilter): number | undefined {
    for (let at = Math.max(-1, index) + 1; at < this.events.length; at++) if (matches(this.events[at]!, filter)) return at;
    return undefined;
  }

  /** The last index before `index` whose event matches, or undefined at the start. */
  previousIndex(index: number, filter?: EventFilter): number | undefined {
    for (let at = Math.min(index, this.events.length) - 1; at >= 0; at--) if (matches(this.events[at]!, filter)) return at;
    return undefined;
  }

  /**
   * How long to show event `index` before moving to `index + 1` at `speed` (1 = as recorded):
   * the recorded time between the two (or the next one's interval when the times do not say),
   * at most MAX_PLAYBACK_GAP_MS, divided by speed. 0 when speed is 0; undefined at the end.
   */
  playbackDelayMs(index: number, speed: number): number | undefined {
    const current = this.events[index];
    const next = this.events[index + 1];
    if (!current || !next) return undefined;
    if (speed <= 0) return 0;
    let gap = Date.parse(next.snapshot.time) - Date.parse(current.snapshot.time);
    if (!Number.isFinite(gap) || gap < 0) gap = next.snapshot.elapsedMs;
    return Math.min(gap, MAX_PLAYBACK_GAP_MS) / speed;
  }
}

/** Thrown by a replay backend with atEnd 'end' when a view has played all it recorded. */
export class ReplayEndError extends TracerError {
  override readonly ended = true;

  constructor(what: string) {
    super(`end of recording: no more ${what}`);
    this.name = 'ReplayEndError';
  }
}

export interface ReplayBackendOptions {
  /** Speed factor on the recorded intervals; 0 plays as fast as possible (batch). */
  speed: number;
  /**
   * What a stream does when its recorded snapshots run out: 'end' throws ReplayEndError
   * (batch: stop), 'wait' stays open, yielding nothing, until aborted (TUI: keep the last frame).
   * Default 'end'.
   */
  atEnd?: 'end' | 'wait';
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (signal.aborted) return resolve();
    const done = () => {
      if (ms > 0) clearTimeout(timer as NodeJS.Timeout);
      else clearImmediate(timer as NodeJS.Immediate);
      signal.removeEventListener('abort', done);
      resolve();
    };
    // At speed 0 this still yields to the event loop once per snapshot, so signals are handled.
    const timer: NodeJS.Timeout | NodeJS.Immediate = ms > 0 ? setTimeout(done, ms) : setImmediate(done);
    signal.addEventListener('abort', done, {once: true});
  });
}

/**
 * A Backend that plays a recording's timeline (the same engine the TUI steps through): `start`
 * yields the recorded table snapshots of the asked tab in order (only `pid`'s rows when a pid is
 * asked), each after its recorded interval divided by speed; `startStacks` does the same with
 * the drill-downs recorded for that tab and pid. Each stream resumes where its last one stopped,
 * as a live tracer goes on in time: switching tabs away and back does not play a tab twice. A
 * process's cgroup is the one recorded at the last event played. `id` is the recorded backend's.
 */
export function replayBackend(recording: Recording, options: ReplayBackendOptions): Backend & {recording: Recording; timeline: ReplayTimeline; cgroupOf: (pid: number) => string | undefined} {
  const atEnd = options.atEnd ?? 'end';
  const timeline = new ReplayTimeline(recording.events);
  const cursors = new Map<string, number>();
  let played = -1;

  async function* play<T>(key: string, filter: EventFilter, what: string, signal: AbortSignal): AsyncGenerator<T> {
    for (;;) {
      if (signal.aborted) return;
      const next = timeline.nextIndex(cursors.get(key) ?? -1, filter);
      if (next === undefined) {
        if (atEnd === 'end') throw new ReplayEndError(what);
        await new Promise<void>(resolve => signal.addEventListener('abort', () => resolve(), {once: true}));
        return;
      }
      const {snapshot} = timeline.events[next]!;
      await pause(options.speed > 0 ? Math.min(snapshot.elapsedMs, MAX_PLAYBACK_GAP_MS) / options.speed : 0, signal);
      if (signal.aborted) return;
      cursors.set(key, next);
      played = Math.max(played, next);
      yield snapshot as T;
    }
  }

  return {
    id: recording.header.backend as BackendId,
    recording,
    timeline,
    cgroupOf: (pid: number) => timeline.cgroupAt(pid, played),
    async available(): Promise<Availability> {
      return {ok: true, version: `recording from ${recording.header.hostname} by memtop ${recording.header.memtopVersion}`};
    },
    async probeFor(tab: TabId): Promise<string> {
      return recording.header.probes[tab] ?? timeline.tableSnapshotAt(tab, timeline.length - 1)?.probe ?? 'not recorded';
    },
    async *start({tab, pid, signal}: StartOptions): AsyncIterable<TracerSnapshot> {
      if (!timeline.tabs.includes(tab)) throw new TracerError(`the ${tab} tab was not recorded`, 'this recording has no snapshots of it; pick a tab it has');
      for await (const snapshot of play<TracerSnapshot>(`table:${tab}`, {kind: 'table', tab}, `${tab} snapshots`, signal)) {
        yield pid ? {...snapshot, rows: snapshot.rows.filter(row => row.pid === pid)} : snapshot;
      }
    },
    async *startStacks(options: StackStartOptions): AsyncIterable<TracerStackSnapshot> {
      const {tab, signal} = options;
      const filter: EventFilter = options.cache !== undefined ? {kind: 'stacks', tab, cache: options.cache} : {kind: 'stacks', tab, pid: options.pid, view: options.view ?? 'tab'};
      const what = `${options.view ? `${options.view} ` : ''}${targetName(options)}`;
      if (timeline.nextIndex(-1, filter) === undefined) throw new TracerError(`no stacks of ${what} on the ${tab} tab were recorded`, 'a recording has the stacks only of what was drilled into while recording');
      yield* play<TracerStackSnapshot>(`stacks:${tab}:${what}`, filter, `stacks of ${what}`, signal);
    },
  };
}
