// The major faults tab (see types.ts for what each field means).
import {count, byPid} from './measures.js';
import type {TabDefinition} from './types.js';

export const majfault = {
  title: 'major faults',
  event: '`software:major-faults`',
  columns: 'major faults',
  views: [{id: 'process', rows: 'process', label: 'by process', measures: [count('FAULTS', {name: 'major_faults', help: 'Major page faults'})]}],
  stackBytes: false,
  bpftrace: {
    views: {process: {scripts: [{file: 'majfault.bt', label: 'software:major-faults'}], rows: byPid({count: {from: ['count']}})}},
    stacks: {script: {file: 'stacks-majfault.bt', label: 'software:major-faults ustack'}, read: {maps: [{key: 'stack,caller', count: 'stacks'}]}},
  },
  stap: {script: {file: 'majfault.stp', label: 'vm.pagefault.return (VM_FAULT_MAJOR)'}, stacks: {file: 'stacks-majfault.stp', label: 'vm.pagefault.return (VM_FAULT_MAJOR) ubacktrace'}},
  dtrace: {script: {file: 'majfault.d', label: 'vminfo:::maj_fault'}, stacks: {file: 'stacks-majfault.d', label: 'vminfo:::maj_fault ustack()'}},
} satisfies TabDefinition;
