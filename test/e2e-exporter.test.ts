// End-to-end, memtop as a Prometheus exporter: the real memtop (--serve, real bpftrace, as root)
// scraped every second by a real Prometheus (Debian's package) while the test's own workloads run
// at known steady rates. Prometheus' rate() of each exported counter is compared with an
// independent bpftrace count of the same events over the same window, and each counter's total
// with the independent total, within 15%; promtool checks a scrape; a churn of short-lived
// processes under names of their own keeps the series of each metric within the bound; and bad
// input through the real CLI is one line and a non-zero exit with no tracer left behind.
import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import {createServer, type Server} from 'node:net';
import {after, afterEach, before, describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';
import type {TabId} from '../source/types.js';
import {DEFAULT_EXPORT_INTERVAL_MS} from '../source/flags.js';
import {childTracker, isRunning, startLineChild, stopWithDescendants, type LineChild} from './helpers/child-lines.js';
import {startIndependentCounter, type CountsAt, type IndependentCounter, type ProcessCount} from './helpers/independent-count.js';
import {freePort, startPrometheus, type Prometheus} from './helpers/prometheus.js';
import {startMemtopTerminal} from './helpers/memtop-terminal.js';
import {CLI, cannotRun} from './helpers/requirements.js';
import {bpftracesOf, memtopIn, tracersOf} from './helpers/tracer-processes.js';
import {waitForValue} from './helpers/wait-for-value.js';
import {buildWorkload, buildWorkloads, diskDirectory, startProgram, startWorkload, type RunningProgram, type RunningWorkload} from './helpers/workloads.js';

const CHECKOUT = fileURLToPath(new URL('..', import.meta.url));
const TOLERANCE = 0.15;
/** Every tab, malloc named, so every exported counter is checked. */
const EXPORT = ['malloc', 'brk', 'slab', 'majfault', 'anonpgin'];
/** Label sets per metric in the rate test: room for the workloads on a busy machine. */
const TOP = 50;
/** Label sets per metric in the churn test. */
const CHURN_TOP = 5;
/**
 * The rate test's --export-interval: rate() over its 23 s window is compared within 15%, and a
 * counter that moves once every 5 s (the default) could be a whole step off at each end of it.
 */
const RATE_INTERVAL_MS = 1000;
/** How long each workload runs at its steady rate. */
const RUN_SECONDS = 30;
/** The window compared: from this long after the workloads start to this long before they stop. */
const WINDOW_START_S = 5;
const WINDOW_END_BEFORE_STOP_S = 2;

/** Why this file cannot run here beyond what every end-to-end test needs, or undefined. */
function missingTool(): string | undefined {
  for (const tool of ['prometheus', 'promtool', 'gcc']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `needs ${tool} (apt-get install prometheus gcc)`;
  }
  return undefined;
}

/** Every child these tests start, and the tracers memtop started: none may outlive the tests. */
const children = childTracker();
const track = <T extends LineChild>(child: T): T => children.track(child);

function startMemtop(args: string[], what = `memtop ${args.join(' ')}`): LineChild {
  return track(startLineChild(process.execPath, [CLI, ...args], {what}));
}

/** Stop memtop and check that the tracers it started went with it. */
async function stopMemtop(memtop: LineChild): Promise<void> {
  await stopWithDescendants(memtop, children.descendants);
}

/** GET a URL: its status, content type and body. */
async function get(url: string, method = 'GET'): Promise<{status: number; type: string; body: string}> {
  const response = await fetch(url, {method});
  return {status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text()};
}

/** Series of an exposition by metric name (the metric families memtop exports, not the HELP/TYPE lines). */
function seriesByName(exposition: string): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0];
    byName.set(name, [...(byName.get(name) ?? []), line]);
  }
  return byName;
}

/** Wait until memtop serves every tab's tracer as up. */
async function waitForTracers(memtop: LineChild, port: number, tabs: string[]): Promise<string> {
  return waitForValue(
    async () => {
      if (memtop.hasExited()) throw new Error(`memtop exited\n${memtop.describe()}`);
      const got = await get(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
      return got && tabs.every(tab => got.body.includes(`memtop_tracer_up{tab="${tab}"} 1`)) ? got.body : undefined;
    },
    {timeoutMs: 90_000, intervalMs: 250, what: `memtop's tracers for ${tabs.join(', ')} to be up`},
    () => memtop.describe(),
  );
}

/**
 * The one bpftrace of this memtop (by its process tree) that runs every exported tab's views but
 * malloc's (malloc's uprobes go on each allocator file, in tracers of their own): fails unless
 * there is exactly one bpftrace besides malloc's and it runs a script of each of `tabs`.
 */
function assertOneTracerFor(memtop: number, tabs: readonly string[]): string[] {
  const tracers = bpftracesOf(memtop);
  const others = tracers.filter(tracer => !tracer.scripts.every(script => script.startsWith('malloc')));
  const describe = () => tracers.map(tracer => `${tracer.pid}: ${tracer.scripts.join('+')}`).join('; ');
  assert.equal(others.length, 1, `one bpftrace for ${tabs.join(', ')}: ${describe()}`);
  const scripts = others[0]!.scripts;
  for (const tab of tabs) assert.ok(scripts.some(script => script.startsWith(tab)), `the one bpftrace runs ${tab}'s script: ${describe()}`);
  // Every view of slab: by process (slab.bt) and by cache (slab-cache*.bt).
  if (tabs.includes('slab')) assert.ok(scripts.includes('slab.bt') && scripts.some(script => script.startsWith('slab-cache')), `both slab views in it: ${describe()}`);
  return scripts;
}

/** Wall-clock ms to the monotonic clock bpftrace's nsecs reads (process.hrtime reads the same). */
function monotonicOf(wallMs: number): number {
  return wallMs - (Date.now() - Number(process.hrtime.bigint()) / 1e6);
}

/** A process's count (or bytes) at a monotonic time, interpolated between a counter's periodic prints. */
function countAt(timeline: CountsAt[], pid: number, monotonicMs: number, field: 'count' | 'bytes'): number {
  const value = (point: CountsAt) => point.counts.get(pid)?.[field] ?? 0;
  const after = timeline.findIndex(point => point.monotonicMs >= monotonicMs);
  assert.ok(after > 0, `the independent counter printed around ${monotonicMs.toFixed(0)} ms (${timeline.length} prints, ${timeline[0]?.monotonicMs.toFixed(0)}-${timeline.at(-1)?.monotonicMs.toFixed(0)})`);
  const [low, high] = [timeline[after - 1]!, timeline[after]!];
  const share = (monotonicMs - low.monotonicMs) / (high.monotonicMs - low.monotonicMs);
  return value(low) + share * (value(high) - value(low));
}

/** How one exported counter is checked: against which independent count, per what. */
interface Check {
  metric: string;
  tab: TabId;
  /** The independent figure: events or bytes of the counter, or events times a known factor. */
  from: 'count' | 'bytes';
  factor?: () => number;
}

describe('memtop --serve end to end: a real Prometheus scrapes it while real workloads run', () => {
  let prometheus: Prometheus | undefined;
  const ports = {rate: 0, churn: 0};

  before(async () => {
    if (process.geteuid?.() !== 0 || missingTool() !== undefined) return;
    await buildWorkloads();
    await buildWorkload('wl_churn');
    ports.rate = await freePort();
    ports.churn = await freePort();
    prometheus = await startPrometheus([
      {job: 'memtop', port: ports.rate},
      {job: 'memtop-churn', port: ports.churn},
    ]);
  });

  afterEach(async () => {
    await children.stopAll();
  });

  after(async () => {
    await prometheus?.stop();
    assert.deepEqual(children.killLeftovers(), [], 'processes left running after the tests (killed now)');
  });

  it(`rate() and the total of every exported counter are within ${TOLERANCE * 100}% of an independent count; promtool passes a scrape`, {timeout: 300_000}, async t => {
    if (cannotRun(t, missingTool())) return;
    assert.ok(prometheus, 'prometheus is running');
    const note = (what: string) => t.diagnostic(what);
    const memtop = startMemtop(['--serve', `127.0.0.1:${ports.rate}`, '--export', EXPORT.join(','), '--export-interval', String(RATE_INTERVAL_MS), '--metrics-pid', '--metrics-top', String(TOP)]);
    const workloads: Partial<Record<TabId, RunningWorkload>> = {};
    const counters: Partial<Record<TabId, IndependentCounter>> = {};
    try {
      await waitForTracers(memtop, ports.rate, EXPORT);
      note(`memtop serves every tab; one bpftrace runs ${assertOneTracerFor(memtop.pid, EXPORT.filter(tab => tab !== 'malloc')).join(', ')}`);
      const disk = await diskDirectory();
      const runs: [TabId, number, string[]][] = [
        ['malloc', 10_000, []],
        ['brk', 500, []],
        ['slab', 500, []],
        ['majfault', 500, [disk]],
      ];
      for (const [tab, rate, extra] of runs) {
        workloads[tab] = await startWorkload(tab, {eventsPerSecond: rate, seconds: RUN_SECONDS, lingerSeconds: 1, extra}, {waitForGo: true});
        track(workloads[tab].process);
      }
      await Promise.all(Object.values(workloads).map(async workload => workload.ready()));
      const attach: string[] = [];
      for (const [tab] of runs) {
        const startedAt = Date.now();
        counters[tab] = await startIndependentCounter(tab, {bytes: true, everyMs: 500});
        track(counters[tab].process);
        attach.push(`${tab} ${Date.now() - startedAt} ms`);
      }
      note(`independent counters attached in ${attach.join(', ')}`);
      let targets: Awaited<ReturnType<Prometheus['targets']>> = [];
      await waitForValue(
        async () => (targets = await prometheus!.targets()).some(target => target.job === 'memtop' && target.health === 'up'),
        {timeoutMs: 60_000, what: 'prometheus to scrape memtop'},
        () => JSON.stringify(targets),
      );
      note('workloads ready, independent counters attached, prometheus scraping');

      const goAt = Date.now();
      for (const workload of Object.values(workloads)) workload.go();
      const done: Partial<Record<TabId, Record<string, unknown>>> = {};
      for (const [tab] of runs) done[tab] = await workloads[tab]!.done(RUN_SECONDS * 1000 + 30_000);
      for (const [tab] of runs) assert.equal((await workloads[tab]!.process.exited).exitCode, 0, workloads[tab]!.process.describe());
      const exitedAt = Date.now();
      note(`workloads done: ${runs.map(([tab]) => `${tab} ${String(done[tab]!.events)}`).join(', ')}`);

      // A scrape one memtop interval and more after the exits has every event; totals are read
      // at its time (once memtop stops, Prometheus marks its series stale).
      const settled = await waitForValue(
        async () => {
          const scraped = ((await prometheus!.query('timestamp(memtop_tracer_up{job="memtop",tab="brk"})'))[0]?.value ?? 0) * 1000;
          return scraped > exitedAt + RATE_INTERVAL_MS + 1500 ? scraped : undefined;
        },
        {timeoutMs: 30_000, intervalMs: 250, what: `a scrape ${(RATE_INTERVAL_MS + 1500) / 1000} s after the workloads exited`},
      );
      const scrape = await get(`http://127.0.0.1:${ports.rate}/metrics`);
      const totals = new Map<TabId, Map<number, ProcessCount>>();
      const timelines = new Map<TabId, CountsAt[]>();
      for (const [tab] of runs) {
        timelines.set(tab, counters[tab]!.timeline());
        totals.set(tab, await counters[tab]!.stop());
      }
      await stopMemtop(memtop);

      const promtool = spawnSync('promtool', ['check', 'metrics'], {input: scrape.body, encoding: 'utf8'});
      assert.equal(promtool.status, 0, `promtool check metrics: ${promtool.stdout}${promtool.stderr}`);
      assert.match(scrape.type, /^text\/plain; version=0\.0\.4/);
      note(`promtool passes a scrape of ${scrape.body.length} bytes`);

      const brkPerCall = () => Number(done.brk!.netBytes) / Number(done.brk!.events);
      const checks: Check[] = [
        {metric: 'memtop_malloc_calls_total', tab: 'malloc', from: 'count'},
        {metric: 'memtop_malloc_bytes_total', tab: 'malloc', from: 'bytes'},
        {metric: 'memtop_brk_calls_total', tab: 'brk', from: 'count'},
        // Every eighth brk of wl_brk gives back half of what one takes: growth per call is known.
        {metric: 'memtop_heap_growth_bytes_total', tab: 'brk', from: 'count', factor: brkPerCall},
        {metric: 'memtop_slab_allocations_total', tab: 'slab', from: 'count'},
        {metric: 'memtop_slab_bytes_total', tab: 'slab', from: 'bytes'},
        {metric: 'memtop_major_faults_total', tab: 'majfault', from: 'count'},
      ];
      const windowEnd = goAt + (RUN_SECONDS - WINDOW_END_BEFORE_STOP_S) * 1000;
      const windowSeconds = RUN_SECONDS - WINDOW_END_BEFORE_STOP_S - WINDOW_START_S;
      const windowStart = windowEnd - windowSeconds * 1000;
      const failures: string[] = [];
      for (const check of checks) {
        const pid = workloads[check.tab]!.pid;
        const factor = check.factor?.() ?? 1;
        const timeline = timelines.get(check.tab)!;
        const independentRate = ((countAt(timeline, pid, monotonicOf(windowEnd), check.from) - countAt(timeline, pid, monotonicOf(windowStart), check.from)) * factor) / windowSeconds;
        const selector = `${check.metric}{job="memtop",pid="${pid}"}`;
        const rate = await prometheus.query(`sum(rate(${selector}[${windowSeconds}s]))`, windowEnd / 1000);
        // Summed, as the rate is: a process that execs (each workload starts as setpriv) has a series per name.
        const series = await prometheus.query(selector, settled / 1000);
        const independentTotal = (totals.get(check.tab)!.get(pid)?.[check.from] ?? 0) * factor;
        const memtopRate = rate[0]?.value ?? 0;
        const memtopTotal = series.reduce((sum, sample) => sum + sample.value, 0);
        if (series.length > 1) note(`${selector}: ${series.length} series, ${series.map(sample => `${JSON.stringify(sample.metric)} ${sample.value}`).join('; ')}`);
        const off = (value: number, expected: number) => Math.abs(value - expected) / expected;
        note(`${check.metric}: rate ${memtopRate.toFixed(1)}/s vs ${independentRate.toFixed(1)}/s (${(off(memtopRate, independentRate) * 100).toFixed(1)}%), total ${memtopTotal} vs ${independentTotal.toFixed(0)} (${(off(memtopTotal, independentTotal) * 100).toFixed(1)}%)`);
        assert.ok(independentRate > 0 && independentTotal > 0, `the independent ${check.tab} counter saw ${workloads[check.tab]!.spec.name}: ${counters[check.tab]!.program}`);
        if (off(memtopRate, independentRate) > TOLERANCE) failures.push(`rate of ${selector} over [${windowStart}, ${windowEnd}] is ${memtopRate}, the independent count's ${independentRate}`);
        if (off(memtopTotal, independentTotal) > TOLERANCE) failures.push(`${selector} is ${memtopTotal}, the independent count ${independentTotal}`);
      }
      // The cache view is machine-wide: the workload's files are a floor (a pipe, a file and a socket a round).
      const filp = await prometheus.query(`sum(rate(memtop_slab_cache_allocations_total{job="memtop",cache="filp"}[${windowSeconds}s]))`, windowEnd / 1000);
      note(`filp allocations ${filp[0]?.value.toFixed(1)}/s while wl_slab opened 4 files 500 times a second`);
      if ((filp[0]?.value ?? 0) < 3 * 500 * (1 - TOLERANCE)) failures.push(`rate of memtop_slab_cache_allocations_total{cache="filp"} is ${filp[0]?.value}, below wl_slab's own files`);
      const families = seriesByName(scrape.body);
      for (const name of ['memtop_anon_pageins_total', 'memtop_slab_cache_bytes_total', 'memtop_build_info', 'memtop_tracer_restarts_total', 'memtop_tracer_skipped_lines_total']) {
        if (!families.has(name)) failures.push(`no ${name} in the scrape`);
      }
      for (const tab of EXPORT) if (!scrape.body.includes(`memtop_tracer_restarts_total{tab="${tab}"} 0`)) failures.push(`${tab}'s tracer restarted`);
      assert.deepEqual(failures, []);
    } finally {
      for (const counter of Object.values(counters)) await counter.process.stop('SIGKILL');
      await memtop.stop('SIGKILL');
      for (const workload of Object.values(workloads)) await workload.process.stop('SIGKILL');
    }
  });

  it(`churn at the default interval: ~6,000 short-lived processes a minute under names of their own keep every metric within ${CHURN_TOP} + 1 series`, {timeout: 180_000}, async t => {
    if (cannotRun(t, missingTool())) return;
    assert.ok(prometheus, 'prometheus is running');
    const memtop = startMemtop(['--serve', `127.0.0.1:${ports.churn}`, '--export', 'brk,slab', '--metrics-pid', '--metrics-top', String(CHURN_TOP)]);
    let churn: RunningProgram | undefined;
    try {
      const first = await waitForTracers(memtop, ports.churn, ['brk', 'slab']);
      assertOneTracerFor(memtop.pid, ['brk', 'slab']);
      const otherBefore = otherBrk(first);
      const children = 100 * 12;
      churn = await startProgram('wl_churn', {eventsPerSecond: 100, seconds: 12, lingerSeconds: 0}, {waitForGo: true});
      track(churn.process);
      await churn.ready();
      const goAt = Date.now();
      churn.go();
      let scrapes = 0;
      let most = 0;
      // memtop's own answer, every half second while the churn runs.
      while (!churn.process.hasExited() || scrapes < 4) {
        const body = (await get(`http://127.0.0.1:${ports.churn}/metrics`)).body;
        scrapes++;
        for (const [name, series] of seriesByName(body)) {
          if (!name.endsWith('_total') || name.startsWith('memtop_tracer_')) continue;
          most = Math.max(most, series.length);
          assert.ok(series.length <= CHURN_TOP + 1, `${series.length} series of ${name}:\n${series.join('\n')}`);
        }
        await new Promise(resolve => setTimeout(resolve, 500));
      }
      assert.equal((await churn.process.exited).exitCode, 0, churn.process.describe());
      const endedAt = Date.now();
      // What Prometheus stored, second by second.
      let stored = 0;
      for (let at = goAt + 1000; at <= endedAt; at += 1000) {
        const counts = await prometheus.query('count by (__name__) ({job="memtop-churn",__name__=~"memtop_(brk|heap|slab).*_total"})', at / 1000);
        stored += counts.length;
        for (const sample of counts) assert.ok(sample.value <= CHURN_TOP + 1, `Prometheus had ${sample.value} series of ${sample.metric.__name__} at ${new Date(at).toISOString()}`);
      }
      assert.ok(stored > 0, `Prometheus stored no series of the churn's memtop: ${JSON.stringify(await prometheus.targets())}`);
      // The churn reached memtop: its brk calls (three a child) are in other, but for the few with
      // series (the last children's come with memtop's next interval, up to 5 s later).
      const floor = 3 * (children - CHURN_TOP) * (1 - TOLERANCE);
      let otherGrew = 0;
      await waitForValue(
        async () => (otherGrew = otherBrk((await get(`http://127.0.0.1:${ports.churn}/metrics`)).body) - otherBefore) >= floor,
        {timeoutMs: 5000 + 2 * DEFAULT_EXPORT_INTERVAL_MS, intervalMs: 250, what: `other's brk calls to grow by ${floor} for ${children} children of 3 brk calls each`},
        () => `it grew by ${otherGrew}`,
      );
      t.diagnostic(`${scrapes} scrapes, at most ${most} series per metric; other brk calls grew by ${otherGrew} for ${children} children`);
      await stopMemtop(memtop);
    } finally {
      await churn?.process.stop('SIGKILL');
      await memtop.stop('SIGKILL');
    }
  });

  it('--serve --tui: the TUI and the exporter share the exported tabs\' tracers; q ends both', {timeout: 120_000}, async t => {
    if (cannotRun(t, missingTool())) return;
    const port = await freePort();
    const terminal = startMemtopTerminal(['--serve', `127.0.0.1:${port}`, '--export', 'brk,majfault', '--tui', '--tab', 'brk']);
    try {
      await terminal.waitFor(screen => /probe tracepoint:syscalls:sys_exit_brk/.test(screen), 'the brk tab running', 60_000);
      const memtop = memtopIn(terminal);
      // A tracer as the scripts it runs: brk.bt+majfault.bt is the exporter's two tabs in one bpftrace.
      const scripts = () => bpftracesOf(memtop).map(tracer => tracer.scripts.join('+')).sort().join(' ');
      const exactly = async (wanted: string, what: string) =>
        waitForValue(() => scripts() === wanted, {timeoutMs: 20_000, what}, () => `tracers: ${scripts()}\n${terminal.screen()}`);
      await exactly('brk.bt+majfault.bt', 'one tracer for the exporter\'s brk and majfault tabs, its brk shared with the TUI');
      const metrics = await get(`http://127.0.0.1:${port}/metrics`);
      assert.match(metrics.body, /^memtop_tracer_up\{tab="brk"\} 1$/m);
      terminal.keys('4');
      await terminal.waitFor(screen => /probe software:major-faults/.test(screen), 'the major faults tab', 30_000);
      await exactly('brk.bt+majfault.bt', 'the same one tracer with the major faults tab on screen');
      terminal.keys('3');
      // A new tracer compiles and attaches: seconds on a loaded two-CPU machine.
      await terminal.waitFor(screen => /probe tracepoint:kmem/.test(screen), 'the slab tab', 30_000);
      await exactly('brk.bt+majfault.bt slab.bt', 'a slab tracer for the TUI alone (slab is not exported)');
      terminal.keys('q');
      await waitForValue(() => !isRunning(memtop) && tracersOf(memtop).length === 0, {timeoutMs: 5000, what: 'memtop and its tracers gone after q'});
      await assert.rejects(get(`http://127.0.0.1:${port}/metrics`), 'nothing serves once memtop has quit');
    } finally {
      await terminal.close();
    }
  });

  it('bad input through the real CLI: a port in use, a second memtop, a bad address are one line each, non-zero, no tracer left; the endpoint serves /metrics only', {timeout: 120_000}, async t => {
    if (cannotRun(t, missingTool())) return;
    const ours = () => new Set(spawnSync('pgrep', ['-f', '--', `${CHECKOUT}probes/`], {encoding: 'utf8'}).stdout.split('\n').filter(Boolean).map(Number));
    const run = (args: string[]) => {
      const before = ours();
      const result = spawnSync(process.execPath, [CLI, ...args], {encoding: 'utf8', timeout: 60_000});
      const left = [...ours()].filter(pid => !before.has(pid));
      assert.deepEqual(left, [], `memtop ${args.join(' ')} left tracers running: ${left.map(pid => execFileSync('ps', ['-o', 'args=', '-p', String(pid)], {encoding: 'utf8'}).trim()).join('; ')}`);
      assert.equal(result.stdout, '', `memtop ${args.join(' ')} printed on stdout`);
      const lines = result.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, `memtop ${args.join(' ')} said one line, not:\n${result.stderr}`);
      return {status: result.status, line: lines[0]!};
    };

    // A port something else holds.
    const port = await freePort();
    const holder: Server = createServer();
    await new Promise<void>(resolve => holder.listen(port, '127.0.0.1', resolve));
    try {
      const held = run(['--serve', `127.0.0.1:${port}`]);
      assert.equal(held.status, 1);
      assert.equal(held.line, `memtop: cannot serve on 127.0.0.1:${port}: the port is in use (another memtop?): pick another with --serve HOST:PORT`);
    } finally {
      holder.close();
    }

    // A second memtop on a port the first serves on: the first goes on serving.
    const first = startMemtop(['--serve', `127.0.0.1:${port}`, '--export', 'majfault']);
    try {
      await waitForTracers(first, port, ['majfault']);
      const second = run(['--serve', `127.0.0.1:${port}`, '--export', 'majfault']);
      assert.equal(second.status, 1);
      assert.match(second.line, /the port is in use \(another memtop\?\)/);
      // The endpoint: /metrics by GET or HEAD and nothing else.
      const url = `http://127.0.0.1:${port}`;
      assert.equal((await get(`${url}/metrics`)).status, 200);
      assert.equal((await get(`${url}/metrics`, 'HEAD')).status, 200);
      for (const path of ['/', '/metrics/x', '/debug/pprof', '/-/reload']) assert.equal((await get(`${url}${path}`)).status, 404, path);
      for (const method of ['POST', 'PUT', 'DELETE']) assert.equal((await get(`${url}/metrics`, method)).status, 405, method);
      await stopMemtop(first);
    } finally {
      await first.stop('SIGKILL');
    }

    // TEST-NET-1 is never this machine's; a name is not an address; a port out of range.
    const absent = run(['--serve', '192.0.2.1:9464']);
    assert.equal(absent.status, 1);
    assert.match(absent.line, /^memtop: cannot serve on 192\.0\.2\.1:9464: no interface of this machine has that address/);
    const named = run(['--serve', 'localhost:9464']);
    assert.equal(named.status, 2);
    assert.match(named.line, /^memtop: --serve "localhost:9464": localhost is not an IP address/);
    const range = run(['--serve', '127.0.0.1:99999']);
    assert.equal(range.status, 2);
    assert.match(range.line, /out of range/);
    const batch = run(['--serve', '--batch']);
    assert.equal(batch.status, 2);
  });
});

/** The other series of memtop_brk_calls_total in an exposition (0 when absent). */
function otherBrk(exposition: string): number {
  const line = exposition.split('\n').find(candidate => candidate.startsWith('memtop_brk_calls_total{') && candidate.includes('comm="other"'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
