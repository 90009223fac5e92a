// ELF on bytes: the file header, section headers, the defined functions of a symbol table and the
// GNU build id of a note segment. Pure: source/system/elf-file.ts reads the bytes these take.

/** What the ELF file header says of where the rest is. */
export interface ElfHeader {
  is64: boolean;
  littleEndian: boolean;
  /** e_type: 2 an executable, 3 a shared object (or a position-independent executable). */
  type: number;
  sectionOffset: number;
  sectionEntrySize: number;
  sectionCount: number;
  sectionNamesIndex: number;
  programOffset: number;
  programEntrySize: number;
  programCount: number;
}

/** One section header, its name read from the section names table. */
export interface ElfSection {
  name: string;
  type: number;
  offset: number;
  size: number;
  /** Of a symbol table: the index of its string table. */
  link: number;
}

/** One program header: what a segment of the file is. */
export interface ElfSegment {
  type: number;
  offset: number;
  size: number;
}

export const SHT_SYMTAB = 2;
export const SHT_DYNSYM = 11;
export const SHT_NOBITS = 8;
export const PT_NOTE = 4;
/** Program header type of the path of the program's interpreter (its dynamic loader). */
export const PT_INTERP = 3;

/** How many bytes of the file's start parseElfHeader needs. */
export const ELF_HEADER_BYTES = 64;

function reader(bytes: Uint8Array, littleEndian: boolean) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    u16: (at: number) => view.getUint16(at, littleEndian),
    u32: (at: number) => view.getUint32(at, littleEndian),
    u64: (at: number) => Number(view.getBigUint64(at, littleEndian)),
  };
}

/** The file header of an ELF file from its first 64 bytes, or undefined when they are not ELF. */
export function parseElfHeader(head: Uint8Array): ElfHeader | undefined {
  if (head.length < 52 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) return undefined;
  const is64 = head[4] === 2;
  const littleEndian = head[5] === 1;
  if (is64 && head.length < ELF_HEADER_BYTES) return undefined;
  const read = reader(head, littleEndian);
  return is64
    ? {
        is64,
        littleEndian,
        type: read.u16(16),
        programOffset: read.u64(32),
        sectionOffset: read.u64(40),
        programEntrySize: read.u16(54),
        programCount: read.u16(56),
        sectionEntrySize: read.u16(58),
        sectionCount: read.u16(60),
        sectionNamesIndex: read.u16(62),
      }
    : {
        is64,
        littleEndian,
        type: read.u16(16),
        programOffset: read.u32(28),
        sectionOffset: read.u32(32),
        programEntrySize: read.u16(42),
        programCount: read.u16(44),
        sectionEntrySize: read.u16(46),
        sectionCount: read.u16(48),
        sectionNamesIndex: read.u16(50),
      };
}

/** A NUL-terminated string of a string table. */
function stringAt(table: Uint8Array, offset: number): string {
  if (offset >= table.length) return '';
  const end = table.indexOf(0, offset);
  return Buffer.from(table.buffer, table.byteOffset + offset, (end === -1 ? table.length : end) - offset).toString('latin1');
}

/** The section headers (the table at header.sectionOffset), named from the section names table. */
export function parseSections(header: ElfHeader, table: Uint8Array, names: (offset: number, size: number) => Uint8Array): ElfSection[] {
  const read = reader(table, header.littleEndian);
  const raw: (Omit<ElfSection, 'name'> & {nameOffset: number})[] = [];
  for (let index = 0; index < header.sectionCount; index++) {
    const at = index * header.sectionEntrySize;
    if (at + (header.is64 ? 64 : 40) > table.length) break;
    raw.push(
      header.is64
        ? {nameOffset: read.u32(at), type: read.u32(at + 4), offset: read.u64(at + 24), size: read.u64(at + 32), link: read.u32(at + 40)}
        : {nameOffset: read.u32(at), type: read.u32(at + 4), offset: read.u32(at + 16), size: read.u32(at + 20), link: read.u32(at + 24)},
    );
  }
  const namesSection = raw[header.sectionNamesIndex];
  const nameTable = namesSection && namesSection.type !== SHT_NOBITS ? names(namesSection.offset, namesSection.size) : new Uint8Array();
  return raw.map(({nameOffset, ...section}) => ({...section, name: stringAt(nameTable, nameOffset)}));
}

/** The program headers (the table at header.programOffset). */
export function parseSegments(header: ElfHeader, table: Uint8Array): ElfSegment[] {
  const read = reader(table, header.littleEndian);
  const segments: ElfSegment[] = [];
  for (let index = 0; index < header.programCount; index++) {
    const at = index * header.programEntrySize;
    if (at + (header.is64 ? 56 : 32) > table.length) break;
    segments.push(
      header.is64 ? {type: read.u32(at), offset: read.u64(at + 8), size: read.u64(at + 32)} : {type: read.u32(at), offset: read.u32(at + 4), size: read.u32(at + 16)},
    );
  }
  return segments;
}

const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const STB_GLOBAL = 1;
const STB_WEAK = 2;

/**
 * The global or weak functions a symbol table defines (not those it only refers to), as many of
 * them as `keep` accepts: a big library's table holds tens of thousands.
 */
export function definedFunctions(header: ElfHeader, symbols: Uint8Array, strings: Uint8Array, keep: (name: string) => boolean): Set<string> {
  const read = reader(symbols, header.littleEndian);
  const size = header.is64 ? 24 : 16;
  const found = new Set<string>();
  for (let at = size; at + size <= symbols.length; at += size) {
    const info = symbols[at + (header.is64 ? 4 : 12)]!;
    const sectionIndex = read.u16(at + (header.is64 ? 6 : 14));
    const type = info & 0xf;
    const binding = info >> 4;
    if (sectionIndex === 0 || (type !== STT_FUNC && type !== STT_GNU_IFUNC) || (binding !== STB_GLOBAL && binding !== STB_WEAK)) continue;
    const name = stringAt(strings, read.u32(at));
    if (keep(name)) found.add(name);
  }
  return found;
}

const NT_GNU_BUILD_ID = 3;

/** The GNU build id (hex) among the notes of a PT_NOTE segment or .note section, if there is one. */
export function buildIdFromNotes(notes: Uint8Array, littleEndian: boolean): string | undefined {
  const read = reader(notes, littleEndian);
  const align = (value: number) => (value + 3) & ~3;
  for (let at = 0; at + 12 <= notes.length; ) {
    const nameSize = read.u32(at);
    const descSize = read.u32(at + 4);
    const type = read.u32(at + 8);
    const nameAt = at + 12;
    const descAt = nameAt + align(nameSize);
    if (descAt + descSize > notes.length) return undefined;
    if (type === NT_GNU_BUILD_ID && nameSize === 4 && stringAt(notes.subarray(nameAt, nameAt + nameSize), 0) === 'GNU') {
      return Buffer.from(notes.buffer, notes.byteOffset + descAt, descSize).toString('hex');
    }
    at = descAt + align(descSize);
  }
  return undefined;
}
