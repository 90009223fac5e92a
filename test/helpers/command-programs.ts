// The real programs memtop -- COMMAND is checked against valgrind with, and timed against valgrind
// and heaptrack in test/bench/command-cost.ts: python3 on a fixed script, sort -n on a file of
// numbers, and wl_exit_leaks, which leaks 12 blocks of 5000 bytes from wl_keep_at_exit.
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {buildWorkload} from './workloads.js';

/** The script python3 runs: builds a dict of 40,000 entries and dumps it as JSON. */
export const PYTHON_SCRIPT = fileURLToPath(new URL('../fixtures/programs/dump.py', import.meta.url));

/** One program: its command line and the environment it runs with. */
export interface CommandProgram {
  name: string;
  command: string[];
  env: Record<string, string>;
}

/** python3 on the fixed script, its hashes fixed (PYTHONHASHSEED=0) so that each run allocates alike. */
export function pythonProgram(): CommandProgram {
  return {name: 'python3 dump.py', command: ['/usr/bin/python3', PYTHON_SCRIPT], env: {PYTHONHASHSEED: '0'}};
}

/** A shell starting 60 short processes one after another (each `ls /`): what a COMMAND that starts many costs each one. */
export function shellProgram(): CommandProgram {
  return {name: 'sh, 60 ls', command: ['/bin/sh', '-c', 'for i in $(seq 60); do ls / >/dev/null; done'], env: {}};
}

/** sort -n on 50,000 numbers, written to a file in `directory`. */
export function sortProgram(directory: string): CommandProgram {
  const numbers = join(directory, 'numbers.txt');
  writeFileSync(numbers, Array.from({length: 50_000}, (_, index) => String((index * 7919) % 100_003)).join('\n') + '\n');
  return {name: 'sort -n, 50,000 numbers', command: ['sort', '-n', numbers], env: {}};
}

/** wl_exit_leaks: 2000 rounds of allocations freed, then 12 blocks of 5000 bytes kept at exit. */
export async function leakProgram(): Promise<CommandProgram> {
  return {name: 'wl_exit_leaks 2000 12 5000', command: [await buildWorkload('wl_exit_leaks'), '2000', '12', '5000'], env: {}};
}
