// An independent count of each tab's events per process, from bpftrace programs written here and
// not shared with memtop's probes/, to check memtop's numbers against.
import {readFileSync} from 'node:fs';
import {tracerLibcEnv} from '../../source/backends/tracer-libc.js';
import type {TabId} from '../../source/types.js';
import {startLineChild, type LineChild} from './child-lines.js';

/** Counts of one process over the counter's lifetime. */
export interface ProcessCount {
  pid: number;
  /** The name the process had at its last event. */
  comm: string;
  /** Events (for anonpgin: pages swapped in, the sum of the tracepoint's val). */
  count: number;
  /** Bytes, when the counter was asked for them (malloc: requested; slab: allocated). */
  bytes?: number;
}

/** The counts of every process at one moment, from a counter that prints them periodically. */
export interface CountsAt {
  /** When, in ms of the monotonic clock that process.hrtime and bpftrace's nsecs both read. */
  monotonicMs: number;
  counts: Map<number, ProcessCount>;
}

/** A running counter. */
export interface IndependentCounter {
  tab: TabId;
  /** The bpftrace program, for messages. */
  program: string;
  process: LineChild;
  /** Stop it (SIGINT, so that bpftrace runs END and prints its maps) and return the counts by pid. */
  stop(): Promise<Map<number, ProcessCount>>;
  /** With everyMs: the counts printed so far, oldest first. */
  timeline(): CountsAt[];
}

/** Options of {@link startIndependentCounter}. */
export interface CounterOptions {
  /** Stop on its own after this long (otherwise it runs until `stop`). */
  durationMs?: number;
  /** How long to wait for bpftrace to attach (default 20 s: uprobes on libc take a while). */
  attachTimeoutMs?: number;
  bpftrace?: string;
  /** Count bytes too (malloc and slab; for reclaim, the pages reclaimed). */
  bytes?: boolean;
  /** Also print the counts so far this often, stamped with bpftrace's nsecs (see {@link CountsAt}). */
  everyMs?: number;
}

/** The C library this process (and so, almost surely, the workloads) is linked with. */
export function libcPath(): string {
  const mapped = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .map(line => line.split(/\s+/)[5])
    .find(file => file !== undefined && /\/libc(?:-[\d.]+)?\.so(?:\.\d+)?$/.test(file));
  return mapped ?? 'libc';
}

/** The probes and the map update that count one tab's events, keyed by pid (and their bytes, when asked and the tab has them). */
function probesFor(tab: TabId, bytes = false): string {
  switch (tab) {
    case 'malloc':
      return `uprobe:${libcPath()}:malloc { @counts[pid] = count(); @comms[pid] = comm;${bytes ? ' @bytes[pid] = sum(arg0);' : ''} }`;
    case 'brk':
      return 'tracepoint:syscalls:sys_enter_brk { @counts[pid] = count(); @comms[pid] = comm; }';
    case 'slab':
      return `tracepoint:kmem:kmem_cache_alloc, tracepoint:kmem:kmalloc { @counts[pid] = count(); @comms[pid] = comm;${bytes ? ' @bytes[pid] = sum(args->bytes_alloc);' : ''} }`;
    case 'majfault':
      return 'software:major-faults:1 { @counts[pid] = count(); @comms[pid] = comm; }';
    case 'anonpgin':
      return 'tracepoint:memcg:count_memcg_events /args->item == PSWPIN/ { @counts[pid] = sum(args->val); @comms[pid] = comm; }';
    case 'minfault':
      return 'software:minor-faults:1 { @counts[pid] = count(); @comms[pid] = comm; }';
    case 'reclaim':
      // Stalls counted as they end, as memtop counts them; with bytes, the pages they reclaimed.
      return `tracepoint:vmscan:mm_vmscan_direct_reclaim_end, tracepoint:vmscan:mm_vmscan_memcg_reclaim_end { @counts[pid] = count(); @comms[pid] = comm;${bytes ? ' @bytes[pid] = sum(args->nr_reclaimed);' : ''} }`;
    case 'growth':
      // Changes of the running task's own anonymous resident pages (its growth, fault by fault); with bytes, the bytes they added.
      return `tracepoint:kmem:rss_stat /args->curr && args->member == 1/ { $size = args->size; if (@last[pid] != 0 && $size + 1 > @last[pid]) { @counts[pid] = count(); @comms[pid] = comm;${bytes ? ' @bytes[pid] = sum($size + 1 - @last[pid]);' : ''} } @last[pid] = $size + 1; }`;
  }
}

/** What the counter prints from BEGIN. */
const READY = 'memtop-test-counter-ready';

/** What a periodic print of the counts starts with, before bpftrace's nsecs. */
const AT = 'memtop-test-counter-at ';

/**
 * The whole bpftrace program of a tab's counter. bpftrace prints its `attached_probes` line
 * before it attaches them (a workload started right then lost its first 13 ms of mallocs);
 * BEGIN fires once every probe is attached (bpftrace 0.17: its BEGIN output follows the
 * __BPFTRACE_NOTIFY_PROBES_ATTACHED line), so readiness is BEGIN's line.
 */
export function counterProgram(tab: TabId, durationMs?: number, options: {bytes?: boolean; everyMs?: number} = {}): string {
  const stopAfter = durationMs === undefined ? '' : ` interval:ms:${Math.max(1, Math.round(durationMs))} { exit(); }`;
  const bytes = options.bytes === true && (tab === 'malloc' || tab === 'slab' || tab === 'reclaim' || tab === 'growth');
  const every = options.everyMs === undefined ? '' : ` interval:ms:${Math.max(1, Math.round(options.everyMs))} { printf("${AT}%lld\\n", nsecs); print(@counts);${bytes ? ' print(@bytes);' : ''} }`;
  const end = bytes ? 'print(@counts); print(@comms); print(@bytes); clear(@counts); clear(@comms); clear(@bytes);' : 'print(@counts); print(@comms); clear(@counts); clear(@comms);';
  return `BEGIN { printf("${READY}\\n"); } ${probesFor(tab, bytes)}${stopAfter}${every} END { ${end} }`;
}


interface MapRecord {
  type: 'map';
  data: Record<string, Record<string, number | string>>;
}

function isMapRecord(record: Record<string, unknown>): record is Record<string, unknown> & MapRecord {
  return record.type === 'map' && typeof record.data === 'object' && record.data !== null;
}

/** Read the @counts and @comms maps bpftrace printed (`-f json`) into counts by pid. */
export function parseCounts(records: Record<string, unknown>[]): Map<number, ProcessCount> {
  const counts: Record<string, number | string> = {};
  const comms: Record<string, number | string> = {};
  const bytes: Record<string, number | string> = {};
  for (const record of records.filter(isMapRecord)) {
    Object.assign(counts, record.data['@counts'] ?? {});
    Object.assign(comms, record.data['@comms'] ?? {});
    Object.assign(bytes, record.data['@bytes'] ?? {});
  }
  const result = new Map<number, ProcessCount>();
  for (const [pid, count] of Object.entries(counts)) {
    result.set(Number(pid), {pid: Number(pid), comm: String(comms[pid] ?? ''), count: Number(count), ...(pid in bytes ? {bytes: Number(bytes[pid])} : {})});
  }
  return result;
}

/** The periodic prints of a counter started with everyMs: each stamp and the maps printed after it. */
export function parseTimeline(records: Record<string, unknown>[]): CountsAt[] {
  const timeline: CountsAt[] = [];
  let current: Record<string, unknown>[] | undefined;
  let at = 0;
  const close = () => {
    if (current) timeline.push({monotonicMs: at, counts: parseCounts(current)});
  };
  for (const record of records) {
    if (record.type === 'printf' && String(record.data).startsWith(AT)) {
      close();
      at = Number(String(record.data).slice(AT.length).trim()) / 1e6;
      current = [];
    } else if (current && isMapRecord(record)) {
      current.push(record);
    }
  }
  close();
  return timeline;
}

/**
 * The environment a test's own bpftrace runs in: on a private copy of libc, as memtop's tracers
 * are. A counter started while memtop's (or another counter's) malloc probes are on would
 * otherwise trap on each of its own startup mallocs, once per probe: ~660,000 of them on 0.27,
 * and a brk counter started after the malloc one in the exporter test took over 20 s to attach in
 * CI. The copy changes only which file the counter itself runs on; what it probes is named by path.
 */
export async function counterEnv(bpftrace = 'bpftrace'): Promise<Record<string, string>> {
  return tracerLibcEnv(bpftrace);
}

/**
 * Start a bpftrace counter for `tab` and resolve once its probes are attached (its BEGIN
 * line), so that every event after that is counted.
 */
export async function startIndependentCounter(tab: TabId, options: CounterOptions = {}): Promise<IndependentCounter> {
  const program = counterProgram(tab, options.durationMs, options);
  const bpftrace = options.bpftrace ?? 'bpftrace';
  const child = startLineChild(bpftrace, ['-f', 'json', '-e', program], {
    what: `independent ${tab} counter (bpftrace)`,
    env: await counterEnv(bpftrace),
  });
  try {
    await child.waitForRecord(
      record => record.type === 'printf' && String(record.data).startsWith(READY),
      'its BEGIN line (probes attached)',
      options.attachTimeoutMs ?? 20_000,
    );
  } catch (error) {
    await child.stop('SIGKILL');
    throw error;
  }
  return {
    tab,
    program,
    process: child,
    async stop() {
      // A clean exit takes ~0.2 s here; detaching waits for kernel grace periods, which other tracing
      // on the machine can stretch to seconds.
      const exit = await child.stop('SIGINT', 20_000);
      const counts = parseCounts(child.records);
      if (exit.exitCode !== 0 && counts.size === 0) {
        throw new Error(`independent ${tab} counter ended with ${JSON.stringify(exit)} and printed no counts\n${child.describe()}`);
      }
      return counts;
    },
    timeline: () => parseTimeline(child.records),
  };
}
