// The SystemTap output parser on fixtures written as memtop's stap scripts print them.
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {test} from 'node:test';
import {
  decodeStapString,
  parseStapOutput,
  parseStapRecord,
  parseStapStackOutput,
  stapFrameName,
  STAP_FORMAT,
} from '../source/parse/stap-output.js';
import {BlockReader} from '../source/parse/text-blocks.js';
import {normalizeHistogram, parseSaturatedInteger, powerOfTwoBucket} from '../source/parse/tracer-values.js';

const fixture = (name: string) => readFileSync(new URL(`fixtures/stap-output/${name}`, import.meta.url), 'utf8');
const MAX = Number.MAX_SAFE_INTEGER;

test('malloc: one snapshot per interval, rows with pid, comm, count and bytes', () => {
  const snapshots = parseStapOutput(fixture('malloc.txt'), {tab: 'malloc', probe: 'process("libc").function("malloc")'});
  assert.equal(snapshots.length, 2);
  const [first, second] = snapshots;
  assert.deepEqual(first!.rows, [
    {pid: 4242, comm: 'postgres', count: 1834, bytes: 301120},
    {pid: 977, comm: 'java', count: 52, bytes: 6656},
    {pid: 1, comm: 'systemd', count: 3, bytes: 96},
  ]);
  assert.equal(first!.backend, 'stap');
  assert.equal(first!.tab, 'malloc');
  assert.equal(first!.probe, 'process("libc").function("malloc")');
  assert.equal(first!.time, new Date(1718000000123).toISOString());
  assert.equal(first!.elapsedMs, 1002);
  assert.equal(first!.capped, false);
  assert.equal(first!.skippedLines, 0);
  assert.equal(first!.otherViews?.cache, undefined);
  assert.deepEqual(second!.rows, [{pid: 4242, comm: 'postgres', count: 1790, bytes: 290000}]);
});

test('brk: net growth keeps its sign', () => {
  const [snapshot] = parseStapOutput(fixture('brk.txt'), {tab: 'brk', probe: 'syscall.brk'});
  assert.deepEqual(snapshot!.rows.map(row => row.bytes), [135168, -266240]);
});

test('slab: rows per process and per cache, capped when the map filled up', () => {
  const [snapshot] = parseStapOutput(fixture('slab.txt'), {tab: 'slab', probe: 'vm.kmem_cache_alloc'});
  assert.equal(snapshot!.rows.length, 2);
  assert.deepEqual(snapshot!.otherViews?.cache, [
    {cache: 'kmalloc-256', count: 120, bytes: 30720},
    {cache: 'dentry', count: 44, bytes: 8448},
    {cache: 'objsize-192', count: 2, bytes: 384},
  ]);
  assert.equal(snapshot!.capped, true);
});

test('majfault: counts only, no bytes read (the script lacks them)', () => {
  const [snapshot] = parseStapOutput(fixture('majfault.txt'), {tab: 'majfault', probe: 'vm.pagefault.return', unmeasured: ['read']});
  assert.deepEqual(snapshot!.rows, [{pid: 977, comm: 'java', count: 52}]);
});

test('a block for another tab is not taken for this one', () => {
  const snapshots = parseStapOutput(fixture('majfault.txt'), {tab: 'anonpgin', probe: 'x'});
  assert.equal(snapshots.length, 0);
});

test('hostile per-process output: bad lines are skipped and counted, names kept as data, big counts saturate', () => {
  const snapshots = parseStapOutput(fixture('hostile.txt'), {tab: 'malloc', probe: 'p'});
  assert.equal(snapshots.length, 2);
  const [first, second] = snapshots;
  assert.deepEqual(first!.rows, [
    {pid: 1, comm: 'été\tx\ny\u001b[31m\u0001"q"\\', count: 5, bytes: 10},
    {pid: 2, comm: '😀\ufffdbad', count: MAX, bytes: MAX},
    {pid: 7, comm: 'ok', count: MAX, bytes: -MAX},
  ]);
  // 1 stray line before the first block, 6 bad lines inside it.
  assert.equal(first!.skippedLines, 7);
  // then a block cut short by a new begin (2 lines), and the same 6 again (cumulative).
  assert.deepEqual(second!.rows, [{pid: 9, comm: 'kept', count: 2, bytes: 2}]);
  assert.equal(second!.skippedLines, 9);
});

test('drill-down: stacks innermost first, histogram and entry points', () => {
  const [snapshot] = parseStapStackOutput(fixture('stacks-malloc.txt'), {tab: 'malloc', probe: 'p', pid: 4242});
  assert.equal(snapshot!.pid, 4242);
  assert.equal(snapshot!.comm, 'workload');
  assert.equal(snapshot!.backend, 'stap');
  assert.deepEqual(snapshot!.stacks, [
    {count: 12, bytes: 768, frames: ['malloc', 'wl_leaf', 'wl_middle', 'main', '__libc_start_call_main']},
    {count: 3, bytes: 12288, frames: ['malloc', '_ZN7storage5Cache4growEm', '0x55d0c0ffee10']},
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
    {name: 'malloc', count: 15},
    {name: 'free', count: 14},
    {name: 'calloc', count: 1},
  ]);
  assert.equal(snapshot!.skippedLines, 0);
});

test('drill-down without bytes: no histogram or entry points outside malloc', () => {
  const [snapshot] = parseStapStackOutput(fixture('stacks-majfault.txt'), {tab: 'majfault', probe: 'p', pid: 977});
  assert.deepEqual(snapshot!.stacks, [{count: 7, frames: ['memcpy', 'load_table', 'main']}]);
  assert.equal(snapshot!.histogram, undefined);
  assert.equal(snapshot!.entryPoints, undefined);
});

test('hostile drill-down: truncated stacks are dropped and counted, odd names survive', () => {
  const [snapshot] = parseStapStackOutput(fixture('stacks-hostile.txt'), {tab: 'malloc', probe: 'p', pid: 4242});
  assert.deepEqual(snapshot!.stacks, [{count: MAX, bytes: 1, frames: ['malloc', 'café\tbar\n', '😀']}]);
  assert.equal(snapshot!.comm, 'é\u001b');
  assert.equal(snapshot!.capped, true);
  // 4 lines of the stack whose frame count disagrees, 2 of the one with no endstack,
  // the orphan frame, the malformed bucket and the malformed entry.
  assert.equal(snapshot!.skippedLines, 9);
  assert.deepEqual(snapshot!.entryPoints, [{name: 'aligned_alloc', count: 2}]);
  const histogram = snapshot!.histogram!;
  assert.deepEqual(histogram.slice(0, 5), [
    {min: 0, max: 0, count: 2},
    {min: 1, max: 1, count: 0},
    {min: 2, max: 3, count: 0},
    {min: 4, max: 7, count: 0},
    {min: 8, max: 15, count: 1},
  ]);
  assert.deepEqual(histogram.at(-1), {min: MAX, max: MAX, count: 1});
  assert.deepEqual(histogram.at(-2), {min: 2 ** 52, max: MAX, count: 0});
});

test('decodeStapString undoes every text_str() escape', () => {
  assert.equal(decodeStapString('plain name'), 'plain name');
  assert.equal(decodeStapString('\\a\\b\\f\\n\\r\\t\\v\\"\\\\'), '\u0007\b\f\n\r\t\u000b"\\');
  assert.equal(decodeStapString('\\001\\177\\033'), '\u0001\u007f\u001b');
  assert.equal(decodeStapString('\\u00e9\\u4e2d\\U0001f600'), 'é中😀');
  assert.equal(decodeStapString('\\303\\251'), 'é', 'octal bytes that form UTF-8 are read as UTF-8');
  assert.equal(decodeStapString('a\\377b'), 'a\ufffdb', 'a byte that is not UTF-8 becomes U+FFFD');
  assert.equal(decodeStapString('\\ud800'), '\ufffd', 'a lone surrogate becomes U+FFFD');
  assert.equal(decodeStapString('trailing\\'), 'trailing\\');
  assert.equal(decodeStapString('\\q'), '\\q', 'an unknown escape is kept as written');
});

test('parseStapRecord splits on TABs and the first = only', () => {
  assert.deepEqual(parseStapRecord('frame\tsym=operator=='), {type: 'frame', fields: new Map([['sym', 'operator==']])});
  assert.equal(parseStapRecord('row pid=1'), undefined);
  assert.equal(parseStapRecord('row\tnoequals'), undefined);
  assert.equal(parseStapRecord(''), undefined);
});

test('stapFrameName drops offsets, sizes and modules, keeps hex addresses', () => {
  assert.equal(stapFrameName('malloc'), 'malloc');
  assert.equal(stapFrameName('malloc+0x1c/0x2a0 [libc.so.6]'), 'malloc');
  assert.equal(stapFrameName('main+0x2c'), 'main');
  assert.equal(stapFrameName('0x7ffd3a2b1c00'), '0x7ffd3a2b1c00');
});

test('a BlockReader on STAP_FORMAT.blocks drops runaway blocks instead of buffering without bound', () => {
  const reader = new BlockReader(STAP_FORMAT.blocks);
  reader.push('begin\ttab=malloc');
  for (let index = 0; index < 100_001; index++) reader.push('row\tpid=1\tcomm=x\tcount=1\tbytes=1');
  assert.equal(reader.push('end\tts=1\tms=1\tkeys=0\tcapped=0'), undefined);
  assert.equal(reader.skippedLines, 100_002 + 1);
});

test('integers past 2^53 saturate instead of rounding to another number', () => {
  assert.equal(parseSaturatedInteger('9007199254740991'), MAX);
  assert.equal(parseSaturatedInteger('9007199254740992'), MAX);
  assert.equal(parseSaturatedInteger('9007199254740993'), MAX);
  assert.equal(parseSaturatedInteger('18446744073709551615'), MAX);
  assert.equal(parseSaturatedInteger('-9223372036854775808'), -MAX);
  assert.equal(parseSaturatedInteger('  42 '), 42);
  assert.equal(parseSaturatedInteger('4.2'), undefined);
  assert.equal(parseSaturatedInteger('1e3'), undefined);
  assert.equal(parseSaturatedInteger(''), undefined);
});

test('power-of-two buckets and their normal form', () => {
  assert.deepEqual(powerOfTwoBucket('0', 1), {min: 0, max: 0, count: 1});
  assert.deepEqual(powerOfTwoBucket('1', 1), {min: 1, max: 1, count: 1});
  assert.deepEqual(powerOfTwoBucket('64', 1), {min: 64, max: 127, count: 1});
  assert.deepEqual(powerOfTwoBucket('-1', 1), {min: -1, max: -1, count: 1});
  assert.deepEqual(powerOfTwoBucket('-4', 1), {min: -7, max: -4, count: 1});
  assert.equal(powerOfTwoBucket('12', 1), undefined);
  assert.deepEqual(normalizeHistogram([]), []);
  assert.deepEqual(normalizeHistogram([{min: 4, max: 7, count: 0}]), []);
  assert.deepEqual(
    normalizeHistogram([
      {min: 16, max: 31, count: 0},
      {min: 4, max: 7, count: 2},
      {min: 1, max: 1, count: 0},
      {min: 16, max: 31, count: 1},
    ]),
    [
      {min: 4, max: 7, count: 2},
      {min: 8, max: 15, count: 0},
      {min: 16, max: 31, count: 1},
    ],
  );
});

test('drill into a cache: kernel paths and the processes behind them, names as the kernel gave them', () => {
  const [snapshot] = parseStapStackOutput(fixture('stacks-slab-cache.txt'), {tab: 'slab', probe: 'p', cache: 'filp'});
  assert.equal(snapshot!.cache, 'filp');
  assert.equal(snapshot!.pid, undefined);
  assert.equal(snapshot!.kernel, true);
  assert.deepEqual(snapshot!.stacks, [
    {count: 40, bytes: 10240, frames: ['kmem_cache_alloc_noprof', 'alloc_empty_file', 'path_openat']},
    {count: 8, bytes: 2048, frames: ['kmem_cache_alloc_noprof', 'alloc_empty_file', 'alloc_file_pseudo', '__x64_sys_socket']},
  ]);
  assert.deepEqual(snapshot!.processes, [
    {pid: 4242, comm: 'workload', count: 40, bytes: 10240},
    {pid: 77, comm: 'sshd\u001b[2J', count: 8, bytes: 2048},
  ]);
  assert.equal(snapshot!.skippedLines, 1, 'the record with a bad pid');
});

test('a cache drill-down block is not read as a process drill-down', () => {
  const snapshots = parseStapStackOutput(fixture('stacks-slab-cache.txt'), {tab: 'slab', probe: 'p', pid: 4242});
  assert.equal(snapshots[0]?.processes, undefined);
});

test('malloc live: outstanding bytes, allocations and the oldest one\'s age per process, since when, untracked', () => {
  const [first, second] = parseStapOutput(fixture('malloc-live.txt'), {tab: 'malloc', probe: 'live'});
  assert.equal(first!.view, 'live');
  assert.equal(first!.since, new Date(1718000000000).toISOString());
  assert.equal(first!.untracked, 0);
  assert.deepEqual(first!.rows, [
    {pid: 4242, comm: 'postgres', count: 15, bytes: 49452, age: 1.5},
    {pid: 977, comm: 'java', count: 0, bytes: 0, age: 0},
  ]);
  // Class 0 emptied: the oldest allocation left is class 1's, 1.5 s before the interval's end.
  assert.deepEqual(second!.rows, [{pid: 4242, comm: 'postgres', count: 4, bytes: 364, age: 1.5}]);
  assert.equal(second!.untracked, 5);
  assert.equal(second!.capped, true);
  assert.equal(second!.skippedLines, 1);
});

test('malloc live stacks: classes oldest first, exact totals, stacks per class (counts were x 1024), emptied and cut-short stacks left out', () => {
  const [snapshot] = parseStapStackOutput(fixture('stacks-malloc-live.txt'), {tab: 'malloc', probe: 'live', pid: 4242, sampleBytes: 524288});
  assert.equal(snapshot!.view, 'live');
  assert.equal(snapshot!.comm, 'wl_leak');
  assert.deepEqual(snapshot!.live, {
    since: new Date(1718000000000).toISOString(),
    classes: [{oldest: 1.5, newest: 0.5}, {oldest: 0.5, newest: 0}],
    totals: [{count: 10, bytes: 40960}, {count: 5, bytes: 500}],
    untracked: 0,
    sampleBytes: 524288,
  });
  assert.deepEqual(snapshot!.stacks, [
    {count: 10, bytes: 40960, frames: ['wl_keep_leak', 'wl_outer_leak', 'main'], classes: [{count: 10, bytes: 40960}, {count: 0, bytes: 0}]},
    {count: 5, bytes: 500, frames: ['wl_churn_leak', 'wl_outer_leak', 'main'], classes: [{count: 0, bytes: 0}, {count: 5, bytes: 500}]},
  ]);
  assert.equal(snapshot!.skippedLines, 3, 'the stack whose frame count disagrees: its stack, frame and endstack lines');
});

test('minor faults with major ones beside; a row of major faults only is kept', () => {
  const [snapshot] = parseStapOutput(fixture('minfault.txt'), {tab: 'minfault', probe: 'p', unmeasured: ['bytes']});
  assert.deepEqual(snapshot!.rows, [
    {pid: 977, comm: 'java', count: 5210, major: 3},
    {pid: 12, comm: 'reader', count: 0, major: 40},
  ]);
});

test('reclaim: times printed in ns are read as ms; a malformed row is skipped', () => {
  const [snapshot] = parseStapOutput(fixture('reclaim.txt'), {tab: 'reclaim', probe: 'p'});
  assert.deepEqual(snapshot!.rows, [
    {pid: 977, comm: 'java', stallMs: 250, count: 1040, maxMs: 24, pages: 41100, throttled: 2},
    {pid: 61, comm: 'kswapd0', stallMs: 1200.5, count: 3, maxMs: 900, pages: 120000, throttled: 0},
  ]);
  assert.equal(snapshot!.skippedLines, 1);
});

test('reclaim drill-down: a stack\'s stall time in ms and the lengths histogram in microseconds, no entry points', () => {
  const [snapshot] = parseStapStackOutput(fixture('stacks-reclaim.txt'), {tab: 'reclaim', probe: 'p', pid: 977});
  assert.deepEqual(snapshot!.stacks, [{count: 12, ms: 3.4, frames: ['memset', 'main']}]);
  assert.deepEqual(snapshot!.histogram, [{min: 256, max: 511, count: 10}, {min: 512, max: 1023, count: 0}, {min: 1024, max: 2047, count: 2}]);
  assert.equal(snapshot!.entryPoints, undefined);
});
