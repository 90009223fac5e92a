// Giving back the pages a tracer touched only to start. bpftrace compiles its program with LLVM
// and Clang, mapped from their libraries, and once attached never runs that code again; those
// clean file pages stay in its RSS (most of it) until memory pressure takes them. Where memtop has
// a cgroup v2 of its own (its container, its pod, a systemd service) with memory.reclaim (Linux
// 5.19), it marks its tracers' file pages unused (/proc/PID/clear_refs 3: the referenced bits of
// file-backed pages only) and asks its cgroup to reclaim as many bytes as they hold. The kernel
// takes the coldest pages first, the tracers' now; clean file pages are dropped, not written
// anywhere, and read back from disk if ever touched again. Nothing is done where memtop shares its
// cgroup with other processes (a login session's: their cache is not memtop's to drop) or where
// there is no memory.reclaim (cgroup v1, older kernels).
import {existsSync, readFileSync} from 'node:fs';
import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {readStatusBytes} from './proc-status.js';

/**
 * The directory of this process's cgroup v2, from /proc/self/cgroup's `0::PATH` line and the
 * cgroup2 mount in /proc/self/mountinfo (whose root may be a part of the hierarchy, as in a
 * container without a cgroup namespace); undefined when there is none or the mount does not show it.
 */
export function cgroupV2Directory(selfCgroup: string, mountinfo: string): string | undefined {
  const own = /^0::(\/.*)$/m.exec(selfCgroup)?.[1]?.replace(/ \(deleted\)$/, '');
  if (own === undefined) return undefined;
  for (const line of mountinfo.split('\n')) {
    // id parent major:minor root mount-point options [optional fields...] - fstype source super-options
    const [before, after] = line.split(' - ');
    if (!before || !after || after.split(' ')[0] !== 'cgroup2') continue;
    const fields = before.split(' ');
    const root = unescapeMount(fields[3] ?? '');
    const point = unescapeMount(fields[4] ?? '');
    if (!root || !point) continue;
    const inside = root === '/' ? own : own === root || own.startsWith(`${root}/`) ? own.slice(root.length) : undefined;
    if (inside !== undefined) return path.join(point, inside).replace(/(.)\/+$/, '$1');
  }
  return undefined;
}

/** mountinfo's octal escapes (\040 for a space) undone. */
function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** What releaseStartPages did: the bytes it asked the cgroup to reclaim, or why it did nothing. */
export type StartPagesResult = {asked: number; cgroup: string} | {skipped: string};

export interface StartPagesOptions {
  /** memtop's pid (default: this process). */
  self?: number;
  proc?: string;
  /** The cgroup directory (default: this process's cgroup v2, found from /proc/self). */
  cgroup?: string;
}

/**
 * Ask memtop's cgroup to reclaim the file pages its tracers (`tracers`, their pids) hold, when
 * the cgroup holds nothing but memtop and those tracers and has memory.reclaim. Never throws.
 */
export async function releaseStartPages(tracers: readonly number[], options: StartPagesOptions = {}): Promise<StartPagesResult> {
  const proc = options.proc ?? '/proc';
  const self = options.self ?? process.pid;
  try {
    const cgroup = options.cgroup ?? cgroupV2Directory(readFileSync(`${proc}/self/cgroup`, 'utf8'), readFileSync(`${proc}/self/mountinfo`, 'utf8'));
    if (cgroup === undefined) return {skipped: 'no cgroup v2'};
    const reclaim = path.join(cgroup, 'memory.reclaim');
    if (!existsSync(reclaim)) return {skipped: `no ${reclaim}`};
    const ours = new Set([self, ...tracers]);
    const strangers = readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter(pid => !ours.has(pid));
    if (strangers.length > 0) return {skipped: `${cgroup} holds other processes too (${strangers.slice(0, 3).join(', ')})`};
    let asked = 0;
    for (const pid of tracers) {
      const status = readStatusBytes(pid, proc);
      if (typeof status !== 'object') continue;
      asked += status.RssFile ?? 0;
      await writeFile(`${proc}/${pid}/clear_refs`, '3').catch(() => undefined);
    }
    if (asked === 0) return {skipped: 'the tracers hold no file pages'};
    // EAGAIN: the kernel reclaimed less than asked (pages in use again): what it took is taken.
    await writeFile(reclaim, String(asked)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EAGAIN') throw error;
    });
    return {asked, cgroup};
  } catch (error) {
    return {skipped: error instanceof Error ? error.message.split('\n')[0]! : String(error)};
  }
}
