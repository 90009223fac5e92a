// Section allocators: memtop puts its malloc probe on every process's allocator (glibc, musl,
// jemalloc, tcmalloc, mimalloc, Go's runtime.mallocgc), one uprobe per distinct allocator file.
// Table 1c: what that costs a workload of each allocator: mb_malloc linked with jemalloc, built
// statically with musl, and with glibc for reference, and mb_go (one runtime.mallocgc per event),
// each untraced, under the bare one-liner on the same object and under memtop's malloc tab,
// interleaved per run. Table 1d: how long N distinct allocator files take to attach (copies of the
// static musl mb_malloc, one inode each, one process each): memtop from its start to its first
// table, bpftrace with one uprobe per copy from its start to BEGIN, and memtop already running
// while the N processes start, to their files in its table and their pids in its rows.
import {chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {findLibc} from '../../source/system/kernel.js';
import {descendants, onCleanup} from './lib/cleanup.js';
import {sleep, spawnChild, type Child, type TimedLine} from './lib/proc.js';
import {waitForQuiet} from './lib/quiet.js';
import {startMemtop, startProgram, type Tracer} from './lib/tracers.js';
import {BIN_DIR, buildIfStale, buildWorkload, CFLAGS, SOURCE_DIR, startWorkloadBinary, type WorkloadResult} from './lib/workloads.js';
import {againstTarget, fixed, median, medianRatio, spread, table} from './lib/stats.js';

/** The allocators of table 1c: mb_malloc's with glibc, jemalloc and static musl, and Go's. */
type AllocatorCase = 'glibc' | 'jemalloc' | 'musl' | 'go';

/** A built workload and the allocator entry it calls once per event. */
interface AllocatorWorkload {
  allocator: AllocatorCase;
  /** The name it runs as (its comm). */
  name: string;
  binary: string;
  /** The file that defines its allocator entry (the one-liner's probe is on it), and the entry. */
  object: string;
  entry: string;
}

/** Where Debian's libjemalloc2 puts libjemalloc.so.2 (linked by its path: no -dev package needed). */
const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'];

/** The installed libjemalloc.so.2; throws saying how to install it when there is none. */
export function findJemalloc(): string {
  const found = LIBRARY_DIRS.map(directory => path.join(directory, 'libjemalloc.so.2')).find(file => existsSync(file));
  if (!found) throw new Error(`the allocators section needs libjemalloc.so.2 (none in ${LIBRARY_DIRS.join(', ')}): apt-get install -y libjemalloc2`);
  return found;
}

/** Build mb_malloc against each C allocator and mb_go, where their sources are newer. */
function buildAllocatorWorkloads(): AllocatorWorkload[] {
  const source = path.join(SOURCE_DIR, 'mb_malloc.c');
  const inputs = [source, path.join(SOURCE_DIR, 'bench.h')];
  const libc = findLibc();
  if (!libc) throw new Error('allocators: no libc.so.6 found for the glibc row');
  const jemalloc = findJemalloc();
  const linked = buildIfStale(path.join(BIN_DIR, 'mb_malloc-jemalloc'), inputs, 'gcc', output => [...CFLAGS, '-o', output, source, jemalloc]);
  const musl = buildIfStale(path.join(BIN_DIR, 'mb_malloc-musl'), inputs, 'musl-gcc', output => ['-static', ...CFLAGS, '-o', output, source]);
  // Go's build cache and home in .bin: root's own are not the bench's to fill.
  const goCache = path.join(BIN_DIR, 'go-cache');
  mkdirSync(goCache, {recursive: true});
  const goSource = path.join(SOURCE_DIR, 'mb_go', 'main.go');
  const go = buildIfStale(path.join(BIN_DIR, 'mb_go'), [goSource], 'go', output => ['build', '-o', output, goSource], {...process.env, GOCACHE: goCache, HOME: goCache});
  return [
    {allocator: 'glibc', name: 'mb_malloc', binary: buildWorkload('mb_malloc'), object: realpathSync(libc), entry: 'malloc'},
    {allocator: 'jemalloc', name: 'mb_malloc', binary: linked, object: realpathSync(jemalloc), entry: 'malloc'},
    {allocator: 'musl', name: 'mb_malloc', binary: musl, object: musl, entry: 'malloc'},
    {allocator: 'go', name: 'mb_go', binary: go, object: go, entry: 'runtime.mallocgc'},
  ];
}

/** What a user who knows the workload's allocator would type to count its calls per process. */
function oneLiner(workload: AllocatorWorkload): string {
  return `uprobe:${workload.object}:${workload.entry} { @[pid, comm] = count(); }`;
}

export interface AllocatorOptions {
  runs: number;
  /** Aimed-at length of one untraced run (and of one under the one-liner), in seconds. */
  workSeconds: number;
  /** Table 1d: the numbers of distinct allocator files to attach (0, the machine's own, is always measured). */
  counts: number[];
  quietWaitMs: number;
  log: (text: string) => void;
}

type Variant = 'untraced' | 'one-liner' | 'memtop';
const VARIANTS: readonly Variant[] = ['untraced', 'one-liner', 'memtop'];

/** The done line of a workload; mb_go's also counts the Go runtime's heap allocations. */
type DoneLine = WorkloadResult & {mallocs?: number};

interface OverheadSample {
  variant: Variant;
  events: number;
  ns: number;
  cpuNs: number;
  mallocs?: number;
  /** Other people's tracers seen at the start of the run. */
  foreign: string[];
  /** The workload's calls the tracer counted (its map's entry for the pid; memtop's row's totalCount). */
  counted?: number;
}

/** One timed run of a workload under `variant`. */
async function runOnce(workload: AllocatorWorkload, variant: Variant, events: number, options: AllocatorOptions): Promise<OverheadSample> {
  const foreign = await waitForQuiet(options.quietWaitMs, options.log);
  const started = await startWorkloadBinary(`${workload.name} (${workload.allocator})`, workload.binary, {events});
  let tracer: Tracer | undefined;
  try {
    if (variant === 'one-liner') tracer = await startProgram(`bpftrace one-liner (${workload.allocator})`, oneLiner(workload));
    else if (variant === 'memtop') tracer = await startMemtop('malloc');
    const result = (await started.go()) as DoneLine;
    const doneAt = performance.now();
    let counted: number | undefined;
    if (variant === 'memtop' && tracer) counted = await memtopCount(tracer, started.pid, doneAt);
    if (variant === 'one-liner' && tracer) {
      await tracer.stop();
      counted = oneLinerCount(tracer, started.pid);
    }
    return {variant, events: result.events, ns: result.ns, cpuNs: result.cpuNs, ...(result.mallocs !== undefined ? {mallocs: result.mallocs} : {}), foreign, ...(counted !== undefined ? {counted} : {})};
  } finally {
    if (tracer?.kind === 'memtop') await stopMemtop(tracer);
    else await tracer?.stop();
    await started.child.stop('SIGKILL');
  }
}

/**
 * The calls memtop counted for `pid` since it started (its row's totalCount), once it has printed
 * two tables after the workload's done line: the first may be of an interval that ended just
 * before the workload's last events.
 */
async function memtopCount(tracer: Tracer, pid: number, doneAt: number): Promise<number> {
  let tables = 0;
  await tracer.child.waitForLine(line => line.at > doneAt && tableOf(line) !== undefined && ++tables === 2, 'two tables after the workload ended', 5000).catch(() => undefined);
  let most = 0;
  for (const line of tracer.child.lines) for (const row of tableOf(line)?.rows ?? []) if (row.pid === pid) most = Math.max(most, row.totalCount ?? 0);
  return most;
}

/** What the stopped one-liner counted for `pid`, from the map bpftrace prints as it exits: "@[1234, mb_malloc]: 53000". */
function oneLinerCount(tracer: Tracer, pid: number): number {
  const entry = new RegExp(`^@\\[${pid}, [^\\]]*\\]: (\\d+)$`);
  for (const line of tracer.child.lines) {
    const match = entry.exec(line.text);
    if (match) return Number(match[1]);
  }
  return 0;
}

/** Whether a process is there and not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the name, which is in parentheses and may hold any character.
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Stop memtop and wait until its tracers have gone too: a bpftrace detaching many uprobes goes on
 * for seconds after memtop has exited, and its teardown would slow the next measurement.
 */
async function stopMemtop(memtop: Tracer): Promise<void> {
  const tracers = descendants(memtop.child.pid);
  await memtop.stop();
  const deadline = Date.now() + 30_000;
  while (tracers.some(running) && Date.now() < deadline) await sleep(100);
}

/** Events of a first trial run, to measure each workload's speed before sizing the real runs. */
const TRIAL_EVENTS = 100_000;

/** Events for a run of about `workSeconds` under `variant`, from one trial run, to two significant digits. */
async function calibrate(workload: AllocatorWorkload, variant: 'untraced' | 'one-liner', options: AllocatorOptions): Promise<number> {
  const trial = await runOnce(workload, variant, TRIAL_EVENTS, options);
  const events = Math.round((options.workSeconds * 1e9) / (trial.ns / trial.events));
  const magnitude = 10 ** Math.max(0, Math.floor(Math.log10(events)) - 1);
  return Math.max(1000, Math.round(events / magnitude) * magnitude);
}

export interface AllocatorOverhead {
  workload: AllocatorWorkload;
  /** Events per untraced run, and per run under a tracer. */
  eventsUntraced: number;
  eventsTraced: number;
  samples: OverheadSample[];
}

async function measureOverheads(workloads: AllocatorWorkload[], options: AllocatorOptions): Promise<AllocatorOverhead[]> {
  const results: AllocatorOverhead[] = [];
  for (const workload of workloads) {
    options.log(`allocators: ${workload.allocator}: sizing the runs`);
    const untracedEvents = await calibrate(workload, 'untraced', options);
    const tracedEvents = await calibrate(workload, 'one-liner', options);
    // As in section 1: one amount of work for all, unless runs short enough under a tracer would
    // be too short to time untraced; ratios are of time per event either way.
    const eventsUntraced = untracedEvents <= tracedEvents * 2 ? tracedEvents : untracedEvents;
    const eventsTraced = tracedEvents;
    options.log(`allocators: ${workload.allocator}: ${eventsUntraced} events untraced, ${eventsTraced} under a tracer`);
    const samples: OverheadSample[] = [];
    for (let run = 0; run < options.runs; run++) {
      for (const variant of VARIANTS) {
        const sample = await runOnce(workload, variant, variant === 'untraced' ? eventsUntraced : eventsTraced, options);
        samples.push(sample);
        options.log(`allocators: ${workload.allocator} run ${run + 1}/${options.runs} ${variant}: ${(sample.ns / 1e6).toFixed(1)} ms${sample.foreign.length ? ' (foreign tracers running)' : ''}`);
      }
    }
    results.push({workload, eventsUntraced, eventsTraced, samples});
  }
  return results;
}

/** What batch JSON says about allocator probes on each table line. */
interface AllocatorsJson {
  files: number;
  kinds: Record<string, number>;
}

/** The parts of a malloc table line of batch JSON read here. */
interface TableJson {
  allocators?: AllocatorsJson;
  rows?: {pid?: number; totalCount?: number}[];
}

/** One run of table 1d at one N. */
interface AttachSample {
  run: number;
  count: number;
  /** memtop started after the N processes: the files its first table counts, and its time to that table. */
  files?: number;
  kinds?: Record<string, number>;
  memtopMs: number;
  /** bpftrace with one uprobe per copy, from its start to BEGIN. */
  bpftraceMs: number;
  /** memtop running, then N processes started: time to their files in its table, and to every one's pid in its rows (NaN: not within LATER_TIMEOUT_MS). */
  laterFilesMs?: number;
  laterRowsMs?: number;
  /** The same with MEMTOP_PRIVATE_LIBC=0: memtop's tracers on the libc its own malloc probes are on. */
  laterRowsSharedMs?: number;
  foreign: string[];
}

/** Longest wait for memtop's first table or bpftrace's BEGIN with many probes to attach. */
const ATTACH_TIMEOUT_MS = 180_000;
/** Longest wait for memtop running to take in processes started after it. */
const LATER_TIMEOUT_MS = 60_000;
/** Mallocs a second of each process started while memtop runs: enough to be in every 100 ms table once counted. */
const LATER_RATE = 100;

/** N copies of a binary in a directory of their own: other inodes, so other allocator files to memtop. */
function makeCopies(binary: string, count: number): {directory: string; copies: string[]} {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'memtop-bench-allocators-'));
  const copies: string[] = [];
  for (let index = 1; index <= count; index++) {
    const copy = path.join(directory, `mb_malloc-${index}`);
    copyFileSync(binary, copy);
    chmodSync(copy, 0o755);
    copies.push(copy);
  }
  return {directory, copies};
}

/**
 * One process of each file, all started at once by mb_spawn: waiting for a go that never comes
 * (their stdin a pipe nobody writes to), or making `perSecond` mallocs a second until stopped.
 * Resolves once every one has said it is ready, with their pids.
 */
async function startCopies(launcher: string, files: readonly string[], perSecond?: number): Promise<{child: Child; pids: number[]}> {
  const args = perSecond ? ['0', String(perSecond)] : ['1', '0'];
  const child = spawnChild(`mb_spawn of ${files.length} copies`, launcher, [...args, ...files], {stdin: perSecond ? 'ignore' : 'pipe', keepLines: files.length + 20});
  const isReady = (line: TimedLine) => line.stream === 'stdout' && line.text.includes('"phase":"ready"');
  let ready = 0;
  try {
    await child.waitForLine(line => isReady(line) && ++ready === files.length, `the ready lines of ${files.length} copies`, 60_000);
  } catch (error) {
    await child.stop('SIGKILL');
    throw error;
  }
  return {child, pids: child.lines.filter(isReady).map(line => (JSON.parse(line.text) as {pid: number}).pid)};
}

/** A memtop batch JSON table line, or undefined for any other line. */
function tableOf(line: TimedLine): TableJson | undefined {
  if (line.stream !== 'stdout' || !line.text.startsWith('{')) return undefined;
  try {
    return JSON.parse(line.text) as TableJson;
  } catch {
    return undefined;
  }
}

/** The allocator files of memtop's latest table so far. */
function latestFiles(child: Child): number | undefined {
  for (let index = child.lines.length - 1; index >= 0; index--) {
    const files = tableOf(child.lines[index]!)?.allocators?.files;
    if (files !== undefined) return files;
  }
  return undefined;
}

/** The bare bpftrace program with one uprobe per file. */
function copiesProgram(files: readonly string[]): string {
  return files.length === 0 ? '' : `${files.map(file => `uprobe:${file}:malloc`).join(', ')} { @[pid, comm] = count(); }`;
}

/** The N processes first, then memtop, then bpftrace; then memtop first and the N processes started while it runs. */
async function attachOnce(run: number, launcher: string, files: readonly string[], options: AllocatorOptions): Promise<AttachSample> {
  const count = files.length;
  const foreign = await waitForQuiet(options.quietWaitMs, options.log);
  const waiting = count > 0 ? await startCopies(launcher, files) : undefined;
  const sample: AttachSample = {run, count, memtopMs: Number.NaN, bpftraceMs: Number.NaN, foreign};
  try {
    const memtop = await startMemtop('malloc', {timeoutMs: ATTACH_TIMEOUT_MS});
    try {
      sample.memtopMs = memtop.readyAt - memtop.child.startedAt;
      const allocators = memtop.first?.allocators as AllocatorsJson | undefined;
      if (allocators) Object.assign(sample, {files: allocators.files, kinds: allocators.kinds});
    } finally {
      await stopMemtop(memtop);
    }
    const bpftrace = await startProgram(`bpftrace, ${count} uprobes`, copiesProgram(files), {timeoutMs: ATTACH_TIMEOUT_MS});
    try {
      sample.bpftraceMs = bpftrace.readyAt - bpftrace.child.startedAt;
    } finally {
      await bpftrace.stop();
    }
  } finally {
    await waiting?.child.stop('SIGKILL');
  }
  if (count === 0) return sample;

  [sample.laterFilesMs, sample.laterRowsMs] = await laterOnce(launcher, files, options, {});
  [, sample.laterRowsSharedMs] = await laterOnce(launcher, files, options, {MEMTOP_PRIVATE_LIBC: '0'});
  return sample;
}

/** memtop running, then the N processes started at once: ms to their files in its table, and to every one counted. */
async function laterOnce(launcher: string, files: readonly string[], options: AllocatorOptions, env: Record<string, string>): Promise<[number, number]> {
  // A short interval and a filter to the copies' name: the table shows a change within 0.1 s, and all N rows.
  const memtop = await startMemtop('malloc', {intervalMs: 100, extraArgs: ['--limit', '100', '--comm', 'mb_malloc'], timeoutMs: ATTACH_TIMEOUT_MS, env});
  let later: Child | undefined;
  try {
    const before = latestFiles(memtop.child) ?? 0;
    const startedAt = performance.now();
    const paced = await startCopies(launcher, files, LATER_RATE);
    later = paced.child;
    // memtop keeps its last 20 lines (2 s): the copies are ready within milliseconds, long before a tracer for them attaches.
    const wanted = new Set(paced.pids);
    const counted = new Set<number>();
    const grown = memtop.child.waitForLine(line => (tableOf(line)?.allocators?.files ?? 0) >= before + files.length, `${files.length} more allocator files`, LATER_TIMEOUT_MS);
    const all = memtop.child.waitForLine(
      line => {
        for (const row of tableOf(line)?.rows ?? []) if (row.pid !== undefined && wanted.has(row.pid)) counted.add(row.pid);
        return counted.size === wanted.size;
      },
      `rows for all ${files.length} processes`,
      LATER_TIMEOUT_MS,
    );
    const since = (line: TimedLine) => line.at - startedAt;
    const missed = (error: unknown) => {
      options.log(`allocators: N=${files.length}${env.MEMTOP_PRIVATE_LIBC === '0' ? ' (shared libc)' : ''}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      return Number.NaN;
    };
    return await Promise.all([grown.then(since, missed), all.then(since, missed)]);
  } finally {
    await later?.stop('SIGKILL');
    await stopMemtop(memtop);
  }
}

async function measureAttach(musl: string, options: AllocatorOptions): Promise<AttachSample[]> {
  const launcher = buildWorkload('mb_spawn');
  const counts = [0, ...options.counts.filter(count => count > 0)];
  const {directory, copies} = makeCopies(musl, Math.max(...counts));
  const removeCopies = onCleanup('allocator file copies', () => rmSync(directory, {recursive: true, force: true}));
  try {
    const samples: AttachSample[] = [];
    for (let run = 0; run < options.runs; run++) {
      for (const count of counts) {
        const sample = await attachOnce(run, launcher, copies.slice(0, count), options);
        samples.push(sample);
        const later = count > 0 ? `, running: files +${count} in ${fixed(sample.laterFilesMs ?? Number.NaN, 0)} ms, all counted in ${fixed(sample.laterRowsMs ?? Number.NaN, 0)} ms (tracers on the shared libc: ${fixed(sample.laterRowsSharedMs ?? Number.NaN, 0)} ms)` : '';
        options.log(`allocators: attach run ${run + 1}/${options.runs} N=${count}: memtop ${fixed(sample.memtopMs, 0)} ms (${sample.files ?? '?'} files), bpftrace ${fixed(sample.bpftraceMs, 0)} ms${later}`);
      }
    }
    return samples;
  } finally {
    removeCopies();
  }
}

export interface AllocatorResults {
  overhead: AllocatorOverhead[];
  attach: AttachSample[];
}

export async function measureAllocators(options: AllocatorOptions): Promise<AllocatorResults> {
  const workloads = buildAllocatorWorkloads();
  const overhead = await measureOverheads(workloads, options);
  const musl = workloads.find(workload => workload.allocator === 'musl')!;
  const attach = await measureAttach(musl.binary, options);
  return {overhead, attach};
}

const perEvent = (samples: OverheadSample[], variant: Variant, of: 'ns' | 'cpuNs' = 'ns') => samples.filter(sample => sample.variant === variant).map(sample => sample[of] / sample.events);

/** Calls counted per event by a variant's tracer (median): 1 when its probe saw every call of the timed loop. */
function countedPerEvent(samples: OverheadSample[], variant: Variant): string {
  return fixed(median(samples.filter(sample => sample.variant === variant && sample.counted !== undefined).map(sample => sample.counted! / sample.events)), 3);
}

function overheadTable(results: AllocatorOverhead[], runs: number): string {
  const rows = results.map(({workload, eventsUntraced, eventsTraced, samples}) => {
    const [untraced, traced, memtop] = VARIANTS.map(variant => perEvent(samples, variant));
    const [, cpuTraced, cpuMemtop] = VARIANTS.map(variant => perEvent(samples, variant, 'cpuNs'));
    return [
      workload.allocator,
      `${path.basename(workload.object)}:${workload.entry}`,
      eventsUntraced === eventsTraced ? String(eventsTraced) : `${eventsUntraced}/${eventsTraced}`,
      [untraced!, traced!, memtop!].map(values => fixed(median(values), 0)).join('/'),
      fixed(medianRatio(traced!, untraced!), 2),
      againstTarget(medianRatio(memtop!, traced!), 1.05),
      spread(memtop!.map((value, index) => value / traced![index]!)),
      againstTarget(medianRatio(cpuMemtop!, cpuTraced!), 1.05),
      `${countedPerEvent(samples, 'one-liner')}/${countedPerEvent(samples, 'memtop')}`,
    ];
  });
  const notes = results.map(({workload}) => `${workload.allocator}: ${workload.name} at ${workload.binary}; the one-liner: ${oneLiner(workload)}`);
  for (const {workload, samples} of results) {
    const mallocs = samples.filter(sample => sample.variant === 'untraced' && sample.mallocs !== undefined).map(sample => sample.mallocs! / sample.events);
    if (mallocs.length > 0) notes.push(`${workload.allocator}: heap allocations per event by the Go runtime's count (median, untraced): ${fixed(median(mallocs), 3)}`);
    const contaminated = samples.filter(sample => sample.foreign.length > 0).length;
    if (contaminated > 0) notes.push(`${workload.allocator}: ${contaminated} of ${samples.length} runs started while tracers the bench did not start were running (${[...new Set(samples.flatMap(sample => sample.foreign))].slice(0, 4).join(', ')}).`);
  }
  notes.push('events: per run, "a/b" when untraced runs do a and traced runs b; ns/event: untraced/one-liner/memtop, medians of wall time per event.');
  notes.push('ratios are medians of per-run ratios of time per event (the three variants of a run measured back to back); range: smallest–largest per-run ratio; CPU: by the workload\'s own CPU time (getrusage).');
  notes.push('counted/event: the workload\'s calls each tracer counted per event of its timed loop, one-liner/memtop (its map\'s entry for the pid at exit; memtop\'s row\'s totalCount): 1.000 when the probe is on the object that serves the workload. memtop also probes every other process\'s allocator meanwhile, the one-liner the workload\'s object only.');
  return table(
    `1c. Overhead on the traced workload by allocator: memtop --batch --json --tab malloc against the bare one-liner on the same object, ${runs} runs`,
    ['allocator', 'probed', 'events', 'ns/event', 'one-liner/untr', 'memtop/one-liner ≤1.05', 'range', 'CPU memtop/one-liner ≤1.05', 'counted/event'],
    rows,
    notes,
  );
}

/** "812 (790–850)": the median and the range, in whole milliseconds. */
function msWithRange(values: readonly number[]): string {
  return values.some(Number.isFinite) ? `${fixed(median(values), 0)} (${spread(values, 0)})` : '-';
}

function attachTable(samples: AttachSample[], runs: number): string {
  const counts = [...new Set(samples.map(sample => sample.count))];
  // Each run's N=0 figure is the baseline of its other Ns: processes come and go between runs.
  const baseline = samples.filter(sample => sample.count === 0);
  const baselineOf = (sample: AttachSample) => baseline.find(zero => zero.run === sample.run);
  const added = (sample: AttachSample) => (sample.files ?? Number.NaN) - (baselineOf(sample)?.files ?? Number.NaN);
  // The copies are musl files: how many of those were added tells them from other processes' files.
  const addedMusl = (sample: AttachSample) => (sample.kinds?.musl ?? 0) - (baselineOf(sample)?.kinds?.musl ?? 0);
  const notes: string[] = [];
  const rows = counts.map(count => {
    const atCount = samples.filter(sample => sample.count === count);
    const files = atCount.map(sample => sample.files ?? Number.NaN);
    const extra = atCount.map(added);
    if (count > 0 && extra.some(value => value !== count)) {
      notes.push(`N=${count}: memtop's first table counted ${extra.map(value => fixed(value, 0)).join(', ')} files over the same run's N=0, not ${count}; musl files: ${atCount.map(sample => `+${addedMusl(sample)}`).join(', ')} (the others are the machine's processes starting and ending between the two).`);
    }
    const later = (of: 'laterFilesMs' | 'laterRowsMs' | 'laterRowsSharedMs') => (count === 0 ? '-' : msWithRange(atCount.map(sample => sample[of] ?? Number.NaN)));
    const misses = atCount.filter(sample => count > 0 && (!Number.isFinite(sample.laterFilesMs) || !Number.isFinite(sample.laterRowsMs))).length;
    if (misses > 0) notes.push(`N=${count}: in ${misses} of ${atCount.length} runs memtop running did not show the processes' files or rows within ${LATER_TIMEOUT_MS / 1000} s.`);
    return [
      String(count),
      count === 0 ? fixed(median(files), 0) : `${fixed(median(files), 0)} (+${fixed(median(extra), 0)})`,
      msWithRange(atCount.map(sample => sample.memtopMs)),
      msWithRange(atCount.map(sample => sample.bpftraceMs)),
      later('laterFilesMs'),
      later('laterRowsMs'),
      later('laterRowsSharedMs'),
    ];
  });
  // Each run's files by kind, each distinct list once: "(1 glibc; 1 glibc, 1 go)".
  const kindsAt = (count: number) => {
    const lists = samples.filter(sample => sample.count === count && sample.kinds).map(sample => Object.entries(sample.kinds!).map(([kind, number]) => `${number} ${kind}`).join(', '));
    const distinct = [...new Set(lists)];
    return distinct.length > 0 ? ` (${distinct.join('; ')})` : '';
  };
  const largest = Math.max(...counts);
  notes.unshift(
    `N=0: memtop traces the allocator files of the machine's own processes whatever else runs: ${fixed(median(baseline.map(sample => sample.files ?? Number.NaN)), 0)}${kindsAt(0)}; bpftrace's N=0 is a program with BEGIN alone.${largest > 0 ? ` At N=${largest} memtop's first table counted${kindsAt(largest)}.` : ''}`,
    'N copies of the static musl mb_malloc (one file each, other inodes), one process of each, started (by mb_spawn) and waiting before memtop or bpftrace starts: memtop --batch --json --tab malloc --interval 1000 from its spawn to its first table (which comes 0.2 s after BEGIN, when every probe is attached); bpftrace with uprobe:<copy>:malloc for each copy from its spawn to its BEGIN line.',
    `memtop running (--interval 100 --comm mb_malloc --limit 100), then the N processes started at once (forked by mb_spawn), each making ${LATER_RATE} mallocs a second: from mb_spawn's start to the table whose allocators.files has grown by N (memtop counts a file when it starts a tracer for it, before that tracer has attached), and to the table by which each of the N pids has had a row (its tracer attached and counting). The last column is that again with MEMTOP_PRIVATE_LIBC=0: memtop's tracers on the libc its own malloc probes are on, each of their mallocs a trap while they start.`,
  );
  const contaminated = samples.filter(sample => sample.foreign.length > 0).length;
  if (contaminated > 0) notes.push(`${contaminated} of ${samples.length} runs started while tracers the bench did not start were running.`);
  return table(
    `1d. Attaching N distinct allocator files: median over ${runs} runs, ms (range)`,
    ['N', 'files memtop traces', 'memtop: spawn → first table', 'bpftrace, N uprobes: spawn → BEGIN', 'memtop running: N files in table', 'memtop running: N processes counted', 'the same, tracers on the shared libc'],
    rows,
    notes,
  );
}

/** The section's two tables. */
export function allocatorsTable(results: AllocatorResults, runs: number): string {
  return `${overheadTable(results.overhead, runs)}\n${attachTable(results.attach, runs)}`;
}
