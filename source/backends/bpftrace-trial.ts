// A passed bpftrace trial run, remembered for this boot (in /run, which a reboot clears) with the
// version it reported, so that memtop starts without running bpftrace twice before its probes.
import {mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TRIAL_CACHE = '/run/memtop/bpftrace-trial';

/**
 * What a passed trial run depends on: this boot, this kernel, this bpftrace binary (by its
 * inode, size and mtime, so an upgrade is seen without running it), this user.
 */
export function trialKey(bpftrace: string): string {
  let boot = '';
  try {
    boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    boot = String(Date.now());
  }
  let binary = '';
  try {
    const stat = statSync(bpftrace);
    binary = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}`;
  } catch {
    binary = String(Date.now());
  }
  return JSON.stringify([boot, os.release(), bpftrace, binary, process.geteuid?.()]);
}

/**
 * The version bpftrace reported when it passed its trial under this key, if it has. `cache` is
 * the file it is kept in: one per kind of trial (the private libc's is another, tracer-libc.ts).
 */
export function trialPassedBefore(key: string, cache = TRIAL_CACHE): string | undefined {
  try {
    const remembered = JSON.parse(readFileSync(cache, 'utf8')) as {key?: unknown; version?: unknown};
    return remembered.key === key && typeof remembered.version === 'string' ? remembered.version : undefined;
  } catch {
    return undefined;
  }
}

export function rememberTrial(key: string, version: string, cache = TRIAL_CACHE): void {
  try {
    mkdirSync(path.dirname(cache), {recursive: true, mode: 0o700});
    writeFileSync(cache, JSON.stringify({key, version}), {mode: 0o600});
  } catch {
    // not writable (not root): the trial just runs again next time
  }
}

