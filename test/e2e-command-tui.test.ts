// End-to-end, memtop -- COMMAND in the TUI, in a real terminal (a private tmux): wl_exit_leaks,
// which leaks 12 blocks of 5,000 bytes from wl_keep_at_exit and exits 3, runs to its end, its
// summary replaces the table with valgrind's figures for the same program and the leaking function
// on top, no tracer is left once it has exited, its --pprof profile is written (go tool pprof reads
// it back), and q then ends memtop with status 3. A COMMAND
// still running when q is pressed gets SIGTERM, memtop exits 143, and neither COMMAND nor any
// tracer memtop started is left. A missing command is one line and 127, as in batch.
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, afterEach, describe, it} from 'node:test';
import {execa} from 'execa';
import {isRunning, processStart, stillRunning} from './helpers/child-lines.js';
import {startMemtopTerminal, type MemtopTerminal} from './helpers/memtop-terminal.js';
import {cannotRunPprof, pprof, topRows} from './helpers/go-pprof.js';
import {cannotRun} from './helpers/requirements.js';
import {bpftracesOf, memtopIn} from './helpers/tracer-processes.js';
import {waitForValue} from './helpers/wait-for-value.js';
import {buildWorkload} from './helpers/workloads.js';

const directory = mkdtempSync(join(tmpdir(), 'memtop-command-tui-'));
after(() => rmSync(directory, {recursive: true, force: true}));

let terminals: MemtopTerminal[] = [];
afterEach(async () => {
  for (const terminal of terminals) await terminal.close();
  terminals = [];
});

let runs = 0;

/**
 * memtop ARGS in a tmux of its own; `status()` is memtop's exit status once it has ended (written
 * by the shell around it). `stderr`: memtop's stderr goes to this file instead of the terminal.
 */
function tui(args: string[], stderr?: string): {terminal: MemtopTerminal; status: () => string | undefined} {
  const file = join(directory, `status-${runs++}`);
  const run = stderr ? `"$@" 2>"${stderr}"` : '"$@"';
  const terminal = startMemtopTerminal(args, {columns: 120, rows: 40, wrap: ['sh', '-c', `${run}; echo $? > "$0"`, file]});
  terminals.push(terminal);
  const status = () => {
    try {
      const text = readFileSync(file, 'utf8');
      return text.endsWith('\n') ? text.trim() : undefined;
    } catch {
      return undefined;
    }
  };
  return {terminal, status};
}

interface HeapFigures {
  allocations: number;
  frees: number;
  bytesAllocated: number;
  inUseBytes: number;
  inUseBlocks: number;
}

const number = (text: string) => Number(text.replaceAll(',', ''));

/** The HEAP SUMMARY's figures as valgrind and memtop both word them, from valgrind's stderr or memtop's screen. */
function heapFigures(text: string): HeapFigures | undefined {
  const inUse = /in use at exit: ([\d,]+) bytes in ([\d,]+) blocks/.exec(text);
  const usage = /total heap usage: ([\d,]+) allocs, ([\d,]+) frees, ([\d,]+) bytes allocated/.exec(text);
  if (!inUse || !usage) return undefined;
  return {inUseBytes: number(inUse[1]!), inUseBlocks: number(inUse[2]!), allocations: number(usage[1]!), frees: number(usage[2]!), bytesAllocated: number(usage[3]!)};
}

/** A summary on screen takes: COMMAND held while two tracers compile and attach, then its run and the last interval. */
const SUMMARY_WAIT_MS = 180_000;

describe('memtop -- COMMAND in the TUI', {timeout: 600_000}, () => {
  it("shows wl_exit_leaks's summary with valgrind's figures until q, writes its --pprof profile, then exits with its status", async t => {
    if (cannotRun(t) || (await cannotRunPprof(t, directory))) return;
    const binary = await buildWorkload('wl_exit_leaks');
    const command = [binary, '2000', '12', '5000', '3'];
    const valgrind = await execa('valgrind', ['--leak-check=summary', ...command], {reject: false, stdout: 'ignore'});
    assert.equal(valgrind.exitCode, 3, valgrind.stderr.slice(-1000));
    const reference = heapFigures(valgrind.stderr);
    assert.ok(reference, `valgrind printed no HEAP SUMMARY:\n${valgrind.stderr.slice(-2000)}`);

    const profile = join(directory, 'exit.pb.gz');
    const {terminal, status} = tui(['--pprof', profile, '--', ...command]);
    const memtop = await waitForValue(() => {
      try {
        return memtopIn(terminal);
      } catch {
        return undefined;
      }
    }, {timeoutMs: 10_000, what: 'memtop in its terminal'});
    const screen = await terminal.waitFor(text => /exited with status 3 · profile in \S+exit\.pb\.gz · q quits/.test(text) && /not freed at exit/.test(text), 'the summary in place of the table, the profile written', SUMMARY_WAIT_MS);
    const figures = heapFigures(screen);
    assert.ok(figures, screen);
    assert.deepEqual(figures, reference, `memtop's screen against valgrind's HEAP SUMMARY:\n${screen}`);
    assert.deepEqual([figures.inUseBytes, figures.inUseBlocks], [60_000, 12]);
    const lines = screen.split('\n');
    const top = lines.findIndex(line => /^not freed at exit, top \d+ of \d+ stacks/.test(line));
    assert.match(lines[top + 1] ?? '', /^\s+60,000 bytes in 12 blocks · process \d+/, screen);
    assert.equal(lines[top + 2]?.trim(), 'wl_keep_at_exit', screen);
    assert.doesNotMatch(screen, /PID COMM/, 'the summary replaces the table');
    // go tool pprof reads the profile back: wl_keep_at_exit leads with the summary's bytes.
    const ranked = topRows(await pprof(directory, ['-top', '-sample_index=inuse_space', '-unit=B', profile]));
    assert.equal(ranked[0]?.name, 'wl_keep_at_exit', JSON.stringify(ranked.slice(0, 5)));
    assert.equal(Number.parseFloat(ranked[0]!.flat), 60_000);

    // COMMAND has exited: memtop waits for q, with no tracer left running.
    await waitForValue(() => bpftracesOf(memtop).length === 0, {timeoutMs: 15_000, what: 'every tracer to stop once COMMAND has exited'}, () => JSON.stringify(bpftracesOf(memtop)));
    assert.ok(isRunning(memtop), 'memtop waits for q');
    assert.equal(status(), undefined);
    terminal.keys('q');
    const exit = await waitForValue(status, {timeoutMs: 15_000, what: "memtop's exit after q"}, () => terminal.screen());
    assert.equal(exit, '3', "memtop exits with COMMAND's status");
  });

  it('q while COMMAND runs ends it with SIGTERM: memtop exits 143 and leaves no tracer; its output went to --output', async t => {
    if (cannotRun(t)) return;
    const output = join(directory, 'command.log');
    const {terminal, status} = tui(['--tab', 'brk', '--output', output, '--', 'sh', '-c', 'printf "said\\040by\\040COMMAND\\n"; printf "and\\040on\\040stderr\\n" >&2; exec sleep 600']);
    const screen = await terminal.waitFor(text => /COMMAND sh -c .* \(PID \d+\)/.test(text) && /PID COMM/.test(text), 'the table with COMMAND running', SUMMARY_WAIT_MS);
    assert.ok(screen.includes(`its output to ${output}`), screen);
    // (Its command line has the words apart by octal escapes: only its output has them as text.)
    assert.doesNotMatch(screen, /said by COMMAND|on stderr/, "COMMAND's output is not on the TUI's terminal");
    const sleeper = Number(/COMMAND sh -c .* \(PID (\d+)\)/.exec(screen)![1]);
    await waitForValue(() => readFileSync(`/proc/${sleeper}/cmdline`, 'utf8').startsWith('sleep'), {timeoutMs: 10_000, what: 'COMMAND to exec sleep'});
    assert.equal(readFileSync(output, 'utf8'), 'said by COMMAND\nand on stderr\n');
    const memtop = memtopIn(terminal);
    // Its tracers, COMMAND's (command.bt) and the brk tab's, each named by pid and start time.
    // (command.bt runs as a program put on COMMAND's allocator files: bpftracesOf reads which script it is from.)
    const tracers = await waitForValue(() => {
      const found = bpftracesOf(memtop);
      return found.some(tracer => tracer.scripts.includes('command.bt')) && found.some(tracer => tracer.scripts.includes('brk.bt')) ? found : undefined;
    }, {timeoutMs: 10_000, what: "COMMAND's tracer and the brk tab's"}, () => JSON.stringify(bpftracesOf(memtop)));
    const started = [...tracers.map(tracer => tracer.pid), sleeper, memtop].map(pid => [pid, processStart(pid)] as const);
    assert.ok(started.every(([pid, start]) => stillRunning(pid, start)));

    terminal.keys('q');
    const exit = await waitForValue(status, {timeoutMs: 30_000, what: "memtop's exit after q"}, () => terminal.screen());
    assert.equal(exit, '143', 'memtop exits with 128 + SIGTERM, as COMMAND did');
    const left = started.filter(([pid, start]) => stillRunning(pid, start));
    assert.deepEqual(left, [], 'COMMAND, its tracers and memtop are gone');
  });

  it('a missing command is one line and 127, before the TUI starts', async t => {
    if (cannotRun(t)) return;
    // Its stderr to a file: a pane that ends at once may be gone before tmux has shown its last output.
    const stderr = join(directory, 'missing.err');
    const {terminal, status} = tui(['--', 'memtop-no-such-command'], stderr);
    const exit = await waitForValue(status, {timeoutMs: 30_000, what: "memtop's exit"}, () => terminal.screen());
    assert.equal(exit, '127');
    assert.equal(readFileSync(stderr, 'utf8'), 'memtop: memtop-no-such-command: command not found\n');
  });
});
