// What memtop -- COMMAND costs the program it runs, against valgrind and heaptrack: each program
// (test/helpers/command-programs.ts) run untraced, under memtop --batch, under valgrind
// --leak-check=summary and under heaptrack, the four interleaved round after round, and the
// medians printed: wall seconds untraced; memtop's own figure is COMMAND's run time after its
// probes are attached (the summary's ranMs), with memtop's wait before COMMAND's first
// instruction (heldMs) beside it; valgrind's and heaptrack's are their whole runs (they have no
// wait apart). Ratios are medians of each round's ratio to that round's untraced run.
//
//   npm run build && node --import tsx test/bench/command-cost.ts [--runs N] [--only python,sort,leak] [--tools memtop,valgrind,heaptrack]
//
// Needs root and bpftrace; valgrind and heaptrack when asked for (Debian packages valgrind,
// heaptrack). Prints a table to stdout, progress to stderr. No figure here is asserted anywhere.
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {parseArgs} from 'node:util';
import {execa} from 'execa';
import {leakProgram, pythonProgram, sortProgram, type CommandProgram} from '../helpers/command-programs.js';
import {MEMTOP_CLI} from './lib/tracers.js';
import {foreignTracers} from './lib/proc.js';
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
  },
});
const runs = Number(values.runs);
const tools = values.tools.split(',').filter((tool): tool is Tool => (TOOLS as readonly string[]).includes(tool));
const log = (text: string) => process.stderr.write(text + '\n');

const directory = mkdtempSync(join(tmpdir(), 'memtop-command-cost-'));
process.on('exit', () => rmSync(directory, {recursive: true, force: true}));

const makers: Record<string, () => CommandProgram | Promise<CommandProgram>> = {python: pythonProgram, sort: () => sortProgram(directory), leak: leakProgram};
const programs = await Promise.all(values.only.split(',').map(async key => makers[key]!()));

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
  const result = await execa(MEMTOP_CLI, ['--batch', '--json', '--output', '/dev/null', '--', ...program.command], {env: program.env, reject: false, timeout: 300_000});
  const last = String(result.stdout).trim().split('\n').at(-1) ?? '';
  const summary = (JSON.parse(last) as {summary: {ranMs: number; heldMs: number}}).summary;
  return {ran: summary.ranMs / 1000, held: summary.heldMs / 1000};
}

interface Figures {
  untraced: number[];
  memtop: number[];
  held: number[];
  valgrind: number[];
  heaptrack: number[];
}

const figures = new Map<string, Figures>(programs.map(program => [program.name, {untraced: [], memtop: [], held: [], valgrind: [], heaptrack: []}]));
const noted = new Set<string>();
for (let round = 1; round <= runs; round++) {
  for (const program of programs) {
    const foreign = foreignTracers();
    if (foreign.length > 0 && !noted.has(foreign.join())) log(`  other tracers running meanwhile (the machine is shared): ${foreign.join(', ')}`);
    noted.add(foreign.join());
    const into = figures.get(program.name)!;
    const [file, ...args] = program.command as [string, ...string[]];
    into.untraced.push(await wall(file, args, program.env));
    if (tools.includes('memtop')) {
      const {ran, held} = await underMemtop(program);
      into.memtop.push(ran);
      into.held.push(held);
    }
    if (tools.includes('valgrind')) into.valgrind.push(await wall('valgrind', ['--leak-check=summary', ...program.command], program.env));
    if (tools.includes('heaptrack')) into.heaptrack.push(await wall('heaptrack', ['-o', join(directory, 'heaptrack'), ...program.command], program.env));
    log(`round ${round}/${runs} ${program.name}: untraced ${fixed(into.untraced.at(-1)!, 3)} s${tools.includes('memtop') ? `, memtop ${fixed(into.memtop.at(-1)!, 3)} s after a wait of ${fixed(into.held.at(-1)!, 2)} s` : ''}${tools.includes('valgrind') ? `, valgrind ${fixed(into.valgrind.at(-1)!, 2)} s` : ''}${tools.includes('heaptrack') ? `, heaptrack ${fixed(into.heaptrack.at(-1)!, 2)} s` : ''}`);
  }
}

const cell = (samples: number[], untraced: number[]) => (samples.length === 0 ? '-' : `${fixed(median(samples), 3)} s (${fixed(medianRatio(samples, untraced), 2)}x)`);
const rows = programs.map(program => {
  const of = figures.get(program.name)!;
  return [program.name, `${fixed(median(of.untraced), 3)} s`, cell(of.memtop, of.untraced), of.held.length === 0 ? '-' : `${fixed(median(of.held), 2)} s (${spread(of.held)})`, cell(of.valgrind, of.untraced), cell(of.heaptrack, of.untraced)];
});
const python = programs.find(program => program.command[0] === '/usr/bin/python3');
const notes = [`medians of ${runs} interleaved rounds; memtop: COMMAND's run time after its probes are attached; valgrind, heaptrack: whole runs`];
if (python && tools.includes('memtop')) {
  const of = figures.get(python.name)!;
  const ratio = medianRatio(of.memtop, of.untraced);
  notes.push(`target: python3 under memtop at most ${TARGET}x untraced: ${fixed(ratio, 2)}x, ${ratio <= TARGET ? 'met' : 'NOT met'}`);
}
process.stdout.write(table(`memtop -- COMMAND's cost (bpftrace ${await bpftraceVersion()})`, ['program', 'untraced', 'memtop', 'memtop wait', 'valgrind', 'heaptrack'], rows, notes));

async function bpftraceVersion(): Promise<string> {
  const result = await execa('bpftrace', ['--version'], {reject: false});
  return String(result.stdout).replace(/^bpftrace\s+v?/, '').trim();
}
