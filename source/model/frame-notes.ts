// Why a drill-down's frames carry no names, said once per view rather than left as hex: a file
// with no symbols (stripped), JIT code with no perf map, and, where the JIT writes one, that its
// names come from it. For CPython on the allocation views, that its small objects never reach
// malloc. Pure: the facts of the process come from system/frame-facts.ts.
import {sanitize} from '../format.js';
import type {FrameNote, TabId} from '../types.js';
import {frameAddress} from '../parse/bpftrace-stacks.js';
import {rangeAt} from './ranges.js';

export type {FrameNote} from '../types.js';

/** An executable mapping of the process: [low, high) and its file (undefined: anonymous memory, a JIT's code). */
export interface CodeMapping {
  low: bigint;
  high: bigint;
  file?: string;
}

/** What {@link frameNotes} knows of the process. */
export interface FrameFacts {
  /** Its executable mappings, in address order. */
  code: readonly CodeMapping[];
  /** Whether a file has symbols (a .symtab, or debug symbols installed); undefined when it cannot be read. */
  hasSymbols(file: string): boolean | undefined;
  /** Its perf map (/tmp/perf-PID.map as it sees it), when it has one. */
  perfMap?: string;
  /** Its executable's path. */
  exe?: string;
}

/**
 * Frames a whole user stack reaches: a program's main and the C library's start code, a thread's
 * start, Go's goroutine and thread roots. A stack that reaches none of them ended early.
 */
const ROOT_FRAMES = new Set([
  'main',
  '_start',
  '_start_c',
  '__libc_start_main',
  '__libc_start_call_main',
  'start_thread',
  'thread_start',
  'clone',
  '__clone',
  'clone3',
  '__clone3',
  'runtime.main',
  'runtime.goexit',
  'runtime.goexit.abi0',
  'runtime.mstart',
  'runtime.mstart0',
  'runtime.rt0_go',
  'runtime.rt0_go.abi0',
]);

/** A stack this deep may have been cut by the tracer's depth limit (bpftrace: 127), not by a missing frame pointer. */
const DEEP_STACK = 100;

/** Views whose events are allocator calls (where CPython's pools hide allocations). */
const ALLOCATION_TABS = new Set<TabId>(['malloc']);

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function baseName(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1);
}

/** Whether an executable is CPython's interpreter (python3, python3.11, python3.13d...). */
export function isPython(exe: string): boolean {
  return /^python\d*(?:\.\d+)?[dmu]*$/.test(baseName(exe));
}

/** Whether an executable is Node.js's. */
function isNode(exe: string): boolean {
  return /^(?:node|nodejs)$/.test(baseName(exe));
}

/** The notes for one interval's stacks of one process, most frames first. */
export function frameNotes(tab: TabId, stacks: readonly {frames: readonly string[]; count?: number}[], facts: FrameFacts): FrameNote[] {
  // Each unnamed address once, however many stacks pass through it.
  const stripped = new Map<string, number>();
  const unresolved = new Map<string, number>();
  let jit = 0;
  const seen = new Set<bigint>();
  for (const stack of stacks) {
    for (const frame of stack.frames) {
      const address = frameAddress(frame);
      if (address === undefined || seen.has(address)) continue;
      seen.add(address);
      const mapping = rangeAt(facts.code, address);
      if (!mapping) continue;
      if (mapping.file === undefined) jit++;
      else {
        const named = facts.hasSymbols(mapping.file);
        const counted = named === false ? stripped : named === true ? unresolved : undefined;
        counted?.set(mapping.file, (counted.get(mapping.file) ?? 0) + 1);
      }
    }
  }
  const notes: FrameNote[] = [...stripped]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([file, frames]) => ({
      reason: 'no-symbols',
      file,
      frames,
      text: `${plural(frames, 'frame')} unnamed in ${sanitize(file)}: it has no symbols (stripped); its debug symbols (Debian and Ubuntu: the package's -dbgsym) name them`,
    }));
  for (const [file, frames] of [...unresolved].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    notes.push({
      reason: 'unresolved',
      file,
      frames,
      text: `${plural(frames, 'frame')} unnamed in ${sanitize(file)}, which has symbols: the tracer could not place them in it (code the process copied or mapped again at run time)`,
    });
  }
  if (jit > 0 && facts.perfMap === undefined) {
    const fix = facts.exe && isNode(facts.exe)
      ? 'start node with --perf-basic-prof and memtop names its JavaScript functions (from /tmp/perf-PID.map)'
      : 'a runtime that writes /tmp/perf-PID.map (the perf map convention; node --perf-basic-prof) gets them named';
    notes.push({reason: 'jit', frames: jit, text: `${plural(jit, 'frame')} unnamed in JIT code: ${fix}`});
  }
  if (facts.perfMap !== undefined) {
    notes.push({reason: 'perf-map', file: facts.perfMap, text: `JIT frames are named from the process's perf map, ${sanitize(facts.perfMap)}${jit > 0 ? ` (${plural(jit, 'frame')} not in it yet)` : ''}`});
  }
  const early = earlyEnds(stacks);
  if (early) notes.push(early);
  if (ALLOCATION_TABS.has(tab) && facts.exe && isPython(facts.exe)) {
    notes.push({
      reason: 'python',
      text: 'CPython serves objects of 512 bytes or less from its own pools, not malloc: run it with PYTHONMALLOC=malloc to see them here, or see all its memory in the growth tab (8)',
    });
  }
  return notes;
}

/**
 * When most events' stacks end before any root frame: code built without frame pointers, which
 * the tracer's frame-pointer unwinder cannot walk past. Weighed by events; the frame most of
 * them end at is named.
 */
function earlyEnds(stacks: readonly {frames: readonly string[]; count?: number}[]): FrameNote | undefined {
  let all = 0;
  let early = 0;
  const lastFrames = new Map<string, number>();
  for (const stack of stacks) {
    if (stack.frames.length === 0) continue;
    const weight = stack.count ?? 1;
    all += weight;
    if (stack.frames.length >= DEEP_STACK || stack.frames.some(frame => ROOT_FRAMES.has(frame))) continue;
    early += weight;
    const last = stack.frames.at(-1)!;
    lastFrames.set(last, (lastFrames.get(last) ?? 0) + weight);
  }
  if (early === 0 || early * 2 < all) return undefined;
  const [last] = [...lastFrames].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]!;
  const share = Math.round((early / all) * 100);
  return {
    reason: 'short-stacks',
    frame: last,
    text: `${share}% of stacks end before main or a thread's start, most with ${sanitize(last)} as their outermost frame: code built without frame pointers stops the unwinder; built with -fno-omit-frame-pointer (as Ubuntu 24.04 and Fedora 38 and later build their packages), its stacks are whole`,
  };
}
