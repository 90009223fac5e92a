// Section 5: memtop beside the tool it sits beside, in the same run. The TUI next to htop, each
// in its own window of the same size on a private tmux server, refreshing once a second, at 10
// and at 100 rows that change every interval; batch mode next to `top -b`, both printing to the
// bench, which reads and drops what they print. The rows are the bench's own workloads (10 or
// 100 processes at steady, distinct paces), started and killed with each run.
import {execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import type {TabId} from '../../source/types.js';
import {cpuSecondsPrecise, sleep, spawnChild, statusKb, type Child} from './lib/proc.js';
import {memtopArgv, memtopTracerPid} from './lib/tracers.js';
import {openSession, type Session} from './lib/tmux.js';
import {showsData, tableRows} from './lib/screen.js';
import {startWorkload, type ReadyWorkload} from './lib/workloads.js';
import {waitForQuiet} from './lib/quiet.js';
import {onCleanup} from './lib/cleanup.js';
import {againstTarget, fixed, median, medianRatio, spread, table} from './lib/stats.js';

export const SIDE_CASES = ['tui10', 'tui100', 'batch10', 'batch100'] as const;
export type SideCase = (typeof SIDE_CASES)[number];

export interface SideOptions {
  cases: SideCase[];
  runs: number;
  /** Length of one measured window. */
  seconds: number;
  /**
   * Seconds between memtop's first table and the measured window: its first ~20 s cost ~50% more
   * a second than later ones (lazy compilation, the JIT's baseline tier, start-up garbage), and a
   * top is left open for minutes. htop and top -b have no such tail; they start with memtop.
   */
  warmupSeconds: number;
  /** The tab the TUI shows (default slab, as in issue 16) and the one batch mode prints (malloc). */
  tuiTab: TabId;
  batchTab: TabId;
  quietWaitMs: number;
  log: (text: string) => void;
}

/** What each case is held to, from issue 16: memtop's CPU over the reference's, and memtop's RSS. */
const CPU_TARGET: Record<SideCase, number> = {tui10: 1.5, tui100: 2, batch10: 1, batch100: 1};
const RSS_TARGET_MB = 80;

function rowsOf(kase: SideCase): number {
  return kase.endsWith('100') ? 100 : 10;
}

/** A window with room for the rows: memtop draws its table in the terminal's height less 5 lines. */
function windowOf(kase: SideCase): {columns: number; rows: number} {
  return {columns: 120, rows: rowsOf(kase) === 100 ? 110 : 40};
}

/**
 * Events per second of workload `index` of `count`: distinct steady paces, so each row's numbers
 * change every interval while the busiest stay on top. Slab rounds (six syscalls, several slab
 * objects each) are dearer than mallocs.
 */
export function paceOf(tab: TabId, index: number, count: number): number {
  const [low, high] = tab === 'malloc' ? (count > 10 ? [200, 400] : [1000, 2000]) : count > 10 ? [20, 60] : [50, 150];
  return Math.round(low + ((high - low) * index) / Math.max(1, count - 1));
}

export interface SideRun {
  kase: SideCase;
  /** CPU seconds per second over the window: the reference (htop or top -b), memtop's Node, its bpftrace. */
  refCpu: number;
  memtopCpu: number;
  tracerCpu: number;
  refRssKb: number;
  memtopRssStartKb: number;
  memtopRssEndKb: number;
  memtopHwmKb: number;
  /** memtop's RSS at the end in pages mapped from files (node's executable, shared by every Node process) and its own. */
  memtopRssFileKb: number;
  memtopRssAnonKb: number;
  tracerRssKb: number;
  /** TUI: table rows on screen at the end, and how many of them differ from a second earlier. */
  rowsShown?: number;
  rowsChanged?: number;
}

interface Running {
  pid: number;
  stop(): Promise<void>;
  tail(): string;
}

function tuiProcess(session: Session): Running {
  return {
    pid: session.panePid,
    async stop() {
      session.kill();
    },
    tail: () => session.capture().lines.join('\n'),
  };
}

function childProcess(child: Child): Running {
  return {pid: child.pid, stop: () => child.stop('SIGTERM'), tail: () => child.tail()};
}

async function runOnce(kase: SideCase, index: number, options: SideOptions): Promise<SideRun> {
  const tui = kase.startsWith('tui');
  const tab = tui ? options.tuiTab : options.batchTab;
  const rows = rowsOf(kase);
  // htop and top read (and htop writes) their settings under $HOME: a fresh one, the defaults.
  const home = mkdtempSync(path.join(os.tmpdir(), 'memtop-side-'));
  const removeHome = onCleanup(`side home ${home}`, () => rmSync(home, {recursive: true, force: true}));
  const workloads: ReadyWorkload[] = [];
  const started: Running[] = [];
  try {
    for (let at = 0; at < rows; at++) workloads.push(await startWorkload(tab, {events: 0, eventsPerSecond: paceOf(tab, at, rows), waitForGo: false}));
    const size = windowOf(kase);
    let reference: Running;
    let memtop: Running;
    let memtopSession: Session | undefined;
    const limit = ['--limit', String(rows)];
    if (tui) {
      reference = tuiProcess(openSession(`side-htop-${index}`, ['/usr/bin/env', `HOME=${home}`, 'htop', '-d', '10'], size));
      started.push(reference);
      memtopSession = openSession(`side-memtop-${index}`, memtopArgv(['--tab', tab, '--interval', '1000', ...limit]), size);
      memtop = tuiProcess(memtopSession);
      started.push(memtop);
      await memtopSession.waitFor(showsData(tab), `${tab} rows`, 60_000);
    } else {
      const top = spawnChild('top -b', '/usr/bin/top', ['-b', '-d', '1'], {keepLines: 5, env: {...process.env, HOME: home}});
      reference = childProcess(top);
      started.push(reference);
      const [file, ...args] = memtopArgv(['--batch', '--tab', tab, '--interval', '1000', ...limit]);
      const child = spawnChild(`memtop --batch --tab ${tab}`, file!, args, {keepLines: 5});
      memtop = childProcess(child);
      started.push(memtop);
      await child.waitForLine(line => line.stream === 'stdout' && line.text.startsWith('memtop '), 'its first table', 60_000);
    }
    // Past the first frames and the JIT's first work, as someone who left it open would be.
    await sleep(options.warmupSeconds * 1000);
    const tracer = memtopTracerPid(memtop.pid);
    if (tracer === undefined) throw new Error(`memtop (${kase}) has no bpftrace child:\n${memtop.tail()}`);
    const read = () => ({at: performance.now(), ref: cpuSecondsPrecise(reference.pid), memtop: cpuSecondsPrecise(memtop.pid), tracer: cpuSecondsPrecise(tracer)});
    const memtopRssStartKb = statusKb(memtop.pid, 'VmRSS') ?? Number.NaN;
    const before = read();
    await sleep(options.seconds * 1000 - (tui ? 1000 : 0));
    let rowsShown: number | undefined;
    let rowsChanged: number | undefined;
    if (memtopSession) {
      const earlier = tableRows(memtopSession.capture().lines);
      await sleep(1000);
      const later = tableRows(memtopSession.capture().lines);
      rowsShown = later.length;
      rowsChanged = later.filter((line, at) => line !== earlier[at]).length;
    }
    const after = read();
    const seconds = (after.at - before.at) / 1000;
    const perSecond = (from: number | undefined, to: number | undefined) => (from === undefined || to === undefined ? Number.NaN : (to - from) / seconds);
    const run: SideRun = {
      kase,
      refCpu: perSecond(before.ref, after.ref),
      memtopCpu: perSecond(before.memtop, after.memtop),
      tracerCpu: perSecond(before.tracer, after.tracer),
      refRssKb: statusKb(reference.pid, 'VmRSS') ?? Number.NaN,
      memtopRssStartKb,
      memtopRssEndKb: statusKb(memtop.pid, 'VmRSS') ?? Number.NaN,
      memtopHwmKb: statusKb(memtop.pid, 'VmHWM') ?? Number.NaN,
      memtopRssFileKb: statusKb(memtop.pid, 'RssFile') ?? Number.NaN,
      memtopRssAnonKb: statusKb(memtop.pid, 'RssAnon') ?? Number.NaN,
      tracerRssKb: statusKb(tracer, 'VmRSS') ?? Number.NaN,
      rowsShown,
      rowsChanged,
    };
    if (!Number.isFinite(run.refCpu) || !Number.isFinite(run.memtopCpu)) throw new Error(`a process of the ${kase} run exited:\n${memtop.tail()}`);
    return run;
  } finally {
    for (const running of started.reverse()) await running.stop();
    await Promise.all(workloads.map(workload => workload.child.stop('SIGKILL')));
    removeHome();
  }
}

/**
 * Every case once per run, the cases interleaved, so that a noisy minute falls on all of them. A
 * run that fails (on a loaded machine, a tracer that has not attached within a minute) is told
 * and counted, and the others still make the table.
 */
export async function measureSide(options: SideOptions): Promise<{runs: SideRun[]; foreign: string[]; failed: string[]}> {
  const runs: SideRun[] = [];
  const foreign = new Set<string>();
  const failed: string[] = [];
  let index = 0;
  for (let run = 0; run < options.runs; run++) {
    for (const kase of options.cases) {
      for (const entry of await waitForQuiet(options.quietWaitMs, options.log)) foreign.add(entry);
      options.log(`side: ${kase} (${rowsOf(kase)} rows), run ${run + 1}/${options.runs}, ${options.seconds}s`);
      let result: SideRun;
      try {
        result = await runOnce(kase, index++, options);
      } catch (error) {
        const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
        options.log(`  failed: ${reason}`);
        failed.push(`${kase} run ${run + 1}: ${reason}`);
        continue;
      }
      options.log(
        `  reference ${fixed(result.refCpu * 100)}% ${fixed(result.refRssKb / 1024, 1)} MB · memtop ${fixed(result.memtopCpu * 100)}% ${fixed(result.memtopRssEndKb / 1024, 1)} MB` +
          (result.rowsShown !== undefined ? ` · ${result.rowsShown} rows, ${result.rowsChanged} changed` : ''),
      );
      runs.push(result);
    }
  }
  return {runs, foreign: [...foreign], failed};
}

const percent = (value: number) => fixed(value * 100, 2);

/** RssFile of a Node process that loads nothing: the part of memtop's RSS that is Node's own executable. */
function bareNodeRssFileKb(): number {
  const output = execFileSync(process.execPath, ['-e', "setTimeout(() => process.stdout.write(/RssFile:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]), 200)"], {encoding: 'utf8'});
  return Number(output);
}

const mb = (kb: number) => fixed(kb / 1024, 1);

export function sideTable(result: {runs: SideRun[]; foreign: string[]; failed: string[]}, options: {runs: number; seconds: number; warmupSeconds: number; tuiTab: TabId; batchTab: TabId}): string {
  const nodeRssFileKb = bareNodeRssFileKb();
  const cases = SIDE_CASES.filter(kase => result.runs.some(run => run.kase === kase));
  const rows = cases.map(kase => {
    const runs = result.runs.filter(run => run.kase === kase);
    const pick = (key: keyof SideRun) => runs.map(run => Number(run[key]));
    const tui = kase.startsWith('tui');
    const ratio = medianRatio(pick('memtopCpu'), pick('refCpu'));
    return [
      `${tui ? 'TUI vs htop' : 'batch vs top -b'}, ${rowsOf(kase)} rows`,
      tui ? `${fixed(median(pick('rowsShown')), 0)}/${fixed(median(pick('rowsChanged')), 0)}` : '-',
      percent(median(pick('refCpu'))),
      percent(median(pick('memtopCpu'))),
      `${againstTarget(ratio, CPU_TARGET[kase])} (≤${CPU_TARGET[kase]})`,
      spread(runs.map(run => run.memtopCpu / run.refCpu)),
      mb(median(pick('refRssKb'))),
      `${mb(median(pick('memtopRssStartKb')))} → ${againstTarget(median(pick('memtopRssEndKb')) / 1024, RSS_TARGET_MB, 1)}`,
      mb(median(pick('memtopHwmKb'))),
      `${mb(median(pick('memtopRssFileKb')))} / ${mb(median(pick('memtopRssAnonKb')))}`,
      percent(median(pick('tracerCpu'))),
      mb(median(pick('tracerRssKb'))),
    ];
  });
  const notes = [
    `TUI: htop -d 10 and memtop --tab ${options.tuiTab} --interval 1000 --limit N, side by side on a private tmux server, 120x40 for 10 rows and 120x110 for 100 (htop fills the same window with ~33 or ~100 processes).`,
    `batch: top -b -d 1 and memtop --batch --tab ${options.batchTab} --interval 1000 --limit N (text), both read and dropped by the bench.`,
    `rows: the bench's own ${options.tuiTab} or ${options.batchTab} workloads, one per row, each at its own steady pace; "shown/changed" is the TUI's table rows at the end and how many differed from a second earlier.`,
    `% of one core from every thread's schedstat over ${options.seconds} s from ${options.warmupSeconds} s after memtop's first table or frame (htop and top -b start with it); RSS is VmRSS at the start → end of that window, peak is VmHWM; medians of ${options.runs} runs (less any failed, below) with the cases interleaved; ratio is the median of per-run ratios, its spread the smallest and largest.`,
    `file / own: memtop's RSS at the end in pages mapped from files (mostly node's executable, shared with every Node process; a bare \`node -e\` has ${mb(nodeRssFileKb)} MB of them) and in its own memory (RssAnon).`,
    'bpftrace: memtop\'s tracer child, which htop and top do not need, shown apart.',
  ];
  if (result.failed.length > 0) notes.push(`${result.failed.length} runs failed and are left out: ${result.failed.join('; ')}`);
  if (result.foreign.length > 0) {
    const shown = result.foreign.slice(0, 6).join(', ');
    notes.push(`${result.foreign.length} tracers the bench did not start ran during some runs (other people's tracing): ${shown}${result.foreign.length > 6 ? ', …' : ''}`);
  }
  return table(
    `5. memtop beside htop and top -b, measured in the same runs, 1 s refresh (% of one core, MB)`,
    ['case', 'rows shown/changed', 'ref CPU %', 'memtop CPU %', 'memtop/ref', 'ratio spread', 'ref RSS MB', `memtop RSS MB (≤${RSS_TARGET_MB})`, 'memtop peak MB', 'of which file / own MB', 'bpftrace CPU %', 'bpftrace RSS MB'],
    rows,
    notes,
  );
}
