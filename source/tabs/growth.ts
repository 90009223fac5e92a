// The resident growth tab (see types.ts for what each field means).
import type {TabDefinition} from './types.js';

export const growth = {
  title: 'growth',
  event: '`kmem:rss_stat` (each change of a process\'s resident file, anonymous and shared pages, with the new size); an event in another task (fork, kswapd, exit) is counted for the mm\'s owner',
  columns: 'net resident growth, anonymous and file bytes made resident, bytes released, RSS now, the times it grew; stacks of what touched it, by mapping',
  views: [
    {
      id: 'process',
      rows: 'process',
      label: 'by process',
      measures: [
        {id: 'net', title: 'NET', totalTitle: 'TOT NET', unit: 'bytes', kind: 'counter', help: 'Resident bytes gained, net of those released'},
        {id: 'anon', title: 'ANON+', totalTitle: 'TOT ANON+', unit: 'bytes', kind: 'counter', metric: {name: 'resident_anon_bytes', help: 'Bytes of anonymous memory made resident'}},
        {id: 'file', title: 'FILE+', totalTitle: 'TOT FILE+', unit: 'bytes', kind: 'counter', metric: {name: 'resident_file_bytes', help: 'Bytes of file and shared memory made resident'}},
        {id: 'freed', title: 'FREED', totalTitle: 'TOT FREED', unit: 'bytes', kind: 'counter', metric: {name: 'resident_released_bytes', help: 'Resident bytes released (unmapped, madvised away, reclaimed, at exit)'}},
        {
          id: 'rss',
          title: 'RSS',
          unit: 'bytes',
          kind: 'gauge',
          metric: {name: 'resident_bytes', help: 'Resident bytes now (RssAnon + RssFile + RssShmem); summed over the processes of a label set'},
          procStatus: {plus: ['RssAnon', 'RssFile', 'RssShmem']},
        },
        {
          id: 'untouched',
          title: 'UNTOUCHED',
          unit: 'bytes',
          kind: 'gauge',
          metric: {name: 'untouched_bytes', help: 'Writable private memory mapped and not yet resident (VmData + VmStk - RssAnon - VmSwap): what can still grow without a new mapping'},
          procStatus: {plus: ['VmData', 'VmStk'], minus: ['RssAnon', 'VmSwap']},
          unknown: 'a process whose /proc/PID/status memtop cannot read',
        },
        {id: 'count', title: 'EVENTS', totalTitle: 'TOTAL', unit: 'events', kind: 'counter', help: 'Changes of resident size the kernel reported (rss_stat events)'},
      ],
    },
  ],
  stackBytes: true,
  bpftrace: {
    views: {
      process: {
        scripts: [{file: 'growth.bt', label: 'tracepoint:kmem:rss_stat', requires: [{tracepoint: 'kmem/rss_stat'}, {tracepointField: ['kmem/rss_stat', 'curr']}]}],
        rows: {
          measures: {
            net: {from: ['anon', 'file'], minus: ['freed']},
            anon: {from: ['anon']},
            file: {from: ['file']},
            freed: {from: ['freed']},
            rss: {from: ['anon_now', 'file_now', 'shmem_now']},
            count: {from: ['grows']},
          },
          names: 'names',
        },
      },
    },
    stacks: {
      script: {file: 'stacks-growth.bt', label: 'tracepoint:kmem:rss_stat ustack + exceptions:page_fault_user address', requires: [{tracepoint: 'kmem/rss_stat'}, {tracepoint: 'exceptions/page_fault_user'}]},
      fallbacks: [{file: 'stacks-growth-noaddress.bt', label: 'tracepoint:kmem:rss_stat ustack', requires: [{tracepoint: 'kmem/rss_stat'}]}],
      read: {maps: [{key: 'stack,caller,region', count: 'stacks.count', bytes: 'stacks.total', where: 'where'}]},
    },
  },
  stap: {
    script: {file: 'growth.stp', label: 'kernel.trace("rss_stat") (global counts: within a per-CPU batch)'},
    stacks: {file: 'stacks-growth.stp', label: 'kernel.trace("rss_stat") ubacktrace'},
  },
  dtrace: {
    script: {file: 'growth.d', label: 'vminfo:::as_fault + curpsinfo->pr_rssize'},
    stacks: {file: 'stacks-growth.d', label: 'vminfo:::zfod ustack()'},
  },
} satisfies TabDefinition;
