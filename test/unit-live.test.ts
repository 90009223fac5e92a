// Unit tests for the malloc tab's live view on plain input: gauges in the table model, its
// columns, the live drill-down's age threshold, keys, flags, the bpftrace reader of its maps,
// batch JSON, folded names and recordings.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {key} from './helpers/ink-key.js';
import {applyRows, applySnapshot, emptyTable, emptyTabData, viewTable, windowedGrowth} from '../source/model/table.js';
import {columnsFor, effectiveSortColumn} from '../source/model/columns.js';
import {selectRows} from '../source/model/select-rows.js';
import {emptyStacksText, liveSummary, topStacks} from '../source/model/stacks.js';
import {foldedFileName, foldedStacks} from '../source/model/folded.js';
import {drillView, viewOf} from '../source/registry.js';
import {initialState, MIN_AGES, nextMinAge, reducer} from '../source/state/reducer.js';
import {commandFor, footerText, type KeyContext} from '../source/state/keys.js';
import {parseFlags, UsageError} from '../source/flags.js';
import {BpftraceJsonParser} from '../source/parse/bpftrace-json.js';
import {liveRows, liveStackRows} from '../source/parse/bpftrace-live.js';
import {ageClassesAt, liveRowsOf} from '../source/parse/live.js';
import {rowJson, stacksJson, tableJson, tableText} from '../source/model/batch-output.js';
import {checkStackSnapshot, checkTableSnapshot} from '../source/record/format.js';
import {humanAge, humanBytesRate} from '../source/format.js';
import {DEFAULT_SAMPLE_BYTES, type TracerSnapshot, type TracerStackSnapshot} from '../source/types.js';

const LIVE = viewOf('malloc', 'live');
const meta = (elapsedMs = 1000, since = '2026-01-01T00:00:00.000Z') => ({elapsedMs, probe: 'p', backend: 'bpftrace' as const, time: 't', capped: false, skippedLines: 0, since, untracked: 0});

test('a gauge is the value now: its rate is its growth per second, its trend its value, its total its peak', () => {
  let table = applyRows(emptyTable(), [{pid: 1, comm: 'a', count: 10, bytes: 4000, age: 1}], meta(500), LIVE);
  table = applyRows(table, [{pid: 1, comm: 'a', count: 12, bytes: 6000, age: 2}], meta(1000), LIVE);
  table = applyRows(table, [{pid: 1, comm: 'a', count: 2, bytes: 1000, age: 3}], meta(1000), LIVE);
  const row = table.rows.get('pid:1')!;
  assert.equal(row.bytes, 1000);
  assert.equal(row.rate, -5000, 'it shrank by 5000 bytes in a second');
  assert.deepEqual(row.history, [4000, 6000, 1000]);
  assert.equal(row.totalBytes, 6000, 'the peak, not a sum');
  assert.equal(row.totalCount, undefined, 'a gauge without a total title has none');
  assert.equal(row.totalAge, undefined);
  assert.deepEqual(table.totalRateHistory, [4000, 6000, 1000], 'the machine-wide trend is the live bytes of every row');
  assert.equal(table.since, '2026-01-01T00:00:00.000Z');
});

test('a process the live tracer no longer reports is gone, not idle; a tracer that starts anew starts a new table', () => {
  let table = applyRows(emptyTable(), [{pid: 1, comm: 'a', count: 1, bytes: 10, age: 1}, {pid: 2, comm: 'b', count: 1, bytes: 10, age: 1}], meta(), LIVE);
  table = applyRows(table, [{pid: 2, comm: 'b', count: 1, bytes: 10, age: 2}], meta(), LIVE);
  assert.deepEqual([...table.rows.keys()], ['pid:2']);
  const snapshot: TracerSnapshot = {tab: 'malloc', view: 'live', backend: 'bpftrace', probe: 'p', time: 't', elapsedMs: 1000, rows: [{pid: 2, comm: 'b', count: 1, bytes: 50, age: 1}], since: 'A'};
  let data = applySnapshot(emptyTabData(), snapshot);
  data = applySnapshot(data, {...snapshot, rows: [{pid: 2, comm: 'b', count: 1, bytes: 80, age: 2}]});
  assert.equal(viewTable(data, 'live').rows.get('pid:2')!.totalBytes, 80);
  data = applySnapshot(data, {...snapshot, since: 'B', rows: [{pid: 2, comm: 'b', count: 1, bytes: 20, age: 1}]});
  const restarted = viewTable(data, 'live').rows.get('pid:2')!;
  assert.equal(restarted.totalBytes, 20, 'the peak of the old tracer is not carried over');
  assert.equal(restarted.rate, 20, 'growth counts from nothing again');
  assert.equal(viewTable(data, 'live').intervals, 1);
});

test('live columns: LIVE, ALLOCS, OLDEST, GROWTH/s signed in bytes, PEAK; c ranks by the peak', () => {
  const columns = columnsFor(viewOf('malloc', 'live'), {trend: {ascii: true}});
  assert.deepEqual(columns.map(column => column.title), ['PID', 'COMM', 'LIVE', 'ALLOCS', 'OLDEST', 'GROWTH/s', 'TREND', 'PEAK']);
  let table = applyRows(emptyTable(), [{pid: 7, comm: 'x', count: 3, bytes: 2048, age: 75}], meta(), LIVE);
  table = applyRows(table, [{pid: 7, comm: 'x', count: 3, bytes: 1024, age: 76}], meta(), LIVE);
  const row = table.rows.get('pid:7')!;
  const shown = Object.fromEntries(columns.map(column => [column.id, column.format(row)]));
  assert.equal(shown.bytes, '1.0K');
  assert.equal(shown.age, '76s');
  assert.equal(shown.rate, '-1.0K');
  assert.equal(shown.totalBytes, '2.0K');
  assert.equal(effectiveSortColumn('bytes', true, viewOf('malloc', 'live')), 'totalBytes');
  assert.equal(effectiveSortColumn('rate', true, viewOf('malloc', 'live')), 'totalBytes');
  assert.equal(effectiveSortColumn('age', true, viewOf('malloc', 'live')), 'age', 'no peak age: it sorts by itself');
  const ranked = selectRows(
    [{...row, key: 'pid:1', pid: 1, bytes: 0, count: 0, age: 0}, row],
    columns,
    {view: viewOf('malloc', 'live'), sortColumn: 'bytes', descending: true, cumulative: false, filter: '', limit: 10},
  );
  assert.deepEqual(ranked.map(shownRow => shownRow.pid), [7], 'a process with nothing outstanding is not shown');
  assert.equal(humanBytesRate(0), '0B');
  assert.equal(humanAge(4.25), '4.3s');
  assert.equal(humanAge(7200), '2.0h');
});

/** A live drill-down of two classes: class 0 from 10 s to 4 s ago, class 1 since. */
function liveSnapshot(sampleBytes?: number): TracerStackSnapshot {
  return {
    tab: 'malloc',
    view: 'live',
    backend: 'bpftrace',
    probe: 'p',
    pid: 42,
    time: '2026-01-01T00:00:10.000Z',
    elapsedMs: 1000,
    stacks: [
      {count: 4, bytes: 400, frames: ['keep', 'main'], classes: [{count: 4, bytes: 400}, {count: 0, bytes: 0}]},
      {count: 9, bytes: 9000, frames: ['churn', 'main'], classes: [{count: 0, bytes: 0}, {count: 9, bytes: 9000}]},
      {count: 3, bytes: 300, frames: ['both', 'main'], classes: [{count: 1, bytes: 100}, {count: 2, bytes: 200}]},
    ],
    live: {since: '2026-01-01T00:00:00.000Z', classes: [{oldest: 10, newest: 4}, {oldest: 4, newest: 0}], totals: [{count: 5, bytes: 500}, {count: 11, bytes: 9200}], untracked: 0, ...(sampleBytes ? {sampleBytes} : {})},
  };
}

test('live stacks: by outstanding bytes with count, oldest age and share of the exact total; the age threshold counts whole classes only', () => {
  const all = topStacks(liveSnapshot(), 10);
  assert.deepEqual(all.stacks.map(stack => [stack.frames[0], stack.bytes, stack.count, stack.age]), [['churn', 9000, 9, 4], ['keep', 400, 4, 10], ['both', 300, 3, 10]]);
  assert.equal(all.totalBytes, 9700);
  assert.equal(all.stacks[0]!.share.toFixed(1), '92.8');
  assert.equal(all.live!.oldest, 10);
  // At least 5 s old: class 1 (at most 4 s old) is left out; class 0 (at least 4 s old) is not enough either.
  assert.deepEqual(topStacks(liveSnapshot(), 10, 5).stacks, []);
  const old = topStacks(liveSnapshot(), 10, 4);
  assert.deepEqual(old.stacks.map(stack => [stack.frames[0], stack.bytes, stack.count]), [['keep', 400, 4], ['both', 100, 1]]);
  assert.equal(old.totalBytes, 500);
  assert.match(liveSummary(old), /older than 4\.0s: 500B in 5 allocations, oldest 10s$/);
  assert.match(liveSummary(topStacks(liveSnapshot(DEFAULT_SAMPLE_BYTES), 10)), /stacks SAMPLED, 1 per 512K: estimates/);
  assert.equal(foldedStacks(old.stacks, 'bytes'), 'main;both 100\nmain;keep 400\n', 'folded live stacks weigh their outstanding bytes');
});

test('keys: l switches the malloc tab between requests and live memory; Enter from live drills into live stacks; o steps the age threshold there only', () => {
  const table: KeyContext = {mode: 'table', replaying: false, tab: 'malloc', view: 'process'};
  assert.deepEqual(commandFor('l', key(), table), {kind: 'action', action: {type: 'view-next', key: 'l'}});
  assert.equal(commandFor('l', key(), {...table, tab: 'brk'}), undefined);
  let state = reducer(initialState(), {type: 'view-next', key: 'l'});
  assert.equal(state.view, 'live');
  assert.equal(state.sortColumn, 'bytes', 'the live view ranks by live bytes');
  state = reducer(state, {type: 'drill', pid: 42, comm: 'x'});
  assert.deepEqual(state.drill, {tab: 'malloc', view: 'live', pid: 42, comm: 'x'});
  assert.equal(reducer(reducer(initialState(), {type: 'drill', pid: 1, comm: 'y'}), {type: 'back'}).drill, undefined);
  assert.equal(reducer(initialState(), {type: 'drill', pid: 1, comm: 'y'}).drill!.view, undefined, 'the requests view opens the tab\'s drill-down');
  const liveDrill: KeyContext = {mode: 'drill', replaying: false, tab: 'malloc', view: 'live', drill: 'live'};
  assert.deepEqual(commandFor('o', key(), liveDrill), {kind: 'action', action: {type: 'min-age-next'}});
  assert.equal(commandFor('o', key(), {...liveDrill, drill: undefined}), undefined, 'no threshold on request stacks');
  assert.match(footerText(liveDrill), /o older/);
  assert.deepEqual(MIN_AGES.map(nextMinAge), [5, 30, 60, 300, 1800, 0]);
  assert.equal(nextMinAge(45), 60, 'a --min-age between steps goes on to the next');
  assert.equal(reducer(state, {type: 'min-age-next'}).minAge, 5);
  assert.equal(drillView('malloc', 'live'), 'live');
  assert.equal(drillView('slab', 'cache'), undefined);
});

test('flags: --live, --min-age, --sample and --sample-bytes, and one-line errors', () => {
  assert.equal(parseFlags(['--live']).view, 'live');
  assert.equal(parseFlags(['--group', 'live']).view, 'live');
  const drill = parseFlags(['--batch', '--live', '--pid', '1', '--stacks', '--min-age', '30', '--sample']);
  assert.equal(drill.minAge, 30);
  assert.equal(drill.sampleBytes, 524288);
  assert.equal(parseFlags(['--live', '--sample-bytes', '4096']).sampleBytes, 4096);
  assert.equal(parseFlags(['--live']).sampleBytes, undefined, 'a stack for every allocation unless asked');
  const bad: [string[], RegExp][] = [
    [['--min-age', '5'], /--min-age is for live stacks: add --live/],
    [['--sample'], /--sample is for live stacks: add --live/],
    [['--live', '--tab', 'brk'], /the brk tab has no live view: use --tab malloc/],
    [['--live', '--group', 'process'], /--live and --group process are two views/],
    [['--live', '--min-age', '-1'], /--min-age must be a whole number/],
    [['--live', '--sample-bytes', '0'], /--sample-bytes 0 is out of range/],
  ];
  for (const [argv, message] of bad) {
    assert.throws(() => parseFlags(argv), (error: unknown) => error instanceof UsageError && message.test(error.message) && !error.message.includes('\n'), argv.join(' '));
  }
});

test('bpftrace live maps: per process across classes, the oldest class that holds one, negatives read as nothing, the scalar @untracked', () => {
  const parser = new BpftraceJsonParser();
  parser.feed(JSON.stringify({type: 'map', data: {'@bytes': {'10,0': 100, '10,1': 50, '11,1': -16, '12,0': 0}}}));
  parser.feed(JSON.stringify({type: 'map', data: {'@count': {'10,0': 0, '10,1': 2, '11,1': -1, '12,0': 0, 'x,1': 3}}}));
  parser.feed(JSON.stringify({type: 'map', data: {'@epochs': {'0': 1_000_000_000, '1': '3000000000'}}}));
  parser.feed(JSON.stringify({type: 'map', data: {'@untracked': 7}}));
  const interval = parser.feed(JSON.stringify({type: 'printf', data: 'memtop-end 5500000000\n'}))!;
  assert.equal(parser.skipped, 0, 'a map without keys is read, not skipped');
  const spec = {bytes: 'bytes', count: 'count', epochs: 'epochs', untracked: 'untracked'};
  const {rows, bad, untracked} = liveRows(spec, interval.maps, interval.endNs);
  assert.deepEqual(rows, [
    {pid: 10, comm: '', count: 2, bytes: 150, age: 2.5},
    {pid: 11, comm: '', count: 0, bytes: 0, age: 0},
    {pid: 12, comm: '', count: 0, bytes: 0, age: 0},
  ]);
  assert.equal(bad, 1);
  assert.equal(untracked, 7);
  assert.deepEqual(ageClassesAt([{index: 1, start: 3}, {index: 0, start: 1}], 5.5, 1).map(entry => entry.age), [{oldest: 4.5, newest: 2.5}, {oldest: 2.5, newest: 0}]);
  assert.deepEqual(liveRowsOf([{pid: 3, index: 9, count: 1, bytes: 1}], []), [{pid: 3, comm: '', count: 1, bytes: 1, age: 0}], 'a class it has no start for is no age');
});

test('bpftrace live stacks: frames cut at the entry, merged, counts unscaled, empty stacks left out', () => {
  const maps = new Map<string, Record<string, unknown>>([
    ['bytes', {'42,0': 5000, '42,1': 64}],
    ['count', {'42,0': 5, '42,1': 1}],
    ['stack_bytes', {'\n    keep+4\n    main+9\n    __libc_start_call_main+1\n    0x0\n,0': 5000, '\n    churn+3\n    main+9\n,1': 0, '\n    keep+8\n    main+9\n    __libc_start_call_main+1\n,1': 64}],
    ['stack_count', {'\n    keep+4\n    main+9\n    __libc_start_call_main+1\n    0x0\n,0': 5120, '\n    churn+3\n    main+9\n,1': 0, '\n    keep+8\n    main+9\n    __libc_start_call_main+1\n,1': 1024}],
    ['epochs', {'0': 0, '1': 2_000_000_000}],
    ['untracked', {'': 0}],
  ]);
  const read = liveStackRows({bytes: 'bytes', count: 'count', epochs: 'epochs', untracked: 'untracked', stackBytes: 'stack_bytes', stackCount: 'stack_count', countScale: 1024}, maps, 3_000_000_000n);
  assert.deepEqual(read.classes, [{oldest: 3, newest: 1}, {oldest: 1, newest: 0}]);
  assert.deepEqual(read.totals, [{count: 5, bytes: 5000}, {count: 1, bytes: 64}]);
  assert.deepEqual(read.stacks, [{count: 6, bytes: 5064, frames: ['keep', 'main', '__libc_start_call_main'], classes: [{count: 5, bytes: 5000}, {count: 1, bytes: 64}]}]);
});

test('batch JSON of the live view: what is outstanding, its growth, the peak; a live drill-down line says since when, the threshold and sampling', () => {
  let table = applyRows(emptyTable(), [{pid: 3, comm: 'w', count: 2, bytes: 100, age: 1.23456}], meta(), LIVE);
  table = applyRows(table, [{pid: 3, comm: 'w', count: 3, bytes: 300, age: 2.5}], meta(), LIVE);
  assert.deepEqual(rowJson(table.rows.get('pid:3')!, LIVE), {pid: 3, comm: 'w', bytes: 300, count: 3, age: 2.5, rate: 200, totalBytes: 300});
  const json = stacksJson(liveSnapshot(1000), {pid: 42, comm: 'x'}, 10, 4);
  assert.deepEqual(json, {
    tab: 'malloc',
    view: 'live',
    backend: 'bpftrace',
    probe: 'p',
    pid: 42,
    comm: 'x',
    time: '2026-01-01T00:00:10.000Z',
    intervalMs: 1000,
    since: '2026-01-01T00:00:00.000Z',
    minAge: 4,
    bytes: 500,
    count: 5,
    age: 10,
    untracked: 0,
    sampled: true,
    sampleBytes: 1000,
    stacks: [
      {bytes: 400, count: 4, age: 10, frames: ['keep', 'main']},
      {bytes: 100, count: 1, age: 10, frames: ['both', 'main']},
    ],
  });
});

test('live recordings: a live drill-down is checked whole, and its files are named for the view', () => {
  assert.equal(checkStackSnapshot(liveSnapshot()), undefined);
  assert.equal(checkStackSnapshot({...liveSnapshot(), live: {...liveSnapshot().live!, totals: []}}), 'live is malformed');
  assert.equal(checkStackSnapshot({...liveSnapshot(), stacks: [{count: 1, bytes: 1, frames: ['a']}]}), 'live stacks are malformed');
  assert.equal(checkStackSnapshot({...liveSnapshot(), view: 'sizes'}), 'unknown view');
  const row = {pid: 1, comm: 'a', count: 1, bytes: 1, age: 1};
  assert.equal(checkTableSnapshot({tab: 'malloc', view: 'live', backend: 'bpftrace', probe: 'p', time: 't', elapsedMs: 1, rows: [row], since: 'x', untracked: 0}), undefined);
  assert.equal(checkTableSnapshot({tab: 'malloc', view: 'live', backend: 'bpftrace', probe: 'p', time: 't', elapsedMs: 1, rows: [row], untracked: 'lots'}), 'since or untracked is malformed');
  assert.equal(foldedFileName('malloc', 42, new Date('2026-01-02T03:04:05Z'), 'live'), 'memtop-malloc-live-42-20260102T030405Z.folded');
  assert.equal(foldedFileName('malloc', 42, new Date('2026-01-02T03:04:05Z')), 'memtop-malloc-42-20260102T030405Z.folded');
});

test('an empty live stack view says why: a threshold older than the view, nothing that old, or nothing outstanding', () => {
  const snapshot = (time: string): TracerStackSnapshot => ({
    tab: 'malloc', backend: 'bpftrace', probe: 'p', pid: 7, time, elapsedMs: 1000, stacks: [],
    live: {since: '2026-01-01T00:00:00.000Z', classes: [{oldest: 3, newest: 0}], totals: [{count: 0, bytes: 0}], untracked: 0},
  });
  assert.equal(emptyStacksText(topStacks(snapshot('2026-01-01T00:00:12.000Z'), 10, 30)), 'nothing can be older than 30s yet: the view began 12s ago (o changes the age)');
  assert.equal(emptyStacksText(topStacks(snapshot('2026-01-01T00:01:00.000Z'), 10, 30)), 'no allocation outstanding older than 30s (o changes the age)');
  assert.equal(emptyStacksText(topStacks(snapshot('2026-01-01T00:01:00.000Z'), 10, 0)), 'no allocation outstanding from any stack');
  assert.equal(emptyStacksText(topStacks({...snapshot('2026-01-01T00:01:00.000Z'), live: undefined}, 10)), 'no stacks in this interval');
});

test('a process with an allocation not tracked: its live figures read as floors, its growth as unknown, in the table and in JSON', () => {
  const rows = [{pid: 7, comm: 'full', count: 3, bytes: 2048, age: 75}, {pid: 8, comm: 'fine', count: 1, bytes: 512, age: 5}];
  const table = applyRows(applyRows(emptyTable(), rows, {...meta(), untracked: 40, untrackedPids: [7]}, LIVE), rows, {...meta(), untracked: 40, untrackedPids: [7]}, LIVE);
  assert.deepEqual(table.untrackedPids, [7]);
  const columns = columnsFor(LIVE, {untrackedPids: table.untrackedPids});
  const cells = (pid: number) => Object.fromEntries(columns.map(column => [column.title, column.format(table.rows.get(`pid:${pid}`)!)]));
  assert.deepEqual(
    {LIVE: cells(7).LIVE, ALLOCS: cells(7).ALLOCS, OLDEST: cells(7).OLDEST, rate: cells(7)['GROWTH/s'], PEAK: cells(7).PEAK},
    {LIVE: '≥2.0K', ALLOCS: '≥3', OLDEST: '75s', rate: '?', PEAK: '≥2.0K'},
  );
  assert.equal(cells(8).LIVE, '512B');
  assert.notEqual(cells(8)['GROWTH/s'], '?');
  const snapshot: TracerSnapshot = {tab: 'malloc', view: 'live', backend: 'bpftrace', probe: 'p', time: 't', elapsedMs: 1000, rows, since: 'A', untracked: 40, untrackedPids: [7]};
  const json = tableJson(snapshot, LIVE, [...table.rows.values()]) as {rows: Record<string, unknown>[]};
  assert.deepEqual(json.rows.map(row => [row.pid, row.rate, row.untracked]), [[7, null, true], [8, 0, undefined]]);
  assert.match(tableText(snapshot, LIVE, [...table.rows.values()]), /CAPPED: 40 allocations not tracked: ≥ marks a floor, \? a growth not known/);
});

test('sampled addresses: the level read as 1 in 2^k, per process the coarsest; their figures marked ~ on screen, `sampled` in JSON, said in the text heading and the recording', () => {
  const spec = {bytes: 'bytes', count: 'count', epochs: 'epochs', untracked: 'untracked', untrackedPids: 'untracked_pids', sampling: 'sampling', sampledPids: 'sampled_pids'};
  const maps = new Map<string, Record<string, unknown>>([
    ['bytes', {'7,0': 4096 + 8 * 1024, '8,0': 512}],
    ['count', {'7,0': 4 + 8, '8,0': 1}],
    ['epochs', {'0': 0}],
    ['untracked', {'': 0}],
    ['sampling', {'': 3}],
    ['sampled_pids', {'7': 3, '9': 0, 'x': 2}],
  ]);
  const read = liveRows(spec, maps, 1_000_000_000n);
  assert.equal(read.sampled, 8, 'level 3: one address in 8');
  assert.deepEqual(read.sampledPids, {'7': 8}, 'a process at level 0 and a key that is no pid are not sampled');
  assert.equal(liveRows({...spec, sampling: undefined, sampledPids: undefined}, maps, 1_000_000_000n).sampled, 1, 'a script that does not sample: every address');
  const rows = read.rows;
  const meta2 = {...meta(), sampled: read.sampled, sampledPids: read.sampledPids};
  const table = applyRows(applyRows(emptyTable(), rows, meta2, LIVE), rows, meta2, LIVE);
  assert.equal(table.sampled, 8);
  const columns = columnsFor(LIVE, {sampledPids: table.sampledPids});
  const cells = (pid: number) => Object.fromEntries(columns.map(column => [column.title, column.format(table.rows.get(`pid:${pid}`)!)]));
  assert.deepEqual({LIVE: cells(7).LIVE, ALLOCS: cells(7).ALLOCS, rate: cells(7)['GROWTH/s'], PEAK: cells(7).PEAK, OLDEST: cells(7).OLDEST}, {LIVE: '~12.0K', ALLOCS: '~12', rate: '~0B', PEAK: '~12.0K', OLDEST: '1.0s'});
  assert.deepEqual({LIVE: cells(8).LIVE, rate: cells(8)['GROWTH/s']}, {LIVE: '512B', rate: '0B'}, 'a process none of whose allocations was sampled is exact');
  // A floor says more than an estimate: a process with an allocation not tracked reads ≥ and ?.
  const both = columnsFor(LIVE, {sampledPids: {'7': 8}, untrackedPids: [7]});
  assert.deepEqual(both.map(column => column.format(table.rows.get('pid:7')!)).slice(2, 6), ['≥12.0K', '≥12', '1.0s', '?']);
  const snapshot: TracerSnapshot = {tab: 'malloc', view: 'live', backend: 'bpftrace', probe: 'p', time: 't', elapsedMs: 1000, rows, since: 'A', untracked: 0, sampled: 8, sampledPids: {'7': 8}};
  const json = tableJson(snapshot, LIVE, [...table.rows.values()]) as {sampled?: number; rows: Record<string, unknown>[]};
  assert.equal(json.sampled, 8);
  assert.deepEqual(json.rows.map(row => [row.pid, row.sampled]), [[7, 8], [8, undefined]]);
  assert.match(tableText(snapshot, LIVE, [...table.rows.values()]), / · sampled: 1 address in 8 tracked, ~ marks an estimate \(growth over up to 30s\)/);
  assert.match(tableText(snapshot, LIVE, [...table.rows.values()]), /^\s+7\s+~12\.0K\s+~12\s/m, 'batch text marks the estimates too');
  assert.equal(checkTableSnapshot(snapshot), undefined);
  assert.equal(checkTableSnapshot({...snapshot, sampledPids: {'7': 'x'}}), 'sampled or sampledPids is malformed');
  assert.equal(checkTableSnapshot({...snapshot, sampled: '8'}), 'sampled or sampledPids is malformed');
});

test('sampled addresses in a live drill-down: its totals are said to be estimates, in the summary and in JSON', () => {
  const snapshot: TracerStackSnapshot = {
    tab: 'malloc', view: 'live', backend: 'bpftrace', probe: 'p', pid: 7, time: '2026-01-01T00:00:10.000Z', elapsedMs: 1000, stacks: [{count: 12, bytes: 12288, frames: ['keep'], classes: [{count: 12, bytes: 12288}]}],
    live: {since: '2026-01-01T00:00:00.000Z', classes: [{oldest: 1, newest: 0}], totals: [{count: 12, bytes: 12288}], untracked: 0, sampled: 16},
  };
  assert.match(liveSummary(topStacks(snapshot, 10, 0)), /addresses sampled 1\/16: totals estimated/);
  assert.equal((stacksJson(snapshot, {pid: 7, comm: 'a'}, 10, 0) as {addressesSampled?: number}).addressesSampled, 16);
  assert.equal(checkStackSnapshot(snapshot), undefined);
  assert.equal(checkStackSnapshot({...snapshot, live: {...snapshot.live!, sampled: 'x' as unknown as number}}), 'live is malformed');
});

test('a process estimated from sampled addresses grows over a window of up to 30 s, not one interval; an exact one over its interval', () => {
  assert.deepEqual(windowedGrowth([0, 10, 30, 60], [1, 1, 1, 1], 30), {rate: 20, seconds: 3}, 'the whole history when it is shorter than the window');
  assert.deepEqual(windowedGrowth([0, 10, 30, 60], [10, 10, 10, 10], 15), {rate: 3, seconds: 10}, 'one interval when one is as long as the window');
  assert.deepEqual(windowedGrowth([5], [2], 30), {rate: 2.5, seconds: 2}, 'a first value grew from nothing');
  const spiky = [100, 300, 200, 400, 300, 500];
  let table = emptyTable();
  for (const bytes of spiky) table = applyRows(table, [{pid: 7, comm: 's', count: 1, bytes, age: 1}, {pid: 8, comm: 'e', count: 1, bytes, age: 1}], {...meta(), sampled: 4, sampledPids: {'7': 4}}, LIVE);
  assert.equal(table.rows.get('pid:7')!.rate, 80, '(500 - 100) / 5 s');
  assert.equal(table.rows.get('pid:7')!.rateSeconds, 5);
  assert.equal(table.rows.get('pid:8')!.rate, 200, 'an exact process: its last interval');
  assert.equal(table.rows.get('pid:8')!.rateSeconds, undefined);
  const snapshot: TracerSnapshot = {tab: 'malloc', view: 'live', backend: 'bpftrace', probe: 'p', time: 't', elapsedMs: 1000, rows: [], since: 'A', untracked: 0, sampled: 4, sampledPids: {'7': 4}};
  const json = tableJson(snapshot, LIVE, [...table.rows.values()]) as {rows: Record<string, unknown>[]};
  assert.deepEqual(json.rows.map(row => [row.pid, row.rate, row.sampled, row.rateSeconds]), [[7, 80, 4, 5], [8, 200, undefined, undefined]]);
});
