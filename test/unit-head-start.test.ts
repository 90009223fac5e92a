// The TUI's head start: the first tab's tracer starts before the app asks for it, and the
// app's first start() of that view takes it over instead of starting a second tracer.
import test from 'node:test';
import assert from 'node:assert/strict';
import {withHeadStart} from '../source/backends/head-start.js';
import type {Backend, StartOptions, TracerSnapshot} from '../source/types.js';

function snapshot(tab: StartOptions['tab'], n: number): TracerSnapshot {
  return {tab, backend: 'bpftrace', probe: 'fake', time: new Date(0).toISOString(), elapsedMs: n, rows: [], capped: false, skippedLines: 0};
}

/** A backend that counts the tracers it started (a generator body running) and their signals. */
function countingBackend() {
  const started: {options: StartOptions}[] = [];
  const backend: Backend = {
    id: 'bpftrace',
    available: async () => ({ok: true}),
    probeFor: async () => 'fake',
    async *start(options) {
      started.push({options});
      for (let n = 1; !options.signal.aborted; n++) {
        yield snapshot(options.tab, n);
        await new Promise(resolve => setTimeout(resolve, 5));
      }
    },
    startStacks: () => (async function* () {})(),
  };
  return {backend, started};
}

test('the tracer starts at once, and the first start() of the same view takes it over', async () => {
  const {backend, started} = countingBackend();
  const wrapped = withHeadStart(backend, {tab: 'slab', intervalMs: 1000});
  await new Promise(resolve => setTimeout(resolve, 1));
  assert.equal(started.length, 1, 'started before anyone asked');
  const controller = new AbortController();
  const seen: number[] = [];
  for await (const item of wrapped.start({tab: 'slab', intervalMs: 1000, view: 'process', signal: controller.signal})) {
    seen.push(item.elapsedMs);
    if (seen.length === 3) controller.abort();
  }
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(started.length, 1, 'no second tracer');
  assert.ok(started[0]!.options.signal.aborted, "the claimant's abort stops the head-started tracer");
});

test('a different first view stops the head start and gets its own tracer', async () => {
  const {backend, started} = countingBackend();
  const wrapped = withHeadStart(backend, {tab: 'malloc', intervalMs: 1000});
  const controller = new AbortController();
  const iterator = wrapped.start({tab: 'brk', intervalMs: 1000, signal: controller.signal})[Symbol.asyncIterator]();
  const first = await iterator.next();
  assert.equal(first.value?.tab, 'brk');
  assert.equal(started.length, 2);
  assert.ok(started[0]!.options.signal.aborted, 'the unclaimed malloc tracer was stopped');
  controller.abort();
  await iterator.return?.();
});

test('an unclaimed head start stops by itself', async () => {
  const {backend, started} = countingBackend();
  withHeadStart(backend, {tab: 'majfault', intervalMs: 1000}, 20);
  await new Promise(resolve => setTimeout(resolve, 60));
  assert.equal(started.length, 1);
  assert.ok(started[0]!.options.signal.aborted);
});

test('a tracer that fails before it is claimed reports the failure to the claimant', async () => {
  const failing: Backend = {
    id: 'bpftrace',
    available: async () => ({ok: true}),
    probeFor: async () => 'fake',
    // eslint-disable-next-line require-yield
    async *start() {
      throw new Error('bpftrace: cannot attach');
    },
    startStacks: () => (async function* () {})(),
  };
  const wrapped = withHeadStart(failing, {tab: 'malloc', intervalMs: 1000});
  await new Promise(resolve => setTimeout(resolve, 10));
  const iterator = wrapped.start({tab: 'malloc', intervalMs: 1000, signal: new AbortController().signal})[Symbol.asyncIterator]();
  await assert.rejects(iterator.next(), /cannot attach/);
});
