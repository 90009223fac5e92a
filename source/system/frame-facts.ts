// What model/frame-notes.ts needs to know of a process to say why its frames are unnamed: its
// executable mappings, whether each file has symbols, its perf map and its executable. Files are
// read through /proc/PID/root (a container's files are its own) and remembered by device and
// inode, so a view reads each file's section headers once.
import {existsSync, readFileSync, readlinkSync} from 'node:fs';
import {frameNotes, type CodeMapping, type FrameFacts, type FrameNote} from '../model/frame-notes.js';
import type {TabId} from '../types.js';
import {frameAddress} from '../parse/bpftrace-stacks.js';
import {readElfSymbols} from './elf-file.js';

/** Whether a file (by device:inode) has symbols, as read once. */
const symbolsKnown = new Map<string, boolean | undefined>();
const SYMBOLS_KEPT = 4096;

/** The executable mappings of a process from /proc/PID/maps text, with each file's device:inode. */
export function parseCodeMappings(maps: string): (CodeMapping & {id?: string})[] {
  const code: (CodeMapping & {id?: string})[] = [];
  for (const line of maps.split('\n')) {
    const match = /^([0-9a-f]+)-([0-9a-f]+) ..x. \S+ (\S+) (\d+)\s*(.*)$/.exec(line);
    if (!match) continue;
    const path = match[5]!;
    const mapping: CodeMapping & {id?: string} = {low: BigInt(`0x${match[1]}`), high: BigInt(`0x${match[2]}`)};
    // An anonymous executable mapping is a JIT's code; "[vdso]" and the like are named by the kernel.
    if (path.startsWith('/')) Object.assign(mapping, {file: path.replace(/ \(deleted\)$/, ''), id: `${match[3]}:${match[4]}`});
    else if (path !== '') continue;
    code.push(mapping);
  }
  return code;
}

/** The debug file for a build id where distributions install them (/usr/lib/debug/.build-id/xx/rest.debug). */
function debugFileFor(root: string, buildId: string): string {
  return `${root}/usr/lib/debug/.build-id/${buildId.slice(0, 2)}/${buildId.slice(2)}.debug`;
}

function hasSymbols(pid: number, file: string, id: string | undefined): boolean | undefined {
  const key = id ?? file;
  if (symbolsKnown.has(key)) return symbolsKnown.get(key);
  const root = `/proc/${pid}/root`;
  const elf = readElfSymbols(`${root}${file}`, () => false);
  const known = elf === undefined ? undefined : elf.hasSymtab || (elf.buildId !== undefined && (existsSync(debugFileFor(root, elf.buildId)) || existsSync(debugFileFor('', elf.buildId))));
  if (symbolsKnown.size >= SYMBOLS_KEPT) symbolsKnown.clear();
  symbolsKnown.set(key, known);
  return known;
}

/** The process's pid in its own namespace (the last NSpid field), which names its perf map. */
function namespacePid(pid: number): number {
  try {
    const field = /^NSpid:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.trim().split(/\s+/).at(-1);
    return field && /^\d+$/.test(field) ? Number(field) : pid;
  } catch {
    return pid;
  }
}

/**
 * Why some of one process's frames are unnamed (model/frame-notes.ts), from what /proc says of it
 * now; empty when the process has gone or every frame is named and nothing needs saying.
 */
export function frameNotesOf(pid: number, tab: TabId, stacks: readonly {frames: readonly string[]; count?: number}[]): FrameNote[] {
  let exe: string | undefined;
  try {
    exe = readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return [];
  }
  const unnamed = stacks.some(stack => stack.frames.some(frame => frameAddress(frame) !== undefined));
  const nsPid = namespacePid(pid);
  const perfMap = existsSync(`/proc/${pid}/root/tmp/perf-${nsPid}.map`) ? `/tmp/perf-${nsPid}.map` : undefined;
  let code: (CodeMapping & {id?: string})[] = [];
  if (unnamed) {
    try {
      code = parseCodeMappings(readFileSync(`/proc/${pid}/maps`, 'utf8'));
    } catch {
      return [];
    }
  }
  const ids = new Map(code.filter(mapping => mapping.file).map(mapping => [mapping.file!, mapping.id]));
  const facts: FrameFacts = {code, hasSymbols: file => hasSymbols(pid, file, ids.get(file)), exe, ...(perfMap ? {perfMap} : {})};
  return frameNotes(tab, stacks, facts);
}
