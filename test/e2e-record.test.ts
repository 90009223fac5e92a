// End-to-end, through the real memtop command: a real bpftrace run (as root) of batch mode and
// of a drill-down alongside, each recorded with --record, then replayed with --replay by an
// unprivileged user (nobody): batch JSON must print the very lines the live run printed, and the
// TUI must show the recorded rows. A TUI session is recorded too, and replayed.
import assert from 'node:assert/strict';
import {chmodSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, afterEach, describe, it} from 'node:test';
import {execa} from 'execa';
import {readRecording} from '../source/record/replay.js';
import {cgroupOf} from '../source/system/cgroups.js';
import {startLineChild, type LineChild} from './helpers/child-lines.js';
import {startMemtopTerminal, type MemtopTerminal} from './helpers/memtop-terminal.js';
import {cannotRun, CLI} from './helpers/requirements.js';
import {waitForValue} from './helpers/wait-for-value.js';
import {startWorkload, type RunningWorkload} from './helpers/workloads.js';

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'];
const INTERVAL_MS = 500;

const dir = mkdtempSync(join(tmpdir(), 'memtop-e2e-record-'));
// Let the unprivileged replay read the recordings.
chmodSync(dir, 0o755);
let children: LineChild[] = [];
let terminals: MemtopTerminal[] = [];
let workload: RunningWorkload | undefined;
afterEach(async () => {
  for (const terminal of terminals) await terminal.close();
  for (const child of children) await child.stop('SIGKILL', 1000);
  await workload?.process.stop('SIGKILL');
  children = [];
  terminals = [];
  workload = undefined;
});
after(() => rmSync(dir, {recursive: true, force: true}));

const lines = (text: string) => text.split('\n').filter(Boolean);

function memtop(args: string[]): LineChild {
  const child = startLineChild(process.execPath, [CLI, ...args], {what: `memtop ${args.join(' ')}`});
  children.push(child);
  return child;
}

/** memtop run by nobody to its end: its stdout lines. */
async function asNobody(args: string[]): Promise<string[]> {
  const result = await execa('setpriv', [...NOBODY, process.execPath, CLI, ...args], {reject: false, timeout: 60_000, env: {HOME: tmpdir()}, cwd: '/'});
  assert.equal(result.exitCode, 0, `memtop ${args.join(' ')} as nobody:\n${result.stderr}`);
  assert.equal(result.stderr, '', 'a replay that reads to the end says nothing on stderr');
  return lines(result.stdout);
}

describe('record and replay through the memtop command', () => {
  it('a recorded batch run and drill-down replay, without root, to the very lines printed live', {timeout: 120_000}, async t => {
    if (cannotRun(t)) return;
    workload = await startWorkload('malloc', {eventsPerSecond: 2000, seconds: 3, lingerSeconds: 2}, {waitForGo: true});
    await workload.ready();
    const tables = join(dir, 'tables.ndjson');
    const stacks = join(dir, 'stacks.ndjson');
    const interval = ['--interval', String(INTERVAL_MS)];
    const table = memtop(['--batch', '--json', '--tab', 'malloc', ...interval, '--record', tables]);
    const drill = memtop(['--batch', '--json', '--tab', 'malloc', '--pid', String(workload.pid), '--stacks', ...interval, '--record', stacks]);
    await Promise.all([table.waitForRecord(record => Array.isArray(record.rows), 'a first table', 60_000), drill.waitForRecord(record => Array.isArray(record.stacks), 'first stacks', 60_000)]);
    workload.go();
    await workload.done();
    const seen = table.records.length;
    await waitForValue(() => table.records.length >= seen + 2 || undefined, {timeoutMs: 10_000, what: 'two intervals after the workload'});
    // SIGTERM, as a user's Ctrl-C in a pipe: the recordings end on a whole line.
    await table.stop('SIGTERM');
    await drill.stop('SIGTERM');

    const liveTables = table.lines.filter(line => line.startsWith('{'));
    const liveStacks = drill.lines.filter(line => line.startsWith('{'));
    const recorded = readRecording(tables);
    assert.equal(recorded.header.backend, 'bpftrace');
    assert.equal(recorded.events.filter(event => event.kind === 'table').length, liveTables.length, 'every printed interval was recorded');
    assert.equal(readRecording(stacks).events.filter(event => event.kind === 'stacks').length, liveStacks.length);
    assert.ok(liveTables.some(line => JSON.parse(line).rows.some((row: {pid: number; comm: string}) => row.pid === workload!.pid && row.comm === 'wl_malloc')), 'the workload is in the live rows');
    const workloadCgroup = recorded.events.flatMap(event => (event.kind === 'table' && event.cgroups?.[String(workload!.pid)]) || []);
    assert.ok(workloadCgroup.length > 0 && workloadCgroup.every(path => path === cgroupOf(process.pid)), "the workload's cgroup (this test's) was recorded with its rows");

    assert.deepEqual(await asNobody(['--replay', tables, '--batch', '--json', '--tab', 'malloc']), liveTables);
    const replayedStacks = await asNobody(['--replay', stacks, '--batch', '--json', '--tab', 'malloc', '--pid', String(workload.pid), '--stacks']);
    assert.deepEqual(replayedStacks, liveStacks);
    assert.ok(replayedStacks.some(line => (JSON.parse(line) as {stacks: {frames: string[]}[]}).stacks.some(stack => stack.frames.includes('wl_leaf_malloc'))), 'its stacks replay with its frames');
  });

  it('a recorded TUI session replays in the TUI without root: REPLAY, the recorded rows, and keys that step', {timeout: 120_000}, async t => {
    if (cannotRun(t)) return;
    workload = await startWorkload('brk', {eventsPerSecond: 500, seconds: 60}, {});
    await workload.started();
    const file = join(dir, 'tui.ndjson');
    const live = startMemtopTerminal(['--tab', 'brk', '--comm', 'wl_brk', '--interval', String(INTERVAL_MS), '--record', file], {columns: 120, rows: 30});
    terminals.push(live);
    await live.waitFor(screen => new RegExp(`^\\s+${workload!.pid} wl_brk`, 'm').test(screen) && /REC /.test(screen), 'the workload recorded live', 20_000);
    await waitForValue(() => readRecording(file).events.length >= 4 || undefined, {timeoutMs: 10_000, what: 'four intervals recorded'});
    live.keys('q');
    await waitForValue(() => !live.alive() || undefined, {timeoutMs: 5000, what: 'memtop to quit'});

    const replay = startMemtopTerminal(['--replay', file, '--speed', '4'], {columns: 120, rows: 30, wrap: ['setpriv', ...NOBODY]});
    terminals.push(replay);
    const shown = await replay.waitFor(screen => /REPLAY /.test(screen) && new RegExp(`^\\s+${workload!.pid} wl_brk`, 'm').test(screen), 'the recorded row replayed', 20_000);
    assert.match(shown, /probe tracepoint:syscalls:sys_exit_brk/);
    replay.keys('p', '[');
    await replay.waitFor(screen => screen.includes('PAUSED') && /REPLAY \S+ \d+\/\d+/.test(screen), 'paused and stepped', 10_000);
    replay.keys('q');
    await waitForValue(() => !replay.alive() || undefined, {timeoutMs: 5000, what: 'the replay to quit'});
  });
});
