// What a running memtop has started: its tracer processes (found below it in the process tree),
// their command lines and environments, and the memtop process inside a tmux pane.
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {descendantPids, isRunning} from './child-lines.js';
import type {Terminal} from './tmux.js';

/** A process's argv from /proc/<pid>/cmdline ([] once it has gone). */
export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** A process's environment from /proc/<pid>/environ, as NAME=value strings ([] once it has gone). */
export function environ(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** One tracer memtop runs: its pid, argv, and the probe script among its arguments. */
export interface TracerProcess {
  pid: number;
  argv: string[];
  script: string;
}

/** memtop's live tracers: descendants of `pid` whose argv holds one of its probe scripts. */
export function tracersOf(pid: number): TracerProcess[] {
  return descendantPids(pid)
    .filter(isRunning)
    .map(child => {
      const argv = cmdline(child);
      return {pid: child, argv, script: argv.find(arg => arg.includes('/probes/bpftrace/')) ?? ''};
    })
    .filter(tracer => tracer.script !== '');
}

/** One bpftrace memtop runs and the probe scripts in it (file names: one, or every script of a merged program). */
export interface Bpftrace {
  pid: number;
  scripts: string[];
}

/**
 * The probe scripts a bpftrace's argv runs: a script file's name; for a program given with -e, the
 * scripts its first line names (a merged program: `// memtop: /…/probes/bpftrace/brk.bt …`) or
 * the one its generated header says it is made from (malloc's, put on each allocator file).
 */
export function scriptsOf(argv: readonly string[]): string[] {
  const program = argv[argv.indexOf('-e') + 1];
  if (argv.includes('-e') && program !== undefined) {
    const firstLine = program.split('\n', 1)[0]!;
    const merged = firstLine.startsWith('// memtop: ') ? [...firstLine.matchAll(/\/probes\/bpftrace\/([\w.-]+\.bt)/g)].map(match => match[1]!) : [];
    if (merged.length > 0) return merged;
    const made = /from probes\/src\/bpftrace\/([\w.-]+\.bt)/.exec(program);
    return made ? [made[1]!] : ['(program)'];
  }
  const file = argv.find(arg => arg.includes('/probes/bpftrace/'));
  return file ? [path.basename(file)] : [];
}

/** Every bpftrace below `pid` in the process tree (however it runs its program), with the scripts it runs. */
export function bpftracesOf(pid: number): Bpftrace[] {
  return descendantPids(pid)
    .filter(isRunning)
    .map(child => ({pid: child, argv: cmdline(child)}))
    .filter(({argv}) => path.basename(argv[0] ?? '') === 'bpftrace')
    .map(({pid: child, argv}) => ({pid: child, scripts: scriptsOf(argv)}));
}

/**
 * Whether a process is memtop itself: node running dist/cli.js, or retitled "memtop" (meow sets
 * its title), and not a wrapper such as env or setsid that has cli.js among its arguments.
 */
export function isMemtop(pid: number): boolean {
  const args = cmdline(pid);
  if (args[0] === 'memtop') return true;
  return /^node(?:js)?(?:\d+)?$/.test(path.basename(args[0] ?? '')) && args.some(arg => arg.endsWith('dist/cli.js'));
}

/** The memtop node process in a tmux pane (the pane's process or a descendant, e.g. under env or sh). */
export function memtopIn(terminal: Terminal): number {
  const pane = terminal.panePid();
  if (isMemtop(pane)) return pane;
  const found = descendantPids(pane).find(isMemtop);
  assert.ok(found, `memtop runs in the pane (pane ${pane}: ${cmdline(pane).join(' ')})`);
  return found;
}
