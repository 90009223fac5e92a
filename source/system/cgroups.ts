// A process's cgroup, read from /proc/<pid>/cgroup, with the one bounded cache memtop reads it
// through (the CGROUP column, the --cgroup filter, recordings).
import {procText} from './proc-file.js';
import {infoOfPath, parseCgroupFile, type CgroupInfo} from '../model/cgroup.js';

/** The cgroup path of a process, or undefined when it has gone or /proc cannot say. Never throws. */
export function cgroupOf(pid: number, procRoot = '/proc'): string | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    const text = procText(pid, 'cgroup', procRoot);
    return text === undefined ? undefined : parseCgroupFile(text);
  } catch {
    return undefined;
  }
}

/** Path, container id and label of a process's cgroup, or undefined when it cannot be read. */
export function cgroupInfo(pid: number, procRoot = '/proc'): CgroupInfo | undefined {
  const path = cgroupOf(pid, procRoot);
  return path === undefined ? undefined : infoOfPath(path);
}

export interface CgroupCacheOptions {
  /** Most processes remembered; the least recently asked go first. Default 4096. */
  maxEntries?: number;
  /** How long an answer is trusted: processes move between cgroups and PIDs are reused. Default 5 s. */
  ttlMs?: number;
  /** Default: cgroupInfo from /proc. */
  read?: (pid: number) => CgroupInfo | undefined;
  now?: () => number;
}

/**
 * Cgroup lookups remembered for a while, bounded in size, so a table of hundreds of rows per
 * interval reads /proc once per process every few seconds, not every frame.
 */
export class CgroupCache {
  private readonly entries = new Map<number, {info: CgroupInfo | undefined; at: number}>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly read: (pid: number) => CgroupInfo | undefined;
  private readonly now: () => number;

  constructor(options: CgroupCacheOptions = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? 4096);
    this.ttlMs = options.ttlMs ?? 5000;
    this.read = options.read ?? (pid => cgroupInfo(pid));
    this.now = options.now ?? Date.now;
  }

  /** Processes remembered now. */
  get size(): number {
    return this.entries.size;
  }

  /** The process's cgroup if the cache holds it, fresh or not, without reading /proc: for a process that has exited. */
  remembered(pid: number): CgroupInfo | undefined {
    return this.entries.get(pid)?.info;
  }

  /** The process's cgroup, from the cache while fresh, else read again. */
  info(pid: number): CgroupInfo | undefined {
    const now = this.now();
    const cached = this.entries.get(pid);
    if (cached && now - cached.at < this.ttlMs) {
      // Map order is insertion order: move it to the end as the most recently used.
      this.entries.delete(pid);
      this.entries.set(pid, cached);
      return cached.info;
    }
    const info = this.read(pid);
    this.entries.delete(pid);
    this.entries.set(pid, {info, at: now});
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return info;
  }
}
