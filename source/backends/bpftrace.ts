// The bpftrace backend: runs the script the registry names for a view (probes/bpftrace/*.bt), one
// JSON snapshot per interval, read as the registry says.
import {setMaxListeners} from 'node:events';
import {execa} from 'execa';
import {existsSync, readFileSync} from 'node:fs';
import {bpftraceDrill, drillView, TABS, unitsOf, viewOf, type BpftraceRows, type ScriptChoice, type ViewDefinition, type ViewId} from '../registry.js';
import {
  type AllocatorSummary,
  type Availability,
  type Backend,
  type StackStartOptions,
  type StartOptions,
  type GroupStartOptions,
  type TabId,
  type ViewRef,
  type TracerSnapshot,
  type TracerStackSnapshot,
  type RawRow,
  TracerError,
} from '../types.js';
import {mergePrefix, mergeScripts, splitMaps} from './bpftrace-merge.js';
import {BpftraceJsonParser, type IntervalMaps} from '../parse/bpftrace-json.js';
import {liveStackRows} from '../parse/bpftrace-live.js';
import {entryPoints, processShares, viewRows} from '../parse/bpftrace-rows.js';
import {stackRows, staysUntracked} from '../parse/bpftrace-stacks.js';
import {findLibc, tracefsRoot, unmet} from '../system/kernel.js';
import {followMappings} from '../system/processes.js';
import {frameNotesOf} from '../system/frame-facts.js';
import {processName} from '../system/process-names.js';
import {AllocatorWatch, type AllocatorFile, type AllocatorScan} from '../system/allocators.js';
import {allocatorFilesFor, allocatorProgram, steppedEntries, summarize} from './allocator-probes.js';
import {liveCost} from '../model/live-cost.js';
import {withSides} from './beside.js';
import {probeScript} from './probe-files.js';
import {cacheArguments, noCacheRows, findTracerBinary, sampleBytesOf, tracerLines} from './tracer-process.js';
import {rememberTrial, trialKey, trialPassedBefore} from './bpftrace-trial.js';
import {escapesKeysTwice, hasQuirk, mapKeysEnv, parseBpftraceVersion, versionText, type BpftraceVersion} from './bpftrace-version.js';

/** How often memtop looks for processes started since (a readdir of /proc and a readlink each; the maps of new ones only). */
const WATCH_MS = 250;

/** How many processes a cache's drill-down names. */
export const PROCESSES_SHOWN = 10;

/**
 * How many keys one bpftrace map may hold; a map this full is reported as capped.
 * MEMTOP_MAP_KEYS_MAX raises (or, for tests, lowers) it.
 */
export function mapKeysMax(): number {
  const fromEnv = Number(process.env.MEMTOP_MAP_KEYS_MAX);
  return Number.isInteger(fromEnv) && fromEnv >= 16 && fromEnv <= 1_048_576 ? fromEnv : 16384;
}

/**
 * How many outstanding allocations a live view's address table holds (bpftrace 0.17 sizes every
 * map of a script alike: each costs about 90 bytes a key of kernel memory, preallocated).
 * MEMTOP_LIVE_KEYS_MAX raises (or, for tests, lowers) it.
 */
export function liveKeysMax(): number {
  const fromEnv = Number(process.env.MEMTOP_LIVE_KEYS_MAX);
  return Number.isInteger(fromEnv) && fromEnv >= 16 && fromEnv <= 4_194_304 ? fromEnv : 65_536;
}

/** The key limit of a script's maps: a live script's is its address table's. */
export function keysMaxFor(choice: ScriptChoice): number {
  return choice.addressTable ? liveKeysMax() : mapKeysMax();
}

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

/** Whether this machine and this bpftrace can run a script. */
function usable(choice: ScriptChoice, version: BpftraceVersion): boolean {
  if (choice.quirk && hasQuirk(version, choice.quirk.name) !== choice.quirk.present) return false;
  return unmet(choice.requires) === undefined;
}

/** The first of a list of alternatives that can run here, or a TracerError naming what each lacks. */
export function firstUsable(candidates: readonly ScriptChoice[], version: BpftraceVersion, what: string): ScriptChoice {
  const choice = candidates.find(candidate => usable(candidate, version));
  if (choice) return choice;
  const missing = candidates.map(candidate => `${candidate.label}: no ${unmet(candidate.requires) ?? `bpftrace ${versionText(version)}`}`);
  throw new TracerError(`no probe for ${what} on this kernel (tried ${missing.join('; ')})`, 'a kernel with these tracepoints or with kprobes is needed');
}

/**
 * The script to run for a view of a tab on this kernel and bpftrace: the first of the registry's
 * alternatives that can run here, or a TracerError saying what is missing.
 */
export function chooseScript(tab: TabId, view?: ViewId, version: BpftraceVersion = detectedVersion ?? UNKNOWN_VERSION): ScriptChoice {
  if (!tracefsRoot()) {
    throw new TracerError('tracefs is not mounted', 'mount it: mount -t tracefs nodev /sys/kernel/tracing');
  }
  const candidates = TABS[tab].bpftrace.views[viewOf(tab, view).id]?.scripts ?? [];
  if (!candidates.some(candidate => usable(candidate, version)) && candidates.some(candidate => candidate.requires?.some(requirement => 'libc' in requirement)) && !findLibc()) throw libcMissing();
  return firstUsable(candidates, version, `${tab} ${viewOf(tab, view).label}`);
}

/** The drill-down script of a tab (or of a view with its own) on this kernel: its own, or the first fallback that can run here. */
export function stackScript(tab: TabId, view?: ViewId, version: BpftraceVersion = detectedVersion ?? UNKNOWN_VERSION): ScriptChoice {
  const {script, fallbacks = []} = bpftraceDrill(tab, view);
  if (fallbacks.length === 0) return script;
  return firstUsable([script, ...fallbacks], version, `${tab} stacks`);
}

const BPFTRACE_PATHS = ['/usr/bin/bpftrace', '/usr/sbin/bpftrace', '/usr/local/bin/bpftrace', '/snap/bin/bpftrace'];

/** Absolute path of the bpftrace binary, if installed. */
export function bpftracePath(): string | undefined {
  return findTracerBinary('bpftrace', BPFTRACE_PATHS);
}

/** bpftrace's stderr lines that say nothing about a failure (warnings, the program echoed back). */
export const BPFTRACE_NOISE =
  /RLIMIT_MEMLOCK|ulimit -l|failed to look up stack id|WARNING:|comparison of integers|arithmetic on integers|^\s*[~^]+\s*$|^\s*(tracepoint|uprobe|kprobe|software|interval|if|@|\$|\})/;

/** bpftrace's error without the script location it starts with ("/path/x.bt:14:1-37: ERROR: "). */
export function bpftraceReason(line: string): string {
  return line.replace(/^(?:\S+\.bt|stdin):\d+(?::[\d-]+)?:\s*/, '').replace(/^ERROR:\s*/, '').trim();
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

/**
 * A script's positional values: $1 interval in ms; $2 the pid (0: every process), or for a
 * cache's drill-down $2 the cache's name and $3 its kmalloc size class; then libc's path when the
 * script needs it; then an address table's cap when it keeps one; then the bytes per stack
 * sample when it takes one (0: every allocation).
 */
export function scriptArgs(choice: ScriptChoice, intervalMs: number, target: {pid: number} | {cache: string}, sampleBytes = 0): string[] {
  const args = 'cache' in target ? cacheArguments(intervalMs, target.cache) : [String(intervalMs), String(target.pid)];
  if (choice.libc) {
    const libc = findLibc('pid' in target ? target.pid : 0);
    if (!libc) throw libcMissing();
    args.push(libc);
  }
  // An address table's cap: past a sixteenth of it, the script samples allocations by address.
  if (choice.addressTable) args.push(String(liveKeysMax()));
  if (choice.sample) args.push(String(Math.max(0, Math.round(sampleBytes))));
  return args;
}

/** One interval of a script's output. */
interface Interval {
  maps: IntervalMaps;
  elapsedMs: number;
  skipped: number;
  skippedSample?: string;
  /** When the script's BEGIN ran (every probe attached), on the wall clock, ISO 8601. */
  began: string;
}

async function* runScript(
  choice: ScriptChoice,
  options: {
    intervalMs: number;
    target: {pid: number} | {cache: string};
    signal: AbortSignal;
    pidFlag: boolean;
    sampleBytes?: number;
    files?: readonly AllocatorFile[];
    /** The program to run instead of the choice's file (several views' scripts merged): it takes the choice's positional values. */
    program?: string;
    /** Append the tracer's pid to the positional values ($3): the choice's, or a merged member's (ScriptChoice.tracerPid). */
    tracerPid?: boolean;
  },
): AsyncGenerator<Interval> {
  const bpftrace = bpftracePath();
  if (!bpftrace) throw new TracerError('bpftrace is not installed', 'install it: apt-get install -y bpftrace');
  const args = ['-B', 'line', '-f', 'json'];
  const pid = 'pid' in options.target ? options.target.pid : 0;
  if (options.pidFlag && pid > 0) args.push('-p', String(pid));
  const own = scriptArgs(choice, options.intervalMs, options.target, options.sampleBytes);
  if (choice.allocators && options.files) {
    // The script's probes on $3 put on each allocator file, the files' paths after its own values.
    const {program, paths} = allocatorProgram(choice, options.files, await bpftraceVersion());
    args.push('-e', program, ...own, ...paths);
  } else if (options.program !== undefined) args.push('-e', options.program, ...own);
  else args.push(probeScript('bpftrace', choice.file), ...own);
  const parser = new BpftraceJsonParser(escapesKeysTwice(await bpftraceVersion()));
  let previousEndNs: bigint | undefined;
  let intervalStart = Date.now();
  let began: string | undefined;
  for await (const line of tracerLines({
    command: bpftrace,
    args,
    signal: options.signal,
    // A drill-down traces one process: caching its symbols halves the time to each print.
    env: {...mapKeysEnv(keysMaxFor(choice)), BPFTRACE_NO_CPP_DEMANGLE: '0', ...(options.pidFlag && pid > 0 ? {BPFTRACE_CACHE_USER_SYMBOLS: '1'} : {})},
    explainFailure: explainBpftraceFailure,
    ignoreStderr: BPFTRACE_NOISE,
    privateLibc: true,
    appendPid: options.tracerPid ?? choice.tracerPid ?? false,
  })) {
    const wasAttached = parser.attached;
    const interval = parser.feed(line);
    if (!wasAttached && parser.attached) intervalStart = Date.now();
    if (!interval) continue;
    // The first interval runs from BEGIN (every probe attached: "memtop-begin <nsecs>") to its end.
    const startNs = previousEndNs ?? parser.beginNs;
    const elapsedMs = startNs === undefined ? Date.now() - intervalStart : Number(interval.endNs - startNs) / 1e6;
    previousEndNs = interval.endNs;
    // BEGIN on the wall clock: now, less the time bpftrace says has passed since.
    began ??= new Date(parser.beginNs === undefined ? intervalStart : Date.now() - Number(interval.endNs - parser.beginNs) / 1e6).toISOString();
    yield {maps: interval, elapsedMs: Math.max(1, elapsedMs), skipped: parser.skipped, skippedSample: parser.skippedSample, began};
  }
}

function isCapped(maps: IntervalMaps, choice: ScriptChoice): boolean {
  const max = keysMaxFor(choice);
  return [...maps.maps.values()].some(map => Object.keys(map).length >= max);
}

/** A view's snapshot of one interval: what every table view's has (a live view and the malloc tab add theirs). */
function tableSnapshot(tab: TabId, view: ViewId, choice: ScriptChoice, interval: Interval, read: {rows: RawRow[]; bad: number; capped: boolean; exited?: number[]}): TracerSnapshot {
  return {
    tab,
    view,
    backend: 'bpftrace',
    probe: choice.label,
    ...(choice.lacks ? {unmeasured: choice.lacks} : {}),
    time: new Date().toISOString(),
    elapsedMs: interval.elapsedMs,
    rows: read.rows,
    ...(read.exited ? {exited: read.exited} : {}),
    capped: isCapped(interval.maps, choice) || read.capped,
    skippedLines: interval.skipped + read.bad,
    ...(interval.skippedSample !== undefined ? {skippedSample: interval.skippedSample} : {}),
  };
}

/**
 * Whether a view's script can run merged with others in one bpftrace (bpftrace-merge.ts): it
 * takes the interval and the pid alone, keeps no address table, and is not a live view's.
 */
function mergeable(choice: ScriptChoice, rows: BpftraceRows): boolean {
  return !choice.libc && !choice.allocators && !choice.addressTable && !choice.sample && !rows.live;
}

/**
 * The views that run in one bpftrace, given the script each would run (`choose`, which throws
 * where none can): every view whose script can be merged, when there are two or more. A view
 * whose script cannot be chosen runs alone, where it fails and says why as it always has.
 */
export function mergeGroups(views: readonly ViewRef[], choose: (ref: ViewRef) => ScriptChoice): ViewRef[][] {
  const together = views.filter(ref => {
    try {
      return mergeable(choose(ref), TABS[ref.tab].bpftrace.views[viewOf(ref.tab, ref.view).id]!.rows);
    } catch {
      return false;
    }
  });
  return together.length > 1 ? [together] : [];
}

/** One merged tracer's view: its script here and the prefix of its maps. */
interface Member {
  tab: TabId;
  view: ViewDefinition;
  choice: ScriptChoice;
  rows: BpftraceRows;
  prefix: string;
}

/**
 * What a malloc view's allocator probes cover, which of them single-step and, in the live view,
 * what that costs an allocation with its free (measured for glibc's probes: model/live-cost.ts).
 */
function allocatorsSeen(files: readonly AllocatorFile[], scan: AllocatorScan | undefined, version: BpftraceVersion, live: boolean): AllocatorSummary {
  const summary = summarize(files, scan, live ? steppedEntries(files, version, ['malloc', 'free'], ['malloc']) : steppedEntries(files, version, ['malloc']));
  const glibc = files.filter(file => file.kind === 'glibc');
  if (!live || glibc.length === 0) return summary;
  return {...summary, liveCost: liveCost(version, steppedEntries(glibc, version, ['malloc', 'free'], ['malloc']))};
}

/** How many times a table's tracer is started when an allocator file it was given has gone before it attached. */
const START_ATTEMPTS = 3;

/** One start of a table's tracer (and, on the malloc tab, its side tracers); `given` learns the allocator files it was given. */
async function* tableTracer(options: StartOptions, given: {files?: readonly AllocatorFile[]}): AsyncGenerator<TracerSnapshot> {
  const view = viewOf(options.tab, options.view);
  const version = await bpftraceVersion();
  const choice = chooseScript(options.tab, view.id, version);
  const spec = TABS[options.tab].bpftrace.views[view.id]!.rows;
  const pid = options.pid ?? 0;
  const uprobes = choice.requires?.some(requirement => 'libc' in requirement) ?? false;
  const found = choice.allocators ? allocatorFilesFor(pid) : undefined;
  const files = found ? [...found.files] : undefined;
  // The main tracer's files (sides add theirs to the copy, `files`, later).
  given.files = found?.files;
  // What the allocator probes cover, for the files as they were (their ids) when it was read.
  let seen: {files: string; summary: AllocatorSummary} | undefined;
  const run = (signal: AbortSignal, some?: readonly AllocatorFile[]) =>
    runScript(choice, {intervalMs: options.intervalMs, signal, target: {pid}, pidFlag: uprobes, ...(some ? {files: some} : {})});
  // Processes that start later with an allocator file not yet traced: a tracer for just those
  // files beside the running one (which goes on counting), its rows merged by pid.
  const sides = new AbortController();
  // Every tracer beside the running one listens on it: a hundred new files are a hundred listeners, not a leak.
  setMaxListeners(0, sides.signal);
  // Each side tracer in the order it was started (withSides numbers them so): attached once its
  // first interval came, or let go when it failed. Until then its files' calls go uncounted.
  const sideStates: {attached: boolean; failed: boolean}[] = [];
  const watch = (add: (side: AsyncIterable<Interval>, failed: (error: unknown) => void) => void) => {
    if (!found?.scan || !files) return () => sides.abort();
    const watcher = new AllocatorWatch(found.scan);
    const timer = setInterval(() => {
      const fresh = watcher.poll();
      if (fresh.length === 0) return;
      files.push(...fresh);
      const state = {attached: false, failed: false};
      sideStates.push(state);
      // A side that fails (a file gone with a short-lived process) is let go: its files are looked for again.
      add(run(sides.signal, fresh), () => {
        state.failed = true;
        watcher.forget(fresh.map(file => file.id));
        for (const file of fresh) files.splice(files.indexOf(file), 1);
      });
    }, WATCH_MS);
    return () => {
      clearInterval(timer);
      sides.abort();
    };
  };
  options.signal.addEventListener('abort', () => sides.abort(), {once: true});
  const latestSide = new Map<number, ReturnType<typeof viewRows>>();
  for await (const {main, sides: arrived} of withSides(run(options.signal, files), watch)) {
    const {maps, began} = main;
    const {rows: read, bad, exited, untracked: mainUntracked, untrackedPids: mainUntrackedPids, sampled: mainSampled, sampledPids: mainSampledPids} = viewRows(view.rows, spec, maps.maps, unitsOf(view), maps.endNs);
    // A side's counters add to the interval they arrived in; its gauges (and what it could not track) stand until it prints again.
    const fromSides: RawRow[] = [];
    for (const {side, item} of arrived) {
      const state = sideStates[side];
      if (state) state.attached = true;
      const sideRead = viewRows(view.rows, spec, item.maps.maps, unitsOf(view), item.maps.endNs);
      if (spec.live) latestSide.set(side, sideRead);
      else fromSides.push(...sideRead.rows);
    }
    let untracked = mainUntracked ?? 0;
    const untrackedPids = new Set(mainUntrackedPids);
    // Each tracer has its own table and level: the coarsest is what the view says.
    let sampled = mainSampled ?? 1;
    const sampledPids = {...mainSampledPids};
    for (const sideRead of latestSide.values()) {
      fromSides.push(...sideRead.rows);
      untracked += sideRead.untracked ?? 0;
      for (const untrackedPid of sideRead.untrackedPids ?? []) untrackedPids.add(untrackedPid);
      sampled = Math.max(sampled, sideRead.sampled ?? 1);
      for (const [sampledPid, rate] of Object.entries(sideRead.sampledPids ?? {})) sampledPids[sampledPid] = Math.max(rate, sampledPids[sampledPid] ?? 1);
    }
    // Rows are keyed by pid: a process still running has no name here, and is named from /proc
    // only if it is shown (selectRows' nameOf), not every row every interval. A live view
    // shows what is outstanding in processes that are there: one that has exited is gone.
    const rows = [];
    for (const row of [...read, ...fromSides]) {
      if (spec.live && row.pid !== undefined && row.pid > 0) {
        const name = processName(row.pid);
        if (name === undefined) continue;
        row.comm = name;
      }
      rows.push(row);
    }
    // Read from the files' bytes: again only when the files have changed, not every interval.
    const traced = files?.map(file => file.id).join('\n');
    if (files && seen?.files !== traced) seen = {files: traced!, summary: allocatorsSeen(files, found?.scan, version, spec.live !== undefined)};
    const attaching = sideStates.filter(state => !state.attached && !state.failed).length;
    yield {
      ...tableSnapshot(options.tab, view.id, choice, main, {rows, bad, capped: untracked > 0, ...(exited ? {exited} : {})}),
      ...(spec.live ? {since: began, untracked, ...(untrackedPids.size > 0 ? {untrackedPids: [...untrackedPids].sort((a, b) => a - b)} : {})} : {}),
      ...(spec.live && sampled > 1 ? {sampled} : {}),
      ...(spec.live && Object.keys(sampledPids).length > 0 ? {sampledPids} : {}),
      ...(seen ? {allocators: attaching > 0 ? {...seen.summary, attaching} : seen.summary} : {}),
    };
  }
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
      const failure = explainBpftraceFailure(trial.stderr.split('\n').filter(line => !BPFTRACE_NOISE.test(line)).join('\n'), trial.exitCode);
      return {ok: false, version: reported, reason: `${failure.message} (${failure.hint})`};
    }
    rememberTrial(key, reported);
    return {ok: true, version: reported};
  },

  async probeFor(tab: TabId): Promise<string> {
    return chooseScript(tab, undefined, await bpftraceVersion()).label;
  },

  async *start(options: StartOptions): AsyncGenerator<TracerSnapshot> {
    for (let attempt = 1; ; attempt++) {
      const given: {files?: readonly AllocatorFile[]} = {};
      let attached = false;
      try {
        for await (const snapshot of tableTracer(options, given)) {
          attached = true;
          yield snapshot;
        }
        return;
      } catch (error) {
        // A process that exits between memtop's scan and bpftrace's attach takes the path its file
        // was reached by (/proc/PID/root/..., /proc/PID/map_files/...) with it, and bpftrace refuses
        // the whole program: start again on the files found now, instead of failing the tab.
        if (attached || options.signal.aborted || attempt >= START_ATTEMPTS || !given.files?.some(file => !existsSync(file.path))) throw error;
      }
    }
  },

  async groupViews(views: readonly ViewRef[]): Promise<ViewRef[][]> {
    const version = await bpftraceVersion();
    return mergeGroups(views, ref => chooseScript(ref.tab, ref.view, version));
  },

  async *startGroup(options: GroupStartOptions): AsyncGenerator<TracerSnapshot[]> {
    const version = await bpftraceVersion();
    const members: Member[] = options.views.map(ref => {
      const view = viewOf(ref.tab, ref.view);
      const choice = chooseScript(ref.tab, view.id, version);
      const rows = TABS[ref.tab].bpftrace.views[view.id]!.rows;
      if (!mergeable(choice, rows)) throw new TracerError(`the ${ref.tab} ${view.label} view's script cannot share a tracer`);
      return {tab: ref.tab, view, choice, rows, prefix: mergePrefix(ref.tab, view.id, TABS[ref.tab].views[0]!.id === view.id)};
    });
    if (members.length === 0) return;
    // The first line names each script by its path: what `ps` shows, and how a test tells which views a tracer runs.
    const program = mergeScripts(
      members.map(member => ({prefix: member.prefix, text: readFileSync(probeScript('bpftrace', member.choice.file), 'utf8')})),
      `memtop: ${members.map(member => probeScript('bpftrace', member.choice.file)).join(' ')}`,
    );
    const prefixes = members.map(member => member.prefix);
    // The first member's choice for how to run it: no member takes more than the interval and the
    // pid, and the tracer's own pid after them ($3) where one leaves the tracer out.
    const tracerPid = members.some(member => member.choice.tracerPid);
    for await (const interval of runScript(members[0]!.choice, {intervalMs: options.intervalMs, signal: options.signal, target: {pid: options.pid ?? 0}, pidFlag: false, program, tracerPid})) {
      const split = splitMaps(interval.maps, prefixes);
      yield members.map((member, index) => {
        const maps = split.get(member.prefix)!;
        const read = viewRows(member.view.rows, member.rows, maps.maps, unitsOf(member.view), maps.endNs);
        // Lines the tracer printed that no view could read count once, on the first view, so the views' skipped lines add up to the tracer's.
        const own = index === 0 ? interval : {...interval, skipped: 0, skippedSample: undefined};
        return tableSnapshot(member.tab, member.view.id, member.choice, {...own, maps}, {rows: read.rows, bad: read.bad, capped: (read.untracked ?? 0) > 0, ...(read.exited ? {exited: read.exited} : {})});
      });
    }
  },

  async *startStacks(options: StackStartOptions): AsyncGenerator<TracerStackSnapshot> {
    if (!tracefsRoot()) throw new TracerError('tracefs is not mounted', 'mount it: mount -t tracefs nodev /sys/kernel/tracing');
    const definition = TABS[options.tab];
    if (options.cache !== undefined) {
      const drill = definition.bpftrace.cacheStacks;
      if (!drill) throw noCacheRows(TABS[options.tab].title);
      const script = firstUsable(drill.scripts, await bpftraceVersion(), `${options.tab} cache stacks`);
      for await (const {maps, elapsedMs, skipped, skippedSample, began} of runScript(script, {intervalMs: options.intervalMs, signal: options.signal, target: {cache: options.cache}, pidFlag: false})) {
        const processes = processShares(drill.read, maps.maps).slice(0, PROCESSES_SHOWN);
        for (const share of processes) if (share.pid > 0) share.comm = processName(share.pid) ?? share.comm;
        yield {
          tab: options.tab,
          backend: 'bpftrace',
          probe: script.label,
          cache: options.cache,
          time: new Date().toISOString(),
          elapsedMs,
          stacks: stackRows(drill.read, maps.maps, definition.stackBytes),
          processes,
          kernel: true,
          ...(drill.read.stays ? {stays: {since: began, untracked: staysUntracked(drill.read.stays, maps.maps)}} : {}),
          capped: isCapped(maps, script),
          skippedLines: skipped,
          ...(skippedSample !== undefined ? {skippedSample} : {}),
        };
      }
      return;
    }
    const view = drillView(options.tab, options.view);
    const {read} = bpftraceDrill(options.tab, view);
    const script = stackScript(options.tab, view, await bpftraceVersion());
    const pid = options.pid;
    const comm = processName(pid);
    const sampleBytes = sampleBytesOf(script, options.sampleBytes);
    const files = script.allocators ? allocatorFilesFor(pid).files : undefined;
    // -p: uprobes attach to that process only, and bpftrace exits when it does.
    const mappingsNow = followMappings(pid);
    for await (const {maps, elapsedMs, skipped, skippedSample, began} of runScript(script, {intervalMs: options.intervalMs, signal: options.signal, target: {pid}, pidFlag: true, sampleBytes, ...(files ? {files} : {})})) {
      // An unnamed frame is a frame only if it points into the process's code (see trimStack).
      const {code, mappingOf} = mappingsNow();
      const isCode = code ? (address: bigint) => code.some(([low, high]) => address >= low && address < high) : undefined;
      const live = read.live ? liveStackRows(read.live, maps.maps, maps.endNs, isCode) : undefined;
      const snapshot: TracerStackSnapshot = {
        tab: options.tab,
        backend: 'bpftrace',
        probe: script.label,
        pid,
        ...(comm ? {comm} : {}),
        time: new Date().toISOString(),
        elapsedMs,
        stacks: live ? live.stacks : stackRows(read, maps.maps, definition.stackBytes, isCode, read.maps.some(map => map.where) ? mappingOf : undefined),
        capped: isCapped(maps, script) || (live?.untracked ?? 0) > 0,
        skippedLines: skipped,
        ...(skippedSample !== undefined ? {skippedSample} : {}),
      };
      if (view) snapshot.view = view;
      if (files?.[0]) snapshot.allocator = files[0].kind;
      if (live) snapshot.live = {since: began, classes: live.classes, totals: live.totals, untracked: live.untracked, ...(sampleBytes > 0 ? {sampleBytes} : {}), ...(live.sampled > 1 ? {sampled: live.sampled} : {})};
      if (read.histogram) snapshot.histogram = maps.hists.get(read.histogram) ?? [];
      if (read.entryPoints) snapshot.entryPoints = entryPoints(maps.maps, read.entryPoints);
      const notes = frameNotesOf(pid, options.tab, snapshot.stacks);
      if (notes.length > 0) snapshot.frameNotes = notes;
      yield snapshot;
    }
  },
};
