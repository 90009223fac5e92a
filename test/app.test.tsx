// Component tests of the TUI with ink-testing-library: tabs, sorting, selection, drill-down,
// pause, filter, help, errors and terminal size, driven by key presses as a user would.
import {afterEach, test} from 'node:test';
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import React from 'react';
import {render} from 'ink-testing-library';
import {App} from '../source/app.js';
import {TracerError} from '../source/types.js';
import {scriptedBackend, snapshotOf} from './helpers/scripted-backend.js';
import {waitFor} from './helpers/wait-for.js';
import {withPids, type CommandSession, type CommandView} from '../source/command/command-tui.js';
import {buildSummary} from '../source/model/command-summary.js';

const ESC = '\u001b';
const KEYS = {tab: '\t', shiftTab: `${ESC}[Z`, down: `${ESC}[B`, up: `${ESC}[A`, enter: '\r', escape: ESC, right: `${ESC}[C`};

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const done of cleanup) done();
  cleanup = [];
});

function mount(element: React.ReactElement) {
  const instance = render(element);
  cleanup.push(() => instance.unmount());
  return instance;
}

const frame = (instance: ReturnType<typeof render>) => instance.lastFrame() ?? '';
const press = async (instance: ReturnType<typeof render>, input: string) => {
  instance.stdin.write(input);
  await new Promise(resolve => setTimeout(resolve, 30));
};

/** The tracers running settle to these: a stopped tracer's generator ends a tick after its abort. */
async function runningIs(backend: {running: Set<string>}, expected: string[]) {
  await waitFor(() => JSON.stringify([...backend.running]) === JSON.stringify(expected), `tracers ${expected.join(', ')}`).catch(() => undefined);
  assert.deepEqual([...backend.running], expected);
}

const tableBackend = () =>
  scriptedBackend({
    table: tab =>
      snapshotOf(tab, [
        [101, 'alpha', 50, 100],
        [102, 'bravo', 300, 10],
        [103, 'charlie', 7, 9000],
      ], tab === 'slab' ? {otherViews: {cache: [{cache: 'dentry', count: 40, bytes: 7680}]}} : {}),
    stacks: (tab, pid) => ({
      tab, backend: 'bpftrace', probe: 'stack-probe', pid, time: 't', elapsedMs: 1000,
      stacks: [{count: 9, bytes: 900, frames: ['malloc', 'wl_leaf', 'wl_outer', 'main']}, {count: 1, bytes: 1, frames: ['malloc', 'other']}],
      histogram: [{min: 64, max: 127, count: 9}],
      entryPoints: [{name: 'malloc', count: 10}, {name: 'free', count: 8}],
    }),
    cacheStacks: (tab, cache) => ({
      tab, backend: 'bpftrace', probe: 'cache-probe', cache, time: 't', elapsedMs: 1000, kernel: true,
      stacks: [{count: 30, bytes: 5760, frames: ['kmem_cache_alloc_noprof', 'd_alloc', 'path_openat', '__x64_sys_openat']}, {count: 10, bytes: 1920, frames: ['kmem_cache_alloc_noprof', 'd_alloc_pseudo']}],
      processes: [{pid: 102, comm: 'bravo', count: 30, bytes: 5760}, {pid: 7, comm: `evil${ESC}[2J`, count: 10, bytes: 1920}],
    }),
  });

test('the first tab shows rows largest first and names the probe', async () => {
  const backend = tableBackend();
  const app = mount(<App backend={backend} size={{columns: 100, rows: 20}} />);
  await waitFor(() => frame(app).includes('bravo'), 'rows');
  const text = frame(app);
  assert.ok(text.indexOf('bravo') < text.indexOf('alpha') && text.indexOf('alpha') < text.indexOf('charlie'), text);
  assert.match(text, /probe probe-for-malloc/);
  await runningIs(backend, ['malloc']);
});

test('switching tabs runs only the new tab\'s tracer', async () => {
  const backend = tableBackend();
  const app = mount(<App backend={backend} size={{columns: 100, rows: 20}} />);
  await waitFor(() => frame(app).includes('bravo'), 'rows');
  await press(app, KEYS.tab);
  await waitFor(() => frame(app).includes('probe-for-brk'), 'brk tab');
  await runningIs(backend, ['brk']);
  await press(app, '4');
  await waitFor(() => frame(app).includes('probe-for-majfault'), 'majfault tab');
  await runningIs(backend, ['majfault']);
  await press(app, KEYS.shiftTab);
  await waitFor(() => frame(app).includes('probe-for-slab'), 'slab tab');
  await runningIs(backend, ['slab']);
});

test('sorting: > moves to the bytes column, r reverses', async () => {
  const app = mount(<App backend={tableBackend()} size={{columns: 100, rows: 20}} />);
  await waitFor(() => frame(app).includes('bravo'), 'rows');
  await press(app, '>');
  await waitFor(() => /▼BYTES/.test(frame(app)), 'bytes sort mark');
  let text = frame(app);
  assert.ok(text.indexOf('charlie') < text.indexOf('alpha') && text.indexOf('alpha') < text.indexOf('bravo'), text);
  await press(app, 'r');
  await waitFor(() => /▲BYTES/.test(frame(app)), 'ascending mark');
  text = frame(app);
  assert.ok(text.indexOf('bravo') < text.indexOf('alpha'), text);
});

test('Enter drills into the selected process; Esc goes back; the stack tracer runs only meanwhile', async () => {
  const backend = tableBackend();
  const app = mount(<App backend={backend} size={{columns: 100, rows: 30}} />);
  await waitFor(() => frame(app).includes('bravo'), 'rows');
  await press(app, KEYS.down);
  // Ink reads a lone ESC-prefixed sequence after a short pause; let the selection land first.
  await new Promise(resolve => setTimeout(resolve, 150));
  await press(app, KEYS.enter);
  await waitFor(() => frame(app).includes('wl_outer'), 'stacks');
  const text = frame(app);
  assert.match(text, /stacks of PID 101 \(alpha\)/);
  assert.match(text, /90\.0%/);
  assert.match(text, /entry points: malloc 10 {2}free 8/);
  assert.match(text, /\[64B, 128B\)/);
  await runningIs(backend, ['stacks:malloc:101']);
  await press(app, KEYS.escape);
  await waitFor(() => frame(app).includes('charlie'), 'table again');
  await runningIs(backend, ['malloc']);
});

test('pause keeps collecting but stops updating, and says PAUSED', async () => {
  let count = 1;
  const backend = scriptedBackend({table: tab => snapshotOf(tab, [[7, 'ticker', count++]])});
  const app = mount(<App backend={backend} size={{columns: 100, rows: 20}} />);
  await waitFor(() => frame(app).includes('ticker'), 'rows');
  await press(app, ' ');
  await waitFor(() => frame(app).includes('PAUSED'), 'PAUSED');
  const frozen = frame(app);
  const countAtPause = count;
  await waitFor(() => count > countAtPause + 3, 'more snapshots');
  assert.equal(frame(app), frozen);
  await press(app, 'p');
  await waitFor(() => !frame(app).includes('PAUSED') && frame(app) !== frozen, 'resumed');
});

test('filter by name with /, Esc clears it', async () => {
  const app = mount(<App backend={tableBackend()} size={{columns: 100, rows: 20}} />);
  await waitFor(() => frame(app).includes('bravo'), 'rows');
  await press(app, '/');
  await press(app, 'ch');
  await press(app, KEYS.enter);
  await waitFor(() => !frame(app).includes('bravo'), 'filtered');
  assert.match(frame(app), /charlie/);
  assert.match(frame(app), /filter: ch/);
  await press(app, KEYS.escape);
  await waitFor(() => frame(app).includes('bravo'), 'filter cleared');
});

test('slab: g groups by cache', async () => {
  const app = mount(<App backend={tableBackend()} tab="slab" size={{columns: 100, rows: 20}} />);
  await waitFor(() => frame(app).includes('bravo'), 'rows');
  await press(app, 'g');
  await waitFor(() => frame(app).includes('dentry'), 'cache rows');
  assert.match(frame(app), /CACHE/);
  // The cache rows the last interval measured alongside are marked stale until the view's own tracer's first.
  await waitFor(() => /by cache/.test(frame(app)) && !/STALE/.test(frame(app)), 'the cache view\'s first interval');
});

test('help lists the key table', async () => {
  const app = mount(<App backend={tableBackend()} size={{columns: 100, rows: 40}} />);
  await press(app, '?');
  await waitFor(() => frame(app).includes('drill into the selected row'), 'help');
  assert.match(frame(app), /reverse the sort order/);
  // Then what each column of the table on screen shows: /s is over the interval's measured length.
  await waitFor(() => frame(app).includes('columns:'), 'the columns');
  assert.match(frame(app), /^\/s +CALLS a second: this interval's CALLS over its measured length/m);
  assert.match(frame(app), /^TOTAL +malloc\(\) calls, since memtop started/m);
});

test('a tracer that fails shows its reason and the fix, and other tabs keep working', async () => {
  const backend = scriptedBackend({
    table: tab => (tab === 'anonpgin' ? new TracerError('bpftrace: tracepoint not found', 'a kernel with memcg tracepoints is needed') : snapshotOf(tab, [[5, 'fine', 1]])),
  });
  const app = mount(<App backend={backend} tab="anonpgin" size={{columns: 120, rows: 20}} />);
  await waitFor(() => frame(app).includes('tracepoint not found'), 'error line');
  assert.match(frame(app), /a kernel with memcg tracepoints is needed/);
  assert.match(frame(app), /retrying in/);
  await press(app, '1');
  await waitFor(() => frame(app).includes('fine'), 'malloc tab works');
});

test('names with escape sequences are drawn as text', async () => {
  const backend = scriptedBackend({table: tab => snapshotOf(tab, [[66, '\u001b]0;pwned\u0007\u001b[31mred', 5]])});
  const app = mount(<App backend={backend} size={{columns: 100, rows: 20}} />);
  await waitFor(() => frame(app).includes('pwned'), 'row');
  const line = frame(app).split('\n').find(text => text.includes('pwned'))!;
  assert.ok(!line.includes('\u0007') && !line.includes(']0;pwned\u0007'), JSON.stringify(line));
  assert.match(line, /\?\]0;pwned\?\?\[31m/);
});

test('never more lines than the terminal has; says when it is too small', async () => {
  const many = Array.from({length: 40}, (_, index): [number, string, number] => [index + 1, `p${index}`, index + 1]);
  const backend = scriptedBackend({table: tab => snapshotOf(tab, many)});
  const app = mount(<App backend={backend} limit={100} size={{columns: 40, rows: 12}} />);
  await waitFor(() => frame(app).includes('p39'), 'rows');
  const lines = frame(app).split('\n');
  assert.ok(lines.length <= 12, `${lines.length} lines`);
  assert.ok(lines.every(line => [...line].length <= 40), lines.join('\n'));
  const tiny = mount(<App backend={backend} size={{columns: 20, rows: 4}} />);
  assert.match(frame(tiny), /too small/);
});

test('C filters by cgroup and the CGROUP column shows the container id or the path tail', async () => {
  const cgroups: Record<number, string> = {101: '/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope', 102: '/user.slice/user-0.slice/session-1.scope'};
  const app = mount(<App backend={tableBackend()} cgroupOf={pid => cgroups[pid]} size={{columns: 140, rows: 20}} />);
  await waitFor(() => frame(app).includes('bravo'), 'rows');
  assert.match(frame(app), /0123456789ab/);
  assert.match(frame(app), /user-0\.slice\/session-1\./);
  await press(app, 'C');
  await press(app, 'docker');
  await press(app, KEYS.enter);
  await waitFor(() => !frame(app).includes('bravo'), 'cgroup filter');
  assert.match(frame(app), /alpha/);
  assert.match(frame(app), /cgroup: docker/);
});

test('rows carry a sparkline of their rate', async () => {
  let tick = 0;
  const backend = scriptedBackend({table: tab => snapshotOf(tab, [[9, 'grower', ++tick * 10]])});
  const app = mount(<App backend={backend} size={{columns: 120, rows: 20}} />);
  await waitFor(() => tick >= 4 && /grower/.test(frame(app)), 'a few intervals');
  const line = frame(app).split('\n').find(text => text.includes('grower'))!;
  assert.match(line, /[▁▂▃▄▅▆▇█]{3,}/, line);
});

test('slab by cache: Enter shows the kernel paths into the cache and who makes them; w names the file by cache', async () => {
  const {mkdtempSync, readFileSync, readdirSync} = await import('node:fs');
  const {tmpdir} = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(tmpdir(), 'memtop-folded-'));
  cleanup.push(() => rmSync(dir, {recursive: true, force: true}));
  const backend = tableBackend();
  const app = mount(<App backend={backend} tab="slab" foldedDir={dir} size={{columns: 120, rows: 30}} />);
  await waitFor(() => frame(app).includes('bravo'), 'rows');
  await press(app, 'g');
  await waitFor(() => frame(app).includes('dentry'), 'cache rows');
  assert.doesNotMatch(frame(app), /C cgroup/, 'no cgroup filter where rows are caches');
  await press(app, KEYS.enter);
  await waitFor(() => frame(app).includes('__x64_sys_openat'), 'kernel paths');
  const text = frame(app);
  assert.match(text, /kernel paths into cache dentry/);
  assert.match(text, /KERNEL STACK/);
  assert.match(text, /bravo/);
  assert.match(text, /102/);
  assert.match(text, /75\.0%/);
  assert.ok(!text.includes(`${ESC}[2J`), 'a process name cannot clear the screen');
  await runningIs(backend, ['stacks:slab:dentry']);
  await press(app, 'w');
  await waitFor(() => /wrote .*memtop-slab-cache-dentry-/.test(frame(app)), 'the written notice');
  const [file] = readdirSync(dir);
  assert.equal(readFileSync(path.join(dir, file!), 'utf8'), '__x64_sys_openat;path_openat;d_alloc;kmem_cache_alloc_noprof 30\nd_alloc_pseudo;kmem_cache_alloc_noprof 10\n');
  await press(app, KEYS.escape);
  await waitFor(() => frame(app).includes('CACHE'), 'the cache table again');
  await runningIs(backend, ['slab']);
});

test('w in a drill-down writes the stacks as folded lines, outermost first', async () => {
  const {mkdtempSync, readFileSync, readdirSync} = await import('node:fs');
  const {tmpdir} = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(tmpdir(), 'memtop-folded-'));
  cleanup.push(() => rmSync(dir, {recursive: true, force: true}));
  const app = mount(<App backend={tableBackend()} foldedDir={dir} size={{columns: 120, rows: 30}} />);
  await waitFor(() => frame(app).includes('bravo'), 'rows');
  await press(app, KEYS.enter);
  await waitFor(() => frame(app).includes('wl_outer'), 'stacks');
  await press(app, 'w');
  await waitFor(() => /wrote .*memtop-malloc-102-/.test(frame(app)), 'the written notice');
  const [file] = readdirSync(dir);
  assert.equal(readFileSync(path.join(dir, file!), 'utf8'), 'main;wl_outer;wl_leaf;malloc 9\nother;malloc 1\n');
});

test('keys that arrive in one chunk are separate presses, each seeing the ones before', async () => {
  const app = mount(<App backend={tableBackend()} size={{columns: 100, rows: 20}} />);
  await waitFor(() => frame(app).includes('bravo'), 'rows');
  await press(app, '24');
  await waitFor(() => frame(app).includes('probe-for-majfault'), 'the majfault tab');
  await press(app, '/al');
  await waitFor(() => frame(app).includes('filter: al_'), 'the filter prompt with the rest of the chunk');
});

test('malloc live view: l shows what is outstanding since the view opened; Enter its live stacks, o the age threshold, w writes them by bytes', async () => {
  const since = new Date(2026, 0, 1, 9, 30, 15).toISOString();
  const backend = scriptedBackend({
    table: (tab, index, view) =>
      view === 'live'
        ? {...snapshotOf(tab, []), view: 'live', since, untracked: 0, rows: [{pid: 101, comm: 'leaky', count: 40, bytes: 40960 * (index + 1), age: 95}, {pid: 102, comm: 'tidy', count: 0, bytes: 0, age: 0}]}
        : snapshotOf(tab, [[101, 'leaky', 5, 500]]),
    stacks: (tab, pid, _index, options) => ({
      tab, backend: 'bpftrace', probe: 'live-probe', pid, time: 't', elapsedMs: 1000, view: options?.view,
      stacks: [
        {count: 40, bytes: 40960, frames: ['wl_keep', 'main'], classes: [{count: 30, bytes: 30720}, {count: 10, bytes: 10240}]},
        {count: 2, bytes: 64000, frames: ['wl_churn', 'main'], classes: [{count: 0, bytes: 0}, {count: 2, bytes: 64000}]},
      ],
      live: {since, classes: [{oldest: 95, newest: 40}, {oldest: 40, newest: 0}], totals: [{count: 30, bytes: 30720}, {count: 12, bytes: 74240}], untracked: 3, ...(options?.sampleBytes ? {sampleBytes: options.sampleBytes} : {})},
    }),
  });
  const folded = mkdtempSync(path.join(os.tmpdir(), 'memtop-live-folded-'));
  cleanup.push(() => rmSync(folded, {recursive: true, force: true}));
  // --pid: a live table of one process keeps tracking while its stacks are open (a machine-wide one stops: see tableRunsWhileDrilling).
  const app = mount(<App backend={backend} pid={101} sampleBytes={524288} foldedDir={folded} size={{columns: 130, rows: 30}} />);
  await waitFor(() => frame(app).includes('leaky'), 'requests');
  await press(app, 'l');
  await waitFor(() => /live memory since 09:30:15/.test(frame(app)), 'the live view, since when');
  await runningIs(backend, ['malloc:live']);
  const table = frame(app);
  assert.match(table, /LIVE\s+ALLOCS\s+OLDEST\s+GROWTH\/s/);
  assert.match(table, /leaky\s+[\d.]+K\s+40\s+95s\s+\+40\.0K/);
  assert.doesNotMatch(table, /tidy/, 'nothing outstanding, not shown');
  await press(app, KEYS.enter);
  await waitFor(() => frame(app).includes('wl_churn'), 'live stacks');
  // The live view keeps tracking while its stacks are open: Esc returns to it as it was.
  await runningIs(backend, ['malloc:live', 'stacks:malloc:live:101']);
  let text = frame(app);
  assert.match(text, /stacks of PID 101 \(leaky\) · malloc live memory/);
  assert.match(text, /live since 09:30:15: 103K in 42 allocations, oldest 95s · stacks SAMPLED, 1 per 512K: estimates · CAPPED: 3 not tracked/);
  assert.ok(text.indexOf('wl_churn') < text.indexOf('wl_keep'), 'by outstanding bytes');
  await press(app, 'o');
  await press(app, 'o');
  await waitFor(() => !frame(app).includes('wl_churn'), 'only allocations at least 30 s old');
  text = frame(app);
  assert.match(text, /older than 30s: 30\.0K in 30 allocations/);
  assert.match(text, /30\.0K\s+30\s+95s\s+100\.0%\s+wl_keep/);
  await press(app, 'w');
  await waitFor(() => /wrote /.test(frame(app)), 'the folded file written');
  const [file] = readdirSync(folded);
  assert.match(file!, /^memtop-malloc-live-101-\d{8}T\d{6}Z\.folded$/);
  assert.equal(readFileSync(path.join(folded, file!), 'utf8'), 'main;wl_keep 30720\n', 'what is outstanding and old enough, in bytes');
  await press(app, KEYS.escape);
  await waitFor(() => /live memory since 09:30:15/.test(frame(app)) && frame(app).includes('leaky'), 'the live view as it was');
  assert.doesNotMatch(frame(app), /STALE/, 'its tracer never stopped');
  await runningIs(backend, ['malloc:live']);
});

/** A -- COMMAND session the test moves along by hand: COMMAND is pid 102 and starts 103. */
function commandSession() {
  let view: CommandView = {phase: 'running', pids: new Set([102])};
  const listeners = new Set<() => void>();
  const signals: string[] = [];
  let exited!: (status: number) => void;
  const session: CommandSession = {
    command: ['make', '-j2'],
    pid: 102,
    output: '/tmp/make.log',
    view: () => view,
    subscribe: listener => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    interrupt: () => signals.push('SIGINT'),
    end: async () => {
      signals.push('SIGTERM');
      return 143;
    },
    kill: signal => signals.push(signal),
    exited: new Promise(resolve => {
      exited = resolve;
    }),
  };
  const change = (next: CommandView) => {
    view = next;
    for (const listener of listeners) listener();
  };
  return {session, signals, change, exit: (status: number) => exited(status)};
}

test('-- COMMAND: only its processes; Ctrl-C interrupts it; at its exit its summary replaces the table, every tracer stops, and q quits', async () => {
  const backend = tableBackend();
  const {session, signals, change} = commandSession();
  const app = mount(<App backend={backend} command={session} size={{columns: 120, rows: 30}} />);
  await waitFor(() => frame(app).includes('bravo'), 'rows');
  assert.doesNotMatch(frame(app), /alpha|charlie/, "only COMMAND's processes");
  assert.match(frame(app), /COMMAND make -j2 \(PID 102\) · its output to \/tmp\/make\.log/);
  change(withPids(session.view(), 102, [103]));
  await waitFor(() => frame(app).includes('charlie'), 'the process COMMAND started');
  assert.doesNotMatch(frame(app), /alpha/);
  await press(app, '\u0003');
  assert.deepEqual(signals, ['SIGINT'], 'Ctrl-C is passed on, memtop stays');
  const summary = buildSummary({
    command: session.command,
    exitStatus: 130,
    processes: [{pid: 102, comm: 'make', allocations: 7, frees: 5, bytesAllocated: 700, inUseBytes: 200, inUseBlocks: 2, peakBytes: 300, brkGrowth: 0, minorFaults: 9, majorFaults: 0, exited: true}],
    stacks: [{pid: 102, bytes: 200, blocks: 2, frames: ['leaky', 'main']}],
    untracked: 0,
    heldMs: 10,
    ranMs: 20,
  });
  change({...session.view(), phase: 'summary', exitStatus: 130, summary});
  await waitFor(() => frame(app).includes('HEAP SUMMARY'), 'the summary');
  const text = frame(app);
  assert.match(text, /make -j2 exited with status 130 · q quits/);
  assert.match(text, /in use at exit: 200 bytes in 2 blocks/);
  assert.match(text, /200 bytes in 2 blocks · process 102\n\s+leaky/);
  assert.doesNotMatch(text, /PID COMM|bravo/, 'the summary replaces the table');
  await runningIs(backend, []);
  await press(app, 'q');
  assert.deepEqual(signals, ['SIGINT'], 'q after the exit quits, sending nothing');
});

test('-- COMMAND: q while it runs ends it (SIGTERM) before memtop quits', async () => {
  const backend = tableBackend();
  const {session, signals} = commandSession();
  const app = mount(<App backend={backend} command={session} size={{columns: 120, rows: 30}} />);
  await waitFor(() => frame(app).includes('bravo'), 'rows');
  await press(app, 'q');
  assert.deepEqual(signals, ['SIGTERM']);
});
