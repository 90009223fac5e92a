// A backend that plays given snapshots, for component tests of the UI (the real tracers are
// exercised by the end-to-end tests). It records which tracers are running, like the real ones.
import type {Availability, Backend, StackStartOptions, StartOptions, TabId, TracerSnapshot, TracerStackSnapshot} from '../../source/types.js';
import {TracerError} from '../../source/types.js';

export interface ScriptedBackend extends Backend {
  /** Tracers running now, as "tab" or "stacks:tab:pid". */
  running: Set<string>;
  /** Every start, in order. */
  starts: string[];
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, {once: true});
  });
}

export function scriptedBackend(options: {
  table?: (tab: TabId, index: number) => TracerSnapshot | TracerError;
  stacks?: (tab: TabId, pid: number, index: number) => TracerStackSnapshot | TracerError;
  everyMs?: number;
}): ScriptedBackend {
  const running = new Set<string>();
  const starts: string[] = [];
  const every = options.everyMs ?? 20;
  return {
    id: 'bpftrace',
    running,
    starts,
    async available(): Promise<Availability> {
      return {ok: true, version: 'scripted'};
    },
    async probeFor(tab: TabId) {
      return `scripted:${tab}`;
    },
    async *start({tab, signal}: StartOptions) {
      const name = tab;
      running.add(name);
      starts.push(name);
      try {
        for (let index = 0; !signal.aborted; index++) {
          await wait(every, signal);
          if (signal.aborted) return;
          const next = options.table?.(tab, index);
          if (!next) continue;
          if (next instanceof TracerError) throw next;
          yield next;
        }
      } finally {
        running.delete(name);
      }
    },
    async *startStacks({tab, pid, signal}: StackStartOptions) {
      const name = `stacks:${tab}:${pid}`;
      running.add(name);
      starts.push(name);
      try {
        for (let index = 0; !signal.aborted; index++) {
          await wait(every, signal);
          if (signal.aborted) return;
          const next = options.stacks?.(tab, pid, index);
          if (!next) continue;
          if (next instanceof TracerError) throw next;
          yield next;
        }
      } finally {
        running.delete(name);
      }
    },
  };
}

/** A snapshot with rows for the given [pid, comm, count, bytes?] tuples. */
export function snapshotOf(tab: TabId, rows: [number, string, number, number?][], extra: Partial<TracerSnapshot> = {}): TracerSnapshot {
  return {
    tab,
    backend: 'bpftrace',
    probe: `probe-for-${tab}`,
    time: new Date(0).toISOString(),
    elapsedMs: 1000,
    rows: rows.map(([pid, comm, count, bytes]) => ({pid, comm, count, ...(bytes === undefined ? {} : {bytes})})),
    ...extra,
  };
}
