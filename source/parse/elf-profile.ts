// A small ELF reader for profiles: a binary's GNU build id (from its notes) and the names of the
// functions it defines (from .symtab and .dynsym). It reads through a callback, so that a file
// is read only where it needs to be, and reads nothing it does not check the bounds of.

/** Reads `length` bytes at `offset` (fewer at the end of the file). */
export type ReadAt = (offset: number, length: number) => Buffer;

const NT_GNU_BUILD_ID = 3;
const PT_NOTE = 4;
const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
/** No file's table is read past this: a symbol table of 4 M entries is larger than any binary has. */
const MAX_TABLE_BYTES = 256 * 1024 * 1024;

interface Header {
  wide: boolean;
  little: boolean;
  read: ReadAt;
}

function u16(header: Header, buffer: Buffer, at: number): number {
  return header.little ? buffer.readUInt16LE(at) : buffer.readUInt16BE(at);
}

function u32(header: Header, buffer: Buffer, at: number): number {
  return header.little ? buffer.readUInt32LE(at) : buffer.readUInt32BE(at);
}

/** A 64-bit field (a 32-bit one in a 32-bit file) as a number: offsets and sizes fit. */
function word(header: Header, buffer: Buffer, at: number): number {
  if (!header.wide) return u32(header, buffer, at);
  return Number(header.little ? buffer.readBigUInt64LE(at) : buffer.readBigUInt64BE(at));
}

function header(read: ReadAt): Header | undefined {
  const ident = read(0, 64);
  if (ident.length < 52 || ident.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const wide = ident[4] === 2;
  const little = ident[5] === 1;
  if ((!wide && ident[4] !== 1) || (!little && ident[5] !== 2) || (wide && ident.length < 64)) return undefined;
  return {wide, little, read};
}

/** The GNU build id in a run of ELF notes, as hex, or undefined. */
export function buildIdInNotes(notes: Buffer, little = true): string | undefined {
  const align = (value: number) => (value + 3) & ~3;
  for (let at = 0; at + 12 <= notes.length; ) {
    const nameSize = little ? notes.readUInt32LE(at) : notes.readUInt32BE(at);
    const descSize = little ? notes.readUInt32LE(at + 4) : notes.readUInt32BE(at + 4);
    const type = little ? notes.readUInt32LE(at + 8) : notes.readUInt32BE(at + 8);
    const name = at + 12;
    const desc = name + align(nameSize);
    if (desc + descSize > notes.length) return undefined;
    if (type === NT_GNU_BUILD_ID && nameSize === 4 && notes.toString('latin1', name, name + 3) === 'GNU' && descSize > 0) return notes.toString('hex', desc, desc + descSize);
    at = desc + align(descSize);
  }
  return undefined;
}

/** An ELF file's GNU build id (hex) from its PT_NOTE segments, or undefined when it has none or is not ELF. */
export function elfBuildId(read: ReadAt): string | undefined {
  const elf = header(read);
  if (!elf) return undefined;
  const top = elf.read(0, 64);
  const offset = word(elf, top, elf.wide ? 0x20 : 0x1c);
  const size = u16(elf, top, elf.wide ? 0x36 : 0x2a);
  const count = u16(elf, top, elf.wide ? 0x38 : 0x2c);
  if (size < (elf.wide ? 56 : 32) || count === 0) return undefined;
  const table = elf.read(offset, size * count);
  for (let index = 0; index < count && (index + 1) * size <= table.length; index++) {
    const at = index * size;
    if (u32(elf, table, at) !== PT_NOTE) continue;
    const notes = elf.read(word(elf, table, at + (elf.wide ? 8 : 4)), Math.min(word(elf, table, at + (elf.wide ? 32 : 16)), 65_536));
    const id = buildIdInNotes(notes, elf.little);
    if (id) return id;
  }
  return undefined;
}

/** The names of the functions an ELF file defines (its .symtab's and .dynsym's), or an empty set. */
export function elfFunctionNames(read: ReadAt): Set<string> {
  const names = new Set<string>();
  const elf = header(read);
  if (!elf) return names;
  const top = elf.read(0, 64);
  const offset = word(elf, top, elf.wide ? 0x28 : 0x20);
  const size = u16(elf, top, elf.wide ? 0x3a : 0x2e);
  const count = u16(elf, top, elf.wide ? 0x3c : 0x30);
  if (size < (elf.wide ? 64 : 40) || count === 0) return names;
  const sections = elf.read(offset, size * count);
  const field = (index: number, wide: number, narrow: number) => word(elf, sections, index * size + (elf.wide ? wide : narrow));
  for (let index = 0; index < count && (index + 1) * size <= sections.length; index++) {
    const type = u32(elf, sections, index * size + 4);
    if (type !== SHT_SYMTAB && type !== SHT_DYNSYM) continue;
    const link = u32(elf, sections, index * size + (elf.wide ? 40 : 24));
    if (link >= count) continue;
    const symbolSize = elf.wide ? 24 : 16;
    const symbols = elf.read(field(index, 24, 16), Math.min(field(index, 32, 20), MAX_TABLE_BYTES));
    const strings = elf.read(field(link, 24, 16), Math.min(field(link, 32, 20), MAX_TABLE_BYTES));
    for (let at = 0; at + symbolSize <= symbols.length; at += symbolSize) {
      const info = symbols[at + (elf.wide ? 4 : 12)]!;
      const section = u16(elf, symbols, at + (elf.wide ? 6 : 14));
      const kind = info & 0xf;
      if (section === 0 || (kind !== STT_FUNC && kind !== STT_GNU_IFUNC)) continue;
      const start = u32(elf, symbols, at);
      const end = strings.indexOf(0, start);
      if (start > 0 && end > start) names.add(strings.toString('utf8', start, end));
    }
  }
  return names;
}
