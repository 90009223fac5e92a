// The DTrace backend: runs the registry's probes/dtrace/ script for a tab (and its drill-down
// script) with dtrace, and parses its output into one snapshot per interval. The scripts are written for
// illumos (brk and slab read illumos kernel structures); malloc, majfault and anonpgin use the
// pid and vminfo providers that other DTrace ports share.
import {execa} from 'execa';
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
import {DtraceBlockReader, parseDtraceSnapshot, parseDtraceStackSnapshot} from '../parse/dtrace-output.js';
import {drillView, TABS, tracerScripts, viewOf} from '../registry.js';
import {probeScript} from './probe-files.js';
import {cacheArguments, noCacheRows, findTracerBinary, positionalArguments, tracerLines} from './tracer-process.js';

const DTRACE_FALLBACK_PATHS = ['/usr/sbin/dtrace', '/usr/bin/dtrace', '/sbin/dtrace'];

/** Absolute path of the dtrace binary, if installed. */
export function dtracePath(): string | undefined {
  return findTracerBinary('dtrace', DTRACE_FALLBACK_PATHS);
}

function firstLine(text: string, pattern: RegExp): string | undefined {
  return text.split('\n').map(line => line.trim()).find(line => pattern.test(line));
}

/** Turn dtrace's stderr into one line with the reason and the fix. */
export function explainDtraceFailure(stderr: string, exitCode: number | undefined): TracerError {
  const text = stderr.trim();
  const reason = (firstLine(text, /^dtrace: (?:failed|error|invalid|could not|probe description|pid \d+)/i) ?? firstLine(text, /\S/) ?? `dtrace exited with code ${exitCode ?? 'unknown'}`)
    .replace(/^dtrace:\s*/, '')
    .slice(0, 300);
  let hint = 'run `memtop --check` to see what this machine lacks';
  if (/system integrity protection/i.test(text)) hint = 'macOS System Integrity Protection blocks these probes: allow DTrace in recovery mode (csrutil enable --without dtrace)';
  else if (/privilege|not permitted|permission denied/i.test(text)) hint = 'run memtop as root (sudo memtop), or grant the dtrace_proc and dtrace_kernel privileges';
  else if (/device not available|no such device|\/dev\/dtrace/i.test(text)) hint = 'load DTrace into the kernel (FreeBSD: kldload dtraceall)';
  else if (/does not match any probes|no probes specified|unknown provider/i.test(text)) hint = 'this system lacks the probe (the brk and slab scripts need illumos); use another tab or backend';
  else if (/pid \d+ has exited|no such process|failed to grab/i.test(text)) hint = 'the process has exited; pick a running PID';
  else if (/drops|buffer|out of scratch space|dynamic variable/i.test(text)) hint = 'too much to trace at once: pass a --pid, a smaller limit or a longer interval';
  return new TracerError(`dtrace: ${reason}`, hint);
}

/** Run one script and yield each block of output with the lines skipped so far. */
async function* dtraceBlocks(args: string[], signal: AbortSignal): AsyncGenerator<{block: string[]; readerSkipped: number}> {
  const dtrace = dtracePath();
  if (!dtrace) throw new TracerError('dtrace is not installed', 'DTrace ships with illumos, FreeBSD and macOS');
  const reader = new DtraceBlockReader();
  for await (const line of tracerLines({command: dtrace, args, signal, explainFailure: explainDtraceFailure})) {
    const block = reader.push(line);
    if (block) yield {block, readerSkipped: reader.skippedLines};
  }
}

function needsPid(title: string): TracerError {
  return new TracerError(
    `DTrace traces ${title} in one process only: its pid provider needs a target process`,
    `start memtop with --pid PID for the ${title} tab, or use the bpftrace or stap backend to see every process`,
  );
}

/** The DTrace backend. */
export const dtraceBackend: Backend = {
  id: 'dtrace',

  async available(): Promise<Availability> {
    const dtrace = dtracePath();
    if (!dtrace) return {ok: false, reason: 'dtrace is not installed: DTrace ships with illumos, FreeBSD and macOS (on Linux use bpftrace or stap)'};
    const versionRun = await execa(dtrace, ['-V'], {reject: false, timeout: 10_000});
    const versionText = `${versionRun.stdout}\n${versionRun.stderr}`;
    const version = /(?:Sun D|D version|DTrace)\s*([\d.]+)/i.exec(versionText)?.[1];
    if (!version) {
      return {ok: false, reason: `${dtrace} is not DTrace (dtrace -V printed no D version; SystemTap's SDT helper is also called dtrace): install DTrace or use another backend`};
    }
    const trial = await execa(dtrace, ['-q', '-n', 'BEGIN { exit(0); }'], {reject: false, timeout: 30_000});
    if (trial.exitCode !== 0) {
      const failure = explainDtraceFailure(trial.stderr, trial.exitCode);
      return {ok: false, version, reason: `${failure.message} (${failure.hint})`};
    }
    return {ok: true, version};
  },

  async probeFor(tab: TabId): Promise<string> {
    return TABS[tab].dtrace.script.label;
  },

  async *start(options: StartOptions): AsyncGenerator<TracerSnapshot> {
    const pid = options.pid ?? 0;
    const definition = TABS[options.tab].dtrace;
    if (definition.needsPid && pid === 0) throw needsPid(TABS[options.tab].title);
    const view = viewOf(options.tab, options.view).id;
    const {script} = tracerScripts(definition, view);
    const positional = positionalArguments(options.intervalMs, pid, definition.needsPid === true);
    // A view with a script of its own probes entry points a libc may lack: -Z lets it start without them.
    const args = [...(definition.needsPid ? [...(script !== definition.script ? ['-Z'] : []), '-p', String(pid)] : []), '-s', probeScript('dtrace', script.file), ...positional];
    const context = {tab: options.tab, probe: script.label};
    let blockSkipped = 0;
    for await (const {block, readerSkipped} of dtraceBlocks(args, options.signal)) {
      const {snapshot, skippedLines} = parseDtraceSnapshot(block, context);
      blockSkipped += skippedLines;
      if (snapshot) yield {...snapshot, skippedLines: readerSkipped + blockSkipped};
    }
  },

  async *startStacks(options: StackStartOptions): AsyncGenerator<TracerStackSnapshot> {
    const definition = TABS[options.tab].dtrace;
    let args: string[];
    let context: Parameters<typeof parseDtraceStackSnapshot>[1];
    if (options.cache !== undefined) {
      const script = definition.cacheStacks;
      if (!script) throw noCacheRows(TABS[options.tab].title);
      args = ['-s', probeScript('dtrace', script.file), ...cacheArguments(options.intervalMs, options.cache)];
      context = {tab: options.tab, probe: script.label, cache: options.cache};
    } else {
      const positional = positionalArguments(options.intervalMs, options.pid, true);
      const script = tracerScripts(definition, drillView(options.tab, options.view)).stacks;
      const sampleBytes = script.sample ? Math.max(0, Math.round(options.sampleBytes ?? 0)) : 0;
      // The pid provider's probes exist only once the process is grabbed: -Z lets the script compile before.
      args = [...(definition.needsPid ? ['-Z', '-p', String(options.pid)] : []), '-s', probeScript('dtrace', script.file), ...positional, ...(script.sample ? [String(sampleBytes)] : [])];
      context = {tab: options.tab, probe: script.label, pid: options.pid, ...(sampleBytes > 0 ? {sampleBytes} : {})};
    }
    let blockSkipped = 0;
    for await (const {block, readerSkipped} of dtraceBlocks(args, options.signal)) {
      const {snapshot, skippedLines} = parseDtraceStackSnapshot(block, context);
      blockSkipped += skippedLines;
      if (snapshot) yield {...snapshot, skippedLines: readerSkipped + blockSkipped};
    }
  },
};
