// Profiles the App rendering table snapshots (not part of npm run bench): run with
//   NODE_ENV=production node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof test/bench/profile-app.tsx [processes] [seconds]
import React from 'react';
import {render} from 'ink-testing-library';
import {App} from '../../source/app.js';
import type {Backend, RawRow, TracerSnapshot} from '../../source/types.js';

const processes = Number(process.argv[2] ?? 100);
const seconds = Number(process.argv[3] ?? 8);
let tick = 0;
function snapshot(): TracerSnapshot {
  tick++;
  const rows: RawRow[] = [];
  for (let index = 0; index < processes; index++) rows.push({pid: 1000 + index, comm: `proc-${index}`, count: 1 + ((index * 7919 + tick * 104729) % 100_000), bytes: 4096 * (1 + (index % 50))});
  return {tab: 'malloc', backend: 'bpftrace', probe: 'profile', time: new Date().toISOString(), elapsedMs: 1000, rows, capped: false, skippedLines: 0};
}
const backend: Backend = {
  id: 'bpftrace',
  available: async () => ({ok: true}),
  probeFor: async () => 'profile',
  async *start({signal}) {
    while (!signal.aborted) {
      await new Promise(resolve => setTimeout(resolve, 100));
      yield snapshot();
    }
  },
  startStacks: () => (async function* () {})(),
};
const instance = render(<App backend={backend} tab="malloc" intervalMs={1000} size={{columns: 120, rows: 40}} />);
// Measure after a 2 s warm-up (module loading, JIT), over the rest.
let before = process.cpuUsage();
let ticksBefore = 0;
let framesBefore = 0;
setTimeout(() => {
  before = process.cpuUsage();
  ticksBefore = tick;
  framesBefore = instance.frames.length;
}, 2000);
setTimeout(() => {
  const used = process.cpuUsage(before);
  const snapshots = tick - ticksBefore;
  process.stderr.write(`snapshots ${snapshots}, frames ${instance.frames.length - framesBefore}, CPU ms per snapshot ${((used.user + used.system) / 1000 / snapshots).toFixed(2)}\n`);
  instance.unmount();
  process.exit(0);
}, seconds * 1000);
