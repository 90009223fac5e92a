// A passed bpftrace trial run, remembered for this boot (in /run, which a reboot clears) with the
// version it reported, so that memtop starts without running bpftrace twice before its probes.
import {mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import os from 'node:os';

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

/** The version bpftrace reported when it passed its trial under this key, if it has. */
export function trialPassedBefore(key: string): string | undefined {
  try {
    const remembered = JSON.parse(readFileSync(TRIAL_CACHE, 'utf8')) as {key?: unknown; version?: unknown};
    return remembered.key === key && typeof remembered.version === 'string' ? remembered.version : undefined;
  } catch {
    return undefined;
  }
}

export function rememberTrial(key: string, version: string): void {
  try {
    mkdirSync('/run/memtop', {recursive: true, mode: 0o700});
    writeFileSync(TRIAL_CACHE, JSON.stringify({key, version}), {mode: 0o600});
  } catch {
    // not writable (not root): the trial just runs again next time
  }
}

