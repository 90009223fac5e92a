// Unit tests for recording and replay: the file format, the crash-safe recorder and its file
// policy, one-line load errors, the timeline's folds and steps, pacing, and the replay backend.
import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {appendFileSync, closeSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir, hostname, release} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {Recorder, RecordError} from '../source/record/recorder.js';
import {checkStackSnapshot, checkTableSnapshot, recordingHeader, RECORDING_VERSION, toLine, type RecordingEvent, type TableEvent} from '../source/record/format.js';
import {nextSpeed, readRecording, ReplayEndError, ReplayError, ReplayTimeline, replayBackend, type Recording} from '../source/record/replay.js';
import {applySnapshot, emptyTabData, viewTable, type TabData} from '../source/model/table.js';
import {columnsFor, type ColumnId} from '../source/model/columns.js';
import {selectRows} from '../source/model/select-rows.js';
import {runBatch} from '../source/batch.js';
import type {Options} from '../source/flags.js';
import {TracerError, type TabId, type TracerSnapshot, type TracerStackSnapshot} from '../source/types.js';
import {scriptedBackend} from './helpers/scripted-backend.js';
import {recordingBackend} from '../source/record/recording-backend.js';
import {infoOfPath} from '../source/model/cgroup.js';
import {viewOf} from '../source/registry.js';

const dir = mkdtempSync(join(tmpdir(), 'memtop-record-'));
after(() => rmSync(dir, {recursive: true, force: true}));
let fileNumber = 0;
const freshPath = () => join(dir, `recording-${++fileNumber}.ndjson`);

const header = () => recordingHeader({memtopVersion: '0.1.0', backend: 'bpftrace', probes: {malloc: 'uprobe:libc:malloc', slab: 'tracepoint:kmem:kmem_cache_alloc'}, startTime: new Date('2025-01-02T03:04:05.000Z')});

/** A deterministic pseudo-random source, so the "live" run is the same every time. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const HOSTILE = ['bash', 'evil\u001b[2Jname', 'ünïcødé', 'semi;colon', 'new\nline', 'quote"back\\slash', '\u202eright-to-left', 'worker'];

/** A synthetic live run: `count` intervals of one tab with processes coming and going. */
function liveRun(tab: TabId, count: number, seed = 7): TracerSnapshot[] {
  const next = random(seed);
  const start = Date.parse('2025-01-02T03:04:05.000Z');
  let clock = start;
  const snapshots: TracerSnapshot[] = [];
  for (let interval = 0; interval < count; interval++) {
    const elapsedMs = 1000 + Math.round(next() * 50) / 7;
    clock += elapsedMs;
    const rows = [];
    for (let pid = 1; pid <= 40; pid++) {
      if (next() < 0.5) continue;
      const row: {pid: number; comm: string; count: number; bytes?: number} = {pid, comm: HOSTILE[pid % HOSTILE.length]!, count: Math.floor(next() * 1000)};
      if (tab !== 'majfault' && tab !== 'anonpgin') row.bytes = Math.floor(next() * 1e6) - (tab === 'brk' ? 3e5 : 0);
      rows.push(row);
    }
    const snapshot: TracerSnapshot = {tab, view: 'process', backend: 'bpftrace', probe: `probe-of-${tab}`, time: new Date(clock).toISOString(), elapsedMs, rows};
    if (tab === 'slab') snapshot.otherViews = {cache: [{cache: 'kmalloc-64', count: Math.floor(next() * 90), bytes: 64}, {cache: 'dentry', count: 3, bytes: 576}]};
    if (interval === 3) snapshot.capped = true;
    if (interval > 5) snapshot.skippedLines = 2;
    snapshots.push(snapshot);
  }
  return snapshots;
}

function stackSnapshot(pid: number, index: number, tab: TabId = 'malloc'): TracerStackSnapshot {
  return {
    tab, backend: 'bpftrace', probe: 'stacks', pid, comm: 'wl', time: new Date(Date.UTC(2025, 0, 2, 3, 5, index)).toISOString(), elapsedMs: 1000,
    stacks: [{count: 10 + index, bytes: 100, frames: ['malloc', 'leaf', 'main']}],
    histogram: [{min: 64, max: 127, count: 3}], entryPoints: [{name: 'malloc', count: 10}],
  };
}

function record(path: string, events: RecordingEvent[]): void {
  const recorder = new Recorder(path, header());
  for (const event of events) {
    if (event.kind === 'table') recorder.recordTable(event.snapshot, event.cgroups);
    else recorder.recordStacks(event.snapshot);
  }
  recorder.close();
}

const tableEvents = (snapshots: TracerSnapshot[]): RecordingEvent[] => snapshots.map(snapshot => ({kind: 'table', tab: snapshot.tab, snapshot}));

const fold = (snapshots: TracerSnapshot[]): TabData => snapshots.reduce((data, snapshot) => applySnapshot(data, snapshot), emptyTabData());

// ---- the format and the recorder ----

test('the header names the format, memtop, backend, probes, kernel, host and start time', () => {
  const value = header();
  assert.deepEqual(value, {
    memtop: 'recording', version: RECORDING_VERSION, memtopVersion: '0.1.0', backend: 'bpftrace',
    probes: {malloc: 'uprobe:libc:malloc', slab: 'tracepoint:kmem:kmem_cache_alloc'},
    kernel: release(), hostname: hostname(), startTime: '2025-01-02T03:04:05.000Z',
    tabs: {malloc: ['process', 'live'], brk: ['process'], slab: ['process', 'cache'], majfault: ['process'], anonpgin: ['process'], minfault: ['process'], reclaim: ['process'], growth: ['process']},
  });
  assert.equal(RECORDING_VERSION, 2);
});

test('a version 1 recording (rows, cacheRows, grouping) reads as this memtop holds it', () => {
  const path = freshPath();
  const {tabs: _tabs, ...v1} = {...header(), version: 1};
  const common = {backend: 'bpftrace', probe: 'p', time: '2025-01-02T03:04:06.000Z', elapsedMs: 1000};
  const both = {tab: 'slab', ...common, rows: [{pid: 3, comm: 'a', count: 2, bytes: 128}], cacheRows: [{cache: 'filp', count: 2, bytes: 512}]};
  const cacheOnly = {tab: 'slab', ...common, rows: [], cacheRows: [{cache: 'dentry', count: 1, bytes: 192}], grouping: 'cache'};
  writeFileSync(path, [v1, {kind: 'table', tab: 'slab', snapshot: both}, {kind: 'table', tab: 'slab', snapshot: cacheOnly}].map(line => JSON.stringify(line)).join('\n') + '\n');
  const [first, second] = readRecording(path).events as TableEvent[];
  assert.deepEqual(first!.snapshot, {tab: 'slab', ...common, view: 'process', rows: both.rows, otherViews: {cache: both.cacheRows}});
  assert.deepEqual(second!.snapshot, {tab: 'slab', ...common, view: 'cache', rows: cacheOnly.cacheRows});
});

test('a recording from a memtop with a tab or view this one lacks is refused by name', () => {
  const path = freshPath();
  writeFileSync(path, JSON.stringify({...header(), tabs: {...header().tabs, oomkill: ['process']}}) + '\n');
  assert.equal(replayError(path), `${path} was recorded with the oomkill view, which this memtop does not have: upgrade memtop to replay it`);
  writeFileSync(path, JSON.stringify({...header(), tabs: {malloc: ['process', 'live', 'sizes']}}) + '\n');
  assert.match(replayError(path), /recorded with the malloc sizes view, which this memtop does not have/);
});

test('a recording is a header line then one line per snapshot, and reads back the same', () => {
  const path = freshPath();
  const table = liveRun('slab', 3);
  const events: RecordingEvent[] = [...tableEvents(table.slice(0, 2)), {kind: 'stacks', snapshot: stackSnapshot(9, 0)}, {kind: 'table', tab: 'slab', snapshot: table[2]!, cgroups: {'3': '/docker/abc'}}];
  const recorder = new Recorder(path, header());
  assert.equal(recorder.recordTable(table[0]!), true);
  recorder.recordTable(table[1]!);
  recorder.recordStacks(stackSnapshot(9, 0));
  recorder.recordTable(table[2]!, {'3': '/docker/abc'});
  assert.equal(recorder.events, 4);
  recorder.close();
  recorder.close();
  assert.equal(recorder.recordTable(table[0]!), false, 'nothing is written after close');

  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines.length, 6, 'header, four events, and the final newline');
  assert.equal(lines[5], '');
  assert.deepEqual(JSON.parse(lines[0]!), header());
  assert.deepEqual(JSON.parse(lines[1]!), {kind: 'table', tab: 'slab', snapshot: table[0]});
  assert.deepEqual(JSON.parse(lines[3]!).kind, 'stacks');

  const loaded = readRecording(path);
  assert.deepEqual(loaded.header, header());
  assert.deepEqual(loaded.events, events);
  assert.equal(loaded.truncatedLines, 0);
});

test('hostile names cannot split a line: newlines and escapes stay inside the JSON string', () => {
  const line = toLine({kind: 'table', tab: 'malloc', snapshot: {tab: 'malloc', backend: 'bpftrace', probe: 'p', time: 't', elapsedMs: 1, rows: [{pid: 1, comm: 'a\nb\r\u001b[31m\u2028', count: 1}]}});
  assert.equal(line.indexOf('\n'), line.length - 1);
  assert.equal(JSON.parse(line).snapshot.rows[0].comm, 'a\nb\r\u001b[31m\u2028');
});

test('file policy: new files are created, empty ones used, others never overwritten', () => {
  const created = freshPath();
  new Recorder(created, header()).close();
  assert.equal(statSync(created).mode & 0o777 & ~0o022, 0o644 & ~0o022);

  const empty = freshPath();
  writeFileSync(empty, '');
  new Recorder(empty, header()).close();
  assert.equal(readRecordingHeaderLine(empty).memtop, 'recording');

  const other = freshPath();
  writeFileSync(other, 'precious data\n');
  assert.throws(() => new Recorder(other, header(), {overwrite: true}), (error: unknown) => error instanceof RecordError && /exists and is not a memtop recording: choose another name/.test(error.message));
  assert.equal(readFileSync(other, 'utf8'), 'precious data\n', 'the other file is untouched');

  const previous = freshPath();
  record(previous, tableEvents(liveRun('malloc', 2)));
  assert.throws(() => new Recorder(previous, header()), /already holds a memtop recording: choose another name, or add --overwrite/);
  const replaced = new Recorder(previous, header(), {overwrite: true});
  replaced.close();
  assert.equal(readFileSync(previous, 'utf8').split('\n').length, 2, 'overwrite leaves only the new header');

  const directory = join(dir, 'a-directory');
  mkdirSync(directory);
  assert.throws(() => new Recorder(directory, header()), /is a directory/);

  const link = join(dir, 'a-link');
  symlinkSync(created, link);
  assert.throws(() => new Recorder(link, header(), {overwrite: true}), /symbolic link/);

  assert.throws(() => new Recorder(join(dir, 'missing-dir', 'x.ndjson'), header()), /cannot record to .*: its directory does not exist/);
});

function readRecordingHeaderLine(path: string) {
  return JSON.parse(readFileSync(path, 'utf8').split('\n')[0]!);
}

test('a write failure does not throw: it is reported once and recording stops', () => {
  const path = freshPath();
  const errors: RecordError[] = [];
  const recorder = new Recorder(path, header(), {onError: error => errors.push(error)});
  recorder.recordTable(liveRun('malloc', 1)[0]!);
  // Pull the descriptor from under the recorder, as a failing disk would.
  closeSync((recorder as unknown as {fd: number}).fd);
  assert.equal(recorder.recordTable(liveRun('malloc', 1)[0]!), false);
  assert.equal(recorder.recordStacks(stackSnapshot(1, 0)), false);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /^recording to .* stopped: /);
  assert.equal(recorder.error, errors[0]);
  assert.equal(recorder.events, 1);
  assert.equal(readRecording(path).events.length, 1, 'what was written before still replays');
});

test('SIGKILL mid-run leaves a file that replays up to its last complete line', async () => {
  const path = freshPath();
  const script = fileURLToPath(new URL('./helpers/record-forever.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, path], {stdio: ['ignore', 'ignore', 'pipe']});
  let stderr = '';
  child.stderr.on('data', chunk => (stderr += chunk));
  const exited = new Promise(resolve => child.on('exit', resolve));
  const deadline = Date.now() + 20_000;
  while (!(existsSync(path) && statSync(path).size > 2_000_000)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      assert.fail(`the recording child did not write 2 MB in time: ${stderr}`);
    }
    await new Promise(resolve => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  await exited;
  const recording = readRecording(path);
  assert.ok(recording.events.length >= 5, `${recording.events.length} events`);
  assert.ok(recording.truncatedLines <= 1);
  for (const event of recording.events) assert.equal(event.kind === 'table' && event.snapshot.rows.length, 4000);
});

// ---- loading errors ----

function replayError(path: string): string {
  try {
    readRecording(path);
  } catch (error) {
    assert.ok(error instanceof ReplayError, String(error));
    assert.ok(!error.message.includes('\n'), 'one line');
    return error.message;
  }
  assert.fail('expected a ReplayError');
}

test('load errors are one line that says what is wrong and what to do', () => {
  assert.match(replayError(join(dir, 'nope.ndjson')), /^cannot read .*nope\.ndjson: no such file; check the path/);
  assert.match(replayError(dir), /it is a directory/);

  const empty = freshPath();
  writeFileSync(empty, '');
  assert.match(replayError(empty), /is empty: not a memtop recording/);

  const text = freshPath();
  writeFileSync(text, 'hello\nworld\n');
  assert.match(replayError(text), /is not a memtop recording \(its first line is not a memtop header\)/);

  const binary = freshPath();
  writeFileSync(binary, Buffer.from([0, 159, 146, 150, 10, 255, 0]));
  assert.match(replayError(binary), /is not a memtop recording/);

  const otherJson = freshPath();
  writeFileSync(otherJson, '{"hello":"world"}\n');
  assert.match(replayError(otherJson), /is not a memtop recording/);

  const newer = freshPath();
  writeFileSync(newer, JSON.stringify({...header(), version: RECORDING_VERSION + 1}) + '\n' + JSON.stringify({kind: 'whatever'}) + '\n');
  assert.equal(replayError(newer), `${newer} was recorded by a newer memtop (format ${RECORDING_VERSION + 1}); upgrade memtop to replay it`);

  const damaged = freshPath();
  writeFileSync(damaged, JSON.stringify({...header(), probes: 3, hostname: undefined}) + '\n');
  assert.match(replayError(damaged), /has a damaged header \(bad header fields probes, hostname\)/);

  const badVersion = freshPath();
  writeFileSync(badVersion, JSON.stringify({...header(), version: 'one'}) + '\n');
  assert.match(replayError(badVersion), /damaged header \(bad version\)/);

  const headerOnly = freshPath();
  new Recorder(headerOnly, header()).close();
  assert.match(replayError(headerOnly), /holds no snapshots: memtop stopped before its first interval/);

  const cutHeader = freshPath();
  writeFileSync(cutHeader, toLine(header()).slice(0, 40));
  assert.match(replayError(cutHeader), /holds no snapshots: memtop stopped while writing its header/);
});

test('a corrupt line in the middle is named by its line number, with a way to keep what came before', () => {
  const path = freshPath();
  record(path, tableEvents(liveRun('malloc', 4)));
  const lines = readFileSync(path, 'utf8').split('\n');
  lines[2] = lines[2]!.slice(0, 50);
  writeFileSync(path, lines.join('\n'));
  assert.equal(replayError(path), `${path} is corrupt at line 3 (not JSON); to replay what came before: head -n 2 ${path} > fixed.ndjson`);

  const wrongShape = freshPath();
  record(wrongShape, tableEvents(liveRun('malloc', 3)));
  appendFileSync(wrongShape, JSON.stringify({kind: 'table', tab: 'malloc', snapshot: {tab: 'malloc', rows: 'many'}}) + '\n');
  appendFileSync(wrongShape, toLine({kind: 'stacks', snapshot: stackSnapshot(1, 1)}));
  assert.match(replayError(wrongShape), /corrupt at line 5 \(backend, probe or time missing\)/);

  const mismatch = freshPath();
  const snapshot = liveRun('malloc', 1)[0]!;
  record(mismatch, tableEvents([snapshot]));
  appendFileSync(mismatch, JSON.stringify({kind: 'table', tab: 'brk', snapshot}) + '\n');
  appendFileSync(mismatch, JSON.stringify({kind: 'table', tab: 'brk', snapshot}) + '\n');
  assert.match(replayError(mismatch), /corrupt at line 3 \(tab does not match its snapshot\)/);
});

test('a truncated last line is skipped and counted; unknown kinds and blank lines are skipped', () => {
  const path = freshPath();
  const snapshots = liveRun('malloc', 5);
  record(path, tableEvents(snapshots.slice(0, 4)));
  appendFileSync(path, '\n');
  appendFileSync(path, JSON.stringify({kind: 'annotation', text: 'from a later memtop'}) + '\n');
  appendFileSync(path, toLine({kind: 'table', tab: 'malloc', snapshot: snapshots[4]!}).slice(0, 100));
  const recording = readRecording(path);
  assert.equal(recording.events.length, 4);
  assert.equal(recording.truncatedLines, 1);
  assert.equal(recording.unknownEvents, 1);

  const complete = freshPath();
  record(complete, tableEvents(snapshots.slice(0, 2)));
  // Cut exactly before the newline: the line is whole and is kept.
  writeFileSync(complete, readFileSync(complete, 'utf8').replace(/\n$/, ''));
  assert.equal(readRecording(complete).events.length, 2);
  assert.equal(readRecording(complete).truncatedLines, 0);
});

// ---- the timeline ----

function recordingOf(events: RecordingEvent[]): Recording {
  const path = freshPath();
  record(path, events);
  return readRecording(path);
}

test('tableDataAt folds each tab up to the index, stepping forward and back in any order', () => {
  const malloc = liveRun('malloc', 50, 1);
  const slab = liveRun('slab', 30, 2);
  const events: RecordingEvent[] = [];
  for (let index = 0; index < 50; index++) {
    events.push({kind: 'table', tab: 'malloc', snapshot: malloc[index]!});
    if (index % 5 === 2) events.push({kind: 'stacks', snapshot: stackSnapshot(7, index)});
    if (index < 30) events.push({kind: 'table', tab: 'slab', snapshot: slab[index]!});
  }
  const timeline = new ReplayTimeline(recordingOf(events).events);
  assert.equal(timeline.length, events.length);
  assert.deepEqual(timeline.tabs, ['malloc', 'slab']);
  const expected = (tab: TabId, index: number) => fold(events.slice(0, index + 1).flatMap(event => (event.kind === 'table' && event.tab === tab ? [event.snapshot] : [])));
  const order = [0, 1, 2, 3, 4, 5, 50, 51, 49, 10, 9, 8, 100, events.length - 1, 30, 29, 31, 0, -1, 200];
  const next = random(3);
  for (let extra = 0; extra < 20; extra++) order.push(Math.floor(next() * events.length));
  for (const index of order) {
    for (const tab of ['malloc', 'slab'] as const) assert.deepEqual(timeline.tableDataAt(tab, index), expected(tab, Math.min(index, events.length - 1)), `${tab} at ${index}`);
  }
  assert.deepEqual(timeline.tableDataAt('brk', 10), emptyTabData(), 'a tab not recorded is empty');
  assert.deepEqual(timeline.tableSnapshotAt('slab', events.length - 1), slab[29]);
  assert.equal(timeline.tableSnapshotAt('slab', -1), undefined);
});

test('stepping: next and previous index of a tab, stacks at an index, cgroups as recorded', () => {
  const malloc = liveRun('malloc', 3);
  const brk = liveRun('brk', 2);
  const events: RecordingEvent[] = [
    {kind: 'table', tab: 'malloc', snapshot: malloc[0]!, cgroups: {'5': '/system.slice/a.service'}},
    {kind: 'table', tab: 'brk', snapshot: brk[0]!},
    {kind: 'stacks', snapshot: stackSnapshot(5, 1)},
    {kind: 'table', tab: 'malloc', snapshot: malloc[1]!, cgroups: {'5': `/system.slice/docker-${'4f3e2d1c0b0a'.repeat(6).slice(0, 64)}.scope`}},
    {kind: 'stacks', snapshot: stackSnapshot(6, 2, 'brk')},
    {kind: 'table', tab: 'malloc', snapshot: malloc[2]!},
    {kind: 'table', tab: 'brk', snapshot: brk[1]!},
  ];
  const timeline = new ReplayTimeline(recordingOf(events).events);
  assert.equal(timeline.nextIndex(-1), 0);
  assert.equal(timeline.nextIndex(0, {kind: 'table', tab: 'malloc'}), 3);
  assert.equal(timeline.nextIndex(5, {kind: 'table', tab: 'malloc'}), undefined);
  assert.equal(timeline.previousIndex(5, {kind: 'table', tab: 'malloc'}), 3);
  assert.equal(timeline.previousIndex(0, {kind: 'table', tab: 'malloc'}), undefined);
  assert.equal(timeline.previousIndex(6, {kind: 'table', tab: 'brk'}), 1);
  assert.equal(timeline.nextIndex(0, {kind: 'stacks'}), 2);
  assert.equal(timeline.nextIndex(2, {kind: 'stacks', pid: 5}), undefined);
  assert.equal(timeline.stacksAt(1), undefined);
  assert.equal(timeline.stacksAt(3)?.pid, 5);
  assert.equal(timeline.stacksAt(6)?.pid, 6);
  assert.equal(timeline.stacksAt(6, {pid: 5})?.pid, 5);
  assert.equal(timeline.stacksAt(6, {tab: 'malloc', pid: 6}), undefined);
  assert.equal(timeline.cgroupAt(5, 0), '/system.slice/a.service');
  assert.equal(timeline.cgroupAt(5, 2), '/system.slice/a.service');
  assert.equal(infoOfPath(timeline.cgroupAt(5, 6)!).label, '4f3e2d1c0b0a', 'the label comes from the recorded path');
  assert.equal(timeline.cgroupAt(6, 6), undefined);
  assert.equal(timeline.timeAt(2), stackSnapshot(5, 1).time);
});

test('playback waits the recorded time between events divided by the speed', () => {
  const at = (seconds: number, elapsedMs = 1000): TracerSnapshot => ({tab: 'malloc', backend: 'bpftrace', probe: 'p', time: new Date(Date.UTC(2025, 0, 1, 0, 0, seconds)).toISOString(), elapsedMs, rows: []});
  const timeline = new ReplayTimeline([
    {kind: 'table', tab: 'malloc', snapshot: at(0)},
    {kind: 'table', tab: 'malloc', snapshot: at(2)},
    {kind: 'table', tab: 'malloc', snapshot: at(3)},
    {kind: 'table', tab: 'malloc', snapshot: {...at(4, 500), time: 'not a time'}},
    {kind: 'table', tab: 'malloc', snapshot: at(3600)},
  ]);
  assert.equal(timeline.playbackDelayMs(0, 1), 2000);
  assert.equal(timeline.playbackDelayMs(0, 2), 1000);
  assert.equal(timeline.playbackDelayMs(0, 0.5), 4000);
  assert.equal(timeline.playbackDelayMs(1, 4), 250);
  assert.equal(timeline.playbackDelayMs(2, 1), 500, 'no usable time: the next interval');
  assert.equal(timeline.playbackDelayMs(1, 0), 0, 'speed 0: no wait');
  assert.equal(timeline.playbackDelayMs(0, 1), 2000);
  const big = new ReplayTimeline([{kind: 'table', tab: 'malloc', snapshot: at(0)}, {kind: 'table', tab: 'malloc', snapshot: at(3600)}]);
  assert.equal(big.playbackDelayMs(0, 1), 60_000, 'a long gap is cut');
  assert.equal(timeline.playbackDelayMs(4, 1), undefined, 'the end');
  assert.deepEqual([0.5, 1, 2, 4, 3].map(nextSpeed), [1, 2, 4, 0.5, 4]);
});

// ---- the replay backend ----

async function collect<T>(iterable: AsyncIterable<T>, count = Infinity): Promise<{items: T[]; error?: unknown}> {
  const items: T[] = [];
  try {
    for await (const item of iterable) {
      items.push(item);
      if (items.length >= count) break;
    }
  } catch (error) {
    return {items, error};
  }
  return {items};
}

test('the replay backend yields a tab\'s snapshots in order, resumes where it stopped, and ends', async () => {
  const malloc = liveRun('malloc', 6);
  const recording = recordingOf([...tableEvents(malloc.slice(0, 3)), {kind: 'stacks', snapshot: stackSnapshot(4, 0)}, ...tableEvents(malloc.slice(3)), {kind: 'stacks', snapshot: stackSnapshot(4, 1)}]);
  const backend = replayBackend(recording, {speed: 0});
  assert.equal(backend.id, 'bpftrace');
  assert.deepEqual(await backend.available(), {ok: true, version: `recording from ${hostname()} by memtop 0.1.0`});
  assert.equal(await backend.probeFor('malloc'), 'uprobe:libc:malloc');
  assert.equal(await backend.probeFor('brk'), 'not recorded');

  const first = new AbortController();
  const part = await collect(backend.start({tab: 'malloc', intervalMs: 1000, signal: first.signal}), 2);
  first.abort();
  assert.deepEqual(part.items, malloc.slice(0, 2));
  const rest = await collect(backend.start({tab: 'malloc', intervalMs: 1000, signal: new AbortController().signal}));
  assert.deepEqual(rest.items, malloc.slice(2), 'a second start goes on from where the first stopped');
  assert.ok(rest.error instanceof ReplayEndError && rest.error instanceof TracerError, String(rest.error));
  assert.match((rest.error as Error).message, /end of recording/);

  const stacks = await collect(backend.startStacks({tab: 'malloc', pid: 4, intervalMs: 1000, signal: new AbortController().signal}));
  assert.deepEqual(stacks.items, [stackSnapshot(4, 0), stackSnapshot(4, 1)]);
  const none = await collect(backend.startStacks({tab: 'malloc', pid: 5, intervalMs: 1000, signal: new AbortController().signal}));
  assert.match((none.error as TracerError).message, /no stacks of PID 5 on the malloc tab were recorded/);
  const noTab = await collect(replayBackend(recording, {speed: 0}).start({tab: 'slab', intervalMs: 1000, signal: new AbortController().signal}));
  assert.match((noTab.error as TracerError).message, /the slab tab was not recorded/);

  const withCgroups = replayBackend(recordingOf([{kind: 'table', tab: 'malloc', snapshot: malloc[0]!, cgroups: {'3': '/a'}}, {kind: 'table', tab: 'malloc', snapshot: malloc[1]!, cgroups: {'3': '/b'}}]), {speed: 0});
  const playing = withCgroups.start({tab: 'malloc', intervalMs: 1000, signal: new AbortController().signal})[Symbol.asyncIterator]();
  assert.equal(withCgroups.cgroupOf(3), undefined, 'nothing played yet');
  await playing.next();
  assert.equal(withCgroups.cgroupOf(3), '/a');
  await playing.next();
  assert.equal(withCgroups.cgroupOf(3), '/b', 'as recorded with the latest snapshot played');
  await playing.return?.();

  const onePid = await collect(replayBackend(recording, {speed: 0}).start({tab: 'malloc', pid: 3, intervalMs: 1000, signal: new AbortController().signal}));
  assert.ok(onePid.items.every(snapshot => snapshot.rows.every(row => row.pid === 3)));
});

test('the replay backend paces by the recorded intervals over the speed, and can wait at the end', async () => {
  const snapshots = liveRun('majfault', 4).map(snapshot => ({...snapshot, elapsedMs: 200}));
  const recording = recordingOf(tableEvents(snapshots));
  const started = Date.now();
  const fast = await collect(replayBackend(recording, {speed: 4}).start({tab: 'majfault', intervalMs: 1000, signal: new AbortController().signal}));
  const took = Date.now() - started;
  assert.equal(fast.items.length, 4);
  assert.ok(took >= 4 * 50 - 20 && took < 4 * 200, `4 intervals of 200 ms at x4 took ${took} ms`);

  const controller = new AbortController();
  const waiting = collect(replayBackend(recording, {speed: 0, atEnd: 'wait'}).start({tab: 'majfault', intervalMs: 1000, signal: controller.signal}));
  let settled = false;
  void waiting.then(() => (settled = true));
  await new Promise(resolve => setTimeout(resolve, 50));
  assert.equal(settled, false, 'it stays open at the end');
  controller.abort();
  const result = await waiting;
  assert.equal(result.items.length, 4);
  assert.equal(result.error, undefined);
});

// ---- replay reproduces the live rows ----

const QUERIES: {sortColumn: ColumnId; descending: boolean; cumulative: boolean; filter: string; limit: number}[] = [
  {sortColumn: 'count', descending: true, cumulative: false, filter: '', limit: 10},
  {sortColumn: 'bytes', descending: true, cumulative: false, filter: '', limit: 100},
  {sortColumn: 'comm', descending: false, cumulative: true, filter: 'e', limit: 7},
  {sortColumn: 'totalBytes', descending: true, cumulative: true, filter: '', limit: 10},
];

test('folding the recorded snapshots gives exactly the rows of folding the live ones', () => {
  for (const tab of ['malloc', 'brk', 'slab', 'majfault', 'anonpgin'] as const) {
    const live = liveRun(tab, 40, tab.length);
    const path = freshPath();
    const recorder = new Recorder(path, header());
    let liveData = emptyTabData();
    const liveRows: unknown[] = [];
    for (const snapshot of live) {
      liveData = applySnapshot(liveData, snapshot);
      recorder.recordTable(snapshot);
      for (const grouping of tab === 'slab' ? (['process', 'cache'] as const) : (['process'] as const)) {
        const columns = columnsFor(viewOf(tab, grouping));
        for (const query of QUERIES) liveRows.push(selectRows(viewTable(liveData, grouping).rows.values(), columns, {...query, view: viewOf(tab, grouping)}));
      }
    }
    recorder.close();

    const timeline = new ReplayTimeline(readRecording(path).events);
    const replayedRows: unknown[] = [];
    for (let index = 0; index < timeline.length; index++) {
      const data = timeline.tableDataAt(tab, index);
      for (const grouping of tab === 'slab' ? (['process', 'cache'] as const) : (['process'] as const)) {
        const columns = columnsFor(viewOf(tab, grouping));
        for (const query of QUERIES) replayedRows.push(selectRows(viewTable(data, grouping).rows.values(), columns, {...query, view: viewOf(tab, grouping)}));
      }
    }
    assert.deepStrictEqual(replayedRows, liveRows, tab);
    assert.deepStrictEqual(timeline.tableDataAt(tab, timeline.length - 1), liveData, tab);
  }
});

const batchOptions = (tab: TabId, iterations?: number): Options => ({tab, intervalMs: 1000, limit: 10, backend: 'auto', batch: true, iterations, json: true, stacks: false, check: false, help: false, version: false, overwrite: false, speed: 1, folded: false});

test('--replay FILE --batch --json prints the very lines the live batch run printed', async () => {
  const live = liveRun('slab', 12, 5);
  const path = freshPath();
  const recorder = new Recorder(path, header());
  const liveBackend = scriptedBackend({everyMs: 1, table: (tab, index) => {
    const snapshot = live[index];
    if (snapshot) recorder.recordTable(snapshot);
    return snapshot as TracerSnapshot;
  }});
  let liveOut = '';
  await runBatch(liveBackend, batchOptions('slab', live.length), {write: text => (liveOut += text), warn: () => {}}, new AbortController().signal);
  recorder.close();

  let replayOut = '';
  await runBatch(replayBackend(readRecording(path), {speed: 0}), batchOptions('slab', live.length), {write: text => (replayOut += text), warn: () => {}}, new AbortController().signal);
  assert.equal(liveOut.split('\n').length, live.length + 1);
  assert.equal(replayOut, liveOut);
});

test('a recording backend records what passes through it, with cgroups and the drilled process\'s name', async () => {
  const path = freshPath();
  const recorder = new Recorder(path, header());
  const live = liveRun('malloc', 3);
  const inner = scriptedBackend({everyMs: 1, table: (tab, index) => live[index] as TracerSnapshot, stacks: (tab, pid, index) => (index < 2 ? {...stackSnapshot(pid, index), comm: undefined} : (undefined as unknown as TracerStackSnapshot))});
  const backend = recordingBackend(inner, recorder, {cgroupOf: pid => (pid % 2 === 0 ? `/slice/even-${pid}` : undefined), commOf: pid => `proc-${pid}`});
  assert.equal(backend.id, 'bpftrace');
  assert.equal(await backend.probeFor('malloc'), 'scripted:malloc');
  const tables = await collect(backend.start({tab: 'malloc', intervalMs: 1000, signal: new AbortController().signal}), 3);
  const stacks = await collect(backend.startStacks({tab: 'malloc', pid: 12, intervalMs: 1000, signal: new AbortController().signal}), 2);
  recorder.close();
  assert.deepEqual(tables.items, live, 'the caller gets the tracer\'s snapshots');
  assert.deepEqual(stacks.items.map(snapshot => snapshot.comm), ['proc-12', 'proc-12']);
  const recording = readRecording(path);
  assert.deepEqual(recording.events.filter(event => event.kind === 'table').map(event => event.snapshot), live);
  const first = recording.events[0]!;
  assert.ok(first.kind === 'table');
  assert.deepEqual(first.cgroups, Object.fromEntries(live[0]!.rows.filter(row => row.pid! % 2 === 0).map(row => [String(row.pid), `/slice/even-${row.pid}`])));
  assert.deepEqual(recording.events.filter(event => event.kind === 'stacks').map(event => event.snapshot), stacks.items);
});

test('a recording names the rows the tracer left unnamed, since a replay elsewhere cannot ask /proc', async () => {
  const path = freshPath();
  const recorder = new Recorder(path, header());
  const [first] = liveRun('malloc', 1);
  const unnamed: TracerSnapshot = {...first!, rows: first!.rows.map((row, index) => (index % 2 === 0 ? {...row, comm: ''} : row))};
  const inner = scriptedBackend({everyMs: 1, table: () => unnamed});
  const backend = recordingBackend(inner, recorder, {cgroupOf: () => undefined, commOf: pid => (pid === unnamed.rows[0]!.pid ? undefined : `proc-${pid}`)});
  const tables = await collect(backend.start({tab: 'malloc', intervalMs: 1000, signal: new AbortController().signal}), 1);
  recorder.close();
  const expected = unnamed.rows.map((row, index) => (index % 2 === 0 ? {...row, comm: index === 0 ? '?' : `proc-${row.pid}`} : row));
  assert.deepEqual(tables.items[0]!.rows, expected);
  const recording = readRecording(path);
  const table = recording.events.find(event => event.kind === 'table');
  assert.ok(table?.kind === 'table');
  assert.deepEqual(table.snapshot.rows, expected);
});

test('a cache drill-down is recorded and replays to the same cache only, with its processes and kernel frames', async () => {
  const path = freshPath();
  const recorder = new Recorder(path, header());
  const cacheSnapshot = (cache: string, index: number): TracerStackSnapshot => ({
    tab: 'slab', backend: 'bpftrace', probe: 'kstack', cache, time: new Date(Date.UTC(2025, 0, 2, 3, 6, index)).toISOString(), elapsedMs: 1000, kernel: true,
    stacks: [{count: 40 + index, bytes: 7680, frames: ['kmem_cache_alloc_noprof', 'alloc_empty_file', 'path_openat']}],
    processes: [{pid: 12, comm: 'evil\u001b[2J\nname', count: 40, bytes: 7680}],
  });
  const inner = scriptedBackend({everyMs: 1, cacheStacks: (tab, cache, index) => cacheSnapshot(cache, index)});
  const backend = recordingBackend(inner, recorder, {cgroupOf: () => undefined, commOf: () => undefined});
  const live = await collect(backend.startStacks({tab: 'slab', cache: 'filp', intervalMs: 1000, signal: new AbortController().signal}), 2);
  recorder.close();
  assert.deepEqual(live.items, [cacheSnapshot('filp', 0), cacheSnapshot('filp', 1)]);
  assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, 3, 'a header and one line per interval: the name cannot split a line');

  const recording = readRecording(path);
  const replayed = await collect(replayBackend(recording, {speed: 0}).startStacks({tab: 'slab', cache: 'filp', intervalMs: 1000, signal: new AbortController().signal}));
  assert.deepEqual(replayed.items, live.items);
  const other = await collect(replayBackend(recording, {speed: 0}).startStacks({tab: 'slab', cache: 'dentry', intervalMs: 1000, signal: new AbortController().signal}));
  assert.deepEqual(other.items, []);
  assert.match((other.error as TracerError).message, /cache dentry/);
  const byPid = await collect(replayBackend(recording, {speed: 0}).startStacks({tab: 'slab', pid: 12, intervalMs: 1000, signal: new AbortController().signal}));
  assert.deepEqual(byPid.items, [], 'a cache\'s drill-down is not a process\'s');
});

test('a recording\'s frame notes and untracked processes are checked before a replay shows them', () => {
  const table: TracerSnapshot = {tab: 'malloc', view: 'live', backend: 'bpftrace', probe: 'p', time: 't', elapsedMs: 1000, rows: [], since: 's', untracked: 3, untrackedPids: [7]};
  assert.equal(checkTableSnapshot(table), undefined);
  assert.equal(checkTableSnapshot({...table, untrackedPids: '7'}), 'untrackedPids are malformed');
  assert.equal(checkTableSnapshot({...table, untrackedPids: [7, 'x']}), 'untrackedPids are malformed');
  const stacks: TracerStackSnapshot = {tab: 'malloc', backend: 'bpftrace', probe: 'p', pid: 7, time: 't', elapsedMs: 1000, stacks: [], frameNotes: [{reason: 'no-symbols', file: '/x', frames: 2, text: 'why'}]};
  assert.equal(checkStackSnapshot(stacks), undefined);
  assert.equal(checkStackSnapshot({...stacks, frameNotes: 'why'}), 'frameNotes are malformed');
  assert.equal(checkStackSnapshot({...stacks, frameNotes: [{reason: 'jit'}]}), 'frameNotes are malformed');
});
