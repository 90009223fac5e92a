// Where in a function a uprobe goes: at its entry when the kernel emulates the first instruction,
// else at the first later instruction it emulates that every call reaches straight from the entry
// with the registers the probe reads still as the caller left them; else at the entry.
import {ARGUMENT_REGISTERS, decodeInstruction, RBP, RSP, type Instruction, type KernelTreatment} from './x86-decode.js';

/** What a probe needs of a function: how many of its arguments it reads, and whether it also has a return probe. */
export interface ProbeNeeds {
  /** The probe reads arguments 0 .. arguments-1 (rdi, rsi, rdx, rcx, r8, r9). */
  arguments: number;
  /**
   * A uretprobe on the same function: the kernel sets it with a breakpoint at the entry, so the
   * entry traps anyway, and a second breakpoint further on would only add a trap.
   */
  returnProbe?: boolean;
  /**
   * The probe reads the return address at the stack pointer (a drill-down's caller frame). A
   * uretprobe on the same function, another tracer's (the live view's beside the drill-down),
   * swaps that address for its trampoline at the entry's breakpoint, before a probe further on
   * runs; at the entry itself every handler runs before the swap. So such a probe stays at the entry.
   */
  returnAddress?: boolean;
}

/** The function as the file holds it. */
export interface FunctionBytes {
  /** Its first bytes; `size` of them when the symbol says a size. */
  bytes: Uint8Array;
  /** The symbol's size (0 when the file does not say): branches inside it are looked for there. */
  size: number;
}

/**
 * Why the probe is where it is:
 * - entry: the kernel emulates the first instruction;
 * - moved: the entry's instruction is single-stepped, `offset` is the first emulated one after it;
 * - return-probe: a uretprobe keeps the function's entry trapping, so the probe stays there;
 * - no-site: no emulated instruction comes before a branch, a write to a register the probe
 *   reads, or an instruction this decoder does not know;
 * - branch-target: the emulated instruction found is also the target of a branch in the
 *   function, so a probe there could fire more than once a call;
 * - refused: the kernel refuses a probe on the entry's instruction (the attach would fail).
 */
export type PlacementReason = 'entry' | 'moved' | 'return-probe' | 'return-address' | 'no-site' | 'branch-target' | 'refused';

/** Where the probe goes and what a hit costs there. */
export interface Placement {
  /** Bytes from the function's start. */
  offset: number;
  reason: PlacementReason;
  /** How the kernel treats the instruction at `offset`. */
  treatment: KernelTreatment | 'unknown';
  /** The instructions passed over on the way, by name (empty at the entry). */
  passed: string[];
}

/** How far along a function the search goes before it gives up and stays at the entry. */
export const SEARCH_LIMIT = {bytes: 64, instructions: 12} as const;

/** The registers a probe needs unchanged: the arguments it reads, the stack pointer (ustack, the return address at entry) and the frame pointer (ustack). */
function protectedRegisters(needs: ProbeNeeds): number {
  let mask = (1 << RSP) | (1 << RBP);
  for (const register of ARGUMENT_REGISTERS.slice(0, needs.arguments)) mask |= 1 << register;
  return mask;
}

/**
 * Offsets in (0, within] that some relative branch or call of the function targets. The function
 * is decoded instruction by instruction as far as the decoder knows its forms (compilers put no
 * data in x86-64 code, so that sweep stays in step); from the first unknown form on, every byte
 * that could open a relative branch is taken as one, which can only over-report.
 */
function branchTargets(bytes: Uint8Array, size: number, within: number): Set<number> {
  const end = Math.min(size || bytes.length, bytes.length);
  const targets = new Set<number>();
  let at = 0;
  for (;;) {
    if (at >= end) return targets;
    const instruction = decodeInstruction(bytes.subarray(0, end), at);
    if (!instruction) break;
    if (instruction.target !== undefined && instruction.target > 0 && instruction.target <= within) targets.add(instruction.target);
    at += instruction.length;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (; at < end; at++) {
    const byte = bytes[at]!;
    let target: number | undefined;
    if ((byte >= 0x70 && byte <= 0x7f) || byte === 0xeb) {
      if (at + 2 <= end) target = at + 2 + view.getInt8(at + 1);
    } else if (byte === 0xe8 || byte === 0xe9) {
      if (at + 5 <= end) target = at + 5 + view.getInt32(at + 1, true);
    } else if (byte === 0x0f && at + 1 < end && bytes[at + 1]! >= 0x80 && bytes[at + 1]! <= 0x8f) {
      if (at + 6 <= end) target = at + 6 + view.getInt32(at + 2, true);
    }
    if (target !== undefined && target > 0 && target <= within) targets.add(target);
  }
  return targets;
}

/**
 * Chooses the offset of a function's uprobe (x86-64): see the module header. A probe is never
 * placed past a branch, a call, a return, an instruction that writes a register in
 * `protectedRegisters`, or one this decoder does not know.
 */
export function placeProbe(fn: FunctionBytes, needs: ProbeNeeds): Placement {
  const first = decodeInstruction(fn.bytes, 0);
  if (!first) return {offset: 0, reason: 'no-site', treatment: 'unknown', passed: []};
  if (first.treatment === 'emulated') return {offset: 0, reason: 'entry', treatment: 'emulated', passed: []};
  if (first.treatment === 'refused') return {offset: 0, reason: 'refused', treatment: 'refused', passed: []};
  if (needs.returnProbe) return {offset: 0, reason: 'return-probe', treatment: first.treatment, passed: []};
  if (needs.returnAddress) return {offset: 0, reason: 'return-address', treatment: first.treatment, passed: []};
  const atEntry = (reason: PlacementReason): Placement => ({offset: 0, reason, treatment: first.treatment, passed: []});
  const guarded = protectedRegisters(needs);
  const limit = Math.min(SEARCH_LIMIT.bytes, fn.size || fn.bytes.length, fn.bytes.length);
  const passed: Instruction[] = [];
  let offset = 0;
  let instruction: Instruction | undefined = first;
  while (instruction && passed.length < SEARCH_LIMIT.instructions) {
    if (instruction.treatment === 'emulated') {
      if (branchTargets(fn.bytes, fn.size, offset).size > 0) return atEntry('branch-target');
      return {offset, reason: 'moved', treatment: 'emulated', passed: passed.map(step => step.name)};
    }
    if (instruction.treatment === 'refused' || instruction.flow !== 'next' || (instruction.writes & guarded) !== 0) return atEntry('no-site');
    passed.push(instruction);
    offset += instruction.length;
    if (offset >= limit) return atEntry('no-site');
    instruction = decodeInstruction(fn.bytes, offset);
  }
  return atEntry('no-site');
}

/** The probe spec's function part: "free" at the entry, "free+3" past it. */
export function probeSite(symbol: string, placement: Placement): string {
  return placement.offset === 0 ? symbol : `${symbol}+${placement.offset}`;
}

/** Whether a hit at this placement takes a second trap (the kernel single-steps the instruction). */
export function singleSteps(placement: Placement): boolean {
  return placement.treatment !== 'emulated';
}
