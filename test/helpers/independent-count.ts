// An independent count of each tab's events per process, from bpftrace programs written here and
// not shared with memtop's probes/, to check memtop's numbers against.
import {readFileSync} from 'node:fs';
import type {TabId} from '../../source/types.js';
import {startLineChild, type LineChild} from './child-lines.js';

/** Counts of one process over the counter's lifetime. */
export interface ProcessCount {
  pid: number;
  /** The name the process had at its last event. */
  comm: string;
  /** Events (for anonpgin: pages swapped in, the sum of the tracepoint's val). */
  count: number;
}

/** A running counter. */
export interface IndependentCounter {
  tab: TabId;
  /** The bpftrace program, for messages. */
  program: string;
  process: LineChild;
  /** Stop it (SIGINT, so that bpftrace runs END and prints its maps) and return the counts by pid. */
  stop(): Promise<Map<number, ProcessCount>>;
}

/** Options of {@link startIndependentCounter}. */
export interface CounterOptions {
  /** Stop on its own after this long (otherwise it runs until `stop`). */
  durationMs?: number;
  /** How long to wait for bpftrace to attach (default 20 s: uprobes on libc take a while). */
  attachTimeoutMs?: number;
  bpftrace?: string;
}

/** The C library this process (and so, almost surely, the workloads) is linked with. */
export function libcPath(): string {
  const mapped = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .map(line => line.split(/\s+/)[5])
    .find(file => file !== undefined && /\/libc(?:-[\d.]+)?\.so(?:\.\d+)?$/.test(file));
  return mapped ?? 'libc';
}

/** The probes and the map update that count one tab's events, keyed by pid. */
function probesFor(tab: TabId): string {
  switch (tab) {
    case 'malloc':
      return `uprobe:${libcPath()}:malloc { @counts[pid] = count(); @comms[pid] = comm; }`;
    case 'brk':
      return 'tracepoint:syscalls:sys_enter_brk { @counts[pid] = count(); @comms[pid] = comm; }';
    case 'slab':
      return 'tracepoint:kmem:kmem_cache_alloc, tracepoint:kmem:kmalloc { @counts[pid] = count(); @comms[pid] = comm; }';
    case 'majfault':
      return 'software:major-faults:1 { @counts[pid] = count(); @comms[pid] = comm; }';
    case 'anonpgin':
      return 'tracepoint:memcg:count_memcg_events /args->item == PSWPIN/ { @counts[pid] = sum(args->val); @comms[pid] = comm; }';
  }
}

/** What the counter prints from BEGIN. */
const READY = 'memtop-test-counter-ready';

/**
 * The whole bpftrace program of a tab's counter. bpftrace prints its `attached_probes` line
 * before it attaches them (a workload started right then lost its first 13 ms of mallocs);
 * BEGIN fires once every probe is attached (bpftrace 0.17: its BEGIN output follows the
 * __BPFTRACE_NOTIFY_PROBES_ATTACHED line), so readiness is BEGIN's line.
 */
export function counterProgram(tab: TabId, durationMs?: number): string {
  const stopAfter = durationMs === undefined ? '' : ` interval:ms:${Math.max(1, Math.round(durationMs))} { exit(); }`;
  return `BEGIN { printf("${READY}\\n"); } ${probesFor(tab)}${stopAfter} END { print(@counts); print(@comms); clear(@counts); clear(@comms); }`;
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
  for (const record of records.filter(isMapRecord)) {
    Object.assign(counts, record.data['@counts'] ?? {});
    Object.assign(comms, record.data['@comms'] ?? {});
  }
  const result = new Map<number, ProcessCount>();
  for (const [pid, count] of Object.entries(counts)) {
    result.set(Number(pid), {pid: Number(pid), comm: String(comms[pid] ?? ''), count: Number(count)});
  }
  return result;
}

/**
 * Start a bpftrace counter for `tab` and resolve once its probes are attached (its BEGIN
 * line), so that every event after that is counted.
 */
export async function startIndependentCounter(tab: TabId, options: CounterOptions = {}): Promise<IndependentCounter> {
  const program = counterProgram(tab, options.durationMs);
  const child = startLineChild(options.bpftrace ?? 'bpftrace', ['-f', 'json', '-e', program], {
    what: `independent ${tab} counter (bpftrace)`,
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
      const exit = await child.stop('SIGINT', 5000);
      const counts = parseCounts(child.records);
      if (exit.exitCode !== 0 && counts.size === 0) {
        throw new Error(`independent ${tab} counter ended with ${JSON.stringify(exit)} and printed no counts\n${child.describe()}`);
      }
      return counts;
    },
  };
}
