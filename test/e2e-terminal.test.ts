// End-to-end: the TUI in a real terminal (a private tmux) that is resized while it runs. Every
// frame fits the terminal, the layout stays one tab bar, one status line, one header, rows and a
// footer (no wrapped leftovers), and a terminal too small says so. Real memtop and bpftrace, as root.
import assert from 'node:assert/strict';
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {afterEach, describe, it} from 'node:test';
import {descendantPids, isRunning, type LineChild} from './helpers/child-lines.js';
import {startMemtopTerminal, type MemtopTerminal} from './helpers/memtop-terminal.js';
import {cannotRun} from './helpers/requirements.js';
import type {Terminal} from './helpers/tmux.js';
import {isMemtop, tracersOf} from './helpers/tracer-processes.js';
import {waitForValue} from './helpers/wait-for-value.js';
import {startWorkload} from './helpers/workloads.js';

let children: LineChild[] = [];
let terminals: MemtopTerminal[] = [];
afterEach(async () => {
  for (const child of children) await child.stop('SIGKILL', 100);
  for (const terminal of terminals) await terminal.close();
  children = [];
  terminals = [];
});

function tui(args: string[], columns: number, rows: number, wrap?: string[]): MemtopTerminal {
  const terminal = startMemtopTerminal(args, {columns, rows, wrap});
  terminals.push(terminal);
  return terminal;
}

const ROW = /^\s*\d+ \S/;
/** The brk tab's header with every column, as at 120 columns. */
const FULL_HEADER = /TOT GROWTH/;

/**
 * Why `screen` is not a clean memtop table frame of at most `columns` x `rows`, or undefined when
 * it is: tab bar, status line, header, table rows, footer, then only blank lines.
 */
function frameProblem(screen: string, columns: number, rows: number, rowText: string): string | undefined {
  const lines = screen.replace(/\n$/, '').split('\n');
  if (lines.length > rows) return `${lines.length} lines on a ${rows}-row terminal`;
  const wide = lines.find(line => [...line].length > columns);
  if (wide !== undefined) return `a line wider than ${columns} columns: ${JSON.stringify(wide)}`;
  if (!/^memtop {1,2}1 /.test(lines[0] ?? '')) return 'the first line is not the tab bar';
  if (lines.filter(line => line.startsWith('memtop ')).length !== 1) return 'more than one tab bar';
  if (!/\b2 brk\b/.test(lines[0]!)) return 'the tab bar does not show the brk tab';
  if (!/probe tracepoint:syscalls:sys_exit_brk/.test(lines[1] ?? '')) return 'the second line is not the brk status line';
  if (!/^\s+PID COMM/.test(lines[2] ?? '')) return 'the third line is not the table header';
  let index = 3;
  while (index < lines.length && ROW.test(lines[index]!)) index++;
  if (index === 3) return 'no table rows';
  if (!lines.slice(3, index).some(line => line.includes(rowText))) return `no row of ${rowText}`;
  if (!/^Tab /.test(lines[index] ?? '')) return `the line after the rows is not the footer: ${JSON.stringify(lines[index])}`;
  const leftover = lines.slice(index + 1).find(line => line.trim() !== '');
  if (leftover !== undefined) return `leftover text below the footer: ${JSON.stringify(leftover)}`;
  return undefined;
}

/** Wait for a clean frame (see frameProblem) whose header matches `header`. */
/** `timeoutMs`: 8 s for a redraw; the first frame also waits for bpftrace to compile and attach, which takes longer on a loaded machine. */
async function waitForFrame(terminal: Terminal, columns: number, rows: number, rowText: string, header: RegExp, what: string, timeoutMs = 8000): Promise<string> {
  let problem: string | undefined;
  const check = (screen: string) => frameProblem(screen, columns, rows, rowText) ?? (header.test(screen.split('\n')[2] ?? '') ? undefined : `the header does not match ${header}`);
  try {
    return await terminal.waitFor(screen => (problem = check(screen)) === undefined, what, timeoutMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}\nlast problem: ${problem}`);
  }
}

describe('a resized terminal', () => {
  it('120x40 to 40x12 and back: every frame fits, one line per part, the full table again', async t => {
    if (cannotRun(t)) return;
    const workload = await startWorkload('brk', {eventsPerSecond: 500, seconds: 30});
    children.push(workload.process);
    const name = workload.spec.name;
    // Filtered to the workload, which other processes on a busy machine might push off the table.
    const terminal = tui(['--tab', 'brk', '--interval', '500', '--comm', name], 120, 40);

    await waitForFrame(terminal, 120, 40, name, FULL_HEADER, 'the full table at 120x40', 30_000);

    terminal.resize(40, 12);
    await waitForFrame(terminal, 40, 12, name, /^\s+PID COMM\s+\S*BRK$/, 'a clean frame at 40x12 (columns that do not fit left out)');

    terminal.resize(120, 40);
    const back = await waitForFrame(terminal, 120, 40, name, FULL_HEADER, 'the full table again at 120x40');
    assert.match(back.split('\n')[0]!, /major faults/, 'the long tab names are back');
  });

  it('20x5 says the terminal is too small, and the table comes back at 120x40', async t => {
    if (cannotRun(t)) return;
    const workload = await startWorkload('brk', {eventsPerSecond: 500, seconds: 30});
    children.push(workload.process);
    const terminal = tui(['--tab', 'brk', '--interval', '500', '--comm', workload.spec.name], 120, 40);
    await waitForFrame(terminal, 120, 40, workload.spec.name, FULL_HEADER, 'the full table at 120x40', 30_000);

    terminal.resize(20, 5);
    const small = await terminal.waitFor(screen => /terminal too small/.test(screen), '"terminal too small" at 20x5', 8000);
    const lines = small.replace(/\n$/, '').split('\n');
    assert.ok(lines.length <= 5, `at most 5 lines:\n${small}`);
    for (const line of lines) assert.ok([...line].length <= 20, `no line wider than 20: ${JSON.stringify(line)}`);
    assert.equal(lines.filter(line => line.trim() !== '').length, 1, `only the note:\n${small}`);

    terminal.resize(120, 40);
    await waitForFrame(terminal, 120, 40, workload.spec.name, FULL_HEADER, 'the full table again at 120x40');
  });
});

describe('a narrow terminal', () => {
  it('at 40x12 the tab bar still shows the active tab, whichever it is', async t => {
    if (cannotRun(t)) return;
    const terminal = tui(['--tab', 'malloc', '--interval', '500'], 40, 12);
    // Each tab and the column its table header names (drawn as soon as the key is handled).
    const tabs = [['malloc', 'CALLS'], ['brk', 'BRK'], ['slab', 'ALLOCS'], ['majfault', 'FAULTS'], ['anonpgin', 'PAGES']] as const;
    const missing: string[] = [];
    for (const [index, [id, column]] of tabs.entries()) {
      terminal.keys(String(index + 1));
      const screen = await terminal.waitFor(screen => (screen.split('\n')[2] ?? '').includes(column), `the ${id} table after key ${index + 1}`, 5000);
      const bar = screen.split('\n')[0]!;
      assert.ok([...bar].length <= 40, `the tab bar fits: ${bar}`);
      if (!bar.includes(`${index + 1} ${id}`)) missing.push(`${id}: ${JSON.stringify(bar)}`);
    }
    assert.deepEqual(missing, [], 'every active tab is named in the tab bar');
  });
});

describe('a terminal that goes away', () => {
  /** The memtop in a pane and its tracer, once it is drawing the slab tab. */
  async function running(terminal: Terminal): Promise<{memtop: number; tracers: number[]}> {
    await terminal.waitFor(screen => /probe tracepoint:kmem/.test(screen.split('\n')[1] ?? ''), 'the slab tab running', 60_000);
    const pane = terminal.panePid();
    const memtop = [pane, ...descendantPids(pane)].find(isMemtop);
    assert.ok(memtop, 'memtop runs in the pane');
    return {memtop, tracers: tracersOf(memtop).map(tracer => tracer.pid)};
  }

  /** A process's state and where in the kernel it waits, to tell a stuck memtop from a slow one. */
  function stateOf(pid: number): string {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const wchan = readFileSync(`/proc/${pid}/wchan`, 'utf8');
      return `${pid} state ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]} wchan ${wchan || '-'}`;
    } catch {
      return `${pid} gone`;
    }
  }

  // memtop leaves within a second of the hangup (its tracers are SIGKILLed first, then reaped);
  // 5 s leaves room for a machine with every CPU busy, where a single run once took over 2 s.
  async function assertEnds(memtop: number, tracers: number[], what: string): Promise<void> {
    await waitForValue(() => [memtop, ...tracers].every(pid => !isRunning(pid)), {timeoutMs: 5000, what}, () =>
      `still running: ${[memtop, ...tracers].filter(isRunning).map(stateOf).join('; ')}`);
  }

  it('a terminal closed with no SIGHUP for memtop (memtop in its own session) ends memtop and its tracer within 5 s', async t => {
    if (cannotRun(t)) return;
    // setsid: the pane's process gets the hangup, memtop only finds its terminal gone (EIO).
    const terminal = tui(['--tab', 'slab', '--interval', '500'], 120, 40, ['setsid', '-w']);
    const {memtop, tracers} = await running(terminal);
    terminal.kill();
    await assertEnds(memtop, tracers, 'memtop to notice its terminal is gone and exit, not spin on EIO');
  });

  it('closing the terminal (SIGHUP) while memtop redraws fast ends memtop itself within 5 s, three times out of three', async t => {
    if (cannotRun(t)) return;
    const directory = mkdtempSync(path.join(os.tmpdir(), 'memtop-hangup-'));
    t.after(() => rmSync(directory, {recursive: true, force: true}));
    for (let round = 0; round < 3; round++) {
      // A shell that outlives the hangup writes down how memtop ended.
      const status = path.join(directory, `status-${round}`);
      const terminal = tui(['--tab', 'slab', '--interval', '100'], 120, 40, ['sh', '-c', `trap '' HUP; "$@"; echo $? > ${status}`, 'sh']);
      const {memtop, tracers} = await running(terminal);
      terminal.kill();
      await assertEnds(memtop, tracers, `memtop ${memtop} to exit after its terminal closed (round ${round + 1})`);
      // 129: it left on SIGHUP. Node 20 aborts at exit restoring a hung-up terminal (134, or 139
      // when the abort's own stack walk faults) unless memtop lets go of it first.
      const code = await waitForValue(() => (existsSync(status) ? readFileSync(status, 'utf8').trim() || undefined : undefined), {timeoutMs: 5000, what: 'the exit status'});
      assert.equal(code, '129', `memtop's exit status after the hangup (round ${round + 1})`);
    }
  });
});
