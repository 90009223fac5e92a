// The minor faults tab (see types.ts for what each field means).
import {count, byPid} from './measures.js';
import type {TabDefinition} from './types.js';

export const minfault = {
  title: 'minor faults',
  event: '`software:minor-faults`, with `software:major-faults` beside; Enter adds the faulting address from `exceptions:page_fault_user` (x86)',
  columns: 'minor faults, major faults; stacks with the mapping faulted on',
  views: [
    {
      id: 'process',
      rows: 'process',
      label: 'by process',
      measures: [
        count('MINOR', {name: 'minor_faults', help: 'Minor page faults (resolved without reading a disk)'}),
        // The major faults tab exports major faults: no second metric of them here.
        {id: 'major', title: 'MAJOR', totalTitle: 'TOT MAJOR', unit: 'events', kind: 'counter', help: 'Major page faults (read from a disk or swap)'},
      ],
    },
  ],
  stackBytes: false,
  bpftrace: {
    views: {process: {scripts: [{file: 'minfault.bt', label: 'software:minor-faults+major-faults'}], rows: byPid({count: {from: ['minor']}, major: {from: ['major']}})}},
    stacks: {
      script: {file: 'stacks-minfault.bt', label: 'software:minor-faults ustack + exceptions:page_fault_user address', requires: [{tracepoint: 'exceptions/page_fault_user'}]},
      fallbacks: [{file: 'stacks-minfault-noaddress.bt', label: 'software:minor-faults ustack'}],
      read: {maps: [{key: 'stack,caller,region', count: 'stacks', where: 'where'}]},
    },
  },
  stap: {
    script: {file: 'minfault.stp', label: 'vm.pagefault.return (minor and major)'},
    stacks: {file: 'stacks-minfault.stp', label: 'vm.pagefault.return (minor) ubacktrace'},
  },
  dtrace: {
    script: {file: 'minfault.d', label: 'vminfo:::as_fault - vminfo:::maj_fault'},
    stacks: {file: 'stacks-minfault.d', label: 'vminfo:::as_fault ustack()'},
  },
} satisfies TabDefinition;
