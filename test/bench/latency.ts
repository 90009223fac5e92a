// Section 3: how fast memtop answers at a 1 s interval. Batch: launch to the first JSON line,
// next to what it is made of (Node loading memtop, bpftrace running the same script alone).
// TUI, in a 120x40 window of a private tmux server: launch to the first row on screen, tab
// switch to the new tab's first data, Enter to the first stacks.
import {performance} from 'node:perf_hooks';
import {type TabId} from '../../source/types.js';
import {TAB_IDS} from '../../source/registry.js';
import {chooseScript} from '../../source/backends/bpftrace.js';
import {showsData, showsStacks, statusLine, tableRows} from './lib/screen.js';
import {probeScript} from '../../source/backends/probe-files.js';
import {spawnChild} from './lib/proc.js';
import {BPFTRACE, memtopArgv, memtopShell, scriptArgs} from './lib/tracers.js';
import {WORKLOAD_NAMES} from './lib/workloads.js';
import {openSession, type Session} from './lib/tmux.js';
import {waitForQuiet} from './lib/quiet.js';
import {againstTarget, fixed, median, medianRatio, table} from './lib/stats.js';
import {descendants} from './lib/cleanup.js';

export interface LatencyOptions {
  tabs: TabId[];
  runs: number;
  quietWaitMs: number;
  log: (text: string) => void;
}

interface BatchSample {
  tab: TabId;
  /** memtop --batch --json: launch to first line. */
  memtopMs: number;
  /** dist/cli.js --version: launch to exit (Node plus the modules memtop loads first). */
  loadMs: number;
  /** bpftrace -e 'BEGIN { exit(); }': bpftrace's floor (memtop's availability trial, remembered per boot). */
  trialMs: number;
  /** bpftrace running memtop's script for the tab by hand: launch to its first interval's end. */
  scriptMs: number;
}

async function timeToExit(what: string, file: string, args: string[]): Promise<number> {
  const child = spawnChild(what, file, args, {stdout: 'ignore'});
  await child.exited;
  return performance.now() - child.startedAt;
}

async function batchOnce(tab: TabId): Promise<BatchSample> {
  const [versionFile, ...versionArgs] = memtopArgv(['--version']);
  const loadMs = await timeToExit('memtop --version', versionFile!, versionArgs);
  const trialMs = await timeToExit('bpftrace BEGIN exit', BPFTRACE, ['-e', 'BEGIN { exit(); }']);
  const script = chooseScript(tab).file;
  const file = probeScript('bpftrace', script);
  const byHand = spawnChild(`bpftrace ${script}`, BPFTRACE, ['-B', 'line', '-f', 'json', file, ...scriptArgs(file)], {keepLines: 50});
  let scriptMs: number;
  try {
    const end = await byHand.waitForLine(line => line.text.includes('memtop-end'), 'its first interval', 30_000);
    scriptMs = end.at - byHand.startedAt;
  } finally {
    await byHand.stop();
  }
  const [memtopFile, ...memtopArgs] = memtopArgv(['--batch', '--json', '--tab', tab, '--interval', '1000']);
  const memtop = spawnChild(`memtop --batch --tab ${tab}`, memtopFile!, memtopArgs, {keepLines: 20});
  let memtopMs: number;
  try {
    const first = await memtop.waitForLine(line => line.stream === 'stdout' && line.text.startsWith('{'), 'its first JSON line', 30_000);
    memtopMs = first.at - memtop.startedAt;
  } finally {
    await memtop.stop();
  }
  return {tab, memtopMs, loadMs, trialMs, scriptMs};
}

interface TuiSample {
  launchMs: number;
  /** Tab switch to that tab's first data, by tab. */
  switchMs: Partial<Record<TabId, number>>;
  /** Enter to the first stacks, by tab. */
  drillMs: Partial<Record<TabId, number>>;
}

async function drill(session: Session, tab: TabId): Promise<number> {
  const name = WORKLOAD_NAMES[tab];
  session.keys([String(TAB_IDS.indexOf(tab) + 1)]);
  await session.waitFor(showsData(tab), `${tab} data before drilling`, 10_000);
  // One step at a time: memtop routes a key by the state of its last render, so text sent
  // before the filter prompt is on screen would go to the table.
  session.keys(['/']);
  await session.waitFor(lines => statusLine(lines).includes('filter: _'), 'the filter prompt', 10_000);
  session.keys([name], true);
  await session.waitFor(lines => statusLine(lines).includes(`filter: ${name}_`), `${name} typed`, 10_000);
  session.keys(['Enter']);
  await session.waitFor(
    lines => (tableRows(lines)[0] ?? '').includes(name) && statusLine(lines).includes(`filter: ${name}`) && !statusLine(lines).includes(`filter: ${name}_`),
    `the filter ${name} applied`,
    10_000,
  );
  const pressed = performance.now();
  session.keys(['Enter']);
  const shown = await session.waitFor(showsStacks, `${tab} stacks`, 15_000);
  session.keys(['Escape']);
  await session.waitFor(lines => tableRows(lines).length > 0, 'the table again', 10_000);
  session.keys(['Escape']);
  await session.waitFor(lines => !statusLine(lines).includes('filter:'), 'the filter cleared', 10_000);
  return shown.at - pressed;
}

async function tuiOnce(run: number, tabs: TabId[]): Promise<TuiSample> {
  const [first, ...rest] = tabs;
  const session = openSession(`run${run}`, ['sh', '-c', `read go; exec ${memtopShell(['--tab', first!, '--interval', '1000'])}`]);
  try {
    await new Promise(resolve => setTimeout(resolve, 200));
    const launched = performance.now();
    session.keys(['Enter']);
    const firstRow = await session.waitFor(showsData(first!), 'first row', 30_000);
    const sample: TuiSample = {launchMs: firstRow.at - launched, switchMs: {}, drillMs: {}};
    for (const tab of rest) {
      const pressed = performance.now();
      session.keys([String(TAB_IDS.indexOf(tab) + 1)]);
      const shown = await session.waitFor(showsData(tab), `${tab} data after switching`, 15_000);
      sample.switchMs[tab] = shown.at - pressed;
    }
    for (const tab of [...tabs].reverse()) sample.drillMs[tab] = await drill(session, tab);
    // Quit as a user would; whatever is left after 5 s is killed with the session.
    session.keys(['q']);
    const deadline = performance.now() + 5000;
    while (performance.now() < deadline && (isAlive(session.panePid) || descendants(session.panePid).length > 0)) {
      await new Promise(resolve => setTimeout(resolve, 50));
    }
    return sample;
  } finally {
    session.kill();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface LatencyResult {
  batch: BatchSample[];
  tui: TuiSample[];
  tabs: TabId[];
}

/** Needs the busy workloads running (every tab must have rows, every workload stacks). */
export async function measureLatency(options: LatencyOptions): Promise<LatencyResult> {
  const batch: BatchSample[] = [];
  const tui: TuiSample[] = [];
  for (let run = 0; run < options.runs; run++) {
    await waitForQuiet(options.quietWaitMs, options.log);
    for (const tab of options.tabs) {
      const sample = await batchOnce(tab);
      batch.push(sample);
      options.log(`latency: batch ${tab} run ${run + 1}/${options.runs}: first line ${sample.memtopMs.toFixed(0)} ms (load ${sample.loadMs.toFixed(0)}, trial ${sample.trialMs.toFixed(0)}, script ${sample.scriptMs.toFixed(0)})`);
    }
    const sample = await tuiOnce(run, options.tabs);
    tui.push(sample);
    options.log(`latency: TUI run ${run + 1}/${options.runs}: launch ${sample.launchMs.toFixed(0)} ms, switch ${JSON.stringify(Object.fromEntries(Object.entries(sample.switchMs).map(([k, v]) => [k, Math.round(v)])))}, drill ${JSON.stringify(Object.fromEntries(Object.entries(sample.drillMs).map(([k, v]) => [k, Math.round(v)])))}`);
  }
  return {batch, tui, tabs: options.tabs};
}

export function latencyTable(result: LatencyResult, runs: number): string {
  const rows: string[][] = [];
  for (const tab of result.tabs) {
    const samples = result.batch.filter(sample => sample.tab === tab);
    const memtop = samples.map(sample => sample.memtopMs);
    const script = samples.map(sample => sample.scriptMs);
    rows.push([
      `batch --tab ${tab}: launch → first JSON line`,
      fixed(median(memtop), 0),
      '1200',
      againstTarget(median(memtop) / 1200, 1),
      fixed(median(samples.map(sample => sample.loadMs)), 0),
      fixed(median(samples.map(sample => sample.trialMs)), 0),
      fixed(median(script), 0),
      fixed(medianRatio(memtop, script), 2),
    ]);
  }
  const launch = result.tui.map(sample => sample.launchMs);
  rows.push([`TUI --tab ${result.tabs[0]}: launch → first row`, fixed(median(launch), 0), '1200', againstTarget(median(launch) / 1200, 1), '', '', '', '']);
  for (const tab of result.tabs.slice(1)) {
    const values = result.tui.map(sample => sample.switchMs[tab] ?? Number.NaN);
    rows.push([`TUI tab switch → first ${tab} data`, fixed(median(values), 0), '600', againstTarget(median(values) / 600, 1), '', '', '', '']);
  }
  for (const tab of result.tabs) {
    const values = result.tui.map(sample => sample.drillMs[tab] ?? Number.NaN);
    rows.push([`TUI Enter on ${WORKLOAD_NAMES[tab]} (${tab}) → first stacks`, fixed(median(values), 0), '600', againstTarget(median(values) / 600, 1), '', '', '', '']);
  }
  return table(
    `3. Latency at a 1 s interval, all five workloads busy: median of ${runs} runs, ms`,
    ['what', 'ms', 'target', '/target', 'node+memtop load', 'bpftrace BEGIN{exit()}', 'script alone → 1st interval', 'memtop/script'],
    rows,
    [
      'node+memtop load: `dist/cli.js --version` to exit (Node and the modules memtop loads before it parses flags); bpftrace BEGIN{exit()}: bpftrace starting and loading a trivial program (memtop\'s availability trial, which it remembers per boot);',
      'script alone: bpftrace running memtop\'s own script for the tab by hand, launch to its first "memtop-end" (interval 1000 ms, all rows, every pid, the path of libc for a uprobe script). All measured in the same run as memtop.',
      'TUI times are from send-keys to the capture-pane (polled every 20 ms) that first shows the new data, so they include up to ~25 ms of polling.',
    ],
  );
}
