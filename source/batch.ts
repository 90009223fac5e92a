// Batch mode, like top -b: one table (or one JSON object per line) per interval, for pipes
// and scripts; with --stacks, one process's stack view per interval.
import {drillView, hasView, TABS, totalKey, viewOf, type Measure, type ViewDefinition, type ViewId} from './registry.js';
import type {Backend, StackTarget, TracerSnapshot, TracerStackSnapshot} from './types.js';
import {applySnapshot, emptyTabData, hasTotal, valueOf, viewTable, type TableRow} from './model/table.js';
import {columnsFor, defaultSortColumn} from './model/columns.js';
import {selectRows} from './model/select-rows.js';
import {liveSummary, topStacks} from './model/stacks.js';
import {supervise} from './backends/supervise.js';
import {clockTime, fit, humanAge, humanBytes, humanCount, humanMicros, humanMs, sanitize, toFixed} from './format.js';
import type {Options} from './flags.js';
import type {TracerError} from './types.js';
import {ReplayEndError} from './record/replay.js';
import {foldedStacks} from './model/folded.js';
import {matchesCgroup} from './model/cgroup.js';
import {allocatorKindOf} from './system/allocators.js';
import {processName} from './system/processes.js';

export interface BatchIo {
  write: (text: string) => void;
  /** Notes that are not data (a process that exited, a tracer restart). */
  warn: (text: string) => void;
}

/**
 * One row of batch JSON: pid/comm (or cache), each measure of the view this interval, the rate,
 * and each measure since start (count, bytes, rate, totalCount, totalBytes for malloc). In the
 * live view the measures are what is outstanding now (bytes, count, age), the rate is the live
 * bytes' growth per second and totalBytes their peak.
 */
export function rowJson(row: TableRow, view: ViewDefinition): Record<string, unknown> {
  const json: Record<string, unknown> = row.cache !== undefined ? {cache: row.cache} : {pid: row.pid, comm: row.comm ?? ''};
  // A time to the microsecond (its sum over intervals is a float); an age to the millisecond.
  const value = (measure: Measure, key: string) => (measure.unit === 'ms' ? roundMs(valueOf(row, key)) : roundedValue(valueOf(row, key)));
  for (const measure of view.measures) json[measure.id] = value(measure, measure.id);
  json.rate = Math.round(row.rate * 100) / 100;
  for (const measure of view.measures) if (hasTotal(measure)) json[totalKey(measure.id)] = value(measure, totalKey(measure.id));
  return json;
}

/** Milliseconds to the microsecond. */
function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Whole numbers as they are; an age in seconds to the millisecond. */
function roundedValue(value: number): number {
  return Number.isInteger(value) ? value : Math.round(value * 1000) / 1000;
}

function tableText(snapshot: TracerSnapshot, view: ViewId, rows: TableRow[]): string {
  const columns = columnsFor(snapshot.tab, view);
  const header = columns.map(column => fit(column.title, column.width, column.align)).join(' ');
  const lines = rows.map(row => columns.map(column => fit(column.format(row), column.width, column.align)).join(' '));
  const live = snapshot.since !== undefined ? ` · live since ${clockTime(snapshot.since)}${snapshot.untracked ? ` · CAPPED: ${snapshot.untracked} allocations not tracked` : ''}` : '';
  return [`memtop ${TABS[snapshot.tab].title} · ${snapshot.time} · ${snapshot.backend} ${snapshot.probe} · ${toFixed(snapshot.elapsedMs / 1000, 2)}s${live}`, header, ...lines, ''].join('\n') + '\n';
}

function stackText(snapshot: TracerStackSnapshot, comm: string, limit: number, minAge: number): string {
  const view = topStacks(snapshot, limit, minAge);
  const what = snapshot.cache !== undefined ? `kernel paths into cache ${sanitize(snapshot.cache)}` : `${view.live ? 'live stacks' : 'stacks'} of PID ${snapshot.pid} (${sanitize(comm)})`;
  const lines = [`memtop ${what} · ${TABS[snapshot.tab].title} · ${snapshot.time} · ${snapshot.probe}`];
  if (view.live) lines.push(liveSummary(view));
  for (const share of snapshot.processes ?? []) lines.push(`process ${share.pid} ${sanitize(share.comm)} ${humanCount(share.count)} ${humanBytes(share.bytes ?? 0)}`);
  if (snapshot.entryPoints?.length) lines.push('entry points: ' + snapshot.entryPoints.map(entry => `${entry.name} ${entry.count}`).join('  '));
  const latency = TABS[snapshot.tab].stackHistogram === 'latency';
  const edge = (value: number) => (latency ? humanMicros(value) : humanBytes(value));
  for (const bucket of snapshot.histogram ?? []) lines.push(`  [${edge(bucket.min)}, ${edge(bucket.max + 1)}) ${bucket.count}`);
  for (const stack of view.stacks) {
    const where = stack.where ? ` in ${stack.where.map(place => `${sanitize(place.mapping)} ${humanCount(place.count)}`).join(', ')}` : '';
    if (view.live) lines.push(`${humanBytes(stack.bytes ?? 0)} ${humanCount(stack.count)} oldest ${humanAge(stack.age ?? 0)} ${toFixed(stack.share, 1)}%`);
    else lines.push(`${humanCount(stack.count)}${view.hasBytes ? ` ${humanBytes(stack.bytes ?? 0)}` : ''}${view.hasTime ? ` ${humanMs(stack.ms ?? 0)}` : ''} ${toFixed(stack.share, 1)}%${where}`);
    for (const frame of stack.frames) lines.push(`    ${sanitize(frame)}`);
  }
  return lines.join('\n') + '\n\n';
}

/** A drill-down interval as one line of batch JSON. */
export function stacksJson(snapshot: TracerStackSnapshot, target: {pid?: number; comm?: string; cache?: string}, limit: number, minAge: number): Record<string, unknown> {
  const view = topStacks(snapshot, limit, minAge);
  const json: Record<string, unknown> = {
    tab: snapshot.tab,
    ...(snapshot.view ? {view: snapshot.view} : {}),
    backend: snapshot.backend,
    probe: snapshot.probe,
    ...(target.cache !== undefined ? {cache: target.cache} : {pid: target.pid, comm: target.comm}),
    time: snapshot.time,
    intervalMs: Math.round(snapshot.elapsedMs),
  };
  if (view.live) {
    // What is outstanding, of allocations made since `since` and at least `minAge` seconds old; the process's figures are exact.
    Object.assign(json, {since: view.live.since, minAge: view.live.minAge, bytes: view.totalBytes, count: view.totalCount, age: roundedValue(view.live.oldest), untracked: view.live.untracked});
    if (view.live.sampleBytes !== undefined) Object.assign(json, {sampled: true, sampleBytes: view.live.sampleBytes});
    json.stacks = view.stacks.map(stack => ({bytes: stack.bytes ?? 0, count: stack.count, age: roundedValue(stack.age ?? 0), frames: stack.frames}));
  } else {
    json.stacks = view.stacks.map(stack => ({
      count: stack.count,
      ...(view.hasBytes ? {bytes: stack.bytes ?? 0} : {}),
      ...(view.hasTime ? {ms: roundMs(stack.ms ?? 0)} : {}),
      ...(stack.where ? {where: stack.where} : {}),
      frames: stack.frames,
    }));
  }
  if (snapshot.histogram) {
    json.histogram = snapshot.histogram;
    json.histogramUnit = TABS[snapshot.tab].stackHistogram === 'latency' ? 'us' : 'bytes';
  }
  if (snapshot.allocator) json.allocator = snapshot.allocator;
  if (snapshot.entryPoints) json.entryPoints = snapshot.entryPoints;
  if (snapshot.processes) json.processes = snapshot.processes;
  if (snapshot.capped) json.capped = true;
  if (snapshot.skippedLines) json.skippedLines = snapshot.skippedLines;
  if (snapshot.skippedLines && snapshot.skippedSample) json.skippedSample = snapshot.skippedSample;
  return json;
}

/** The end of a replayed recording: batch mode stops there. */
function ended(error: TracerError): boolean {
  return error instanceof ReplayEndError;
}

/**
 * Run batch mode until `iterations` intervals, the signal, or the end of a replayed recording.
 * Rejects with TracerError when the tracer cannot start. `cgroupOf` names a process's cgroup
 * (for --cgroup).
 */
export async function runBatch(
  backend: Backend,
  options: Options,
  io: BatchIo,
  signal: AbortSignal,
  cgroupOf: (pid: number) => string | undefined = () => undefined,
): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  signal.addEventListener('abort', stop, {once: true});
  let printed = 0;
  let fatal: TracerError | undefined;
  const done = () => options.iterations !== undefined && printed >= options.iterations;
  // The process of --pid can exit (bpftrace -p exits with it); a cache does not go away.
  const gone = () => options.pid !== undefined && processName(options.pid) === undefined;
  try {
    if (options.stacks && (options.pid !== undefined || options.cache !== undefined)) {
      const pid = options.pid;
      const target: StackTarget = options.cache !== undefined ? {cache: options.cache} : {pid: pid!};
      let comm = pid !== undefined ? processName(pid) ?? '' : '';
      let last: TracerStackSnapshot | undefined;
      const view = drillView(options.tab, options.view);
      const minAge = options.minAge ?? 0;
      await supervise<TracerStackSnapshot>({
        signal: controller.signal,
        start: inner =>
          backend.startStacks({
            tab: options.tab,
            ...target,
            intervalMs: options.intervalMs,
            signal: inner,
            ...(view && target.pid !== undefined ? {view} : {}),
            ...(options.sampleBytes !== undefined ? {sampleBytes: options.sampleBytes} : {}),
          }),
        giveUp: error => ended(error) || last === undefined || gone(),
        onItem: snapshot => {
          last = snapshot;
          comm = snapshot.comm ?? (pid !== undefined ? processName(pid) : undefined) ?? comm;
          if (options.folded) {
            // Live stacks weigh what is outstanding: bytes, of allocations at least --min-age old.
            io.write(snapshot.live ? foldedStacks(topStacks(snapshot, Number.MAX_SAFE_INTEGER, minAge).stacks, 'bytes') : foldedStacks(snapshot.stacks));
          } else if (options.json) {
            io.write(JSON.stringify(stacksJson(snapshot, options.cache !== undefined ? {cache: options.cache} : {pid, comm}, options.limit, minAge)) + '\n');
          } else {
            io.write(stackText(snapshot, comm, options.limit, minAge));
          }
          printed++;
          if (done()) controller.abort();
        },
        onError: (error, retryInMs) => {
          if (ended(error)) return;
          if (retryInMs === undefined) {
            if (last !== undefined && !options.replay) io.warn(`memtop: process ${pid} has exited; its last stacks are above`);
            else fatal = error;
            return;
          }
          io.warn(`memtop: ${error.message}; restarting in ${Math.round(retryInMs / 1000)}s`);
        },
      });
    } else {
      let data = emptyTabData();
      let got = false;
      const view = viewOf(options.tab, options.view !== undefined && hasView(options.tab, options.view) ? options.view : undefined);
      const columns = columnsFor(options.tab, view.id);
      await supervise<TracerSnapshot>({
        signal: controller.signal,
        start: inner => backend.start({tab: options.tab, pid: options.pid, intervalMs: options.intervalMs, signal: inner, view: view.id}),
        // A table of one process (--pid) ends with it, as a drill-down does.
        giveUp: error => ended(error) || !got || gone(),
        onItem: snapshot => {
          got = true;
          data = applySnapshot(data, snapshot);
          const table = viewTable(data, view.id);
          const candidates = options.cgroup ? [...table.rows.values()].filter(row => row.pid !== undefined && matchesCgroup(cgroupOf(row.pid), options.cgroup!)) : table.rows.values();
          const rows = selectRows(candidates, columns, {
            tab: options.tab,
            view: view.id,
            sortColumn: defaultSortColumn(options.tab, view.id),
            descending: true,
            cumulative: false,
            filter: options.comm ?? '',
            limit: options.limit,
            nameOf: processName,
          });
          if (options.json) {
            const json: Record<string, unknown> = {
              tab: snapshot.tab,
              ...(TABS[options.tab].views.length > 1 ? {view: view.id} : {}),
              backend: snapshot.backend,
              probe: snapshot.probe,
              time: snapshot.time,
              intervalMs: Math.round(snapshot.elapsedMs),
              ...(snapshot.since !== undefined ? {since: snapshot.since, untracked: snapshot.untracked ?? 0} : {}),
              ...(snapshot.allocators ? {allocators: snapshot.allocators} : {}),
              // Where allocator probes count the rows: each process's allocator kind, while it runs.
              rows: rows.map(row => {
                const allocator = snapshot.allocators && row.pid ? allocatorKindOf(row.pid) : undefined;
                return allocator ? {...rowJson(row, view), allocator} : rowJson(row, view);
              }),
            };
            if (snapshot.capped) json.capped = true;
            if (snapshot.skippedLines) json.skippedLines = snapshot.skippedLines;
            if (snapshot.skippedLines && snapshot.skippedSample) json.skippedSample = snapshot.skippedSample;
            io.write(JSON.stringify(json) + '\n');
          } else {
            io.write(tableText(snapshot, view.id, rows));
          }
          printed++;
          if (done()) controller.abort();
        },
        onError: (error, retryInMs) => {
          if (ended(error)) return;
          if (retryInMs === undefined) {
            if (got && gone() && !options.replay) io.warn(`memtop: process ${options.pid} has exited; its last table is above`);
            else fatal = error;
          } else io.warn(`memtop: ${error.message}; restarting in ${Math.round(retryInMs / 1000)}s`);
        },
      });
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
  if (fatal) throw fatal;
}
