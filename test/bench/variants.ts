// Times one tab's workload under bpftrace script variants, to find where a probe's cost per
// event goes: untraced, the bare one-liner, memtop's own script, and every candidate in
// test/bench/variants/<tab>-*.bt (same positional parameters as memtop's scripts). Runs are
// interleaved; prints the median time per event and its ratio to the one-liner.
//
//   node --import tsx test/bench/variants.ts --tab slab [--runs N] [--work-seconds S] [--events N]
import {readdirSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {TAB_IDS, type TabId} from '../../source/types.js';
import {chooseProbe} from '../../source/backends/bpftrace.js';
import {findLibc, probeScript} from '../../source/backends/probe-files.js';
import {setUpSwap, type SwapSetup} from '../helpers/swap.js';
import {cleanupAll, installCleanupHooks, onCleanup} from './lib/cleanup.js';
import {sleep, spawnChild, type Child} from './lib/proc.js';
import {BPFTRACE, ONE_LINERS, SETTLE_MS} from './lib/tracers.js';
import {startWorkload, type Launcher} from './lib/workloads.js';
import {waitForQuiet} from './lib/quiet.js';
import {fixed, median, medianRatio, spread, table} from './lib/stats.js';

const VARIANTS_DIR = fileURLToPath(new URL('./variants/', import.meta.url));

interface Variant {
  name: string;
  /** bpftrace arguments, or undefined for untraced. */
  args?: string[];
}

function variantsFor(tab: TabId): Variant[] {
  const scriptArgs = ['1000', '0', '0', ...(tab === 'malloc' || tab === 'brk' ? [findLibc()!] : [])];
  const candidates = readdirSync(VARIANTS_DIR)
    .filter(file => file.startsWith(`${tab}-`) && file.endsWith('.bt'))
    .sort()
    .map(file => ({name: `variants/${file}`, args: ['-B', 'line', '-f', 'json', path.join(VARIANTS_DIR, file), ...scriptArgs]}));
  const script = chooseProbe(tab).script;
  return [
    {name: 'untraced'},
    {name: 'one-liner', args: ['-e', ONE_LINERS[tab]]},
    {name: `probes/bpftrace/${script}`, args: ['-B', 'line', '-f', 'json', probeScript('bpftrace', script), ...scriptArgs]},
    ...candidates,
  ];
}

async function startTracer(variant: Variant): Promise<Child | undefined> {
  if (!variant.args) return undefined;
  const child = spawnChild(`bpftrace ${variant.name}`, BPFTRACE, variant.args, {keepLines: 20});
  await child.waitForLine(line => /^Attaching \d+ probe|"attached_probes"/.test(line.text), 'its attach line', 60_000);
  await sleep(SETTLE_MS);
  return child;
}

async function timeOnce(tab: TabId, variant: Variant, events: number, launcher?: Launcher): Promise<number> {
  const workload = await startWorkload(tab, {events, extra: tab === 'anonpgin' ? ['128'] : [], launcher: tab === 'anonpgin' ? launcher : undefined});
  let tracer: Child | undefined;
  try {
    tracer = await startTracer(variant);
    const result = await workload.go();
    return result.ns / result.events;
  } finally {
    await tracer?.stop();
    await workload.child.stop('SIGKILL');
  }
}

async function main(): Promise<void> {
  const {values} = parseArgs({options: {tab: {type: 'string'}, runs: {type: 'string'}, 'work-seconds': {type: 'string'}, events: {type: 'string'}}});
  const tab = values.tab as TabId;
  if (!TAB_IDS.includes(tab)) throw new Error(`--tab must be one of ${TAB_IDS.join(', ')}`);
  const runs = Number(values.runs ?? 5);
  installCleanupHooks();
  let swap: SwapSetup | undefined;
  if (tab === 'anonpgin') {
    swap = await setUpSwap({swapMiB: 256, limitMiB: 32});
    const active = swap;
    onCleanup('swap file and memory cgroup', () => void active.tearDown());
  }
  const variants = variantsFor(tab);
  let events = Number(values.events ?? 0);
  if (!events) {
    // Size the runs so that the one-liner's takes about --work-seconds.
    const perEvent = await timeOnce(tab, variants[1]!, 20_000, swap?.launcher);
    events = Math.max(1000, Math.round((Number(values['work-seconds'] ?? 1) * 1e9) / perEvent));
  }
  process.stderr.write(`variants: ${tab}: ${events} events per run, ${runs} runs of ${variants.length} variants\n`);
  const samples = new Map<string, number[]>(variants.map(variant => [variant.name, []]));
  const foreign = new Set<string>();
  for (let run = 0; run < runs; run++) {
    for (const variant of variants) {
      for (const entry of await waitForQuiet(30_000, text => process.stderr.write(`${text}\n`))) foreign.add(entry);
      const perEvent = await timeOnce(tab, variant, events, swap?.launcher);
      samples.get(variant.name)!.push(perEvent);
      process.stderr.write(`variants: ${tab} run ${run + 1}/${runs} ${variant.name}: ${perEvent.toFixed(0)} ns/event\n`);
    }
  }
  const oneLiner = samples.get('one-liner')!;
  const untraced = samples.get('untraced')!;
  process.stdout.write(
    table(
      `bpftrace script variants on the ${tab} workload: ${events} events per run, median of ${runs} runs`,
      ['variant', 'ns/event', 'minus untraced', '/one-liner', 'range'],
      variants.map(variant => {
        const values = samples.get(variant.name)!;
        return [variant.name, fixed(median(values), 0), fixed(median(values) - median(untraced), 0), fixed(medianRatio(values, oneLiner), 3), spread(values.map((value, index) => value / oneLiner[index]!), 3)];
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
