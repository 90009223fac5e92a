// A backend that plays given snapshots, for component tests of the UI (the real tracers are
// exercised by the end-to-end tests). It records which tracers are running, like the real ones.
import type {Availability, Backend, StackStartOptions, StartOptions, TabId, TracerSnapshot, TracerStackSnapshot, ViewId} from '../../source/types.js';
import {TracerError} from '../../source/types.js';

export interface ScriptedBackend extends Backend {
  /** Tracers running now, as "tab" ("tab:live" for the live view) or "stacks:tab:pid" ("stacks:tab:live:pid") or "stacks:tab:cache". */
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
  table?: (tab: TabId, index: number, view?: ViewId) => TracerSnapshot | TracerError;
  stacks?: (tab: TabId, pid: number, index: number, options?: {view?: ViewId; sampleBytes?: number}) => TracerStackSnapshot | TracerError;
  /** Kernel paths into a slab cache, for a drill on a cache row. */
  cacheStacks?: (tab: TabId, cache: string, index: number) => TracerStackSnapshot | TracerError;
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
    async *start({tab, signal, view}: StartOptions) {
      const name = view === 'live' ? `${tab}:live` : tab;
      running.add(name);
      starts.push(name);
      try {
        for (let index = 0; !signal.aborted; index++) {
          await wait(every, signal);
          if (signal.aborted) return;
          const next = options.table?.(tab, index, view);
          if (!next) continue;
          if (next instanceof TracerError) throw next;
          yield next;
        }
      } finally {
        running.delete(name);
      }
    },
    async *startStacks(options_: StackStartOptions) {
      const {tab, signal} = options_;
      const target = options_.pid ?? options_.cache;
      const name = `stacks:${tab}:${options_.view ? `${options_.view}:` : ''}${target}`;
      running.add(name);
      starts.push(name);
      try {
        for (let index = 0; !signal.aborted; index++) {
          await wait(every, signal);
          if (signal.aborted) return;
          const next =
            options_.cache === undefined
              ? options.stacks?.(tab, options_.pid, index, {...(options_.view ? {view: options_.view} : {}), ...(options_.sampleBytes ? {sampleBytes: options_.sampleBytes} : {})})
              : options.cacheStacks?.(tab, options_.cache, index);
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
