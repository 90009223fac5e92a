// Allocator discovery: for each process, the object file that serves its allocations (its own
// executable, jemalloc, tcmalloc, mimalloc, musl, glibc, Go's runtime), found from /proc/PID/maps
// and the files' own symbols, each file resolved through /proc/PID/root (a container's files are
// its own) and known once by device and inode however many processes map it. The one reader of
// these facts: files are cached by (device, inode, size, mtime), processes by pid and executable.
import {readdirSync, readFileSync, readlinkSync, statfsSync, statSync, type Stats} from 'node:fs';
import {classifyObject, isAllocatorSymbol, providerIndex, type AllocatorKind, type AllocatorObject} from '../model/allocators.js';
import {readElfSymbols} from './elf-file.js';
import {forgetProcessName, processName} from './process-names.js';

/** One allocator file as tracers probe it. */
export interface AllocatorFile extends AllocatorObject {
  /** The path a tracer opens: the file's own where memtop's root reaches it, else through /proc/PID/root. */
  path: string;
  /** "device:inode": one file however many paths and processes reach it. */
  id: string;
  /** Its GNU build id (hex), when it has one. */
  buildId?: string;
}

/** The allocator of one process. */
export interface ProcessAllocator {
  pid: number;
  kind: AllocatorKind;
  file: AllocatorFile;
}

/** A process whose allocator memtop cannot probe, and why. */
export interface Unprobed {
  pid: number;
  comm: string;
  reason: string;
}

/** What one look at the machine's processes found. */
export interface AllocatorScan {
  /** Every distinct file serving some process's allocations, in the order first seen. */
  files: AllocatorFile[];
  processes: Map<number, ProcessAllocator>;
  unprobed: Unprobed[];
}

/** The allocator a file at `path` is, from its own symbols (known by its path), or undefined when it defines none memtop knows. */
export function readAllocatorFile(path: string): AllocatorFile | undefined {
  const symbols = readElfSymbols(path, isAllocatorSymbol);
  const object = symbols ? classifyObject(symbols.functions) : undefined;
  return object ? {...object, path, id: `path:${path}`} : undefined;
}

/** A mapped file of a process, as /proc/PID/maps names it. */
interface MappedFile {
  path: string;
  inode: number;
  /** Its address range as /proc/PID/map_files names it ("55d0c0a01000-55d0c0a02000"). */
  range: string;
  /** The device and inode of the file the mapping is of, "major:minor:inode": an overlay's file is its real one (what a uprobe is on). */
  id: string;
}

/** The executable mappings' files of a maps text, each once, in map order. */
export function executableFiles(maps: string): MappedFile[] {
  const seen = new Set<string>();
  const files: MappedFile[] = [];
  for (const line of maps.split('\n')) {
    const match = /^([0-9a-f]+-[0-9a-f]+) ..x. \S+ (\S+) (\d+)\s+(\/.*)$/.exec(line);
    if (!match || match[4]!.endsWith(' (deleted)') || seen.has(match[4]!)) continue;
    seen.add(match[4]!);
    files.push({path: match[4]!, inode: Number(match[3]), range: match[1]!, id: `${match[2]}:${match[3]}`});
  }
  return files;
}

interface FileFacts {
  key: string;
  object: AllocatorObject | undefined;
  buildId?: string;
  hasSymtab: boolean;
}

const FILE_CACHE_MAX = 4096;
const files = new Map<string, FileFacts>();

/** What a file is as an allocator, read once per (device, inode, size, mtime). */
function factsOf(path: string, stats: Stats): FileFacts {
  const key = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
  const cached = files.get(key);
  if (cached) return cached;
  const symbols = readElfSymbols(path, isAllocatorSymbol);
  const facts: FileFacts = {key, object: symbols ? classifyObject(symbols.functions) : undefined, hasSymtab: symbols?.hasSymtab ?? false, ...(symbols?.buildId ? {buildId: symbols.buildId} : {})};
  if (files.size >= FILE_CACHE_MAX) files.clear();
  files.set(key, facts);
  return facts;
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * A process's mapped file as memtop reaches it: through /proc/PID/root first (a container's
 * path), else as named (a chroot's maps name the file from memtop's root), taking the one whose
 * inode is the mapping's; and the path tracers get: the plain one when it is the same file.
 */
function resolve(pid: number, mapped: MappedFile): {path: string; stats: Stats} | undefined {
  const inRoot = `/proc/${pid}/root${mapped.path}`;
  // Last, the mapping itself: a path from another mount namespace may name nothing memtop can reach.
  const candidates = [inRoot, mapped.path, `/proc/${pid}/map_files/${mapped.range}`].map(path => ({path, stats: statOf(path)})).filter((found): found is {path: string; stats: Stats} => found.stats !== undefined);
  const found = candidates.find(candidate => candidate.stats.ino === mapped.inode);
  if (!found) return undefined;
  const plain = found.path === mapped.path ? found.stats : statOf(mapped.path);
  if (plain && plain.dev === found.stats.dev && plain.ino === found.stats.ino) return {path: mapped.path, stats: found.stats};
  return found;
}

/** statfs(2)'s f_type of overlayfs. */
const OVERLAYFS_SUPER_MAGIC = 0x794c7630;

/**
 * What a uprobe knows a mapped file by. A uprobe is on the real file under an overlay, but each
 * container's overlay mount has a device of its own: /proc/PID/maps shows one image file as
 * 00:28:1812663 in one container and 00:34:1812663 in the next (overlay keeps the lower file's
 * inode number). Probed once per device, every call in either container trapped twice and was
 * counted twice. An overlay's file is known by its inode, size and modification time instead: a
 * container's own copy of a file (copied up, or another layer's) is another inode.
 */
function fileIdentity(mapped: MappedFile, found: {path: string; stats: Stats}): string {
  // Block devices have a major number; overlay, like every virtual filesystem, has 0.
  if (!mapped.id.startsWith('00:')) return mapped.id;
  try {
    if (statfsSync(found.path).type !== OVERLAYFS_SUPER_MAGIC) return mapped.id;
  } catch {
    return mapped.id;
  }
  return `overlay:${mapped.inode}:${found.stats.size}:${Math.round(found.stats.mtimeMs)}`;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The start of the name of the directory holding a memtop's private copy of libc (backends/tracer-libc.ts), its pid after it. */
export const PRIVATE_LIBC_PREFIX = 'memtop-libc-';
const PRIVATE_LIBC = new RegExp(`/${PRIVATE_LIBC_PREFIX}\\d+-[^/\\s]+/libc\\.so\\.6$`, 'm');

/** Whether a path is a memtop's private copy of libc: what its own tracers run on. */
export function isPrivateLibcPath(file: string): boolean {
  return PRIVATE_LIBC.test(file);
}

/**
 * What one process's allocator is, or why it has none memtop can probe; undefined for a kernel
 * thread, a process gone, or a memtop tracer (it runs on a private copy of libc).
 */
export function readProcessAllocator(pid: number): ProcessAllocator | Unprobed | undefined {
  const maps = readText(`/proc/${pid}/maps`);
  if (maps === undefined || maps === '') return undefined;
  if (PRIVATE_LIBC.test(maps)) return undefined;
  let mapped = executableFiles(maps);
  // The executable first: its mapping is not always the lowest.
  const exe = statOf(`/proc/${pid}/exe`);
  if (exe) {
    const index = mapped.findIndex(file => file.inode === exe.ino);
    if (index > 0) mapped = [mapped[index]!, ...mapped.slice(0, index), ...mapped.slice(index + 1)];
  }
  const resolved = mapped.map(file => resolve(pid, file));
  const facts = resolved.map(found => (found ? factsOf(found.path, found.stats) : undefined));
  const index = providerIndex(facts.map(fact => fact?.object));
  const comm = processName(pid) ?? '?';
  if (index === -1) {
    const exeFacts = facts[0];
    const reason = exeFacts && !exeFacts.hasSymtab && mapped.length === 1 ? 'a static executable without symbols' : 'no object it maps defines malloc or runtime.mallocgc';
    return {pid, comm, reason};
  }
  const found = resolved[index]!;
  const fact = facts[index]!;
  const file: AllocatorFile = {...fact.object!, path: found.path, id: fileIdentity(mapped[index]!, found), ...(fact.buildId ? {buildId: fact.buildId} : {})};
  return {pid, kind: file.kind, file};
}

/** The pids in /proc now. */
export function listPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter(name => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/** Look at every process (or those of `pids`): each one's allocator, the distinct files, and those memtop cannot probe. */
export function scanAllocators(pids: readonly number[] = listPids()): AllocatorScan {
  const scan: AllocatorScan = {files: [], processes: new Map(), unprobed: []};
  const byId = new Map<string, AllocatorFile>();
  for (const pid of pids) {
    const found = readProcessAllocator(pid);
    if (!found) continue;
    if ('reason' in found) {
      scan.unprobed.push(found);
      continue;
    }
    const known = byId.get(found.file.id);
    if (known) {
      scan.processes.set(pid, {...found, file: known});
      continue;
    }
    byId.set(found.file.id, found.file);
    scan.files.push(found.file);
    scan.processes.set(pid, found);
  }
  return scan;
}

const PROCESS_TTL_MS = 5000;
const PROCESS_CACHE_MAX = 4096;
const processes = new Map<number, {exe: string | undefined; found: ProcessAllocator | Unprobed | undefined; at: number}>();

function exeLink(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/**
 * A process's allocator kind ("jemalloc", "go"...), "?" when memtop cannot probe it, undefined
 * when it has gone; read at most once every few seconds per pid, and again when it runs exec.
 */
export function allocatorKindOf(pid: number, now = Date.now()): string | undefined {
  const cached = processes.get(pid);
  if (cached && now - cached.at < PROCESS_TTL_MS) return cached.found && ('kind' in cached.found ? cached.found.kind : '?');
  const exe = exeLink(pid);
  // The same executable, or the process gone (its row stays, with what it was): nothing to read again.
  const found = cached && (cached.exe === exe || exe === undefined) ? cached.found : readProcessAllocator(pid);
  if (processes.size >= PROCESS_CACHE_MAX) processes.clear();
  processes.set(pid, {exe, found, at: now});
  return found && ('kind' in found ? found.kind : '?');
}

/**
 * Follows processes that start (or run exec) after it began: each poll() reads the maps of
 * those only (a readdir of /proc and a readlink per process; about a millisecond per hundred
 * processes) and returns the allocator files not seen before.
 */
export class AllocatorWatch {
  private readonly exes = new Map<number, string | undefined>();
  private readonly known = new Set<string>();
  /** Processes read before their libraries were mapped (just after exec): read again a few polls. */
  private readonly retries = new Map<number, number>();

  /** Start from a scan: its processes and files are known. */
  constructor(scan: AllocatorScan) {
    for (const file of scan.files) this.known.add(file.id);
    for (const pid of listPids()) this.exes.set(pid, exeLink(pid));
  }

  /** Let files be found again (their tracer failed): the next poll reads every process's maps that maps them anew. */
  forget(ids: readonly string[]): void {
    for (const id of ids) this.known.delete(id);
    this.exes.clear();
  }

  /** Files serving a process new since the last poll, each once. */
  poll(): AllocatorFile[] {
    const fresh: AllocatorFile[] = [];
    const seen = new Set<number>();
    for (const pid of listPids()) {
      seen.add(pid);
      const exe = exeLink(pid);
      const retry = this.retries.get(pid);
      if (this.exes.has(pid) && this.exes.get(pid) === exe && retry === undefined) continue;
      // Another executable than last time: the process has exec'd, and its name with it. A process
      // new to the watcher may have exec'd too since it was named (a container's first process
      // names rows as runc's init until its exec, often between two polls): its name is read again.
      if (!this.exes.has(pid) || this.exes.get(pid) !== exe) forgetProcessName(pid);
      this.exes.set(pid, exe);
      const found = readProcessAllocator(pid);
      if (found && 'reason' in found) {
        if ((retry ?? 0) < 3) this.retries.set(pid, (retry ?? 0) + 1);
        else this.retries.delete(pid);
        continue;
      }
      this.retries.delete(pid);
      if (!found || this.known.has(found.file.id)) continue;
      this.known.add(found.file.id);
      fresh.push(found.file);
    }
    for (const pid of this.exes.keys()) {
      if (seen.has(pid)) continue;
      this.exes.delete(pid);
      this.retries.delete(pid);
    }
    return fresh;
  }
}
