// The binaries a profile's frames are in: a process's executable file mappings (each with its
// build id, and the functions it defines, read through the process's own root so that a
// container's libc is its own) or the kernel (its build id from /sys/kernel/notes). One cache,
// keyed by a file's device, inode, size and change time.
import {closeSync, fstatSync, openSync, readFileSync, readSync} from 'node:fs';
import {buildIdInNotes, elfBuildId, elfFunctionNames, type ReadAt} from '../parse/elf-profile.js';
import type {FrameBinaries, ProfileBinary} from '../model/pprof.js';

interface ElfFacts {
  buildId?: string;
  functions: Set<string>;
}

/** Files read, by identity; a process's binaries seldom change, and a profile is written every interval. */
const cache = new Map<string, ElfFacts>();
const CACHE_MAX = 256;

function elfFacts(path: string): ElfFacts | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return undefined;
    const key = `${stat.dev}:${stat.ino}:${stat.size}:${stat.ctimeMs}`;
    const known = cache.get(key);
    if (known) return known;
    const read: ReadAt = (offset, length) => {
      const buffer = Buffer.alloc(Math.max(0, Math.min(length, stat.size - offset)));
      let done = 0;
      while (done < buffer.length) {
        const got = readSync(fd, buffer, done, buffer.length - done, offset + done);
        if (got === 0) break;
        done += got;
      }
      return buffer.subarray(0, done);
    };
    const facts = {buildId: elfBuildId(read), functions: elfFunctionNames(read)};
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(key, facts);
    return facts;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * A process's executable file mappings, in address order (the program first, as pprof takes the
 * first mapping for the main binary), each with its build id; a frame is in the first of them
 * that defines a function of its name. Empty when the process has gone.
 */
export function processBinaries(pid: number): FrameBinaries {
  let maps: string;
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return {binaries: [], binaryOf: () => undefined};
  }
  const binaries: ProfileBinary[] = [];
  const owner = new Map<string, number>();
  const seen = new Set<string>();
  for (const line of maps.split('\n')) {
    const match = /^([0-9a-f]+)-([0-9a-f]+) ..x. ([0-9a-f]+) \S+ \d+\s+(\/.*)$/.exec(line);
    if (!match) continue;
    const file = match[4]!.replace(/ \(deleted\)$/, '');
    if (seen.has(file)) continue;
    seen.add(file);
    const facts = elfFacts(`/proc/${pid}/root${file}`);
    const index = binaries.length;
    binaries.push({start: BigInt(`0x${match[1]}`), limit: BigInt(`0x${match[2]}`), offset: BigInt(`0x${match[3]}`), file, ...(facts?.buildId ? {buildId: facts.buildId} : {})});
    for (const name of facts?.functions ?? []) if (!owner.has(name)) owner.set(name, index);
  }
  return {binaries, binaryOf: frame => owner.get(frame)};
}

/** The kernel as one binary, [kernel.kallsyms] as perf names it, with its build id: every frame of a kernel stack is in it. */
export function kernelBinaries(): FrameBinaries {
  let buildId: string | undefined;
  try {
    buildId = buildIdInNotes(readFileSync('/sys/kernel/notes'));
  } catch {
    buildId = undefined;
  }
  return {binaries: [{start: 0n, limit: 0n, offset: 0n, file: '[kernel.kallsyms]', ...(buildId ? {buildId} : {})}], binaryOf: () => 0};
}

/** The binaries of a drill-down's frames: the kernel's for a cache's kernel stacks, the process's for its user stacks. */
export function drillBinaries(target: {pid?: number; cache?: string}): FrameBinaries {
  return target.cache !== undefined ? kernelBinaries() : processBinaries(target.pid ?? 0);
}
