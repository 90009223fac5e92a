// Reads named functions' machine code out of an ELF file (a C library, an allocator's library, a
// Go binary): the symbol tables, then each function's bytes. Cached per file path, size and
// modification time, since a file on disk changes only when a package is upgraded.
import {closeSync, fstatSync, openSync, readSync} from 'node:fs';
import {fileOffsetOf, functionSymbols, loadSegments, parseLayout, symbolTables, type FunctionSymbol} from '../parse/elf-functions.js';

/** One function of the file: its symbol and its bytes (`size` of them, at most MAX_FUNCTION_BYTES). */
export interface FileFunction extends FunctionSymbol {
  bytes: Uint8Array;
}

/** What a file says of the functions asked for. */
export interface FileFunctions {
  /** The ELF machine (62 x86-64, 183 aarch64). */
  machine: number;
  functions: Map<string, FileFunction>;
}

/** The most bytes of one function read: enough for the branch scan of any allocator's entry point. */
export const MAX_FUNCTION_BYTES = 16384;
/** Bytes read of a function whose symbol has no size. */
const UNSIZED_BYTES = 256;

const cache = new Map<string, FileFunctions | undefined>();

function readAt(fd: number, offset: number, length: number): Uint8Array {
  const buffer = Buffer.alloc(length);
  const read = readSync(fd, buffer, 0, length, offset);
  return buffer.subarray(0, read);
}

/**
 * The functions named in `names` that `file` defines, with their bytes; undefined when the file
 * cannot be read or is not a 64-bit little-endian ELF file. A name defined in both .symtab and
 * .dynsym is taken from the first.
 */
export function readFunctions(file: string, names: readonly string[]): FileFunctions | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    const key = `${file}\0${stat.size}\0${stat.mtimeMs}\0${[...names].sort().join(',')}`;
    if (cache.has(key)) return cache.get(key);
    const result = readOpen(fd, names);
    cache.set(key, result);
    return result;
  } finally {
    closeSync(fd);
  }
}

function readOpen(fd: number, names: readonly string[]): FileFunctions | undefined {
  const layout = parseLayout(readAt(fd, 0, 64));
  if (!layout) return undefined;
  const segments = loadSegments(layout, readAt(fd, layout.programOffset, layout.programCount * layout.programEntrySize));
  const tables = symbolTables(layout, readAt(fd, layout.sectionOffset, layout.sectionCount * layout.sectionEntrySize));
  const wanted = new Set(names);
  const functions = new Map<string, FileFunction>();
  for (const table of tables) {
    const symbols = functionSymbols(readAt(fd, table.offset, table.size), readAt(fd, table.stringsOffset, table.stringsSize), wanted);
    for (const symbol of symbols) {
      if (functions.has(symbol.name)) continue;
      const offset = fileOffsetOf(segments, symbol.address);
      if (offset === undefined) continue;
      const bytes = readAt(fd, offset, Math.min(symbol.size || UNSIZED_BYTES, MAX_FUNCTION_BYTES));
      functions.set(symbol.name, {...symbol, bytes});
    }
  }
  return {machine: layout.machine, functions};
}
