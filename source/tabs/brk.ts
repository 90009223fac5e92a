// The brk tab (see types.ts for what each field means).
import {count, bytes, byPid} from './measures.js';
import type {TabDefinition} from './types.js';

export const brk = {
  title: 'brk',
  event: '`syscalls:sys_exit_brk` (one probe: calls and the new break)',
  columns: 'brk calls, heap growth net of shrinks',
  views: [
    {
      id: 'process',
      rows: 'process',
      label: 'by process',
      measures: [count('BRK', {name: 'brk_calls', help: 'brk() system calls'}), bytes('GROWTH', {name: 'heap_growth_bytes', help: 'Heap growth through brk(), net of shrinks'})],
    },
  ],
  stackBytes: true,
  bpftrace: {
    views: {
      process: {
        scripts: [{file: 'brk.bt', label: 'tracepoint:syscalls:sys_exit_brk', requires: [{tracepoint: 'syscalls/sys_exit_brk'}]}],
        rows: byPid({count: {from: ['count']}, bytes: {from: ['grow'], minus: ['shrink']}}),
      },
    },
    stacks: {
      script: {file: 'stacks-brk.bt', label: 'uprobe:libc:sbrk + sys_exit_brk ustack', requires: [{libc: true}, {tracepoint: 'syscalls/sys_exit_brk'}], libc: true},
      read: {
        maps: [
          {key: 'stack,caller', count: 'brk_count', bytes: 'brk_grow', minus: 'brk_shrink'},
          {key: 'sbrk,allocator', count: 'sbrk_count', bytes: 'sbrk_grow', minus: 'sbrk_shrink'},
        ],
      },
    },
  },
  stap: {script: {file: 'brk.stp', label: 'syscall.brk + syscall.brk.return'}, stacks: {file: 'stacks-brk.stp', label: 'syscall.brk + syscall.brk.return ubacktrace'}},
  dtrace: {script: {file: 'brk.d', label: 'syscall::brk:entry + return'}, stacks: {file: 'stacks-brk.d', label: 'syscall::brk:entry + return ustack()'}},
} satisfies TabDefinition;
