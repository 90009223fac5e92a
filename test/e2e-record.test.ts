// End-to-end: a real bpftrace run (as root) of batch mode with a drill-down alongside, recorded
// through the recording backend, then replayed by an unprivileged user (nobody) through batch
// mode: the replayed JSON lines must be the live ones.
import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {chmodSync, existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {Recorder} from '../source/record/recorder.js';
import {recordingHeader} from '../source/record/format.js';
import {readRecording} from '../source/record/replay.js';
import {recordingBackend} from '../source/record/recording-backend.js';
import {bpftraceBackend} from '../source/backends/bpftrace.js';
import {runBatch} from '../source/batch.js';
import type {Options} from '../source/flags.js';
import {TAB_IDS} from '../source/registry.js';
import {cgroupOf} from '../source/system/cgroups.js';
import {startWorkload, type RunningWorkload} from './helpers/workloads.js';

const NOBODY = 65534;
const INTERVAL_MS = 500;
const why = process.getuid?.() !== 0 ? 'needs root' : !existsSync('/usr/bin/bpftrace') && !existsSync('/usr/local/bin/bpftrace') ? 'needs bpftrace' : undefined;

const dir = mkdtempSync(join(tmpdir(), 'memtop-e2e-record-'));
// Let the unprivileged replay read the recording.
chmodSync(dir, 0o755);
let workload: RunningWorkload | undefined;
after(async () => {
  await workload?.process.stop('SIGKILL');
  rmSync(dir, {recursive: true, force: true});
});

async function until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 25));
  }
}

const lines = (text: string) => text.split('\n').filter(Boolean);

test('a recorded real run replays without root to the very rows batch mode printed live', {skip: why, timeout: 120_000}, async () => {
  workload = await startWorkload('malloc', {eventsPerSecond: 2000, seconds: 3, lingerSeconds: 2}, {waitForGo: true});
  await workload.ready();
  const path = join(dir, 'session.ndjson');
  const probes = Object.fromEntries(await Promise.all(TAB_IDS.map(async tab => [tab, await bpftraceBackend.probeFor(tab)])));
  const recorder = new Recorder(path, recordingHeader({memtopVersion: 'e2e', backend: 'bpftrace', probes}));
  const backend = recordingBackend(bpftraceBackend, recorder);

  const options: Options = {tab: 'malloc', intervalMs: INTERVAL_MS, limit: 10, backend: 'bpftrace', batch: true, json: true, stacks: false, check: false, help: false, version: false, overwrite: false, speed: 1, folded: false};
  const controller = new AbortController();
  let tableOut = '';
  let stacksOut = '';
  const warnings: string[] = [];
  const warn = (text: string) => warnings.push(text);
  const tableRun = runBatch(backend, options, {write: text => (tableOut += text), warn}, controller.signal);
  const stacksRun = runBatch(backend, {...options, pid: workload.pid, stacks: true}, {write: text => (stacksOut += text), warn}, controller.signal);
  try {
    await until(() => lines(tableOut).length >= 1 && lines(stacksOut).length >= 1, 'both tracers\' first interval', 60_000);
    workload.go();
    await workload.done();
    const seen = lines(tableOut).length;
    await until(() => lines(tableOut).length >= seen + 2, 'two intervals after the workload', 10_000);
  } finally {
    controller.abort();
    await Promise.allSettled([tableRun, stacksRun]);
    recorder.close();
  }

  const recording = readRecording(path);
  const liveTables = lines(tableOut);
  const liveStacks = lines(stacksOut);
  assert.equal(recording.events.filter(event => event.kind === 'table').length, liveTables.length, 'every printed interval was recorded');
  assert.equal(recording.events.filter(event => event.kind === 'stacks').length, liveStacks.length);
  assert.ok(liveTables.some(line => JSON.parse(line).rows.some((row: {pid: number; comm: string}) => row.pid === workload!.pid && row.comm === 'wl_malloc')), 'the workload is in the live rows');
  const workloadCgroup = recording.events.flatMap(event => (event.kind === 'table' && event.cgroups?.[String(workload!.pid)]) || []);
  assert.ok(workloadCgroup.length > 0 && workloadCgroup.every(path => path === cgroupOf(process.pid)), 'the workload\'s cgroup (this test\'s) was recorded with its rows');
  assert.ok(recording.events.some(event => event.kind === 'stacks' && event.snapshot.comm === 'wl_malloc' && event.snapshot.stacks.some(stack => stack.frames.includes('wl_leaf_malloc'))), 'its stacks were recorded with its name');

  const replay = async (...args: string[]) => {
    const script = fileURLToPath(new URL('./helpers/replay-batch.ts', import.meta.url));
    const {stdout} = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, path, ...args], {uid: NOBODY, gid: NOBODY, env: {...process.env, HOME: tmpdir()}, timeout: 60_000, maxBuffer: 64 * 1024 * 1024});
    return lines(stdout);
  };
  assert.deepEqual(await replay('malloc', String(liveTables.length)), liveTables);
  // Batch mode names a drilled process from /proc, where a replay has no such process; the
  // stacks, histogram and entry points must be the same.
  const withoutComm = (line: string) => {
    const {comm: _comm, ...rest} = JSON.parse(line) as Record<string, unknown>;
    return rest;
  };
  assert.deepEqual((await replay('malloc', String(liveStacks.length), String(workload.pid))).map(withoutComm), liveStacks.map(withoutComm));
});
