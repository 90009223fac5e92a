// The anon page-ins tab (see types.ts for what each field means).
import {count, byPid} from './measures.js';
import type {TabDefinition} from './types.js';

export const anonpgin = {
  title: 'anon page-ins',
  event: '`memcg:count_memcg_events` with item `PSWPIN`; falls back to a kprobe on `swap_read_folio`, then `swap_readpage`',
  columns: 'pages swapped in',
  views: [{id: 'process', rows: 'process', label: 'by process', measures: [count('PAGES', {name: 'anon_pageins', help: 'Anonymous pages swapped back in'}, 'pages')]}],
  stackBytes: false,
  bpftrace: {
    views: {
      process: {
        scripts: [
          {file: 'anonpgin.bt', label: 'tracepoint:memcg:count_memcg_events(PSWPIN)', requires: [{tracepoint: 'memcg/count_memcg_events'}]},
          {file: 'anonpgin-swap_read_folio.bt', label: 'kprobe:swap_read_folio', requires: [{kprobe: 'swap_read_folio'}]},
          {file: 'anonpgin-swap_readpage.bt', label: 'kprobe:swap_readpage', requires: [{kprobe: 'swap_readpage'}]},
        ],
        rows: byPid({count: {from: ['count']}}),
      },
    },
    stacks: {
      script: {file: 'stacks-anonpgin.bt', label: 'tracepoint:memcg:count_memcg_events ustack', requires: [{tracepoint: 'memcg/count_memcg_events'}]},
      read: {maps: [{key: 'stack,caller', count: 'stacks'}]},
    },
  },
  stap: {script: {file: 'anonpgin.stp', label: 'kernel.function("{swap_read}")'}, stacks: {file: 'stacks-anonpgin.stp', label: 'kernel.function("{swap_read}") ubacktrace'}},
  dtrace: {script: {file: 'anonpgin.d', label: 'vminfo:::anonpgin'}, stacks: {file: 'stacks-anonpgin.d', label: 'vminfo:::anonpgin ustack()'}},
} satisfies TabDefinition;
