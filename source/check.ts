// Preflight checks: what memtop needs from this machine, each with pass or fail and the fix.
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {checkBackends} from './backends/index.js';
import {compileEveryScript} from './backends/bpftrace-check.js';
import {findLibc, hasBtf, mountTracefs, tracefsRoot} from './system/kernel.js';
import {scanAllocators, type AllocatorScan} from './system/allocators.js';
import {describeSites, summarize} from './backends/allocator-probes.js';
import {bpftracePath, bpftraceVersion} from './backends/bpftrace.js';
import {tracerLibcEnv} from './backends/tracer-libc.js';
import {ALLOCATOR_KINDS, coverageText} from './model/allocators.js';
import {sanitize} from './format.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** The command or step that fixes a failure. */
  fix?: string;
  /** A failure that only some tabs care about. */
  optional?: boolean;
}

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

/** Effective capabilities of this process, from /proc/self/status. */
function effectiveCapabilities(): bigint {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find(text => text.startsWith('CapEff:'));
    return line ? BigInt(`0x${line.split(/\s+/)[1]}`) : 0n;
  } catch {
    return 0n;
  }
}

/**
 * Root. CAP_BPF with CAP_PERFMON would do for the kernel, but bpftrace 0.17 refuses to run
 * as anyone but root, and tracefs is readable by root only; say so rather than fail later.
 */
export function privilegeCheck(): CheckResult {
  const caps = effectiveCapabilities();
  const has = (bit: bigint) => (caps & (1n << bit)) !== 0n;
  const root = process.geteuid?.() === 0;
  const capable = has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON));
  return {
    name: 'privileges',
    ok: root,
    detail: root ? 'running as root' : capable ? 'CAP_BPF and CAP_PERFMON, but bpftrace runs only as root' : 'not root',
    fix: 'run as root: sudo memtop',
  };
}

/** tracefs, mounted by memtop where it is missing and memtop may mount it. */
export function tracefsCheck(): CheckResult {
  const before = tracefsRoot();
  const root = before ?? mountTracefs();
  const detail = root ? `${before ? 'mounted' : 'memtop mounted it'} at ${root}` : 'not mounted, and memtop may not mount it (it needs root with CAP_SYS_ADMIN)';
  return {name: 'tracefs', ok: root !== undefined, detail, fix: 'mount -t tracefs nodev /sys/kernel/tracing'};
}

export function btfCheck(): CheckResult {
  const ok = hasBtf();
  return {name: 'BTF', ok, detail: ok ? '/sys/kernel/btf/vmlinux' : 'no /sys/kernel/btf/vmlinux', fix: 'boot a kernel built with CONFIG_DEBUG_INFO_BTF=y'};
}

/** The one libc SystemTap's and DTrace's malloc scripts probe (bpftrace's find each process's allocator). */
export function libcCheck(): CheckResult {
  const libc = findLibc();
  const override = process.env.MEMTOP_LIBC;
  const detail = libc ?? (override ? `MEMTOP_LIBC=${override} is not an existing absolute path` : 'libc.so.6 not found');
  const fix = override ? 'set MEMTOP_LIBC to the absolute path of libc.so.6, or unset it' : 'install libc6, or set MEMTOP_LIBC=/path/to/libc.so.6';
  return {name: 'libc (stap, dtrace)', ok: libc !== undefined, detail, fix, optional: true};
}

/** How many paths of one kind a line lists before it says how many more. */
const PATHS_LISTED = 4;

/**
 * What the malloc tab's bpftrace probes would trace now: the allocator files every process maps,
 * one line per kind with each file and how many processes use it, and one line naming the
 * processes whose allocator memtop cannot probe.
 */
export function allocatorChecks(scan: AllocatorScan): CheckResult[] {
  const summary = summarize(scan.files, scan);
  const coverage = coverageText(summary);
  const results: CheckResult[] = [
    {
      name: 'allocators (malloc tab)',
      ok: summary.files > 0,
      detail: summary.files > 0 ? `${coverage.files}, probed by bpftrace once each however many processes map them` : 'no process maps an allocator memtop can probe',
      fix: 'memtop probes malloc in any ELF file that defines it (glibc, musl, jemalloc, tcmalloc, mimalloc, a static executable) and runtime.mallocgc in Go programs',
      optional: true,
    },
  ];
  const users = new Map<string, number>();
  for (const {file} of scan.processes.values()) users.set(file.id, (users.get(file.id) ?? 0) + 1);
  for (const kind of ALLOCATOR_KINDS) {
    const files = scan.files.filter(file => file.kind === kind);
    if (files.length === 0) continue;
    const listed = files.slice(0, PATHS_LISTED).map(file => {
      const count = users.get(file.id) ?? 0;
      return `${sanitize(file.path)}${file.prefix ? ` (${file.prefix}malloc)` : ''} (${count} process${count === 1 ? '' : 'es'})`;
    });
    const more = files.length > PATHS_LISTED ? `, and ${files.length - PATHS_LISTED} more` : '';
    results.push({name: `allocator ${kind}`, ok: true, detail: `${listed.join(', ')}${more}`});
  }
  if (scan.unprobed.length > 0) {
    const reasons = new Map<string, string[]>();
    for (const process of scan.unprobed) reasons.set(process.reason, [...(reasons.get(process.reason) ?? []), `${sanitize(process.comm)} (${process.pid})`]);
    const detail = [...reasons].map(([reason, names]) => `${names.slice(0, PATHS_LISTED).join(', ')}${names.length > PATHS_LISTED ? ` and ${names.length - PATHS_LISTED} more` : ''}: ${reason}`).join('; ');
    results.push({
      name: 'allocator not probed',
      ok: false,
      detail: `${scan.unprobed.length} process${scan.unprobed.length === 1 ? '' : 'es'}: ${detail}`,
      fix: 'their calls are not counted; a build with a symbol table (malloc, or Go\'s runtime.mallocgc) would be',
      optional: true,
    });
  }
  return results;
}

/** What a tracer's malloc scripts reach: bpftrace every allocator; SystemTap and DTrace one libc. */
function mallocReach(backend: string): string {
  if (backend === 'bpftrace') return '';
  return `; its malloc scripts probe one libc (${findLibc() ?? 'libc.so.6'}), not each process's allocator: other allocators, static and Go programs and containers' own libc are not seen (bpftrace's are)`;
}

export function swapCheck(): CheckResult {
  let active = 0;
  try {
    active = readFileSync('/proc/swaps', 'utf8').trim().split('\n').length - 1;
  } catch {
    active = 0;
  }
  return {
    name: 'swap (anonpgin tab)',
    ok: active > 0,
    detail: active > 0 ? `${active} swap area(s) on` : 'swap is off: the anon page-ins tab will stay empty',
    fix: 'fallocate -l 1G /swapfile && chmod 600 /swapfile && mkswap /swapfile && swapon /swapfile',
    optional: true,
  };
}

/** Whether memtop's tracers run on a private copy of libc (backends/tracer-libc.ts), where its own malloc probes do not trap them. */
async function tracerLibcCheck(): Promise<CheckResult> {
  const bpftrace = bpftracePath();
  const directory = bpftrace ? (await tracerLibcEnv(bpftrace)).LD_LIBRARY_PATH?.split(':')[0] : undefined;
  return {
    name: 'tracer libc',
    ok: directory !== undefined,
    detail: directory
      ? `a private copy in ${sanitize(path.dirname(directory))}: a tracer memtop starts while its malloc probes are on does not trap on each of its own malloc calls`
      : 'the shared libc: a tracer memtop starts while its malloc probes are on traps on each of its own malloc calls (seconds to start a drill-down or a new file\'s tracer on bpftrace 0.27)',
    fix: 'let memtop copy libc to a directory mounted without noexec (TMPDIR, /var/tmp), and leave MEMTOP_PRIVATE_LIBC unset',
    optional: true,
  };
}

/** Every check, tracers included (slow: each tracer is started once). */
export async function runChecks(): Promise<CheckResult[]> {
  const scan = scanAllocators();
  const results = [privilegeCheck(), tracefsCheck(), btfCheck(), ...allocatorChecks(scan), libcCheck(), swapCheck()];
  for (const {backend, availability} of await checkBackends()) {
    results.push({
      name: `tracer ${backend.id}`,
      ok: availability.ok,
      detail: `${availability.ok ? availability.version ?? 'works' : availability.reason ?? 'unavailable'}${mallocReach(backend.id)}`,
      optional: true,
    });
  }
  if (results.some(result => result.name === 'tracer bpftrace' && result.ok)) {
    // Where this bpftrace puts the probes a traced call pays for: the malloc tab's, and the live view's free.
    const sites = describeSites(scan.files, await bpftraceVersion());
    results.push({name: 'allocator probe sites', ok: !sites.singleSteps, detail: sites.text, fix: 'bpftrace 0.23 or later puts a probe past an entry instruction the kernel single-steps', optional: true});
    results.push(await tracerLibcCheck());
    for (const compiled of await compileEveryScript()) {
      results.push({
        name: `bpftrace ${compiled.view}`,
        ok: compiled.ok,
        detail: compiled.ok ? `${compiled.script} compiles` : `${compiled.script}: ${compiled.reason ?? 'does not compile'}`,
        fix: 'upgrade memtop, or report this bpftrace version and the line above',
      });
    }
  }
  if (!results.some(result => result.name.startsWith('tracer ') && result.ok)) {
    results.push({name: 'any tracer', ok: false, detail: 'no tracer can run here', fix: 'apt-get install -y bpftrace'});
  }
  return results;
}

/** The checks as the user reads them. */
export function formatChecks(results: CheckResult[]): string {
  const width = Math.max(24, ...results.map(result => result.name.length));
  return results
    .map(result => {
      const mark = result.ok ? 'pass' : result.optional ? 'warn' : 'FAIL';
      const fix = !result.ok && result.fix ? `  → fix: ${result.fix}` : '';
      return `${mark}  ${result.name.padEnd(width)} ${result.detail}${fix}`;
    })
    .join('\n');
}

/** The first failed check that stops memtop from tracing at all, as one line. */
export function blockingFailure(): string | undefined {
  for (const check of [privilegeCheck(), tracefsCheck()]) {
    if (!check.ok) return `${check.name}: ${check.detail}; fix: ${check.fix}`;
  }
  return undefined;
}
