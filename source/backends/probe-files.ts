// Locates memtop's own probe scripts and the machine facts probe choice depends on.
import {existsSync, readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import path from 'node:path';

/**
 * memtop's probes/ folder, resolved from this module's install location (never the cwd): next to
 * dist/ for the bundled memtop command (dist/cli.js), two levels up for source/backends/.
 */
export const PROBES_DIR =
  [new URL('../probes/', import.meta.url), new URL('../../probes/', import.meta.url)].map(url => fileURLToPath(url)).find(dir => existsSync(path.join(dir, 'bpftrace'))) ??
  fileURLToPath(new URL('../../probes/', import.meta.url));

/** Absolute path of one shipped probe script, e.g. probeScript('bpftrace', 'malloc.bt'). */
export function probeScript(tracer: 'bpftrace' | 'stap' | 'dtrace', file: string): string {
  if (!/^[\w.-]+$/.test(file)) throw new Error(`bad probe file name: ${file}`);
  return path.join(PROBES_DIR, tracer, file);
}

export const TRACEFS_CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

/** Where tracefs is mounted, if it is. */
export function tracefsRoot(): string | undefined {
  return TRACEFS_CANDIDATES.find(root => existsSync(path.join(root, 'events')));
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

const LIBC_FALLBACKS = [
  '/lib/x86_64-linux-gnu/libc.so.6',
  '/usr/lib/x86_64-linux-gnu/libc.so.6',
  '/lib/aarch64-linux-gnu/libc.so.6',
  '/usr/lib64/libc.so.6',
  '/lib64/libc.so.6',
  '/usr/lib/libc.so.6',
];

/**
 * The C library processes on this machine run against: MEMTOP_LIBC when set (for machines
 * whose processes use another libc than memtop's own Node), else the one memtop's own Node
 * maps, else a known path. The path reaches bpftrace as a positional parameter, never as text.
 */
export function findLibc(): string | undefined {
  const override = process.env.MEMTOP_LIBC;
  if (override !== undefined && override !== '') {
    return path.isAbsolute(override) && existsSync(override) ? override : undefined;
  }
  try {
    for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
      const file = line.split(/\s+/)[5];
      if (file && /\/libc(?:-[\d.]+)?\.so(?:\.6)?$/.test(file) && existsSync(file)) return file;
    }
  } catch {
    // no /proc: fall through
  }
  return LIBC_FALLBACKS.find(file => existsSync(file));
}

/**
 * The address ranges [low, high) a process has mapped executable, from /proc/<pid>/maps, or
 * undefined when it has gone (or /proc cannot say).
 */
export function executableRanges(pid: number): [low: bigint, high: bigint][] | undefined {
  try {
    const ranges: [bigint, bigint][] = [];
    for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      const match = /^([0-9a-f]+)-([0-9a-f]+) ..x/.exec(line);
      if (match) ranges.push([BigInt(`0x${match[1]}`), BigInt(`0x${match[2]}`)]);
    }
    return ranges;
  } catch {
    return undefined;
  }
}

/** A process's name (its main thread's comm) from /proc, or undefined when it has gone. */
export function readProcessName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '') || undefined;
  } catch {
    return undefined;
  }
}
