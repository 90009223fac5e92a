// The major faults tab (see types.ts for what each field means).
import {count, byPid} from './measures.js';
import type {Requirement, TabDefinition} from './types.js';

/** The page cache tracepoint, and its folio order (Linux 6.7+): what the fault scripts count bytes read in by. */
const PAGE_CACHE: Requirement = {tracepoint: 'filemap/mm_filemap_add_to_page_cache'};
const FOLIO_ORDER: Requirement = {tracepointField: ['filemap/mm_filemap_add_to_page_cache', 'order']};

export const majfault = {
  title: 'major faults',
  event: '`software:major-faults`; bytes read in from `filemap:mm_filemap_add_to_page_cache` in a thread whose last way into a file was a fault (`filemap:mm_filemap_fault`, else `exceptions:page_fault_user`)',
  columns: 'major faults, and the bytes faults read into the page cache (readahead included)',
  views: [
    {
      id: 'process',
      rows: 'process',
      label: 'by process',
      measures: [
        count('FAULTS', {name: 'major_faults', help: 'Major page faults'}),
        {
          id: 'read',
          title: 'READ',
          totalTitle: 'TOT READ',
          unit: 'bytes',
          kind: 'counter',
          metric: {name: 'fault_read_bytes', help: 'Bytes page faults brought into the page cache, readahead included (a fault that finds its page marked for readahead starts the next read while it is still a minor fault)'},
        },
      ],
    },
  ],
  stackBytes: false,
  bpftrace: {
    views: {
      process: {
        scripts: [
          {file: 'majfault.bt', label: 'software:major-faults + filemap:mm_filemap_add_to_page_cache after mm_filemap_fault', requires: [{tracepoint: 'filemap/mm_filemap_fault'}, PAGE_CACHE, FOLIO_ORDER]},
          {file: 'majfault-entry.bt', label: 'software:major-faults + filemap:mm_filemap_add_to_page_cache after exceptions:page_fault_user', requires: [{tracepoint: 'exceptions/page_fault_user'}, PAGE_CACHE, FOLIO_ORDER]},
          {
            file: 'majfault-entry-pages.bt',
            label: 'software:major-faults + filemap:mm_filemap_add_to_page_cache (4 KiB a page) after exceptions:page_fault_user',
            requires: [{tracepoint: 'exceptions/page_fault_user'}, PAGE_CACHE],
          },
          {file: 'majfault-count.bt', label: 'software:major-faults (READ not measured: no fault tracepoint on this kernel)', lacks: ['read']},
        ],
        rows: byPid({count: {from: ['count']}, read: {from: ['read_in']}}),
      },
    },
    stacks: {script: {file: 'stacks-majfault.bt', label: 'software:major-faults ustack'}, read: {maps: [{key: 'stack,caller', count: 'stacks'}]}},
  },
  stap: {script: {file: 'majfault.stp', label: 'vm.pagefault.return (VM_FAULT_MAJOR)', lacks: ['read']}, stacks: {file: 'stacks-majfault.stp', label: 'vm.pagefault.return (VM_FAULT_MAJOR) ubacktrace'}},
  dtrace: {script: {file: 'majfault.d', label: 'vminfo:::maj_fault', lacks: ['read']}, stacks: {file: 'stacks-majfault.d', label: 'vminfo:::maj_fault ustack()'}},
} satisfies TabDefinition;
