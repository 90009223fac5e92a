// Section 1: what tracing costs the traced workload. For each tab, its workload does a fixed
// number of events, timed by itself: (a) untraced, (b) under the bare bpftrace one-liner,
// (c) under memtop on that tab, (d) under memtop on another tab; a,b,c,d interleaved per run.
import {readFileSync} from 'node:fs';
import type {TabId} from '../../source/types.js';
import {waitForQuiet} from './lib/quiet.js';
import {startMemtop, startOneLiner, type Tracer} from './lib/tracers.js';
import {CGROUP_TABS, startWorkload, workloadExtra, type Launcher, type WorkloadResult} from './lib/workloads.js';
import {againstTarget, fixed, median, medianRatio, spread, table} from './lib/stats.js';

export type Variant = 'untraced' | 'one-liner' | 'memtop' | 'other-tab';
const VARIANTS: Variant[] = ['untraced', 'one-liner', 'memtop', 'other-tab'];

/** The tab memtop shows in variant (d): one whose event the workload does not make. */
export const OTHER_TAB: Readonly<Record<TabId, TabId>> = {
  malloc: 'majfault',
  brk: 'majfault',
  slab: 'majfault',
  majfault: 'brk',
  anonpgin: 'brk',
  minfault: 'brk',
  reclaim: 'brk',
  growth: 'brk',
};

/** Events of a first trial run, to measure each workload's speed before sizing the real runs. */
const TRIAL_EVENTS: Readonly<Record<TabId, number>> = {
  malloc: 200_000,
  brk: 100_000,
  slab: 20_000,
  majfault: 2_000,
  anonpgin: 4_000,
  minfault: 200_000,
  reclaim: 20_000,
  growth: 200_000,
};

export interface OverheadOptions {
  tabs: TabId[];
  runs: number;
  /** Aimed-at length of one untraced run (and of one run under the one-liner), in seconds. */
  workSeconds: number;
  /** Longest wait for other people's tracers to go before a run (then it runs anyway, marked). */
  quietWaitMs: number;
  /** Runs the anonpgin and reclaim workloads inside the small memory cgroup. */
  swapLauncher?: Launcher;
  log: (text: string) => void;
}

interface Sample {
  variant: Variant;
  events: number;
  ns: number;
  cpuNs: number;
  majflt: number;
  pswpin: number;
  /** Other people's tracers seen at the start of the run. */
  foreign: string[];
  /** memtop (c): whether its output named the workload's pid. */
  sawWorkload?: boolean;
  probe?: string;
}

function vmstat(name: string): number {
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(readFileSync('/proc/vmstat', 'utf8'));
  return match ? Number(match[1]) : 0;
}


/** One timed run of `tab`'s workload under `variant`. */
async function runOnce(tab: TabId, variant: Variant, events: number, options: OverheadOptions): Promise<Sample> {
  const foreign = await waitForQuiet(options.quietWaitMs, options.log);
  const workload = await startWorkload(tab, {events, extra: workloadExtra(tab), launcher: CGROUP_TABS.has(tab) ? options.swapLauncher : undefined});
  let tracer: Tracer | undefined;
  try {
    if (variant === 'one-liner') tracer = await startOneLiner(tab);
    else if (variant === 'memtop') tracer = await startMemtop(tab);
    else if (variant === 'other-tab') tracer = await startMemtop(OTHER_TAB[tab]);
    const pswpinBefore = vmstat('pswpin');
    const result: WorkloadResult = await workload.go();
    const pswpin = vmstat('pswpin') - pswpinBefore;
    let sawWorkload: boolean | undefined;
    if (variant === 'memtop' && tracer) {
      // The interval that holds the workload's last events ends within a second.
      const pattern = `"pid":${workload.pid},`;
      sawWorkload = await tracer.child
        .waitForLine(line => line.text.includes(pattern), 'a row for the workload', 2500)
        .then(() => true, () => false);
    }
    return {variant, events: result.events, ns: result.ns, cpuNs: result.cpuNs, majflt: result.majflt, pswpin, foreign, sawWorkload, probe: tracer?.first?.probe as string | undefined};
  } finally {
    await tracer?.stop();
    await workload.child.stop('SIGKILL');
  }
}

/** Events for a run of about `seconds` under `variant`, from one trial run. */
async function calibrate(tab: TabId, variant: 'untraced' | 'one-liner', options: OverheadOptions): Promise<number> {
  const trial = await runOnce(tab, variant, TRIAL_EVENTS[tab], options);
  const perEventNs = trial.ns / trial.events;
  const events = Math.round((options.workSeconds * 1e9) / perEventNs);
  // Round to two significant digits so the table reads well.
  const magnitude = 10 ** Math.max(0, Math.floor(Math.log10(events)) - 1);
  return Math.max(1000, Math.round(events / magnitude) * magnitude);
}

export interface TabOverhead {
  tab: TabId;
  /** Events per run of (a) and (d), and of (b) and (c). */
  eventsUntraced: number;
  eventsTraced: number;
  samples: Sample[];
}

export async function measureOverhead(options: OverheadOptions): Promise<TabOverhead[]> {
  const results: TabOverhead[] = [];
  for (const tab of options.tabs) {
    options.log(`overhead: ${tab}: sizing the runs`);
    const untracedEvents = await calibrate(tab, 'untraced', options);
    const tracedEvents = await calibrate(tab, 'one-liner', options);
    // One amount of work for all four, unless the one-liner slows the workload down so much
    // (the malloc uprobe) that runs short enough under it would be too short to time untraced:
    // then (a, d) and (b, c) each get their own amount, and the ratios stay within a pair.
    const single = untracedEvents <= tracedEvents * 2;
    const eventsUntraced = single ? tracedEvents : untracedEvents;
    const eventsTraced = tracedEvents;
    options.log(`overhead: ${tab}: ${single ? `${eventsTraced} events per run` : `${eventsUntraced} events untraced and other-tab, ${eventsTraced} under a tracer of the tab`}`);
    const samples: Sample[] = [];
    for (let run = 0; run < options.runs; run++) {
      for (const variant of VARIANTS) {
        const events = variant === 'untraced' || variant === 'other-tab' ? eventsUntraced : eventsTraced;
        const sample = await runOnce(tab, variant, events, options);
        samples.push(sample);
        options.log(`overhead: ${tab} run ${run + 1}/${options.runs} ${variant}: ${(sample.ns / 1e6).toFixed(1)} ms${sample.foreign.length ? ' (foreign tracers running)' : ''}`);
      }
    }
    results.push({tab, eventsUntraced, eventsTraced, samples});
  }
  return results;
}

const msOf = (samples: Sample[], variant: Variant) => samples.filter(sample => sample.variant === variant).map(sample => sample.ns / 1e6);
const nsPerEvent = (samples: Sample[], variant: Variant) => samples.filter(sample => sample.variant === variant).map(sample => sample.ns / sample.events);
const cpuNsPerEvent = (samples: Sample[], variant: Variant) => samples.filter(sample => sample.variant === variant).map(sample => sample.cpuNs / sample.events);

/** "n processes (a, b, c, …)": other people's tracers, without flooding the notes. */
function foreignSummary(entries: string[]): string {
  const unique = [...new Set(entries)];
  return `${unique.length} of them (${unique.slice(0, 4).join(', ')}${unique.length > 4 ? ', …' : ''})`;
}

/** The section's table: medians of wall time per variant, and the two ratios against their targets. */
export function overheadTable(results: TabOverhead[], runs: number): string {
  const rows = results.map(({tab, eventsUntraced, eventsTraced, samples}) => {
    const untraced = msOf(samples, 'untraced');
    const oneLiner = msOf(samples, 'one-liner');
    const memtop = msOf(samples, 'memtop');
    const other = msOf(samples, 'other-tab');
    // Ratios of time per event, so that they hold when (a, d) and (b, c) do different amounts.
    const [perUntraced, perOneLiner, perMemtop, perOther] = VARIANTS.map(variant => nsPerEvent(samples, variant));
    const memtopRatio = medianRatio(perMemtop!, perOneLiner!);
    const otherRatio = medianRatio(perOther!, perUntraced!);
    const perEvent = (variant: Variant) => fixed(median(nsPerEvent(samples, variant)), 0);
    return [
      tab,
      eventsUntraced === eventsTraced ? String(eventsTraced) : `${eventsUntraced}/${eventsTraced}`,
      `${fixed(median(untraced), 1)}`,
      `${fixed(median(oneLiner), 1)}`,
      `${fixed(median(memtop), 1)}`,
      `${fixed(median(other), 1)} (${OTHER_TAB[tab]})`,
      `${perEvent('untraced')}/${perEvent('one-liner')}/${perEvent('memtop')}/${perEvent('other-tab')}`,
      fixed(medianRatio(perOneLiner!, perUntraced!), 2),
      againstTarget(memtopRatio, 1.05),
      spread(perMemtop!.map((value, index) => value / perOneLiner![index]!)),
      againstTarget(otherRatio, 1.02),
      spread(perOther!.map((value, index) => value / perUntraced![index]!)),
    ];
  });
  const notes: string[] = [];
  for (const {tab, samples} of results) {
    const contaminated = samples.filter(sample => sample.foreign.length > 0).length;
    if (contaminated > 0) notes.push(`${tab}: ${contaminated} of ${samples.length} runs started while tracers the bench did not start were running, ${foreignSummary(samples.flatMap(sample => sample.foreign))}: their probes and workloads slow every variant.`);
    const memtopRuns = samples.filter(sample => sample.variant === 'memtop');
    const missed = memtopRuns.filter(sample => sample.sawWorkload === false).length;
    if (missed > 0) notes.push(`${tab}: in ${missed} of ${memtopRuns.length} runs memtop's output never named the workload's pid.`);
    if (tab === 'majfault') notes.push(`majfault: major faults per event (median, untraced) ${fixed(median(samples.filter(s => s.variant === 'untraced').map(s => s.majflt / s.events)), 3)}`);
    if (tab === 'anonpgin') notes.push(`anonpgin: pages swapped in (vmstat pswpin) per event (median, untraced) ${fixed(median(samples.filter(s => s.variant === 'untraced').map(s => s.pswpin / s.events)), 3)}`);
  }
  notes.push('events: per run, "a/b" when untraced and other-tab runs do a (events) and one-liner and memtop runs b; ns/event: untraced/one-liner/memtop/other-tab.');
  notes.push('ratios are medians of per-run ratios of time per event (a,b,c,d of one run measured back to back); range: smallest–largest per-run ratio.');
  const cpuRows = results.map(({tab, samples}) => {
    const [perUntraced, perOneLiner, perMemtop, perOther] = VARIANTS.map(variant => cpuNsPerEvent(samples, variant));
    return [
      tab,
      `${fixed(median(perUntraced!), 0)}/${fixed(median(perOneLiner!), 0)}/${fixed(median(perMemtop!), 0)}/${fixed(median(perOther!), 0)}`,
      fixed(medianRatio(perOneLiner!, perUntraced!), 2),
      againstTarget(medianRatio(perMemtop!, perOneLiner!), 1.05),
      spread(perMemtop!.map((value, index) => value / perOneLiner![index]!)),
      againstTarget(medianRatio(perOther!, perUntraced!), 1.02),
      spread(perOther!.map((value, index) => value / perUntraced![index]!)),
    ];
  });
  const cpuTable = table(
    `1b. The same runs by the workload's own CPU time (user+system, getrusage): probes run in its context count, waiting for a CPU or a disk does not`,
    ['tab', 'CPU ns/event', 'one-liner/untr', 'memtop/one-liner ≤1.05', 'range', 'other-tab/untr ≤1.02', 'range'],
    cpuRows,
    ['CPU ns/event: untraced/one-liner/memtop/other-tab. Less disturbed by other load on the machine than wall time, but blind to a tracer that takes the CPU away from the workload.'],
  );
  return table(
    `1. Overhead on the traced workload: median wall time of the timed loop over ${runs} runs, ms`,
    ['tab', 'events', 'untraced', 'one-liner', 'memtop', 'memtop other tab', 'ns/event', 'one-liner/untr', 'memtop/one-liner ≤1.05', 'range', 'other-tab/untr ≤1.02', 'range'],
    rows,
    notes,
  ) + '\n' + cpuTable;
}
