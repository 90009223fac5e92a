// The growth tab's pure parts: rows from its bpftrace maps (net = made resident less released,
// RSS now from the three resident counters), stacks by mapping with bytes, a table that keeps a
// gauge beside counters, and the names a mapping gets (anonymous executable memory is a JIT's).
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {BpftraceJsonParser} from '../source/parse/bpftrace-json.js';
import {mergePlaces} from '../source/parse/bpftrace-stacks.js';
import {applyRows, emptyTable} from '../source/model/table.js';
import {viewOf} from '../source/registry.js';
import {parseMapsLine} from '../source/system/processes.js';
import {stackRows, tabRows} from './helpers/bpftrace-rows.js';

const MIB = 1024 * 1024;

test('growth rows: net is anonymous and file bytes made resident less bytes released; RSS is the three counters now', () => {
  const parser = new BpftraceJsonParser();
  const lines = [
    {type: 'map', data: {'@anon_b': {'10': 8 * MIB, '11': 4096}}},
    {type: 'map', data: {'@file_b': {'10': 2 * MIB}}},
    {type: 'map', data: {'@freed_b': {'10': MIB, '12': 3 * MIB}}},
    {type: 'map', data: {'@grows_b': {'10': 2560, '11': 1}}},
    {type: 'map', data: {'@names_b': {'12': 'gone'}}},
    {type: 'map', data: {'@anon_now': {'10': 100 * MIB, '11': 4096}}},
    {type: 'map', data: {'@file_now': {'10': 20 * MIB, '13': MIB}}},
    {type: 'map', data: {'@shmem_now': {'10': MIB}}},
  ];
  for (const line of lines) assert.equal(parser.feed(JSON.stringify(line)), undefined);
  const interval = parser.feed(JSON.stringify({type: 'printf', data: 'memtop-end 9\n'}))!;
  const {rows, bad} = tabRows('growth', interval.maps);
  assert.equal(bad, 0);
  const byPid = new Map(rows.map(row => [row.pid, row]));
  assert.deepEqual(byPid.get(10), {pid: 10, comm: '', count: 2560, net: 9 * MIB, anon: 8 * MIB, file: 2 * MIB, freed: MIB, rss: 121 * MIB});
  assert.deepEqual(byPid.get(12), {pid: 12, comm: 'gone', count: 0, net: -3 * MIB, anon: 0, file: 0, freed: 3 * MIB, rss: 0});
  // A process that only has resident memory now (it changed before this interval) is still a row: its RSS.
  assert.equal(byPid.get(13)?.rss, MIB);
  assert.equal(byPid.get(13)?.net, 0);
});

test('the growth table ranks by net growth, keeps RSS as the value now, and sums the counters since start', () => {
  const view = viewOf('growth', 'process');
  const meta = {elapsedMs: 1000, probe: 'p', backend: 'bpftrace' as const, time: 't'};
  let table = applyRows(emptyTable(), [{pid: 1, comm: 'a', count: 10, net: 4 * MIB, anon: 4 * MIB, file: 0, freed: 0, rss: 50 * MIB}], meta, view);
  table = applyRows(table, [{pid: 1, comm: 'a', count: 0, net: -MIB, anon: 0, file: 0, freed: MIB, rss: 49 * MIB}], meta, view);
  const row = table.rows.get('pid:1')!;
  assert.equal(row.rss, 49 * MIB, 'a gauge is the value now, not a sum');
  assert.equal(row.totalNet, 3 * MIB);
  assert.equal(row.totalFreed, MIB);
  assert.equal(row.rate, -MIB, 'the rate is net growth per second');
  assert.equal(view.measures[0]!.id, 'net', 'ranked by net growth by default');
});

test('growth stacks carry the bytes each made resident and where, by mapping, with bytes', () => {
  const stack = '\n    wl_leaf_grow+12\n    wl_outer_grow+20\n    main+80\n';
  const maps = new Map<string, Record<string, unknown>>([
    ['stacks', {[`${stack},,100`]: {count: 512, average: 4096, total: 2 * MIB}, [`${stack},,101`]: {count: 1, average: 2 * MIB, total: 2 * MIB}, [`${stack},,0`]: {count: 3, average: 4096, total: 12_288}}],
    ['where', {'100': 100 * 2 * MIB + 5, '101': 101 * 2 * MIB + 7, '0': 0}],
  ]);
  const mappingOf = (address: number) => (address >= 101 * 2 * MIB ? 'jit' : 'anon');
  const [row, ...others] = stackRows('growth', maps, undefined, mappingOf);
  assert.equal(others.length, 0, 'one stack, its regions merged');
  assert.deepEqual(row!.frames, ['wl_leaf_grow', 'wl_outer_grow', 'main']);
  assert.equal(row!.count, 516);
  assert.equal(row!.bytes, 4 * MIB + 12_288);
  assert.deepEqual(row!.where, [
    {mapping: 'anon', count: 512, bytes: 2 * MIB},
    {mapping: 'jit', count: 1, bytes: 2 * MIB},
    {mapping: 'no address', count: 3, bytes: 12_288},
  ]);
});

test('places with bytes rank by bytes; places without by events', () => {
  assert.deepEqual(mergePlaces([{mapping: 'a', count: 9, bytes: 10}, {mapping: 'b', count: 1, bytes: 2 * MIB}, {mapping: 'a', count: 1, bytes: 5}]), [
    {mapping: 'b', count: 1, bytes: 2 * MIB},
    {mapping: 'a', count: 10, bytes: 15},
  ]);
  assert.deepEqual(mergePlaces([{mapping: 'x', count: 1}, {mapping: 'y', count: 4}]), [{mapping: 'y', count: 4}, {mapping: 'x', count: 1}]);
});

test('mapping names: anonymous executable memory is a JIT\'s, other anonymous memory anon', () => {
  assert.equal(parseMapsLine('7f0000000000-7f0000100000 rwxp 00000000 00:00 0 ')?.name, 'jit');
  assert.equal(parseMapsLine('7f0000000000-7f0000100000 r-xp 00000000 00:00 0')?.name, 'jit');
  assert.equal(parseMapsLine('7f0000000000-7f0000100000 rw-p 00000000 00:00 0')?.name, 'anon');
  assert.equal(parseMapsLine('55d0c0a00000-55d0c0c00000 rw-p 00000000 00:00 0    [heap]')?.name, '[heap]');
  assert.equal(parseMapsLine('7f1000000000-7f1000100000 r-xp 00000000 08:01 42   /usr/lib/x86_64-linux-gnu/libc.so.6')?.name, 'libc.so.6');
});
