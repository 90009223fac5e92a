// Everything the bench starts is registered here, so that it is gone on every way out: the
// normal end, an error, Ctrl-C, SIGTERM, SIGHUP. Children are also started with
// PR_SET_PDEATHSIG (see proc.ts), which covers the bench being killed outright.
import {readdirSync, readFileSync} from 'node:fs';

type Teardown = () => void;

const teardowns = new Map<number, {what: string; run: Teardown}>();
let nextId = 1;
let installed = false;

/**
 * Register a synchronous teardown (kill a process, remove a cgroup). Returns a function that
 * runs it now and unregisters it.
 */
export function onCleanup(what: string, run: Teardown): () => void {
  const id = nextId++;
  teardowns.set(id, {what, run});
  return () => {
    const entry = teardowns.get(id);
    if (!entry) return;
    teardowns.delete(id);
    entry.run();
  };
}

/** Run every registered teardown, newest first. Synchronous: safe in exit and signal handlers. */
export function cleanupAll(): void {
  const entries = [...teardowns.entries()].reverse();
  teardowns.clear();
  for (const [, entry] of entries) {
    try {
      entry.run();
    } catch (error) {
      process.stderr.write(`bench: cleanup of ${entry.what} failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
}

/** Install the exit and signal hooks once. */
export function installCleanupHooks(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupAll);
  const codes: Record<string, number> = {SIGINT: 130, SIGTERM: 143, SIGHUP: 129};
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}: stopping everything it started\n`);
      cleanupAll();
      process.exit(codes[signal]);
    });
  }
}

/** Parent pid of `pid`, or undefined when it has gone. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The name is in parentheses and may hold spaces: fields start after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Every live pid that descends from `root` (children, grandchildren, ...). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = parentPid(Number(name));
    if (ppid === undefined) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** SIGKILL `pid` and everything under it, children first found, ignoring those already gone. */
export function killTree(pid: number): void {
  const all = [pid, ...descendants(pid)];
  for (const target of all) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
