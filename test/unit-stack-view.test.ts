// The stack view's layout: whole stacks one frame a line when they fit; when they do not, the
// frames every stack shares said once and each stack from where it differs; stall time and
// where faults were in their columns; and the mappings those places are named from.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {sharedInnermost, topStacks} from '../source/model/stacks.js';
import {histogramShown, placeText, stackHeader, stackLines} from '../source/ui/stack-view.js';
import {humanMicros} from '../source/format.js';
import {mappingAt, parseMapsLine} from '../source/system/processes.js';
import {fromTracer} from '../source/registry.js';
import type {TracerStackSnapshot} from '../source/types.js';

const ALLOC = ['kmem_cache_alloc_noprof', 'alloc_empty_file'];
const snapshot: TracerStackSnapshot = {
  tab: 'slab', backend: 'bpftrace', probe: 'p', cache: 'filp', time: 't', elapsedMs: 1000, kernel: true,
  stacks: [
    {count: 60, bytes: 11520, frames: [...ALLOC, 'alloc_file_clone', 'create_pipe_files', 'do_pipe2', '__x64_sys_pipe2', 'do_syscall_64']},
    {count: 30, bytes: 5760, frames: [...ALLOC, 'path_openat', 'do_filp_open', 'do_sys_openat2', '__x64_sys_openat', 'do_syscall_64']},
    {count: 10, bytes: 1920, frames: [...ALLOC, 'alloc_file_pseudo', 'sock_alloc_file', '__sys_socket', '__x64_sys_socket', 'do_syscall_64']},
  ],
};
const text = (height: number) => stackLines(topStacks(snapshot, 10), height).map(line => line.text);

test('innermost frames shared by every stack, and never a stack\'s last frame', () => {
  assert.equal(sharedInnermost(snapshot.stacks), 2);
  assert.equal(sharedInnermost([{frames: ['malloc', 'main']}, {frames: ['malloc']}]), 0, 'each stack keeps a frame of its own');
  assert.equal(sharedInnermost([{frames: ['malloc', 'a', 'main']}, {frames: ['malloc', 'b', 'main']}]), 1);
  assert.equal(sharedInnermost([{frames: ['malloc', 'a']}]), 0, 'one stack shares nothing with others');
  assert.equal(sharedInnermost([]), 0);
});

test('room enough: every frame on its own line, allocator included', () => {
  const lines = text(40);
  assert.equal(lines.length, 21);
  assert.match(lines[0]!, /60 +11\.3K +60\.0% +kmem_cache_alloc_noprof$/);
  assert.ok(lines.some(line => line.trim() === '__x64_sys_openat'));
});

test('short of lines: the shared allocator frames once, each stack from where it differs, the rest joined', () => {
  const lines = text(7);
  assert.equal(lines.length, 7);
  assert.equal(lines[0], 'every path starts kmem_cache_alloc_noprof ← alloc_empty_file, then:');
  assert.match(lines[1]!, /60\.0% +alloc_file_clone$/);
  assert.equal(lines[2]!.trim(), 'create_pipe_files ← do_pipe2 ← __x64_sys_pipe2 ← do_syscall_64');
  assert.match(lines[3]!, /30\.0% +path_openat$/);
  assert.equal(lines[6]!.trim(), 'sock_alloc_file ← __sys_socket ← __x64_sys_socket ← do_syscall_64');
});

test('one line a stack: its own frames joined; fewer lines than stacks: the biggest first', () => {
  assert.match(text(4)[1]!, /60\.0% +alloc_file_clone ← create_pipe_files ← do_pipe2 ← __x64_sys_pipe2 ← do_syscall_64$/);
  const two = text(2);
  assert.equal(two.length, 2);
  assert.match(two[1]!, /60\.0%/);
});

test('no stacks in an interval says so', () => {
  assert.deepEqual(stackLines(topStacks({...snapshot, stacks: []}, 10), 5).map(line => line.text), ['no stacks in this interval']);
});

test('reclaim\'s stacks carry their stall time; minor faults\' where they were', () => {
  const reclaim: TracerStackSnapshot = {
    tab: 'reclaim', backend: 'bpftrace', probe: 'p', pid: 7, time: 't', elapsedMs: 1000,
    stacks: [{count: 30, ms: 2.5, frames: ['wl_leaf_reclaim', 'main']}],
    histogram: [{min: 256, max: 511, count: 30}],
  };
  const data = topStacks(reclaim, 10);
  assert.ok(data.hasTime && !data.hasBytes && !data.hasPlaces);
  assert.match(stackHeader(data, false), /COUNT +TIME +SHARE +STACK/);
  assert.match(stackLines(data, 5)[0]!.text, /30 +2\.5ms +100\.0% +wl_leaf_reclaim$/);
  const faults: TracerStackSnapshot = {
    tab: 'minfault', backend: 'bpftrace', probe: 'p', pid: 7, time: 't', elapsedMs: 1000,
    stacks: [{count: 9, where: [{mapping: 'anon', count: 8}, {mapping: '[heap]', count: 1}], frames: ['memset', 'main']}, {count: 1, where: [{mapping: 'libc.so.6', count: 1}], frames: ['main']}],
  };
  const places = topStacks(faults, 10);
  assert.match(stackHeader(places, false), /SHARE +WHERE +STACK/);
  assert.equal(placeText(places.stacks[0]!), 'anon +1');
  assert.match(stackLines(places, 5)[0]!.text, /90\.0% +anon \+1 +memset$/);
  assert.match(stackLines(places, 5).at(-1)!.text, /libc\.so\.6 +main$/);
});

test('a process\'s mappings by address: heap, stack, anonymous memory and file names', () => {
  const maps = [
    '55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0                          [heap]',
    '7f0000000000-7f0004000000 rw-p 00000000 00:00 0 ',
    '7f1783200000-7f1783228000 r-xp 00028000 fe:00 1234                       /usr/lib/x86_64-linux-gnu/libc.so.6',
    '7f1783300000-7f1783301000 r--p 00000000 fe:00 99                         /tmp/a file (deleted)',
    '7ffe1ff00000-7ffe1ff21000 rw-p 00000000 00:00 0                          [stack]',
    'not a maps line',
  ].map(parseMapsLine);
  assert.equal(maps[5], undefined);
  const mappings = maps.filter(mapping => mapping !== undefined);
  assert.equal(mappingAt(mappings, 0x55d0c0a00010), '[heap]');
  assert.equal(mappingAt(mappings, 0x7f0001234567), 'anon');
  assert.equal(mappingAt(mappings, 0x7f1783227fff), 'libc.so.6');
  assert.equal(mappingAt(mappings, 0x7f1783228000), undefined, 'the end of a mapping is outside it');
  assert.equal(mappingAt(mappings, 0x7f1783300001), 'a file (deleted)');
  assert.equal(mappingAt(mappings, 0x7ffe1ff20000), '[stack]');
  assert.equal(mappingAt(mappings, 0x1000), undefined);
});

test('times come from tracers in ns and are kept in ms; other units as they are', () => {
  assert.equal(fromTracer('ms', 2_500_000), 2.5);
  assert.equal(fromTracer('pages', 7), 7);
});

test('a histogram taller than its lines drops its empty buckets, then keeps its fullest, never where the events are', () => {
  const buckets = [1, 0, 0, 5, 40, 0, 2, 0, 0, 30].map((count, index) => ({min: 2 ** index, max: 2 ** (index + 1) - 1, count}));
  assert.equal(histogramShown(buckets, 10).length, 10);
  assert.deepEqual(histogramShown(buckets, 5).map(bucket => bucket.count), [1, 5, 40, 2, 30]);
  assert.deepEqual(histogramShown(buckets, 3).map(bucket => bucket.count), [5, 40, 30]);
  assert.equal(humanMicros(16), '16us');
  assert.equal(humanMicros(4096), '4.1ms');
});
