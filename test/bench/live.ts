// Section live: what the malloc tab's live view costs the traced workload at about 10k, 100k
// and 1M allocations a second: mb_malloc paced at each rate (one malloc and one free an event),
// untraced, under the bare bpftrace one-liner that pairs each malloc with its free by address
// (and one that also keeps each allocation's stack), under memtop's live table, and under its
// live drill-down with a stack for every allocation and with stacks sampled (--sample, one per
// 512 KiB). Per run: the rate the workload reached and its own CPU time per allocation (the
// probes run in its context); variants interleaved, medians and per-run ratios.
import type {Tracer} from './lib/tracers.js';
import {startMemtop, startProgram} from './lib/tracers.js';
import {waitForQuiet} from './lib/quiet.js';
import {startWorkload} from './lib/workloads.js';
import {fixed, median, medianRatio, spread, table} from './lib/stats.js';
import {mapKeysEnv} from '../../source/backends/bpftrace-version.js';
import {liveKeysMax} from '../../source/backends/bpftrace.js';
import {DEFAULT_SAMPLE_BYTES} from '../../source/types.js';

export type LiveVariant = 'untraced' | 'one-liner' | 'memtop live' | 'one-liner stacks' | 'memtop stacks' | 'memtop stacks sampled';
export const LIVE_VARIANTS: LiveVariant[] = ['untraced', 'one-liner', 'memtop live', 'one-liner stacks', 'memtop stacks', 'memtop stacks sampled'];

/** Whom each variant is compared with: the one-liner doing the same pairing (with stacks for the drill-downs). */
const BASELINE: Partial<Record<LiveVariant, LiveVariant>> = {'memtop live': 'one-liner', 'memtop stacks': 'one-liner stacks', 'memtop stacks sampled': 'one-liner stacks'};

/**
 * What a user would type to pair mallocs with frees per process (the request kept by thread,
 * the live size by address), and the same keeping each allocation's stack, as bcc's memleak does.
 */
export const PAIRING_ONE_LINER =
  'uprobe:libc:malloc { @size[tid] = arg0; } ' +
  'uretprobe:libc:malloc /@size[tid]/ { @live[pid, retval] = @size[tid]; @bytes[pid] = sum(@size[tid]); delete(@size[tid]); } ' +
  'uprobe:libc:free /@live[pid, arg0]/ { @bytes[pid] = sum(-(int64)@live[pid, arg0]); delete(@live[pid, arg0]); }';
export const STACKS_ONE_LINER =
  'uprobe:libc:malloc { @size[tid] = arg0; } ' +
  'uretprobe:libc:malloc /@size[tid]/ { $s = ustack; @live[pid, retval] = @size[tid]; @where[pid, retval] = $s; @stacks[$s] = sum(@size[tid]); delete(@size[tid]); } ' +
  'uprobe:libc:free /@live[pid, arg0]/ { @stacks[@where[pid, arg0]] = sum(-(int64)@live[pid, arg0]); delete(@live[pid, arg0]); delete(@where[pid, arg0]); }';

export interface LiveOptions {
  rates: number[];
  runs: number;
  /** Seconds of work per run at the asked rate. */
  seconds: number;
  quietWaitMs: number;
  log: (text: string) => void;
}

interface Sample {
  variant: LiveVariant;
  rate: number;
  events: number;
  ns: number;
  cpuNs: number;
  foreign: string[];
}

async function runOnce(variant: LiveVariant, rate: number, options: LiveOptions): Promise<Sample> {
  const foreign = await waitForQuiet(options.quietWaitMs, options.log);
  const events = Math.round(rate * options.seconds);
  const workload = await startWorkload('malloc', {events, eventsPerSecond: rate});
  let tracer: Tracer | undefined;
  const keys = mapKeysEnv(liveKeysMax());
  try {
    const drill = ['--live', '--pid', String(workload.pid), '--stacks'];
    if (variant === 'one-liner') tracer = await startProgram('bpftrace pairing one-liner', PAIRING_ONE_LINER, {env: keys});
    else if (variant === 'one-liner stacks') tracer = await startProgram('bpftrace pairing one-liner with stacks', STACKS_ONE_LINER, {env: keys});
    else if (variant === 'memtop live') tracer = await startMemtop('malloc', {extraArgs: ['--live']});
    else if (variant === 'memtop stacks') tracer = await startMemtop('malloc', {extraArgs: drill});
    else if (variant === 'memtop stacks sampled') tracer = await startMemtop('malloc', {extraArgs: [...drill, '--sample']});
    const result = await workload.go();
    return {variant, rate, events: result.events, ns: result.ns, cpuNs: result.cpuNs, foreign};
  } finally {
    await tracer?.stop();
    await workload.child.stop('SIGKILL');
  }
}

export async function measureLive(options: LiveOptions): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const rate of options.rates) {
    for (let run = 0; run < options.runs; run++) {
      for (const variant of LIVE_VARIANTS) {
        const sample = await runOnce(variant, rate, options);
        samples.push(sample);
        options.log(`live: ${rate}/s run ${run + 1}/${options.runs} ${variant}: ${Math.round(sample.events / (sample.ns / 1e9))}/s reached, ${fixed(sample.cpuNs / sample.events, 0)} CPU ns an allocation${sample.foreign.length ? ' (foreign tracers running)' : ''}`);
      }
    }
  }
  return samples;
}

/** The section's table: per rate and variant, the rate reached, CPU per allocation, and against the one-liner doing the same. */
export function liveTable(samples: Sample[], options: Pick<LiveOptions, 'runs' | 'seconds'>): string {
  const rows: string[][] = [];
  for (const rate of [...new Set(samples.map(sample => sample.rate))]) {
    const of = (variant: LiveVariant) => samples.filter(sample => sample.rate === rate && sample.variant === variant);
    const cpu = (variant: LiveVariant) => of(variant).map(sample => sample.cpuNs / sample.events);
    for (const variant of LIVE_VARIANTS) {
      const reached = of(variant).map(sample => sample.events / (sample.ns / 1e9));
      const baseline = BASELINE[variant];
      const ratios = baseline ? cpu(variant).map((value, index) => value / cpu(baseline)[index]!) : [];
      rows.push([
        `${rate}`,
        variant,
        fixed(median(reached), 0),
        fixed(median(cpu(variant)), 0),
        fixed(median(cpu(variant)) - median(cpu('untraced')), 0),
        baseline ? `${fixed(medianRatio(cpu(variant), cpu(baseline)), 2)} (${baseline})` : '-',
        baseline ? spread(ratios) : '-',
      ]);
    }
  }
  const contaminated = samples.filter(sample => sample.foreign.length > 0).length;
  const notes = [
    `One event is one malloc and one free (mb_malloc, a ring of 64 blocks), paced at the rate asked for ${options.seconds} s; "reached" is what it managed under the tracer.`,
    'CPU ns/alloc: the workload\'s own user+system time (getrusage) per event, which includes the probes that run in its context; over untraced: the tracing\'s share.',
    `memtop stacks sampled: --sample, a stack for about one allocation per ${DEFAULT_SAMPLE_BYTES / 1024} KiB (the workload's 16 B-40 KB requests); counts and bytes stay exact.`,
    'vs baseline: median of per-run ratios of CPU per allocation, memtop against the one-liner doing the same pairing (with stacks for the drill-downs); range: smallest-largest per-run ratio.',
  ];
  if (contaminated > 0) notes.push(`${contaminated} of ${samples.length} runs started while tracers the bench did not start were running: their probes slow every variant.`);
  return table(`live. The malloc tab's live view: cost per allocation at each rate, medians of ${options.runs} runs`, ['rate/s', 'variant', 'reached/s', 'CPU ns/alloc', 'over untraced', 'vs baseline', 'range'], rows, notes);
}
