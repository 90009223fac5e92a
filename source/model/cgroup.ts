// Which cgroup (or container) a process is in, read from /proc/<pid>/cgroup, with a bounded
// cache, for the CGROUP column and the --cgroup filter. Names are returned raw: the UI sanitises.
import {readFileSync} from 'node:fs';

/** What the CGROUP column knows of one process. */
export interface CgroupInfo {
  /** The cgroup path, e.g. "/system.slice/docker-<id>.scope". */
  path: string;
  /** A docker/containerd/CRI-O/podman container id, 12 characters, when the path names one. */
  containerId?: string;
  /** What to show: the container id, else the path's last two components ("/" for the root). */
  label: string;
}

/**
 * The process's cgroup path from the text of /proc/<pid>/cgroup: the v1 memory controller's
 * line when there is one (a v1 or hybrid machine, where memory is accounted there and the
 * unified "0::" line is only systemd's tracking, often "/"), else the cgroup v2 line
 * ("0::/path"), else the first line. The kernel's " (deleted)" mark of a removed cgroup is
 * dropped. Undefined when no line has a path.
 */
export function parseCgroupFile(text: string): string | undefined {
  const entries: {hierarchy: string; controllers: string[]; path: string}[] = [];
  for (const line of text.split('\n')) {
    // hierarchy-ID:controller-list:path, and the path itself may hold ':'.
    const first = line.indexOf(':');
    const second = first === -1 ? -1 : line.indexOf(':', first + 1);
    if (second === -1) continue;
    const path = line.slice(second + 1).replace(/ \(deleted\)$/, '');
    if (path === '') continue;
    entries.push({hierarchy: line.slice(0, first), controllers: line.slice(first + 1, second).split(','), path});
  }
  const unified = entries.find(entry => entry.hierarchy === '0' && entry.controllers.join('') === '');
  const memory = entries.find(entry => entry.controllers.includes('memory'));
  return (memory ?? unified ?? entries[0])?.path;
}

/** The cgroup path of a process, or undefined when it has gone or /proc cannot say. Never throws. */
export function cgroupOf(pid: number, procRoot = '/proc'): string | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    return parseCgroupFile(readFileSync(`${procRoot}/${pid}/cgroup`, 'utf8'));
  } catch {
    return undefined;
  }
}

// One path component that is a container: a bare 64-hex id (docker and kubepods with the
// cgroupfs driver) or a systemd scope of docker, containerd (cri-containerd, nerdctl), CRI-O,
// podman (libpod) or runc. The runtimes' monitor scopes (crio-conmon-, libpod-conmon-) do not match.
const BARE_ID = /^([0-9a-f]{64})$/;
const SCOPE_ID = /^(?:docker|cri-containerd|crio|libpod|nerdctl|runc)-([0-9a-f]{64})\.scope$/;

/**
 * The 12-character short id of the innermost container the cgroup path names (…/docker-<id>.scope,
 * …/docker/<id>, cri-containerd-<id>.scope, crio-<id>.scope, libpod-<id>.scope), else undefined.
 */
export function containerId(path: string): string | undefined {
  const components = path.split('/');
  for (let index = components.length - 1; index >= 0; index--) {
    const match = BARE_ID.exec(components[index]!) ?? SCOPE_ID.exec(components[index]!);
    if (match) return match[1]!.slice(0, 12);
  }
  return undefined;
}

/** The label of a cgroup path: its container id, else its last two components, "/" for the root. */
export function labelOfPath(path: string): string {
  const id = containerId(path);
  if (id) return id;
  const components = path.split('/').filter(component => component !== '');
  return components.length === 0 ? '/' : components.slice(-2).join('/');
}

/** Path, container id and label of a cgroup path (one read from /proc, or one from a recording). */
export function infoOfPath(path: string): CgroupInfo {
  const id = containerId(path);
  return {path, ...(id ? {containerId: id} : {}), label: labelOfPath(path)};
}

/** Path, container id and label of a process's cgroup, or undefined when it cannot be read. */
export function cgroupInfo(pid: number, procRoot = '/proc'): CgroupInfo | undefined {
  const path = cgroupOf(pid, procRoot);
  return path === undefined ? undefined : infoOfPath(path);
}

/** The CGROUP column's text for a process: container id or the path's last two components. */
export function cgroupLabel(pid: number, procRoot = '/proc'): string | undefined {
  return cgroupInfo(pid, procRoot)?.label;
}

/**
 * Whether a process's cgroup matches a --cgroup pattern: a case-insensitive substring of its
 * label or of its full path (so "docker", "kubepods", "user.slice" and a container id all
 * work). An empty pattern matches everything; a process whose cgroup is unknown matches nothing else.
 */
export function matchesCgroup(cgroup: CgroupInfo | string | undefined, pattern: string): boolean {
  if (pattern === '') return true;
  if (cgroup === undefined) return false;
  const needle = pattern.toLowerCase();
  const texts = typeof cgroup === 'string' ? [cgroup] : [cgroup.label, cgroup.path];
  return texts.some(text => text.toLowerCase().includes(needle));
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

  /** The process's CGROUP label, or undefined when unknown. */
  label(pid: number): string | undefined {
    return this.info(pid)?.label;
  }

  /** Forget everything (e.g. when the user asks for a refresh). */
  clear(): void {
    this.entries.clear();
  }
}
