// Tests of replay in the TUI's terms: stepping one interval of the shown view, and the
// useReplay hook playing, pausing, stepping and changing speed in a rendered component.
import {afterEach, test} from 'node:test';
import assert from 'node:assert/strict';
import React from 'react';
import {Text} from 'ink';
import {render} from 'ink-testing-library';
import {ReplayTimeline} from '../source/record/replay.js';
import type {RecordingEvent} from '../source/record/format.js';
import {stepIndex, useReplay, type ReplayState, type ReplayView} from '../source/ui/use-replay.js';
import type {TabId, TracerSnapshot} from '../source/types.js';

const table = (tab: TabId, second: number, count: number, gapMs = 1000): RecordingEvent => ({
  kind: 'table', tab,
  snapshot: {tab, backend: 'bpftrace', probe: 'p', time: new Date(Date.UTC(2025, 0, 1) + second * gapMs).toISOString(), elapsedMs: gapMs, rows: [{pid: 1, comm: 'a', count}]} satisfies TracerSnapshot,
});
const stacks = (pid: number, second: number, gapMs = 1000): RecordingEvent => ({
  kind: 'stacks',
  snapshot: {tab: 'malloc', backend: 'bpftrace', probe: 's', pid, time: new Date(Date.UTC(2025, 0, 1) + second * gapMs).toISOString(), elapsedMs: gapMs, stacks: [{count: second, frames: ['f']}]},
});

test('a step moves one interval of the shown view, from what is shown', () => {
  // 0 malloc, 1 brk, 2 stacks(7), 3 malloc, 4 brk, 5 malloc
  const timeline = new ReplayTimeline([table('malloc', 0, 1), table('brk', 1, 1), stacks(7, 2), table('malloc', 3, 2), table('brk', 4, 2), table('malloc', 5, 3)]);
  const malloc: ReplayView = {tab: 'malloc'};
  assert.equal(stepIndex(timeline, 0, 1, malloc), 3);
  assert.equal(stepIndex(timeline, 3, 1, malloc), 5);
  assert.equal(stepIndex(timeline, 5, 1, malloc), 5, 'the end');
  assert.equal(stepIndex(timeline, 4, -1, malloc), 0, 'at 4 the screen shows the malloc interval of 3; back is the one before it');
  assert.equal(stepIndex(timeline, 3, -1, malloc), 0);
  assert.equal(stepIndex(timeline, 0, -1, malloc), 0, 'the start');
  assert.equal(stepIndex(timeline, 0, 1, {tab: 'brk'}), 1);
  assert.equal(stepIndex(timeline, 0, 1, {tab: 'malloc', drill: {tab: 'malloc', pid: 7}}), 2);
  assert.equal(stepIndex(timeline, 2, 1, {tab: 'malloc', drill: {tab: 'malloc', pid: 7}}), 2);
});

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const done of cleanup) done();
  cleanup = [];
});

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 10));
  }
}

function Probe({timeline, view, paused, expose}: {timeline: ReplayTimeline; view: ReplayView; paused: boolean; expose: (state: ReplayState) => void}) {
  const replay = useReplay(timeline, view, {paused});
  expose(replay);
  const rows = replay.data[view.tab]?.process?.rows.get('pid:1');
  const text = view.drill
    ? `at ${replay.index} stacks ${replay.drill.snapshot?.stacks[0]?.count ?? replay.drill.status.error}`
    : `at ${replay.index} total ${rows?.totalCount ?? replay.status[view.tab]?.error} x${replay.speed}${replay.atEnd ? ' end' : ''}`;
  return <Text>{text}</Text>;
}

function mount(timeline: ReplayTimeline, view: ReplayView, paused: boolean) {
  let state: ReplayState | undefined;
  const instance = render(<Probe timeline={timeline} view={view} paused={paused} expose={next => (state = next)} />);
  cleanup.push(() => instance.unmount());
  return {instance, state: () => state!, frame: () => instance.lastFrame() ?? ''};
}

test('playing walks the recording at its recorded pace and stops at the end', async () => {
  const timeline = new ReplayTimeline([table('malloc', 0, 1, 30), table('malloc', 1, 2, 30), table('malloc', 2, 4, 30)]);
  const started = Date.now();
  const app = mount(timeline, {tab: 'malloc'}, false);
  assert.equal(app.frame(), 'at 0 total 1 x1');
  await until(() => app.frame() === 'at 2 total 7 x1 end', 'the end');
  assert.ok(Date.now() - started >= 50, 'two recorded gaps of 30 ms');
});

test('paused, it stays; steps and speed changes are what the keys will call', async () => {
  const timeline = new ReplayTimeline([table('malloc', 0, 1), table('brk', 1, 5), stacks(9, 2), table('malloc', 3, 2), table('malloc', 4, 4)]);
  const app = mount(timeline, {tab: 'malloc'}, true);
  await new Promise(resolve => setTimeout(resolve, 50));
  assert.equal(app.frame(), 'at 0 total 1 x1');
  app.state().stepForward();
  await until(() => app.frame() === 'at 3 total 3 x1', 'a step forward');
  app.state().stepForward();
  await until(() => app.frame() === 'at 4 total 7 x1 end', 'the last interval');
  app.state().stepBack();
  await until(() => app.frame() === 'at 3 total 3 x1', 'a step back');
  app.state().cycleSpeed();
  await until(() => app.frame() === 'at 3 total 3 x2', 'speed x2');

  const brk = mount(timeline, {tab: 'anonpgin'}, true);
  assert.equal(brk.frame(), 'at 0 total the anonpgin tab was not recorded x1');
  const early = mount(timeline, {tab: 'brk'}, true);
  assert.equal(early.frame(), 'at 0 total no brk data recorded up to here: step forward (]) or play x1');
  const drill = mount(timeline, {tab: 'malloc', drill: {tab: 'malloc', pid: 9}}, true);
  assert.match(drill.frame(), /^at 0 stacks no stacks of PID 9 recorded up to here/);
  drill.state().stepForward();
  await until(() => drill.frame() === 'at 2 stacks 2', 'the drill-down\'s stacks');
});
