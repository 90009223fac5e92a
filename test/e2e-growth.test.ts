// End-to-end, the growth tab on real runtimes: CPython keeping dicts, node keeping JS objects and
// Buffers, Go growing its heap, C touching an mmap'd area. Each runs beside a control that faults
// far more but keeps nothing (wl_minflt, a 2 MiB area mapped and unmapped over and over); the real
// memtop (batch JSON, real bpftrace, as root) watches both, and the workload's net growth over the
// window it grew in must be within 15% of its own RSS growth (RssAnon + RssFile + RssShmem in
// /proc/PID/status, sampled by the test over the same window), and it must rank above the control.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {mkdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {after, afterEach, before, describe, it, type TestContext} from 'node:test';
import {fileURLToPath} from 'node:url';
import {DEFAULT_EXPORT_INTERVAL_MS} from '../source/flags.js';
import {childTracker, startLineChild, stopWithDescendants, type LineChild} from './helpers/child-lines.js';
import {cannotRun, CLI} from './helpers/requirements.js';
import {buildWorkloads, startWorkload, WORKLOAD_BIN_DIR} from './helpers/workloads.js';
import {freePort} from './helpers/prometheus.js';
import {waitForValue} from './helpers/wait-for-value.js';

const RUNTIMES = fileURLToPath(new URL('fixtures/runtimes/', import.meta.url));
const TOLERANCE = 0.15;
/** What wl_growth maps unless told otherwise (test/fixtures/workloads/wl_growth.c). */
const WL_GROWTH_AREA_MIB = 256;
const INTERVAL_MS = 500;
const GROW_SECONDS = 4;
/**
 * The drill-down's interval: each interval bpftrace prints and clears the half of its stack map
 * that the last one filled, naming every frame; a JIT runtime's hundreds of deep stacks take it
 * longer than 0.5 s on a loaded machine, and events counted into a half while it is still being
 * printed are lost (node's drill-down measured 74% of its growth at 0.5 s under load).
 */
const DRILL_INTERVAL_MS = 2000;

const children = childTracker();
const track = <T extends LineChild>(child: T): T => children.track(child);

/** Resident bytes now as /proc/PID/status says: RssAnon + RssFile + RssShmem (or the fields named). */
function residentOf(pid: number, fields = ['RssAnon', 'RssFile', 'RssShmem']): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  let bytes = 0;
  for (const field of fields) {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    assert.ok(match, `${field} in /proc/${pid}/status`);
    bytes += Number(match[1]) * 1024;
  }
  return bytes;
}

/** /proc/PID/status read every 25 ms with the wall clock, to compare with memtop's intervals by their stamps. */
function sampleResident(pid: number): {at: (ms: number) => number; stop: () => void} {
  const samples: [number, number][] = [];
  const take = () => {
    try {
      samples.push([Date.now(), residentOf(pid)]);
    } catch {
      // gone
    }
  };
  take();
  const timer = setInterval(take, 25);
  return {
    at: (ms: number) => {
      let best = samples[0]!;
      for (const sample of samples) if (Math.abs(sample[0] - ms) < Math.abs(best[0] - ms)) best = sample;
      return best[1];
    },
    stop: () => clearInterval(timer),
  };
}

/** One row of `memtop --batch --json --tab growth`. */
interface GrowthRow {
  pid: number;
  comm: string;
  net: number;
  anon: number;
  file: number;
  freed: number;
  rss: number;
  totalNet: number;
}

interface GrowthSnapshot {
  tab: string;
  time: string;
  rows: GrowthRow[];
  skippedLines?: number;
  skippedSample?: string;
}

interface StackSnapshot {
  tab: string;
  pid: number;
  stacks: {count: number; bytes: number; where?: {mapping: string; count: number; bytes?: number}[]; frames: string[]}[];
}

function startMemtop(args: string[], intervalMs = INTERVAL_MS): LineChild {
  return track(startLineChild(process.execPath, [CLI, '--batch', '--json', '--tab', 'growth', '--interval', String(intervalMs), '--iterations', '400', ...args], {what: `memtop --tab growth ${args.join(' ')}`}));
}

/** A program that prints {"phase":"ready"}, grows once sent SIGUSR1, then prints {"phase":"done"} and idles. */
interface Grower {
  name: string;
  process: LineChild;
  pid: number;
  /** The mapping most of its growth is in, when the test knows it. */
  mapping?: string;
  /** The functions its growing stack must show, innermost first. */
  chain?: string[];
  /**
   * Where the drill-down is known to fall short of the growth: V8's garbage collector grows the
   * heap from several threads at once, and on a loaded machine node's drill-down has measured
   * 74-88% of the growth its table counts in full (not stack-id collisions: 1 in 4,667 stacks
   * failed). The shortfall is reported as a TODO with its figure, not hidden.
   */
  drillShortfall?: string;
}

function startGrower(name: string, file: string, args: string[], env: Record<string, string> = {}): Grower {
  const child = track(startLineChild(file, args, {what: name, env}));
  return {name, process: child, pid: child.pid};
}

/** The Go workload, built once per system into the workloads' bin directory. */
function goBinary(): string {
  const directory = path.join(WORKLOAD_BIN_DIR, 'go');
  mkdirSync(directory, {recursive: true});
  const binary = path.join(directory, 'grow');
  execFileSync('go', ['build', '-o', binary, path.join(RUNTIMES, 'grow.go')], {
    env: {...process.env, GOCACHE: path.join(directory, 'cache'), GOPATH: path.join(directory, 'path'), GO111MODULE: 'off', GOTOOLCHAIN: 'local', GOFLAGS: ''},
    stdio: 'pipe',
  });
  return binary;
}

/** Why a runtime is missing here, or undefined. */
function missingRuntime(command: string): string | undefined {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], {stdio: 'ignore'});
    return undefined;
  } catch {
    return `needs ${command}`;
  }
}

const isSnapshot = (record: Record<string, unknown>): boolean => record.tab === 'growth' && Array.isArray(record.rows);
const isStacks = (record: Record<string, unknown>): boolean => record.tab === 'growth' && Array.isArray(record.stacks);

/** A process's since-start net growth as of a snapshot: its row's, else the last one before it, else 0. */
function totalNetAt(snapshots: GrowthSnapshot[], index: number, pid: number): number {
  for (let at = index; at >= 0; at--) {
    const row = snapshots[at]!.rows.find(candidate => candidate.pid === pid);
    if (row) return row.totalNet;
  }
  return 0;
}

/**
 * Start the grower and the control, memtop on the growth tab and its drill-down into the grower;
 * once both print, let the grower grow; take the snapshot after it is done; compare.
 */
async function checkGrower(t: TestContext, grower: Grower): Promise<void> {
  const note = (what: string): void => t.diagnostic(what);
  const control = await startWorkload('minfault', {eventsPerSecond: 5000, seconds: 120, extra: ['2']}, {waitForGo: true});
  track(control.process);
  await Promise.all([grower.process.waitForRecord(record => record.phase === 'ready', `${grower.name}'s ready line`, 30_000), control.ready()]);
  control.go();
  const memtop = startMemtop(['--limit', '100']);
  const drill = startMemtop(['--pid', String(grower.pid), '--stacks', '--limit', '100'], DRILL_INTERVAL_MS);
  await Promise.all([memtop.waitForRecord(isSnapshot, 'its first snapshot', 90_000), drill.waitForRecord(isStacks, 'its first stacks', 90_000)]);
  const resident = sampleResident(grower.pid);
  try {
    const goAt = Date.now();
    process.kill(grower.pid, 'SIGUSR1');
    await grower.process.waitForRecord(record => record.phase === 'done', `${grower.name}'s done line`, GROW_SECONDS * 1000 + 30_000);
    const doneAt = Date.now();
    await memtop.waitForRecord(record => isSnapshot(record) && Date.parse(String(record.time)) > doneAt + INTERVAL_MS, 'a snapshot after the growth', 10_000);
    await drill.waitForRecord(record => isStacks(record) && Date.parse(String(record.time)) > doneAt + DRILL_INTERVAL_MS, 'stacks after the growth', 10_000 + DRILL_INTERVAL_MS);
    await stopWithDescendants(memtop, children.descendants);
    await stopWithDescendants(drill, children.descendants);
    resident.stop();

    const snapshots = memtop.records.filter(isSnapshot) as unknown as GrowthSnapshot[];
    for (const snapshot of snapshots) assert.equal(snapshot.skippedLines, undefined, `memtop skipped ${snapshot.skippedLines} tracer lines, the latest ${JSON.stringify(snapshot.skippedSample)}: ${JSON.stringify(snapshot).slice(0, 400)}`);
    const stamp = (snapshot: GrowthSnapshot) => Date.parse(snapshot.time);
    const first = snapshots.findLastIndex(snapshot => stamp(snapshot) < goAt);
    const last = snapshots.findIndex(snapshot => stamp(snapshot) > doneAt + INTERVAL_MS);
    assert.ok(first >= 0 && last > first, `snapshots before the growth and after it: ${snapshots.length}`);
    const net = totalNetAt(snapshots, last, grower.pid) - totalNetAt(snapshots, first, grower.pid);
    const expected = resident.at(stamp(snapshots[last]!)) - resident.at(stamp(snapshots[first]!));
    const controlNet = totalNetAt(snapshots, last, control.pid) - totalNetAt(snapshots, first, control.pid);
    note(`${grower.name}: memtop's net ${(net / 1048576).toFixed(2)} MiB, /proc/${grower.pid}/status ${(expected / 1048576).toFixed(2)} MiB; control ${(controlNet / 1048576).toFixed(2)} MiB`);
    assert.ok(expected > 4 * 1048576, `${grower.name} grew only ${expected} bytes by its own status`);
    assert.ok(Math.abs(net - expected) / expected <= TOLERANCE, `memtop's net growth ${net} is ${((Math.abs(net - expected) / expected) * 100).toFixed(1)}% off the status's ${expected}`);
    // Each interval of the growth, the rows memtop ranks by net: among the watched, the grower first.
    const during = snapshots.slice(first + 1, last);
    const watched = (snapshot: GrowthSnapshot) => snapshot.rows.filter(row => row.pid === grower.pid || row.pid === control.pid);
    const onTop = during.filter(snapshot => watched(snapshot)[0]?.pid === grower.pid).length;
    note(`${grower.name} on top of the watched in ${onTop} of ${during.length} intervals`);
    assert.ok(net > controlNet, `${grower.name}'s net ${net} ranks above the control's ${controlNet}`);
    assert.ok(onTop * 2 > during.length, `${grower.name} on top of the watched processes in ${onTop} of ${during.length} intervals`);
    assert.ok(snapshots[last]!.rows.find(row => row.pid === grower.pid)!.rss > 0, 'its RSS now');

    const stacks = (drill.records.filter(isStacks) as unknown as StackSnapshot[]).filter(line => line.pid === grower.pid).flatMap(line => line.stacks);
    const places = new Map<string, number>();
    for (const stack of stacks) for (const place of stack.where ?? []) places.set(place.mapping, (places.get(place.mapping) ?? 0) + (place.bytes ?? 0));
    const drilled = stacks.reduce((sum, stack) => sum + stack.bytes, 0);
    note(`drill-down: ${(drilled / 1048576).toFixed(2)} MiB in ${stacks.length} stacks; by mapping ${JSON.stringify(Object.fromEntries([...places].map(([name, bytes]) => [name, Math.round(bytes / 1024) + ' KiB'])))}`);
    const top = [...stacks].sort((a, b) => b.bytes - a.bytes)[0];
    if (top) note(`its top stack: ${top.frames.slice(0, 8).join(' <- ')}`);
    if (grower.drillShortfall && drilled < expected * (1 - TOLERANCE)) {
      t.todo(`${grower.drillShortfall}: the drill-down's stacks made ${drilled} bytes resident, the process grew ${expected}`);
      return;
    }
    assert.ok(drilled >= expected * (1 - TOLERANCE), `the drill-down's stacks made ${drilled} bytes resident, the process grew ${expected}`);
    if (grower.mapping) {
      const inMapping = places.get(grower.mapping) ?? 0;
      assert.ok(inMapping >= expected * (1 - TOLERANCE), `${inMapping} bytes in ${grower.mapping}, of ${expected}: ${JSON.stringify(Object.fromEntries(places))}`);
    }
    if (grower.chain) {
      const chain = grower.chain;
      const shows = stacks.filter(stack => chain.every((frame, index) => stack.frames[stack.frames.indexOf(chain[0]!) + index] === frame));
      const bytes = shows.reduce((sum, stack) => sum + stack.bytes, 0);
      assert.ok(bytes >= expected * (1 - TOLERANCE), `stacks through ${chain.join(' <- ')} made ${bytes} bytes resident of ${expected}`);
    }
  } finally {
    resident.stop();
    await memtop.stop('SIGKILL');
    await drill.stop('SIGKILL');
    await grower.process.stop('SIGKILL');
    await control.process.stop('SIGKILL');
  }
}

describe('the growth tab on real runtimes', () => {
  before(async () => {
    if (process.geteuid?.() === 0) await buildWorkloads();
  });

  afterEach(async () => {
    await children.stopAll();
  });

  after(() => {
    assert.deepEqual(children.killLeftovers(), [], 'processes left running after the tests (killed now)');
  });

  it('C touching an mmap\'d anonymous area: net growth as its status says, in anon, from wl_leaf_grow <- wl_outer_grow <- main', {timeout: 180_000}, async t => {
    if (cannotRun(t)) return;
    const workload = await startWorkload('growth', {eventsPerSecond: 1500, seconds: GROW_SECONDS, lingerSeconds: 60}, {waitForGo: true});
    await checkGrower(t, {name: 'wl_growth', process: track(workload.process), pid: workload.pid, mapping: 'anon', chain: ['wl_leaf_grow', 'wl_outer_grow', 'main']});
  });

  it(`--serve exports the growth counters, and each process's RSS and untouched bytes as gauges equal to its status's`, {timeout: 180_000}, async t => {
    if (cannotRun(t)) return;
    const workload = await startWorkload('growth', {eventsPerSecond: 1500, seconds: GROW_SECONDS, lingerSeconds: 60}, {waitForGo: true});
    track(workload.process);
    await workload.ready();
    const port = await freePort();
    const memtop = track(startLineChild(process.execPath, [CLI, '--serve', `127.0.0.1:${port}`, '--export', 'growth', '--metrics-pid'], {what: 'memtop --serve --export growth'}));
    const scrape = async (): Promise<string | undefined> => {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
      return response?.ok ? response.text() : undefined;
    };
    // Summed over the pid's series: its growth before it exec'd (it starts as setpriv) may have a series of that name.
    const valueIn = (exposition: string, metric: string): number | undefined => {
      const lines = exposition.split('\n').filter(candidate => candidate.startsWith(`${metric}{`) && candidate.includes(`pid="${workload.pid}"`));
      return lines.length === 0 ? undefined : lines.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    };
    try {
      await waitForValue(async () => ((await scrape())?.includes('memtop_tracer_up{tab="growth"} 1') ? true : undefined), {timeoutMs: 60_000, intervalMs: 250, what: 'the growth tracer up'}, () => memtop.describe());
      const anonBefore = residentOf(workload.pid, ['RssAnon']);
      workload.go();
      const done = await workload.done();
      // The exporter's tracer prints every interval (the default here): two more hold everything the workload did.
      await new Promise(resolve => setTimeout(resolve, 2 * DEFAULT_EXPORT_INTERVAL_MS + 500));
      const exposition = (await scrape()) ?? '';
      const resident = residentOf(workload.pid);
      const anonGrown = residentOf(workload.pid, ['RssAnon']) - anonBefore;
      const untouched = residentOf(workload.pid, ['VmData', 'VmStk']) - residentOf(workload.pid, ['RssAnon', 'VmSwap']);
      const gauge = valueIn(exposition, 'memtop_resident_bytes');
      const untouchedGauge = valueIn(exposition, 'memtop_untouched_bytes');
      const anon = valueIn(exposition, 'memtop_resident_anon_bytes_total');
      // What the workload itself knows: it mapped AREA_MIB and wrote to one page per event.
      const areaLeft = WL_GROWTH_AREA_MIB * 1048576 - Number(done.events) * Number(execFileSync('getconf', ['PAGESIZE'], {encoding: 'utf8'}));
      t.diagnostic(`memtop_resident_bytes ${gauge} against status ${resident}; memtop_untouched_bytes ${untouchedGauge} against status ${untouched} (its area's untouched part ${areaLeft}); memtop_resident_anon_bytes_total ${anon} against RssAnon's growth ${anonGrown}`);
      assert.ok(gauge !== undefined, `no memtop_resident_bytes series for pid ${workload.pid}:\n${exposition.split('\n').filter(line => line.startsWith('memtop_resident')).join('\n')}`);
      // Both read from the status as an interval ended, with the workload idle since: equal but for a page or two of its own.
      assert.ok(Math.abs(gauge - resident) <= 65_536, `memtop_resident_bytes ${gauge}, /proc/${workload.pid}/status ${resident}`);
      assert.ok(untouchedGauge !== undefined && Math.abs(untouchedGauge - untouched) <= 65_536, `memtop_untouched_bytes ${untouchedGauge}, /proc/${workload.pid}/status ${untouched}`);
      assert.ok(untouchedGauge >= areaLeft && untouchedGauge < areaLeft + 16 * 1048576, `memtop_untouched_bytes ${untouchedGauge} holds the ${areaLeft} bytes of its area not touched, and little else`);
      assert.match(exposition, /^# TYPE memtop_untouched_bytes gauge$/m);
      assert.match(exposition, /^# TYPE memtop_resident_bytes gauge$/m);
      assert.ok(anon !== undefined && anonGrown > 0 && Math.abs(anon - anonGrown) / anonGrown <= TOLERANCE, `memtop_resident_anon_bytes_total ${anon}, RssAnon grew ${anonGrown}`);
    } finally {
      await stopWithDescendants(memtop, children.descendants);
    }
  });

  it('/usr/bin/python3 keeping dicts (its own arenas, not malloc)', {timeout: 180_000}, async t => {
    if (cannotRun(t, missingRuntime('/usr/bin/python3'))) return;
    await checkGrower(t, startGrower('python3', '/usr/bin/python3', [path.join(RUNTIMES, 'keep-objects.py'), '20000', String(GROW_SECONDS)]));
  });

  it('node keeping JS objects (V8\'s heap)', {timeout: 180_000}, async t => {
    if (cannotRun(t, missingRuntime('node'))) return;
    await checkGrower(t, {...startGrower('node objects', process.execPath, [path.join(RUNTIMES, 'keep.js'), 'objects', '40000', String(GROW_SECONDS)]), drillShortfall: "V8's collector threads: the drill-down falls short under load"});
  });

  it('node keeping Buffers (memory outside V8\'s heap)', {timeout: 180_000}, async t => {
    if (cannotRun(t, missingRuntime('node'))) return;
    await checkGrower(t, startGrower('node buffers', process.execPath, [path.join(RUNTIMES, 'keep.js'), 'buffers', '80', String(GROW_SECONDS)]));
  });

  it('Go growing its heap', {timeout: 180_000}, async t => {
    if (cannotRun(t, missingRuntime('go'))) return;
    await checkGrower(t, startGrower('go', goBinary(), ['80', String(GROW_SECONDS)]));
  });
});
