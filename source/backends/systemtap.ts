// The SystemTap backend: runs the registry's probes/stap/ script for a tab (and its drill-down
// script) with stap, and parses its output into one snapshot per interval. The scripts share
// what they have in common through the tapset in probes/stap/tapset (stap's own include).
import {execa} from 'execa';
import {readFileSync, readlinkSync, statSync} from 'node:fs';
import os from 'node:os';
import {TracerError, type Availability, type Backend, type StackStartOptions, type StartOptions, type TabId, type TracerSnapshot, type TracerStackSnapshot} from '../types.js';
import {TABS, tracerScripts, viewOf, type ScriptChoice} from '../registry.js';
import {STAP_FORMAT} from '../parse/stap-output.js';
import {findLibc} from '../system/kernel.js';
import {mappedFile, pathSeenBy} from '../system/processes.js';
import {PROBES_DIR, probeScript} from './probe-files.js';
import {findTracerBinary, positionalArguments} from './tracer-process.js';
import {explainFailure, firstLine, stackRun, stackSnapshots, tableSnapshots, trialAvailability, type FailureText, type TextTracer} from './text-tracer.js';

const STAP_FALLBACK_PATHS = ['/usr/bin/stap', '/usr/local/bin/stap', '/opt/systemtap/bin/stap'];

/** How long the availability check may take: stap compiles a kernel module for it. */
export const STAP_TRIAL_TIMEOUT_MS = 120_000;

/**
 * Limits memtop raises for every script: printing one snapshot runs a few statements per row
 * in one probe (MAXACTION, default 1000), and a busy malloc probe may be skipped now and then
 * under lock contention without that being fatal (MAXSKIPPED, default 100).
 */
export const STAP_DEFINES = ['-DMAXACTION=100000', '-DMAXSKIPPED=100000'];

/** Per-process scripts keep only short names; a smaller string size shrinks their maps 4x. */
const TAB_SCRIPT_DEFINES = ['-DMAXSTRINGLEN=128'];

/** Absolute path of the stap binary, if installed. */
export function stapPath(): string | undefined {
  return findTracerBinary('stap', STAP_FALLBACK_PATHS);
}

/**
 * Whether a path may be handed to stap as a script argument or to -d: absolute, made only of
 * [A-Za-z0-9._+/-], with no "." or ".." segment. memtop finds these paths itself (never from
 * the user), and checks them anyway before they reach the tracer.
 */
export function isPlainAbsolutePath(path: string): boolean {
  return (
    path.length < 4096 &&
    /^\/[A-Za-z\d._+/-]+$/.test(path) &&
    !path.split('/').some(segment => segment === '.' || segment === '..')
  );
}

const LIBC_NAME = /\/(?:libc(?:-[\d.]+)?\.so(?:\.6)?|libc\.musl-[\w]+\.so\.1|ld-musl-[\w]+\.so\.1)$/;

/** The libc to probe: the one `pid` maps, or (for every process) the one memtop's own Node maps. */
export function stapLibc(pid: number): string {
  let libc: string | undefined;
  if (pid > 0) {
    try {
      const mapped = mappedFile(readFileSync(`/proc/${pid}/maps`, 'utf8'), path => LIBC_NAME.test(path));
      if (mapped) libc = pathSeenBy(pid, mapped.path, mapped.inode);
    } catch {
      // process gone or unreadable: fall back to memtop's own libc
    }
  }
  libc ??= findLibc();
  if (!libc) throw new TracerError('libc not found for the malloc probe', 'memtop looks for libc.so.6 in the process maps and in /lib*/');
  if (!isPlainAbsolutePath(libc)) {
    throw new TracerError(`libc path ${JSON.stringify(libc)} has characters memtop will not pass to stap`, 'install libc under a plain path such as /lib/x86_64-linux-gnu/libc.so.6');
  }
  return libc;
}

/**
 * stap options that give it the symbols and unwind data of the process's program and of the
 * libraries it links (-d EXE --ldd); none when the program cannot be named safely, and then
 * frames are hex addresses.
 */
export function symbolOptions(pid: number): string[] {
  try {
    const exe = readlinkSync(`/proc/${pid}/exe`);
    if (exe.endsWith(' (deleted)')) return [];
    const path = pathSeenBy(pid, exe, statSync(`/proc/${pid}/exe`).ino);
    return isPlainAbsolutePath(path) ? ['-d', path, '--ldd'] : [];
  } catch {
    return [];
  }
}

let swapReadFunction: string | undefined;

/** Which swap read function this kernel has (the probe anonpgin.stp will attach). */
function swapReadProbe(): string {
  if (swapReadFunction === undefined) {
    try {
      const symbols = readFileSync('/proc/kallsyms', 'utf8');
      swapReadFunction = /\sswap_read_folio$/m.test(symbols) ? 'swap_read_folio' : 'swap_readpage';
    } catch {
      swapReadFunction = 'swap_read_folio';
    }
  }
  return swapReadFunction;
}

/** A script's label as its probe is on this machine: {libc} and {swap_read} filled in. */
export function stapProbeLabel(script: ScriptChoice, libc?: string): string {
  return script.label.replace('{libc}', libc ?? findLibc() ?? 'libc.so.6').replace('{swap_read}', () => swapReadProbe());
}

/** The tapset directory every script shares functions through (probes/stap/tapset/memtop.stp). */
export const STAP_TAPSET = `${PROBES_DIR}stap/tapset`;

/** How stap's stderr reads (see explainFailure). */
const STAP_FAILURES: FailureText = {
  name: 'stap',
  telling: /^(?:ERROR|semantic error|error|Pass \d: .*failed)/i,
  prefix: /^ERROR:\s*/,
  hints: [
    [/not permitted|permission denied|stapusr|stapdev|must be root|unprivileged/i, 'run memtop as root (sudo memtop), or add the user to the stapusr and stapdev groups'],
    [/Required key not available|module verification|signature|lockdown/i, 'the kernel refuses unsigned modules (Secure Boot lockdown): enroll a signing key for stap, or use the bpftrace backend'],
    [/debuginfo|debug info|dwarf/i, 'install the kernel debuginfo: run stap-prep (or dnf debuginfo-install kernel, or apt-get install linux-image-$(uname -r)-dbgsym)'],
    [/uprobes|process probes not available/i, 'this kernel lacks uprobes (CONFIG_UPROBES), which the malloc tab needs; the other tabs still work'],
    [/no match|while resolving probe point/i, 'this kernel lacks the probe point, or its debuginfo is missing: run stap-prep'],
    [/MAXACTION|MAXSKIPPED|skipped probes|overflow/i, 'too much to trace at once: pass a --pid, a smaller limit or a longer interval'],
    [/no such process|pid .* exited/i, 'the process has exited; pick a running PID'],
  ],
};

/** Turn stap's stderr into one line with the reason and the fix. */
export function explainStapFailure(stderr: string, exitCode: number | undefined): TracerError {
  const text = stderr.trim();
  const release = os.release();
  const buildTree = /Checking "([^"]*)" failed with error/.exec(text);
  if (buildTree || /kernel build tree|Kernel source tree|build directory/i.test(text)) {
    return new TracerError(
      `stap: cannot build kernel modules here: no kernel build tree for ${release}${buildTree ? ` (${buildTree[1]} is missing)` : ''}`,
      `install the headers of the running kernel (apt-get install linux-headers-${release}, or dnf install kernel-devel-${release}) and its debuginfo (stap-prep does both)`,
    );
  }
  return explainFailure(STAP_FAILURES, stderr, exitCode);
}

/** stap as the backend runs it. */
const STAP: TextTracer = {
  path: stapPath,
  missing: () => new TracerError('stap is not installed', 'install SystemTap: apt-get install -y systemtap, or dnf install systemtap'),
  explainFailure: explainStapFailure,
  format: STAP_FORMAT,
};

/** The SystemTap backend. */
export const systemtapBackend: Backend = {
  id: 'stap',

  async available(): Promise<Availability> {
    const stap = stapPath();
    if (!stap) return {ok: false, reason: 'stap is not installed: apt-get install -y systemtap (or dnf install systemtap)'};
    const versionRun = await execa(stap, ['--version'], {reject: false, timeout: 10_000});
    const version = /version ([\d.]+)/.exec(`${versionRun.stdout}\n${versionRun.stderr}`)?.[1];
    if (versionRun.exitCode !== 0 || !version) {
      return {ok: false, reason: `stap --version failed (${firstLine(versionRun.stderr, /\S/) ?? `exit code ${versionRun.exitCode}`}): reinstall systemtap`};
    }
    const trial = await execa(stap, ['-e', 'probe begin { exit() }'], {reject: false, timeout: STAP_TRIAL_TIMEOUT_MS});
    if (trial.timedOut) return {ok: false, version, reason: `stap took over ${STAP_TRIAL_TIMEOUT_MS / 1000} s to run a trivial probe: check that stap -e 'probe begin { exit() }' works`};
    return trialAvailability(STAP, trial, version);
  },

  async probeFor(tab: TabId): Promise<string> {
    return stapProbeLabel(TABS[tab].stap.script);
  },

  async *start(options: StartOptions): AsyncGenerator<TracerSnapshot> {
    const pid = options.pid ?? 0;
    // One script prints every view of a tab, but a view with scripts of its own (live) runs those.
    const {script} = tracerScripts(TABS[options.tab].stap, viewOf(options.tab, options.view).id);
    const positional = positionalArguments(options.intervalMs, pid, false);
    const libc = script.libc ? stapLibc(pid) : undefined;
    const args = [...STAP_DEFINES, ...TAB_SCRIPT_DEFINES, '-I', STAP_TAPSET, probeScript('stap', script.file), ...positional, ...(libc ? [libc] : [])];
    const context = {tab: options.tab, probe: stapProbeLabel(script, libc), ...(script.lacks ? {unmeasured: script.lacks} : {})};
    yield* tableSnapshots(STAP, args, options.signal, context);
  },

  async *startStacks(options: StackStartOptions): AsyncGenerator<TracerStackSnapshot> {
    const {args, context} = stackRun(options, TABS[options.tab].stap, {
      cache: (script, positional) => ({args: [...STAP_DEFINES, '-I', STAP_TAPSET, probeScript('stap', script.file), ...positional], probe: stapProbeLabel(script)}),
      process: (script, pid, positional, sample) => {
        const libc = script.libc ? stapLibc(pid) : undefined;
        const args = [...STAP_DEFINES, '-I', STAP_TAPSET, ...symbolOptions(pid), probeScript('stap', script.file), ...positional, ...(libc ? [libc] : []), ...sample];
        return {args, probe: stapProbeLabel(script, libc)};
      },
    });
    yield* stackSnapshots(STAP, args, options.signal, context);
  },
};
