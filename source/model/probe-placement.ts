// Where in a function a uprobe goes: at its entry when the kernel emulates the first instruction,
// else at the first later instruction it emulates that every call reaches straight from the entry
// with the registers the probe reads still as the caller left them; else at the entry. One
// exception, asked for by a probe that ignores a first argument of 0: past the function's opening
// test of that argument (free's `test %rdi,%rdi; je`), where free(NULL) never arrives.
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
  /**
   * The probe does nothing when the first argument is 0 (free(NULL), which valgrind does not
   * count either). A function that opens by testing it and jumping away when it is 0 (`test
   * %rdi,%rdi` then `je`) gets its probe after that jump, so that such calls never trap: the
   * only branch a probe is ever placed past, and one on a value the probe would ignore anyway.
   */
  ignoresNull?: boolean;
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
 * - past-null-check: the probe ignores a first argument of 0 and the function opens with a jump
 *   away on it: `offset` is the first emulated instruction after that jump, or the instruction
 *   right after it when none is (a call with 0 takes no trap there either way);
 * - return-probe: a uretprobe keeps the function's entry trapping, so the probe stays there;
 * - no-site: no emulated instruction comes before a branch, a write to a register the probe
 *   reads, or an instruction this decoder does not know;
 * - branch-target: the emulated instruction found is also the target of a branch in the
 *   function, so a probe there could fire more than once a call;
 * - refused: the kernel refuses a probe on the entry's instruction (the attach would fail).
 */
export type PlacementReason = 'entry' | 'moved' | 'past-null-check' | 'return-probe' | 'return-address' | 'no-site' | 'branch-target' | 'refused';

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
 * Where a function opens with a test of its first argument and a jump away when it is 0 (`test
 * %rdi,%rdi` then `je` or `jz`, short or near, to a target further on): the offset of the
 * instruction after the jump. Undefined for any other opening.
 */
export function nullCheckEnd(bytes: Uint8Array): number | undefined {
  if (bytes[0] !== 0x48 || bytes[1] !== 0x85 || bytes[2] !== 0xff) return undefined;
  const jump = decodeInstruction(bytes, 3);
  const opcode = bytes[3] === 0x0f ? bytes[4] : bytes[3];
  if (!jump || jump.flow !== 'conditional' || (opcode !== 0x74 && opcode !== 0x84)) return undefined;
  const end = 3 + jump.length;
  return jump.target !== undefined && jump.target > end ? end : undefined;
}

/**
 * The first instruction the kernel emulates from `start` on, reached straight from `start` with
 * the `guarded` registers untouched, none of it the target of a branch in the function; or why
 * there is none.
 */
function firstEmulated(fn: FunctionBytes, start: number, guarded: number): {offset: number; passed: Instruction[]} | 'no-site' | 'branch-target' {
  const limit = Math.min(start + SEARCH_LIMIT.bytes, fn.size || fn.bytes.length, fn.bytes.length);
  const passed: Instruction[] = [];
  let offset = start;
  let instruction = decodeInstruction(fn.bytes, offset);
  while (instruction && passed.length < SEARCH_LIMIT.instructions) {
    if (instruction.treatment === 'emulated') {
      if (branchTargets(fn.bytes, fn.size, offset).size > 0) return 'branch-target';
      return {offset, passed};
    }
    if (instruction.treatment === 'refused' || instruction.flow !== 'next' || (instruction.writes & guarded) !== 0) return 'no-site';
    passed.push(instruction);
    offset += instruction.length;
    if (offset >= limit) return 'no-site';
    instruction = decodeInstruction(fn.bytes, offset);
  }
  return 'no-site';
}

/**
 * Chooses the offset of a function's uprobe (x86-64): see the module header. A probe is never
 * placed past a branch, a call, a return, an instruction that writes a register in
 * `protectedRegisters`, or one this decoder does not know; but for `ignoresNull`, past the
 * opening jump on a first argument of 0 (nullCheckEnd).
 */
export function placeProbe(fn: FunctionBytes, needs: ProbeNeeds): Placement {
  const first = decodeInstruction(fn.bytes, 0);
  if (!first) return {offset: 0, reason: 'no-site', treatment: 'unknown', passed: []};
  const guarded = protectedRegisters(needs);
  const pastNull = needs.ignoresNull && !needs.returnProbe && !needs.returnAddress ? nullCheckEnd(fn.bytes) : undefined;
  if (pastNull !== undefined && branchTargets(fn.bytes, fn.size, pastNull).size === 0) {
    const check = ['test', 'jcc'];
    const found = firstEmulated(fn, pastNull, guarded);
    if (typeof found !== 'string') return {offset: found.offset, reason: 'past-null-check', treatment: 'emulated', passed: [...check, ...found.passed.map(step => step.name)]};
    const after = decodeInstruction(fn.bytes, pastNull);
    if (after && after.treatment === 'stepped') return {offset: pastNull, reason: 'past-null-check', treatment: 'stepped', passed: check};
  }
  if (first.treatment === 'emulated') return {offset: 0, reason: 'entry', treatment: 'emulated', passed: []};
  if (first.treatment === 'refused') return {offset: 0, reason: 'refused', treatment: 'refused', passed: []};
  if (needs.returnProbe) return {offset: 0, reason: 'return-probe', treatment: first.treatment, passed: []};
  if (needs.returnAddress) return {offset: 0, reason: 'return-address', treatment: first.treatment, passed: []};
  const found = firstEmulated(fn, 0, guarded);
  if (typeof found === 'string') return {offset: 0, reason: found, treatment: first.treatment, passed: []};
  return {offset: found.offset, reason: 'moved', treatment: 'emulated', passed: found.passed.map(step => step.name)};
}

/** The probe spec's function part: "free" at the entry, "free+3" past it. */
export function probeSite(symbol: string, placement: Placement): string {
  return placement.offset === 0 ? symbol : `${symbol}+${placement.offset}`;
}

/** Whether a hit at this placement takes a second trap (the kernel single-steps the instruction). */
export function singleSteps(placement: Placement): boolean {
  return placement.treatment !== 'emulated';
}
