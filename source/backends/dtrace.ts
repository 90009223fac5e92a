// The DTrace backend: runs the registry's probes/dtrace/ script for a tab (and its drill-down
// script) with dtrace, and parses its output into one snapshot per interval. The scripts are written for
// illumos (brk and slab read illumos kernel structures); malloc, majfault and anonpgin use the
// pid and vminfo providers that other DTrace ports share.
import {execa} from 'execa';
import {TracerError, type Availability, type Backend, type StackStartOptions, type StartOptions, type TabId, type TracerSnapshot, type TracerStackSnapshot} from '../types.js';
import {DTRACE_FORMAT} from '../parse/dtrace-output.js';
import {TABS, tracerScripts, viewOf} from '../registry.js';
import {probeScript} from './probe-files.js';
import {findTracerBinary, positionalArguments} from './tracer-process.js';
import {explainFailure, stackRun, stackSnapshots, tableSnapshots, trialAvailability, type FailureText, type TextTracer} from './text-tracer.js';

const DTRACE_FALLBACK_PATHS = ['/usr/sbin/dtrace', '/usr/bin/dtrace', '/sbin/dtrace'];

/** Absolute path of the dtrace binary, if installed. */
export function dtracePath(): string | undefined {
  return findTracerBinary('dtrace', DTRACE_FALLBACK_PATHS);
}

/** How dtrace's stderr reads (see explainFailure). */
const DTRACE_FAILURES: FailureText = {
  name: 'dtrace',
  telling: /^dtrace: (?:failed|error|invalid|could not|probe description|pid \d+)/i,
  prefix: /^dtrace:\s*/,
  hints: [
    [/system integrity protection/i, 'macOS System Integrity Protection blocks these probes: allow DTrace in recovery mode (csrutil enable --without dtrace)'],
    [/privilege|not permitted|permission denied/i, 'run memtop as root (sudo memtop), or grant the dtrace_proc and dtrace_kernel privileges'],
    [/device not available|no such device|\/dev\/dtrace/i, 'load DTrace into the kernel (FreeBSD: kldload dtraceall)'],
    [/does not match any probes|no probes specified|unknown provider/i, 'this system lacks the probe (the brk and slab scripts need illumos); use another tab or backend'],
    [/pid \d+ has exited|no such process|failed to grab/i, 'the process has exited; pick a running PID'],
    [/drops|buffer|out of scratch space|dynamic variable/i, 'too much to trace at once: pass a --pid, a smaller limit or a longer interval'],
  ],
};

/** Turn dtrace's stderr into one line with the reason and the fix. */
export function explainDtraceFailure(stderr: string, exitCode: number | undefined): TracerError {
  return explainFailure(DTRACE_FAILURES, stderr, exitCode);
}

/** dtrace as the backend runs it. */
const DTRACE: TextTracer = {
  path: dtracePath,
  missing: () => new TracerError('dtrace is not installed', 'DTrace ships with illumos, FreeBSD and macOS'),
  explainFailure: explainDtraceFailure,
  format: DTRACE_FORMAT,
};

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
    return trialAvailability(DTRACE, trial, version);
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
    const context = {tab: options.tab, probe: script.label, ...(script.lacks ? {unmeasured: script.lacks} : {})};
    yield* tableSnapshots(DTRACE, args, options.signal, context);
  },

  async *startStacks(options: StackStartOptions): AsyncGenerator<TracerStackSnapshot> {
    const definition = TABS[options.tab].dtrace;
    const {args, context} = stackRun(options, definition, {
      cache: (script, positional) => ({args: ['-s', probeScript('dtrace', script.file), ...positional], probe: script.label}),
      // The pid provider's probes exist only once the process is grabbed: -Z lets the script compile before.
      process: (script, pid, positional, sample) => ({args: [...(definition.needsPid ? ['-Z', '-p', String(pid)] : []), '-s', probeScript('dtrace', script.file), ...positional, ...sample], probe: script.label}),
    });
    yield* stackSnapshots(DTRACE, args, options.signal, context);
  },
};
