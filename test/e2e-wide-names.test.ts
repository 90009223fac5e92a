// End-to-end, in a real terminal (a private tmux): names as wide as they are (CJK, emoji,
// combining marks, zero-width characters, a name the kernel cut inside a character, a function
// named in long CJK text) at 120x40, 40x12 and 30x6, and keys that arrive together (a burst, an
// escape sequence split across two reads, Escape followed at once by a key) in every mode.
// Real memtop and bpftrace, as root, against processes the test starts and filters to.
import assert from 'node:assert/strict';
import {execa} from 'execa';
import {mkdtempSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, afterEach, before, describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';
import stringWidth from 'string-width';
import {startLineChild, type LineChild} from './helpers/child-lines.js';
import {startMemtopTerminal, type MemtopTerminal} from './helpers/memtop-terminal.js';
import {cannotRun} from './helpers/requirements.js';
import {waitForValue} from './helpers/wait-for-value.js';

const SOURCE = fileURLToPath(new URL('./fixtures/named-brk.c', import.meta.url));
const PREFIX = 'zq';
/** Names the processes give themselves: each within the kernel's 15 bytes, but the last, which it cuts inside 字. */
const NAMES = [`${PREFIX}测试进程`, `${PREFIX}😀😀😀`, `${PREFIX}e\u0301e\u0301x`, `${PREFIX}\u200bwidth`, `${PREFIX}测试进程名字`];
const FUNCTION = '这是一个很长很长的函数名字用来测试终端宽度';

const directory = mkdtempSync(path.join(os.tmpdir(), 'memtop-wide-'));
const binary = path.join(directory, 'named-brk');
let children: LineChild[] = [];
let terminals: MemtopTerminal[] = [];

before(async () => {
  if (process.geteuid?.() !== 0) return;
  await execa('gcc', ['-O1', '-g', '-fno-omit-frame-pointer', '-fno-inline', '-o', binary, SOURCE]);
});
afterEach(async () => {
  for (const terminal of terminals) await terminal.close();
  for (const child of children) await child.stop('SIGKILL', 100);
  children = [];
  terminals = [];
});
after(() => rmSync(directory, {recursive: true, force: true}));

/** The processes, named and moving their heap for the whole test. */
function startNamed(names: readonly string[]): LineChild[] {
  const started = names.map(name => startLineChild(binary, [name, '120'], {what: `named-brk ${JSON.stringify(name)}`}));
  children.push(...started);
  return started;
}

function tui(args: string[], columns: number, rows: number, env: Record<string, string> = {}): MemtopTerminal {
  const terminal = startMemtopTerminal(args, {columns, rows, env: {LANG: 'C.UTF-8', ...env}});
  terminals.push(terminal);
  return terminal;
}

/** Why a screen does not fit `columns` x `rows` cells with every table row's PID whole, or undefined. */
function layoutProblem(screen: string, columns: number, rows: number, pids: number[]): string | undefined {
  const lines = screen.replace(/\n+$/, '').split('\n');
  if (lines.length > rows) return `${lines.length} lines on a ${rows}-row terminal`;
  const wide = lines.find(line => stringWidth(line) > columns);
  if (wide !== undefined) return `a line of ${stringWidth(wide)} cells on a ${columns}-column terminal: ${JSON.stringify(wide)}`;
  for (const line of lines.slice(3)) {
    const pid = /^\s*(\d+) /.exec(line)?.[1];
    if (pid !== undefined && !pids.includes(Number(pid)) && /^\s*\d+ zq/.test(line)) return `a row's PID lost a digit: ${JSON.stringify(line)}`;
  }
  return undefined;
}

async function waitForLayout(terminal: MemtopTerminal, columns: number, rows: number, pids: number[], shows: (screen: string) => boolean, what: string): Promise<string> {
  let problem: string | undefined;
  return waitForValue(
    () => {
      const screen = terminal.screen();
      problem = layoutProblem(screen, columns, rows, pids);
      return problem === undefined && shows(screen) ? screen : undefined;
    },
    // A tracer's compile and attach is part of some waits: on a machine where another tool traces
    // every malloc, bpftrace's own compile runs many times slower.
    {timeoutMs: 60_000, what},
    () => `${terminal.screen()}\nlast problem: ${problem ?? 'not shown yet'}`,
  );
}

const rowOf = (screen: string, pid: number) => screen.split('\n').find(line => new RegExp(`^\\s*${pid} `).test(line));
const statusLine = (screen: string) => screen.split('\n')[1] ?? '';

describe('names as wide as they are', () => {
  it('the table lays out CJK, emoji, combining and zero-width names by cells at 120x40, 40x12 and 30x6', {timeout: 180_000}, async t => {
    if (cannotRun(t)) return;
    const named = startNamed(NAMES);
    const pids = named.map(child => child.pid);
    const terminal = tui(['--tab', 'brk', '--comm', PREFIX, '--interval', '500'], 120, 40);
    const every = (screen: string) => pids.every(pid => rowOf(screen, pid) !== undefined);
    const full = await waitForLayout(terminal, 120, 40, pids, every, 'every named process in the table at 120x40');
    assert.ok(rowOf(full, pids[0]!)!.includes(NAMES[0]!), `the CJK name whole:\n${full}`);
    assert.ok(rowOf(full, pids[1]!)!.includes(NAMES[1]!), `the emoji name whole:\n${full}`);
    assert.ok(rowOf(full, pids[4]!)!.includes(`${PREFIX}测试进程\ufffd`), `the name the kernel cut shows its stray byte as one replacement character:\n${full}`);
    // Every column after the name starts in the same cell on every row, however wide the name.
    const header = full.split('\n')[2]!;
    for (const pid of pids) {
      const row = rowOf(full, pid)!;
      assert.equal(stringWidth(row.slice(0, row.indexOf(' ', row.indexOf('zq') + 2))) <= stringWidth(header.slice(0, header.indexOf('BRK') - 5)) + 1, true, `the name of ${pid} stays in its column:\n${full}`);
    }
    for (const [columns, rows] of [[40, 12], [30, 6]] as const) {
      terminal.resize(columns, rows);
      await waitForLayout(terminal, columns, rows, pids, screen => pids.some(pid => rowOf(screen, pid) !== undefined), `a clean frame at ${columns}x${rows}`);
    }
    terminal.resize(120, 40);
    await waitForLayout(terminal, 120, 40, pids, every, 'every row again at 120x40');
  });

  it('the stack view cuts a long CJK frame to the terminal at 40x12, and the status line keeps what matters', {timeout: 180_000}, async t => {
    if (cannotRun(t)) return;
    const [process1] = startNamed([NAMES[0]!]);
    const terminal = tui(['--tab', 'brk', '--pid', String(process1!.pid), '--interval', '500'], 40, 12);
    await waitForLayout(terminal, 40, 12, [process1!.pid], screen => rowOf(screen, process1!.pid) !== undefined, 'its row');
    terminal.keys('Enter');
    const stacks = await waitForLayout(terminal, 40, 12, [process1!.pid], screen => screen.includes('这是一个'), `a stack through ${FUNCTION} at 40x12`);
    assert.match(statusLine(stacks), new RegExp(`PID ${process1!.pid}`), `the status line names the process:\n${stacks}`);
    terminal.resize(120, 40);
    const wide = await waitForLayout(terminal, 120, 40, [process1!.pid], screen => screen.includes(FUNCTION), 'the whole frame at 120x40');
    assert.ok(wide.split('\n').some(line => line.includes(FUNCTION)), wide);
  });
});

describe('keys that arrive together', () => {
  it('a filter typed with its Enter in one burst is kept, and keys after it act on the table', {timeout: 120_000}, async t => {
    if (cannotRun(t)) return;
    const named = startNamed([NAMES[0]!, `${PREFIX}other`]);
    const terminal = tui(['--tab', 'brk', '--interval', '500'], 120, 40);
    await terminal.waitFor(screen => /probe tracepoint:syscalls:sys_exit_brk/.test(statusLine(screen)), 'the brk tab running', 60_000);
    // One send-keys: "/", the name, Enter and "j" reach memtop in one read.
    terminal.keys('/', 'zqoth', 'Enter', 'p');
    const kept = await terminal.waitFor(screen => /filter: zqoth(?!_)/.test(statusLine(screen)) && screen.includes('PAUSED'), 'the filter kept and p (pause) taken after it', 15_000);
    assert.doesNotMatch(statusLine(kept), /filter: zqoth_/, kept);
    assert.ok(rowOf(kept, named[1]!.pid) !== undefined || /PAUSED/.test(kept), kept);
    // Escape then Escape clear the filter; p resumes; all in one read.
    terminal.keys('Escape', 'Escape', 'p');
    await terminal.waitFor(screen => !/filter:/.test(statusLine(screen)) && !screen.includes('PAUSED'), 'the filter cleared and resumed', 15_000);
  });

  it('an arrow split across two reads is one arrow; Escape followed at once by q is Escape, then quit', {timeout: 120_000}, async t => {
    if (cannotRun(t)) return;
    startNamed([NAMES[0]!, NAMES[1]!, NAMES[2]!]);
    // The two halves are sent 15 ms apart, but tmux's sleep between them can take far longer on a
    // loaded machine; ESCDELAY (as ncurses reads it) gives the wait room so the split is what is tested.
    const terminal = tui(['--tab', 'brk', '--comm', PREFIX, '--interval', '500'], 120, 40, {ESCDELAY: '2000'});
    await terminal.waitFor(screen => screen.split('\n').filter(line => /^\s+\d+ zq/.test(line)).length >= 3, 'three rows', 60_000);
    terminal.keys('p');
    const paused = await terminal.waitFor(screen => screen.includes('PAUSED'), 'paused');
    const rows = paused.split('\n').filter(line => /^\s+\d+ zq/.test(line));
    // ESC now, "[B" (the rest of Down) a moment later: one Down, not Escape and two letters.
    terminal.splitKeys(['-H', '1b'], 15, ['-l', '[B']);
    // The help (?) opens and Escape closes it in one read, in help mode.
    terminal.keys('?', 'Escape');
    // The Escape ends its read, so it waits out ESCDELAY: the help is up until then.
    await terminal.waitFor(screen => /this help/.test(screen), 'the help open', 10_000);
    await waitForValue(() => {
      const screen = terminal.screen();
      const selected = screen.split('\n').filter(line => /^\s+\d+ zq/.test(line));
      return selected.length === rows.length && !/this help/.test(screen) ? screen : undefined;
    }, {timeoutMs: 5000, what: 'the table back after help'});
    // The second row is the selected one: memtop draws it inverse, which capture-pane -e shows as ESC[7m.
    const drawn = terminal.screenWithEscapes().split('\n').filter(line => /\d+ zq/.test(line));
    const inverse = (line: string | undefined) => /\u001b\[(?:[0-9;]*;)?7(?:;[0-9;]*)?m/.test(line ?? '');
    assert.ok(inverse(drawn[1]) && !inverse(drawn[0]), `the selection moved down one row:\n${drawn.map(line => JSON.stringify(line)).join('\n')}\n${terminal.screen()}`);
    assert.match(statusLine(terminal.screen()), /filter: zq(?: |$)/, 'no letters typed into the filter from the split sequence');
    // Enter then Escape in one read: into the stack view and straight back.
    terminal.keys('Enter', 'Escape');
    await terminal.waitFor(screen => /^\s+PID COMM/m.test(screen), 'the table again', 10_000);
    terminal.keys('Escape', 'q');
    await waitForValue(() => !terminal.alive() || undefined, {timeoutMs: 5000, what: 'memtop to quit on q after Escape'});
  });
});
