// The minor faults tab (see types.ts for what each field means).
import {count, byPid} from './measures.js';
import type {TabDefinition} from './types.js';

export const minfault = {
  title: 'minor faults',
  event: '`software:minor-faults`, with `software:major-faults` beside; bytes from `kmem:rss_stat` in the faulting task\'s own mm; Enter adds the faulting address from `exceptions:page_fault_user` (x86)',
  columns: 'minor faults, major faults, the bytes the process made resident itself; stacks with the mapping faulted on',
  views: [
    {
      id: 'process',
      rows: 'process',
      label: 'by process',
      measures: [
        count('MINOR', {name: 'minor_faults', help: 'Minor page faults (resolved without reading a disk)'}),
        // The major faults tab exports major faults: no second metric of them here.
        {id: 'major', title: 'MAJOR', totalTitle: 'TOT MAJOR', unit: 'events', kind: 'counter', help: 'Major page faults (read from a disk or swap)'},
        {
          id: 'bytes',
          title: 'BYTES',
          totalTitle: 'TOT BYTES',
          unit: 'bytes',
          kind: 'counter',
          metric: {
            name: 'fault_resident_bytes',
            help: 'Bytes the process made resident itself: its page faults (a huge page at its size, fault-around\'s pages beside a file fault) and calls that populate (mlock, MAP_POPULATE)',
          },
        },
      ],
    },
  ],
  stackBytes: false,
  bpftrace: {
    views: {
      process: {
        scripts: [
          {file: 'minfault.bt', label: 'software:minor-faults+major-faults + kmem:rss_stat', requires: [{tracepoint: 'kmem/rss_stat'}, {tracepointField: ['kmem/rss_stat', 'curr']}]},
          {file: 'minfault-count.bt', label: 'software:minor-faults+major-faults (BYTES not measured: kmem:rss_stat has no curr field here)', lacks: ['bytes']},
        ],
        rows: byPid({count: {from: ['minor']}, major: {from: ['major']}, bytes: {from: ['bytes']}}),
      },
    },
    stacks: {
      script: {file: 'stacks-minfault.bt', label: 'software:minor-faults ustack + exceptions:page_fault_user address', requires: [{tracepoint: 'exceptions/page_fault_user'}]},
      fallbacks: [{file: 'stacks-minfault-noaddress.bt', label: 'software:minor-faults ustack'}],
      read: {maps: [{key: 'stack,caller,region', count: 'stacks', where: 'where'}]},
    },
  },
  stap: {
    script: {file: 'minfault.stp', label: 'vm.pagefault.return (minor and major)', lacks: ['bytes']},
    stacks: {file: 'stacks-minfault.stp', label: 'vm.pagefault.return (minor) ubacktrace'},
  },
  dtrace: {
    script: {file: 'minfault.d', label: 'vminfo:::as_fault - vminfo:::maj_fault', lacks: ['bytes']},
    stacks: {file: 'stacks-minfault.d', label: 'vminfo:::as_fault ustack()'},
  },
} satisfies TabDefinition;
