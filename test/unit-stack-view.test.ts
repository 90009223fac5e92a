// The stack view's layout: whole stacks one frame a line when they fit; when they do not, the
// frames every stack shares said once and each stack from where it differs.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {sharedInnermost, stackView} from '../source/model/stacks.js';
import {stackLines} from '../source/ui/stack-view.js';
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
const text = (height: number) => stackLines(stackView(snapshot, 10), height).map(line => line.text);

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
  assert.deepEqual(stackLines(stackView({...snapshot, stacks: []}, 10), 5).map(line => line.text), ['no stacks in this interval']);
});
