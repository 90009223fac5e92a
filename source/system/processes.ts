// What /proc says about a process's memory: its executable ranges, its mappings by name and the
// files it maps (as paths memtop can open, through /proc/PID/root across containers). (Its name
// has its own owner: system/process-names.ts.)
import {readFileSync, statSync} from 'node:fs';
import {rangeAt} from '../model/ranges.js';

/**
 * The address ranges [low, high) a process has mapped executable, from /proc/<pid>/maps, or
 * undefined when it has gone (or /proc cannot say).
 */
export function executableRanges(pid: number): [low: bigint, high: bigint][] | undefined {
  const text = mapsText(pid);
  return text === undefined ? undefined : rangesIn(text);
}

function mapsText(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return undefined;
  }
}

function rangesIn(text: string): [low: bigint, high: bigint][] {
  const ranges: [bigint, bigint][] = [];
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]+)-([0-9a-f]+) ..x/.exec(line);
    if (match) ranges.push([BigInt(`0x${match[1]}`), BigInt(`0x${match[2]}`)]);
  }
  return ranges;
}

function mappingsIn(text: string): Mapping[] {
  return text.split('\n').map(parseMapsLine).filter((mapping): mapping is Mapping => mapping !== undefined);
}

/** What a drill-down reads of its process's mappings each interval: which addresses are its code, and which mapping holds an address. */
export interface MapsNow {
  code?: [low: bigint, high: bigint][];
  mappingOf?: (address: number) => string | undefined;
}

/**
 * A reader of one process's mappings over a drill-down's intervals. A process that has exited
 * keeps the mappings last read: its last interval arrives after it has gone, when its maps read
 * empty (a zombie) or not at all, and its stacks and addresses are still its own. An address
 * no mapping holds now is looked up in the mappings read before (memory unmapped since the
 * event), and only then called unmapped.
 */
export function followMappings(pid: number): () => MapsNow {
  let last: string | undefined;
  let before: string | undefined;
  return () => {
    const text = mapsText(pid);
    if (text !== undefined && text.trim() !== '') {
      if (last !== undefined && last !== text) before = last;
      last = text;
    }
    if (last === undefined) return {};
    const [now, earlier] = [last, before];
    // Parsed only for a drill-down that names mappings, once per interval.
    let mappings: [Mapping[], Mapping[] | undefined] | undefined;
    return {
      code: rangesIn(now),
      mappingOf: address => {
        mappings ??= [mappingsIn(now), earlier === undefined ? undefined : mappingsIn(earlier)];
        return mappingAt(mappings[0], address) ?? (mappings[1] ? mappingAt(mappings[1], address) : undefined);
      },
    };
  };
}

/** One mapping of a process: [low, high) and what it maps. */
export interface Mapping {
  low: number;
  high: number;
  /** "[heap]", "[stack]", "[vdso]", "anon" for anonymous memory, "jit" for anonymous executable memory (a JIT's code), or the mapped file's name (its path's last part). */
  name: string;
}

/** A /proc/<pid>/maps line's mapping, or undefined for a line that is not one. */
export function parseMapsLine(line: string): Mapping | undefined {
  const match = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
  if (!match) return undefined;
  const path = match[4]!.trim();
  const name = path === '' ? (match[3]!.includes('x') ? 'jit' : 'anon') : path.startsWith('[') ? path : path.slice(path.lastIndexOf('/') + 1);
  return {low: Number.parseInt(match[1]!, 16), high: Number.parseInt(match[2]!, 16), name};
}


/** The name of the mapping that holds `address` (mappings in address order). */
export function mappingAt(mappings: readonly Mapping[], address: number): string | undefined {
  return rangeAt(mappings, address)?.name;
}

/** A file a process maps, from the text of /proc/<pid>/maps: its path and inode. */
export function mappedFile(mapsText: string, matches: (path: string) => boolean): {path: string; inode: number} | undefined {
  for (const line of mapsText.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6) continue;
    const path = fields.slice(5).join(' ');
    const inode = Number(fields[4]);
    if (path.startsWith('/') && Number.isSafeInteger(inode) && inode > 0 && matches(path)) return {path, inode};
  }
  return undefined;
}

/**
 * A path to `file` as another process sees it, that memtop and its tracers can open: the path itself
 * when it is the same file here (same inode), else the same path under /proc/<pid>/root (a
 * process in a container sees its own root).
 */
export function pathSeenBy(pid: number, file: string, inode: number): string {
  try {
    if (statSync(file).ino === inode) return file;
  } catch {
    // not visible from here: use the process's root
  }
  return `/proc/${pid}/root${file}`;
}
