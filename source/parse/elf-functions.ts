// A 64-bit little-endian ELF file's function symbols with their addresses and sizes, and where an
// address lies in the file: what probe placement needs to read a function's bytes. Pure: the
// reads are the caller's (source/system/function-bytes.ts).

/** The parts of the file header that locate the program and section header tables. */
export interface ElfLayout {
  machine: number;
  programOffset: number;
  programEntrySize: number;
  programCount: number;
  sectionOffset: number;
  sectionEntrySize: number;
  sectionCount: number;
}

/** A loadable segment: file bytes at `offset` are mapped at `address`. */
export interface LoadSegment {
  address: number;
  offset: number;
  fileSize: number;
}

/** A symbol table section and the string table it names. */
export interface SymbolTable {
  offset: number;
  size: number;
  stringsOffset: number;
  stringsSize: number;
}

/** A function symbol: its address (as the file's program headers map it) and size. */
export interface FunctionSymbol {
  name: string;
  address: number;
  size: number;
}

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const u64 = (data: DataView, at: number): number => Number(data.getBigUint64(at, true));

/** The layout from the file's first 64 bytes, or undefined when they are not a 64-bit little-endian ELF header. */
export function parseLayout(head: Uint8Array): ElfLayout | undefined {
  if (head.length < 64 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46 || head[4] !== 2 || head[5] !== 1) return undefined;
  const data = view(head);
  return {
    machine: data.getUint16(18, true),
    programOffset: u64(data, 32),
    sectionOffset: u64(data, 40),
    programEntrySize: data.getUint16(54, true),
    programCount: data.getUint16(56, true),
    sectionEntrySize: data.getUint16(58, true),
    sectionCount: data.getUint16(60, true),
  };
}

/** The PT_LOAD segments of the program header table. */
export function loadSegments(layout: ElfLayout, table: Uint8Array): LoadSegment[] {
  const data = view(table);
  const segments: LoadSegment[] = [];
  for (let index = 0; index < layout.programCount; index++) {
    const at = index * layout.programEntrySize;
    if (at + 56 > table.length) break;
    if (data.getUint32(at, true) !== PT_LOAD) continue;
    segments.push({offset: u64(data, at + 8), address: u64(data, at + 16), fileSize: u64(data, at + 32)});
  }
  return segments;
}

/** The symbol tables of the section header table, .symtab first (it has the local functions too), then .dynsym. */
export function symbolTables(layout: ElfLayout, table: Uint8Array): SymbolTable[] {
  const data = view(table);
  const sections: {type: number; offset: number; size: number; link: number}[] = [];
  for (let index = 0; index < layout.sectionCount; index++) {
    const at = index * layout.sectionEntrySize;
    if (at + 64 > table.length) break;
    sections.push({type: data.getUint32(at + 4, true), offset: u64(data, at + 24), size: u64(data, at + 32), link: data.getUint32(at + 40, true)});
  }
  return [SHT_SYMTAB, SHT_DYNSYM].flatMap(type =>
    sections
      .filter(section => section.type === type && sections[section.link])
      .map(section => ({offset: section.offset, size: section.size, stringsOffset: sections[section.link]!.offset, stringsSize: sections[section.link]!.size})),
  );
}

/**
 * The defined functions of one symbol table whose names `wanted` holds (a versioned name such as
 * "malloc@@GLIBC_2.2.5" does not occur in a symbol table: versions live elsewhere).
 */
export function functionSymbols(symbols: Uint8Array, strings: Uint8Array, wanted: ReadonlySet<string>): FunctionSymbol[] {
  const data = view(symbols);
  const found: FunctionSymbol[] = [];
  for (let at = 24; at + 24 <= symbols.length; at += 24) {
    const type = symbols[at + 4]! & 0xf;
    if ((type !== STT_FUNC && type !== STT_GNU_IFUNC) || data.getUint16(at + 6, true) === 0) continue;
    const nameAt = data.getUint32(at, true);
    const end = strings.indexOf(0, nameAt);
    if (nameAt >= strings.length || end === -1) continue;
    const name = Buffer.from(strings.buffer, strings.byteOffset + nameAt, end - nameAt).toString('latin1');
    if (wanted.has(name)) found.push({name, address: u64(data, at + 8), size: u64(data, at + 16)});
  }
  return found;
}

/** Where in the file the bytes mapped at `address` are, or undefined when no segment maps it from the file. */
export function fileOffsetOf(segments: readonly LoadSegment[], address: number): number | undefined {
  const segment = segments.find(candidate => address >= candidate.address && address < candidate.address + candidate.fileSize);
  return segment && segment.offset + (address - segment.address);
}
