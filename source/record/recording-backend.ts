// A Backend wrapper that records every snapshot passing through it, so --record works for the
// TUI and batch mode alike without either knowing about it.
import type {Backend, GroupStartOptions, RawRow, StackStartOptions, StartOptions, TracerSnapshot, TracerStackSnapshot} from '../types.js';
import {CgroupCache} from '../system/cgroups.js';
import {GONE_NAME, processName} from '../system/process-names.js';
import {allocatorKindOf} from '../system/allocators.js';
import type {Recorder} from './recorder.js';

export interface RecordingBackendOptions {
  /** The cgroup path of a pid, stored with each table snapshot for a replay elsewhere. Default: a CgroupCache on /proc. */
  cgroupOf?: (pid: number) => string | undefined;
  /** The name of a process (a row, a drilled-into process) when the tracer did not give one. Default: /proc/<pid>/comm. */
  commOf?: (pid: number) => string | undefined;
  /** A process's allocator kind, for snapshots of allocator probes. Default: read from /proc. */
  allocatorOf?: (pid: number) => string | undefined;
}

/** A process row the tracer gave no name (bpftrace names only the processes that exited). */
function unnamed(row: RawRow): boolean {
  return !row.comm && row.cache === undefined && row.pid !== undefined && row.pid > 0;
}

/**
 * `backend` with every table and stack snapshot appended to `recorder` as it is yielded (table
 * snapshots with their rows' names and cgroup paths, stack snapshots with the process's comm
 * filled in, and that same snapshot is what the caller gets): a replay elsewhere cannot ask /proc. Recording never stops the tracing: write
 * failures go to the recorder's onError.
 */
export function recordingBackend(backend: Backend, recorder: Recorder, options: RecordingBackendOptions = {}): Backend {
  const cache = options.cgroupOf ? undefined : new CgroupCache();
  const cgroupOf = options.cgroupOf ?? ((pid: number) => cache!.info(pid)?.path);
  const commOf = options.commOf ?? processName;
  const allocatorOf = options.allocatorOf ?? allocatorKindOf;
  /** A table snapshot named and recorded: what the caller gets. */
  function record(tracerSnapshot: TracerSnapshot): TracerSnapshot {
    const snapshot = tracerSnapshot.rows.some(unnamed) ? {...tracerSnapshot, rows: tracerSnapshot.rows.map(row => (unnamed(row) ? {...row, comm: commOf(row.pid!) ?? GONE_NAME} : row))} : tracerSnapshot;
    const cgroups: Record<string, string> = {};
    for (const row of snapshot.rows) {
      if (row.pid === undefined || row.pid <= 0 || String(row.pid) in cgroups) continue;
      const path = cgroupOf(row.pid);
      if (path !== undefined) cgroups[String(row.pid)] = path;
    }
    // Each row's allocator kind, as batch JSON names it, kept for a replay elsewhere.
    let recorded = snapshot;
    if (snapshot.allocators) {
      const rowAllocators: Record<string, string> = {};
      for (const row of snapshot.rows) {
        if (row.pid === undefined || row.pid <= 0 || String(row.pid) in rowAllocators) continue;
        const kind = allocatorOf(row.pid);
        if (kind !== undefined) rowAllocators[String(row.pid)] = kind;
      }
      recorded = {...snapshot, rowAllocators};
    }
    recorder.recordTable(recorded, cgroups);
    return recorded;
  }
  return {
    id: backend.id,
    available: () => backend.available(),
    probeFor: tab => backend.probeFor(tab),
    async *start(startOptions: StartOptions): AsyncIterable<TracerSnapshot> {
      for await (const tracerSnapshot of backend.start(startOptions)) yield record(tracerSnapshot);
    },
    // Views run together in one tracer are recorded as each would be alone.
    ...(backend.groupViews && backend.startGroup
      ? {
          groupViews: views => backend.groupViews!(views),
          async *startGroup(groupOptions: GroupStartOptions): AsyncIterable<TracerSnapshot[]> {
            for await (const snapshots of backend.startGroup!(groupOptions)) yield snapshots.map(record);
          },
        }
      : {}),
    async *startStacks(startOptions: StackStartOptions): AsyncIterable<TracerStackSnapshot> {
      let comm: string | undefined;
      for await (const snapshot of backend.startStacks(startOptions)) {
        if (snapshot.pid === undefined) {
          recorder.recordStacks(snapshot);
          yield snapshot;
          continue;
        }
        comm = snapshot.comm ?? commOf(snapshot.pid) ?? comm;
        const named = comm !== undefined && snapshot.comm === undefined ? {...snapshot, comm} : snapshot;
        recorder.recordStacks(named);
        yield named;
      }
    },
  };
}
