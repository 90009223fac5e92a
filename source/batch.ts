// Batch mode, like top -b: one table (or one JSON object per line) per interval, for pipes
// and scripts; with --stacks, one process's stack view per interval. This file runs the tracer
// under the one following policy (backends/supervise.ts); model/batch-output.ts says what is printed.
import {drillView, hasView, profileTypes, viewOf} from './registry.js';
import type {Backend, StackTarget, TracerSnapshot, TracerStackSnapshot} from './types.js';
import {applySnapshot, emptyTabData, viewTable} from './model/table.js';
import {columnsFor, defaultSortColumn} from './model/columns.js';
import {selectRows} from './model/select-rows.js';
import {stacksFolded, stacksJson, stackText, tableJson, tableText} from './model/batch-output.js';
import {exitedText, follow, restartText, type FollowEnd} from './backends/supervise.js';
import type {Options} from './flags.js';
import {TracerError} from './types.js';
import {matchesCgroup} from './model/cgroup.js';
import {processName, shownName} from './system/process-names.js';
import {DrillProfile, encodeProfile} from './model/pprof.js';
import {drillBinaries} from './system/binaries.js';
import {writeProfileFile} from './system/pprof-file.js';
import {allocatorKindOf} from './system/allocators.js';

export interface BatchIo {
  write: (text: string) => void;
  /** Notes that are not data (a process that exited, a tracer restart). */
  warn: (text: string) => void;
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
  const done = () => options.iterations !== undefined && printed >= options.iterations;
  const print = (text: string) => {
    io.write(text);
    printed++;
    if (done()) controller.abort();
  };
  const onRetry = (error: TracerError, retryInMs: number) => io.warn(`memtop: ${restartText(error, retryInMs)}`);
  // The process of --pid can exit (bpftrace -p exits with it); a cache does not go away.
  const followed = {signal: controller.signal, onRetry, failFast: true, ...(options.pid !== undefined ? {pid: options.pid} : {})};
  let end: FollowEnd | undefined;
  let fatal: TracerError | undefined;
  let what: string;
  try {
    if (options.stacks && (options.pid !== undefined || options.cache !== undefined)) {
      const pid = options.pid;
      const target: StackTarget = options.cache !== undefined ? {cache: options.cache} : {pid: pid!};
      let comm = pid !== undefined ? shownName(pid) : '';
      const view = drillView(options.tab, options.view);
      const minAge = options.minAge ?? 0;
      const types = options.pprof !== undefined ? profileTypes(options.tab, view) : undefined;
      const profile = types ? new DrillProfile(types, minAge) : undefined;
      what = 'its last stacks are above';
      end = await follow<TracerStackSnapshot>({
        ...followed,
        start: inner =>
          backend.startStacks({
            tab: options.tab,
            ...target,
            intervalMs: options.intervalMs,
            signal: inner,
            ...(view && target.pid !== undefined ? {view} : {}),
            ...(options.sampleBytes !== undefined ? {sampleBytes: options.sampleBytes} : {}),
          }),
        onItem: snapshot => {
          comm = snapshot.comm ?? (pid !== undefined ? processName(pid) : undefined) ?? comm;
          if (profile) {
            // Rewritten whole every interval: the file always holds the window so far.
            profile.add(snapshot);
            try {
              writeProfileFile(options.pprof!, encodeProfile(profile.source(drillBinaries(target))!));
            } catch (error) {
              fatal = new TracerError((error as Error).message, 'give --pprof a file in a directory memtop can write');
              controller.abort();
              return;
            }
          }
          if (options.folded) print(stacksFolded(snapshot, minAge));
          else if (options.json) print(JSON.stringify(stacksJson(snapshot, options.cache !== undefined ? {cache: options.cache} : {pid, comm}, options.limit, minAge)) + '\n');
          else print(stackText(snapshot, comm, options.limit, minAge));
        },
      });
    } else {
      let data = emptyTabData();
      const view = viewOf(options.tab, options.view !== undefined && hasView(options.tab, options.view) ? options.view : undefined);
      const columns = columnsFor(view);
      const sortColumn = defaultSortColumn(view);
      what = 'its last table is above';
      end = await follow<TracerSnapshot>({
        ...followed,
        start: inner => backend.start({tab: options.tab, pid: options.pid, intervalMs: options.intervalMs, signal: inner, view: view.id}),
        onItem: snapshot => {
          data = applySnapshot(data, snapshot);
          const table = viewTable(data, view.id);
          const candidates = options.cgroup ? [...table.rows.values()].filter(row => row.pid !== undefined && matchesCgroup(cgroupOf(row.pid), options.cgroup!)) : table.rows.values();
          const rows = selectRows(candidates, columns, {
            view,
            sortColumn,
            descending: true,
            cumulative: false,
            filter: options.comm ?? '',
            limit: options.limit,
            nameOf: shownName,
          });
          print(options.json ? JSON.stringify(tableJson(snapshot, view, rows, allocatorKindOf)) + '\n' : tableText(snapshot, view, rows, allocatorKindOf));
        },
      });
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
  if (fatal) throw fatal;
  if (end?.kind === 'failed') throw end.error;
  if (end?.kind === 'exited') {
    // A replay has no process to have exited; one that exited before its first interval is a failure.
    if (end.items === 0 || options.replay) throw end.error;
    io.warn(`memtop: ${exitedText(options.pid, what)}`);
  }
}
