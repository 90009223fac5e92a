// One tracer per (tab, view, pid, interval) however many consumers ask for it: the exporter and
// the TUI share a running bpftrace instead of each starting their own. The first start() of a
// key starts the tracer; later ones join it and get its snapshots from then on; the tracer stops
// when the last consumer stops (its signal aborts or it stops iterating).
import {viewOf} from '../registry.js';
import type {Backend, StartOptions, TracerSnapshot} from '../types.js';

/** Snapshots a slow consumer may have waiting before the oldest are dropped (it is not reading). */
const MAX_QUEUED = 64;

interface Consumer {
  queue: TracerSnapshot[];
  failure?: unknown;
  ended: boolean;
  wake?: () => void;
}

interface Running {
  controller: AbortController;
  consumers: Set<Consumer>;
}

function keyOf(options: StartOptions): string {
  return JSON.stringify([options.tab, viewOf(options.tab, options.view).id, options.pid ?? 0, options.intervalMs]);
}

/** A backend whose start() shares one tracer among every caller asking for the same view; stacks are not shared. */
export interface SharedBackend extends Backend {
  /** Tracers running now, for tests and figures. */
  readonly running: () => number;
}

/** `backend` with its table tracers shared among consumers (see the module header). */
export function sharedBackend(backend: Backend): SharedBackend {
  const tracers = new Map<string, Running>();

  function launch(key: string, options: StartOptions): Running {
    const controller = new AbortController();
    const running: Running = {controller, consumers: new Set()};
    tracers.set(key, running);
    const finish = (failure: unknown, ended: boolean) => {
      if (tracers.get(key) === running) tracers.delete(key);
      for (const consumer of running.consumers) {
        consumer.failure = failure;
        consumer.ended = ended;
        consumer.wake?.();
      }
    };
    void (async () => {
      try {
        for await (const snapshot of backend.start({...options, signal: controller.signal})) {
          for (const consumer of running.consumers) {
            consumer.queue.push(snapshot);
            if (consumer.queue.length > MAX_QUEUED) consumer.queue.shift();
            consumer.wake?.();
          }
          if (controller.signal.aborted) break;
        }
        finish(undefined, true);
      } catch (error) {
        finish(error, true);
      }
    })();
    return running;
  }

  async function* consume(options: StartOptions): AsyncGenerator<TracerSnapshot> {
    if (options.signal.aborted) return;
    const key = keyOf(options);
    const running = tracers.get(key) ?? launch(key, options);
    const consumer: Consumer = {queue: [], ended: false};
    running.consumers.add(consumer);
    // A consumer that is gone stops counting at once, even one that is not waiting for a snapshot.
    const leave = () => {
      if (!running.consumers.delete(consumer) || running.consumers.size > 0) return;
      if (tracers.get(key) === running) tracers.delete(key);
      running.controller.abort();
    };
    const onAbort = () => {
      leave();
      consumer.wake?.();
    };
    options.signal.addEventListener('abort', onAbort, {once: true});
    try {
      for (;;) {
        if (options.signal.aborted) return;
        const next = consumer.queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (consumer.ended) {
          if (consumer.failure !== undefined) throw consumer.failure;
          return;
        }
        await new Promise<void>(resolve => {
          consumer.wake = resolve;
        });
        consumer.wake = undefined;
      }
    } finally {
      options.signal.removeEventListener('abort', onAbort);
      leave();
    }
  }

  return {
    id: backend.id,
    available: () => backend.available(),
    probeFor: tab => backend.probeFor(tab),
    startStacks: options => backend.startStacks(options),
    start: options => consume(options),
    running: () => tracers.size,
  };
}
