// memtop -- COMMAND's heap summary: per-process figures read from command.bt's maps, the stacks
// not freed at exit, and the summary as text and as the JSON line, counted as valgrind counts.
import {stackFrames, trimStack} from '../parse/bpftrace-stacks.js';
import {toCount} from '../parse/bpftrace-values.js';
import {humanBytes, sanitize} from '../format.js';

/** One process's heap from its exec (or fork) to its exit, as valgrind's HEAP SUMMARY counts it. */
export interface ProcessHeap {
  pid: number;
  comm: string;
  /** Allocating calls: every malloc, calloc, memalign..., and realloc to a non-zero size. */
  allocations: number;
  /** Frees of a block: free of non-NULL, and realloc of a block. */
  frees: number;
  bytesAllocated: number;
  inUseBytes: number;
  inUseBlocks: number;
  /** Live bytes at the most (threads racing on one counter may make it a little low). */
  peakBytes: number;
  /** The program break's growth from its first brk to its last. */
  brkGrowth: number;
  minorFaults: number;
  majorFaults: number;
  /** Whether it has exited: its figures are final. */
  exited: boolean;
}

/** A stack whose allocations were not freed by exit, the allocating function first. */
export interface LeakStack {
  pid: number;
  bytes: number;
  blocks: number;
  frames: string[];
}

/** Everything the summary says. */
export interface CommandSummary {
  command: string[];
  /** COMMAND's exit status as a shell reports it (128 + signal when killed). */
  exitStatus: number;
  total: Omit<ProcessHeap, 'pid' | 'comm' | 'exited'>;
  processes: ProcessHeap[];
  /** Not freed at exit, by bytes, largest first. */
  stacks: LeakStack[];
  /** Allocations the address table had no room for: in no in-use figure. */
  untracked: number;
  /** Milliseconds memtop held COMMAND before its first instruction (compiling and attaching probes). */
  heldMs: number;
  /** Milliseconds from COMMAND's release to its exit: its own run time under the probes. */
  ranMs: number;
  /** The kinds of allocator file probed ("glibc", "jemalloc", "go"...). */
  allocators: string[];
}

/** The per-pid maps command.bt prints every interval. */
const FIGURE_MAPS = {
  allocations: 'allocs',
  frees: 'frees',
  bytesAllocated: 'allocated',
  inUseBytes: 'inuse_bytes',
  inUseBlocks: 'inuse_blocks',
  peakBytes: 'peak',
  minorFaults: 'minflt',
  majorFaults: 'majflt',
} as const;

type Maps = ReadonlyMap<string, Record<string, unknown>>;

/** Each traced process's figures from one interval's maps (names and exits are the caller's). */
export function processFigures(maps: Maps): Map<number, ProcessHeap> {
  const processes = new Map<number, ProcessHeap>();
  const of = (key: string) => {
    const pid = Number(key);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    let heap = processes.get(pid);
    if (!heap) {
      heap = {pid, comm: '', allocations: 0, frees: 0, bytesAllocated: 0, inUseBytes: 0, inUseBlocks: 0, peakBytes: 0, brkGrowth: 0, minorFaults: 0, majorFaults: 0, exited: false};
      processes.set(pid, heap);
    }
    return heap;
  };
  for (const [field, map] of Object.entries(FIGURE_MAPS) as [keyof typeof FIGURE_MAPS, string][]) {
    for (const [key, value] of Object.entries(maps.get(map) ?? {})) {
      const heap = of(key);
      if (heap) heap[field] = Math.max(0, toCount(value));
    }
  }
  const start = maps.get('brk_start') ?? {};
  for (const [key, value] of Object.entries(maps.get('brk_end') ?? {})) {
    const heap = of(key);
    if (heap) heap.brkGrowth = Math.max(0, toCount(value) - toCount(start[key]));
  }
  return processes;
}

/** The untracked allocations' count from the maps. */
export function untrackedOf(maps: Maps): number {
  return toCount(maps.get('untracked')?.['']);
}

/**
 * The stacks not freed per process from a print of @leak_bytes and @leak_blocks (keys
 * "pid,<ustack>"), largest first; stacks whose blocks were all freed are left out.
 */
export function leakStacks(maps: Maps): Map<number, LeakStack[]> {
  const blocks = maps.get('leak_blocks') ?? {};
  const byPid = new Map<number, LeakStack[]>();
  for (const [key, value] of Object.entries(maps.get('leak_bytes') ?? {})) {
    const comma = key.indexOf(',');
    const pid = Number(key.slice(0, comma));
    const count = toCount(blocks[key]);
    if (comma === -1 || !Number.isInteger(pid) || count <= 0) continue;
    const stack: LeakStack = {pid, bytes: toCount(value), blocks: count, frames: trimStack(stackFrames(key.slice(comma + 1)))};
    const list = byPid.get(pid) ?? [];
    list.push(stack);
    byPid.set(pid, list);
  }
  for (const list of byPid.values()) list.sort((a, b) => b.bytes - a.bytes || b.blocks - a.blocks);
  return byPid;
}

/** Whether a stack's frames have names (a process's stacks printed after its exit are addresses). */
export function hasNames(stacks: readonly LeakStack[]): boolean {
  return stacks.some(stack => stack.frames.some(frame => !/^0x[0-9a-f]+$/i.test(frame)));
}

/** The summary from the processes' figures and stacks; totals add every process up. */
export function buildSummary(input: {command: string[]; exitStatus: number; processes: ProcessHeap[]; stacks: LeakStack[]; untracked: number; heldMs: number; ranMs: number; allocators?: string[]}): CommandSummary {
  const total = {allocations: 0, frees: 0, bytesAllocated: 0, inUseBytes: 0, inUseBlocks: 0, peakBytes: 0, brkGrowth: 0, minorFaults: 0, majorFaults: 0};
  for (const heap of input.processes) {
    for (const field of Object.keys(total) as (keyof typeof total)[]) total[field] += heap[field];
  }
  return {
    command: input.command,
    exitStatus: input.exitStatus,
    total,
    processes: [...input.processes].sort((a, b) => a.pid - b.pid),
    stacks: [...input.stacks].sort((a, b) => b.bytes - a.bytes || b.blocks - a.blocks),
    untracked: input.untracked,
    heldMs: Math.round(input.heldMs),
    ranMs: Math.round(input.ranMs),
    allocators: input.allocators ?? [],
  };
}

/** Thousands separated by commas, as valgrind prints its counts. */
function grouped(value: number): string {
  const digits = String(Math.round(value));
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** One process's (or the total's) heap lines. */
function heapLines(heap: CommandSummary['total'], garbageCollected = false): string[] {
  return [
    `  in use at exit: ${grouped(heap.inUseBytes)} bytes in ${grouped(heap.inUseBlocks)} blocks${garbageCollected ? " of C allocators' (Go's heap not known)" : ''}`,
    `  total heap usage: ${grouped(heap.allocations)} allocs, ${grouped(heap.frees)} frees, ${grouped(heap.bytesAllocated)} bytes allocated`,
    `  peak live: ${humanBytes(heap.peakBytes)} · brk growth: ${humanBytes(heap.brkGrowth)} · page faults: ${grouped(heap.minorFaults)} minor, ${grouped(heap.majorFaults)} major`,
  ];
}

/** How summaryText lays the summary out: batch prints it whole, the TUI fits it to the screen. */
export interface SummaryLayout {
  /** Stacks not freed shown (the largest first). */
  limit: number;
  /** Frames shown of each stack, from the allocating function (default: all). */
  frames?: number;
  /** Stacks before the processes' figures, so that a screen cut short keeps the leaks. */
  stacksFirst?: boolean;
}

/**
 * The summary as text: the totals (valgrind's words), each process when there are several, and
 * the top stacks not freed (with `stacksFirst`, the stacks before the processes).
 */
export function summaryText(summary: CommandSummary, layout: SummaryLayout): string[] {
  const name = sanitize(summary.command.join(' ')).slice(0, 200);
  const garbageCollected = summary.allocators.includes('go');
  const lines = [`memtop summary: ${name} · exit status ${summary.exitStatus} · held ${summary.heldMs} ms before its first instruction, then ran ${summary.ranMs} ms`, 'HEAP SUMMARY:', ...heapLines(summary.total, garbageCollected)];
  if (summary.untracked > 0) lines.push(`  CAPPED: ${grouped(summary.untracked)} allocations not tracked (address table full): in no in-use figure`);
  if (summary.allocators.length > 0) lines.push(`  allocators probed: ${summary.allocators.join(', ')}`);
  if (summary.allocators.includes('go')) lines.push("  Go: runtime.mallocgc's calls and bytes are in the allocations; its heap is garbage collected, so no frees, in-use bytes or stacks at exit cover it");
  const processes: string[] = [];
  if (summary.processes.length > 1) {
    for (const heap of summary.processes) processes.push(`process ${heap.pid} ${sanitize(heap.comm)}:`, ...heapLines(heap, garbageCollected));
  }
  const shown = summary.stacks.slice(0, layout.limit);
  const stacks = [shown.length === 0 ? 'not freed at exit: nothing' : `not freed at exit, top ${shown.length} of ${summary.stacks.length} stacks by bytes:`];
  for (const stack of shown) {
    stacks.push(`  ${grouped(stack.bytes)} bytes in ${grouped(stack.blocks)} blocks · process ${stack.pid}`);
    for (const frame of stack.frames.slice(0, layout.frames ?? Infinity)) stacks.push(`      ${sanitize(frame)}`);
  }
  return layout.stacksFirst ? [...lines, ...stacks, ...processes] : [...lines, ...processes, ...stacks];
}

/** The summary as the last line of --json: {"summary": {...}} with the top `limit` stacks. */
export function summaryJson(summary: CommandSummary, limit: number): {summary: Record<string, unknown>} {
  return {
    summary: {
      command: summary.command,
      exitStatus: summary.exitStatus,
      ...summary.total,
      untracked: summary.untracked,
      heldMs: summary.heldMs,
      ranMs: summary.ranMs,
      allocators: summary.allocators,
      // In-use figures and stacks cover the C allocators only: Go's heap is garbage collected.
      ...(summary.allocators.includes('go') ? {garbageCollected: true} : {}),
      stacks: summary.stacks.slice(0, limit).map(stack => ({pid: stack.pid, bytes: stack.bytes, blocks: stack.blocks, frames: stack.frames})),
      processes: summary.processes,
    },
  };
}
