// A Backend wrapper that fills the measures /proc/PID/status states exactly (Measure.procStatus:
// the growth tab's RSS and untouched bytes) into each process row as its interval ends, so the
// TUI, batch, the exporter and a recording all get the same figures, and a replay keeps them.
import {viewOf} from '../registry.js';
import {statusValue} from '../parse/proc-status.js';
import {readStatusBytes} from '../system/proc-status.js';
import type {Measure} from '../tabs/types.js';
import type {Backend, GroupStartOptions, RawRow, StartOptions, TracerSnapshot} from '../types.js';

/** What a row's status reads as: its fields, 'gone', or undefined when /proc cannot say. */
export type StatusReader = (pid: number) => Record<string, number> | 'gone' | undefined;

/** The measures of a snapshot's view that come from /proc/PID/status. */
function statusMeasures(snapshot: TracerSnapshot): Measure[] {
  return viewOf(snapshot.tab, snapshot.view).measures.filter(measure => measure.procStatus !== undefined);
}

/**
 * The rows with each /proc/PID/status measure read now: the formula's value; 0 for a process
 * gone; the tracer's own value (or none) where /proc cannot say.
 */
export function withStatus(rows: RawRow[], measures: Measure[], read: StatusReader): RawRow[] {
  return rows.map(row => {
    if (row.pid === undefined || row.pid <= 0) return row;
    const fields = read(row.pid);
    if (fields === undefined) return row;
    const filled: RawRow = {...row};
    for (const measure of measures) {
      const value = fields === 'gone' ? 0 : statusValue(fields, measure.procStatus!);
      if (value !== undefined) filled[measure.id] = value;
    }
    return filled;
  });
}

/** `backend` with its table snapshots' /proc/PID/status measures read as each interval ends. */
export function procStatusBackend(backend: Backend, read: StatusReader = readStatusBytes): Backend {
  return {
    id: backend.id,
    available: () => backend.available(),
    probeFor: tab => backend.probeFor(tab),
    async *start(options: StartOptions): AsyncIterable<TracerSnapshot> {
      for await (const snapshot of backend.start(options)) yield filled(snapshot);
    },
    startStacks: options => backend.startStacks(options),
    // Views run together in one tracer get their status read as they would alone.
    ...(backend.groupViews && backend.startGroup
      ? {
          groupViews: views => backend.groupViews!(views),
          async *startGroup(options: GroupStartOptions): AsyncIterable<TracerSnapshot[]> {
            for await (const snapshots of backend.startGroup!(options)) yield snapshots.map(filled);
          },
        }
      : {}),
  };

  function filled(snapshot: TracerSnapshot): TracerSnapshot {
    const measures = statusMeasures(snapshot);
    if (measures.length === 0) return snapshot;
    // A process the tracer saw exit is gone: its pid's /proc is not asked (most rows, under a churn of short-lived processes).
    const exited = new Set(snapshot.exited);
    return {...snapshot, rows: withStatus(snapshot.rows, measures, exited.size === 0 ? read : pid => (exited.has(pid) ? 'gone' : read(pid)))};
  }
}
