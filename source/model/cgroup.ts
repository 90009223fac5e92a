// Which cgroup (or container) a cgroup path names, for the CGROUP column and the --cgroup filter:
// pure reading of /proc/<pid>/cgroup's text and of paths (system/cgroups.ts reads the files).
// Names are returned raw: the UI sanitises.

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

// One path component that is a container: a bare 64-hex id (docker and kubepods with the
// cgroupfs driver) or a systemd scope of docker, containerd (cri-containerd, nerdctl), CRI-O,
// podman (libpod) or runc, or podman's cgroup with the cgroupfs driver (libpod_parent/libpod-<id>).
// The runtimes' monitor scopes (crio-conmon-, libpod-conmon-) do not match.
const BARE_ID = /^([0-9a-f]{64})$/;
const SCOPE_ID = /^(?:(?:docker|cri-containerd|crio|libpod|nerdctl|runc)-([0-9a-f]{64})\.scope|libpod-([0-9a-f]{64}))$/;

/**
 * The 12-character short id of the innermost container the cgroup path names (…/docker-<id>.scope,
 * …/docker/<id>, cri-containerd-<id>.scope, crio-<id>.scope, libpod-<id>.scope), else undefined.
 */
export function containerId(path: string): string | undefined {
  const components = path.split('/');
  for (let index = components.length - 1; index >= 0; index--) {
    const match = BARE_ID.exec(components[index]!) ?? SCOPE_ID.exec(components[index]!);
    if (match) return (match[1] ?? match[2])!.slice(0, 12);
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
