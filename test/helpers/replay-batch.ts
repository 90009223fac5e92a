// A child for the replay end-to-end test: plays a recording through batch JSON mode, as
// `memtop --replay FILE --batch --json` does, and prints what batch mode prints.
import {readRecording, replayBackend} from '../../source/record/replay.js';
import {runBatch} from '../../source/batch.js';
import type {TabId} from '../../source/types.js';

const [file, tab, iterations, pid] = process.argv.slice(2);
if (!file || !tab || !iterations) throw new Error('usage: replay-batch.ts FILE TAB ITERATIONS [PID]');
await runBatch(
  replayBackend(readRecording(file), {speed: 0}),
  {tab: tab as TabId, intervalMs: 1000, limit: 10, backend: 'auto', batch: true, iterations: Number(iterations), json: true, pid: pid ? Number(pid) : undefined, stacks: Boolean(pid), check: false, help: false, version: false, overwrite: false, speed: 1, folded: false},
  {write: text => process.stdout.write(text), warn: text => process.stderr.write(text + '\n')},
  new AbortController().signal,
);
