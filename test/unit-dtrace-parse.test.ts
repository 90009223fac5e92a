// The DTrace output parser on fixtures written exactly as DTrace prints memtop's D scripts:
// printa() joins with zero-filled keys, %k stacks one frame per line as module`function+0xoffset,
// quantize()'s padded ASCII table, empty lines between records.
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {test} from 'node:test';
import {DTRACE_FORMAT, dtraceFrameName, parseDtraceOutput, parseDtraceStackOutput} from '../source/parse/dtrace-output.js';
import {BlockReader} from '../source/parse/text-blocks.js';

const fixture = (name: string) => readFileSync(new URL(`fixtures/dtrace-output/${name}`, import.meta.url), 'utf8');
const MAX = Number.MAX_SAFE_INTEGER;

test('malloc: one snapshot per interval for the one traced process', () => {
  const snapshots = parseDtraceOutput(fixture('malloc.txt'), {tab: 'malloc', probe: 'pid$target::malloc:entry'});
  assert.equal(snapshots.length, 2);
  const [first, second] = snapshots;
  assert.deepEqual(first!.rows, [{pid: 4242, comm: 'postgres', count: 1834, bytes: 301120}]);
  assert.equal(first!.backend, 'dtrace');
  assert.equal(first!.probe, 'pid$target::malloc:entry');
  assert.equal(first!.time, new Date(1718000000123).toISOString());
  assert.equal(first!.elapsedMs, 1000);
  assert.equal(first!.skippedLines, 0);
  assert.equal(first!.capped, undefined, 'DTrace reports drops on stderr only, so capped is unknown');
  assert.deepEqual(second!.rows, [{pid: 4242, comm: 'postgres', count: 1790, bytes: 290000}]);
});

test('slab: keys trunc() removed from the calls (printed with 0 calls) are dropped, not skipped', () => {
  const [snapshot] = parseDtraceOutput(fixture('slab.txt'), {tab: 'slab', probe: 'fbt::kmem_cache_alloc:entry'});
  assert.deepEqual(snapshot!.rows, [
    {pid: 1207, comm: 'fsflush', count: 95, bytes: 24320},
    {pid: 812, comm: 'nginx', count: 310, bytes: 79360},
  ]);
  assert.deepEqual(snapshot!.otherViews?.cache, [
    {cache: 'dentry_cache', count: 44, bytes: 8448},
    {cache: 'kmem_alloc_64', count: 120, bytes: 7680},
  ]);
  assert.equal(snapshot!.skippedLines, 0);
});

test('brk: net growth keeps its sign', () => {
  const [snapshot] = parseDtraceOutput(fixture('brk.txt'), {tab: 'brk', probe: 'syscall::brk:entry'});
  assert.deepEqual(snapshot!.rows.map(row => row.bytes), [135168, -266240]);
});

test('majfault: "-" where the tab has no bytes, and no bytes read (the script lacks them)', () => {
  const [snapshot] = parseDtraceOutput(fixture('majfault.txt'), {tab: 'majfault', probe: 'vminfo:::maj_fault', unmeasured: ['read']});
  assert.deepEqual(snapshot!.rows, [
    {pid: 977, comm: 'java', count: 52},
    {pid: 3120, comm: 'firefox', count: 4},
  ]);
});

test('a block for another tab is not taken for this one', () => {
  assert.equal(parseDtraceOutput(fixture('majfault.txt'), {tab: 'anonpgin', probe: 'x'}).length, 0);
});

test('hostile per-process output: bad lines are skipped and counted, names kept as data, big counts saturate', () => {
  const snapshots = parseDtraceOutput(fixture('hostile.txt'), {tab: 'slab', probe: 'p'});
  assert.equal(snapshots.length, 2);
  const [first, second] = snapshots;
  assert.deepEqual(first!.rows, [
    {pid: 1, comm: 'café\tbar', count: 5, bytes: 10},
    {pid: 2, comm: '\u001b[31mred\u0007', count: MAX, bytes: MAX},
    {pid: 5, comm: 'padded', count: 7, bytes: 64},
    {pid: 6, comm: '', count: 1, bytes: 1},
  ]);
  assert.deepEqual(first!.otherViews?.cache, [{cache: 'kmem_alloc_32', count: 3, bytes: 96}]);
  // the stray "dtrace:" line, then the truncated row, the negative count, the bad pid, the
  // cache without bytes and the second half of a name broken by a newline.
  assert.equal(first!.skippedLines, 6);
  assert.deepEqual(second!.rows, [{pid: 8, comm: 'kept', count: 2, bytes: 2}]);
  assert.equal(second!.skippedLines, 8, 'the 2 lines of the block cut short by a new begin are added');
});

test('drill-down: %k stacks innermost first, without module or offset; quantize table; entry points', () => {
  const [snapshot] = parseDtraceStackOutput(fixture('stacks-malloc.txt'), {tab: 'malloc', probe: 'p', pid: 4242});
  assert.equal(snapshot!.pid, 4242);
  assert.deepEqual(snapshot!.stacks, [
    {count: 3, bytes: 12288, frames: ['malloc', 'operator new(unsigned long)', '0x401a2c', '0x7ffd3a2b1c00']},
    {count: 12, bytes: 768, frames: ['malloc', 'wl_leaf', 'wl_middle', 'main', '_start']},
  ]);
  assert.deepEqual(snapshot!.histogram, [
    {min: 64, max: 127, count: 12},
    {min: 128, max: 255, count: 0},
    {min: 256, max: 511, count: 0},
    {min: 512, max: 1023, count: 0},
    {min: 1024, max: 2047, count: 0},
    {min: 2048, max: 4095, count: 0},
    {min: 4096, max: 8191, count: 3},
  ]);
  assert.deepEqual(snapshot!.entryPoints, [
    {name: 'calloc', count: 1},
    {name: 'free', count: 14},
    {name: 'malloc', count: 15},
  ]);
  assert.equal(snapshot!.skippedLines, 0);
});

test('drill-down without bytes: ustack helper annotations are not frames', () => {
  const [snapshot] = parseDtraceStackOutput(fixture('stacks-majfault.txt'), {tab: 'majfault', probe: 'p', pid: 977});
  assert.deepEqual(snapshot!.stacks, [{count: 7, frames: ['memcpy', 'load_table', 'main']}]);
  assert.equal(snapshot!.histogram, undefined);
  assert.equal(snapshot!.entryPoints, undefined);
});

test('hostile drill-down: truncated stacks dropped and counted, odd frames and buckets handled', () => {
  const [snapshot] = parseDtraceStackOutput(fixture('stacks-hostile.txt'), {tab: 'malloc', probe: 'p', pid: 4242});
  assert.deepEqual(snapshot!.stacks, [{count: MAX, bytes: 1, frames: ['malloc', 'café\u0001', 'frame']}]);
  // 3 lines of the stack cut off by the next one, the malformed header, the endstack after it,
  // the bucket that is no power of two, the garbage line in the table, the malformed entry.
  assert.equal(snapshot!.skippedLines, 8);
  assert.deepEqual(snapshot!.entryPoints, [{name: 'aligned_alloc', count: 2}]);
  const histogram = snapshot!.histogram!;
  assert.deepEqual(histogram.slice(0, 6), [
    {min: -3, max: -2, count: 1},
    {min: -1, max: -1, count: 0},
    {min: 0, max: 0, count: 1},
    {min: 1, max: 1, count: 0},
    {min: 2, max: 3, count: 0},
    {min: 4, max: 7, count: 0},
  ]);
  assert.deepEqual(histogram.at(-1), {min: MAX, max: MAX, count: 2});
});

test('dtraceFrameName handles every form DTrace prints a frame in', () => {
  assert.equal(dtraceFrameName('libc.so.1`malloc+0x8'), 'malloc');
  assert.equal(dtraceFrameName('              a.out`main'), 'main');
  assert.equal(dtraceFrameName('libc.so.1`0x7fff0010'), '0x7fff0010');
  assert.equal(dtraceFrameName('0x401234'), '0x401234');
  assert.equal(dtraceFrameName('libstdc++.so.6`std::vector<int>::push_back(int const&)+0x3a'), 'std::vector<int>::push_back(int const&)');
});

test('empty lines outside a block are layout, not skipped lines', () => {
  const reader = new BlockReader(DTRACE_FORMAT.blocks);
  reader.push('');
  reader.push('   ');
  assert.equal(reader.skippedLines, 0);
  reader.push('dtrace: 12 aggregation drops on CPU 0');
  assert.equal(reader.skippedLines, 1);
});

test('drill into a cache: kernel frames without module or offset, processes by allocations', () => {
  const [snapshot] = parseDtraceStackOutput(fixture('stacks-slab-cache.txt'), {tab: 'slab', probe: 'p', cache: 'filp'});
  assert.equal(snapshot!.cache, 'filp');
  assert.equal(snapshot!.kernel, true);
  assert.deepEqual(snapshot!.stacks, [{count: 40, bytes: 10240, frames: ['kmem_cache_alloc', 'falloc', 'openat']}]);
  assert.deepEqual(snapshot!.processes, [
    {pid: 4242, comm: 'workload', count: 40, bytes: 10240},
    {pid: 77, comm: 'sshd', count: 8, bytes: 2048},
  ]);
});

test('malloc live: the one process\'s outstanding bytes and allocations, and its oldest class\'s age', () => {
  const [snapshot] = parseDtraceOutput(fixture('malloc-live.txt'), {tab: 'malloc', probe: 'live'});
  assert.equal(snapshot!.view, 'live');
  assert.equal(snapshot!.since, new Date(1718000000000).toISOString());
  assert.deepEqual(snapshot!.rows, [{pid: 4242, comm: 'postgres', count: 15, bytes: 49452, age: 1.5}]);
  assert.equal(snapshot!.skippedLines, 0);
});

test('malloc live stacks: by caller, one frame each, counts were x 1024; a malformed line is skipped', () => {
  const [snapshot] = parseDtraceStackOutput(fixture('stacks-malloc-live.txt'), {tab: 'malloc', probe: 'live', pid: 4242});
  assert.equal(snapshot!.view, 'live');
  assert.deepEqual(snapshot!.live, {
    since: new Date(1718000000000).toISOString(),
    classes: [{oldest: 1.5, newest: 0.5}, {oldest: 0.5, newest: 0}],
    totals: [{count: 10, bytes: 40960}, {count: 5, bytes: 500}],
    untracked: 2,
  });
  assert.deepEqual(snapshot!.stacks.map(stack => [stack.frames, stack.count, stack.bytes]), [
    [['wl_keep_leak'], 10, 40960],
    [['wl_churn_leak'], 5, 500],
  ]);
  assert.equal(snapshot!.capped, true);
  assert.equal(snapshot!.skippedLines, 1);
});

test('minor faults: as_fault less maj_fault per process, major faults beside; no minor fault, no row', () => {
  const [snapshot] = parseDtraceOutput(fixture('minfault.txt'), {tab: 'minfault', probe: 'p', unmeasured: ['bytes']});
  assert.deepEqual(snapshot!.rows, [{pid: 977, comm: 'java', count: 5210, major: 3}]);
});

test('reclaim: waits in ns read as ms; the page-out daemon\'s row with its wakes and pages', () => {
  const [snapshot] = parseDtraceOutput(fixture('reclaim.txt'), {tab: 'reclaim', probe: 'p'});
  assert.deepEqual(snapshot!.rows, [
    {pid: 977, comm: 'java', stallMs: 250, count: 1040, maxMs: 24, pages: 0, throttled: 0},
    {pid: 2, comm: 'pageout', stallMs: 0, count: 3, maxMs: 0, pages: 120000, throttled: 0},
  ]);
});

test('reclaim drill-down: a stack\'s wait time in ms and quantize() of the waits in microseconds', () => {
  const [snapshot] = parseDtraceStackOutput(fixture('stacks-reclaim.txt'), {tab: 'reclaim', probe: 'p', pid: 977});
  assert.deepEqual(snapshot!.stacks, [{count: 12, ms: 3.4, frames: ['memset', 'main']}]);
  assert.deepEqual(snapshot!.histogram, [{min: 256, max: 511, count: 10}, {min: 512, max: 1023, count: 0}, {min: 1024, max: 2047, count: 2}]);
  assert.equal(snapshot!.entryPoints, undefined);
});
