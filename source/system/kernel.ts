// What this machine's kernel and C library offer the probes: tracefs, tracepoints and their
// fields, kprobe-able functions, BTF and libc, and which of a probe's requirements are unmet.
// Read from /sys and /proc (and tracefs mounted where it is missing and memtop may); no cache
// beyond the kprobe function list, which a boot does not change.
import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import path from 'node:path';
import type {Requirement} from '../registry.js';
import {mappedFile, pathSeenBy} from './processes.js';

export const TRACEFS_CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

/** Where tracefs is mounted, if it is. */
export function tracefsRoot(): string | undefined {
  return TRACEFS_CANDIDATES.find(root => existsSync(path.join(root, 'events')));
}

/**
 * Mounts tracefs at /sys/kernel/tracing when it is mounted nowhere and this process may (root
 * with CAP_SYS_ADMIN in its mount namespace, as in a privileged container), as trace-cmd does.
 * Returns where tracefs is now, or undefined when it is still missing.
 */
export function mountTracefs(): string | undefined {
  const found = tracefsRoot();
  if (found || process.geteuid?.() !== 0) return found;
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS_CANDIDATES[0]!], {stdio: 'ignore', timeout: 5000});
  } catch {
    return undefined;
  }
  return tracefsRoot();
}

/** Whether a tracepoint such as "kmem/kmem_cache_alloc" exists on this kernel. */
export function hasTracepoint(name: string): boolean {
  const root = tracefsRoot();
  return root !== undefined && existsSync(path.join(root, 'events', name, 'format'));
}

/** Whether a tracepoint's format names a field, e.g. ("kmem/kmem_cache_alloc", "name"). */
export function hasTracepointField(name: string, field: string): boolean {
  const root = tracefsRoot();
  if (!root) return false;
  try {
    const format = readFileSync(path.join(root, 'events', name, 'format'), 'utf8');
    return new RegExp(`^\\s*field:[^;]*[\\s*]${field}(\\[\\d*\\])?;`, 'm').test(format);
  } catch {
    return false;
  }
}

let kprobeFunctions: Set<string> | undefined;

/** Whether kprobes work here and the kernel function can be probed. */
export function hasKprobe(fn: string): boolean {
  const root = tracefsRoot();
  if (!root || !existsSync(path.join(root, 'kprobe_events'))) return false;
  if (!kprobeFunctions) {
    kprobeFunctions = new Set();
    try {
      for (const line of readFileSync(path.join(root, 'available_filter_functions'), 'utf8').split('\n')) {
        const name = line.split(/\s/)[0];
        if (name) kprobeFunctions.add(name);
      }
    } catch {
      // unreadable: treat as no kprobes
    }
  }
  return kprobeFunctions.has(fn);
}

/** Whether the kernel describes its types in BTF (bpftrace's tracepoint args need it from 0.25). */
export function hasBtf(): boolean {
  return existsSync('/sys/kernel/btf/vmlinux');
}

const LIBC_FALLBACKS = [
  '/lib/x86_64-linux-gnu/libc.so.6',
  '/usr/lib/x86_64-linux-gnu/libc.so.6',
  '/lib/aarch64-linux-gnu/libc.so.6',
  '/usr/lib64/libc.so.6',
  '/lib64/libc.so.6',
  '/usr/lib/libc.so.6',
];

const LIBC_NAME = /\/libc(?:-[\d.]+)?\.so(?:\.6)?$/;

/**
 * The C library a process maps, as a path memtop and its tracers can open: the path itself when
 * it is the same file here, else through /proc/PID/root (a process in another container, or the
 * host's processes seen from memtop's own container). Undefined when the process is gone, maps
 * no glibc, or its maps are not readable.
 */
export function libcOf(pid: number): string | undefined {
  try {
    const mapped = mappedFile(readFileSync(`/proc/${pid}/maps`, 'utf8'), file => LIBC_NAME.test(file));
    return mapped ? pathSeenBy(pid, mapped.path, mapped.inode) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The C library to probe: MEMTOP_LIBC when set; for one process (`pid` > 0), the one it maps;
 * for every process, the machine's: the one its init (PID 1) maps, which from a container run in
 * the host's pid namespace is the host's, seen through /proc/1/root; else the one memtop's own
 * Node maps, else a known path. The path reaches tracers as a positional parameter, never as text.
 */
export function findLibc(pid = 0): string | undefined {
  const override = process.env.MEMTOP_LIBC;
  if (override !== undefined && override !== '') {
    return path.isAbsolute(override) && existsSync(override) ? override : undefined;
  }
  return (pid > 0 ? libcOf(pid) : undefined) ?? libcOf(1) ?? libcOf(process.pid) ?? LIBC_FALLBACKS.find(file => existsSync(file));
}

/** What a requirement needs, in words ("tracepoint kmem/kmalloc"). */
export function describeRequirement(requirement: Requirement): string {
  if ('tracepoint' in requirement) return `tracepoint ${requirement.tracepoint}`;
  if ('tracepointField' in requirement) return `field ${requirement.tracepointField[1]} of tracepoint ${requirement.tracepointField[0]}`;
  if ('kprobe' in requirement) return `kprobe on ${requirement.kprobe}`;
  return 'libc';
}

/** Whether this machine meets one requirement. */
export function meets(requirement: Requirement): boolean {
  if ('tracepoint' in requirement) return hasTracepoint(requirement.tracepoint);
  if ('tracepointField' in requirement) return hasTracepointField(...requirement.tracepointField);
  if ('kprobe' in requirement) return hasKprobe(requirement.kprobe);
  return findLibc() !== undefined;
}

/** The first requirement this machine does not meet, described, or undefined when all are met. */
export function unmet(requirements: readonly Requirement[] = []): string | undefined {
  const missing = requirements.find(requirement => !meets(requirement));
  return missing ? describeRequirement(missing) : undefined;
}
