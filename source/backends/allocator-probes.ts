// The allocator files a malloc script runs on, and its program for them: every process's files
// (or the --pid process's), the script's probes on $3 put on each (model/allocator-script.ts).
import {readFileSync} from 'node:fs';
import {classifyObject, isAllocatorSymbol, type AllocatorKind} from '../model/allocators.js';
import {expandForFiles, highestPositional} from '../model/allocator-script.js';
import {readProcessAllocator, scanAllocators, type AllocatorFile, type AllocatorScan} from '../system/allocators.js';
import {readElfSymbols} from '../system/elf-file.js';
import {TracerError, type AllocatorSummary} from '../types.js';
import type {ScriptChoice} from '../registry.js';
import {probeScript} from './probe-files.js';

/** How many processes memtop cannot probe are named in the one line that counts them. */
const UNPROBED_NAMED = 5;

/** What a scan saw, as the status line, batch JSON and --check say it. */
export function summarize(files: readonly AllocatorFile[], scan?: AllocatorScan): AllocatorSummary {
  const kinds: Partial<Record<AllocatorKind, number>> = {};
  for (const file of files) kinds[file.kind] = (kinds[file.kind] ?? 0) + 1;
  const unprobed = scan?.unprobed ?? [];
  const names = [...new Set(unprobed.map(process => process.comm))];
  return {files: files.length, kinds, unprobed: unprobed.length, ...(names.length > 0 ? {unprobedNames: names.slice(0, UNPROBED_NAMED)} : {})};
}

/**
 * MEMTOP_LIBC, when set, as an allocator file probed beside those found (a libc no process maps
 * yet). Set to a file that defines no malloc, it is an error: whoever set it meant it to be traced.
 */
function forcedLibc(): AllocatorFile | undefined {
  const override = process.env.MEMTOP_LIBC;
  if (!override) return undefined;
  const symbols = readElfSymbols(override, isAllocatorSymbol);
  const object = symbols ? classifyObject(symbols.functions) : undefined;
  if (!object) throw new TracerError(`MEMTOP_LIBC=${JSON.stringify(override)} is not an ELF file that defines malloc`, 'point MEMTOP_LIBC at a libc (or unset it: memtop finds each process\'s allocator itself)');
  return {...object, path: override, id: `path:${override}`};
}

/**
 * The allocator files to probe: the process's own when `pid` is one, else every process's (with
 * the scan, to follow later processes from). Throws a TracerError saying why when there are none.
 */
export function allocatorFilesFor(pid: number): {files: AllocatorFile[]; scan?: AllocatorScan} {
  if (pid > 0) {
    const found = readProcessAllocator(pid);
    if (!found) throw new TracerError(`PID ${pid} has no mappings to probe (a kernel thread, or it has exited)`, 'pick a running user process');
    if ('reason' in found) throw new TracerError(`memtop cannot probe the allocator of PID ${pid} (${found.comm}): ${found.reason}`, 'a process whose allocator has symbols (malloc, or Go\'s runtime.mallocgc) can be traced');
    return {files: [found.file]};
  }
  const scan = scanAllocators();
  const files = [...scan.files];
  const forced = forcedLibc();
  if (forced && !files.some(file => file.path === forced.path)) files.push(forced);
  if (files.length === 0) throw new TracerError('no allocator found in any process', 'memtop --check lists the allocator files it finds');
  return {files, scan};
}

/** A script's program for some allocator files, and the positional values after the script's own. */
export function allocatorProgram(choice: ScriptChoice, files: readonly AllocatorFile[]): {program: string; paths: string[]; probed: AllocatorFile[]} {
  const text = readFileSync(probeScript('bpftrace', choice.file), 'utf8');
  const expanded = expandForFiles(text, files, {firstPositional: highestPositional(text) + 1, go: choice.allocators === 'calls'});
  if (expanded.probed.length === 0) {
    const kinds = [...new Set(files.map(file => file.kind))].join(', ');
    throw new TracerError(`no allocator memtop can probe for this view (found: ${kinds})`, choice.allocators === 'live' ? "Go's heap is garbage collected: the live view tracks malloc and free only" : 'memtop --check lists the allocator files it finds');
  }
  return {program: expanded.program, paths: expanded.paths, probed: expanded.probed as AllocatorFile[]};
}
