// The reclaim tab (see types.ts for what each field means).
import {count, byPid} from './measures.js';
import type {TabDefinition} from './types.js';

export const reclaim = {
  title: 'reclaim',
  event: '`vmscan:mm_vmscan_direct_reclaim_*` and `mm_vmscan_memcg_reclaim_*` (stalls), `mm_vmscan_kswapd_wake`/`_sleep` and `mm_vmscan_lru_shrink_inactive` (kswapd), `mm_vmscan_throttled`',
  columns: 'stall time, stalls, longest stall, pages reclaimed, throttles; kswapd rows: time awake, wakes, pages',
  views: [
    {
      id: 'process',
      rows: 'process',
      label: 'by process',
      measures: [
        {id: 'stallMs', title: 'STALLED', totalTitle: 'TOT STALL', unit: 'ms', kind: 'counter', metric: {name: 'reclaim_stall_seconds', help: 'Time stalled in direct and memory cgroup reclaim (kswapd: time awake)'}},
        count('STALLS', {name: 'reclaim_stalls', help: 'Direct and memory cgroup reclaim stalls (kswapd: wakes)'}),
        {id: 'maxMs', title: 'LONGEST', totalTitle: 'MAX EVER', unit: 'ms', kind: 'max', help: 'The longest single reclaim stall'},
        {id: 'pages', title: 'PAGES', totalTitle: 'TOT PAGES', unit: 'pages', kind: 'counter', metric: {name: 'reclaim_pages', help: 'Pages reclaimed by the stalls (kswapd: by kswapd)'}},
        {id: 'throttled', title: 'THROTTLED', totalTitle: 'TOT THROT', unit: 'events', kind: 'counter', metric: {name: 'reclaim_throttled', help: 'Times throttled in reclaim (mm_vmscan_throttled)'}},
      ],
    },
  ],
  stackBytes: false,
  stackTime: true,
  stackHistogram: 'latency',
  bpftrace: {
    views: {
      process: {
        scripts: [
          {
            file: 'reclaim.bt',
            label: 'tracepoint:vmscan:mm_vmscan_{direct,memcg}_reclaim+kswapd',
            requires: [
              {tracepoint: 'vmscan/mm_vmscan_direct_reclaim_begin'},
              {tracepoint: 'vmscan/mm_vmscan_memcg_reclaim_begin'},
              {tracepoint: 'vmscan/mm_vmscan_kswapd_wake'},
              {tracepoint: 'vmscan/mm_vmscan_lru_shrink_inactive'},
              {tracepoint: 'vmscan/mm_vmscan_throttled'},
            ],
          },
        ],
        rows: byPid({stallMs: {from: ['stall.total']}, count: {from: ['stall.count']}, maxMs: {from: ['longest']}, pages: {from: ['pages']}, throttled: {from: ['throttled']}}),
      },
    },
    stacks: {
      script: {
        file: 'stacks-reclaim.bt',
        label: 'tracepoint:vmscan:mm_vmscan_{direct,memcg}_reclaim_begin ustack',
        requires: [{tracepoint: 'vmscan/mm_vmscan_direct_reclaim_begin'}, {tracepoint: 'vmscan/mm_vmscan_memcg_reclaim_begin'}],
      },
      read: {maps: [{key: 'stack,caller', count: 'stacks.count', ns: 'stacks.total'}], histogram: 'latency'},
    },
  },
  stap: {
    script: {file: 'reclaim.stp', label: 'kernel.trace("mm_vmscan_*")'},
    stacks: {file: 'stacks-reclaim.stp', label: 'kernel.trace("mm_vmscan_*_reclaim_begin") ubacktrace'},
  },
  dtrace: {
    script: {file: 'reclaim.d', label: 'fbt::page_create_wait + sched:::on-cpu (pageout)'},
    stacks: {file: 'stacks-reclaim.d', label: 'fbt::page_create_wait:entry ustack()'},
  },
} satisfies TabDefinition;
