// Node agent benchmark (issue 27): what `memtop --serve` costs a node at the default export, memtop
// and its tracers together: their PSS (proportional set size: shared pages split among the
// processes that map them, so tracers sharing LLVM are not counted once each) and their CPU, as
// a share of one core, over a window while Prometheus-style scrapes come every 15 s; first on an
// idle machine, then under the exporter test's churn (short-lived processes under names of their own).
//
//   node --import tsx test/bench/agent.ts [--seconds 90] [--settle 30] [--churn-per-minute 6000] [--export TABS] [--shared-cgroup] [--image IMAGE | --memtop CLI]
//
// memtop runs in a memory cgroup of its own, made beside the bench's, as in a pod or a service
// (--shared-cgroup: in the bench's, as when started from a shell), so that it can give back the
// pages its tracers' start took (readme, Fleet) and only its own pages are charged there.
//
// --image runs memtop from its image (deploy/Containerfile) with podman, as the readme's Fleet
// section says; --memtop another build's cli.js (main's, to compare); otherwise this checkout's
// dist/cli.js, run as the installed `memtop` command runs it (the Node flags of its shebang line
// apply, as they do in the image). CPU is noisy on a shared machine: it is given as the median of the window's 15 s
// slices (and the window's mean). RSS is what a container's memory limit is charged nearer to:
// pages of LLVM shared among tracers count once in PSS and in each tracer's RSS. Needs root,
// bpftrace and gcc.
import {execFileSync} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, rmdirSync} from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {DEFAULT_EXPORT} from '../../source/flags.js';
import {ownMemoryCgroup} from '../../source/system/start-pages.js';
import {buildWorkload} from '../helpers/workloads.js';
import {freePort} from '../helpers/prometheus.js';
import {cleanupAll, descendants, installCleanupHooks, onCleanup} from './lib/cleanup.js';
import {commOf, cpuSecondsPrecise, sleep, spawnChild, type Child} from './lib/proc.js';
import {MEMTOP_CLI, memtopArgv, useMemtop} from './lib/tracers.js';
import {fixed, table} from './lib/stats.js';

const {values} = parseArgs({
  options: {
    seconds: {type: 'string', default: '90'},
    settle: {type: 'string', default: '30'},
    'churn-per-minute': {type: 'string', default: '6000'},
    export: {type: 'string', default: DEFAULT_EXPORT.join(',')},
    image: {type: 'string'},
    memtop: {type: 'string'},
    'shared-cgroup': {type: 'boolean', default: false},
  },
});
const seconds = Number(values.seconds);
if (values.memtop) useMemtop(values.memtop);
const exported = values.export.split(',');
const SCRAPE_EVERY_MS = 15_000;

/** A process's PSS, RSS and anonymous memory in kB, from /proc/<pid>/smaps_rollup; 0 when it has gone. */
function memoryKb(pid: number): {pss: number; rss: number; anon: number} {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
    return {pss: field('Pss'), rss: field('Rss'), anon: field('Anonymous')};
  } catch {
    return {pss: 0, rss: 0, anon: 0};
  }
}

/** memtop and every process under it (its tracers, and the setpriv or shell that start them). */
function agentPids(root: number): number[] {
  return [root, ...descendants(root)];
}

interface Figures {
  pssMb: number;
  rssMb: number;
  /** The tracers' anonymous memory (the rest of their RSS is file pages: bpftrace's LLVM and Clang). */
  tracerAnonMb: number;
  tracerRssMb: number;
  memtopPssMb: number;
  memtopRssMb: number;
  tracers: number;
  /** The median of the window's slices' CPU shares of one core. */
  cpuShare: number;
  cpuMean: number;
  /** memtop's own (node's) share of the window's CPU. */
  memtopCpuMean: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** Over `seconds`, a scrape every 15 s: the agent's median PSS and RSS at each scrape, its CPU share of one core per slice between scrapes. */
async function measure(root: number, port: number): Promise<Figures> {
  // Processes seen in the window, so that a tracer's CPU still counts after it has gone.
  const seen = new Set<number>(agentPids(root));
  const cpuNow = () => {
    for (const pid of agentPids(root)) seen.add(pid);
    return [...seen].reduce((sum, pid) => sum + (cpuSecondsPrecise(pid) ?? 0), 0);
  };
  const startedAt = performance.now();
  const cpuStart = cpuNow();
  const memtopCpuStart = cpuSecondsPrecise(root) ?? 0;
  let sliceCpu = cpuStart;
  let sliceAt = startedAt;
  const samples: {pss: number; rss: number; memtop: number; memtopRss: number; tracerAnon: number; tracerRss: number; tracers: number}[] = [];
  const slices: number[] = [];
  while (performance.now() - startedAt < seconds * 1000) {
    await fetch(`http://127.0.0.1:${port}/metrics`).then(async response => response.text());
    const pids = agentPids(root);
    const memory = pids.map(memoryKb);
    const own = memoryKb(root);
    const tracers = pids.filter(pid => pid !== root).map(memoryKb);
    samples.push({
      pss: memory.reduce((sum, one) => sum + one.pss, 0),
      rss: memory.reduce((sum, one) => sum + one.rss, 0),
      memtop: own.pss,
      memtopRss: own.rss,
      tracerAnon: tracers.reduce((sum, one) => sum + one.anon, 0),
      tracerRss: tracers.reduce((sum, one) => sum + one.rss, 0),
      tracers: pids.filter(pid => commOf(pid) === 'bpftrace').length,
    });
    await sleep(Math.min(SCRAPE_EVERY_MS, seconds * 1000 - (performance.now() - startedAt)));
    const cpu = cpuNow();
    const now = performance.now();
    if (now - sliceAt > 1000) slices.push((cpu - sliceCpu) / ((now - sliceAt) / 1000));
    sliceCpu = cpu;
    sliceAt = now;
  }
  const elapsed = (performance.now() - startedAt) / 1000;
  return {
    pssMb: median(samples.map(sample => sample.pss)) / 1024,
    rssMb: median(samples.map(sample => sample.rss)) / 1024,
    memtopPssMb: median(samples.map(sample => sample.memtop)) / 1024,
    memtopRssMb: median(samples.map(sample => sample.memtopRss)) / 1024,
    tracerAnonMb: median(samples.map(sample => sample.tracerAnon)) / 1024,
    tracerRssMb: median(samples.map(sample => sample.tracerRss)) / 1024,
    tracers: Math.max(...samples.map(sample => sample.tracers)),
    cpuShare: median(slices),
    cpuMean: (cpuNow() - cpuStart) / elapsed,
    memtopCpuMean: ((cpuSecondsPrecise(root) ?? 0) - memtopCpuStart) / elapsed,
  };
}

async function startAgent(port: number): Promise<{child: Child; root: () => number}> {
  const args = ['--serve', `127.0.0.1:${port}`, '--export', exported.join(',')];
  if (!values.image) {
    const [file, ...argv] = memtopArgv(args);
    if (values['shared-cgroup']) {
      const child = spawnChild('memtop --serve', file!, argv, {stdout: 'ignore'});
      return {child, root: () => child.pid};
    }
    const cgroup = ownCgroup();
    // The shell joins the cgroup and becomes memtop (exec): the same pid, its tracers started inside.
    const child = spawnChild('memtop --serve in a cgroup of its own', '/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, file!, ...argv], {stdout: 'ignore'});
    return {child, root: () => child.pid};
  }
  const name = `memtop-bench-agent-${process.pid}`;
  onCleanup('the agent container', () => {
    try {
      execFileSync('podman', ['rm', '-f', '-t', '0', name], {stdio: 'ignore'});
    } catch {
      // gone already
    }
  });
  const child = spawnChild('memtop --serve in its image', 'podman', [
    '--runtime', 'runc', 'run', '--rm', '--name', name, '--privileged', '--pid=host', '--cgroupns=host', '--network=host',
    '-v', '/sys/kernel/tracing:/sys/kernel/tracing', values.image, ...args,
  ], {stdout: 'ignore'});
  return {child, root: () => Number(execFileSync('podman', ['inspect', '--format', '{{.State.Pid}}', name], {encoding: 'utf8'}).trim())};
}

/** A memory cgroup for the agent beside the bench's own (memtop's choice of one: ownMemoryCgroup), removed at the end. */
function ownCgroup(): string {
  const own = ownMemoryCgroup();
  if ('skipped' in own) throw new Error(`no memory cgroup to make the agent one in (${own.skipped}; --shared-cgroup runs it in the bench's)`);
  const directory = path.join(path.dirname(own.cgroup), `memtop-bench-agent-${process.pid}`);
  mkdirSync(directory);
  onCleanup('the agent cgroup', () => {
    // Its processes were killed just before (teardowns run newest first); the cgroup goes once they have.
    for (let tries = 0; tries < 50 && existsSync(directory); tries++) {
      try {
        rmdirSync(directory);
      } catch {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      }
    }
  });
  return directory;
}

async function main(): Promise<void> {
  installCleanupHooks();
  const port = await freePort();
  const agent = await startAgent(port);
  const deadline = performance.now() + 300_000;
  for (;;) {
    const body = await fetch(`http://127.0.0.1:${port}/metrics`).then(async response => response.text(), () => '');
    if (exported.every(tab => body.includes(`memtop_tracer_up{tab="${tab}"} 1`))) break;
    if (agent.child.hasExited() || performance.now() > deadline) throw new Error(`memtop's tracers did not come up\n${agent.child.tail()}`);
    await sleep(500);
  }
  await sleep(Number(values.settle) * 1000);
  const root = agent.root();
  const idle = await measure(root, port);
  const churnPerSecond = Number(values['churn-per-minute']) / 60;
  const churnBinary = await buildWorkload('wl_churn');
  const churn = spawnChild('wl_churn', churnBinary, [String(churnPerSecond), String(seconds + 10), '0'], {stdout: 'ignore'});
  await sleep(5000);
  const busy = await measure(root, port);
  await churn.stop('SIGKILL');
  const row = (what: string, figures: Figures) => [
    what,
    fixed(figures.pssMb, 1),
    fixed(figures.memtopPssMb, 1),
    fixed(figures.rssMb, 1),
    fixed(figures.memtopRssMb, 1),
    fixed(figures.tracerRssMb, 1),
    fixed(figures.tracerAnonMb, 1),
    String(figures.tracers),
    `${fixed(figures.cpuShare * 100, 2)}%`,
    `${fixed(figures.cpuMean * 100, 2)}%`,
    `${fixed(figures.memtopCpuMean * 100, 2)}%`,
  ];
  process.stdout.write(
    table(
      `memtop --serve --export ${exported.join(',')} (${values.image ? `image ${values.image}` : MEMTOP_CLI}), ${seconds} s windows, a scrape every 15 s`,
      ['node', 'PSS MB, all', 'PSS MB, memtop', 'RSS MB, all', 'RSS MB, memtop', 'RSS MB, tracers', 'anon MB, tracers', 'tracers', 'CPU, median of 15 s', 'CPU, window', 'CPU, window, memtop'],
      [row('idle', idle), row(`churn ${values['churn-per-minute']}/min`, busy)],
      ['PSS and RSS: the median of the samples; CPU: memtop and its tracers, as a share of one core'],
    ) + '\n',
  );
  await agent.child.stop('SIGTERM');
}

main()
  .catch(error => {
    process.stderr.write(`agent bench: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
