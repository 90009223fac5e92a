// A stand-in `bpftrace` put first on PATH to inject tracer faults into a real memtop: it fails
// one probe script with a given stderr, or prints lines memtop cannot parse before running the
// real program, and otherwise execs the real bpftrace (so --version and the trial run work).
import {chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The installed bpftrace the stand-in hands real work to. */
export function realBpftrace(): string {
  const found = ['/usr/bin/bpftrace', '/usr/local/bin/bpftrace', '/usr/sbin/bpftrace'].find(file => existsSync(file));
  if (!found) throw new Error('no bpftrace installed');
  return found;
}

/** What the stand-in does differently from the real bpftrace. */
export interface FakeBpftraceOptions {
  /** When an argument ends in `/<script>`, print `stderr` and exit with `exitCode` (default 1). */
  fail?: {script: string; stderr: string; exitCode?: number};
  /** For every probe script (an argument ending in .bt): print this to stdout first. */
  stdoutBefore?: string;
}

/** A stand-in on disk. */
export interface FakeBpftrace {
  /** The directory holding `bpftrace`: put it first on PATH. */
  dir: string;
  /** PATH with `dir` first. */
  pathEnv: string;
  remove(): void;
}

/** Write the stand-in into a new temporary directory. */
export function makeFakeBpftrace(options: FakeBpftraceOptions): FakeBpftrace {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'memtop-fake-bpftrace-'));
  const lines = ['#!/bin/sh', '# memtop test stand-in for bpftrace (see test/helpers/fake-bpftrace.ts)'];
  if (options.fail) {
    if (!/^[\w.-]+$/.test(options.fail.script)) throw new Error(`bad script name ${options.fail.script}`);
    writeFileSync(path.join(dir, 'fail-stderr'), options.fail.stderr);
    lines.push(
      'for arg in "$@"; do',
      `  case "$arg" in */${options.fail.script}) cat "${dir}/fail-stderr" >&2; exit ${options.fail.exitCode ?? 1};; esac`,
      'done',
    );
  }
  if (options.stdoutBefore !== undefined) {
    writeFileSync(path.join(dir, 'stdout-before'), options.stdoutBefore);
    lines.push('for arg in "$@"; do', `  case "$arg" in *.bt) cat "${dir}/stdout-before"; break;; esac`, 'done');
  }
  lines.push(`exec ${realBpftrace()} "$@"`, '');
  const file = path.join(dir, 'bpftrace');
  writeFileSync(file, lines.join('\n'));
  chmodSync(file, 0o755);
  return {
    dir,
    pathEnv: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    remove: () => rmSync(dir, {recursive: true, force: true}),
  };
}
