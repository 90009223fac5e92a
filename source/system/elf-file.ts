// Reads what memtop needs of an ELF file on disk: the functions it defines (among those asked
// for) and its build id, by reading only the headers, the symbol tables and the notes.
import {closeSync, openSync, readSync} from 'node:fs';
import {
  buildIdFromNotes,
  definedFunctions,
  ELF_HEADER_BYTES,
  parseElfHeader,
  parseSections,
  parseSegments,
  PT_NOTE,
  SHT_DYNSYM,
  SHT_NOBITS,
  SHT_SYMTAB,
} from '../parse/elf.js';

/** The most memtop reads of one table: a symbol table larger than this is read no further. */
const TABLE_MAX = 256 * 1024 * 1024;

/** What an ELF file says of itself. */
export interface ElfSymbols {
  /** The functions it defines (global or weak, in .dynsym or .symtab) among those `keep` accepted. */
  functions: Set<string>;
  /** Whether it has a .symtab (a binary that is not stripped). */
  hasSymtab: boolean;
  /** Its GNU build id in hex, when it has one. */
  buildId?: string;
}

function readAt(fd: number, offset: number, size: number): Uint8Array {
  const length = Math.max(0, Math.min(size, TABLE_MAX));
  const bytes = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const got = readSync(fd, bytes, done, length - done, offset + done);
    if (got === 0) break;
    done += got;
  }
  return bytes.subarray(0, done);
}

/**
 * The functions an ELF file defines among those `keep` accepts, and its build id; undefined when
 * the file cannot be read or is not ELF.
 */
export function readElfSymbols(file: string, keep: (name: string) => boolean): ElfSymbols | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const descriptor = fd;
    const header = parseElfHeader(readAt(descriptor, 0, ELF_HEADER_BYTES));
    if (!header) return undefined;
    const sections = parseSections(header, readAt(descriptor, header.sectionOffset, header.sectionCount * header.sectionEntrySize), (offset, size) => readAt(descriptor, offset, size));
    const functions = new Set<string>();
    for (const table of sections) {
      if (table.type !== SHT_SYMTAB && table.type !== SHT_DYNSYM) continue;
      const strings = sections[table.link];
      if (!strings || strings.type === SHT_NOBITS) continue;
      for (const name of definedFunctions(header, readAt(descriptor, table.offset, table.size), readAt(descriptor, strings.offset, strings.size), keep)) functions.add(name);
    }
    let buildId: string | undefined;
    for (const segment of parseSegments(header, readAt(descriptor, header.programOffset, header.programCount * header.programEntrySize))) {
      if (segment.type !== PT_NOTE || segment.size > 1 << 16) continue;
      buildId = buildIdFromNotes(readAt(descriptor, segment.offset, segment.size), header.littleEndian);
      if (buildId) break;
    }
    return {functions, hasSymtab: sections.some(section => section.type === SHT_SYMTAB), ...(buildId ? {buildId} : {})};
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
