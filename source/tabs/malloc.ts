// The malloc tab (see types.ts for what each field means).
import {count, bytes, LIVE_MAPS, byPid} from './measures.js';
import type {TabDefinition} from './types.js';

/** libc's allocator entry points, as frames of the drill-downs' stacks (pprof's drop_frames). */
const ALLOCATOR_FRAMES = 'malloc|calloc|realloc|reallocarray|posix_memalign|aligned_alloc|memalign|valloc|pvalloc';

export const malloc = {
  title: 'malloc',
  event: "uprobe on `malloc` of every allocator processes map (glibc, musl, jemalloc, tcmalloc, mimalloc, a static executable's own; request size = arg0) and on Go's `runtime.mallocgc` (size in AX); live: every entry and return, and `free`, of the C allocators",
  columns: 'calls, bytes requested; `l`: bytes and allocations outstanding, their growth, the oldest one\'s age',
  views: [
    {
      id: 'process',
      rows: 'process',
      label: 'by process',
      measures: [
        count('CALLS', {name: 'malloc_calls', help: 'malloc() calls'}),
        bytes('BYTES', {name: 'malloc_bytes', help: 'Bytes requested from malloc()'}),
      ],
    },
    {
      id: 'live',
      rows: 'process',
      label: 'live memory',
      rateTitle: 'GROWTH/s',
      // Gauges: --serve exports them only when --export names the view (live), for its cost.
      measures: [
        {id: 'bytes', title: 'LIVE', totalTitle: 'PEAK', unit: 'bytes', kind: 'gauge', metric: {name: 'live_bytes', help: 'Bytes allocated through libc since memtop started tracking and not freed yet'}},
        {id: 'count', title: 'ALLOCS', unit: 'events', kind: 'gauge', metric: {name: 'live_allocations', help: 'Allocations made through libc since memtop started tracking and not freed yet'}},
        {id: 'age', title: 'OLDEST', unit: 'seconds', kind: 'gauge', combine: 'max', help: 'Age of the oldest allocation not freed yet'},
      ],
      profile: {count: 'inuse_objects', bytes: 'inuse_space', drop: ALLOCATOR_FRAMES},
    },
  ],
  viewKey: {key: 'l', description: 'malloc: requests or live memory (allocated and not freed)'},
  stackBytes: true,
  stackHistogram: true,
  profile: {count: 'alloc_objects', bytes: 'alloc_space', drop: ALLOCATOR_FRAMES},
  bpftrace: {
    views: {
      process: {scripts: [{file: 'malloc.bt', label: 'uprobe:malloc of every allocator', requires: [{libc: true}], libc: true, allocators: 'calls'}], rows: byPid({count: {from: ['calls.count']}, bytes: {from: ['calls.total']}})},
      // A uprobe and a uretprobe on every allocator cost more than the requests' one uprobe: this runs only while the view is on screen.
      live: {
        scripts: [{file: 'malloc-live.bt', label: 'uprobe+uretprobe:malloc,calloc,realloc,...,free of every allocator', requires: [{libc: true}], libc: true, addressTable: true, allocators: 'live'}],
        rows: {measures: {}, live: LIVE_MAPS},
        stacks: {
          script: {file: 'stacks-malloc-live.bt', label: 'uprobe+uretprobe:the process\'s allocator, ustack at return', requires: [{libc: true}], libc: true, sample: true, addressTable: true, allocators: 'live'},
          read: {maps: [], live: {...LIVE_MAPS, stackBytes: 'stack_bytes', stackCount: 'stack_count', countScale: 1024}},
        },
      },
    },
    stacks: {
      script: {file: 'stacks-malloc.bt', label: 'uprobe:the process\'s malloc ustack', requires: [{libc: true}], libc: true, allocators: 'calls'},
      read: {maps: [{key: 'stack,caller', count: 'stacks.count', bytes: 'stacks.total'}], histogram: 'sizes', entryPoints: 'entry'},
    },
  },
  stap: {
    script: {file: 'malloc.stp', label: 'process("{libc}").function("malloc")', libc: true},
    stacks: {file: 'stacks-malloc.stp', label: 'process("{libc}").function("malloc") ubacktrace', libc: true},
    views: {
      live: {
        script: {file: 'malloc-live.stp', label: 'process("{libc}").function("malloc"...).return + free', libc: true},
        stacks: {file: 'stacks-malloc-live.stp', label: 'process("{libc}").function("malloc"...).return ubacktrace', libc: true, sample: true},
      },
    },
  },
  dtrace: {
    script: {file: 'malloc.d', label: 'pid$target::malloc:entry (only the --pid process)'},
    stacks: {file: 'stacks-malloc.d', label: 'pid$target::malloc:entry ustack()'},
    views: {
      live: {
        script: {file: 'malloc-live.d', label: 'pid$target::malloc...:return + free:entry (only the --pid process)'},
        stacks: {file: 'stacks-malloc-live.d', label: 'pid$target::malloc...:return by caller', sample: true},
      },
    },
    needsPid: true,
  },
} satisfies TabDefinition;
