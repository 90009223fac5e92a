// A malloc script for many allocator files: its probes on `$3` (the one path it takes when run
// by hand) repeated on one positional parameter per file, mechanically, so that the files in
// probes/bpftrace/ stay plain and runnable with one path. Pure text in, text and arguments out.
import {C_ENTRY_POINTS, ENTRY_ARGUMENTS, GO_ENTRY, type AllocatorObject} from './allocators.js';
import type {ProbeNeeds} from './probe-placement.js';

/** The C allocator entry points a probe on `$3:NAME` is put on every file for. */
const ALLOCATOR_ENTRIES: ReadonlySet<string> = new Set(C_ENTRY_POINTS);

/** One file a script is expanded for: its allocator, and the positional its path is passed as. */
export interface ScriptFile extends AllocatorObject {
  path: string;
}

/** The program text and the paths in positional order from `firstPositional` on. */
export interface ExpandedScript {
  program: string;
  /** The files' paths, to be passed as $firstPositional, $firstPositional+1, ... */
  paths: string[];
  /** The files that got a probe, in the order of `paths`. */
  probed: ScriptFile[];
}

/**
 * Where a file's uprobe on a C entry point goes: the symbol (under the file's prefix), with an
 * offset past the entry when the probe is better there ("free+3"). `needs` says which argument
 * registers the probe reads and whether the entry has a uretprobe too.
 */
export type SiteChooser = (file: ScriptFile, entry: string, needs: ProbeNeeds) => string;

/** The highest $N a program reads (its comments, which may name others, left out). */
export function highestPositional(program: string): number {
  let highest = 0;
  const code = program.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  for (const match of code.matchAll(/\$(\d+)/g)) highest = Math.max(highest, Number(match[1]));
  return highest;
}

/** One probe of a program: its attach points, and the text from its first attach point to its closing brace. */
interface Block {
  start: number;
  end: number;
  header: string;
  /** Predicate and body, from the first "/" or "{" after the attach points. */
  rest: string;
}

/** The blocks whose attach points are uprobes or uretprobes on `$3`. */
function libraryBlocks(program: string): Block[] {
  const blocks: Block[] = [];
  const start = /^u(?:ret)?probe:\$3:/gm;
  for (let match = start.exec(program); match; match = start.exec(program)) {
    const headerEnd = program.slice(match.index).search(/\s*[/{]/);
    if (headerEnd === -1) throw new Error(`a probe on $3 at offset ${match.index} has no body`);
    let depth = 0;
    let index = match.index + headerEnd;
    let inString = false;
    for (; index < program.length; index++) {
      const char = program[index];
      if (char === '"' && program[index - 1] !== '\\') inString = !inString;
      if (inString) continue;
      if (char === '{') depth++;
      else if (char === '}' && --depth === 0) break;
    }
    if (depth !== 0) throw new Error(`a probe on $3 at offset ${match.index} is not closed`);
    blocks.push({start: match.index, end: index + 1, header: program.slice(match.index, match.index + headerEnd), rest: program.slice(match.index + headerEnd, index + 1)});
    start.lastIndex = index + 1;
  }
  return blocks;
}

/**
 * The program with each uprobe or uretprobe on `$3:NAME` put on every C allocator file that
 * defines NAME (under its prefix: `je_malloc` for a prefixed jemalloc), one positional per file
 * from `firstPositional` on; a probe no file defines is dropped, and one on a function of $3 that is
 * no allocator entry point (command.bt's _exit) is left on $3. Where `go` is true, each probe
 * on `$3:malloc` alone also gets a copy on every Go file's runtime.mallocgc, whose size is in AX
 * (Go's register ABI on amd64) where malloc's is in arg0, and whose entry is named so.
 */
export function expandForFiles(
  program: string,
  files: readonly ScriptFile[],
  options: {firstPositional: number; go: boolean; site?: SiteChooser},
): ExpandedScript {
  const cFiles = files.filter(file => file.kind !== 'go');
  const goFiles = options.go ? files.filter(file => file.kind === 'go') : [];
  const used = new Set<ScriptFile>();
  const position = new Map<ScriptFile, number>();
  const positionOf = (file: ScriptFile): number => {
    let at = position.get(file);
    if (at === undefined) {
      at = options.firstPositional + position.size;
      position.set(file, at);
    }
    used.add(file);
    return at;
  };
  // Entry points with a uretprobe: the kernel puts its breakpoint at the entry, which traps anyway.
  const returnProbes = new Set([...program.matchAll(/\buretprobe:\$3:(\w+)/g)].map(match => match[1]!));
  // Positions follow the files' order, whichever probe names a file first.
  for (const file of [...cFiles, ...goFiles]) positionOf(file);
  used.clear();
  let out = '';
  let last = 0;
  for (const block of libraryBlocks(program)) {
    out += program.slice(last, block.start);
    last = block.end;
    const points = block.header.split(',').map(point => point.trim()).filter(Boolean);
    // A probe on a function of $3 that is no allocator entry point (command.bt's _exit) stays on $3.
    if (points.every(point => !ALLOCATOR_ENTRIES.has(/:(\w+)$/.exec(point)?.[1] ?? ''))) {
      out += program.slice(block.start, block.end);
      continue;
    }
    // A body that reads *reg("sp") reads the return address: its probe stays at the entry (ProbeNeeds.returnAddress).
    const readsReturnAddress = /\breg\("sp"\)/.test(block.rest);
    const expanded = points.flatMap(point => {
      const match = /^(u(?:ret)?probe):\$3:(\w+)$/.exec(point);
      if (!match) throw new Error(`cannot expand the attach point ${point}`);
      const [, type, entry] = match;
      // A uprobe may sit past the entry (the kernel emulates an instruction there and single-steps the first); a uretprobe's is the entry.
      const needs = {arguments: ENTRY_ARGUMENTS[entry!] ?? 6, returnProbe: returnProbes.has(entry!), returnAddress: readsReturnAddress};
      const site = (file: ScriptFile) => (type === 'uprobe' && options.site ? options.site(file, entry!, needs) : `${file.prefix}${entry}`);
      return cFiles.filter(file => file.entries.includes(entry!)).map(file => `${type}:$${positionOf(file)}:${site(file)}`);
    });
    const copies: string[] = [];
    if (expanded.length > 0) copies.push(`${expanded.join(', ')}\n${block.rest.replace(/^\s*\n?/, '')}`);
    if (points.length === 1 && points[0] === 'uprobe:$3:malloc' && goFiles.length > 0) {
      const body = block.rest.replace(/^\s*\n?/, '').replace(/\barg0\b/g, 'reg("ax")').replace(/"malloc"/g, `"${GO_ENTRY}"`);
      copies.push(`${goFiles.map(file => `uprobe:$${positionOf(file)}:${GO_ENTRY}`).join(', ')}\n${body}`);
    }
    out += copies.join('\n\n');
  }
  out += program.slice(last);
  const probed = [...position.keys()].filter(file => used.has(file));
  // Every file keeps its position; one no probe names still gets its path, unused.
  const paths = [...position.keys()].map(file => file.path);
  return {program: out, paths, probed};
}
