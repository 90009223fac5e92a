// memtop's benchmark (`npm run bench`, not part of `npm test`): what memtop costs the traced
// workload, its own CPU and memory, how fast it answers, and what a big interval costs to
// render. Prints one table per section to stdout; progress goes to stderr.
//
//   npm run bench -- [--only overhead,cost,latency,render,live,side,allocators] [--runs N] [--seconds N] [--live-rates 10000,...]
//                    [--work-seconds S] [--cost-modes batch,tui] [--tabs malloc,brk,...] [--quiet-wait S] [--busy-scale X]
//                    [--memtop PATH] [--memtop-env NAME=value,...] [--processes N] [--stacks N]
//                    [--side-cases tui10,tui100,batch10,batch100] [--side-seconds S] [--side-warmup S] [--alloc-counts 1,10,100]
//
// Needs root, bpftrace, gcc and tmux (and htop for the side section; musl-gcc, go and libjemalloc2
// for the allocators section). Everything it starts (workloads, tracers, memtop, its private tmux
// server, the swap file and memory cgroup) is gone when it ends, however it ends.
import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import os from 'node:os';
import {parseArgs} from 'node:util';
import {type TabId} from '../../source/types.js';
import {TAB_IDS} from '../../source/registry.js';
import {setUpSwap, type SwapSetup} from '../helpers/swap.js';
import {cleanupAll, installCleanupHooks, onCleanup} from './lib/cleanup.js';
import {foreignTracers} from './lib/proc.js';
import {MEMTOP_CLI, MEMTOP_ENV, useMemtop} from './lib/tracers.js';
import {buildWorkloads, CGROUP_TABS} from './lib/workloads.js';
import {startBusy, type Busy} from './lib/busy.js';
import {measureOverhead, overheadTable} from './overhead.js';
import {costTable, measureCost, type CostMode} from './cost.js';
import {latencyTable, measureLatency} from './latency.js';
import {measureRender, renderTable} from './render.js';
import {liveTable, measureLive} from './live.js';
import {measureSide, SIDE_CASES, sideTable, type SideCase} from './side.js';
import {allocatorsTable, findJemalloc, measureAllocators} from './allocators.js';

const SECTIONS = ['overhead', 'cost', 'latency', 'render', 'live', 'side', 'allocators'] as const;
type Section = (typeof SECTIONS)[number];
const COST_MODES: readonly CostMode[] = ['batch', 'tui'];

const USAGE = `usage: npm run bench -- [options]
  --only LIST          sections to run, comma-separated: ${SECTIONS.join(',')} (default: all)
  --runs N             runs per figure, medians over them (default 5; fewer is for trying the bench out)
  --seconds N          cost section: seconds per tab (default 60)
  --work-seconds S     overhead and allocators sections: aimed-at length of one run (default 1)
  --cost-modes LIST   cost section: batch,tui (default both)
  --memtop-env LIST    extra environment for every memtop started, e.g. NODE_ENV=production
  --memtop PATH        the memtop to measure (default: dist/cli.js of this checkout)
  --tabs LIST          tabs to measure (default: ${TAB_IDS.join(',')})
  --quiet-wait S       wait up to S seconds for tracers the bench did not start to go (default 60)
  --busy-scale X       scale the busy workloads' event rates (default 1)
  --processes N        render section: distinct processes (default 10000)
  --stacks N           render section: distinct stacks (default 1000)
  --live-rates LIST    live section: allocations per second, comma-separated (default 10000,100000,1000000)
  --live-seconds S     live section: seconds of work per run at the asked rate (default 2)
  --side-cases LIST    side section: ${SIDE_CASES.join(',')} (default all)
  --side-seconds S     side section: seconds measured per case and run (default 30)
  --side-warmup S      side section: seconds from memtop's first table to the measured window (default 30)
  --alloc-counts LIST  allocators section: numbers of distinct allocator files to attach, beside 0 (default 1,10,100)`;

export interface BenchOptions {
  sections: Section[];
  costModes: CostMode[];
  runs: number;
  seconds: number;
  workSeconds: number;
  tabs: TabId[];
  quietWaitMs: number;
  busyScale: number;
  memtopEnv: Record<string, string>;
  memtop?: string;
  processes: number;
  stacks: number;
  liveRates: number[];
  liveSeconds: number;
  sideCases: SideCase[];
  sideSeconds: number;
  sideWarmup: number;
  allocCounts: number[];
}

/** Parse the bench's flags; throws with the usage on anything it does not know. */
export function parseBenchArgs(argv: string[]): BenchOptions {
  const {values} = parseArgs({
    args: argv,
    options: {
      only: {type: 'string'},
      runs: {type: 'string'},
      seconds: {type: 'string'},
      'work-seconds': {type: 'string'},
      'cost-modes': {type: 'string'},
      tabs: {type: 'string'},
      'quiet-wait': {type: 'string'},
      'busy-scale': {type: 'string'},
      'memtop-env': {type: 'string'},
      memtop: {type: 'string'},
      processes: {type: 'string'},
      stacks: {type: 'string'},
      'live-rates': {type: 'string'},
      'live-seconds': {type: 'string'},
      'side-cases': {type: 'string'},
      'side-seconds': {type: 'string'},
      'side-warmup': {type: 'string'},
      'alloc-counts': {type: 'string'},
      help: {type: 'boolean'},
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  const number = (text: string | undefined, fallback: number, name: string, min = 0) => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number ≥ ${min}\n${USAGE}`);
    return value;
  };
  const list = <T extends string>(text: string | undefined, all: readonly T[], name: string): T[] => {
    if (text === undefined) return [...all];
    const items = text.split(',').map(item => item.trim()).filter(Boolean);
    const bad = items.filter(item => !all.includes(item as T));
    if (bad.length > 0 || items.length === 0) throw new Error(`--${name}: unknown ${bad.join(', ') || '(empty)'}; choose from ${all.join(', ')}\n${USAGE}`);
    return items as T[];
  };
  return {
    sections: list(values.only, SECTIONS, 'only'),
    costModes: list(values['cost-modes'], COST_MODES, 'cost-modes'),
    runs: Math.round(number(values.runs, 5, 'runs', 1)),
    seconds: number(values.seconds, 60, 'seconds', 1),
    workSeconds: number(values['work-seconds'], 1, 'work-seconds', 0.05),
    tabs: list(values.tabs, TAB_IDS, 'tabs'),
    quietWaitMs: number(values['quiet-wait'], 60, 'quiet-wait') * 1000,
    busyScale: number(values['busy-scale'], 1, 'busy-scale', 0.01),
    memtop: values.memtop,
    memtopEnv: Object.fromEntries(
      (values['memtop-env'] ?? '')
        .split(',')
        .filter(Boolean)
        .map(pair => {
          const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(pair);
          if (!match) throw new Error(`--memtop-env: "${pair}" is not NAME=value\n${USAGE}`);
          return [match[1]!, match[2]!];
        }),
    ),
    processes: Math.round(number(values.processes, 10_000, 'processes', 100)),
    stacks: Math.round(number(values.stacks, 1000, 'stacks', 100)),
    liveRates: (values['live-rates'] ?? '10000,100000,1000000').split(',').map(rate => Math.round(number(rate.trim(), 0, 'live-rates', 1))),
    liveSeconds: number(values['live-seconds'], 2, 'live-seconds', 0.1),
    sideCases: list(values['side-cases'], SIDE_CASES, 'side-cases'),
    sideSeconds: number(values['side-seconds'], 30, 'side-seconds', 1),
    sideWarmup: number(values['side-warmup'], 30, 'side-warmup', 0),
    allocCounts: (values['alloc-counts'] ?? '1,10,100').split(',').map(count => Math.round(number(count.trim(), 0, 'alloc-counts', 1))),
  };
}

const log = (text: string) => process.stderr.write(`${text}\n`);

function machine(): string {
  const bpftrace = (() => {
    try {
      return execFileSync('bpftrace', ['--version'], {encoding: 'utf8'}).trim();
    } catch {
      return 'bpftrace: not found';
    }
  })();
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {encoding: 'utf8', cwd: new URL('../..', import.meta.url).pathname}).trim();
    } catch {
      return '?';
    }
  })();
  return `memtop bench · commit ${commit} · ${new Date().toISOString()} · Linux ${os.release()} · ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}) · ${Math.round(os.totalmem() / 2 ** 30)} GiB · node ${process.version} · ${bpftrace}`;
}

function preflight(options: BenchOptions): void {
  if (process.getuid?.() !== 0) throw new Error('the bench needs root (it runs bpftrace and sets up swap)');
  if (!existsSync(MEMTOP_CLI)) throw new Error(`${MEMTOP_CLI} is missing: run npm run build (npm run bench does)`);
  const shebang = readFileSync(MEMTOP_CLI, 'utf8').split('\n', 1)[0] ?? '';
  if (!shebang.startsWith('#!')) throw new Error(`${MEMTOP_CLI} has no shebang line: the bench runs it as the memtop command does`);
  const needs = new Set<string>();
  if (options.sections.some(section => section !== 'render')) needs.add('bpftrace').add('gcc');
  if (options.sections.includes('latency') || options.sections.includes('side')) needs.add('tmux');
  if (options.sections.includes('side')) needs.add('htop').add('top');
  if (options.sections.includes('allocators')) needs.add('musl-gcc').add('go');
  const packages: Record<string, string> = {top: 'procps', 'musl-gcc': 'musl-tools', go: 'golang-go'};
  for (const tool of needs) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], {stdio: 'ignore'});
    } catch {
      throw new Error(`${tool} is needed: apt-get install -y ${packages[tool] ?? tool}`);
    }
  }
  if (options.sections.includes('allocators')) findJemalloc();
}

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
    return;
  }
  installCleanupHooks();
  if (options.memtop) useMemtop(options.memtop);
  preflight(options);
  Object.assign(MEMTOP_ENV, options.memtopEnv);
  process.stdout.write(`${machine()}\n`);
  process.stdout.write(`memtop runs as ${MEMTOP_CLI} through its shebang: ${readFileSync(MEMTOP_CLI, 'utf8').split('\n', 1)[0]}\n`);
  if (Object.keys(options.memtopEnv).length > 0) process.stdout.write(`memtop started with ${Object.entries(options.memtopEnv).map(([key, value]) => `${key}=${value}`).join(' ')}\n`);
  if (options.runs < 5) process.stdout.write(`only ${options.runs} run(s) per figure: for trying the bench out, not for quoting\n`);
  const foreign = foreignTracers();
  if (foreign.length > 0) process.stdout.write(`tracers the bench did not start, running at its start: ${foreign.join(', ')}\n`);
  process.stdout.write('\n');

  const tracing = options.sections.some(section => section !== 'render');
  if (tracing) buildWorkloads();
  const needsSwap = options.sections.includes('cost') || options.sections.includes('latency') || (options.sections.includes('overhead') && options.tabs.some(tab => CGROUP_TABS.has(tab)));
  let swap: SwapSetup | undefined;
  if (needsSwap) {
    log('setting up a 256 MiB swap file and a 32 MiB memory cgroup');
    swap = await setUpSwap({swapMiB: 256, limitMiB: 32});
    const active = swap;
    onCleanup('swap file and memory cgroup', () => void active.tearDown());
  }

  try {
    if (options.sections.includes('overhead')) {
      const results = await measureOverhead({tabs: options.tabs, runs: options.runs, workSeconds: options.workSeconds, quietWaitMs: options.quietWaitMs, swapLauncher: swap?.launcher, log});
      process.stdout.write(`${overheadTable(results, options.runs)}\n`);
    }
    let busy: Busy | undefined;
    try {
      if (options.sections.includes('cost') || options.sections.includes('latency')) {
        log('starting the five busy workloads');
        busy = await startBusy({scale: options.busyScale, swapLauncher: swap?.launcher});
      }
      if (options.sections.includes('cost')) {
        const results = await measureCost({tabs: options.tabs, modes: options.costModes, runs: options.runs, seconds: options.seconds, quietWaitMs: options.quietWaitMs, log});
        process.stdout.write(`${costTable(results, {runs: options.runs, seconds: options.seconds})}\n`);
      }
      if (options.sections.includes('latency')) {
        const result = await measureLatency({tabs: options.tabs, runs: options.runs, quietWaitMs: options.quietWaitMs, log});
        process.stdout.write(`${latencyTable(result, options.runs)}\n`);
      }
    } finally {
      await busy?.stop();
    }
    if (options.sections.includes('live')) {
      const samples = await measureLive({rates: options.liveRates, runs: options.runs, seconds: options.liveSeconds, quietWaitMs: options.quietWaitMs, log});
      process.stdout.write(`${liveTable(samples, {runs: options.runs, seconds: options.liveSeconds})}\n`);
    }
    if (options.sections.includes('render')) {
      const steps = await measureRender({runs: options.runs, processes: options.processes, stacks: options.stacks, log});
      process.stdout.write(`${renderTable(steps, options.runs)}\n`);
    }
    if (options.sections.includes('side')) {
      const side = {runs: options.runs, seconds: options.sideSeconds, warmupSeconds: options.sideWarmup, tuiTab: 'slab' as const, batchTab: 'malloc' as const};
      const result = await measureSide({...side, cases: options.sideCases, quietWaitMs: options.quietWaitMs, log});
      process.stdout.write(`${sideTable(result, side)}\n`);
    }
    if (options.sections.includes('allocators')) {
      const results = await measureAllocators({runs: options.runs, workSeconds: options.workSeconds, counts: options.allocCounts, quietWaitMs: options.quietWaitMs, log});
      process.stdout.write(`${allocatorsTable(results, options.runs)}\n`);
    }
  } finally {
    cleanupAll();
  }
  const left = foreignTracers().filter(entry => !foreign.includes(entry));
  if (left.length > 0) log(`bench: tracers that appeared during the run and are still there (not the bench's): ${left.join(', ')}`);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  error => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    cleanupAll();
    process.exit(1);
  },
);
