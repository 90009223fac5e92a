// One tracer per (tab, view, pid, interval) however many consumers ask for it: the exporter and
// the TUI share a running bpftrace instead of each starting their own. The first start() of a
// key starts the tracer; later ones join it and get its snapshots from then on; the tracer stops
// when the last consumer stops (its signal aborts or it stops iterating). Views declared together
// (shareTracer: the exporter's, where the backend can run them in one tracer) are started
// together: the first start() of any of them starts one tracer for the group, each view's
// consumers get that view's snapshots, and it stops when no view of it has a consumer left.
import {viewOf} from '../registry.js';
import type {Backend, StartOptions, TracerSnapshot, ViewRef} from '../types.js';

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
  /** The views started with it in one tracer (itself among them), when it runs for a group. */
  group?: Running[];
}

/** A group of views declared to run in one tracer, by each view's key. */
interface Group {
  views: ViewRef[];
  keys: string[];
  pid?: number;
  intervalMs: number;
}

function keyOf(options: {tab: StartOptions['tab']; view?: StartOptions['view']; pid?: number; intervalMs: number}): string {
  return JSON.stringify([options.tab, viewOf(options.tab, options.view).id, options.pid ?? 0, options.intervalMs]);
}

/** A backend whose start() shares one tracer among every caller asking for the same view; stacks are not shared. */
export interface SharedBackend extends Backend {
  /** Tracers running now, for tests and figures (a group's tracer counts once). */
  readonly running: () => number;
  /**
   * Run these views, where the backend can, in as few tracers as it can (Backend.groupViews):
   * from now on, starting one of a group starts the group's tracer. `onSplit` hears why, when a
   * group's tracer fails before its first interval and its views go on in tracers of their own.
   * Resolves once declared.
   */
  readonly shareTracer: (views: readonly ViewRef[], pid: number | undefined, intervalMs: number, onSplit?: (error: unknown) => void) => Promise<void>;
}

/** `backend` with its table tracers shared among consumers (see the module header). */
export function sharedBackend(backend: Backend): SharedBackend {
  const tracers = new Map<string, Running>();
  const groups = new Map<string, Group>();
  let onSplit: ((error: unknown) => void) | undefined;

  /**
   * Start a group's tracer: a Running per view, in the group's order, fed from the one tracer.
   * When it fails before its first interval (a view's probe that does not attach here), the group
   * is given up for good and each view with a consumer runs in a tracer of its own, its consumers
   * kept: the view that cannot attach fails alone, as it would have without the group.
   */
  function launchGroup(group: Group, startGroup: NonNullable<Backend['startGroup']>): void {
    const controller = new AbortController();
    // A view of the group already running alone (a TUI's, started before the exporter declared
    // the group) is taken over: its tracer stops, its consumers read the group's from now on.
    const members: Running[] = group.keys.map(key => {
      const alone = tracers.get(key);
      if (!alone) return {controller, consumers: new Set()};
      alone.controller.abort();
      alone.controller = controller;
      return alone;
    });
    for (const [index, key] of group.keys.entries()) {
      members[index]!.group = members;
      tracers.set(key, members[index]!);
    }
    const finish = (failure: unknown) => {
      for (const [index, key] of group.keys.entries()) {
        if (tracers.get(key) === members[index]) tracers.delete(key);
        end(members[index]!, failure);
      }
    };
    let delivered = false;
    void (async () => {
      try {
        for await (const snapshots of startGroup({views: group.views, ...(group.pid !== undefined ? {pid: group.pid} : {}), intervalMs: group.intervalMs, signal: controller.signal})) {
          delivered = true;
          for (const [index, snapshot] of snapshots.entries()) deliver(members[index], snapshot);
          if (controller.signal.aborted) break;
        }
        finish(undefined);
      } catch (error) {
        if (delivered || controller.signal.aborted) return finish(error);
        for (const key of group.keys) groups.delete(key);
        onSplit?.(error);
        for (const [index, key] of group.keys.entries()) {
          const member = members[index]!;
          if (tracers.get(key) !== member) continue;
          if (member.consumers.size === 0) {
            tracers.delete(key);
            continue;
          }
          member.group = undefined;
          member.controller = new AbortController();
          runAlone(key, member, {tab: group.views[index]!.tab, view: group.views[index]!.view, ...(group.pid !== undefined ? {pid: group.pid} : {}), intervalMs: group.intervalMs});
        }
      }
    })();
  }

  function deliver(running: Running | undefined, snapshot: TracerSnapshot): void {
    for (const consumer of running?.consumers ?? []) {
      consumer.queue.push(snapshot);
      if (consumer.queue.length > MAX_QUEUED) consumer.queue.shift();
      consumer.wake?.();
    }
  }

  /** Tell a tracer's consumers it has ended (with `failure`, when it failed). */
  function end(running: Running, failure: unknown): void {
    for (const consumer of running.consumers) {
      consumer.failure = failure;
      consumer.ended = true;
      consumer.wake?.();
    }
  }

  /** Run one view's tracer for `running` (in `tracers` under `key`) until it ends or its controller aborts. */
  function runAlone(key: string, running: Running, options: Omit<StartOptions, 'signal'>): void {
    const {controller} = running;
    // Once a group has taken the view over (its controller replaced), this tracer's end is nobody's.
    const finish = (failure: unknown) => {
      if (running.controller !== controller) return;
      if (tracers.get(key) === running) tracers.delete(key);
      end(running, failure);
    };
    void (async () => {
      try {
        for await (const snapshot of backend.start({...options, signal: controller.signal})) {
          if (controller.signal.aborted) break;
          deliver(running, snapshot);
        }
        finish(undefined);
      } catch (error) {
        finish(error);
      }
    })();
  }

  function launch(key: string, options: StartOptions): Running {
    const group = groups.get(key);
    if (group && backend.startGroup) {
      launchGroup(group, backend.startGroup.bind(backend));
      return tracers.get(key)!;
    }
    const running: Running = {controller: new AbortController(), consumers: new Set()};
    tracers.set(key, running);
    runAlone(key, running, options);
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
      // A group's tracer goes on while any view of it has a consumer.
      const together = running.group ?? [running];
      if (together.some(member => member.consumers.size > 0)) return;
      for (const [stoppedKey, stopped] of tracers) if (together.includes(stopped)) tracers.delete(stoppedKey);
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
    running: () => new Set([...tracers.values()].map(running => running.controller)).size,
    shareTracer: async (views, pid, intervalMs, split) => {
      onSplit = split;
      for (const members of (await backend.groupViews?.(views)) ?? []) {
        const group: Group = {views: members, keys: members.map(view => keyOf({...view, ...(pid !== undefined ? {pid} : {}), intervalMs})), ...(pid !== undefined ? {pid} : {}), intervalMs};
        for (const key of group.keys) groups.set(key, group);
      }
    },
  };
}
