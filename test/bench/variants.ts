// Times one tab's workload under bpftrace script variants, to find where a probe's cost per
// event goes: untraced, the bare one-liner, memtop's own script, and every candidate in
// test/bench/variants/<tab>-*.bt (same positional parameters as memtop's scripts). Runs are
// interleaved; prints the median time per event and its ratio to the one-liner.
//
//   node --import tsx test/bench/variants.ts --tab slab [--runs N] [--work-seconds S] [--events N]
//                                           [--also other-script.bt ...]
import {readdirSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {type TabId} from '../../source/types.js';
import {TAB_IDS} from '../../source/registry.js';
import {chooseScript} from '../../source/backends/bpftrace.js';
import {probeScript} from '../../source/backends/probe-files.js';
import {setUpSwap, type SwapSetup} from '../helpers/swap.js';
import {cleanupAll, installCleanupHooks, onCleanup} from './lib/cleanup.js';
import {sleep, spawnChild, type Child} from './lib/proc.js';
import {BPFTRACE, ONE_LINERS, SETTLE_MS, scriptArgs} from './lib/tracers.js';
import {CGROUP_TABS, startWorkload, workloadExtra, type Launcher} from './lib/workloads.js';
import {waitForQuiet} from './lib/quiet.js';
import {fixed, median, medianRatio, spread, table} from './lib/stats.js';

const VARIANTS_DIR = fileURLToPath(new URL('./variants/', import.meta.url));

interface Variant {
  name: string;
  /** bpftrace arguments, or undefined for untraced. */
  args?: string[];
}

function variantsFor(tab: TabId, also: string[]): Variant[] {
  const script = (file: string) => ['-B', 'line', '-f', 'json', file, ...scriptArgs(file)];
  const candidates = readdirSync(VARIANTS_DIR)
    .filter(file => file.startsWith(`${tab}-`) && file.endsWith('.bt'))
    .sort()
    .map(file => ({name: `variants/${file}`, args: script(path.join(VARIANTS_DIR, file))}));
  const memtopScript = chooseScript(tab).file;
  return [
    {name: 'untraced'},
    {name: 'one-liner', args: ['-e', ONE_LINERS[tab]]},
    {name: `probes/bpftrace/${memtopScript}`, args: script(probeScript('bpftrace', memtopScript))},
    ...candidates,
    ...also.map(file => ({name: file, args: script(path.resolve(file))})),
  ];
}

/** Start the variant's bpftrace; resolves once attached, with the ms from launch to its attach line. */
async function startTracer(variant: Variant): Promise<{child?: Child; attachMs: number}> {
  if (!variant.args) return {attachMs: Number.NaN};
  const child = spawnChild(`bpftrace ${variant.name}`, BPFTRACE, variant.args, {keepLines: 20});
  const attached = await child.waitForLine(line => /^Attach(?:ing|ed) \d+ probe|"attached_probes"/.test(line.text), 'its attach line', 60_000);
  await sleep(SETTLE_MS);
  return {child, attachMs: attached.at - child.startedAt};
}

interface Timing {
  wallNs: number;
  cpuNs: number;
  attachMs: number;
}

async function timeOnce(tab: TabId, variant: Variant, events: number, launcher?: Launcher): Promise<Timing> {
  const workload = await startWorkload(tab, {events, extra: workloadExtra(tab), launcher: CGROUP_TABS.has(tab) ? launcher : undefined});
  let tracer: Child | undefined;
  try {
    const started = await startTracer(variant);
    tracer = started.child;
    const result = await workload.go();
    return {wallNs: result.ns / result.events, cpuNs: result.cpuNs / result.events, attachMs: started.attachMs};
  } finally {
    await tracer?.stop();
    await workload.child.stop('SIGKILL');
  }
}

async function main(): Promise<void> {
  const {values} = parseArgs({
    options: {tab: {type: 'string'}, runs: {type: 'string'}, 'work-seconds': {type: 'string'}, events: {type: 'string'}, also: {type: 'string', multiple: true}},
  });
  const tab = values.tab as TabId;
  if (!TAB_IDS.includes(tab)) throw new Error(`--tab must be one of ${TAB_IDS.join(', ')}`);
  const runs = Number(values.runs ?? 5);
  installCleanupHooks();
  let swap: SwapSetup | undefined;
  if (CGROUP_TABS.has(tab)) {
    swap = await setUpSwap({swapMiB: 256, limitMiB: 32});
    const active = swap;
    onCleanup('swap file and memory cgroup', () => void active.tearDown());
  }
  const variants = variantsFor(tab, values.also ?? []);
  let events = Number(values.events ?? 0);
  if (!events) {
    // Size the runs so that the one-liner's takes about --work-seconds.
    const trial = await timeOnce(tab, variants[1]!, 20_000, swap?.launcher);
    events = Math.max(1000, Math.round((Number(values['work-seconds'] ?? 1) * 1e9) / trial.wallNs));
  }
  process.stderr.write(`variants: ${tab}: ${events} events per run, ${runs} runs of ${variants.length} variants\n`);
  for (const variant of variants) process.stderr.write(`  ${variant.name}: ${variant.args ? `bpftrace ${variant.args.join(' ')}` : 'no tracer'}\n`);
  const samples = new Map<string, Timing[]>(variants.map(variant => [variant.name, []]));
  const foreign = new Set<string>();
  for (let run = 0; run < runs; run++) {
    for (const variant of variants) {
      for (const entry of await waitForQuiet(30_000, text => process.stderr.write(`${text}\n`))) foreign.add(entry);
      const timing = await timeOnce(tab, variant, events, swap?.launcher);
      samples.get(variant.name)!.push(timing);
      process.stderr.write(`variants: ${tab} run ${run + 1}/${runs} ${variant.name}: ${timing.wallNs.toFixed(0)} ns/event (CPU ${timing.cpuNs.toFixed(0)}), attached in ${timing.attachMs.toFixed(0)} ms\n`);
    }
  }
  const pick = (name: string, key: keyof Timing) => samples.get(name)!.map(timing => timing[key]);
  const oneLiner = {wall: pick('one-liner', 'wallNs'), cpu: pick('one-liner', 'cpuNs')};
  const untraced = {wall: pick('untraced', 'wallNs'), cpu: pick('untraced', 'cpuNs')};
  process.stdout.write(
    table(
      `bpftrace script variants on the ${tab} workload: ${events} events per run, median of ${runs} runs`,
      ['variant', 'wall ns/event', 'minus untraced', '/one-liner', 'range', 'CPU ns/event', 'minus untraced', '/one-liner', 'launch → attached ms'],
      variants.map(variant => {
        const wall = pick(variant.name, 'wallNs');
        const cpu = pick(variant.name, 'cpuNs');
        return [
          variant.name,
          fixed(median(wall), 0),
          fixed(median(wall) - median(untraced.wall), 0),
          fixed(medianRatio(wall, oneLiner.wall), 3),
          spread(wall.map((value, index) => value / oneLiner.wall[index]!), 3),
          fixed(median(cpu), 0),
          fixed(median(cpu) - median(untraced.cpu), 0),
          fixed(medianRatio(cpu, oneLiner.cpu), 3),
          fixed(median(pick(variant.name, 'attachMs')), 0),
        ];
      }),
      foreign.size > 0 ? [`tracers the bench did not start were running during some runs: ${[...foreign].join(', ')}`] : [],
    ) + '\n',
  );
}

main().then(
  () => {
    cleanupAll();
    process.exit(0);
  },
  error => {
    process.stderr.write(`variants: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    cleanupAll();
    process.exit(1);
  },
);
