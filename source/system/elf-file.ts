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
  PT_INTERP,
  PT_NOTE,
  SHT_DYNSYM,
  SHT_NOBITS,
  SHT_SYMTAB,
  type ElfHeader,
  type ElfSegment,
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

type Read = (offset: number, size: number) => Uint8Array;

/** What `reading` makes of an ELF file, given its header and a reader of its bytes; undefined when it cannot be read or is not ELF. */
function readElf<T>(file: string, reading: (read: Read, header: ElfHeader) => T | undefined): T | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const descriptor = fd;
    const read: Read = (offset, size) => readAt(descriptor, offset, size);
    const header = parseElfHeader(read(0, ELF_HEADER_BYTES));
    return header ? reading(read, header) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The file's program headers. */
function programHeaders(read: Read, header: ElfHeader): ElfSegment[] {
  return parseSegments(header, read(header.programOffset, header.programCount * header.programEntrySize));
}

/**
 * The functions an ELF file defines among those `keep` accepts, and its build id; undefined when
 * the file cannot be read or is not ELF.
 */
export function readElfSymbols(file: string, keep: (name: string) => boolean): ElfSymbols | undefined {
  return readElf(file, (read, header) => {
    const sections = parseSections(header, read(header.sectionOffset, header.sectionCount * header.sectionEntrySize), read);
    const functions = new Set<string>();
    for (const table of sections) {
      if (table.type !== SHT_SYMTAB && table.type !== SHT_DYNSYM) continue;
      const strings = sections[table.link];
      if (!strings || strings.type === SHT_NOBITS) continue;
      for (const name of definedFunctions(header, read(table.offset, table.size), read(strings.offset, strings.size), keep)) functions.add(name);
    }
    let buildId: string | undefined;
    for (const segment of programHeaders(read, header)) {
      if (segment.type !== PT_NOTE || segment.size > 1 << 16) continue;
      buildId = buildIdFromNotes(read(segment.offset, segment.size), header.littleEndian);
      if (buildId) break;
    }
    return {functions, hasSymtab: sections.some(section => section.type === SHT_SYMTAB), ...(buildId ? {buildId} : {})};
  });
}

/** The dynamic loader an ELF executable names (PT_INTERP), undefined for a static one or a file that is no ELF. */
export function interpreterOf(file: string): string | undefined {
  return readElf(file, (read, header) => {
    const interp = programHeaders(read, header).find(segment => segment.type === PT_INTERP);
    if (!interp || interp.size > 4096) return undefined;
    return new TextDecoder().decode(read(interp.offset, interp.size)).replace(/\0.*$/s, '') || undefined;
  });
}
