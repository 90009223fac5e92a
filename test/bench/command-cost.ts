// What memtop -- COMMAND costs the program it runs, against valgrind and heaptrack: each program
// (test/helpers/command-programs.ts) run untraced, under memtop --batch, under valgrind
// --leak-check=summary and under heaptrack, the four interleaved round after round, and the
// medians printed: wall seconds untraced; memtop's own figure is COMMAND's run time after its
// probes are attached (the summary's ranMs), with memtop's wait before COMMAND's first
// instruction (heldMs) beside it; valgrind's and heaptrack's are their whole runs (they have no
// wait apart). Ratios are medians of each round's ratio to that round's untraced run. Beside the
// wall times, COMMAND's CPU seconds (user + system, from GNU time, which wraps COMMAND in every
// variant): the probes' cost is paid in COMMAND's own system time, and CPU seconds move less than
// wall seconds when other work on the machine makes COMMAND wait for a CPU.
//
//   npm run build && node --import tsx test/bench/command-cost.ts [--runs N] [--only python,sort,leak,shell] [--tools memtop,valgrind,heaptrack] [--quiet-wait S] [--memtop CLI]
//
// --memtop runs another build's cli.js (main's, to compare).
//
// Needs root and bpftrace; valgrind and heaptrack when asked for (Debian packages valgrind,
// heaptrack). Prints a table to stdout, progress to stderr. No figure here is asserted anywhere.
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {parseArgs} from 'node:util';
import {execa} from 'execa';
import {leakProgram, pythonProgram, shellProgram, sortProgram, type CommandProgram} from '../helpers/command-programs.js';
import {MEMTOP_CLI, useMemtop} from './lib/tracers.js';
import {foreignTracers} from './lib/proc.js';
import {waitForQuiet} from './lib/quiet.js';
import {fixed, median, medianRatio, spread, table} from './lib/stats.js';

const TOOLS = ['memtop', 'valgrind', 'heaptrack'] as const;
type Tool = (typeof TOOLS)[number];
/** The issue's target: python3 under memtop at most this many times its untraced run time. */
const TARGET = 1.2;

const {values} = parseArgs({
  options: {
    runs: {type: 'string', default: '7'},
    only: {type: 'string', default: 'python,sort,leak'},
    tools: {type: 'string', default: TOOLS.join(',')},
    'quiet-wait': {type: 'string', default: '30'},
    memtop: {type: 'string'},
  },
});
if (values.memtop) useMemtop(values.memtop);
const runs = Number(values.runs);
const quietWaitMs = Number(values['quiet-wait']) * 1000;
const tools = values.tools.split(',').filter((tool): tool is Tool => (TOOLS as readonly string[]).includes(tool));
const log = (text: string) => process.stderr.write(text + '\n');

const directory = mkdtempSync(join(tmpdir(), 'memtop-command-cost-'));
process.on('exit', () => rmSync(directory, {recursive: true, force: true}));

const makers: Record<string, () => CommandProgram | Promise<CommandProgram>> = {python: pythonProgram, sort: () => sortProgram(directory), leak: leakProgram, shell: shellProgram};
const programs = await Promise.all(values.only.split(',').map(async key => makers[key]!()));

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const timeFile = join(directory, 'time');

/** COMMAND wrapped in GNU time (when there is one), which writes its CPU seconds to timeFile. */
function timed(command: readonly string[]): string[] {
  return TIME ? [TIME, '-f', '%U %S', '-o', timeFile, ...command] : [...command];
}

/** The CPU seconds (user + system) GNU time wrote for the last run, NaN without it. */
function cpu(): number {
  if (!TIME) return Number.NaN;
  const [user, system] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return user! + system!;
}

/**
 * Wall seconds of one run of `file args`, its output dropped; NaN (left out of the medians, and
 * said) when it fails: valgrind dies of SIGTRAP when it meets a uprobe another tracer placed in
 * libc (a breakpoint in the code it translates).
 */
async function wall(file: string, args: string[], env: Record<string, string>): Promise<number> {
  const start = performance.now();
  const result = await execa(file, args, {env, stdout: 'ignore', stderr: 'pipe', reject: false, timeout: 300_000});
  const seconds = (performance.now() - start) / 1000;
  if (result.exitCode === 0) return seconds;
  const why = /Process terminating with default action of signal \d+ \((\w+)\)/.exec(String(result.stderr))?.[1] ?? result.signal ?? `exit ${result.exitCode}`;
  log(`  ${file} ${args.join(' ')} failed (${why}): left out`);
  return Number.NaN;
}

/** memtop --batch --json -- COMMAND: COMMAND's run time and memtop's wait before it, in seconds. */
async function underMemtop(program: CommandProgram): Promise<{ran: number; held: number}> {
  const result = await execa(MEMTOP_CLI, ['--batch', '--json', '--output', '/dev/null', '--', ...timed(program.command)], {env: program.env, reject: false, timeout: 300_000});
  const last = String(result.stdout).trim().split('\n').at(-1) ?? '';
  try {
    const summary = (JSON.parse(last) as {summary: {ranMs: number; heldMs: number}}).summary;
    return {ran: summary.ranMs / 1000, held: summary.heldMs / 1000};
  } catch {
    log(`  memtop -- ${program.name} printed no summary (exit ${result.exitCode}): ${String(result.stderr).trim().split('\n').at(-1)}: left out`);
    return {ran: Number.NaN, held: Number.NaN};
  }
}

interface Figures {
  untraced: number[];
  untracedCpu: number[];
  memtop: number[];
  memtopCpu: number[];
  held: number[];
  valgrind: number[];
  heaptrack: number[];
  /** Per round: no other tracer ran before or after it. */
  clean: boolean[];
}

const figures = new Map<string, Figures>(programs.map(program => [program.name, {untraced: [], untracedCpu: [], memtop: [], memtopCpu: [], held: [], valgrind: [], heaptrack: [], clean: []}]));
for (let round = 1; round <= runs; round++) {
  for (const program of programs) {
    // Another memtop or bpftrace on the machine with a malloc uprobe in every process slows the
    // untraced run too (and kills valgrind's): wait a while for quiet, and mark the rounds it was there for.
    const before = await waitForQuiet(quietWaitMs, log);
    const into = figures.get(program.name)!;
    const [file, ...args] = timed(program.command) as [string, ...string[]];
    into.untraced.push(await wall(file, args, program.env));
    into.untracedCpu.push(cpu());
    if (tools.includes('memtop')) {
      const {ran, held} = await underMemtop(program);
      into.memtop.push(ran);
      into.memtopCpu.push(cpu());
      into.held.push(held);
    }
    if (tools.includes('valgrind')) into.valgrind.push(await wall('valgrind', ['--leak-check=summary', ...program.command], program.env));
    if (tools.includes('heaptrack')) into.heaptrack.push(await wall('heaptrack', ['-o', join(directory, 'heaptrack'), ...program.command], program.env));
    into.clean.push(before.length === 0 && foreignTracers().length === 0);
    log(`round ${round}/${runs} ${program.name}${into.clean.at(-1) ? '' : ' (other tracers ran)'}: untraced ${fixed(into.untraced.at(-1)!, 3)} s (cpu ${fixed(into.untracedCpu.at(-1)!, 2)} s)${tools.includes('memtop') ? `, memtop ${fixed(into.memtop.at(-1)!, 3)} s (cpu ${fixed(into.memtopCpu.at(-1)!, 2)} s) after a wait of ${fixed(into.held.at(-1)!, 2)} s` : ''}${tools.includes('valgrind') ? `, valgrind ${fixed(into.valgrind.at(-1)!, 2)} s` : ''}${tools.includes('heaptrack') ? `, heaptrack ${fixed(into.heaptrack.at(-1)!, 2)} s` : ''}`);
  }
}

/** The rounds the medians are of: those no other tracer ran in, when there are 3 or more; else every one. */
function chosen(of: Figures): {of: Figures; rounds: string} {
  const clean = of.clean.flatMap((isClean, index) => (isClean ? [index] : []));
  if (clean.length < 3) return {of, rounds: `${of.clean.length} rounds, ${clean.length} without other tracers`};
  const pick = (values: number[]) => clean.map(index => values[index]!).filter(value => value !== undefined);
  return {of: {untraced: pick(of.untraced), untracedCpu: pick(of.untracedCpu), memtop: pick(of.memtop), memtopCpu: pick(of.memtopCpu), held: pick(of.held), valgrind: pick(of.valgrind), heaptrack: pick(of.heaptrack), clean: clean.map(() => true)}, rounds: `${clean.length} rounds without other tracers`};
}

const cell = (samples: number[], untraced: number[]) => (samples.length === 0 ? '-' : `${fixed(median(samples), 3)} s (${fixed(medianRatio(samples, untraced), 2)}x)`);
const rows = programs.map(program => {
  const {of, rounds} = chosen(figures.get(program.name)!);
  return [program.name, rounds, `${fixed(median(of.untraced), 3)} s`, `${fixed(median(of.untracedCpu), 2)} s`, cell(of.memtop, of.untraced), of.memtopCpu.length === 0 ? '-' : `${fixed(median(of.memtopCpu), 2)} s`, of.held.length === 0 ? '-' : `${fixed(median(of.held), 2)} s (${spread(of.held)})`, cell(of.valgrind, of.untraced), cell(of.heaptrack, of.untraced)];
});
const python = programs.find(program => program.command[0] === '/usr/bin/python3');
const notes = [`${runs} interleaved rounds; memtop: COMMAND's run time after its probes are attached; valgrind, heaptrack: whole runs; cpu: COMMAND's user + system seconds (GNU time, 10 ms steps)`];
if (python && tools.includes('memtop')) {
  const {of} = chosen(figures.get(python.name)!);
  const ratio = medianRatio(of.memtop, of.untraced);
  notes.push(`target: python3 under memtop at most ${TARGET}x untraced: ${fixed(ratio, 2)}x wall, ${ratio <= TARGET ? 'met' : 'NOT met'}; cpu ${fixed(median(of.memtopCpu), 2)} s against ${fixed(median(of.untracedCpu), 2)} s`);
}
process.stdout.write(table(`memtop -- COMMAND's cost (bpftrace ${await bpftraceVersion()})`, ['program', 'medians of', 'untraced', 'its cpu', 'memtop', 'its cpu', 'memtop wait', 'valgrind', 'heaptrack'], rows, notes));

async function bpftraceVersion(): Promise<string> {
  const result = await execa('bpftrace', ['--version'], {reject: false});
  return String(result.stdout).replace(/^bpftrace\s+v?/, '').trim();
}
