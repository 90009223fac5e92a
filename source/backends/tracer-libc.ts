// memtop's own bpftrace processes run on a private copy of the C library, so that they do not
// trap on memtop's own allocator probes. A uprobe on libc's malloc fires in every process that
// maps that file, a tracer included: bpftrace makes ~100,000 malloc calls to start on 0.17 and
// ~660,000 on 0.27, and a tracer started while the malloc tab's probes were on (one beside it for
// a new allocator file, a drill-down, the live view) took 0.8 s to start instead of 0.2 s on 0.17,
// and 4-12 s instead of 0.4 s on 0.27 (Debian unstable). The same bytes under another inode carry
// no breakpoint. The copy sits in a directory of memtop's own (mode 0700, named after memtop's
// pid), which goes when memtop exits; one left by a memtop that was killed goes at the next start.
// Allocator discovery passes over a process that maps such a copy (system/allocators.ts): it is a
// memtop tracer, not a process to show.
import {execa} from 'execa';
import {copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {isPrivateLibcPath, PRIVATE_LIBC_PREFIX} from '../system/allocators.js';
import {rememberTrial, trialKey, trialPassedBefore} from './bpftrace-trial.js';

/** Where a passed trial of the copy is remembered for this boot, beside bpftrace's own. */
const LIBC_TRIAL_CACHE = '/run/memtop/libc-trial';

/** Where the copy may go, first usable first: a directory on a filesystem mounted without noexec. */
const CANDIDATES = () => [os.tmpdir(), '/var/tmp', '/dev/shm', '/run'];

/** The C library this process (node) runs on, as its maps name it, when it is glibc's. */
function ownLibc(): string | undefined {
  try {
    const maps = readFileSync('/proc/self/maps', 'utf8');
    return /\s(\/\S*\/libc\.so\.6)$/m.exec(maps)?.[1];
  } catch {
    return undefined;
  }
}

/** Whether a directory's filesystem lets a library in it be mapped executable (its mount has no noexec). */
export function allowsExec(directory: string, mountinfo: string): boolean {
  let best: {point: string; options: string} | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 6) continue;
    const point = fields[4]!.replace(/\\040/g, ' ');
    const inside = directory === point || directory.startsWith(point.endsWith('/') ? point : `${point}/`);
    if (inside && (!best || point.length >= best.point.length)) best = {point, options: fields[5]!};
  }
  return best !== undefined && !best.options.split(',').includes('noexec');
}

/** Remove copies left by memtops that are gone (killed outright: no exit handler ran). */
function sweep(directory: string): void {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return;
  }
  const ownerOf = new RegExp(`^${PRIVATE_LIBC_PREFIX}(\\d+)-`);
  for (const name of names) {
    const owner = ownerOf.exec(name)?.[1];
    if (owner && Number(owner) !== process.pid && !existsSync(`/proc/${owner}`)) rmSync(path.join(directory, name), {recursive: true, force: true});
  }
}

let made: Promise<Record<string, string>> | undefined;

/**
 * The environment that has a bpftrace load the private copy of libc (LD_LIBRARY_PATH to its
 * directory), made once per memtop; empty where there is no glibc to copy, no directory allows
 * it, MEMTOP_PRIVATE_LIBC=0 asks for none, or the tracer did not run with it.
 */
export function tracerLibcEnv(tracer: string): Promise<Record<string, string>> {
  made ??= makeCopy(tracer);
  return made;
}

async function makeCopy(tracer: string): Promise<Record<string, string>> {
  if (process.env.MEMTOP_PRIVATE_LIBC === '0') return {};
  const libc = ownLibc();
  if (!libc || isPrivateLibcPath(libc)) return {};
  let mountinfo = '';
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return {};
  }
  for (const candidate of CANDIDATES()) {
    let directory: string | undefined;
    try {
      const real = realpathSync(candidate);
      // The loader splits LD_LIBRARY_PATH at ':' and ';'.
      if (/[:;]/.test(real) || !allowsExec(real, mountinfo)) continue;
      sweep(real);
      directory = mkdtempSync(path.join(real, `${PRIVATE_LIBC_PREFIX}${process.pid}-`));
      copyFileSync(libc, path.join(directory, 'libc.so.6'));
      const kept = directory;
      process.once('exit', () => rmSync(kept, {recursive: true, force: true}));
      const env = {LD_LIBRARY_PATH: [directory, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':')};
      // The copy must be one the tracer's loader takes (the same glibc): proven by running it,
      // once a boot for this tracer, this libc and this directory's filesystem.
      const stat = statSync(libc);
      const key = JSON.stringify([trialKey(tracer), libc, stat.ino, stat.size, stat.mtimeMs, real]);
      if (trialPassedBefore(key, LIBC_TRIAL_CACHE) !== undefined) return env;
      const trial = await execa(tracer, ['--version'], {reject: false, timeout: 10_000, env, extendEnv: true});
      if (trial.exitCode === 0) {
        rememberTrial(key, 'passed', LIBC_TRIAL_CACHE);
        return env;
      }
      rmSync(directory, {recursive: true, force: true});
      return {};
    } catch {
      if (directory) rmSync(directory, {recursive: true, force: true});
    }
  }
  return {};
}
