// Which allocator an object file is, from the functions it defines, and which of a process's
// objects serves its allocations. Pure: source/system/allocators.ts reads the files and /proc.
import {sanitize} from '../format.js';
import {liveCostText} from './live-cost.js';
import type {AllocatorSummary} from '../types.js';

/** The allocators memtop tells apart; `other` is an object that defines malloc and is none of these. */
export type AllocatorKind = 'glibc' | 'musl' | 'jemalloc' | 'tcmalloc' | 'mimalloc' | 'go' | 'other';

/** Every kind, in the order --check and the readme list them. */
export const ALLOCATOR_KINDS: readonly AllocatorKind[] = ['glibc', 'musl', 'jemalloc', 'tcmalloc', 'mimalloc', 'go', 'other'];

/** The C allocator entry points memtop's scripts probe (malloc tab: malloc; drill-down and live view: all). */
export const C_ENTRY_POINTS = ['malloc', 'calloc', 'realloc', 'reallocarray', 'free', 'posix_memalign', 'aligned_alloc', 'memalign', 'valloc', 'pvalloc'] as const;

/**
 * How many arguments each C entry point takes (the registers a probe past its entry must find
 * still as the caller left them): what a probe may read, whatever a script reads today.
 */
export const ENTRY_ARGUMENTS: Readonly<Record<string, number>> = {
  malloc: 1,
  calloc: 2,
  realloc: 2,
  reallocarray: 3,
  free: 1,
  posix_memalign: 3,
  aligned_alloc: 2,
  memalign: 2,
  valloc: 1,
  pvalloc: 1,
};

/** Go's allocator: every heap allocation of a Go program goes through it (size in AX, Go's register ABI on amd64). */
export const GO_ENTRY = 'runtime.mallocgc';

/**
 * Symbol prefixes under which a statically linked jemalloc is known ("je_" in Redis's own build,
 * "_rjem_" in Rust's jemallocator): only these reach a script, never a prefix read from a file.
 */
export const JEMALLOC_PREFIXES = ['', 'je_', '_rjem_'] as const;

/**
 * The functions whose presence says what an object is, beside the entry points: musl's start
 * code (__init_libc, in every static musl program) before glibc's (musl's mallocng has a
 * __libc_malloc too), glibc's own names, and a C library's start without glibc's is musl's.
 */
const SIGNATURES = ['mallctl', 'tc_malloc', 'mi_malloc', '__libc_malloc', 'gnu_get_libc_version', '__init_libc', '__libc_start_main', GO_ENTRY] as const;

const INTERESTING = new Set<string>([...SIGNATURES, ...JEMALLOC_PREFIXES.flatMap(prefix => [...C_ENTRY_POINTS, 'mallctl'].map(name => `${prefix}${name}`))]);

/** Whether a symbol name is one discovery needs to read (the filter for an ELF reader). */
export function isAllocatorSymbol(name: string): boolean {
  return INTERESTING.has(name);
}

/** An object's allocator: its kind, the prefix of its entry points, and which C entry points it defines. */
export interface AllocatorObject {
  kind: AllocatorKind;
  /** Prefix of its entry points' symbols ("je_" for a prefixed jemalloc; "" otherwise). */
  prefix: string;
  /** The C entry points it defines (unprefixed names); Go's is GO_ENTRY alone. */
  entries: string[];
}

/**
 * The allocator an object is, from the functions it defines, or undefined when it is none (it
 * defines neither malloc, under a known prefix, nor Go's mallocgc).
 */
export function classifyObject(functions: ReadonlySet<string>): AllocatorObject | undefined {
  if (functions.has(GO_ENTRY)) return {kind: 'go', prefix: '', entries: [GO_ENTRY]};
  const entries = (prefix: string) => C_ENTRY_POINTS.filter(name => functions.has(`${prefix}${name}`));
  // A jemalloc that replaces malloc defines it unprefixed; one linked in under a prefix only prefixed.
  for (const prefix of JEMALLOC_PREFIXES) {
    if (functions.has(`${prefix}mallctl`) && functions.has(`${prefix}malloc`)) return {kind: 'jemalloc', prefix, entries: entries(prefix)};
  }
  if (!functions.has('malloc')) return undefined;
  const kind: AllocatorKind = functions.has('tc_malloc')
    ? 'tcmalloc'
    : functions.has('mi_malloc')
      ? 'mimalloc'
      : functions.has('__init_libc')
        ? 'musl'
        : functions.has('__libc_malloc') || functions.has('gnu_get_libc_version')
          ? 'glibc'
          : functions.has('__libc_start_main')
            ? 'musl'
            : 'other';
  return {kind, prefix: '', entries: entries('')};
}

/** Kinds that replace the C library's malloc when a process maps them. */
const REPLACEMENTS: readonly AllocatorKind[] = ['jemalloc', 'tcmalloc', 'mimalloc'];

/**
 * Of a process's mapped objects (the executable first, then its libraries in map order), the
 * index of the one that serves its allocations: the executable when it is Go or defines its own
 * malloc (static, musl, a linked-in jemalloc), else a replacement allocator it loads (jemalloc,
 * tcmalloc, mimalloc), else its C library, else any object defining malloc; -1 when none does.
 */
export function providerIndex(objects: readonly (AllocatorObject | undefined)[]): number {
  if (objects[0]) return 0;
  const replacement = objects.findIndex(object => object !== undefined && REPLACEMENTS.includes(object.kind));
  if (replacement !== -1) return replacement;
  const libc = objects.findIndex(object => object?.kind === 'glibc' || object?.kind === 'musl');
  if (libc !== -1) return libc;
  return objects.findIndex(object => object !== undefined);
}

/** What allocator probes cover, as the status line and batch text say it. */
export interface CoverageText {
  /** "5 allocator files (3 glibc, 1 jemalloc, 1 go)" */
  files: string;
  /** "5 allocator files" */
  short: string;
  /** "1 new file attaching: its calls are not counted yet": kept while it lasts, so no count looks whole that is not. */
  attaching?: string;
  /** "1 attaching" */
  attachingShort?: string;
  /** "2 processes not probed: static-app, weird": never left out, so nothing is silently missing. */
  unprobed?: string;
  /** "2 not probed" */
  unprobedShort?: string;
  /** "free's probe single-steps: a second trap each call (...)" */
  singleSteps?: string;
  /** "free single-steps" */
  singleStepsShort?: string;
  /** In the live view, "live view costs ~12-33 µs an allocation with its free (...)" */
  liveCost?: string;
  /** "~12-33 µs/alloc" */
  liveCostShort?: string;
}

/** A summary of allocator probes in words: the files by kind (in ALLOCATOR_KINDS' order), and the processes not probed, by name. */
export function coverageText(summary: AllocatorSummary): CoverageText {
  const kinds = ALLOCATOR_KINDS.filter(kind => (summary.kinds[kind] ?? 0) > 0).map(kind => `${summary.kinds[kind]} ${kind}`);
  const files = `${summary.files} allocator file${summary.files === 1 ? '' : 's'}`;
  const text: CoverageText = {files: kinds.length > 0 ? `${files} (${kinds.join(', ')})` : files, short: files};
  if (summary.attaching) {
    const one = summary.attaching === 1;
    text.attaching = `${summary.attaching} new file${one ? '' : 's'} attaching: ${one ? 'its' : 'their'} calls are not counted yet`;
    text.attachingShort = `${summary.attaching} attaching`;
  }
  if (summary.unprobed > 0) {
    const names = summary.unprobedNames ?? [];
    // The summary names a few distinct names: a full list may have left some out.
    const more = names.length >= 5 && summary.unprobed > names.length ? ', …' : '';
    text.unprobed = `${summary.unprobed} process${summary.unprobed === 1 ? '' : 'es'} not probed${names.length > 0 ? `: ${names.map(sanitize).join(', ')}${more}` : ''}`;
    text.unprobedShort = `${summary.unprobed} not probed`;
  }
  if (summary.singleSteps && summary.singleSteps.length > 0) {
    const entries = summary.singleSteps.join(' and ');
    // Measured on a quiet 2-vCPU VM (readme, Performance: where a probe sits): ~9 µs a single-stepped hit, ~0.7 µs an emulated one.
    text.singleSteps = `${entries} ${summary.singleSteps.length === 1 ? 'probe single-steps' : 'probes single-step'}: a second trap each call (~9 µs against ~0.7 µs measured; memtop --check says why)`;
    text.singleStepsShort = `${entries} single-step${summary.singleSteps.length === 1 ? 's' : ''}`;
  }
  if (summary.liveCost) {
    const cost = liveCostText(summary.liveCost);
    text.liveCost = cost.text;
    text.liveCostShort = cost.short;
  }
  return text;
}

/** One part of what the allocator probes cover, as the status line lays it out. */
export interface CoverageField {
  text: string;
  /** Its narrow form. */
  short?: string;
  /** Never dropped from a narrow line. */
  keep?: boolean;
}

/**
 * What the allocator probes cover, in the order the status line and batch text say it: the files
 * by kind; new files attaching and the processes not probed, never dropped, so that no count
 * looks whole that is not; the probes that single-step; and in the live view its cost per
 * allocation, kept too, since it is why that view attaches only while on screen.
 */
export function coverageFields(summary: AllocatorSummary): CoverageField[] {
  const coverage = coverageText(summary);
  const fields: CoverageField[] = [{text: coverage.files, short: coverage.short}];
  if (coverage.attaching) fields.push({text: coverage.attaching, short: coverage.attachingShort, keep: true});
  if (coverage.unprobed) fields.push({text: coverage.unprobed, short: coverage.unprobedShort, keep: true});
  if (coverage.singleSteps) fields.push({text: coverage.singleSteps, short: coverage.singleStepsShort});
  if (coverage.liveCost) fields.push({text: coverage.liveCost, short: coverage.liveCostShort, keep: true});
  return fields;
}
