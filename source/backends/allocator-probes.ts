// The allocator files a malloc script runs on, and its program for them: every process's files
// (or the --pid process's), the script's probes on $3 put on each (model/allocator-script.ts).
import {readFileSync} from 'node:fs';
import {ENTRY_ARGUMENTS, type AllocatorKind} from '../model/allocators.js';
import {expandForFiles, highestPositional, type ScriptFile} from '../model/allocator-script.js';
import {placeProbe, probeSite, type Placement, type ProbeNeeds} from '../model/probe-placement.js';
import {EM_X86_64} from '../parse/elf-functions.js';
import {readFunctions} from '../system/function-bytes.js';
import {atLeast, versionText, type BpftraceVersion} from './bpftrace-version.js';
import {readAllocatorFile, readProcessAllocator, scanAllocators, type AllocatorFile, type AllocatorScan} from '../system/allocators.js';
import {TracerError, type AllocatorSummary} from '../types.js';
import type {ScriptChoice} from '../registry.js';
import {probeScript} from './probe-files.js';

/** How many processes memtop cannot probe are named in the one line that counts them. */
const UNPROBED_NAMED = 5;

/**
 * What a scan saw, as the status line, batch JSON and --check say it; `stepped`, the entry points
 * whose probe single-steps in one of the files (steppedEntries).
 */
export function summarize(files: readonly AllocatorFile[], scan?: AllocatorScan, stepped: readonly string[] = []): AllocatorSummary {
  const kinds: Partial<Record<AllocatorKind, number>> = {};
  for (const file of files) kinds[file.kind] = (kinds[file.kind] ?? 0) + 1;
  const unprobed = scan?.unprobed ?? [];
  const names = [...new Set(unprobed.map(process => process.comm))];
  return {
    files: files.length,
    kinds,
    unprobed: unprobed.length,
    ...(names.length > 0 ? {unprobedNames: names.slice(0, UNPROBED_NAMED)} : {}),
    ...(stepped.length > 0 ? {singleSteps: [...stepped]} : {}),
  };
}

/**
 * MEMTOP_LIBC, when set, as an allocator file probed beside those found (a libc no process maps
 * yet). Set to a file that defines no malloc, it is an error: whoever set it meant it to be traced.
 */
function forcedLibc(): AllocatorFile | undefined {
  const override = process.env.MEMTOP_LIBC;
  if (!override) return undefined;
  const file = readAllocatorFile(override);
  if (!file) throw new TracerError(`MEMTOP_LIBC=${JSON.stringify(override)} is not an ELF file that defines malloc`, 'point MEMTOP_LIBC at a libc (or unset it: memtop finds each process\'s allocator itself)');
  return file;
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

/**
 * Whether a bpftrace attaches a uprobe at an offset into a function ("free+3"). Debian's 0.17
 * refuses ("compiled without (k|u)probe offset support"); 0.23 and 0.27, as Debian builds them,
 * take it (CI runs both). Releases between are not tried here, and keep their probes at the entry.
 */
export function takesProbeOffsets(version: BpftraceVersion): boolean {
  return atLeast(version, 0, 23);
}

/**
 * Where each uprobe on a C allocator's entry point goes (x86-64): past an entry instruction the
 * kernel would single-step (~9 µs a hit here, against ~0.7 µs for one it emulates), onto the
 * first it emulates that every call reaches with the probe's argument registers untouched
 * (model/probe-placement.ts); at the entry when there is none, or the file cannot be read.
 */
export function chooseSite(file: ScriptFile, entry: string, needs: ProbeNeeds): string {
  const symbol = `${file.prefix}${entry}`;
  const placement = placementOf(file, entry, needs);
  return placement ? probeSite(symbol, placement) : symbol;
}

/** Where a uprobe on one of a file's entry points goes, undefined when its bytes cannot be read (not x86-64, no such symbol). */
export function placementOf(file: ScriptFile, entry: string, needs: ProbeNeeds): Placement | undefined {
  return placementIn(file.path, `${file.prefix}${entry}`, needs);
}

/** Where a uprobe on `symbol` in the file at `path` goes, undefined when its bytes cannot be read. */
function placementIn(path: string, symbol: string, needs: ProbeNeeds): Placement | undefined {
  const functions = readFunctions(path, [symbol]);
  const found = functions?.machine === EM_X86_64 ? functions.functions.get(symbol) : undefined;
  return found ? placeProbe({bytes: found.bytes, size: found.size}, needs) : undefined;
}

/**
 * The probe spec of `symbol` in the file at `path` for a script that names its site as a
 * positional parameter (command.bt's free): where placeProbe puts it on a bpftrace that takes
 * offsets, else the entry.
 */
export function siteIn(path: string, symbol: string, needs: ProbeNeeds, version: BpftraceVersion): string {
  const placement = takesProbeOffsets(version) ? placementIn(path, symbol, needs) : undefined;
  return placement ? probeSite(symbol, placement) : symbol;
}

/**
 * Where the malloc tab's probe (malloc) and the live view's free probe sit in these files with
 * this bpftrace, in words for --check, and whether any of them single-steps.
 */
export function describeSites(files: readonly ScriptFile[], version: BpftraceVersion): {text: string; singleSteps: boolean} {
  const offsets = takesProbeOffsets(version);
  let singleSteps = false;
  const parts = ['malloc', 'free'].map(entry => {
    const {sites: moved, ...counts} = siteCounts(files, entry, offsets);
    if (counts.stepped > 0) singleSteps = true;
    const inFiles = (count: number) => `${count} file${count === 1 ? '' : 's'}`;
    const said = [
      counts.entry > 0 ? `at the entry in ${inFiles(counts.entry)}` : '',
      counts.moved > 0 ? `past it in ${inFiles(counts.moved)} (${[...moved].slice(0, 3).join(', ')})` : '',
      counts.stepped > 0 ? `single-stepped in ${inFiles(counts.stepped)}` : '',
    ].filter(Boolean);
    return `${entry}: ${said.join(', ') || 'in no file'}`;
  });
  const why = singleSteps ? (offsets ? ': no emulated instruction before a branch there' : `: bpftrace ${versionText(version)} takes no probe offset, so a probe stays on an entry instruction the kernel must single-step (~10 times the cost of an emulated trap)`) : '';
  return {text: `${parts.join('; ')}${why}`, singleSteps};
}

/** How many files put `entry`'s probe at the entry, past it (`sites` says where), or on an instruction that single-steps. */
function siteCounts(files: readonly ScriptFile[], entry: string, offsets: boolean): {entry: number; moved: number; stepped: number; sites: Set<string>} {
  const counts = {entry: 0, moved: 0, stepped: 0, sites: new Set<string>()};
  for (const file of files) {
    if (file.kind === 'go' || !file.entries.includes(entry)) continue;
    const placement = placementOf(file, entry, {arguments: ENTRY_ARGUMENTS[entry]!});
    if (!placement) continue;
    if (placement.treatment === 'emulated' && placement.offset === 0) counts.entry++;
    else if (offsets && placement.treatment === 'emulated') {
      counts.moved++;
      counts.sites.add(`${file.kind} ${probeSite(`${file.prefix}${entry}`, placement)}`);
    } else counts.stepped++;
  }
  return counts;
}

/**
 * Which of `entries` single-step in at least one of the files on this bpftrace (the status line
 * says so); those `atEntry` keep their probe at the entry whatever the release (a uretprobe's function).
 */
export function steppedEntries(files: readonly ScriptFile[], version: BpftraceVersion, entries: readonly string[], atEntry: readonly string[] = []): string[] {
  const offsets = takesProbeOffsets(version);
  return entries.filter(entry => siteCounts(files, entry, offsets && !atEntry.includes(entry)).stepped > 0);
}

/** A script's program for some allocator files, and the positional values after the script's own. */
export function allocatorProgram(choice: ScriptChoice, files: readonly AllocatorFile[], version: BpftraceVersion): {program: string; paths: string[]; probed: AllocatorFile[]} {
  const text = readFileSync(probeScript('bpftrace', choice.file), 'utf8');
  const expanded = expandForFiles(text, files, {firstPositional: highestPositional(text) + 1, go: choice.allocators === 'calls', ...(takesProbeOffsets(version) ? {site: chooseSite} : {})});
  if (expanded.probed.length === 0) {
    const kinds = [...new Set(files.map(file => file.kind))].join(', ');
    throw new TracerError(`no allocator memtop can probe for this view (found: ${kinds})`, choice.allocators === 'live' ? "Go's heap is garbage collected: the live view tracks malloc and free only" : 'memtop --check lists the allocator files it finds');
  }
  return {program: expanded.program, paths: expanded.paths, probed: expanded.probed as AllocatorFile[]};
}
