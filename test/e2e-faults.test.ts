// End-to-end faults of the tracer, each tried on the real memtop with the real bpftrace (as root):
// it fails to start, it dies mid-run, it prints lines memtop does not understand, a map fills up.
// Faults are injected with a stand-in bpftrace first on PATH that execs the real one for
// everything it does not break.
import assert from 'node:assert/strict';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, afterEach, describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {startLineChild, type LineChild} from './helpers/child-lines.js';
import {makeFakeBpftrace, type FakeBpftrace} from './helpers/fake-bpftrace.js';
import {startMemtopTerminal, type MemtopTerminal} from './helpers/memtop-terminal.js';
import {cannotRun, CLI} from './helpers/requirements.js';
import {memtopIn, tracersOf} from './helpers/tracer-processes.js';
import {waitForValue} from './helpers/wait-for-value.js';
import {startWorkload} from './helpers/workloads.js';

const ANONPGIN_SCRIPT = fileURLToPath(new URL('../probes/bpftrace/anonpgin.bt', import.meta.url));
/** What bpftrace 0.17 prints when a script names a tracepoint this kernel lacks (memlock noise first). */
const PROBE_MISSING_STDERR = [
  'ERROR: Unknown error -1: couldn\'t set RLIMIT_MEMLOCK for bpftrace. If your program is not loading, you can try "ulimit -l 8192" to fix the problem',
  `${ANONPGIN_SCRIPT}:14:1-37: ERROR: tracepoint not found: memcg:count_memcg_events`,
  'tracepoint:memcg:count_memcg_events',
  '~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~',
  '',
].join('\n');
const PROBE_MISSING_REASON = 'tracepoint not found: memcg:count_memcg_events';

let children: LineChild[] = [];
let terminals: MemtopTerminal[] = [];
const fakes: FakeBpftrace[] = [];
afterEach(async () => {
  for (const child of children) await child.stop('SIGKILL', 100);
  for (const terminal of terminals) await terminal.close();
  children = [];
  terminals = [];
});
after(() => {
  for (const fake of fakes) fake.remove();
});

function fake(options: Parameters<typeof makeFakeBpftrace>[0]): FakeBpftrace {
  const made = makeFakeBpftrace(options);
  fakes.push(made);
  return made;
}

function batch(args: string[], env: Record<string, string> = {}): LineChild {
  const child = startLineChild(process.execPath, [CLI, '--batch', ...args], {what: `memtop --batch ${args.join(' ')}`, env});
  children.push(child);
  return child;
}

/** memtop's TUI in a private 120x40 tmux, with `env` set for it. */
function tui(args: string[], env: Record<string, string> = {}): MemtopTerminal {
  const terminal = startMemtopTerminal(args, {env});
  terminals.push(terminal);
  return terminal;
}

/** The status line: the second line of the screen. */
function statusLine(screen: string): string {
  return screen.split('\n')[1] ?? '';
}

function assertOneLineError(child: LineChild, exitCode: number | undefined, reason: string, fix: RegExp): void {
  const stderr = child.stderr();
  assert.notEqual(exitCode, 0, `non-zero exit\n${child.describe()}`);
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `exactly one line on stderr, got:\n${stderr}`);
  assert.match(lines[0]!, /^memtop: /);
  assert.ok(lines[0]!.includes(reason), `the line names the tracer's reason "${reason}": ${lines[0]}`);
  assert.match(lines[0]!, fix, `the line says how to fix it: ${lines[0]}`);
  assert.equal(stderr.includes('    at '), false, 'no stack trace');
  assert.equal(child.records.length, 0, 'no snapshot was printed');
}

describe('the tracer fails to start', () => {
  const cases = [
    {name: 'a probe missing on this kernel', stderr: PROBE_MISSING_STDERR, reason: PROBE_MISSING_REASON, fix: /memtop --check|kernel/},
    {
      name: 'no permission',
      stderr: 'ERROR: bpftrace currently only supports running as the root user.\n',
      reason: 'bpftrace currently only supports running as the root user',
      fix: /as root|CAP_BPF/,
    },
  ];
  for (const scenario of cases) {
    it(`batch mode exits non-zero with one line naming the reason and the fix: ${scenario.name}`, async t => {
      if (cannotRun(t)) return;
      const failing = fake({fail: {script: 'anonpgin.bt', stderr: scenario.stderr}});
      const child = batch(['--tab', 'anonpgin', '--iterations', '2', '--interval', '500'], {PATH: failing.pathEnv});
      const exit = await Promise.race([
        child.exited,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`memtop did not exit within 10 s\n${child.describe()}`)), 10_000)),
      ]);
      assertOneLineError(child, exit.exitCode, scenario.reason, scenario.fix);
    });
  }

  it('a real bpftrace failure names bpftrace\'s own reason, every time (MEMTOP_LIBC set to an object file that defines malloc)', async t => {
    if (cannotRun(t)) return;
    // memtop reads malloc in the object's symbols; bpftrace will not put a uprobe on a relocatable object.
    const directory = mkdtempSync(path.join(os.tmpdir(), 'memtop-faults-'));
    const object = path.join(directory, 'malloc.o');
    writeFileSync(path.join(directory, 'malloc.c'), '#include <stddef.h>\nvoid *malloc(size_t n) { (void)n; return 0; }\nvoid free(void *p) { (void)p; }\n');
    await execa('gcc', ['-c', '-o', object, path.join(directory, 'malloc.c')]);
    // bpftrace writes "ERROR" and the rest of its memlock warning in separate writes: eight runs
    // give a reader that splits lines at write boundaries the chance to show that.
    const seen: string[] = [];
    try {
      for (let run = 0; run < 8; run++) {
        const child = batch(['--tab', 'malloc', '--iterations', '1'], {MEMTOP_LIBC: object});
        const exit = await child.exited;
        assertOneLineError(child, exit.exitCode, `uprobe target file '${object}' does not exist or is not executable`, /MEMTOP_LIBC|libc/);
        seen.push(child.stderr().trim());
      }
    } finally {
      rmSync(directory, {recursive: true, force: true});
    }
    assert.equal(new Set(seen).size, 1, `the same line every time:\n${seen.join('\n')}`);
  });

  it('MEMTOP_LIBC set to a file that is no library is memtop\'s own one-line error, before any tracer', async t => {
    if (cannotRun(t)) return;
    const child = batch(['--tab', 'malloc', '--iterations', '1'], {MEMTOP_LIBC: '/etc/passwd'});
    const exit = await child.exited;
    assertOneLineError(child, exit.exitCode, 'MEMTOP_LIBC="/etc/passwd" is not an ELF file that defines malloc', /point MEMTOP_LIBC at a libc/);
  });

  it('the TUI shows the reason and the fix on the failing tab, and the other tabs keep working', async t => {
    if (cannotRun(t)) return;
    const failing = fake({fail: {script: 'anonpgin.bt', stderr: PROBE_MISSING_STDERR}});
    const terminal = tui(['--tab', 'anonpgin'], {PATH: failing.pathEnv});
    await terminal.waitFor(screen => statusLine(screen).includes(PROBE_MISSING_REASON), 'the anon page-ins tab to show the tracer\'s reason', 15_000);
    terminal.keys('2');
    await terminal.waitFor(screen => /probe tracepoint:syscalls:sys_exit_brk/.test(statusLine(screen)), 'the brk tab running', 60_000);
    terminal.keys('5');
    const screen = await terminal.waitFor(screen => statusLine(screen).includes(PROBE_MISSING_REASON), 'the anon page-ins tab to show the reason again', 15_000);
    for (const line of screen.split('\n')) assert.ok([...line].length <= 120, `no line wider than the terminal: ${line}`);
    // The tab says what to do, not only what went wrong: the hint must not be cut off.
    assert.match(statusLine(screen), /memtop --check/, `the status line shows the fix:\n${screen}`);
  });
});

describe('the tracer dies mid-run', () => {
  it('batch mode restarts it, says so on stderr, and keeps the totals gathered so far', async t => {
    if (cannotRun(t)) return;
    const workload = await startWorkload('slab', {eventsPerSecond: 200, seconds: 20});
    children.push(workload.process);
    const child = batch(['--json', '--tab', 'slab', '--interval', '500']);
    const rowOf = (record: Record<string, unknown>) =>
      (record.rows as {pid: number; count: number; totalCount: number}[] | undefined)?.find(row => row.pid === workload.pid);
    await child.waitForRecord(record => rowOf(record) !== undefined, 'a snapshot with the workload', 20_000);
    const [first] = tracersOf(child.pid);
    assert.ok(first, `a tracer runs below memtop\n${child.describe()}`);
    const before = [...child.records].reverse().map(rowOf).find(row => row !== undefined)!;
    process.kill(first.pid, 'SIGKILL');

    const second = await waitForValue(() => tracersOf(child.pid).find(tracer => tracer.pid !== first.pid), {timeoutMs: 10_000, what: 'a new tracer'}, () => child.describe());
    assert.equal(second.script, first.script, 'the same probe script runs again');
    const seen = child.records.length;
    const after = await child.waitForRecord(
      record => child.records.indexOf(record) >= seen && rowOf(record) !== undefined,
      'a snapshot with the workload from the new tracer',
      10_000,
    );
    const row = rowOf(after)!;
    assert.ok(row.totalCount > before.totalCount, `the total keeps growing past ${before.totalCount}: ${JSON.stringify(row)}`);
    assert.ok(row.totalCount - row.count >= before.totalCount, `the total includes what was counted before the kill (${before.totalCount}): ${JSON.stringify(row)}`);
    assert.equal(child.hasExited(), false, 'memtop keeps going');
    assert.match(child.stderr(), /restart/i, 'stderr says the tracer is restarted');
    assert.equal(child.stderr().includes('    at '), false, 'no stack trace');
  });

  it('the message names how the tracer ended (killed by SIGKILL), not an unknown exit code', async t => {
    if (cannotRun(t)) return;
    const child = batch(['--json', '--tab', 'brk', '--interval', '300']);
    await child.waitForRecord(record => Array.isArray(record.rows), 'a first snapshot', 20_000);
    const [tracer] = tracersOf(child.pid);
    assert.ok(tracer, 'a tracer runs below memtop');
    process.kill(tracer.pid, 'SIGKILL');
    await waitForValue(() => /restart/i.test(child.stderr()), {timeoutMs: 5000, what: 'the restart note'}, () => child.describe());
    const note = child.stderr().split('\n').find(line => /restart/i.test(line))!;
    assert.match(note, /SIGKILL|killed|signal/i, `the note says the tracer was killed: ${note}`);
  });

  it('the TUI says the tracer stopped, then shows the tab again once it is back', async t => {
    if (cannotRun(t)) return;
    const terminal = tui(['--tab', 'brk', '--interval', '500']);
    await terminal.waitFor(screen => /probe tracepoint:syscalls:sys_exit_brk/.test(statusLine(screen)), 'the brk tab running', 60_000);
    const memtop = memtopIn(terminal);
    const first = await waitForValue(() => {
      const tracers = tracersOf(memtop);
      return tracers.length === 1 ? tracers[0] : undefined;
    }, {timeoutMs: 5000, what: 'one tracer below memtop'});
    process.kill(first.pid, 'SIGKILL');
    await terminal.waitFor(screen => /retrying in/.test(statusLine(screen)), 'the status line to say the tracer is being restarted', 5000);
    await terminal.waitFor(screen => /probe tracepoint:syscalls:sys_exit_brk/.test(statusLine(screen)), 'the brk tab back', 15_000);
    assert.ok(tracersOf(memtop).every(tracer => tracer.pid !== first.pid), 'a new tracer');
  });
});

describe('the tracer prints lines memtop does not understand', () => {
  const garbage = 'this is not JSON at all\n{"type": "map", "data": {"@count": {"12\n';

  it('batch JSON carries skippedLines and memtop keeps going', async t => {
    if (cannotRun(t)) return;
    const noisy = fake({stdoutBefore: garbage});
    const child = batch(['--json', '--tab', 'brk', '--interval', '300', '--iterations', '4'], {PATH: noisy.pathEnv});
    const exit = await child.exited;
    assert.equal(exit.exitCode, 0, child.describe());
    assert.equal(child.records.length, 4, `every interval printed\n${child.describe()}`);
    for (const record of child.records) {
      assert.ok(typeof record.skippedLines === 'number' && record.skippedLines >= 2, `skippedLines >= 2: ${JSON.stringify(record).slice(0, 300)}`);
    }
    assert.equal(child.stderr().trim(), '', 'nothing on stderr');
  });

  it('the TUI status line says how many lines were skipped', async t => {
    if (cannotRun(t)) return;
    const noisy = fake({stdoutBefore: garbage});
    const terminal = tui(['--tab', 'brk', '--interval', '500'], {PATH: noisy.pathEnv});
    await terminal.waitFor(screen => /\b2 lines skipped/.test(statusLine(screen)) && /probe tracepoint:syscalls:sys_exit_brk/.test(statusLine(screen)), 'the status line to count 2 skipped lines', 15_000);
  });
});

describe('a map that fills up', () => {
  /** Bursts of 60 short-lived processes (each exec calls brk), a burst every 0.2 s. */
  function churn(): LineChild {
    const shell = startLineChild('/bin/sh', ['-c', 'while :; do i=0; while [ $i -lt 60 ]; do /bin/true; i=$((i+1)); done; sleep 0.2; done'], {what: 'process churn'});
    children.push(shell);
    return shell;
  }

  it('batch JSON says capped and rows keep coming', async t => {
    if (cannotRun(t)) return;
    const child = batch(['--json', '--tab', 'brk', '--interval', '500'], {MEMTOP_MAP_KEYS_MAX: '16'});
    await child.waitForRecord(record => Array.isArray(record.rows), 'a first snapshot', 20_000);
    churn();
    const capped = await child.waitForRecord(record => record.capped === true, 'a capped snapshot', 10_000);
    assert.ok((capped.rows as unknown[]).length > 0, `the capped snapshot has rows: ${JSON.stringify(capped).slice(0, 300)}`);
    const seen = child.records.length;
    const later = await child.waitForRecord(record => child.records.indexOf(record) >= seen, 'a later snapshot', 5000);
    assert.ok((later.rows as unknown[]).length > 0, 'rows keep coming');
    assert.equal(child.hasExited(), false, 'memtop keeps going');
  });

  it('the TUI status line says CAPPED', async t => {
    if (cannotRun(t)) return;
    const terminal = tui(['--tab', 'brk', '--interval', '500'], {MEMTOP_MAP_KEYS_MAX: '16'});
    await terminal.waitFor(screen => /probe tracepoint:syscalls:sys_exit_brk/.test(statusLine(screen)), 'the brk tab running', 60_000);
    churn();
    const screen = await terminal.waitFor(screen => /CAPPED/.test(statusLine(screen)), 'CAPPED on the status line', 10_000);
    assert.match(screen.split('\n')[3] ?? '', /^\s+\d+ \S/, `rows are still shown:\n${screen}`);
  });
});
