// Unit tests for totals, rates, bounded retention, sorting, filtering and the stack view.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {applyRows, applySnapshot, emptyTable, emptyTabData, viewTable} from '../source/model/table.js';
import {viewOf, type Measure, type ViewDefinition} from '../source/registry.js';
import {columnHelp, columnsFor} from '../source/model/columns.js';
import {rowJson} from '../source/model/batch-output.js';
import {selectRows} from '../source/model/select-rows.js';
import {GONE_NAME} from '../source/system/process-names.js';
import {topStacks} from '../source/model/stacks.js';
import type {TracerSnapshot} from '../source/types.js';
import {tableJson, tableText} from '../source/model/batch-output.js';

const meta = (elapsedMs = 1000) => ({elapsedMs, probe: 'p', backend: 'bpftrace' as const, time: 't', capped: false, skippedLines: 0});
const MALLOC = viewOf('malloc', 'process');
const MAJFAULT = viewOf('majfault', 'process');

test('rates are per second of the measured interval; totals add up across intervals', () => {
  let table = applyRows(emptyTable(), [{pid: 1, comm: 'a', count: 50, bytes: 500}], meta(500), MALLOC);
  table = applyRows(table, [{pid: 1, comm: 'a', count: 30, bytes: 300}], meta(1000), MALLOC);
  const row = table.rows.get('pid:1')!;
  assert.equal(row.count, 30);
  assert.equal(row.rate, 30);
  assert.equal(row.totalCount, 80);
  assert.equal(row.totalBytes, 800);
  assert.deepEqual(row.history, [100, 30]);
});

test('a process quiet this interval keeps its total and reads zero now', () => {
  let table = applyRows(emptyTable(), [{pid: 1, comm: 'a', count: 5}], meta(), MALLOC);
  table = applyRows(table, [{pid: 2, comm: 'b', count: 1}], meta(), MALLOC);
  assert.equal(table.rows.get('pid:1')!.count, 0);
  assert.equal(table.rows.get('pid:1')!.totalCount, 5);
  assert.deepEqual(table.totalRateHistory, [5, 1]);
});

test('rows of gone processes are bounded: the smallest totals go first, current rows stay', () => {
  let table = emptyTable();
  for (let pid = 1; pid <= 10; pid++) table = applyRows(table, [{pid, comm: 'x', count: pid}], meta(), MALLOC, 4);
  assert.equal(table.rows.size, 4);
  assert.ok(table.rows.has('pid:10'), 'the current row is kept');
  assert.ok(table.rows.has('pid:9') && table.rows.has('pid:8') && table.rows.has('pid:7'), 'the largest totals are kept');
});

test('a snapshot fills its view and the views it measured alongside', () => {
  const snapshot: TracerSnapshot = {tab: 'slab', view: 'process', backend: 'bpftrace', probe: 'p', time: 't', elapsedMs: 1000, rows: [{pid: 3, comm: 'c', count: 1, bytes: 64}], otherViews: {cache: [{cache: 'filp', count: 1, bytes: 64}]}};
  const data = applySnapshot(emptyTabData(), snapshot);
  assert.ok(viewTable(data, 'process').rows.has('pid:3'));
  assert.ok(viewTable(data, 'cache').rows.has('cache:filp'));
  // A snapshot of one view leaves the others as they were.
  const cacheOnly = applySnapshot(data, {...snapshot, view: 'cache', rows: [{cache: 'dentry', count: 2, bytes: 384}], otherViews: undefined});
  assert.equal(cacheOnly.process, data.process);
  assert.equal(viewTable(cacheOnly, 'cache').rows.get('cache:dentry')!.totalBytes, 384);
});

test('top-N: largest first, ten rows, like foreach (i in s- limit 10)', () => {
  let table = emptyTable();
  table = applyRows(table, Array.from({length: 25}, (_, index) => ({pid: index + 1, comm: `p${index}`, count: index + 1, bytes: 100 - index})), meta(), MALLOC);
  const columns = columnsFor(viewOf('malloc', 'process'));
  const rows = selectRows(table.rows.values(), columns, {view: viewOf('malloc', 'process'), sortColumn: 'count', descending: true, cumulative: false, filter: '', limit: 10});
  assert.equal(rows.length, 10);
  assert.deepEqual(rows.map(row => row.pid), [25, 24, 23, 22, 21, 20, 19, 18, 17, 16]);
  const byBytes = selectRows(table.rows.values(), columns, {view: viewOf('malloc', 'process'), sortColumn: 'bytes', descending: true, cumulative: false, filter: '', limit: 3});
  assert.deepEqual(byBytes.map(row => row.pid), [1, 2, 3]);
  const ascending = selectRows(table.rows.values(), columns, {view: viewOf('malloc', 'process'), sortColumn: 'count', descending: false, cumulative: false, filter: '', limit: 2});
  assert.deepEqual(ascending.map(row => row.pid), [1, 2]);
});

test('per-interval view leaves out quiet rows; cumulative ranks by totals and keeps them', () => {
  let table = applyRows(emptyTable(), [{pid: 1, comm: 'old', count: 100}], meta(), MAJFAULT);
  table = applyRows(table, [{pid: 2, comm: 'new', count: 5}], meta(), MAJFAULT);
  const columns = columnsFor(viewOf('majfault', 'process'));
  const now = selectRows(table.rows.values(), columns, {view: viewOf('majfault', 'process'), sortColumn: 'count', descending: true, cumulative: false, filter: '', limit: 10});
  assert.deepEqual(now.map(row => row.pid), [2]);
  const cumulative = selectRows(table.rows.values(), columns, {view: viewOf('majfault', 'process'), sortColumn: 'count', descending: true, cumulative: true, filter: '', limit: 10});
  assert.deepEqual(cumulative.map(row => row.pid), [1, 2]);
});

test('filter matches part of the name, case-insensitively', () => {
  const table = applyRows(emptyTable(), [{pid: 1, comm: 'PostgreSQL', count: 1}, {pid: 2, comm: 'nginx', count: 2}], meta(), MALLOC);
  const rows = selectRows(table.rows.values(), columnsFor(viewOf('brk', 'process')), {view: viewOf('brk', 'process'), sortColumn: 'count', descending: true, cumulative: false, filter: 'gres', limit: 10});
  assert.deepEqual(rows.map(row => row.pid), [1]);
});

test('columns come from the view\'s measures: bytes only where it measures bytes; cache rows only on slab', () => {
  assert.deepEqual(columnsFor(viewOf('majfault', 'process')).map(column => column.id), ['pid', 'comm', 'count', 'read', 'rate', 'totalCount', 'totalRead']);
  assert.deepEqual(columnsFor(viewOf('anonpgin', 'process')).map(column => column.id), ['pid', 'comm', 'count', 'rate', 'totalCount']);
  assert.deepEqual(columnsFor(viewOf('slab', 'cache')).map(column => column.id), ['cache', 'count', 'bytes', 'net', 'netBytes', 'rate', 'totalCount', 'totalBytes', 'totalNet', 'totalNetBytes']);
  assert.deepEqual(columnsFor(viewOf('malloc', 'process')).map(column => column.title), ['PID', 'COMM', 'CALLS', 'BYTES', '/s', 'TOTAL', 'TOT BYTES']);
  assert.equal(columnsFor(viewOf('brk', 'cache'))[0]!.id, 'pid');
});

test('a measure the running script lacks reads "-" in its columns and null in JSON, never 0', () => {
  const view = viewOf('majfault', 'process');
  const table = applyRows(emptyTable(), [{pid: 1, comm: 'a', count: 3, read: 0}], {...meta(), unmeasured: ['read']}, view);
  assert.deepEqual(table.unmeasured, ['read']);
  const row = table.rows.get('pid:1')!;
  const shown = Object.fromEntries(columnsFor(view, {unmeasured: table.unmeasured}).map(column => [column.id, column.format(row)]));
  assert.equal(shown.read, '-');
  assert.equal(shown.totalRead, '-');
  assert.equal(shown.count, '3');
  const snapshot = {tab: 'majfault' as const, backend: 'bpftrace' as const, probe: 'p', time: 't', elapsedMs: 1000, rows: [], unmeasured: ['read']};
  const [json] = tableJson(snapshot, view, [row]).rows as Record<string, unknown>[];
  assert.equal(json!.read, null);
  assert.equal(json!.totalRead, null);
  assert.equal(json!.count, 3);
  assert.match(tableText(snapshot, view, [row]), /\n\s+1 a\s+3\s+-\s/);
});

test('slab NET: summed with its sign since start; ? and null where it is not known, also while quiet and since start', () => {
  const view = viewOf('slab', 'cache');
  const columns = columnsFor(view);
  const cell = (table: ReturnType<typeof emptyTable>, key: string, id: string) => columns.find(column => column.id === id)!.format(table.rows.get(key)!);
  let table = applyRows(
    emptyTable(),
    [
      {cache: 'dentry', count: 10, bytes: 1920, net: 8, netBytes: 1536},
      {cache: 'kmalloc-64', count: 10, bytes: 640, net: undefined, netBytes: undefined},
      {cache: 'radix_tree_node', count: 0, bytes: 0, net: -2, netBytes: undefined},
    ],
    meta(),
    view,
  );
  assert.equal(cell(table, 'cache:dentry', 'net'), '8');
  assert.equal(cell(table, 'cache:kmalloc-64', 'net'), '?');
  assert.equal(cell(table, 'cache:kmalloc-64', 'totalNet'), '?');
  assert.equal(cell(table, 'cache:radix_tree_node', 'net'), '-2');
  assert.equal(cell(table, 'cache:radix_tree_node', 'netBytes'), '?');
  assert.deepEqual(rowJson(table.rows.get('cache:kmalloc-64')!, view), {cache: 'kmalloc-64', count: 10, bytes: 640, net: null, netBytes: null, rate: 10, totalCount: 10, totalBytes: 640, totalNet: null, totalNetBytes: null});
  table = applyRows(table, [{cache: 'dentry', count: 0, bytes: 0, net: -12, netBytes: -2304}, {cache: 'radix_tree_node', count: 1, bytes: 576, net: 1, netBytes: 576}], meta(), view);
  assert.equal(table.rows.get('cache:dentry')!.totalNet, -4);
  assert.equal(table.rows.get('cache:dentry')!.totalNetBytes, -768);
  // Quiet: a named cache grew by 0; a size class's frees are still not seen.
  assert.equal(cell(table, 'cache:kmalloc-64', 'net'), '?');
  assert.equal(cell(table, 'cache:kmalloc-64', 'count'), '0');
  // Its bytes known now, but not those of its first interval: unknown since start.
  assert.equal(cell(table, 'cache:radix_tree_node', 'netBytes'), '576B');
  assert.equal(cell(table, 'cache:radix_tree_node', 'totalNetBytes'), '?');
  assert.equal(table.rows.get('cache:radix_tree_node')!.totalNet, -1);
  table = applyRows(table, [], meta(), view);
  assert.equal(cell(table, 'cache:dentry', 'net'), '0');
  assert.match(columnHelp(view, columns).find(line => line.title === 'NET')!.text, /; \? for kmalloc-<size>: kfree names no cache$/);
});

test('column formatters strip control characters from names', () => {
  const table = applyRows(emptyTable(), [{pid: 1, comm: '\u001b[2Jevil\u0007', count: 1}], meta(), MALLOC);
  const comm = columnsFor(viewOf('malloc', 'process')).find(column => column.id === 'comm')!;
  assert.equal(comm.format(table.rows.get('pid:1')!), '?[2Jevil?');
});

test('stack view: top stacks by count with their share of the total', () => {
  const view = topStacks(
    {tab: 'malloc', backend: 'bpftrace', probe: 'p', pid: 1, time: 't', elapsedMs: 1000, stacks: [{count: 1, bytes: 10, frames: ['a']}, {count: 3, bytes: 5, frames: ['b']}]},
    1,
  );
  assert.equal(view.totalCount, 4);
  assert.deepEqual(view.stacks, [{count: 3, bytes: 5, frames: ['b'], share: 75}]);
  assert.equal(view.hasBytes, true);
});

test('a max measure keeps the largest value of an interval and since start; rows merge by key', () => {
  const longest: Measure = {id: 'longestMs', title: 'LONGEST', totalTitle: 'MAX', unit: 'ms', kind: 'max'};
  const view: ViewDefinition = {id: 'process', rows: 'process', label: 'by process', measures: [{...MAJFAULT.measures[0]!}, longest]};
  let table = applyRows(emptyTable(), [{pid: 1, comm: 'a', count: 1, longestMs: 7}, {pid: 1, comm: 'a', count: 2, longestMs: 3}], meta(), view);
  assert.equal(table.rows.get('pid:1')!.count, 3);
  assert.equal(table.rows.get('pid:1')!.longestMs, 7);
  table = applyRows(table, [{pid: 1, comm: 'a', count: 1, longestMs: 2}], meta(), view);
  assert.equal(table.rows.get('pid:1')!.longestMs, 2);
  assert.equal(table.rows.get('pid:1')!.totalLongestMs, 7);
  assert.equal(table.rows.get('pid:1')!.totalCount, 4);
});

test('selectRows names unnamed rows through nameOf: the shown ones only, or every one when the filter or the sort reads names', () => {
  const rows = [
    {pid: 10, comm: '', count: 50},
    {pid: 11, comm: '', count: 40},
    {pid: 12, comm: 'exited', count: 30},
    {pid: 13, comm: '', count: 20},
  ];
  const table = applyRows(emptyTable(), rows, meta(), MALLOC);
  const columns = columnsFor(viewOf('malloc', 'process'));
  const asked: number[] = [];
  const nameOf = (pid: number) => {
    asked.push(pid);
    return pid === 11 ? GONE_NAME : `name-${pid}`;
  };
  const query = {view: viewOf('malloc', 'process'), sortColumn: 'count', descending: true, cumulative: false, filter: '', limit: 3, nameOf} as const;
  const shown = selectRows(table.rows.values(), columns, query);
  assert.deepEqual(shown.map(row => row.comm), ['name-10', '?', 'exited'], "an unnamed row gets nameOf's name (a gone process's too), a name the tracer gave is kept");
  assert.deepEqual(asked.sort(), [10, 11], 'only the unnamed rows shown are asked for');
  assert.equal([...table.rows.values()].find(row => row.pid === 10)!.comm, '', 'the table itself is not changed');

  asked.length = 0;
  const filtered = selectRows(table.rows.values(), columns, {...query, filter: 'NAME-13'});
  assert.deepEqual(filtered.map(row => row.pid), [13], 'the filter reads the names from /proc');
  assert.deepEqual(asked.sort(), [10, 11, 13]);

  const byName = selectRows(table.rows.values(), columns, {...query, sortColumn: 'comm', descending: false, limit: 4});
  assert.deepEqual(byName.map(row => row.comm), ['?', 'exited', 'name-10', 'name-13']);
});

test("slab by cache: each column's help line, with why a value may be ?, fits a 140-column screen", () => {
  const view = viewOf('slab', 'cache');
  for (const {title, text} of columnHelp(view, columnsFor(view, {trend: {ascii: false}}))) {
    assert.ok(title.padEnd(17).length + text.length <= 140, `${title}: ${text}`);
  }
});
