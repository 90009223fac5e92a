// A head start for the TUI's first view: its tracer starts while Ink, React and the app are
// still loading, and the app's first start() of that same view takes the running tracer over.
// Loading the TUI and compiling and attaching the probes take about as long each: side by side,
// the first data comes as soon as the slower of the two is done.
import {viewOf} from '../registry.js';
import type {Backend, StartOptions, TracerSnapshot} from '../types.js';

export type FirstView = Omit<StartOptions, 'signal'>;

function sameView(a: FirstView, b: FirstView): boolean {
  return a.tab === b.tab && (a.pid ?? 0) === (b.pid ?? 0) && a.intervalMs === b.intervalMs && viewOf(a.tab, a.view).id === viewOf(b.tab, b.view).id;
}

/** Start iterating `source` now (an async generator runs nothing until next() is called); `onFirst` once the first item is in or it failed. */
function prefetch<T>(source: AsyncIterable<T>, onFirst?: () => void): AsyncIterable<T> {
  const iterator = source[Symbol.asyncIterator]();
  let first: Promise<IteratorResult<T>> | undefined = iterator.next();
  // A failure before anyone iterates is reported to whoever takes it over, not as unhandled.
  first.then(onFirst, onFirst).catch(() => undefined);
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        const pending = first;
        first = undefined;
        return pending ?? iterator.next();
      },
      return: async (value?: unknown) => (await iterator.return?.(value)) ?? {done: true as const, value: undefined},
    }),
  };
}

/**
 * `backend`, with the tracer for `view` already started. The first start() asking for that
 * view gets it; any other first start() stops it. Left unclaimed for `claimWithinMs`, it stops.
 * `onFirst` runs once its first snapshot is in (its probes attached) or it has failed.
 */
export function withHeadStart(backend: Backend, view: FirstView, claimWithinMs = 15_000, onFirst?: () => void): Backend {
  const controller = new AbortController();
  let pending: AsyncIterable<TracerSnapshot> | undefined = prefetch(backend.start({...view, signal: controller.signal}), onFirst);
  const drop = () => {
    pending = undefined;
    controller.abort();
  };
  const timer = setTimeout(drop, claimWithinMs);
  timer.unref();
  return {
    id: backend.id,
    available: () => backend.available(),
    probeFor: tab => backend.probeFor(tab),
    startStacks: options => backend.startStacks(options),
    start(options: StartOptions): AsyncIterable<TracerSnapshot> {
      const taken = pending;
      clearTimeout(timer);
      if (!taken) return backend.start(options);
      pending = undefined;
      if (!sameView(options, view)) {
        controller.abort();
        return backend.start(options);
      }
      if (options.signal.aborted) controller.abort();
      else options.signal.addEventListener('abort', () => controller.abort(), {once: true});
      return taken;
    },
  };
}
