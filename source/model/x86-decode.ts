// The few x86-64 instruction forms that open allocator functions, decoded far enough to say how
// long each is, which general registers it writes, whether it leaves the straight line, and how
// the kernel's uprobes treat a breakpoint on it (arch/x86/kernel/uprobes.c, Linux v6.18).

/** Register numbers as the instruction set encodes them: rax 0, rcx 1, rdx 2, rbx 3, rsp 4, rbp 5, rsi 6, rdi 7, r8-r15 8-15. */
export const REGISTER_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;

export const RSP = 4;
export const RBP = 5;
/** The System V x86-64 argument registers in order: rdi, rsi, rdx, rcx, r8, r9. */
export const ARGUMENT_REGISTERS = [7, 6, 2, 1, 8, 9] as const;

/**
 * How the kernel runs the instruction under a uprobe's breakpoint:
 * - emulated: the kernel does its work in the trap itself (push of a register, jmp, call, jcc,
 *   the nops of its own table), one trap a hit;
 * - stepped: copied out of line and single-stepped, a second trap a hit;
 * - refused: the kernel will not place a uprobe there at all (a lock, cs/ds/es/ss prefix, a
 *   branch with an operand-size prefix, int3, syscall, ...).
 */
export type KernelTreatment = 'emulated' | 'stepped' | 'refused';

/**
 * Where control goes after the instruction: on to the next (`next`), to the next or a relative
 * target (`conditional`, jcc), only to a relative target (`jump`, jmp; `call`), or somewhere the
 * bytes do not say (`away`: ret, an indirect jmp or call).
 */
export type Flow = 'next' | 'conditional' | 'jump' | 'call' | 'away';

/** One decoded instruction. */
export interface Instruction {
  length: number;
  treatment: KernelTreatment;
  flow: Flow;
  /** Bit n set when general register n may be written (a memory destination writes none). */
  writes: number;
  /** Of a relative branch or call: its target, as an offset from the start of the bytes decoded. */
  target?: number;
  /** What it is, for messages and tests: "push %r12", "test", "jcc", ... */
  name: string;
}

/**
 * The kernel's own nops (x86_nops[] for 64-bit, arch/x86/include/asm/nops.h), which it emulates
 * like a jmp to the next instruction when the bytes at the probe are exactly one of them.
 */
const KERNEL_NOPS: readonly (readonly number[])[] = [
  [0x90],
  [0x66, 0x90],
  [0x0f, 0x1f, 0x00],
  [0x0f, 0x1f, 0x40, 0x00],
  [0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
  [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];

/** Prefixes after which the kernel refuses a uprobe (is_prefix_bad): es, cs, ss, ds, lock. */
const REFUSED_PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0xf0]);
/** One-byte opcodes outside the kernel's good_insns_64 table. */
const REFUSED_OPCODES = new Set([
  0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x60, 0x61, 0x62, 0x6c, 0x6d, 0x6e, 0x6f, 0x82, 0x9a, 0xcc, 0xcd, 0xce,
  0xcf, 0xd4, 0xd5, 0xd6, 0xe4, 0xe5, 0xe6, 0xe7, 0xea, 0xec, 0xed, 0xee, 0xef, 0xf1, 0xf4, 0xfa, 0xfb,
]);
/** Second bytes of 0f opcodes outside the kernel's good_2byte_insns table. */
const REFUSED_TWO_BYTE = new Set([0x00, 0x01, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x30, 0x34, 0x35, 0x37, 0x78, 0x79, 0xae]);

const bit = (register: number): number => 1 << register;

/** The ModRM byte and what follows it (SIB, displacement): its length and the registers it names. */
interface ModRm {
  length: number;
  mod: number;
  /** ModRM.reg extended by REX.R. */
  reg: number;
  /** ModRM.rm extended by REX.B: a register when mod is 3. */
  rm: number;
  /** Bits 3-5 of the byte alone: the opcode extension of group opcodes. */
  extension: number;
}

function modRm(bytes: Uint8Array, at: number, rex: number): ModRm | undefined {
  const byte = bytes[at];
  if (byte === undefined) return undefined;
  const mod = byte >> 6;
  const extension = (byte >> 3) & 7;
  const rmLow = byte & 7;
  let length = 1;
  if (mod !== 3 && rmLow === 4) {
    const sib = bytes[at + 1];
    if (sib === undefined) return undefined;
    length += 1;
    if (mod === 0 && (sib & 7) === 5) length += 4;
  }
  if (mod === 1) length += 1;
  else if (mod === 2 || (mod === 0 && rmLow === 5)) length += 4;
  return {length, mod, extension, reg: extension | ((rex & 4) << 1), rm: rmLow | ((rex & 1) << 3)};
}

/**
 * The register a byte-sized operand names: without a REX prefix, 4-7 are ah, ch, dh, bh, which
 * live in rax, rcx, rdx and rbx.
 */
function byteRegister(register: number, rex: number): number {
  return rex === 0 && register >= 4 && register < 8 ? register - 4 : register;
}

/** The registers a ModRM destination writes: its rm register when mod is 3, none for memory. */
function rmWrites(operand: ModRm, byteSized: boolean, rex: number): number {
  if (operand.mod !== 3) return 0;
  return bit(byteSized ? byteRegister(operand.rm, rex) : operand.rm);
}

function regWrites(operand: ModRm, byteSized: boolean, rex: number): number {
  return bit(byteSized ? byteRegister(operand.reg, rex) : operand.reg);
}

function signed(bytes: Uint8Array, at: number, size: 1 | 4): number | undefined {
  if (at + size > bytes.length) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, size);
  return size === 1 ? view.getInt8(0) : view.getInt32(0, true);
}

function isKernelNop(bytes: Uint8Array, at: number, length: number): boolean {
  const nop = KERNEL_NOPS[length - 1];
  return nop !== undefined && nop.every((byte, index) => bytes[at + index] === byte);
}

/** An instruction that goes on to the next one, the kernel single-stepping it. */
function plain(length: number, writes: number, name: string): Instruction {
  return {length, treatment: 'stepped', flow: 'next', writes, name};
}

/**
 * Decodes the instruction at `at`, or returns undefined when its form is not one this decoder
 * knows (the caller then treats it as the end of what it can say).
 */
export function decodeInstruction(bytes: Uint8Array, at: number): Instruction | undefined {
  let cursor = at;
  let operandSize16 = false;
  let repeat = false;
  let refusedPrefix = false;
  // Legacy prefixes: operand size, rep/repne (f3 for endbr64), fs and gs, and those the kernel refuses.
  for (;;) {
    const byte = bytes[cursor];
    if (byte === 0x66) operandSize16 = true;
    else if (byte === 0xf3 || byte === 0xf2) repeat = true;
    else if (byte === 0x64 || byte === 0x65) {
      // fs: and gs: are allowed.
    } else if (byte !== undefined && REFUSED_PREFIXES.has(byte)) refusedPrefix = true;
    else break;
    cursor += 1;
  }
  let rex = 0;
  const maybeRex = bytes[cursor];
  if (maybeRex !== undefined && maybeRex >= 0x40 && maybeRex <= 0x4f) {
    rex = maybeRex;
    cursor += 1;
  }
  const opcode = bytes[cursor];
  if (opcode === undefined) return undefined;
  cursor += 1;
  const wide = (rex & 8) !== 0;
  const decoded = decodeOpcode(bytes, at, cursor, opcode, rex, {operandSize16, repeat, wide});
  if (!decoded) return undefined;
  if (refusedPrefix || (opcode !== 0x0f && REFUSED_OPCODES.has(opcode))) return {...decoded, treatment: 'refused'};
  return decoded;
}

interface Prefixes {
  operandSize16: boolean;
  repeat: boolean;
  wide: boolean;
}

/** A relative branch or call: emulated by the kernel, refused with an operand-size prefix. */
function relative(bytes: Uint8Array, at: number, cursor: number, size: 1 | 4, flow: Flow, name: string, prefixes: Prefixes): Instruction | undefined {
  const displacement = signed(bytes, cursor, size);
  if (displacement === undefined) return undefined;
  const length = cursor + size - at;
  return {length, treatment: prefixes.operandSize16 ? 'refused' : 'emulated', flow, writes: 0, target: at + length + displacement, name};
}

function decodeOpcode(bytes: Uint8Array, at: number, cursor: number, opcode: number, rex: number, prefixes: Prefixes): Instruction | undefined {
  const immediate = prefixes.operandSize16 ? 2 : 4;
  const withModRm = (extra: number, writes: (operand: ModRm) => number, name: string): Instruction | undefined => {
    const operand = modRm(bytes, cursor, rex);
    if (!operand) return undefined;
    const length = cursor + operand.length + extra - at;
    if (at + length > bytes.length) return undefined;
    return plain(length, writes(operand), name);
  };
  // add, or, adc, sbb, and, sub, xor, cmp in their six forms; cmp (group 7) writes nothing.
  if (opcode < 0x40 && (opcode & 7) < 6 && opcode !== 0x0f) {
    const group = opcode >> 3;
    const form = opcode & 7;
    const name = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'][group]!;
    const compare = group === 7;
    if (form === 4) return plain(cursor + 1 - at, compare ? 0 : bit(0), name);
    if (form === 5) return plain(cursor + immediate - at, compare ? 0 : bit(0), name);
    const byteSized = form === 0 || form === 2;
    return withModRm(0, operand => (compare ? 0 : form < 2 ? rmWrites(operand, byteSized, rex) : regWrites(operand, byteSized, rex)), name);
  }
  if (opcode >= 0x50 && opcode <= 0x57) {
    const register = (opcode - 0x50) | ((rex & 1) << 3);
    const length = cursor - at;
    // push_setup_xol_ops: no prefix, or exactly REX 41 (r8-r15), is emulated.
    const emulated = (length === 1 && rex === 0) || (length === 2 && rex === 0x41);
    return {length, treatment: emulated ? 'emulated' : 'stepped', flow: 'next', writes: bit(RSP), name: `push %${REGISTER_NAMES[register]}`};
  }
  if (opcode >= 0x58 && opcode <= 0x5f) return plain(cursor - at, bit(RSP) | bit((opcode - 0x58) | ((rex & 1) << 3)), 'pop');
  if (opcode >= 0x70 && opcode <= 0x7f) return relative(bytes, at, cursor, 1, 'conditional', 'jcc', prefixes);
  if (opcode === 0x63 || opcode === 0x8b || opcode === 0x8d) return withModRm(0, operand => regWrites(operand, false, rex), opcode === 0x8d ? 'lea' : 'mov');
  if (opcode === 0x8a) return withModRm(0, operand => regWrites(operand, true, rex), 'mov');
  if (opcode === 0x88 || opcode === 0x89) return withModRm(0, operand => rmWrites(operand, opcode === 0x88, rex), 'mov');
  if (opcode === 0x84 || opcode === 0x85) return withModRm(0, () => 0, 'test');
  if (opcode === 0x86 || opcode === 0x87) return withModRm(0, operand => rmWrites(operand, opcode === 0x86, rex) | regWrites(operand, opcode === 0x86, rex), 'xchg');
  if (opcode === 0x69 || opcode === 0x6b) return withModRm(opcode === 0x69 ? immediate : 1, operand => regWrites(operand, false, rex), 'imul');
  if (opcode === 0x80 || opcode === 0x81 || opcode === 0x83) {
    const extra = opcode === 0x81 ? immediate : 1;
    return withModRm(extra, operand => (operand.extension === 7 ? 0 : rmWrites(operand, opcode === 0x80, rex)), 'alu');
  }
  if (opcode === 0x90) {
    // A nop, or with REX.B the xchg of rax and r8.
    if (rex & 1) return plain(cursor - at, bit(0) | bit(8), 'xchg');
    const length = cursor - at;
    return {length, treatment: 'emulated', flow: 'next', writes: 0, name: 'nop'};
  }
  if (opcode === 0x98) return plain(cursor - at, bit(0), 'cdqe');
  if (opcode === 0x99) return plain(cursor - at, bit(2), 'cqo');
  if (opcode === 0xa8) return plain(cursor + 1 - at, 0, 'test');
  if (opcode === 0xa9) return plain(cursor + immediate - at, 0, 'test');
  if (opcode >= 0xb0 && opcode <= 0xb7) return plain(cursor + 1 - at, bit(byteRegister((opcode - 0xb0) | ((rex & 1) << 3), rex)), 'mov');
  if (opcode >= 0xb8 && opcode <= 0xbf) return plain(cursor + (prefixes.wide ? 8 : immediate) - at, bit((opcode - 0xb8) | ((rex & 1) << 3)), 'mov');
  if (opcode === 0xc0 || opcode === 0xc1) return withModRm(1, operand => rmWrites(operand, opcode === 0xc0, rex), 'shift');
  if (opcode >= 0xd0 && opcode <= 0xd3) return withModRm(0, operand => rmWrites(operand, opcode === 0xd0 || opcode === 0xd2, rex), 'shift');
  if (opcode === 0xc6 || opcode === 0xc7) return withModRm(opcode === 0xc6 ? 1 : immediate, operand => rmWrites(operand, opcode === 0xc6, rex), 'mov');
  if (opcode === 0xc3 || opcode === 0xc2) return {length: cursor + (opcode === 0xc2 ? 2 : 0) - at, treatment: 'stepped', flow: 'away', writes: bit(RSP), name: 'ret'};
  if (opcode === 0xe8) return relative(bytes, at, cursor, 4, 'call', 'call', prefixes);
  if (opcode === 0xe9) return relative(bytes, at, cursor, 4, 'jump', 'jmp', prefixes);
  if (opcode === 0xeb) return relative(bytes, at, cursor, 1, 'jump', 'jmp', prefixes);
  if (opcode === 0xf6 || opcode === 0xf7) {
    const byteSized = opcode === 0xf6;
    const operand = modRm(bytes, cursor, rex);
    if (!operand) return undefined;
    // test takes an immediate; not, neg write their operand; mul, imul, div, idiv write rax (and rdx).
    if (operand.extension <= 1) return plain(cursor + operand.length + (byteSized ? 1 : immediate) - at, 0, 'test');
    const writes = operand.extension <= 3 ? rmWrites(operand, byteSized, rex) : bit(0) | (byteSized ? 0 : bit(2));
    return plain(cursor + operand.length - at, writes, ['', '', 'not', 'neg', 'mul', 'imul', 'div', 'idiv'][operand.extension]!);
  }
  if (opcode === 0xfe || opcode === 0xff) {
    const operand = modRm(bytes, cursor, rex);
    if (!operand) return undefined;
    const length = cursor + operand.length - at;
    if (operand.extension <= 1) return plain(length, rmWrites(operand, opcode === 0xfe, rex), operand.extension === 0 ? 'inc' : 'dec');
    if (opcode === 0xff && operand.extension >= 2 && operand.extension <= 5) return {length, treatment: 'stepped', flow: 'away', writes: bit(RSP), name: 'indirect branch'};
    if (opcode === 0xff && operand.extension === 6) return plain(length, bit(RSP), 'push');
    return undefined;
  }
  if (opcode === 0x0f) return decodeTwoByte(bytes, at, cursor, rex, prefixes);
  return undefined;
}

function decodeTwoByte(bytes: Uint8Array, at: number, cursor: number, rex: number, prefixes: Prefixes): Instruction | undefined {
  const second = bytes[cursor];
  if (second === undefined) return undefined;
  const next = cursor + 1;
  const withModRm = (writes: (operand: ModRm) => number, name: string): Instruction | undefined => {
    const operand = modRm(bytes, next, rex);
    if (!operand) return undefined;
    const length = next + operand.length - at;
    if (at + length > bytes.length) return undefined;
    return plain(length, writes(operand), name);
  };
  if (REFUSED_TWO_BYTE.has(second)) return {length: next - at, treatment: 'refused', flow: 'away', writes: 0, name: `0f ${second.toString(16)}`};
  if (second >= 0x80 && second <= 0x8f) return relative(bytes, at, next, 4, 'conditional', 'jcc', prefixes);
  if (second === 0x1f) {
    const instruction = withModRm(() => 0, 'nop');
    if (!instruction) return undefined;
    return isKernelNop(bytes, at, instruction.length) ? {...instruction, treatment: 'emulated'} : instruction;
  }
  // endbr64 (f3 0f 1e fa) and the other hint nops of 0f 1e.
  if (second === 0x1e && prefixes.repeat) return withModRm(() => 0, 'endbr64');
  if (second >= 0x40 && second <= 0x4f) return withModRm(operand => regWrites(operand, false, rex), 'cmov');
  if (second >= 0x90 && second <= 0x9f) return withModRm(operand => rmWrites(operand, true, rex), 'setcc');
  if (second === 0xaf) return withModRm(operand => regWrites(operand, false, rex), 'imul');
  if (second === 0xa3) return withModRm(() => 0, 'bt');
  if (second === 0xb6 || second === 0xb7 || second === 0xbe || second === 0xbf) return withModRm(operand => regWrites(operand, false, rex), 'movzx');
  return undefined;
}
