// Giving back the pages a tracer touched only to start. bpftrace compiles its program with LLVM
// and Clang, mapped from their libraries, and once attached never runs that code again; those
// clean file pages stay in its RSS (most of it) until memory pressure takes them. Where memtop has
// a memory cgroup of its own (its container, its pod, a systemd service) it asks the cgroup to
// give them back: on cgroup v2 with memory.reclaim (Linux 5.19), it marks its tracers' file pages
// unused (/proc/PID/clear_refs 3: the referenced bits of file-backed pages only) and asks for as
// many bytes as they hold, and the kernel takes the coldest pages first, the tracers' now; on
// cgroup v1, which has no memory.reclaim, it writes memory.force_empty with the cgroup's
// memory.swappiness at 0 for the while (then put back), which reclaims every file page charged to
// the cgroup and no anonymous one. Clean file pages are dropped, not written anywhere, and read
// back from disk if ever touched again (memtop's own, as it runs). Nothing is done where memtop
// shares its cgroup with other processes (a login session's: their cache is not memtop's to drop),
// where its cgroup has others below it, or where it has neither file (older kernels, the root cgroup).
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {readStatusBytes} from './proc-status.js';

/**
 * The directory of this process's cgroup v2, from /proc/self/cgroup's `0::PATH` line and the
 * cgroup2 mount in /proc/self/mountinfo (whose root may be a part of the hierarchy, as in a
 * container without a cgroup namespace); undefined when there is none or the mount does not show it.
 */
export function cgroupV2Directory(selfCgroup: string, mountinfo: string): string | undefined {
  const own = /^0::(\/.*)$/m.exec(selfCgroup)?.[1];
  return own === undefined ? undefined : mountedDirectory(own, mountinfo, type => type === 'cgroup2');
}

/**
 * The directory of this process's cgroup v1 memory controller, from /proc/self/cgroup's
 * `N:memory:PATH` line (the controller alone or among others: `N:cpu,memory:PATH`) and the cgroup
 * mount that carries `memory` in its options; undefined without one.
 */
export function cgroupV1MemoryDirectory(selfCgroup: string, mountinfo: string): string | undefined {
  const own = /^\d+:(?:[^:\n]*,)?memory(?:,[^:\n]*)?:(\/.*)$/m.exec(selfCgroup)?.[1];
  return own === undefined ? undefined : mountedDirectory(own, mountinfo, (type, options) => type === 'cgroup' && options.split(',').includes('memory'));
}

/** Where the cgroup `own` (its path in its hierarchy) shows, through the first mount that `isHierarchy` picks and whose root holds it. */
function mountedDirectory(own: string, mountinfo: string, isHierarchy: (type: string, superOptions: string) => boolean): string | undefined {
  const cgroup = own.replace(/ \(deleted\)$/, '');
  for (const line of mountinfo.split('\n')) {
    // id parent major:minor root mount-point options [optional fields...] - fstype source super-options
    const [before, after] = line.split(' - ');
    if (!before || !after) continue;
    const [type = '', , superOptions = ''] = after.split(' ');
    if (!isHierarchy(type, superOptions)) continue;
    const fields = before.split(' ');
    const root = unescapeMount(fields[3] ?? '');
    const point = unescapeMount(fields[4] ?? '');
    if (!root || !point) continue;
    const inside = root === '/' ? cgroup : cgroup === root || cgroup.startsWith(`${root}/`) ? cgroup.slice(root.length) : undefined;
    if (inside !== undefined) return path.join(point, inside).replace(/(.)\/+$/, '$1');
  }
  return undefined;
}

/** mountinfo's octal escapes (\040 for a space) undone. */
function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** How a cgroup is asked to give pages back: cgroup v2's memory.reclaim, or v1's memory.force_empty. */
export type ReclaimFile = 'memory.reclaim' | 'memory.force_empty';

/** What releaseStartPages did: the bytes of file pages its tracers held, the cgroup and how it asked, or why it did nothing. */
export type StartPagesResult = {asked: number; cgroup: string; how: ReclaimFile} | {skipped: string};

export interface StartPagesOptions {
  /** memtop's pid (default: this process). */
  self?: number;
  proc?: string;
  /** The cgroup directory (default: this process's memory cgroup, found from /proc/self: v2's, else v1's memory controller). */
  cgroup?: string;
}

/** The cgroup to ask and how: the given directory, else this process's own (ownMemoryCgroup). */
function memoryCgroup(proc: string, given: string | undefined): {cgroup: string; how: ReclaimFile} | {skipped: string} {
  if (given === undefined) return ownMemoryCgroup(proc);
  const how = reclaimFileOf(given);
  return how ? {cgroup: given, how} : {skipped: `no ${given}/memory.reclaim or memory.force_empty`};
}

/** The file a cgroup directory is asked through: memory.reclaim (v2), else memory.force_empty (v1), else none. */
function reclaimFileOf(cgroup: string): ReclaimFile | undefined {
  return (['memory.reclaim', 'memory.force_empty'] as const).find(file => existsSync(path.join(cgroup, file)));
}

/**
 * This process's memory cgroup and how it gives pages back: its cgroup v2 where that has
 * memory.reclaim, else its cgroup v1 memory controller where that has memory.force_empty; else why
 * neither.
 */
export function ownMemoryCgroup(proc = '/proc'): {cgroup: string; how: ReclaimFile} | {skipped: string} {
  const selfCgroup = readFileSync(`${proc}/self/cgroup`, 'utf8');
  const mountinfo = readFileSync(`${proc}/self/mountinfo`, 'utf8');
  const v2 = cgroupV2Directory(selfCgroup, mountinfo);
  if (v2 !== undefined && reclaimFileOf(v2) === 'memory.reclaim') return {cgroup: v2, how: 'memory.reclaim'};
  const v1 = cgroupV1MemoryDirectory(selfCgroup, mountinfo);
  if (v1 !== undefined && reclaimFileOf(v1) === 'memory.force_empty') return {cgroup: v1, how: 'memory.force_empty'};
  if (v2 !== undefined) return {skipped: `no ${path.join(v2, 'memory.reclaim')}`};
  return {skipped: v1 === undefined ? 'no memory cgroup' : `no ${path.join(v1, 'memory.force_empty')}`};
}

/**
 * Ask memtop's cgroup to reclaim the file pages its tracers (`tracers`, their pids) hold, when
 * the cgroup holds nothing but memtop and those tracers: cgroup v2's memory.reclaim for as many
 * bytes as they hold, or cgroup v1's memory.force_empty with the cgroup's memory.swappiness at 0
 * meanwhile (so that no anonymous page goes to swap; where it cannot be set, nothing is done).
 * Never throws.
 */
export async function releaseStartPages(tracers: readonly number[], options: StartPagesOptions = {}): Promise<StartPagesResult> {
  const proc = options.proc ?? '/proc';
  const self = options.self ?? process.pid;
  try {
    const found = memoryCgroup(proc, options.cgroup);
    if ('skipped' in found) return found;
    const {cgroup, how} = found;
    const ours = new Set([self, ...tracers]);
    const strangers = readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter(pid => !ours.has(pid));
    if (strangers.length > 0) return {skipped: `${cgroup} holds other processes too (${strangers.slice(0, 3).join(', ')})`};
    // Either file reclaims from the cgroups below too, which hold other processes' pages.
    const below = readdirSync(cgroup, {withFileTypes: true}).find(entry => entry.isDirectory());
    if (below) return {skipped: `${cgroup} has cgroups below it (${below.name})`};
    let asked = 0;
    for (const pid of tracers) {
      const status = readStatusBytes(pid, proc);
      if (typeof status !== 'object') continue;
      asked += status.RssFile ?? 0;
      if (how === 'memory.reclaim') await writeFile(`${proc}/${pid}/clear_refs`, '3').catch(() => undefined);
    }
    if (asked === 0) return {skipped: 'the tracers hold no file pages'};
    if (how === 'memory.reclaim') {
      // EAGAIN: the kernel reclaimed less than asked (pages in use again): what it took is taken.
      await writeFile(path.join(cgroup, how), String(asked)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EAGAIN') throw error;
      });
    } else {
      await forceEmpty(cgroup);
    }
    return {asked, cgroup, how};
  } catch (error) {
    return {skipped: error instanceof Error ? error.message.split('\n')[0]! : String(error)};
  }
}

/** cgroup v1's memory.force_empty, written with the cgroup's memory.swappiness at 0 (file pages only), which is then put back as it was. */
async function forceEmpty(cgroup: string): Promise<void> {
  const swappiness = path.join(cgroup, 'memory.swappiness');
  const before = readFileSync(swappiness, 'utf8').trim();
  await writeFile(swappiness, '0');
  try {
    await writeFile(path.join(cgroup, 'memory.force_empty'), '0');
  } finally {
    await writeFile(swappiness, before);
  }
}
