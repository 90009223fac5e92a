// The bpftrace backend: runs probes/bpftrace/<tab>.bt, one JSON snapshot per interval.
import {execa} from 'execa';
import {existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type Availability,
  type Backend,
  type StackStartOptions,
  type StartOptions,
  type TabId,
  type TracerSnapshot,
  type TracerStackSnapshot,
  TracerError,
} from '../types.js';
import {BpftraceJsonParser, cacheRows, entryPoints, stackRows, tabRows, type IntervalMaps} from '../parse/bpftrace-json.js';
import {executableRanges, findLibc, hasKprobe, hasTracepoint, hasTracepointField, probeScript, readProcessName, tracefsRoot} from './probe-files.js';
import {tracerLines} from './tracer-process.js';
import {compileOnlyArgs, escapesKeysTwice, mapKeysEnv, parseBpftraceVersion, readsDataLocStrings, versionText, type BpftraceVersion} from './bpftrace-version.js';

/**
 * How many keys one bpftrace map may hold; a map this full is reported as capped.
 * MEMTOP_MAP_KEYS_MAX raises (or, for tests, lowers) it.
 */
export function mapKeysMax(): number {
  const fromEnv = Number(process.env.MEMTOP_MAP_KEYS_MAX);
  return Number.isInteger(fromEnv) && fromEnv >= 16 && fromEnv <= 1_048_576 ? fromEnv : 16384;
}

/** One way of tracing a tab's event, in order of preference. */
interface ProbeChoice {
  label: string;
  script: string;
  /** Whether this kernel and this bpftrace can run it. */
  usable: (version: BpftraceVersion) => boolean;
  /** Needs libc's path as $4 (uprobe scripts). */
  libc?: boolean;
}

const PROBES: Record<TabId, ProbeChoice[]> = {
  malloc: [{label: 'uprobe:libc:malloc', script: 'malloc.bt', usable: () => findLibc() !== undefined, libc: true}],
  brk: [{label: 'tracepoint:syscalls:sys_exit_brk', script: 'brk.bt', usable: () => hasTracepoint('syscalls/sys_exit_brk')}],
  slab: [
    {label: 'tracepoint:kmem:kmem_cache_alloc+kmalloc', script: 'slab.bt', usable: () => hasTracepoint('kmem/kmem_cache_alloc')},
  ],
  majfault: [{label: 'software:major-faults', script: 'majfault.bt', usable: () => true}],
  anonpgin: [
    {
      label: 'tracepoint:memcg:count_memcg_events(PSWPIN)',
      script: 'anonpgin.bt',
      usable: () => hasTracepoint('memcg/count_memcg_events'),
    },
    {label: 'kprobe:swap_read_folio', script: 'anonpgin-swap_read_folio.bt', usable: () => hasKprobe('swap_read_folio')},
    {label: 'kprobe:swap_readpage', script: 'anonpgin-swap_readpage.bt', usable: () => hasKprobe('swap_readpage')},
  ],
};

/**
 * Slab allocations by cache name: its own script, since keying every allocation by a string costs
 * as much again as counting it, so it runs only while that grouping is on screen.
 */
const CACHE_PROBES: ProbeChoice[] = [
  {
    label: 'tracepoint:kmem:kmem_cache_alloc+kmalloc by cache',
    script: 'slab-cache.bt',
    usable: version => readsDataLocStrings(version) && hasTracepointField('kmem/kmem_cache_alloc', 'name'),
  },
  {
    label: 'rawtracepoint:kmem_cache_alloc+tracepoint:kmem:kmalloc by cache',
    script: 'slab-cache-raw.bt',
    // Where the tracepoint names the cache, the raw tracepoint's third argument is the cache.
    usable: version => !readsDataLocStrings(version) && hasTracepointField('kmem/kmem_cache_alloc', 'name'),
  },
];

const STACK_PROBES: Record<TabId, ProbeChoice> = {
  malloc: {label: 'uprobe:libc:malloc ustack', script: 'stacks-malloc.bt', usable: () => true, libc: true},
  brk: {label: 'uprobe:libc:sbrk + sys_exit_brk ustack', script: 'stacks-brk.bt', usable: () => true, libc: true},
  slab: {label: 'tracepoint:kmem ustack', script: 'stacks-slab.bt', usable: () => true},
  majfault: {label: 'software:major-faults ustack', script: 'stacks-majfault.bt', usable: () => true},
  anonpgin: {label: 'tracepoint:memcg:count_memcg_events ustack', script: 'stacks-anonpgin.bt', usable: () => true},
};

function libcMissing(): TracerError {
  const override = process.env.MEMTOP_LIBC;
  return override
    ? new TracerError(`libc not found for the malloc uprobe: MEMTOP_LIBC=${override} is not an existing absolute path`, 'set MEMTOP_LIBC to the absolute path of libc.so.6, or unset it')
    : new TracerError('libc not found for the malloc uprobe', 'install libc6, or set MEMTOP_LIBC=/path/to/libc.so.6');
}

/** What a version that cannot be read is taken for: the newest behaviour memtop knows. */
const UNKNOWN_VERSION: BpftraceVersion = {major: 0, minor: 99, patch: 0};

/** The bpftrace version found by the last available() (a passed trial remembers it). */
let detectedVersion: BpftraceVersion | undefined;

/** This machine's bpftrace version, asking bpftrace (once) when no trial has said it yet. */
export async function bpftraceVersion(): Promise<BpftraceVersion> {
  if (!detectedVersion) {
    const bpftrace = bpftracePath();
    const result = bpftrace ? await execa(bpftrace, ['--version'], {reject: false, timeout: 5000}) : undefined;
    detectedVersion = parseBpftraceVersion(result?.stdout ?? '') ?? UNKNOWN_VERSION;
  }
  return detectedVersion;
}

/**
 * The preferred usable probe for a tab on this kernel and bpftrace (slab by cache name with
 * `byCache`), or a TracerError saying why there is none.
 */
export function chooseProbe(tab: TabId, version: BpftraceVersion = detectedVersion ?? UNKNOWN_VERSION, byCache = false): ProbeChoice {
  if (!tracefsRoot()) {
    throw new TracerError('tracefs is not mounted', 'mount it: mount -t tracefs nodev /sys/kernel/tracing');
  }
  const candidates = byCache ? CACHE_PROBES : PROBES[tab];
  const choice = candidates.find(candidate => candidate.usable(version));
  if (choice) return choice;
  if (tab === 'malloc') throw libcMissing();
  throw new TracerError(
    `no probe for ${tab}${byCache ? ' by cache' : ''} on this kernel with bpftrace ${versionText(version)} (tried ${candidates.map(candidate => candidate.label).join(', ')})`,
    'a kernel with these tracepoints or with kprobes is needed',
  );
}

const BPFTRACE_PATHS = ['/usr/bin/bpftrace', '/usr/sbin/bpftrace', '/usr/local/bin/bpftrace', '/snap/bin/bpftrace'];

/** Absolute path of the bpftrace binary, if installed. */
export function bpftracePath(): string | undefined {
  const fromPath = (process.env.PATH ?? '')
    .split(':')
    .filter(dir => dir.startsWith('/'))
    .map(dir => `${dir}/bpftrace`);
  return [...fromPath, ...BPFTRACE_PATHS].find(file => existsSync(file));
}

const NOISE =
  /RLIMIT_MEMLOCK|ulimit -l|failed to look up stack id|WARNING:|comparison of integers|arithmetic on integers|^\s*[~^]+\s*$|^\s*(tracepoint|uprobe|kprobe|software|interval|if|@|\$|\})/;

/** bpftrace's error without the script location it starts with ("/path/x.bt:14:1-37: ERROR: "). */
export function bpftraceReason(line: string): string {
  return line.replace(/^\S+\.bt:\d+(?::[\d-]+)?:\s*/, '').replace(/^ERROR:\s*/, '').trim();
}

/** Turn bpftrace's stderr (noise already dropped) into one line with the reason and the fix. */
export function explainBpftraceFailure(stderr: string, exitCode: number | undefined, signal?: string): TracerError {
  const lines = stderr.split('\n').map(line => line.trim()).filter(Boolean);
  const error = lines.find(line => /\bERROR\b/.test(line)) ?? lines.find(line => /error|only supports|not permitted|denied/i.test(line));
  const ended = signal ? `bpftrace was killed by ${signal}` : `bpftrace exited with code ${exitCode ?? 'unknown'}`;
  const reason = error ? bpftraceReason(error) || ended : ended;
  let hint = 'run `memtop --check` to see what this machine lacks';
  // Paths say nothing about the failure: a clone under /root must not read as "needs root".
  const words = reason.replace(/(?:\/[^\s/:]+)+\/?/g, '');
  if (signal) hint = 'if something keeps killing it, look for OOM kills in dmesg';
  else if (/permission denied|not permitted|EPERM|\b(?:as|be|the) root\b|root user|privilege/i.test(words)) hint = 'run memtop as root (sudo memtop)';
  else if (/tracefs|debugfs/i.test(reason)) hint = 'mount tracefs: mount -t tracefs nodev /sys/kernel/tracing';
  else if (/BTF/i.test(reason)) hint = 'this kernel needs BTF (CONFIG_DEBUG_INFO_BTF=y, /sys/kernel/btf/vmlinux)';
  else if (/tracepoint not found|Error attaching probe|not found/i.test(reason)) hint = 'this kernel lacks it, see memtop --check';
  else if (/Could not resolve symbol|uprobe|ELF|libc/i.test(reason)) hint = 'check that libc is readable and has symbols (or set MEMTOP_LIBC)';
  else if (/No such process/i.test(reason)) hint = 'the process has exited; pick a running PID';
  return new TracerError(`bpftrace: ${reason}`, hint);
}

function scriptArgs(choice: ProbeChoice, intervalMs: number, limit: number, pid: number): string[] {
  const args = [String(intervalMs), String(limit), String(pid)];
  if (choice.libc) {
    const libc = findLibc();
    if (!libc) throw libcMissing();
    args.push(libc);
  }
  return args;
}

async function* runScript(
  choice: ProbeChoice,
  options: {intervalMs: number; limit: number; pid: number; signal: AbortSignal; pidFlag: boolean},
): AsyncGenerator<{maps: IntervalMaps; elapsedMs: number; skipped: number; skippedSample?: string}> {
  const bpftrace = bpftracePath();
  if (!bpftrace) throw new TracerError('bpftrace is not installed', 'install it: apt-get install -y bpftrace');
  const args = ['-B', 'line', '-f', 'json'];
  if (options.pidFlag && options.pid > 0) args.push('-p', String(options.pid));
  args.push(probeScript('bpftrace', choice.script), ...scriptArgs(choice, options.intervalMs, options.limit, options.pid));
  const parser = new BpftraceJsonParser(escapesKeysTwice(await bpftraceVersion()));
  let previousEndNs: bigint | undefined;
  let intervalStart = Date.now();
  for await (const line of tracerLines({
    command: bpftrace,
    args,
    signal: options.signal,
    // A drill-down traces one process: caching its symbols halves the time to each print.
    env: {...mapKeysEnv(mapKeysMax()), BPFTRACE_NO_CPP_DEMANGLE: '0', ...(options.pidFlag && options.pid > 0 ? {BPFTRACE_CACHE_USER_SYMBOLS: '1'} : {})},
    explainFailure: explainBpftraceFailure,
    ignoreStderr: NOISE,
  })) {
    const wasAttached = parser.attached;
    const interval = parser.feed(line);
    if (!wasAttached && parser.attached) intervalStart = Date.now();
    if (!interval) continue;
    // The first interval runs from BEGIN (every probe attached: "memtop-begin <nsecs>") to its end.
    const startNs = previousEndNs ?? parser.beginNs;
    const elapsedMs = startNs === undefined ? Date.now() - intervalStart : Number(interval.endNs - startNs) / 1e6;
    previousEndNs = interval.endNs;
    yield {maps: interval, elapsedMs: Math.max(1, elapsedMs), skipped: parser.skipped, skippedSample: parser.skippedSample};
  }
}

const PROCESS_NAME_TTL_MS = 5000;
const PROCESS_NAME_CACHE_MAX = 4096;
const processNames = new Map<number, {name: string | undefined; at: number}>();

/**
 * The process's own name (its main thread's, from /proc) for a row the kernel keyed by the
 * name of whichever thread it caught: the probes read the current thread's comm, because
 * reaching the group leader's through curtask made bpftrace's compile 3x slower (brk.bt: 823
 * -> 258 ms to attach). A process that has gone keeps the thread name the kernel saw.
 */
function processName(pid: number, now = Date.now()): string | undefined {
  const cached = processNames.get(pid);
  if (cached && now - cached.at < PROCESS_NAME_TTL_MS) return cached.name;
  const name = readProcessName(pid);
  if (processNames.size >= PROCESS_NAME_CACHE_MAX) {
    for (const [key, entry] of processNames) if (now - entry.at >= PROCESS_NAME_TTL_MS) processNames.delete(key);
    if (processNames.size >= PROCESS_NAME_CACHE_MAX) processNames.clear();
  }
  processNames.set(pid, {name, at: now});
  return name;
}

function isCapped(maps: IntervalMaps): boolean {
  const max = mapKeysMax();
  return [...maps.maps.values()].some(map => Object.keys(map).length >= max);
}

const TRIAL_CACHE = '/run/memtop/bpftrace-trial';

/**
 * What a passed trial run depends on: this boot, this kernel, this bpftrace binary (by its
 * inode, size and mtime, so an upgrade is seen without running it), this user.
 */
function trialKey(bpftrace: string): string {
  let boot = '';
  try {
    boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    boot = String(Date.now());
  }
  let binary = '';
  try {
    const stat = statSync(bpftrace);
    binary = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}`;
  } catch {
    binary = String(Date.now());
  }
  return JSON.stringify([boot, os.release(), bpftrace, binary, process.geteuid?.()]);
}

/** The version bpftrace reported when it passed its trial under this key, if it has. */
function trialPassedBefore(key: string): string | undefined {
  try {
    const remembered = JSON.parse(readFileSync(TRIAL_CACHE, 'utf8')) as {key?: unknown; version?: unknown};
    return remembered.key === key && typeof remembered.version === 'string' ? remembered.version : undefined;
  } catch {
    return undefined;
  }
}

function rememberTrial(key: string, version: string): void {
  try {
    mkdirSync('/run/memtop', {recursive: true, mode: 0o700});
    writeFileSync(TRIAL_CACHE, JSON.stringify({key, version}), {mode: 0o600});
  } catch {
    // not writable (not root): the trial just runs again next time
  }
}

/** Whether one script compiles with this bpftrace, and bpftrace's reason when it does not. */
export interface CompileResult {
  /** What the script is for: "malloc", "slab by cache", "malloc stacks". */
  view: string;
  script: string;
  ok: boolean;
  /** bpftrace's own reason, one line. */
  reason?: string;
}

/** Compile one script for this version without attaching any probe. */
async function compileScript(bpftrace: string, version: BpftraceVersion, choice: ProbeChoice, pid: number, view: string): Promise<CompileResult> {
  const elf = path.join(os.tmpdir(), `memtop-check-${process.pid}-${choice.script}.o`);
  try {
    const args = [...compileOnlyArgs(version, elf), probeScript('bpftrace', choice.script), ...scriptArgs(choice, 1000, 0, pid)];
    const result = await execa(bpftrace, args, {reject: false, timeout: 60_000, env: mapKeysEnv(mapKeysMax())});
    if (result.exitCode === 0) return {view, script: choice.script, ok: true};
    const failure = explainBpftraceFailure(result.stderr.split('\n').filter(line => !NOISE.test(line)).join('\n'), result.exitCode);
    return {view, script: choice.script, ok: false, reason: failure.message.replace(/^bpftrace: /, '')};
  } catch (error) {
    return {view, script: choice.script, ok: false, reason: error instanceof Error ? error.message.split('\n')[0] : String(error)};
  } finally {
    rmSync(elf, {force: true});
  }
}

/**
 * Compile, without attaching, the script every view would run here (each tab's, slab's by-cache
 * script and each drill-down's) with the installed bpftrace, two at a time.
 */
export async function compileEveryScript(tabs: readonly TabId[]): Promise<CompileResult[]> {
  const bpftrace = bpftracePath();
  if (!bpftrace) return [];
  const version = await bpftraceVersion();
  const jobs: (() => Promise<CompileResult>)[] = [];
  const add = (view: string, pick: () => ProbeChoice, pid: number) =>
    jobs.push(async () => {
      let choice: ProbeChoice;
      try {
        choice = pick();
      } catch (error) {
        return {view, script: '-', ok: false, reason: error instanceof TracerError ? error.message : String(error)};
      }
      return compileScript(bpftrace, version, choice, pid, view);
    });
  for (const tab of tabs) {
    add(tab, () => chooseProbe(tab, version), 0);
    if (tab === 'slab') add(`${tab} by cache`, () => chooseProbe(tab, version, true), 0);
    add(`${tab} stacks`, () => STACK_PROBES[tab], process.pid);
  }
  const results: CompileResult[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await jobs[index]!();
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

/** The bpftrace backend. */
export const bpftraceBackend: Backend = {
  id: 'bpftrace',

  async available(): Promise<Availability> {
    const bpftrace = bpftracePath();
    if (!bpftrace) return {ok: false, reason: 'bpftrace is not installed: apt-get install -y bpftrace'};
    // A tiny real program proves bpftrace can load BPF here; a pass is remembered for this boot
    // (in /run, which a reboot clears) with the version, so that memtop starts without running
    // bpftrace twice before its probes (0.1-0.3 s of every launch).
    const key = trialKey(bpftrace);
    const remembered = trialPassedBefore(key);
    if (remembered !== undefined) {
      detectedVersion = parseBpftraceVersion(remembered) ?? UNKNOWN_VERSION;
      return {ok: true, version: remembered};
    }
    const versionRun = await execa(bpftrace, ['--version'], {reject: false, timeout: 5000});
    const reported = versionRun.stdout.trim();
    if (versionRun.exitCode !== 0 || !/bpftrace/i.test(reported)) return {ok: false, reason: `bpftrace --version failed: ${versionRun.stderr.trim().split('\n')[0] ?? ''}`};
    detectedVersion = parseBpftraceVersion(reported) ?? UNKNOWN_VERSION;
    const trial = await execa(bpftrace, ['-e', 'BEGIN { exit(); }'], {reject: false, timeout: 15000});
    if (trial.exitCode !== 0) {
      const failure = explainBpftraceFailure(trial.stderr.split('\n').filter(line => !NOISE.test(line)).join('\n'), trial.exitCode);
      return {ok: false, version: reported, reason: `${failure.message} (${failure.hint})`};
    }
    rememberTrial(key, reported);
    return {ok: true, version: reported};
  },

  async probeFor(tab: TabId): Promise<string> {
    return chooseProbe(tab, await bpftraceVersion()).label;
  },

  async *start(options: StartOptions): AsyncGenerator<TracerSnapshot> {
    const byCache = options.tab === 'slab' && options.grouping === 'cache';
    const choice = chooseProbe(options.tab, await bpftraceVersion(), byCache);
    const pid = options.pid ?? 0;
    for await (const {maps, elapsedMs, skipped, skippedSample} of runScript(choice, {...options, pid, pidFlag: Boolean(choice.libc)})) {
      const {rows, bad} = tabRows(options.tab, maps.maps);
      for (const row of rows) {
        if (row.pid !== undefined && row.pid > 0) row.comm = processName(row.pid) ?? row.comm;
        if (!row.comm) row.comm = '?';
      }
      yield {
        tab: options.tab,
        backend: 'bpftrace',
        probe: choice.label,
        time: new Date().toISOString(),
        elapsedMs,
        rows,
        ...(byCache ? {cacheRows: cacheRows(maps.maps), grouping: 'cache' as const} : {}),
        ...(options.tab === 'slab' && !byCache ? {grouping: 'process' as const} : {}),
        capped: isCapped(maps),
        skippedLines: skipped + bad,
        ...(skippedSample !== undefined ? {skippedSample} : {}),
      };
    }
  },

  async *startStacks(options: StackStartOptions): AsyncGenerator<TracerStackSnapshot> {
    const choice = STACK_PROBES[options.tab];
    if (!tracefsRoot()) throw new TracerError('tracefs is not mounted', 'mount it: mount -t tracefs nodev /sys/kernel/tracing');
    const comm = readProcessName(options.pid);
    // -p: uprobes attach to that process only, and bpftrace exits when it does.
    for await (const {maps, elapsedMs, skipped, skippedSample} of runScript(choice, {...options, pidFlag: true})) {
      // An unnamed frame is a frame only if it points into the process's code (see trimStack).
      const code = executableRanges(options.pid);
      const isCode = code ? (address: bigint) => code.some(([low, high]) => address >= low && address < high) : undefined;
      const snapshot: TracerStackSnapshot = {
        tab: options.tab,
        backend: 'bpftrace',
        probe: choice.label,
        pid: options.pid,
        ...(comm ? {comm} : {}),
        time: new Date().toISOString(),
        elapsedMs,
        stacks: stackRows(options.tab, maps.maps, isCode),
        capped: isCapped(maps),
        skippedLines: skipped,
        ...(skippedSample !== undefined ? {skippedSample} : {}),
      };
      if (options.tab === 'malloc') {
        snapshot.histogram = maps.hists.get('sizes') ?? [];
        snapshot.entryPoints = entryPoints(maps.maps);
      }
      yield snapshot;
    }
  },
};
