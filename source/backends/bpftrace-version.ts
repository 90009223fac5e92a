// Which bpftrace this is, from `bpftrace --version`, and the differences between releases that
// memtop has to know about. Pure.
import type {BpftraceQuirk} from '../registry.js';

/** A bpftrace release: major, minor and patch numbers. */
export interface BpftraceVersion {
  major: number;
  minor: number;
  patch: number;
}

/** The version in `bpftrace --version`'s output ("bpftrace v0.23.2"), or undefined when it names none. */
export function parseBpftraceVersion(text: string): BpftraceVersion | undefined {
  const match = /\bv?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return undefined;
  return {major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? 0)};
}

/** Whether `version` is at least major.minor. */
export function atLeast(version: BpftraceVersion, major: number, minor: number): boolean {
  return version.major > major || (version.major === major && version.minor >= minor);
}

/** "0.23.2" */
export function versionText(version: BpftraceVersion): string {
  return `${version.major}.${version.minor}.${version.patch}`;
}

/**
 * The environment that sets bpftrace's map size: 0.24 renamed BPFTRACE_MAP_KEYS_MAX to
 * BPFTRACE_MAX_MAP_KEYS and ignores the old name, so both are set and each release reads its own.
 */
export function mapKeysEnv(keys: number): Record<string, string> {
  return {BPFTRACE_MAP_KEYS_MAX: String(keys), BPFTRACE_MAX_MAP_KEYS: String(keys)};
}

/**
 * How to compile a script without attaching it: 0.24+ has `--mode codegen`; before that,
 * `--emit-elf FILE` stops after writing the object (0.27 still accepts it, but then runs the script).
 */
export function compileOnlyArgs(version: BpftraceVersion, elfFile: string): string[] {
  return atLeast(version, 0, 24) ? ['--mode', 'codegen'] : ['--emit-elf', elfFile];
}

/**
 * bpftrace 0.23 reads a tracepoint's __data_loc strings (kmem_cache_alloc's cache name) from the
 * wrong place: they come out empty (fixed in 0.24 by bpftrace PR #4238).
 */
export function readsDataLocStrings(version: BpftraceVersion): boolean {
  return !(version.major === 0 && version.minor === 23);
}

/** bpftrace 0.22 and 0.23 escape JSON map keys twice (fixed when 0.24 rewrote its JSON output). */
export function escapesKeysTwice(version: BpftraceVersion): boolean {
  return version.major === 0 && (version.minor === 22 || version.minor === 23);
}

/** Whether a release has a quirk a script in the registry depends on. */
export function hasQuirk(version: BpftraceVersion, quirk: BpftraceQuirk): boolean {
  switch (quirk) {
    case 'dataLocStringsBroken':
      return !readsDataLocStrings(version);
  }
}
