// End-to-end: no tracer outlives memtop, however it ends (q, Ctrl-C, SIGTERM, SIGHUP, SIGINT in
// batch mode, an uncaught exception, SIGKILL, a closed pipe), and fast tab switching and drill-downs
// leave exactly the tracers the current view needs. Real memtop, real bpftrace, as root.
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {afterEach, describe, it} from 'node:test';
import {descendantPids, isRunning, startLineChild, type LineChild} from './helpers/child-lines.js';
import {cannotRun, CLI} from './helpers/requirements.js';
import {startTerminal, type Terminal} from './helpers/tmux.js';
import {waitForValue} from './helpers/wait-for-value.js';
import {startWorkload} from './helpers/workloads.js';

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** memtop's tracer processes: descendants running one of its probe scripts. */
function tracersOf(pid: number): {pid: number; script: string}[] {
  return descendantPids(pid)
    .filter(isRunning)
    .map(child => ({pid: child, script: cmdline(child).find(arg => arg.includes('/probes/bpftrace/')) ?? ''}))
    .filter(tracer => tracer.script !== '');
}

async function allGone(pids: number[], withinMs: number): Promise<void> {
  await waitForValue(() => pids.every(pid => !isRunning(pid)), {timeoutMs: withinMs, what: `tracers ${pids.join(', ')} to be gone`}, () =>
    pids.filter(isRunning).map(pid => `${pid}: ${cmdline(pid).join(' ')}`).join('\n'));
}

let children: LineChild[] = [];
let terminals: Terminal[] = [];
afterEach(async () => {
  for (const child of children) await child.stop('SIGKILL', 100);
  for (const terminal of terminals) terminal.kill();
  children = [];
  terminals = [];
});

function batch(args: string[], env: Record<string, string> = {}): LineChild {
  const child = startLineChild(process.execPath, [CLI, '--batch', '--json', ...args], {what: `memtop ${args.join(' ')}`, env});
  children.push(child);
  return child;
}

async function firstSnapshotAndTracer(child: LineChild): Promise<number[]> {
  await child.waitForRecord(record => Array.isArray(record.rows) || Array.isArray(record.stacks), 'a first snapshot', 20_000);
  const tracers = tracersOf(child.pid);
  assert.equal(tracers.length, 1, `one tracer while running, got ${JSON.stringify(tracers)}`);
  return tracers.map(tracer => tracer.pid);
}

describe('batch mode: every way out takes the tracer with it within two seconds', () => {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGKILL'] as const) {
    it(`${signal}`, async t => {
      if (cannotRun(t)) return;
      const child = batch(['--tab', 'brk', '--interval', '500']);
      const tracers = await firstSnapshotAndTracer(child);
      process.kill(child.pid, signal);
      await allGone(tracers, 2000);
      const exit = await child.exited;
      if (signal !== 'SIGKILL') assert.equal(child.stderr().includes('    at '), false, 'no stack trace');
      assert.ok(exit.exitCode !== 0 || exit.signal, 'memtop reports it was stopped');
    });
  }

  it('an uncaught exception inside memtop: one line, exit 70, tracer gone', async t => {
    if (cannotRun(t)) return;
    const child = batch(['--tab', 'slab'], {MEMTOP_TEST_CRASH_AFTER_MS: '4000'});
    const tracers = await firstSnapshotAndTracer(child);
    const exit = await child.exited;
    assert.equal(exit.exitCode, 70);
    assert.match(child.stderr(), /^memtop: internal error: injected crash/m);
    assert.equal(child.stderr().includes('    at '), false, 'no stack trace');
    await allGone(tracers, 2000);
  });

  it('a reader that goes away (memtop --batch | head -1) ends memtop and its tracer quietly', async t => {
    if (cannotRun(t)) return;
    const shell = startLineChild('/bin/sh', ['-c', `"${process.execPath}" "${CLI}" --batch --json --tab brk --interval 300 | head -n 1`], {what: 'memtop | head -1'});
    children.push(shell);
    const exit = await shell.exited;
    assert.equal(exit.exitCode, 0);
    assert.equal(shell.lines.length, 1);
    // memtop itself is a child of the shell: wait for its tracers via a system-wide look.
    await waitForValue(() => !tracersOfAnyMemtopUnder(shell.pid), {timeoutMs: 3000, what: 'no tracer of that pipeline'});
  });

  it('a drill-down whose process exits keeps its last data, says so, and exits 0', async t => {
    if (cannotRun(t)) return;
    const sleeper = startLineChild('/bin/sh', ['-c', 'i=0; while [ $i -lt 30 ]; do head -c 100000 /dev/zero > /dev/null; i=$((i+1)); sleep 0.1; done'], {what: 'short-lived shell'});
    children.push(sleeper);
    const child = batch(['--tab', 'slab', '--pid', String(sleeper.pid), '--stacks', '--interval', '500']);
    await child.waitForRecord(record => Array.isArray(record.stacks), 'a stack snapshot', 20_000);
    const exit = await child.exited;
    assert.equal(exit.exitCode, 0, child.describe());
    assert.match(child.stderr(), new RegExp(`process ${sleeper.pid} has exited; its last stacks are above`));
  });
});

/** Whether any process below `pid` runs a memtop probe script (for pipelines). */
function tracersOfAnyMemtopUnder(pid: number): boolean {
  return descendantPids(pid).some(child => isRunning(child) && cmdline(child).some(arg => arg.includes('/probes/bpftrace/')));
}

/** Whether a process is memtop (meow retitles it "memtop", so its cmdline may be just that). */
function isMemtop(pid: number): boolean {
  const args = cmdline(pid);
  return args[0] === 'memtop' || args.some(arg => arg.endsWith('dist/cli.js'));
}

/** The memtop node process in a tmux pane (the pane's process or a descendant). */
function memtopIn(terminal: Terminal): number {
  const pane = terminal.panePid();
  if (isMemtop(pane)) return pane;
  const found = descendantPids(pane).find(isMemtop);
  assert.ok(found, `memtop runs in the pane (pane ${pane}: ${cmdline(pane).join(' ')})`);
  return found;
}

function tui(args: string[] = [], columns = 120, rows = 40): Terminal {
  const terminal = startTerminal([process.execPath, CLI, ...args], columns, rows);
  terminals.push(terminal);
  return terminal;
}

describe('the TUI in a real terminal', () => {
  for (const [name, keys] of [['q', ['q']], ['Ctrl-C', ['C-c']]] as const) {
    it(`${name} quits and takes the tracer with it`, async t => {
      if (cannotRun(t)) return;
      const terminal = tui(['--tab', 'brk']);
      await terminal.waitFor(screen => /probe tracepoint:syscalls:sys_exit_brk/.test(screen), 'the brk tab running');
      const memtop = memtopIn(terminal);
      const tracers = tracersOf(memtop).map(tracer => tracer.pid);
      assert.equal(tracers.length, 1);
      terminal.keys(...keys);
      await allGone(tracers, 2000);
      await waitForValue(() => !isRunning(memtop), {timeoutMs: 2000, what: 'memtop to exit'});
    });
  }

  it('closing the terminal (SIGHUP) takes the tracer with it', async t => {
    if (cannotRun(t)) return;
    const terminal = tui(['--tab', 'slab']);
    await terminal.waitFor(screen => /probe tracepoint:kmem/.test(screen), 'the slab tab running');
    const tracers = tracersOf(memtopIn(terminal)).map(tracer => tracer.pid);
    assert.equal(tracers.length, 1);
    terminal.kill();
    await allGone(tracers, 2000);
  });

  it('50 tab switches in five seconds, then drill-downs opened and closed fast, leave exactly the tracer the view needs', async t => {
    if (cannotRun(t)) return;
    // The drill-downs go into a workload of the test's own, which lives through the test: the
    // name filter shows only it, whatever else the machine runs.
    const workload = await startWorkload('slab', {eventsPerSecond: 200, seconds: 120});
    children.push(workload.process);
    await workload.started();
    const terminal = tui(['--tab', 'brk', '--interval', '500', '--comm', workload.spec.name]);
    await terminal.waitFor(screen => /probe tracepoint:syscalls:sys_exit_brk/.test(screen), 'the brk tab running');
    const memtop = memtopIn(terminal);
    const keys = ['Tab', 'BTab', 'Right', 'Left', '1', '2', '3', '4', '5'];
    for (let press = 0; press < 50; press++) {
      terminal.keys(keys[press % keys.length]!);
      await new Promise(resolve => setTimeout(resolve, 100));
    }
    // The last key was '5' (press 49 is keys[4]): anon page-ins.
    terminal.keys('3');
    await terminal.waitFor(screen => /probe tracepoint:kmem/.test(screen), 'the slab tab after the storm', 15_000);
    await waitForValue(() => {
      const tracers = tracersOf(memtop);
      return tracers.length === 1 && tracers[0]!.script.endsWith('/slab.bt') ? tracers : undefined;
    }, {timeoutMs: 5000, what: 'exactly the slab tracer'}, () => JSON.stringify(tracersOf(memtop)));
    await terminal.waitFor(screen => new RegExp(`^\\s+${workload.pid} ${workload.spec.name}`, 'm').test(screen), 'the workload\'s row to drill into', 10_000);
    for (let round = 0; round < 10; round++) {
      terminal.keys('Enter');
      await new Promise(resolve => setTimeout(resolve, 150));
      terminal.keys('Escape');
      await new Promise(resolve => setTimeout(resolve, 150));
    }
    await waitForValue(() => {
      const tracers = tracersOf(memtop);
      return tracers.length === 1 && tracers[0]!.script.endsWith('/slab.bt') ? tracers : undefined;
    }, {timeoutMs: 5000, what: 'exactly the slab tracer after the drill-downs'}, () => JSON.stringify(tracersOf(memtop)));
    terminal.keys('Enter');
    await waitForValue(() => {
      const tracers = tracersOf(memtop);
      return tracers.length === 1 && tracers[0]!.script.endsWith('/stacks-slab.bt') ? tracers : undefined;
    }, {timeoutMs: 5000, what: 'exactly the stack tracer in a drill-down'}, () => JSON.stringify(tracersOf(memtop)));
    terminal.keys('q');
    await waitForValue(() => !isRunning(memtop) && tracersOf(memtop).length === 0, {timeoutMs: 3000, what: 'memtop gone'});
  });
});
