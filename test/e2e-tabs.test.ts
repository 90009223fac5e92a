// End-to-end, one test per tab: the real memtop CLI (batch JSON mode, real bpftrace, as root)
// against a C workload the test starts, checked against an independent bpftrace count of the
// same events, with a drill-down into the workload running alongside that must name its wl_* functions.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, afterEach, before, describe, it, type TestContext} from 'node:test';
import {fileURLToPath} from 'node:url';
import type {TabId} from '../source/types.js';
import {childTracker, startLineChild, stopWithDescendants, type LineChild} from './helpers/child-lines.js';
import {startIndependentCounter, type IndependentCounter, type ProcessCount} from './helpers/independent-count.js';
import {tracersOf} from './helpers/tracer-processes.js';
import {readVmstat, setUpSwap, swapsNow, type SwapSetup} from './helpers/swap.js';
import {waitForValue} from './helpers/wait-for-value.js';
import {buildWorkloads, diskDirectory, startWorkload, WORKLOADS, type Launcher, type WorkloadRun} from './helpers/workloads.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
/** How far memtop's total for the workload may be from the independent count. */
const TOLERANCE = 0.15;
const INTERVAL_MS = 500;
const TOP_ROWS = 10;

/** One snapshot line of `memtop --batch --json`. */
interface Snapshot {
  tab: string;
  time: string;
  rows: {pid: number; comm: string; count: number; totalCount: number}[];
  skippedLines?: number;
  skippedSample?: string;
}

/** One row of `memtop --batch --json --tab slab --group cache`. */
interface CacheRow {
  cache: string;
  count: number;
  bytes: number;
}

/** One drill-down line of `memtop --batch --json --pid N --stacks`. */
interface StackSnapshot {
  tab: string;
  pid: number;
  comm?: string;
  stacks: {count: number; ms?: number; where?: {mapping: string; count: number}[]; frames: string[]}[];
  histogram?: {min: number; max: number; count: number}[];
  histogramUnit?: string;
  skippedLines?: number;
}

/** What each tab's workload does once memtop, its drill-down and the counter are attached. */
interface Scenario {
  /** A burst of known length, then an idle second (so that the drill-down can still name its frames), then exit. */
  run: WorkloadRun;
  /** The fewest events the independent counter must see for the workload (checks the workload itself). */
  minimumCounted: (events: number) => number;
}

const BURST = {seconds: 3, lingerSeconds: 1};

const SCENARIOS: Record<TabId, Scenario> = {
  malloc: {run: {eventsPerSecond: 10_000, ...BURST}, minimumCounted: events => events},
  brk: {run: {eventsPerSecond: 1000, ...BURST}, minimumCounted: events => events},
  // Each round is pipe2, openat and socket (and their closes): over a dozen slab objects.
  slab: {run: {eventsPerSecond: 1000, ...BURST}, minimumCounted: events => events * 3},
  majfault: {run: {eventsPerSecond: 1000, ...BURST}, minimumCounted: events => events},
  // 64 MiB touched in a 32 MiB cgroup: nearly every read is a swap-in (readahead included).
  anonpgin: {run: {eventsPerSecond: 2000, ...BURST, extra: ['64']}, minimumCounted: events => events / 2},
  // Every event is the first write to a fresh page: one minor fault.
  minfault: {run: {eventsPerSecond: 20_000, ...BURST}, minimumCounted: events => events},
  // 64 MiB written in a 32 MiB cgroup: the kernel reclaims in batches, so far fewer stalls than writes.
  reclaim: {run: {eventsPerSecond: 5000, ...BURST, extra: ['64']}, minimumCounted: () => 20},
  // Every event is the first write to a fresh page of a mapped area: one page made resident (e2e-growth.test.ts checks the bytes).
  growth: {run: {eventsPerSecond: 20_000, ...BURST}, minimumCounted: events => events},
};

/** Where a workload runs: through a launcher (into a cgroup), with extra arguments (a directory). */
interface WorkloadSetting {
  launcher?: Launcher;
  extra?: string[];
  /** Checks of the tab's own beyond the count and the stacks. */
  also?: (seen: Seen) => void;
}

/** What one tab's run saw, for a tab's own checks. */
interface Seen {
  pid: number;
  snapshots: Snapshot[];
  drills: StackSnapshot[];
  independent: ProcessCount;
  note: (what: string) => void;
}

/** Why these tests cannot run here, or undefined when they can. */
function unmetPrerequisite(): string | undefined {
  if (process.platform !== 'linux') return 'the end-to-end tests need Linux';
  if (process.getuid?.() !== 0) return 'the end-to-end tests need root (bpftrace attaches probes)';
  for (const tool of ['bpftrace', 'gcc']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], {stdio: 'ignore'});
    } catch {
      return `${tool} is not installed`;
    }
  }
  if (!existsSync(CLI)) return `${CLI} is missing: run npm run build first`;
  return undefined;
}

/** Under CI a test that cannot run fails; elsewhere it is skipped with the reason. Returns true when it must stop. */
function cannotRun(t: TestContext): boolean {
  const reason = unmetPrerequisite();
  if (reason === undefined) return false;
  if (IN_CI) assert.fail(`cannot run under CI: ${reason}`);
  t.skip(reason);
  return true;
}

/** Every child these tests start, and the tracers memtop started: none may outlive the tests. */
const children = childTracker();
const track = <T extends LineChild>(child: T): T => children.track(child);

function startMemtop(args: string[]): LineChild {
  return track(startLineChild(process.execPath, [CLI, '--batch', '--json', ...args], {what: `memtop ${args.join(' ')}`}));
}

/** Stop memtop and check that the tracers it started went with it. */
async function stopMemtop(memtop: LineChild): Promise<void> {
  await stopWithDescendants(memtop, children.descendants);
}

/** glibc's start code, the only named frames a stack may have past main. */
const START_FRAMES = new Set(['__libc_start_call_main', '__libc_start_main', '__libc_start_main_impl', '__libc_start_main_alias_2', '_start']);

/** The address ranges a process has mapped executable, read while it runs. */
function executableRanges(pid: number): [bigint, bigint][] {
  return readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .map(line => /^([0-9a-f]+)-([0-9a-f]+) ..x/.exec(line))
    .filter(match => match !== null)
    .map(match => [BigInt(`0x${match[1]}`), BigInt(`0x${match[2]}`)]);
}

/**
 * Why a stack's frames are not what a user should see, or undefined when they are: every frame is
 * one whole symbol (no "+offset", no escape text, no indentation), an unnamed frame is an address
 * in the process's code, and nothing but glibc's start code lies past main.
 */
function frameProblem(frames: string[], code: [bigint, bigint][]): string | undefined {
  for (const frame of frames) {
    if (frame === '' || frame !== frame.trim() || /[\\\n]|\+\d+$/.test(frame)) return `frame ${JSON.stringify(frame)} is not one clean symbol`;
    if (/^0x[0-9a-f]+$/i.test(frame)) {
      const address = BigInt(frame);
      if (!code.some(([low, high]) => address >= low && address < high)) return `frame ${frame} is not in the process's code`;
    }
  }
  const main = frames.lastIndexOf('main');
  if (main !== -1) {
    const past = frames.slice(main + 1);
    if (past.length > 3 || past.some(frame => !START_FRAMES.has(frame) && !/^0x[0-9a-f]+$/i.test(frame))) return `frames past main: ${past.join(' <- ')}`;
  }
  return undefined;
}

/**
 * Whether the stack shows the workload's call chain as whole frames, innermost first: one of its
 * leaf functions, then its outer function, then main.
 */
function showsChain(frames: string[], chain: string[]): boolean {
  const outer = chain.at(-1)!;
  const leaves = chain.slice(0, -1);
  return frames.some((frame, index) => leaves.includes(frame) && frames[index + 1] === outer && frames[index + 2] === 'main');
}

function isSnapshot(tab: TabId) {
  return (record: Record<string, unknown>): boolean => record.tab === tab && Array.isArray(record.rows);
}

function isStackSnapshot(tab: TabId) {
  return (record: Record<string, unknown>): boolean => record.tab === tab && Array.isArray(record.stacks);
}

/**
 * One tab end to end. The workload starts first and waits, so that its pid is known; then memtop,
 * memtop's drill-down into that pid and the independent counter start together, and once all
 * three are attached the workload does its burst. Nothing of the workload happens before every
 * tracer is attached, and the snapshot compared is one taken after the workload exited, so
 * memtop and the counter see the same events.
 */
async function runTab(t: TestContext, tab: TabId, setting: WorkloadSetting = {}): Promise<void> {
  const began = Date.now();
  const note = (what: string): void => t.diagnostic(`${((Date.now() - began) / 1000).toFixed(1)} s: ${what}`);
  const spec = WORKLOADS[tab];
  const scenario = SCENARIOS[tab];
  const run = {...scenario.run, extra: [...(scenario.run.extra ?? []), ...(setting.extra ?? [])]};
  const workload = await startWorkload(tab, run, {launcher: setting.launcher, waitForGo: true});
  track(workload.process);
  let memtop: LineChild | undefined;
  let drillDown: LineChild | undefined;
  let counter: IndependentCounter | undefined;
  let counterStarting: Promise<IndependentCounter> | undefined;
  let code: [bigint, bigint][] = [];
  try {
    await workload.ready();
    note(`${spec.name} (pid ${workload.pid}) ready`);
    code = executableRanges(workload.pid);
    const interval = ['--interval', String(INTERVAL_MS), '--iterations', '200'];
    // Filtered to the workload's name: on a busy machine other processes may outrank it, and the
    // test must not depend on what else runs.
    memtop = startMemtop(['--tab', tab, '--comm', spec.name, '--limit', String(TOP_ROWS), ...interval]);
    // Every distinct stack of every interval, so that their counts add up to all the events.
    drillDown = startMemtop(['--tab', tab, '--pid', String(workload.pid), '--stacks', '--limit', '100', ...interval]);
    // Started beside memtop, and stopped below whatever fails first (a counter left attaching
    // when memtop fails would keep the test process alive).
    counterStarting = startIndependentCounter(tab, {bytes: tab === 'reclaim'});
    const [, , startedCounter] = await Promise.all([
      memtop.waitForRecord(isSnapshot(tab), 'its first snapshot', 60_000),
      drillDown.waitForRecord(isStackSnapshot(tab), 'its first stacks line', 60_000),
      counterStarting,
    ]);
    counter = startedCounter;
    track(counter.process);
    note('memtop, its drill-down and the independent counter attached');

    workload.go();
    const done = await workload.done();
    const exit = await workload.process.exited;
    assert.equal(exit.exitCode, 0, `${spec.name} failed: ${workload.process.describe()}`);
    const exitedAt = Date.now();
    note(`${spec.name} did ${String(done.events)} events and exited`);
    // Kernel maps are read before memtop stamps a snapshot: one stamped after the exit has it all.
    const after = (record: Record<string, unknown>): boolean => isSnapshot(tab)(record) && Date.parse(String(record.time)) > exitedAt + 50;
    await memtop.waitForRecord(after, `a snapshot after ${spec.name} exited`, 4 * INTERVAL_MS + 5000);
    const counts = await counter.stop();
    await stopMemtop(memtop);
    await stopMemtop(drillDown);
    note('everything stopped');

    const events = Number(done.events);
    const independent = counts.get(workload.pid);
    assert.ok(independent, `the independent counter saw nothing from ${spec.name} (pid ${workload.pid}): ${counter.program}`);
    assert.ok(
      independent.count >= scenario.minimumCounted(events),
      `the independent counter saw only ${independent.count} events from ${spec.name}, which did ${events}${
        tab === 'anonpgin' ? ` (was another swap device turned off meanwhile? that reads pages back in without a fault)\n${swapsNow()}` : ''
      }`,
    );
    note(`independent count ${independent.count}`);
    checkTopRows(tab, memtop, workload.pid, independent.count, events, note);
    checkDrillDown(tab, drillDown, workload.pid, independent.count, code, note);
    setting.also?.({
      pid: workload.pid,
      snapshots: memtop.records.filter(isSnapshot(tab)) as unknown as Snapshot[],
      drills: drillDown.records.filter(isStackSnapshot(tab)) as unknown as StackSnapshot[],
      independent,
      note,
    });
  } finally {
    const starting = await counterStarting?.catch(() => undefined);
    await starting?.process.stop('SIGKILL');
    await counter?.process.stop('SIGKILL');
    await memtop?.stop('SIGKILL');
    await drillDown?.stop('SIGKILL');
    await workload.process.stop('SIGKILL');
  }
}

/** (a) the pid is in the top rows with its comm, (b) its totalCount is within TOLERANCE of the independent count. */
function checkTopRows(tab: TabId, memtop: LineChild, pid: number, independentCount: number, events: number, note: (what: string) => void): void {
  const spec = WORKLOADS[tab];
  const all = memtop.records.filter(isSnapshot(tab)) as unknown as Snapshot[];
  for (const snapshot of all) {
    assert.ok(snapshot.rows.length <= TOP_ROWS, `more than ${TOP_ROWS} rows: ${JSON.stringify(snapshot)}`);
    assert.equal(snapshot.skippedLines, undefined, `memtop skipped tracer lines it could not read: ${JSON.stringify(snapshot)}`);
  }
  const rows = all.flatMap(snapshot => snapshot.rows.filter(row => row.pid === pid));
  const context = `${spec.name} pid ${pid}, ${events} events, independent count ${independentCount}; memtop's top rows:\n${all
    .map(snapshot => JSON.stringify(snapshot.rows.slice(0, 3)))
    .join('\n')}`;
  assert.ok(rows.length > 0, `memtop never showed ${context}`);
  assert.ok(
    rows.some(row => row.comm === spec.name),
    `memtop showed pid ${pid} only as ${[...new Set(rows.map(row => row.comm))].join(', ')}, never as ${spec.name}`,
  );
  const memtopTotal = Math.max(...rows.map(row => row.totalCount));
  note(`memtop's totalCount ${memtopTotal}`);
  const difference = Math.abs(memtopTotal - independentCount) / independentCount;
  assert.ok(
    difference <= TOLERANCE,
    `memtop's totalCount ${memtopTotal} is ${(difference * 100).toFixed(1)}% off the independent count: ${context}`,
  );
}

/**
 * The drill-down's stacks are the workload's, whole and clean; one shows its call chain; and
 * their counts add up to within TOLERANCE of the independent count.
 */
function checkDrillDown(tab: TabId, drillDown: LineChild, pid: number, independentCount: number, code: [bigint, bigint][], note: (what: string) => void): void {
  const spec = WORKLOADS[tab];
  const lines = drillDown.records.filter(isStackSnapshot(tab)) as unknown as StackSnapshot[];
  assert.ok(lines.length > 0, `the drill-down printed no stacks line\n${drillDown.describe()}`);
  for (const line of lines) {
    assert.equal(line.pid, pid, `a drill-down line for another pid: ${JSON.stringify(line)}`);
    assert.equal(line.skippedLines, undefined, `the drill-down skipped tracer lines it could not read: ${JSON.stringify(line).slice(0, 600)}`);
  }
  assert.ok(lines.some(line => line.comm === spec.name), `the drill-down never named ${spec.name}: ${JSON.stringify(lines.map(line => line.comm))}`);
  const stacks = lines.flatMap(line => line.stacks);
  const seen = () => lines.flatMap(line => line.stacks.slice(0, 3).map(stack => `${stack.count}: ${stack.frames.join(' <- ')}`)).join('\n');
  for (const stack of stacks) {
    const problem = frameProblem(stack.frames, code);
    assert.equal(problem, undefined, `a stack of ${spec.name}: ${problem}\n${stack.frames.join(' <- ')}`);
  }
  const named = stacks.find(stack => showsChain(stack.frames, spec.chain));
  assert.ok(named, `no stack of ${spec.name} shows ${spec.chain.join(' / ')} <- main as whole frames; stacks seen:\n${seen()}`);
  note(`drill-down stack: ${named.frames.join(' <- ')}`);
  const total = stacks.reduce((sum, stack) => sum + stack.count, 0);
  const difference = Math.abs(total - independentCount) / independentCount;
  note(`drill-down total ${total}`);
  assert.ok(difference <= TOLERANCE, `the drill-down's stacks count ${total} events, ${(difference * 100).toFixed(1)}% off the independent count ${independentCount}; stacks seen:\n${seen()}`);
}

/** minfault: the major faults column is there (and small: the workload reads no file), and the stacks say where: anonymous memory. */
function checkMinorFaults({pid, snapshots, drills, note}: Seen): void {
  const rows = snapshots.flatMap(snapshot => snapshot.rows.filter(row => row.pid === pid)) as unknown as {totalCount: number; totalMajor?: number}[];
  const last = rows.at(-1)!;
  assert.equal(typeof last.totalMajor, 'number', `no major faults beside the minor ones: ${JSON.stringify(last)}`);
  assert.ok(last.totalMajor! * 100 < last.totalCount, `major faults ${last.totalMajor} against ${last.totalCount} minor`);
  const places = new Map<string, number>();
  for (const stack of drills.flatMap(drill => drill.stacks)) for (const place of stack.where ?? []) places.set(place.mapping, (places.get(place.mapping) ?? 0) + place.count);
  note(`where the faults were: ${JSON.stringify(Object.fromEntries(places))}`);
  // Every fault of wl_minflt makes one base page resident (MADV_NOHUGEPAGE).
  const bytes = (last as {totalBytes?: number | null}).totalBytes;
  note(`bytes made resident ${bytes}, minor faults ${last.totalCount}`);
  assert.equal(typeof bytes, 'number', `no bytes beside the faults: ${JSON.stringify(last)}`);
  const expected = last.totalCount * PAGE_BYTES;
  assert.ok(Math.abs(bytes! - expected) / expected <= TOLERANCE, `memtop's faults made ${bytes} bytes resident; ${last.totalCount} faults of one page each make ${expected}`);
  if (existsSync('/sys/kernel/tracing/events/exceptions/page_fault_user')) {
    const total = [...places.values()].reduce((sum, count) => sum + count, 0);
    assert.ok((places.get('anon') ?? 0) >= total * 0.9, `fewer than 90% of the faults in anonymous memory: ${JSON.stringify(Object.fromEntries(places))}`);
  }
}

/** The page size of every workload here (x86-64): the bytes a one-page fault reads or makes resident. */
const PAGE_BYTES = 4096;

/** majfault: wl_majflt's mapping has no readahead (MADV_RANDOM), so each major fault reads one page, and READ says so. */
function checkFaultReads({pid, snapshots, independent, note}: Seen): void {
  const rows = snapshots.flatMap(snapshot => snapshot.rows.filter(row => row.pid === pid)) as unknown as {totalCount: number; totalRead: number | null}[];
  const last = rows.at(-1)!;
  note(`bytes read in by faults ${last.totalRead}, faults ${last.totalCount}, independent ${independent.count}`);
  assert.equal(typeof last.totalRead, 'number', `no bytes read beside the faults: ${JSON.stringify(last)}`);
  const expected = independent.count * PAGE_BYTES;
  assert.ok(Math.abs(last.totalRead! - expected) / expected <= TOLERANCE, `memtop's faults read ${last.totalRead} bytes; ${independent.count} faults of one page each read ${expected}`);
}

/** reclaim: the pages the stalls reclaimed, against the same tracepoints' count; stall time and lengths in the drill-down. */
function checkReclaim({pid, snapshots, drills, independent, note}: Seen): void {
  const rows = snapshots.flatMap(snapshot => snapshot.rows.filter(row => row.pid === pid)) as unknown as {totalPages: number; totalStallMs: number; maxMs: number}[];
  const pages = Math.max(...rows.map(row => row.totalPages));
  const expected = independent.bytes ?? 0;
  note(`memtop's pages ${pages}, independent ${expected}; stalled ${Math.max(...rows.map(row => row.totalStallMs))} ms`);
  assert.ok(expected > 0, 'the independent count saw no page reclaimed');
  assert.ok(Math.abs(pages - expected) / expected <= TOLERANCE, `memtop's pages reclaimed ${pages} against the independent ${expected}`);
  assert.ok(rows.some(row => row.totalStallMs > 0 && row.maxMs > 0), `no stall time: ${JSON.stringify(rows.at(-1))}`);
  const stalls = drills.flatMap(drill => drill.stacks).reduce((sum, stack) => sum + stack.count, 0);
  const lengths = drills.flatMap(drill => drill.histogram ?? []).reduce((sum, bucket) => sum + bucket.count, 0);
  assert.equal(lengths, stalls, 'the stall-length histogram counts every stall of the stacks');
  assert.ok(drills.every(drill => drill.histogram === undefined || drill.histogramUnit === 'us'));
  assert.ok(drills.flatMap(drill => drill.stacks).every(stack => typeof stack.ms === 'number' && stack.ms >= 0), 'every stack has its stall time');
}

describe('memtop end to end, real bpftrace against real workloads', () => {
  before(async () => {
    if (unmetPrerequisite() === undefined) await buildWorkloads();
  });

  afterEach(async () => {
    await children.stopAll();
  });

  after(() => {
    assert.deepEqual(children.killLeftovers(), [], 'processes left running after the tests (killed now)');
  });

  for (const tab of ['malloc', 'brk', 'slab', 'majfault', 'minfault'] as const) {
    it(`${tab}: the workload is in the top ${TOP_ROWS} within ${TOLERANCE * 100}% of an independent count, and its drill-down names its functions`, {timeout: 120_000}, async t => {
      if (cannotRun(t)) return;
      // wl_majflt's file must be on a disk, or touching it never needs a read.
      await runTab(t, tab, tab === 'majfault' ? {extra: [await diskDirectory()], also: checkFaultReads} : tab === 'minfault' ? {also: checkMinorFaults} : {});
    });
  }

  it(`majfault: a file read through mmap with readahead, after its pages left the cache, reads its size within ${TOLERANCE * 100}% in few faults`, {timeout: 120_000}, async t => {
    if (cannotRun(t)) return;
    const mebibytes = 64;
    const pages = (mebibytes * 1024 * 1024) / PAGE_BYTES;
    // One pass over the file, a page at a time, with the kernel's readahead (WL_READAHEAD=1).
    const run = {eventsPerSecond: pages / 2, seconds: 2, lingerSeconds: 1, extra: [await diskDirectory(), String(mebibytes)]};
    const workload = await startWorkload('majfault', run, {launcher: (file, args) => ({file: 'env', args: ['WL_READAHEAD=1', file, ...args]}), waitForGo: true});
    track(workload.process);
    let memtop: LineChild | undefined;
    try {
      await workload.ready();
      memtop = startMemtop(['--tab', 'majfault', '--pid', String(workload.pid), '--interval', String(INTERVAL_MS), '--iterations', '200']);
      await memtop.waitForRecord(isSnapshot('majfault'), 'its first snapshot', 60_000);
      workload.go();
      const done = await workload.done();
      assert.equal(Number(done.pagesResidentAfterDrop), 0, 'the file was still in the page cache when the test began');
      const exitedAt = Date.now();
      await workload.process.exited;
      await memtop.waitForRecord(record => isSnapshot('majfault')(record) && Date.parse(String(record.time)) > exitedAt + 50, 'a snapshot after wl_majflt exited', 4 * INTERVAL_MS + 5000);
      await stopMemtop(memtop);
      const rows = memtop.records.filter(isSnapshot('majfault')).flatMap(snapshot => (snapshot.rows as {pid: number; totalCount: number; totalRead: number}[]).filter(row => row.pid === workload.pid));
      const last = rows.at(-1);
      assert.ok(last, `memtop showed no row of wl_majflt\n${memtop.describe()}`);
      const touched = Number(done.events) * PAGE_BYTES;
      t.diagnostic(`${last.totalCount} major faults read ${last.totalRead} bytes; the workload touched ${touched} bytes of its file`);
      assert.ok(Math.abs(last.totalRead - touched) / touched <= TOLERANCE, `memtop's faults read ${last.totalRead} bytes of a file whose ${touched} bytes were touched`);
      assert.ok(last.totalCount * 16 < Number(done.events), `readahead should leave most touches minor: ${last.totalCount} major faults for ${String(done.events)} pages`);
    } finally {
      await memtop?.stop('SIGKILL');
      await workload.process.stop('SIGKILL');
    }
  });

  it('slab by cache: real cache names, and the workload\'s files counted in the filp cache', {timeout: 120_000}, async t => {
    if (cannotRun(t)) return;
    const workload = await startWorkload('slab', {eventsPerSecond: 500, seconds: 2, lingerSeconds: 1}, {waitForGo: true});
    track(workload.process);
    let memtop: LineChild | undefined;
    try {
      await workload.ready();
      // Only the workload's allocations (--pid), by cache: every round opens four files (two pipe ends, a file, a socket).
      memtop = startMemtop(['--tab', 'slab', '--group', 'cache', '--pid', String(workload.pid), '--limit', '100', '--interval', String(INTERVAL_MS), '--iterations', '200']);
      await memtop.waitForRecord(isSnapshot('slab'), 'its first snapshot', 60_000);
      workload.go();
      const done = await workload.done();
      const exitedAt = Date.now();
      await workload.process.exited;
      await memtop.waitForRecord(record => isSnapshot('slab')(record) && Date.parse(String(record.time)) > exitedAt + 50, 'a snapshot after wl_slab exited', 4 * INTERVAL_MS + 5000);
      await stopMemtop(memtop);
      const rows = (memtop.records.filter(isSnapshot('slab')) as unknown as {rows: CacheRow[]}[]).flatMap(snapshot => snapshot.rows);
      assert.ok(rows.length > 0, `memtop showed no caches\n${memtop.describe()}`);
      for (const row of rows) assert.match(row.cache, /^[\x21-\x7e]+$/, `a cache row without a real name: ${JSON.stringify(row)}`);
      const filp = rows.filter(row => row.cache === 'filp').reduce((sum, row) => sum + row.count, 0);
      const rounds = Number(done.events);
      t.diagnostic(`${rounds} rounds; filp ${filp}; caches: ${[...new Set(rows.map(row => row.cache))].join(' ')}`);
      assert.ok(filp >= rounds * 3, `filp counted ${filp} allocations for ${rounds} rounds of four files each`);
      assert.ok(rows.some(row => /^kmalloc-\d+$/.test(row.cache)), 'no kmalloc-<size> row');
    } finally {
      await memtop?.stop('SIGKILL');
      await workload.process.stop('SIGKILL');
    }
  });

  // bpftrace reads and clears its maps a key at a time, each key and value copied in a kmalloc:
  // counted, its printing fed what it counts (a row of its own every interval, and a quarter of
  // its CPU under a churn of short-lived processes). Both views leave it out.
  for (const group of ['process', 'cache'] as const) {
    it(`slab by ${group}: memtop's own tracer is left out of what it counts`, {timeout: 120_000}, async t => {
      if (cannotRun(t)) return;
      const memtop = startMemtop(['--tab', 'slab', '--group', group, '--limit', '100', '--interval', String(INTERVAL_MS), '--iterations', '200']);
      try {
        await memtop.waitForRecord(isSnapshot('slab'), 'its first snapshot', 60_000);
        const tracers = await waitForValue(() => {
          const found = tracersOf(memtop.pid).filter(tracer => /\/slab(-cache(-raw)?)?\.bt$/.test(tracer.script));
          return found.length > 0 ? found : undefined;
        }, {what: 'the slab tracer', timeoutMs: 10_000});
        const tracer = tracers[0]!;
        // The tracer appends its own pid ($3): what its scripts leave out.
        assert.equal(tracer.argv.at(-1), String(tracer.pid), `the tracer's last argument is its pid: ${tracer.argv.slice(-4).join(' ')}`);
        if (group === 'process') {
          const count = memtop.records.filter(isSnapshot('slab')).length;
          await memtop.waitForRecord(record => isSnapshot('slab')(record) && memtop.records.filter(isSnapshot('slab')).length >= count + 4, 'four more snapshots', 8 * INTERVAL_MS + 10_000);
          const rows = (memtop.records.filter(isSnapshot('slab')) as unknown as Snapshot[]).flatMap(snapshot => snapshot.rows);
          t.diagnostic(`${rows.length} rows in all; memtop's own node ${rows.filter(row => row.pid === memtop.pid).length}, its tracer ${rows.filter(row => row.pid === tracer.pid).length}`);
          assert.ok(rows.some(row => row.pid === memtop.pid), 'memtop itself is counted (it reads its tracer\'s pipe and writes its lines)');
          assert.ok(!rows.some(row => row.pid === tracer.pid), `memtop's tracer (${tracer.pid}) has a row`);
        }
      } finally {
        await stopMemtop(memtop);
      }
    });
  }

  it('malloc drill-down as folded stacks: one clean line per stack, outermost first, adding up to the workload\'s calls', {timeout: 120_000}, async t => {
    if (cannotRun(t)) return;
    const workload = await startWorkload('malloc', {eventsPerSecond: 2000, seconds: 2, lingerSeconds: 1}, {waitForGo: true});
    track(workload.process);
    let memtop: LineChild | undefined;
    const directory = mkdtempSync(path.join(os.tmpdir(), 'memtop-folded-'));
    try {
      await workload.ready();
      // Folded lines have no room for a marker: the recording says when the first interval (all probes attached) is done.
      const recording = path.join(directory, 'folded.ndjson');
      memtop = track(
        startLineChild(
          process.execPath,
          [CLI, '--batch', '--tab', 'malloc', '--pid', String(workload.pid), '--stacks', '--folded', '--record', recording, '--interval', String(INTERVAL_MS), '--iterations', '200'],
          {what: 'memtop --stacks --folded'},
        ),
      );
      await waitForValue(() => (existsSync(recording) && readFileSync(recording, 'utf8').includes('"kind":"stacks"')) || undefined, {timeoutMs: 30_000, what: 'a first interval in the recording'}, () => memtop!.describe());
      workload.go();
      const done = await workload.done();
      await workload.process.exited;
      const exit = await memtop.exited;
      assert.equal(exit.exitCode, 0, memtop.describe());
      const lines = memtop.lines.filter(line => line !== '');
      for (const line of lines) assert.match(line, /^[^;\s]+(;[^;\s]+)* \d+$/, `a folded line: ${JSON.stringify(line)}`);
      const total = lines.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
      const chain = lines.filter(line => /(^|;)main;wl_outer_malloc;wl_leaf_malloc;malloc \d+$/.test(line));
      t.diagnostic(`${lines.length} lines, ${total} calls; e.g. ${chain[0] ?? lines[0] ?? ''}`);
      assert.ok(chain.length > 0, `no line main;wl_outer_malloc;wl_leaf_malloc;malloc:\n${lines.slice(0, 10).join('\n')}`);
      const events = Number(done.events);
      assert.ok(Math.abs(total - events) / events <= TOLERANCE, `the folded stacks count ${total} calls, the workload made ${events}`);
    } finally {
      await memtop?.stop('SIGKILL');
      await workload.process.stop('SIGKILL');
      rmSync(directory, {recursive: true, force: true});
    }
  });

  it(`reclaim: stalls in a small memory cgroup with swap, and the pages they reclaimed, within ${TOLERANCE * 100}% of an independent count; its stack and stall lengths in a drill-down`, {timeout: 150_000}, async t => {
    if (cannotRun(t)) return;
    let swap: SwapSetup | undefined;
    try {
      swap = await setUpSwap({swapMiB: 512, limitMiB: 32});
      await runTab(t, 'reclaim', {launcher: swap.launcher, also: checkReclaim});
    } finally {
      await swap?.tearDown();
    }
  });

  it(`anonpgin: swap-ins in a small memory cgroup show in the top ${TOP_ROWS} within ${TOLERANCE * 100}% of an independent count, and in a drill-down`, {timeout: 150_000}, async t => {
    if (cannotRun(t)) return;
    let swap: SwapSetup | undefined;
    try {
      swap = await setUpSwap({swapMiB: 512, limitMiB: 32});
      const swapInsBefore = readVmstat('pswpin') ?? 0;
      await runTab(t, 'anonpgin', {launcher: swap.launcher});
      assert.ok((readVmstat('pswpin') ?? 0) > swapInsBefore, 'pswpin in /proc/vmstat did not rise: no real swap-in happened');
    } finally {
      await swap?.tearDown();
    }
  });
});
