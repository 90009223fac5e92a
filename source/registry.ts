// The tabs, each defined once: what it counts, its views and their measures (and so its columns,
// batch JSON, recording and metrics), the script each tracer runs for it, and how their output
// maps to rows and stacks. Everything that knows about a tab reads it from here: the tab bar,
// keys, help, footer, --help, --check, the parsers, the model and the readme's tables (a test
// checks those). Pure data and pure functions only.

/**
 * What a measure is counted in, and so how it is shown. A measure in ms is a time: every
 * tracer's script counts it in nanoseconds (what their clocks give), and the readers turn it
 * into milliseconds (see fromTracer). One in seconds is an age memtop works out itself (the
 * live view's oldest allocation).
 */
export type Unit = 'events' | 'bytes' | 'pages' | 'ms' | 'seconds';

/**
 * How a measure adds up over time: a counter is summed per interval and since memtop started;
 * a max is the largest value in an interval (and since start); a gauge is the value now (bytes
 * outstanding), not a sum over intervals: its since-start twin, when it has one, is its peak.
 */
export type MeasureKind = 'counter' | 'max' | 'gauge';

/** One number each row of a view carries per interval. */
export interface Measure {
  /** Its key in rows, batch JSON and recordings ("count", "bytes"); totals are total<Id>. */
  id: string;
  /** Column title of the interval's value. */
  title: string;
  /**
   * Column title of the value since memtop started (of a gauge: its peak since its view
   * opened). A gauge without one has no since-start column or JSON field.
   */
  totalTitle?: string;
  unit: Unit;
  kind: MeasureKind;
  /** How two rows of one key in one interval combine: summed (counters, gauges) or the larger kept (a max, an age). */
  combine?: 'sum' | 'max';
  /**
   * Prometheus metric (memtop_ prefix added): of a counter, the value since start (_total
   * suffix added); of a gauge, the value now. A time (unit ms) is exported in seconds,
   * Prometheus' base unit: name it _seconds.
   */
  metric?: {name: string; help: string};
}

/** A measure's value as a tracer's script printed it, in the measure's unit: nanoseconds become ms. */
export function fromTracer(unit: Unit, value: number): number {
  return unit === 'ms' ? value / 1e6 : value;
}

/** Whether rows of a view are processes or slab caches. */
export type RowKind = 'process' | 'cache';

/** The ways a tab can group its rows, or what it shows of them (live: memory outstanding now). */
export type ViewId = 'process' | 'cache' | 'live';

/** A grouping of a tab's events into rows, with its measures. The first view of a tab is its default. */
export interface ViewDefinition {
  id: ViewId;
  rows: RowKind;
  /** What the status line says of it ("by process"). */
  label: string;
  /** Measures left to right; the first is the one ranked, rated and drawn as a trend by default. */
  measures: Measure[];
  /** Title of the first measure's change per second (default "/s"; of a gauge, its growth). */
  rateTitle?: string;
}

/** Whether a view shows gauges (the value now): a row its tracer no longer reports is gone, not idle. */
export function isGaugeView(view: ViewDefinition): boolean {
  return view.measures.every(measure => measure.kind === 'gauge');
}

/**
 * Something a probe needs from this machine. memtop checks it before choosing a script, and
 * --check names what is missing.
 */
export type Requirement =
  | {tracepoint: string}
  | {tracepointField: [tracepoint: string, field: string]}
  | {kprobe: string}
  | {libc: true};

/** The bpftrace release facts a script may depend on (see backends/bpftrace-version.ts). */
export type BpftraceQuirk = 'dataLocStringsBroken';

/** One script a tracer can run for a view, in order of preference among its alternatives. */
export interface ScriptChoice {
  /** File in probes/<tracer>/. */
  file: string;
  /** The probe as the status line names it. */
  label: string;
  requires?: Requirement[];
  /** bpftrace only: run this script only where the release has (true) or lacks (false) the quirk. */
  quirk?: {name: BpftraceQuirk; present: boolean};
  /** Takes libc's path after the interval and the pid. */
  libc?: boolean;
  /** Takes, after libc's path, how many bytes of allocations one stack stands for (0: a stack for every allocation). */
  sample?: boolean;
  /** Keeps every outstanding allocation in a map: its maps are sized for that (MEMTOP_LIVE_KEYS_MAX), not by MEMTOP_MAP_KEYS_MAX. */
  addressTable?: boolean;
}

/** A measure read from bpftrace maps: the sum of `from` minus the sum of `minus`. */
export interface MapMeasure {
  /** Map name without @ and without the _a/_b of the double buffer; "map.count" or "map.total" read a stats() value. */
  from: string[];
  minus?: string[];
}

/**
 * A live view's maps, printed every interval and never cleared: signed sums of bytes and of
 * allocations outstanding keyed "pid,class", when each age class began (bpftrace nsecs, keyed
 * by class), and the allocations that could not be tracked.
 */
export interface LiveMaps {
  bytes: string;
  count: string;
  epochs: string;
  untracked: string;
}

/** How one view's bpftrace output maps to rows. */
export interface BpftraceRows {
  /** Each measure's maps, keyed "pid", "pid,comm" or by cache name. */
  measures: Record<string, MapMeasure>;
  /** A map keyed by kmalloc size class whose values are allocations: rows "kmalloc-<size>", bytes = size x count. */
  sizeClasses?: string;
  /** A map pid -> name of the processes that exited during the interval. */
  names?: string;
  /** A live view: rows of outstanding bytes, count and the oldest age (measures bytes, count, age) from these maps. */
  live?: LiveMaps;
}

/** The shape of a bpftrace stack map's key. */
export type StackKey =
  /** "<ustack>,<symbol at the stack pointer>": the caller the frame-pointer chain misses. */
  | 'stack,caller'
  /** "<ustack>,<symbol at the stack pointer>,<address / 2 MiB>": the same, by region of the faulting address. */
  | 'stack,caller,region'
  /** A kernel stack alone (a cache's drill-down): frames as the kernel's symbols name them. */
  | 'kstack'
  /** "<sbrk ustack>,<caller>,<allocator ustack>,<caller>": sbrk joined to the allocator call that grew the heap. */
  | 'sbrk,allocator';

/**
 * Stack maps of a drill-down: events from `count`, bytes from `bytes` (minus `minus`), time
 * from `ns` (a stats() total in nanoseconds) and, for a 'stack,caller,region' key, the highest
 * faulting address of each region from `where`.
 */
export interface BpftraceStackMap {
  key: StackKey;
  count: string;
  bytes?: string;
  minus?: string;
  ns?: string;
  where?: string;
}

/**
 * A live drill-down's maps besides the process's own (LiveMaps): outstanding bytes and
 * allocations per stack keyed "<ustack>,class", the allocations scaled by `countScale`
 * (estimates where stacks are sampled).
 */
export interface LiveStackMaps extends LiveMaps {
  stackBytes: string;
  stackCount: string;
  countScale: number;
}

export interface BpftraceStacks {
  maps: BpftraceStackMap[];
  /** A live drill-down: stacks of outstanding memory by age class, instead of `maps`. */
  live?: LiveStackMaps;
  /** The processes behind the stacks: a stats() map keyed by pid (count, total = bytes), and the names of those that exited. */
  processes?: {map: string; names: string};
  /** A hist() of request sizes (malloc) or of the events' lengths in microseconds (see TabDefinition.stackHistogram). */
  histogram?: string;
  /** Calls per allocator entry point, keyed by name. */
  entryPoints?: string;
}

/**
 * A drill-down's bpftrace script and how to read it: `script` or, where it cannot run, the
 * first of `fallbacks` that can (read the same way).
 */
export interface BpftraceDrill {
  script: ScriptChoice;
  fallbacks?: ScriptChoice[];
  read: BpftraceStacks;
}

/** A tab's bpftrace scripts and how to read them. */
export interface BpftraceDefinition {
  /** Each view's scripts, rows, and its own drill-down where it is not the tab's. */
  views: Partial<Record<ViewId, {scripts: ScriptChoice[]; rows: BpftraceRows; stacks?: BpftraceDrill}>>;
  /** The drill-down into a process row: its user stacks. */
  stacks: BpftraceDrill;
  /**
   * The drill-down into a cache row: the kernel paths that allocate from it, filtered in the
   * kernel by the cache's name ($2) and kmalloc size class ($3).
   */
  cacheStacks?: {scripts: ScriptChoice[]; read: BpftraceStacks};
}

/**
 * A tab's SystemTap scripts: one per tab (it prints every view it has) and one drill-down. A
 * label's {libc} is the libc probed and {swap_read} the swap read function this kernel has.
 */
export interface StapDefinition {
  script: ScriptChoice;
  stacks: ScriptChoice;
  /** A view that has scripts of its own (a live view), and its drill-down. */
  views?: Partial<Record<ViewId, {script: ScriptChoice; stacks: ScriptChoice}>>;
  /** The drill-down into a cache row (cache name @2, size class $3). */
  cacheStacks?: ScriptChoice;
}

/** A tab's D scripts. */
export interface DtraceDefinition {
  script: ScriptChoice;
  stacks: ScriptChoice;
  /** A view that has scripts of its own (a live view), and its drill-down. */
  views?: Partial<Record<ViewId, {script: ScriptChoice; stacks: ScriptChoice}>>;
  /** The drill-down into a cache row (cache name $$2, size class $3). */
  cacheStacks?: ScriptChoice;
  /** The pid provider traces one process: the tab needs --pid. */
  needsPid?: boolean;
}

/** One tab. */
export interface TabDefinition {
  /** The tab's name in the tab bar, help and readme (its key in DEFINITIONS is its id: --tab, narrow tab bars). */
  title: string;
  /** The event, for readme's tab table (markdown). */
  event: string;
  /** Columns, for readme's tab table (markdown). */
  columns: string;
  views: ViewDefinition[];
  /** The key that cycles the views, when there is more than one. */
  viewKey?: {key: string; description: string};
  /** The drill-down's stacks carry bytes. */
  stackBytes: boolean;
  /** The drill-down's stacks carry the time their events took (ms). */
  stackTime?: boolean;
  /**
   * The drill-down's histogram: request sizes with the allocator entry points (true, malloc),
   * or the events' lengths ('latency', in microseconds as tracers print them).
   */
  stackHistogram?: true | 'latency';
  bpftrace: BpftraceDefinition;
  stap: StapDefinition;
  dtrace: DtraceDefinition;
}

const count = (title: string, metric?: Measure['metric'], unit: Unit = 'events'): Measure => ({id: 'count', title, totalTitle: 'TOTAL', unit, kind: 'counter', ...(metric ? {metric} : {})});
const bytes = (title: string, metric?: Measure['metric']): Measure => ({id: 'bytes', title, totalTitle: `TOT ${title}`, unit: 'bytes', kind: 'counter', ...(metric ? {metric} : {})});

/** The maps of malloc-live.bt and stacks-malloc-live.bt. */
const LIVE_MAPS: LiveMaps = {bytes: 'bytes', count: 'count', epochs: 'epochs', untracked: 'untracked'};

/** Double-buffered pid-keyed rows with the names of exited processes. */
const byPid = (measures: Record<string, MapMeasure>): BpftraceRows => ({measures, names: 'names'});

const DEFINITIONS = {
  malloc: {
    title: 'malloc',
    event: "uprobe on libc's `malloc` (request size = arg0); live: every allocator's entry and return, and `free`",
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
        // No metric: --serve exports counters (totals that only grow, top N plus "other"); the
        // live view's gauges are what is outstanding now and would need their own series model.
        measures: [
          {id: 'bytes', title: 'LIVE', totalTitle: 'PEAK', unit: 'bytes', kind: 'gauge'},
          {id: 'count', title: 'ALLOCS', unit: 'events', kind: 'gauge'},
          {id: 'age', title: 'OLDEST', unit: 'seconds', kind: 'gauge', combine: 'max'},
        ],
      },
    ],
    viewKey: {key: 'l', description: 'malloc: requests or live memory (allocated and not freed)'},
    stackBytes: true,
    stackHistogram: true,
    bpftrace: {
      views: {
        process: {scripts: [{file: 'malloc.bt', label: 'uprobe:libc:malloc', requires: [{libc: true}], libc: true}], rows: byPid({count: {from: ['calls.count']}, bytes: {from: ['calls.total']}})},
        // A uprobe and a uretprobe on every allocator cost more than the requests' one uprobe: this runs only while the view is on screen.
        live: {
          scripts: [{file: 'malloc-live.bt', label: 'uprobe+uretprobe:libc:malloc,calloc,realloc,...,free', requires: [{libc: true}], libc: true, addressTable: true}],
          rows: {measures: {}, live: LIVE_MAPS},
          stacks: {
            script: {file: 'stacks-malloc-live.bt', label: 'uprobe+uretprobe:libc allocators, ustack at return', requires: [{libc: true}], libc: true, sample: true, addressTable: true},
            read: {maps: [], live: {...LIVE_MAPS, stackBytes: 'stack_bytes', stackCount: 'stack_count', countScale: 1024}},
          },
        },
      },
      stacks: {
        script: {file: 'stacks-malloc.bt', label: 'uprobe:libc:malloc ustack', requires: [{libc: true}], libc: true},
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
  },
  brk: {
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
  },
  slab: {
    title: 'slab',
    event: '`kmem:kmem_cache_alloc` (cache name) and `kmem:kmalloc` (as `kmalloc-<size>`)',
    columns: 'allocations, bytes; `g` groups by process or by cache',
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
        measures: [count('ALLOCS', {name: 'slab_cache_allocations', help: 'Kernel slab allocations by cache'}), bytes('BYTES', {name: 'slab_cache_bytes', help: 'Bytes of kernel slab allocations by cache'})],
      },
    ],
    viewKey: {key: 'g', description: 'slab: group by process or by cache'},
    stackBytes: true,
    bpftrace: {
      views: {
        process: {
          scripts: [{file: 'slab.bt', label: 'tracepoint:kmem:kmem_cache_alloc+kmalloc', requires: [{tracepoint: 'kmem/kmem_cache_alloc'}, {tracepoint: 'kmem/kmalloc'}]}],
          rows: byPid({count: {from: ['proc.count']}, bytes: {from: ['proc.total']}}),
        },
        // Keying every allocation by a string costs as much again as counting it: this script runs only while the view is on screen.
        cache: {
          scripts: [
            {
              file: 'slab-cache.bt',
              label: 'tracepoint:kmem:kmem_cache_alloc+kmalloc by cache',
              requires: [{tracepointField: ['kmem/kmem_cache_alloc', 'name']}, {tracepoint: 'kmem/kmalloc'}],
              quirk: {name: 'dataLocStringsBroken', present: false},
            },
            {
              // Where the tracepoint names the cache, the raw tracepoint's third argument is the cache.
              file: 'slab-cache-raw.bt',
              label: 'rawtracepoint:kmem_cache_alloc+tracepoint:kmem:kmalloc by cache',
              requires: [{tracepointField: ['kmem/kmem_cache_alloc', 'name']}, {tracepoint: 'kmem/kmalloc'}],
              quirk: {name: 'dataLocStringsBroken', present: true},
            },
          ],
          rows: {measures: {count: {from: ['cache.count']}, bytes: {from: ['cache.total']}}, sizeClasses: 'kmalloc'},
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
        read: {maps: [{key: 'kstack', count: 'stacks.count', bytes: 'stacks.total'}], processes: {map: 'procs', names: 'names'}},
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
  },
  majfault: {
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
  },
  anonpgin: {
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
  },
  minfault: {
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
          {id: 'major', title: 'MAJOR', totalTitle: 'TOT MAJOR', unit: 'events', kind: 'counter'},
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
  },
  reclaim: {
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
          {id: 'maxMs', title: 'LONGEST', totalTitle: 'MAX EVER', unit: 'ms', kind: 'max'},
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
  },
} satisfies Record<string, TabDefinition>;

/** A tab's id: its key in DEFINITIONS. */
export type TabId = keyof typeof DEFINITIONS;

/** Every tab, in the tab bar's order (key 1 first). */
export const TAB_IDS = Object.keys(DEFINITIONS) as TabId[];

/** Every tab's definition. */
export const TABS: Readonly<Record<TabId, TabDefinition>> = DEFINITIONS;

/** Whether a string names a tab. */
export function isTabId(value: unknown): value is TabId {
  return typeof value === 'string' && Object.hasOwn(DEFINITIONS, value);
}

/** The key that selects a tab: its place in the tab bar, from 1. */
export function tabKey(tab: TabId): string {
  return String(TAB_IDS.indexOf(tab) + 1);
}

/** A tab's view, or its first (default) view when it has no such view. */
export function viewOf(tab: TabId, view: ViewId | undefined): ViewDefinition {
  const views = TABS[tab].views;
  return views.find(candidate => candidate.id === view) ?? views[0]!;
}

/** Whether a tab has this view. */
export function hasView(tab: TabId, view: ViewId): boolean {
  return TABS[tab].views.some(candidate => candidate.id === view);
}

/** The view after `view` on a tab (wrapping round); the same view when the tab has one. */
export function nextView(tab: TabId, view: ViewId): ViewId {
  const views = TABS[tab].views;
  const index = views.findIndex(candidate => candidate.id === view);
  return views[(index + 1) % views.length]!.id;
}

/** The key a measure's since-start total has in rows and batch JSON: count -> totalCount. */
export function totalKey(measure: string): string {
  return `total${measure.charAt(0).toUpperCase()}${measure.slice(1)}`;
}

/** Each measure's unit, by id. */
export function unitsOf(view: ViewDefinition): Record<string, Unit> {
  return Object.fromEntries(view.measures.map(measure => [measure.id, measure.unit]));
}

/** Whether a view measures bytes. */
export function hasBytes(view: ViewDefinition): boolean {
  return view.measures.some(measure => measure.id === 'bytes');
}

/**
 * The view whose own drill-down Enter opens from `view` (the live view's stacks of outstanding
 * memory), or undefined when the view drills into the tab's drill-down.
 */
export function drillView(tab: TabId, view: ViewId | undefined): ViewId | undefined {
  return view !== undefined && TABS[tab].bpftrace.views[view]?.stacks !== undefined ? view : undefined;
}

/** The bpftrace drill-down a view opens: its own, or the tab's. */
export function bpftraceDrill(tab: TabId, view: ViewId | undefined): BpftraceDrill {
  return (view !== undefined ? TABS[tab].bpftrace.views[view]?.stacks : undefined) ?? TABS[tab].bpftrace.stacks;
}

/** A tab's SystemTap or DTrace script and drill-down for a view: the view's own where it has them. */
export function tracerScripts(definition: StapDefinition | DtraceDefinition, view: ViewId | undefined): {script: ScriptChoice; stacks: ScriptChoice} {
  return (view !== undefined ? definition.views?.[view] : undefined) ?? {script: definition.script, stacks: definition.stacks};
}
