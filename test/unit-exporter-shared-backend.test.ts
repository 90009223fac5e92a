// The shared backend: one tracer per (tab, view, pid, interval) however many consumers, each
// consumer getting every snapshot from when it joined; the tracer stops with its last consumer,
// and a failure reaches every consumer, after which the next start starts a new tracer.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {sharedBackend} from '../source/backends/shared-backend.js';
import {TracerError, type Backend, type GroupStartOptions, type StartOptions, type TracerSnapshot, type ViewRef} from '../source/types.js';
import {snapshotOf} from './helpers/scripted-backend.js';
import {waitForValue} from './helpers/wait-for-value.js';

/** A backend whose tracers yield a numbered snapshot every few ms; `live` counts the running ones. */
function countingBackend(failAfter?: number) {
  const started: string[] = [];
  let live = 0;
  const backend: Backend = {
    id: 'bpftrace',
    available: async () => ({ok: true}),
    probeFor: async tab => tab,
    startStacks: () => {
      throw new Error('not used');
    },
    async *start(options: StartOptions): AsyncGenerator<TracerSnapshot> {
      started.push(`${options.tab}/${options.view ?? '-'}/${options.pid ?? 0}/${options.intervalMs}`);
      live++;
      try {
        for (let index = 0; !options.signal.aborted; index++) {
          await new Promise(resolve => setTimeout(resolve, 5));
          if (options.signal.aborted) return;
          if (failAfter !== undefined && index === failAfter) throw new TracerError('bpftrace: gone');
          yield snapshotOf(options.tab, [[1, 'a', index]]);
        }
      } finally {
        live--;
      }
    },
  };
  return {backend, started, live: () => live};
}

async function take(source: AsyncIterable<TracerSnapshot>, count: number): Promise<number[]> {
  const seen: number[] = [];
  for await (const snapshot of source) {
    seen.push(snapshot.rows[0]!.count);
    if (seen.length === count) break;
  }
  return seen;
}

test('two consumers of one view share one tracer and both see its snapshots in order; it stops after the last', async () => {
  const fake = countingBackend();
  const shared = sharedBackend(fake.backend);
  const first = new AbortController();
  const second = new AbortController();
  const [a, b] = await Promise.all([
    take(shared.start({tab: 'brk', intervalMs: 1000, signal: first.signal}), 5),
    take(shared.start({tab: 'brk', view: 'process', intervalMs: 1000, signal: second.signal}), 3),
  ]);
  assert.deepEqual(fake.started, ['brk/-/0/1000'], 'one tracer (the default view and the view named are the same)');
  assert.deepEqual(a, [0, 1, 2, 3, 4]);
  assert.deepEqual(b, [0, 1, 2]);
  await waitForValue(() => fake.live() === 0, {timeoutMs: 2000, what: 'the tracer to stop once both consumers stopped'});
  assert.equal(shared.running(), 0);
});

test('another view, pid or interval is another tracer; a late consumer joins the running one', async () => {
  const fake = countingBackend();
  const shared = sharedBackend(fake.backend);
  const controller = new AbortController();
  const keep = shared.start({tab: 'slab', intervalMs: 1000, signal: controller.signal})[Symbol.asyncIterator]();
  await keep.next();
  await take(shared.start({tab: 'slab', view: 'cache', intervalMs: 1000, signal: controller.signal}), 1);
  await take(shared.start({tab: 'slab', intervalMs: 500, signal: controller.signal}), 1);
  await take(shared.start({tab: 'slab', pid: 7, intervalMs: 1000, signal: controller.signal}), 1);
  const late = await take(shared.start({tab: 'slab', intervalMs: 1000, signal: controller.signal}), 1);
  assert.ok(late[0]! >= 1, `the late consumer starts at the running tracer's next snapshot (${late[0]})`);
  assert.deepEqual(fake.started, ['slab/-/0/1000', 'slab/cache/0/1000', 'slab/-/0/500', 'slab/-/7/1000']);
  await waitForValue(() => fake.live() === 1, {timeoutMs: 2000, what: 'only the tracer with a consumer left to run'});
  controller.abort();
  assert.equal(shared.running(), 0, 'an aborted consumer leaves at once');
  await waitForValue(() => fake.live() === 0, {timeoutMs: 2000, what: 'every tracer to stop'});
});

test('a consumer whose signal aborts leaves; the others keep the tracer', async () => {
  const fake = countingBackend();
  const shared = sharedBackend(fake.backend);
  const leaving = new AbortController();
  const staying = new AbortController();
  const left = shared.start({tab: 'majfault', intervalMs: 1000, signal: leaving.signal})[Symbol.asyncIterator]();
  await left.next();
  const stays = take(shared.start({tab: 'majfault', intervalMs: 1000, signal: staying.signal}), 6);
  leaving.abort();
  assert.deepEqual(await left.next(), {done: true, value: undefined});
  assert.equal((await stays).length, 6);
  await waitForValue(() => fake.live() === 0, {timeoutMs: 2000, what: 'the tracer to stop'});
  assert.deepEqual(fake.started, ['majfault/-/0/1000']);
});

test('a failure reaches every consumer, and the next start starts a new tracer', async () => {
  const fake = countingBackend(2);
  const shared = sharedBackend(fake.backend);
  const controller = new AbortController();
  const failures = await Promise.all(
    [0, 1].map(async () => {
      try {
        await take(shared.start({tab: 'brk', intervalMs: 1000, signal: controller.signal}), 100);
        return 'no failure';
      } catch (error) {
        return (error as Error).message;
      }
    }),
  );
  assert.deepEqual(failures, ['bpftrace: gone', 'bpftrace: gone']);
  assert.deepEqual(await take(shared.start({tab: 'brk', intervalMs: 1000, signal: controller.signal}), 2), [0, 1]);
  assert.equal(fake.started.length, 2);
  controller.abort();
});

/**
 * A backend that runs the views groupViews puts together in one tracer: `groups` counts the
 * group tracers started, `groupFails` makes one fail before its first interval (a probe that
 * does not attach) or after `groupFailAfter` intervals.
 */
function groupingBackend(options: {groupFails?: boolean; groupFailAfter?: number} = {}) {
  const fake = countingBackend();
  const groups: string[] = [];
  let groupLive = 0;
  const backend: Backend = {
    ...fake.backend,
    groupViews: async views => [views.filter(view => view.tab !== 'malloc')],
    async *startGroup(group: GroupStartOptions): AsyncGenerator<TracerSnapshot[]> {
      groups.push(group.views.map(view => view.tab).join('+'));
      groupLive++;
      try {
        for (let index = 0; !group.signal.aborted; index++) {
          await new Promise(resolve => setTimeout(resolve, 5));
          if (group.signal.aborted) return;
          if (options.groupFails && index === 0) throw new TracerError('bpftrace: ERROR: tracepoint not found: kmem:kmalloc');
          if (options.groupFailAfter !== undefined && index === options.groupFailAfter) throw new TracerError('bpftrace: gone');
          yield group.views.map(view => snapshotOf(view.tab, [[1, 'a', index * 10]]));
        }
      } finally {
        groupLive--;
      }
    },
  };
  return {backend, groups, groupLive: () => groupLive, started: fake.started, live: fake.live};
}

const VIEWS = [{tab: 'brk', view: 'process'}, {tab: 'slab', view: 'process'}, {tab: 'slab', view: 'cache'}, {tab: 'malloc', view: 'process'}] satisfies ViewRef[];

test('views shared into one tracer: starting any starts the group\'s one tracer, each view gets its own snapshots, a view outside the group runs alone', async () => {
  const fake = groupingBackend();
  const shared = sharedBackend(fake.backend);
  await shared.shareTracer(VIEWS, undefined, 1000);
  const controller = new AbortController();
  const seen = await Promise.all(VIEWS.map(async view => take(shared.start({...view, intervalMs: 1000, signal: controller.signal}), 2)));
  assert.deepEqual(fake.groups, ['brk+slab+slab'], 'one tracer for brk, slab and slab by cache');
  assert.deepEqual(fake.started, ['malloc/process/0/1000'], 'malloc alone');
  assert.ok(seen.every(values => values.length === 2));
  await waitForValue(() => fake.groupLive() === 0 && fake.live() === 0, {timeoutMs: 2000, what: 'every tracer to stop once its consumers stopped'});
  assert.equal(shared.running(), 0);
});

test('a group\'s tracer goes on while any of its views has a consumer; another interval is not the group', async () => {
  const fake = groupingBackend();
  const shared = sharedBackend(fake.backend);
  await shared.shareTracer(VIEWS, undefined, 1000);
  const brk = new AbortController();
  const slab = new AbortController();
  const brkIterator = shared.start({tab: 'brk', intervalMs: 1000, signal: brk.signal})[Symbol.asyncIterator]();
  await brkIterator.next();
  const slabIterator = shared.start({tab: 'slab', intervalMs: 1000, signal: slab.signal})[Symbol.asyncIterator]();
  await slabIterator.next();
  assert.equal(shared.running(), 1, 'one tracer for both');
  brk.abort();
  await slabIterator.next();
  assert.equal(fake.groupLive(), 1, 'slab still reads it');
  await take(shared.start({tab: 'brk', intervalMs: 500, signal: slab.signal}), 1);
  assert.deepEqual(fake.started, ['brk/-/0/500']);
  slab.abort();
  await waitForValue(() => fake.groupLive() === 0, {timeoutMs: 2000, what: 'the group\'s tracer to stop with its last consumer'});
  assert.deepEqual(fake.groups, ['brk+slab+slab']);
});

test('a group\'s tracer that fails before its first interval is given up: each view goes on in a tracer of its own, its consumers kept, and onSplit says why', async () => {
  const fake = groupingBackend({groupFails: true});
  const shared = sharedBackend(fake.backend);
  const split: string[] = [];
  await shared.shareTracer(VIEWS, undefined, 1000, error => split.push((error as Error).message));
  const controller = new AbortController();
  const seen = await Promise.all([take(shared.start({tab: 'brk', intervalMs: 1000, signal: controller.signal}), 2), take(shared.start({tab: 'slab', intervalMs: 1000, signal: controller.signal}), 2)]);
  assert.deepEqual(seen, [[0, 1], [0, 1]], 'the consumers that were waiting on the group read their own tracers, no failure seen');
  assert.deepEqual(split, ['bpftrace: ERROR: tracepoint not found: kmem:kmalloc']);
  assert.deepEqual(fake.started.sort(), ['brk/process/0/1000', 'slab/process/0/1000'], 'only the views with a consumer started');
  await take(shared.start({tab: 'slab', view: 'cache', intervalMs: 1000, signal: controller.signal}), 1);
  assert.deepEqual(fake.groups, ['brk+slab+slab'], 'the group is not tried again');
  assert.ok(fake.started.includes('slab/cache/0/1000'));
  controller.abort();
  await waitForValue(() => fake.live() === 0, {timeoutMs: 2000, what: 'every tracer to stop'});
});

test('a group\'s tracer that fails after running reaches every view\'s consumers; the next start starts the group again', async () => {
  const fake = groupingBackend({groupFailAfter: 2});
  const shared = sharedBackend(fake.backend);
  await shared.shareTracer(VIEWS, undefined, 1000);
  const controller = new AbortController();
  const failures = await Promise.all(
    ['brk', 'slab'].map(async tab => {
      try {
        await take(shared.start({tab: tab as 'brk', intervalMs: 1000, signal: controller.signal}), 100);
        return 'no failure';
      } catch (error) {
        return (error as Error).message;
      }
    }),
  );
  assert.deepEqual(failures, ['bpftrace: gone', 'bpftrace: gone']);
  assert.deepEqual(await take(shared.start({tab: 'slab', intervalMs: 1000, signal: controller.signal}), 1), [0]);
  assert.deepEqual(fake.groups, ['brk+slab+slab', 'brk+slab+slab']);
  assert.deepEqual(fake.started, [], 'no view alone');
  controller.abort();
});

test('a view already running alone when its group starts (a TUI\'s, before the exporter declared the group) is taken over: its tracer stops, its consumer reads the group\'s', async () => {
  const fake = groupingBackend();
  const shared = sharedBackend(fake.backend);
  const tui = new AbortController();
  const tuiBrk = shared.start({tab: 'brk', intervalMs: 1000, signal: tui.signal})[Symbol.asyncIterator]();
  assert.equal((await tuiBrk.next()).value?.rows[0]?.count, 0);
  await shared.shareTracer(VIEWS, undefined, 1000);
  const exporter = new AbortController();
  await take(shared.start({tab: 'slab', intervalMs: 1000, signal: exporter.signal}), 1);
  await waitForValue(() => fake.live() === 0, {timeoutMs: 2000, what: 'brk\'s own tracer to stop'});
  assert.equal(shared.running(), 1, 'one tracer: the group\'s');
  const next = await waitForValue(async () => {
    const value = (await tuiBrk.next()).value?.rows[0]?.count;
    return value !== undefined && value % 10 === 0 && value > 0 ? value : undefined;
  }, {timeoutMs: 2000, what: 'the TUI\'s brk consumer to read the group\'s snapshots'});
  assert.ok(next > 0);
  tui.abort();
  exporter.abort();
  await waitForValue(() => fake.groupLive() === 0, {timeoutMs: 2000, what: 'the group to stop'});
});
