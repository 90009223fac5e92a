// The tracers the bench compares: the bare bpftrace one-liner a user would type for each event,
// and memtop itself (batch mode), each started and waited on until its probes are attached.
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import type {TabId} from '../../../source/types.js';
import {findLibc} from '../../../source/system/kernel.js';
import {descendants} from './cleanup.js';
import {commOf, sleep, spawnChild, type Child} from './proc.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** The memtop the bench runs: dist/cli.js of this checkout, or another build (--memtop). */
export let MEMTOP_CLI = path.join(REPO, 'dist', 'cli.js');

export function useMemtop(cli: string): void {
  MEMTOP_CLI = path.resolve(cli);
}
export const BPFTRACE = '/usr/bin/bpftrace';

/** Extra environment for every memtop the bench starts (--memtop-env), to compare variants. */
export const MEMTOP_ENV: Record<string, string> = {};

/**
 * argv that runs memtop with `args` as the installed `memtop` command does: dist/cli.js itself,
 * so that the Node flags on its shebang line apply (and MEMTOP_ENV, through env(1)).
 */
export function memtopArgv(args: string[]): string[] {
  const env = Object.entries(MEMTOP_ENV).map(([key, value]) => `${key}=${value}`);
  return [...(env.length > 0 ? ['/usr/bin/env', ...env] : []), MEMTOP_CLI, ...args];
}

/** The same as one shell word list, for `sh -c`. */
export function memtopShell(args: string[]): string {
  return memtopArgv(args).map(word => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
}

/**
 * Positional parameters for a memtop-style script: interval 1000 ms, all rows, every pid, 0 for
 * any further number, and libc's path where a uprobe takes it (uprobe:$N:...).
 */
export function scriptArgs(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const highest = Math.max(3, ...[...text.matchAll(/\$(\d)/g)].map(match => Number(match[1])));
  const libcAt = /uprobe:\$(\d)/.exec(text)?.[1];
  const args = ['1000', '0', '0'];
  for (let index = 4; index <= highest; index++) args.push(String(index) === libcAt ? findLibc()! : '0');
  return args;
}

/** What a user would type to count the tab's event per process (the seed's way). */
export const ONE_LINERS: Readonly<Record<TabId, string>> = {
  malloc: 'uprobe:libc:malloc { @[pid, comm] = count(); }',
  brk: 'tracepoint:syscalls:sys_enter_brk { @[pid, comm] = count(); }',
  slab: 'tracepoint:kmem:kmem_cache_alloc, tracepoint:kmem:kmalloc { @[pid, comm] = count(); }',
  majfault: 'software:major-faults:1 { @[pid, comm] = count(); }',
  anonpgin: 'tracepoint:memcg:count_memcg_events /args->item == (int32)PSWPIN/ { @[pid, comm] = sum(args->val); }',
  minfault: 'software:minor-faults:1 { @[pid, comm] = count(); }',
  // Stalls per process with their time: what the tab shows without kswapd, pages and throttling.
  reclaim:
    'tracepoint:vmscan:mm_vmscan_direct_reclaim_begin, tracepoint:vmscan:mm_vmscan_memcg_reclaim_begin { @start[tid] = nsecs; } ' +
    'tracepoint:vmscan:mm_vmscan_direct_reclaim_end, tracepoint:vmscan:mm_vmscan_memcg_reclaim_end /@start[tid]/ { @[pid, comm] = stats(nsecs - @start[tid]); delete(@start[tid]); }',
  // Resident growth per process as the tracepoint's users write it: the sizes it reports, kept per mm.
  growth: 'tracepoint:kmem:rss_stat /args->curr/ { @[pid, comm, args->member] = max(args->size); }',
};

/** What a one-liner prints from BEGIN. */
const READY = 'memtop-bench-ready';

/**
 * After a tracer says it is attached, wait this long before starting the workload, so that the
 * workload does not share its first moments with the tracer's own start-up work.
 */
export const SETTLE_MS = 300;

/** A running tracer: its process, and for memtop the pid of its bpftrace child. */
export interface Tracer {
  kind: 'one-liner' | 'memtop';
  child: Child;
  /** performance.now() when it was attached (one-liner) or printed its first snapshot (memtop). */
  readyAt: number;
  /** memtop only: the first JSON snapshot. */
  first?: Record<string, unknown>;
  /** The bpftrace process doing the tracing (the one-liner itself, or memtop's child). */
  tracerPid(): number | undefined;
  stop(): Promise<void>;
}

/**
 * Start the bare one-liner for `tab` (optionally printing and clearing its map every
 * `printEveryMs`, as a user watching it would), and wait until it has attached.
 */
export async function startOneLiner(tab: TabId, options: {printEveryMs?: number; timeoutMs?: number} = {}): Promise<Tracer> {
  let program = ONE_LINERS[tab];
  if (options.printEveryMs) program += ` interval:ms:${options.printEveryMs} { print(@); clear(@); }`;
  return startProgram(`bpftrace one-liner (${tab})`, program, options);
}

/** Start a bpftrace program given as text and wait until it has attached. */
export async function startProgram(what: string, body: string, options: {timeoutMs?: number; env?: Record<string, string>} = {}): Promise<Tracer> {
  // BEGIN runs once every probe is attached, on every bpftrace release (whose "Attaching N probes"
  // line became "Attached N probes" on stderr in 0.24).
  const program = `BEGIN { printf("${READY}\\n"); } ${body}`;
  const child = spawnChild(what, BPFTRACE, ['-e', program], {keepLines: 50, ...(options.env ? {env: {...process.env, ...options.env}} : {})});
  const attached = await child.waitForLine(line => line.text.startsWith(READY), 'its BEGIN line', options.timeoutMs ?? 60_000);
  await sleep(SETTLE_MS);
  return {
    kind: 'one-liner',
    child,
    readyAt: attached.at,
    tracerPid: () => (child.hasExited() ? undefined : child.pid),
    stop: () => child.stop('SIGTERM'),
  };
}

/** Pid of the bpftrace that memtop (pid `memtopPid`) runs, if any. */
export function memtopTracerPid(memtopPid: number): number | undefined {
  return descendants(memtopPid).find(pid => commOf(pid) === 'bpftrace');
}

/** Start `memtop --batch --json --tab <tab> --interval <ms>` and wait for its first snapshot. */
export async function startMemtop(tab: TabId, options: {intervalMs?: number; timeoutMs?: number; extraArgs?: string[]; env?: Record<string, string>} = {}): Promise<Tracer> {
  const [file, ...args] = memtopArgv(['--batch', '--json', '--tab', tab, '--interval', String(options.intervalMs ?? 1000), ...(options.extraArgs ?? [])]);
  const child = spawnChild(`memtop --tab ${tab}`, file!, args, {keepLines: 20, ...(options.env ? {env: {...process.env, ...options.env}} : {})});
  const first = await child.waitForLine(line => line.stream === 'stdout' && line.text.startsWith('{'), 'its first JSON line', options.timeoutMs ?? 60_000);
  await sleep(SETTLE_MS);
  return {
    kind: 'memtop',
    child,
    readyAt: first.at,
    first: JSON.parse(first.text) as Record<string, unknown>,
    tracerPid: () => memtopTracerPid(child.pid),
    stop: () => child.stop('SIGTERM'),
  };
}
