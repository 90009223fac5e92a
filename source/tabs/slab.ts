// The slab tab (see types.ts for what each field means).
import {count, bytes, byPid} from './measures.js';
import type {Measure, TabDefinition} from './types.js';

/**
 * Allocations less frees per cache, and the bytes they hold. A free is counted whoever frees,
 * also with --pid: RCU callbacks free dentries and inodes in softirq. kmem_cache_alloc_bulk and
 * kmem_cache_free_bulk fire no tracepoint, and kfree (kfree_rcu) names no cache: a cache filled
 * or emptied so is not seen. SystemTap's and DTrace's scripts count no frees: their rows lack NET.
 * The help lines are short enough for a 140-column screen; readme.md says the rest.
 */
const NET: Measure[] = [
  {id: 'net', title: 'NET', totalTitle: 'TOT NET', unit: 'events', kind: 'counter', help: 'Allocations less frees, whoever frees', unknown: 'kmalloc-<size>: kfree names no cache'},
  {id: 'netBytes', title: 'NET B', totalTitle: 'TOT NET B', unit: 'bytes', kind: 'counter', help: "NET times the cache's object size", unknown: 'kmalloc-<size>, or a size not learnt yet'},
];

export const slab = {
  title: 'slab',
  event: '`kmem:kmem_cache_alloc` (cache name) and `kmem:kmalloc` (as `kmalloc-<size>`); by cache also `kmem:kmem_cache_free`',
  columns: 'allocations, bytes; `g` groups by process or by cache, where NET is allocations less frees',
  views: [
    {
      id: 'process',
      rows: 'process',
      label: 'by process',
      measures: [count('ALLOCS', {name: 'slab_allocations', help: 'Kernel slab allocations'}), bytes('BYTES', {name: 'slab_bytes', help: 'Bytes of kernel slab allocations'})],
    },
    {
      id: 'cache',
      rows: 'cache',
      label: 'by cache',
      measures: [count('ALLOCS', {name: 'slab_cache_allocations', help: 'Kernel slab allocations by cache'}), bytes('BYTES', {name: 'slab_cache_bytes', help: 'Bytes of kernel slab allocations by cache'}), ...NET],
    },
  ],
  viewKey: {key: 'g', description: 'slab: group by process or by cache'},
  stackBytes: true,
  profile: {count: 'alloc_objects', bytes: 'alloc_space'},
  bpftrace: {
    views: {
      process: {
        scripts: [{file: 'slab.bt', label: 'tracepoint:kmem:kmem_cache_alloc+kmalloc', requires: [{tracepoint: 'kmem/kmem_cache_alloc'}, {tracepoint: 'kmem/kmalloc'}], tracerPid: true}],
        rows: byPid({count: {from: ['proc.count']}, bytes: {from: ['proc.total']}}),
      },
      // Keying every allocation by a string costs as much again as counting it: this script runs only while the view is on screen.
      cache: {
        scripts: [
          {
            file: 'slab-cache.bt',
            label: 'tracepoint:kmem:kmem_cache_alloc+kmem_cache_free+kmalloc by cache',
            requires: [{tracepointField: ['kmem/kmem_cache_alloc', 'name']}, {tracepointField: ['kmem/kmem_cache_free', 'name']}, {tracepoint: 'kmem/kmalloc'}],
            quirk: {name: 'dataLocStringsBroken', present: false},
            tracerPid: true,
          },
          {
            // Where the tracepoints name the cache, the raw tracepoints' third argument is the cache.
            file: 'slab-cache-raw.bt',
            label: 'rawtracepoint:kmem_cache_alloc+kmem_cache_free+tracepoint:kmem:kmalloc by cache',
            requires: [{tracepointField: ['kmem/kmem_cache_alloc', 'name']}, {tracepointField: ['kmem/kmem_cache_free', 'name']}, {tracepoint: 'kmem/kmalloc'}],
            quirk: {name: 'dataLocStringsBroken', present: true},
            tracerPid: true,
          },
        ],
        rows: {
          measures: {count: {from: ['cache.count']}, bytes: {from: ['cache.total']}, net: {from: ['cache.count'], minus: ['freed']}},
          objectBytes: {netBytes: {objects: 'net', size: 'size'}},
          sizeClasses: 'kmalloc',
        },
      },
    },
    stacks: {
      script: {file: 'stacks-slab.bt', label: 'tracepoint:kmem ustack', requires: [{tracepoint: 'kmem/kmem_cache_alloc'}, {tracepoint: 'kmem/kmalloc'}]},
      read: {maps: [{key: 'stack,caller', count: 'stacks.count', bytes: 'stacks.total'}]},
    },
    cacheStacks: {
      scripts: [
        {
          file: 'stacks-slab-cache.bt',
          label: 'tracepoint:kmem:kmem_cache_alloc+kmalloc kstack',
          requires: [{tracepointField: ['kmem/kmem_cache_alloc', 'name']}, {tracepoint: 'kmem/kmalloc'}],
          quirk: {name: 'dataLocStringsBroken', present: false},
        },
        {
          file: 'stacks-slab-cache-raw.bt',
          label: 'rawtracepoint:kmem_cache_alloc+tracepoint:kmem:kmalloc kstack',
          requires: [{tracepointField: ['kmem/kmem_cache_alloc', 'name']}, {tracepoint: 'kmem/kmalloc'}],
          quirk: {name: 'dataLocStringsBroken', present: true},
        },
      ],
      read: {maps: [{key: 'kstack', count: 'stacks.count', bytes: 'stacks.total'}], processes: {map: 'procs', names: 'names'}, stays: {count: 'stay_count', bytes: 'stay_bytes', untracked: 'stay_untracked'}},
    },
  },
  stap: {
    script: {file: 'slab.stp', label: 'vm.kmem_cache_alloc + vm.kmalloc'},
    stacks: {file: 'stacks-slab.stp', label: 'vm.kmem_cache_alloc + vm.kmalloc ubacktrace'},
    cacheStacks: {file: 'stacks-slab-cache.stp', label: 'vm.kmem_cache_alloc + vm.kmalloc backtrace'},
  },
  dtrace: {
    script: {file: 'slab.d', label: 'fbt::kmem_cache_alloc:entry'},
    stacks: {file: 'stacks-slab.d', label: 'fbt::kmem_cache_alloc:entry ustack()'},
    cacheStacks: {file: 'stacks-slab-cache.d', label: 'fbt::kmem_cache_alloc:entry stack()'},
  },
} satisfies TabDefinition;
