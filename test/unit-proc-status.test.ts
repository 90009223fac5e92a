// The measures /proc/PID/status states (the growth tab's RSS and untouched bytes): its fields in
// bytes, a formula over them, and how rows are filled from it.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {statusBytes, statusValue} from '../source/parse/proc-status.js';
import {readStatusBytes} from '../source/system/proc-status.js';
import {procStatusBackend, withStatus} from '../source/backends/proc-status.js';
import type {Backend, TracerSnapshot} from '../source/types.js';
import {snapshotOf} from './helpers/scripted-backend.js';
import {viewOf} from '../source/registry.js';

const STATUS = [
  'Name:\twl_growth',
  'State:\tS (sleeping)',
  'VmPeak:\t  268940 kB',
  'VmRSS:\t   26908 kB',
  'RssAnon:\t   24612 kB',
  'RssFile:\t    2296 kB',
  'RssShmem:\t       0 kB',
  'VmData:\t  262516 kB',
  'VmStk:\t     132 kB',
  'VmSwap:\t       0 kB',
  'Threads:\t1',
].join('\n');

test('status fields in kB are read in bytes; others are not fields', () => {
  const fields = statusBytes(STATUS);
  assert.equal(fields.RssAnon, 24612 * 1024);
  assert.equal(fields.VmStk, 132 * 1024);
  assert.equal(fields.Threads, undefined);
  assert.equal(fields.Name, undefined);
});

test('a formula sums fields less others, floored at 0, and is unknown when a field is missing', () => {
  const fields = statusBytes(STATUS);
  assert.equal(statusValue(fields, {plus: ['RssAnon', 'RssFile', 'RssShmem']}), (24612 + 2296) * 1024);
  assert.equal(statusValue(fields, {plus: ['VmData', 'VmStk'], minus: ['RssAnon', 'VmSwap']}), (262516 + 132 - 24612) * 1024);
  assert.equal(statusValue(fields, {plus: ['RssAnon'], minus: ['VmData']}), 0);
  assert.equal(statusValue(fields, {plus: ['RssAnon', 'HugetlbPages']}), undefined);
});

test('growth rows: RSS and untouched from the status in place of the tracer\'s; 0 for a process gone; the tracer\'s where /proc cannot say', () => {
  const measures = viewOf('growth', 'process').measures.filter(measure => measure.procStatus !== undefined);
  assert.deepEqual(measures.map(measure => measure.id), ['rss', 'untouched']);
  const read = (pid: number) => (pid === 1 ? statusBytes(STATUS) : pid === 2 ? 'gone' : undefined);
  const rows = withStatus(
    [
      {pid: 1, count: 3, anon: 4096, rss: 1000},
      {pid: 2, count: 1, freed: 8192, rss: 500},
      {pid: 3, count: 1, rss: 700},
      {cache: 'dentry', count: 1},
    ],
    measures,
    read,
  );
  assert.deepEqual(rows[0], {pid: 1, count: 3, anon: 4096, rss: (24612 + 2296) * 1024, untouched: (262516 + 132 - 24612) * 1024});
  assert.deepEqual(rows[1], {pid: 2, count: 1, freed: 8192, rss: 0, untouched: 0});
  assert.deepEqual(rows[2], {pid: 3, count: 1, rss: 700});
  assert.deepEqual(rows[3], {cache: 'dentry', count: 1});
});

test('this process\'s own status is read; a pid that does not exist is gone', () => {
  const own = readStatusBytes(process.pid);
  assert.ok(own !== undefined && own !== 'gone' && own.VmRSS! > 0 && own.RssAnon! > 0, JSON.stringify(own));
  assert.equal(readStatusBytes(2 ** 22 + 1), 'gone');
});

test('procStatusBackend passes a backend\'s groups through: the growth view run with others in one tracer gets its status read as alone; a backend without groups has none', async () => {
  const growth = snapshotOf('growth', [[1, 'a', 3]], {view: 'process'});
  const brk = snapshotOf('brk', [[1, 'a', 2]]);
  const grouped: Backend = {
    id: 'bpftrace',
    available: async () => ({ok: true}),
    probeFor: async tab => tab,
    start: () => {
      throw new Error('not used');
    },
    startStacks: () => {
      throw new Error('not used');
    },
    groupViews: async views => [[...views]],
    async *startGroup() {
      yield [brk, growth];
    },
  };
  const wrapped = procStatusBackend(grouped, pid => (pid === 1 ? statusBytes(STATUS) : undefined));
  assert.deepEqual(await wrapped.groupViews!([{tab: 'brk', view: 'process'}, {tab: 'growth', view: 'process'}]), [[{tab: 'brk', view: 'process'}, {tab: 'growth', view: 'process'}]]);
  const snapshots: TracerSnapshot[][] = [];
  for await (const each of wrapped.startGroup!({views: [], intervalMs: 1000, signal: new AbortController().signal})) snapshots.push(each);
  assert.equal(snapshots[0]![0], brk, 'brk has no status measure: as it came');
  assert.equal(snapshots[0]![1]!.rows[0]!.rss, (24612 + 2296) * 1024);
  const {groupViews: _groupViews, startGroup: _startGroup, ...alone} = grouped;
  assert.equal(procStatusBackend(alone).groupViews, undefined);
});

test('procStatusBackend does not ask /proc about a process the tracer saw exit: it is gone, its memory 0', async () => {
  const growth = snapshotOf('growth', [[1, 'a', 3], [2, 'b', 1]], {view: 'process', exited: [2]});
  const backend: Backend = {
    id: 'bpftrace',
    available: async () => ({ok: true}),
    probeFor: async tab => tab,
    async *start() {
      yield growth;
    },
    startStacks: () => {
      throw new Error('not used');
    },
  };
  const asked: number[] = [];
  const wrapped = procStatusBackend(backend, pid => {
    asked.push(pid);
    return statusBytes(STATUS);
  });
  const snapshots: TracerSnapshot[] = [];
  for await (const snapshot of wrapped.start({tab: 'growth', view: 'process', intervalMs: 1000, signal: new AbortController().signal})) snapshots.push(snapshot);
  assert.deepEqual(asked, [1]);
  assert.equal(snapshots[0]!.rows[0]!.rss, (24612 + 2296) * 1024);
  assert.equal(snapshots[0]!.rows[1]!.rss, 0, 'an exited process holds nothing');
  assert.deepEqual(snapshots[0]!.exited, [2]);
});
