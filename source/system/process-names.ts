// The one owner of process names: read from /proc lazily (only for the rows that are shown,
// exported or recorded), each read kept a few seconds and the cache bounded, and one text for a
// process that has gone. Views and backends ask here; none reads /proc/<pid>/comm itself.
import {procText} from './proc-file.js';

/** What a process is called where a name is shown but the process has gone (or /proc cannot name it). */
export const GONE_NAME = '?';

/** A process's name (its main thread's comm) from /proc, or undefined when it has gone. */
function readProcessName(pid: number): string | undefined {
  try {
    return procText(pid, 'comm')?.replace(/\n$/, '') || undefined;
  } catch {
    return undefined;
  }
}

const NAME_TTL_MS = 5000;
const NAME_CACHE_MAX = 4096;
const names = new Map<number, {name: string | undefined; at: number}>();

/**
 * A process's name, read at most once every few seconds per pid (a table names its shown rows
 * every interval); undefined when the process has gone.
 */
export function processName(pid: number, now = Date.now()): string | undefined {
  const cached = names.get(pid);
  if (cached && now - cached.at < NAME_TTL_MS) return cached.name;
  const name = readProcessName(pid);
  if (names.size >= NAME_CACHE_MAX) {
    for (const [key, entry] of names) if (now - entry.at >= NAME_TTL_MS) names.delete(key);
    if (names.size >= NAME_CACHE_MAX) names.clear();
  }
  names.set(pid, {name, at: now});
  return name;
}

/**
 * Forget what a process was called: it has exec'd another program (whoever sees the exec says so).
 * A container's first process is runc's until it execs the container's command; named from a
 * cache a few seconds old, its rows would be shown (and filtered) under runc's name meanwhile.
 */
export function forgetProcessName(pid: number): void {
  names.delete(pid);
}

/** A process's name as shown: processName's, or GONE_NAME when it has gone. */
export function shownName(pid: number): string {
  return processName(pid) ?? GONE_NAME;
}

/** Whether a process exists now (read now, not from the cache). */
export function processExists(pid: number): boolean {
  return readProcessName(pid) !== undefined;
}
