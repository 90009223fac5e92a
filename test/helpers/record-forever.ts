// A child for the crash test: records large table snapshots as fast as it can until killed.
import {Recorder} from '../../source/record/recorder.js';
import {recordingHeader} from '../../source/record/format.js';
import type {TracerSnapshot} from '../../source/types.js';

const path = process.argv[2];
if (!path) throw new Error('usage: record-forever.ts FILE');
const recorder = new Recorder(path, recordingHeader({memtopVersion: 'test', backend: 'bpftrace', probes: {malloc: 'uprobe:libc:malloc'}}));
// Lines of about 200 KB, so a kill has a fair chance of landing while one is being written.
const rows = Array.from({length: 4000}, (_, index) => ({pid: index + 1, comm: `worker-${index}`, count: index, bytes: index * 64}));
let interval = 0;
function next(): void {
  const snapshot: TracerSnapshot = {tab: 'malloc', backend: 'bpftrace', probe: 'uprobe:libc:malloc', time: new Date().toISOString(), elapsedMs: 1000 + interval, rows};
  recorder.recordTable(snapshot);
  interval++;
  setImmediate(next);
}
next();
