// Section 4: what one big interval costs memtop's Node process: parsing bpftrace's JSON,
// reducing it into the table (applySnapshot), sorting and cutting it (selectRows), and the whole
// TUI path (App with ink-testing-library, from the tracer's snapshot to the frame written), for
// 10,000 distinct processes and for a stack view of 1,000 distinct stacks. Each is also timed
// at a hundredth of the size in the same run, to show how it scales.
import React from 'react';
import {performance} from 'node:perf_hooks';
import {render} from 'ink-testing-library';
import {App} from '../../source/app.js';
import {BpftraceJsonParser} from '../../source/parse/bpftrace-json.js';
import {applySnapshot, emptyTabData, viewTable} from '../../source/model/table.js';
import {stackRows, tabRows} from '../helpers/bpftrace-rows.js';
import {columnsFor} from '../../source/model/columns.js';
import {selectRows} from '../../source/model/select-rows.js';
import {topStacks} from '../../source/model/stacks.js';
import type {Backend, RawRow, StackRow, TracerSnapshot, TracerStackSnapshot} from '../../source/types.js';
import {fixed, median, table} from './lib/stats.js';

/** A small deterministic generator (mulberry32), so every run sees the same data. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One malloc interval with `processes` distinct processes: as bpftrace -f json prints malloc.bt's
 * stats map (keyed by pid) and the names of processes that exited (a tenth of them here), and
 * as the rows memtop makes of them.
 */
function processData(processes: number, seed: number): {lines: string[]; rows: RawRow[]} {
  const next = random(seed);
  const calls: Record<string, {count: number; average: number; total: number}> = {};
  const names: Record<string, string> = {};
  const rows: RawRow[] = [];
  for (let index = 0; index < processes; index++) {
    const pid = 1000 + index;
    const count = 1 + Math.floor(next() * 100_000);
    const average = 16 + Math.floor(next() * 4000);
    calls[pid] = {count, average, total: count * average};
    if (index % 10 === 0) names[pid] = `proc-${index.toString(36)}`;
    rows.push({pid, comm: `proc-${index.toString(36)}`, count, bytes: count * average});
  }
  const lines = [
    JSON.stringify({type: 'stats', data: {'@calls_a': calls}}),
    JSON.stringify({type: 'map', data: {'@names_a': names}}),
    JSON.stringify({type: 'printf', data: `memtop-end ${123456789 + seed}\n`}),
  ];
  return {lines, rows};
}

/** One malloc drill-down interval with `stacks` distinct stacks: as bpftrace prints it, and as stack rows. */
function stackData(stacks: number, seed: number): {lines: string[]; stacks: StackRow[]} {
  const next = random(seed);
  const counts: Record<string, {count: number; average: number; total: number}> = {};
  const rows: StackRow[] = [];
  for (let index = 0; index < stacks; index++) {
    const depth = 8 + Math.floor(next() * 16);
    const frames = ['malloc+0'];
    for (let frame = 1; frame < depth; frame++) frames.push(`fn_${index % 97}_${frame}_${Math.floor(next() * 1e6).toString(36)}+${Math.floor(next() * 400)}`);
    frames.push('main+42', '__libc_start_call_main+122');
    const key = `\n${frames.map(frame => `        ${frame}`).join('\n')}\n,caller_${index}`;
    const count = 1 + Math.floor(next() * 10_000);
    counts[key] = {count, average: 64, total: count * 64};
    const names = frames.map(frame => frame.replace(/\+\d+$/, ''));
    rows.push({count, bytes: count * 64, frames: [names[0]!, `caller_${index}`, ...names.slice(1)]});
  }
  const lines = [
    JSON.stringify({type: 'stats', data: {'@stacks_a': counts}}),
    JSON.stringify({type: 'printf', data: `memtop-end ${987654321 + seed}\n`}),
  ];
  return {lines, stacks: rows};
}

function parseInterval(lines: string[]) {
  const parser = new BpftraceJsonParser();
  let done;
  for (const line of lines) done = parser.feed(line) ?? done;
  return done!;
}

/** Parse an interval as memtop does; how many rows it made of it. */
function parseRows(lines: string[]): number {
  return tabRows('malloc', parseInterval(lines).maps).rows.length;
}

function parseStacks(lines: string[]): number {
  return stackRows('malloc', parseInterval(lines).maps).length;
}

function snapshotOf(rows: RawRow[]): TracerSnapshot {
  return {tab: 'malloc', backend: 'bpftrace', probe: 'bench', time: new Date(0).toISOString(), elapsedMs: 1000, rows, capped: false, skippedLines: 0};
}

function stackSnapshotOf(stacks: StackRow[], pid: number): TracerStackSnapshot {
  return {tab: 'malloc', backend: 'bpftrace', probe: 'bench', pid, time: new Date(0).toISOString(), elapsedMs: 1000, stacks};
}

/** Time a parse, or NaN when this memtop's parser made nothing of the map format generated here. */
function timeParse(runs: number, parse: () => number, expected: number): number {
  return parse() === expected ? timeIt(runs, 2, () => void parse()) : Number.NaN;
}

/** Median ms of `runs` timed calls after `warmUp` untimed ones. */
function timeIt(runs: number, warmUp: number, body: () => void): number {
  for (let index = 0; index < warmUp; index++) body();
  const times: number[] = [];
  for (let index = 0; index < runs; index++) {
    const start = performance.now();
    body();
    times.push(performance.now() - start);
  }
  return median(times);
}

/**
 * A backend that yields `table` (or, in the drill-down, `stacks`) every `everyMs`, and notes
 * when it yielded, so that the frame that follows can be timed.
 */
function benchBackend(table: () => TracerSnapshot, stacks: () => TracerStackSnapshot, everyMs: number, yielded: number[]): Backend {
  const wait = (ms: number, signal: AbortSignal) =>
    new Promise<void>(resolve => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, {once: true});
    });
  return {
    id: 'bpftrace',
    available: async () => ({ok: true}),
    probeFor: async () => 'bench',
    async *start({signal}) {
      while (!signal.aborted) {
        await wait(everyMs, signal);
        if (signal.aborted) return;
        const snapshot = table();
        yielded.push(performance.now());
        yield snapshot;
      }
    },
    async *startStacks({signal}) {
      while (!signal.aborted) {
        await wait(everyMs, signal);
        if (signal.aborted) return;
        const snapshot = stacks();
        yielded.push(performance.now());
        yield snapshot;
      }
    },
  };
}

/**
 * Time the App from each snapshot's yield to the first frame written after it: `runs` frames
 * (after two warm-up ones), of the table, then of the drill-down.
 */
async function timeApp(table: TracerSnapshot, stacks: TracerStackSnapshot, runs: number): Promise<{tableMs: number; stackMs: number; tableCpuMs: number; stackCpuMs: number}> {
  const yielded: number[] = [];
  const writes: number[] = [];
  const backend = benchBackend(() => ({...table, time: new Date().toISOString()}), () => ({...stacks, time: new Date().toISOString()}), 150, yielded);
  const instance = render(<App backend={backend} tab="malloc" intervalMs={1000} size={{columns: 120, rows: 40}} />);
  const write = instance.stdout.write;
  instance.stdout.write = (frame: string) => {
    writes.push(performance.now());
    write(frame);
  };
  const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
  /** Skip `warmUp` snapshots, then time `count`: latency of each, and CPU per snapshot over them all. */
  const collect = async (warmUp: number, count: number): Promise<{latency: number; cpu: number}> => {
    const start = yielded.length + warmUp;
    while (yielded.length < start) await sleep(5);
    const cpuBefore = process.cpuUsage();
    while (yielded.length < start + count + 1) await sleep(5);
    const cpu = process.cpuUsage(cpuBefore);
    await sleep(50);
    const latencies = yielded.slice(start, start + count).map(at => (writes.find(written => written >= at) ?? Number.NaN) - at);
    return {latency: median(latencies), cpu: (cpu.user + cpu.system) / 1000 / count};
  };
  try {
    const tableTimes = await collect(3, runs);
    instance.stdin.write('\r');
    while (!(instance.lastFrame() ?? '').includes('STACK (innermost first)')) await sleep(5);
    const stackTimes = await collect(3, runs);
    return {tableMs: tableTimes.latency, stackMs: stackTimes.latency, tableCpuMs: tableTimes.cpu, stackCpuMs: stackTimes.cpu};
  } finally {
    instance.unmount();
  }
}

export interface RenderStep {
  what: string;
  fullMs: number;
  smallMs: number;
  fullSize: number;
  smallSize: number;
}

export async function measureRender(options: {runs: number; processes: number; stacks: number; log: (text: string) => void}): Promise<RenderStep[]> {
  const runs = Math.max(3, options.runs);
  const steps: RenderStep[] = [];
  const sizes = {processes: [options.processes, Math.max(1, Math.round(options.processes / 100))], stacks: [options.stacks, Math.max(1, Math.round(options.stacks / 100))]};
  const columns = columnsFor('malloc', 'process');
  const query = {tab: 'malloc' as const, view: 'process' as const, sortColumn: 'count', descending: true, cumulative: false, filter: '', limit: 10};
  const results = new Map<string, number[]>();
  const note = (what: string, ms: number) => results.set(what, [...(results.get(what) ?? []), ms]);

  for (const processes of sizes.processes) {
    options.log(`render: ${processes} processes`);
    const dataA = processData(processes, 1);
    const dataB = processData(processes, 2);
    note('parse bpftrace JSON into rows (BpftraceJsonParser + viewRows)', timeParse(runs, () => parseRows(dataA.lines), processes));
    const snapshotA = snapshotOf(dataA.rows);
    const snapshotB = snapshotOf(dataB.rows);
    note('applySnapshot, first interval (empty table)', timeIt(runs, 2, () => void applySnapshot(emptyTabData(), snapshotA)));
    const steady = applySnapshot(emptyTabData(), snapshotA);
    note('applySnapshot, next interval (same processes)', timeIt(runs, 2, () => void applySnapshot(steady, snapshotB)));
    const applied = applySnapshot(steady, snapshotB);
    note('selectRows: filter, sort by calls, top 10', timeIt(runs, 2, () => void selectRows(viewTable(applied, 'process').rows.values(), columns, query)));
  }
  for (const stacks of sizes.stacks) {
    options.log(`render: ${stacks} stacks`);
    const data = stackData(stacks, 3);
    note('parse drill-down JSON into stacks (parser + stackRows)', timeParse(runs, () => parseStacks(data.lines), stacks));
    const snapshot = stackSnapshotOf(data.stacks, 4242);
    note('topStacks: sort stacks, top 10, shares', timeIt(runs, 2, () => void topStacks(snapshot, 10)));
  }
  for (let index = 0; index < 2; index++) {
    const processes = sizes.processes[index]!;
    const stacks = sizes.stacks[index]!;
    options.log(`render: App with ${processes} processes, then ${stacks} stacks`);
    const table = snapshotOf(processData(processes, 5).rows);
    const stackSnapshot = stackSnapshotOf(stackData(stacks, 6).stacks, table.rows[0]!.pid!);
    const {tableMs, stackMs, tableCpuMs, stackCpuMs} = await timeApp(table, stackSnapshot, runs);
    note('App: snapshot → frame written (applySnapshot, selectRows, React, Ink)', tableMs);
    note('App: CPU per snapshot (same frames)', tableCpuMs);
    note('App drill-down: stack snapshot → frame written', stackMs);
    note('App drill-down: CPU per stack snapshot (same frames)', stackCpuMs);
  }
  for (const [what, [fullMs, smallMs]] of results) {
    const isStacks = /stack/i.test(what);
    steps.push({what, fullMs: fullMs!, smallMs: smallMs!, fullSize: isStacks ? sizes.stacks[0]! : sizes.processes[0]!, smallSize: isStacks ? sizes.stacks[1]! : sizes.processes[1]!});
  }
  return steps;
}

export function renderTable(steps: RenderStep[], runs: number): string {
  return table(
    `4. Render cost of one interval: median of ${Math.max(3, runs)} runs, ms`,
    ['step', 'size', 'ms', '% of 1 s', 'size/100', 'ms', 'ratio'],
    steps.map(step => [
      step.what,
      String(step.fullSize),
      fixed(step.fullMs, 2),
      fixed(step.fullMs / 10, 2),
      String(step.smallSize),
      fixed(step.smallMs, 3),
      `${fixed(step.fullMs / step.smallMs, 0)}×`,
    ]),
    [
      'sizes: distinct processes (malloc tab, calls and bytes) or distinct stacks (malloc drill-down, 10 to 25 frames each); ratio: full size / a hundredth of it, same run.',
      'App rows: ink-testing-library (debug mode: no 30 fps throttle), 120x40, from the backend yielding a snapshot to Ink writing the frame;',
      `CPU per snapshot: this process's user+system CPU over the timed frames / frames (snapshots every 150 ms). NODE_ENV=${process.env.NODE_ENV ?? '(unset: React development build; the memtop command sets production)'}.`,
    ],
  );
}
