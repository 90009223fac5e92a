// Section 2: memtop's own cost while all five workloads are busy: CPU seconds per second of its
// Node process and of its bpftrace child (user and system apart), and its peak RSS. The bare
// one-liner, printing and clearing its map every interval as a user watching it would, runs
// alongside as the reference measured in the same windows.
import type {TabId} from '../../source/types.js';
import {cpuSeconds, cpuSecondsPrecise, sleep, statusKb} from './lib/proc.js';
import {memtopArgv, memtopTracerPid, startMemtop, startOneLiner} from './lib/tracers.js';
import {openSession} from './lib/tmux.js';
import {showsData} from './lib/screen.js';
import {waitForQuiet} from './lib/quiet.js';
import {againstTarget, fixed, median, medianRatio, table} from './lib/stats.js';

/** memtop --batch --json (output read and dropped by the bench), or the TUI in a 120x40 tmux window. */
export type CostMode = 'batch' | 'tui';

export interface CostOptions {
  tabs: TabId[];
  modes: CostMode[];
  /** Windows to take the median over. */
  runs: number;
  seconds: number;
  quietWaitMs: number;
  log: (text: string) => void;
}

/** CPU seconds per second in one window: user and system from /proc/<pid>/stat, total from schedstat. */
interface Window {
  nodeUser: number;
  nodeSystem: number;
  nodeTotal: number;
  tracerUser: number;
  tracerSystem: number;
  tracerTotal: number;
  refUser: number;
  refSystem: number;
  refTotal: number;
}

interface Reading {
  node?: {user: number; system: number};
  tracer?: {user: number; system: number};
  ref?: {user: number; system: number};
  nodeTotal?: number;
  tracerTotal?: number;
  refTotal?: number;
}

function windowOf(before: Reading, after: Reading, seconds: number): Window | undefined {
  if (!before.node || !before.tracer || !before.ref || !after.node || !after.tracer || !after.ref) return undefined;
  if (before.nodeTotal === undefined || before.tracerTotal === undefined || before.refTotal === undefined) return undefined;
  if (after.nodeTotal === undefined || after.tracerTotal === undefined || after.refTotal === undefined) return undefined;
  const node = perSecond(before.node, after.node, seconds);
  const tracer = perSecond(before.tracer, after.tracer, seconds);
  const ref = perSecond(before.ref, after.ref, seconds);
  return {
    nodeUser: node.user,
    nodeSystem: node.system,
    nodeTotal: (after.nodeTotal - before.nodeTotal) / seconds,
    tracerUser: tracer.user,
    tracerSystem: tracer.system,
    tracerTotal: (after.tracerTotal - before.tracerTotal) / seconds,
    refUser: ref.user,
    refSystem: ref.system,
    refTotal: (after.refTotal - before.refTotal) / seconds,
  };
}

export interface TabCost {
  tab: TabId;
  mode: CostMode;
  windows: Window[];
  /** Whole run, CPU seconds per second. */
  total: Window;
  nodeHwmKb: number;
  tracerHwmKb: number;
  refHwmKb: number;
  foreign: string[];
}

const WARM_UP_MS = 2000;

function perSecond(before: {user: number; system: number}, after: {user: number; system: number}, seconds: number) {
  return {user: (after.user - before.user) / seconds, system: (after.system - before.system) / seconds};
}

/** A running memtop for the cost section: its Node pid, and how to stop it. */
async function startForCost(tab: TabId, mode: CostMode, index: number): Promise<{pid: number; stop: () => Promise<void>; tail: () => string}> {
  if (mode === 'batch') {
    const memtop = await startMemtop(tab);
    return {pid: memtop.child.pid, stop: () => memtop.stop(), tail: () => memtop.child.tail()};
  }
  const session = openSession(`cost${index}`, memtopArgv(['--tab', tab, '--interval', '1000']));
  await session.waitFor(showsData(tab), `${tab} rows`, 30_000);
  return {
    pid: session.panePid,
    async stop() {
      session.keys(['q']);
      await sleep(1000);
      session.kill();
    },
    tail: () => session.capture().lines.join('\n'),
  };
}

export async function measureCost(options: CostOptions): Promise<TabCost[]> {
  const results: TabCost[] = [];
  let index = 0;
  for (const tab of options.tabs) {
    for (const mode of options.modes) {
      const foreign = await waitForQuiet(options.quietWaitMs, options.log);
      options.log(`cost: ${tab} (${mode}): ${options.seconds}s in ${options.runs} windows`);
      const memtop = await startForCost(tab, mode, index++);
      const reference = await startOneLiner(tab, {printEveryMs: 1000});
      try {
        await sleep(WARM_UP_MS);
        const tracerPid = memtopTracerPid(memtop.pid);
        if (tracerPid === undefined) throw new Error(`memtop --tab ${tab} has no bpftrace child:\n${memtop.tail()}`);
        const pids = {node: memtop.pid, tracer: tracerPid, ref: reference.child.pid};
        const read = (): Reading => ({
          node: cpuSeconds(pids.node),
          tracer: cpuSeconds(pids.tracer),
          ref: cpuSeconds(pids.ref),
          nodeTotal: cpuSecondsPrecise(pids.node),
          tracerTotal: cpuSecondsPrecise(pids.tracer),
          refTotal: cpuSecondsPrecise(pids.ref),
        });
        const windowMs = (options.seconds * 1000) / options.runs;
        const windows: Window[] = [];
        const first = read();
        const firstAt = performance.now();
        let previous = first;
        let previousAt = firstAt;
        for (let window = 0; window < options.runs; window++) {
          await sleep(windowMs * (window + 1) - (performance.now() - firstAt));
          const now = read();
          const at = performance.now();
          const measured = windowOf(previous, now, (at - previousAt) / 1000);
          if (!measured) throw new Error(`a process of the ${tab} (${mode}) cost run has exited:\n${memtop.tail()}`);
          windows.push(measured);
          previous = now;
          previousAt = at;
        }
        const total = windowOf(first, previous, (previousAt - firstAt) / 1000)!;
        results.push({
          tab,
          mode,
          windows,
          total,
          nodeHwmKb: statusKb(pids.node, 'VmHWM') ?? Number.NaN,
          tracerHwmKb: statusKb(pids.tracer, 'VmHWM') ?? Number.NaN,
          refHwmKb: statusKb(pids.ref, 'VmHWM') ?? Number.NaN,
          foreign,
        });
      } finally {
        await memtop.stop();
        await reference.stop();
      }
    }
  }
  return results;
}

const percent = (value: number) => fixed(value * 100, 2);

export function costTable(results: TabCost[], options: {runs: number; seconds: number}): string {
  const rows = results.map(result => {
    const pick = (key: keyof Window) => result.windows.map(window => window[key]);
    const nodeTotal = pick('nodeTotal');
    const tracerTotal = pick('tracerTotal');
    const refTotal = pick('refTotal');
    return [
      `${result.tab} ${result.mode}`,
      percent(median(pick('nodeUser'))),
      percent(median(pick('nodeSystem'))),
      againstTarget(median(nodeTotal) * 100, 1),
      againstTarget(result.nodeHwmKb / 1024, 70, 1),
      againstTarget(median(pick('tracerUser')) * 100, 1),
      percent(median(pick('tracerSystem'))),
      percent(median(tracerTotal)),
      percent(median(refTotal)),
      fixed(medianRatio(tracerTotal, refTotal), 2),
      fixed(medianRatio(nodeTotal.map((value, index) => value + tracerTotal[index]!), refTotal), 1),
      fixed(result.tracerHwmKb / 1024, 1),
    ];
  });
  const notes = [
    'batch: memtop --batch --json, its output read and dropped by the bench; tui: memtop in a 120x40 window of a private tmux server.',
    `% of one core = CPU seconds per second × 100: usr and sys from /proc/<pid>/stat (10 ms ticks), totals from every thread's schedstat (ns); median of ${options.runs} windows of ${fixed(options.seconds / options.runs, 1)} s after a 2 s warm-up; RSS peak is VmHWM at the end.`,
    'one-liner: the bare bpftrace one-liner of the tab with `interval:ms:1000 { print(@); clear(@); }`, running alongside in the same windows.',
    'ratios are medians of per-window ratios: memtop\'s bpftrace / one-liner, and (memtop node + its bpftrace) / one-liner.',
  ];
  for (const result of results) {
    if (result.foreign.length > 0) notes.push(`${result.tab} ${result.mode}: tracers the bench did not start were running: ${result.foreign.join(', ')}`);
  }
  return table(
    `2. memtop's own cost, all five workloads busy, 1 s interval, ${options.seconds} s per tab (% of one core)`,
    ['tab, mode', 'node usr', 'node sys', 'node total <1%', 'node RSS MB <70', 'bpftrace usr <1%', 'bpftrace sys', 'bpftrace total', '1-liner total', 'bpftrace/1-liner', 'memtop/1-liner', 'bpftrace RSS MB'],
    rows,
    notes,
  );
}
