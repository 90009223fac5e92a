// The shared backend: one tracer per (tab, view, pid, interval) however many consumers, each
// consumer getting every snapshot from when it joined; the tracer stops with its last consumer,
// and a failure reaches every consumer, after which the next start starts a new tracer.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {sharedBackend} from '../source/backends/shared-backend.js';
import {TracerError, type Backend, type StartOptions, type TracerSnapshot} from '../source/types.js';
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
