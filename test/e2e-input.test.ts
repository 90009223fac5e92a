// End-to-end bad input and a machine that lacks something: each gets one line on stderr that names
// the problem and the fix, a non-zero exit and no stack trace. Real memtop CLI, as root (some cases
// drop to nobody or hide tracefs or BTF in a private mount namespace).
import assert from 'node:assert/strict';
import {execa} from 'execa';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, describe, it} from 'node:test';
import {cannotRun, cannotRunCli, CLI} from './helpers/requirements.js';
import {makeFakeBpftrace} from './helpers/fake-bpftrace.js';
import {TAB_IDS} from '../source/registry.js';

interface Run {
  exitCode?: number;
  stdout: string;
  stderr: string;
}

/** Run a command to its end (at most 15 s) with stdin closed and both outputs captured. */
async function run(file: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const result = await execa(file, args, {reject: false, stdin: 'ignore', timeout: 15_000, env, extendEnv: true, cwd: '/'});
  return {exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr)};
}

function memtop(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return run(process.execPath, [CLI, ...args], env);
}

/** The rule every error here must follow; returns the line. */
function assertOneLineError(result: Run, problem: RegExp, fix: RegExp, what: string): string {
  const shown = `${what}: exit ${result.exitCode}\nstdout: ${result.stdout.slice(0, 500)}\nstderr: ${result.stderr}`;
  assert.ok(result.exitCode !== undefined && result.exitCode !== 0, `non-zero exit\n${shown}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `exactly one line on stderr\n${shown}`);
  const line = lines[0]!;
  assert.match(line, /^memtop: /, shown);
  assert.match(line, problem, `the line names the problem\n${shown}`);
  assert.match(line, fix, `the line says how to fix it\n${shown}`);
  assert.doesNotMatch(line, /internal error/, `a mistake of the user is not an internal error\n${shown}`);
  assert.equal(result.stderr.includes('    at '), false, `no stack trace\n${shown}`);
  assert.equal(result.stdout, '', `nothing on stdout\n${shown}`);
  return line;
}

/** A PID no process has: that of a child that has exited (pids are not reused this fast). */
async function goneProcessPid(): Promise<number> {
  const child = execa('/bin/true');
  const pid = child.pid!;
  await child;
  return pid;
}

describe('bad flags', () => {
  const cases: {name: string; args: string[]; problem: RegExp; fix: RegExp}[] = [
    {name: 'unknown tab', args: ['--tab', 'heap'], problem: /unknown tab "heap"/, fix: /malloc, brk, slab, majfault, anonpgin/},
    {name: 'unknown backend', args: ['--backend', 'ebpf'], problem: /unknown backend "ebpf"/, fix: /auto, bpftrace, stap, dtrace/},
    {name: 'interval out of range', args: ['--interval', '5'], problem: /--interval 5 is out of range/, fix: /100 to 60000/},
    {name: 'interval too long', args: ['--interval', '600000'], problem: /--interval 600000 is out of range/, fix: /100 to 60000/},
    {name: 'interval not a number', args: ['--interval', 'fast'], problem: /--interval must be a whole number, not "fast"/, fix: /100 to 60000/},
    {name: 'interval with a unit', args: ['--interval', '1s'], problem: /--interval must be a whole number/, fix: /milliseconds/},
    {name: 'limit out of range', args: ['--limit', '0'], problem: /--limit 0 is out of range/, fix: /1 to 100/},
    {name: 'limit too large', args: ['--limit', '1000'], problem: /--limit 1000 is out of range/, fix: /1 to 100/},
    {name: 'PID not a number', args: ['--pid', 'nginx'], problem: /--pid must be a whole number, not "nginx"/, fix: /PID of a running process/},
    {name: 'negative PID', args: ['--pid', '-1'], problem: /--pid/, fix: /PID of a running process/},
    {name: '--stacks without --pid', args: ['--stacks'], problem: /--stacks needs --pid/, fix: /--pid N/},
    {name: '--comm with an empty name', args: ['--comm', ''], problem: /--comm needs a process name/, fix: /e\.g\. --comm/},
    {name: '--comm with only spaces', args: ['--comm', '   '], problem: /--comm needs a process name/, fix: /e\.g\. --comm/},
    {name: 'an unknown flag', args: ['--frobnicate'], problem: /unknown flag --frobnicate/, fix: /memtop --help/},
    {name: 'a misspelt flag', args: ['--intervall', '500'], problem: /unknown flag --intervall/, fix: /memtop --help/},
    {name: 'a stray argument', args: ['brk'], problem: /unexpected argument "brk"/, fix: /memtop --help/},
    {name: 'a flag given twice', args: ['--tab', 'brk', '--tab', 'slab'], problem: /--tab/, fix: /once|one of/},
    {name: 'a PID given twice', args: ['--pid', '1', '--pid', '2'], problem: /--pid/, fix: /once|one/},
  ];
  for (const scenario of cases) {
    it(scenario.name, async t => {
      if (cannotRunCli(t)) return;
      const result = await memtop(['--batch', ...scenario.args]);
      assertOneLineError(result, scenario.problem, scenario.fix, `memtop --batch ${scenario.args.join(' ')}`);
      assert.equal(result.exitCode, 2, 'a usage error exits 2');
    });
  }

  it('a PID that does not exist', async t => {
    if (cannotRunCli(t)) return;
    const pid = await goneProcessPid();
    const result = await memtop(['--batch', '--pid', String(pid)]);
    assertOneLineError(result, new RegExp(`no process with PID ${pid}`), /running process/, `memtop --batch --pid ${pid}`);
  });

  it('a drill-down on a PID that does not exist', async t => {
    if (cannotRunCli(t)) return;
    const pid = await goneProcessPid();
    const result = await memtop(['--batch', '--tab', 'brk', '--pid', String(pid), '--stacks']);
    assertOneLineError(result, new RegExp(`no process with PID ${pid}`), /running process/, `memtop --batch --pid ${pid} --stacks`);
  });

  it('a control character in a flag value is shown as ?, not passed to the terminal', async t => {
    if (cannotRunCli(t)) return;
    const result = await memtop(['--batch', '--tab', 'br\u001b[2Jk']);
    const line = assertOneLineError(result, /unknown tab "br\?\[2Jk"/, /one of/, 'memtop --tab with an escape');
    assert.equal(/[\u0000-\u0008\u000b-\u001f\u007f]/.test(line), false, 'no control characters in the error');
  });
});

describe('a machine that lacks something', () => {
  it('not root and no capabilities', async t => {
    if (cannotRun(t)) return;
    const result = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, CLI, '--batch']);
    assertOneLineError(result, /not root|privilege/i, /sudo|as root|CAP_BPF/, 'memtop as nobody');
  });

  it('not root, with CAP_BPF and CAP_PERFMON (bpftrace 0.17 still wants root): says to run as root, not that tracefs is missing', async t => {
    if (cannotRun(t)) return;
    const result = await run('setpriv', [
      '--reuid=65534', '--regid=65534', '--clear-groups',
      '--inh-caps=-all,+bpf,+perfmon', '--ambient-caps=+bpf,+perfmon',
      process.execPath, CLI, '--batch', '--tab', 'brk', '--iterations', '1',
    ]);
    const line = assertOneLineError(result, /root/, /sudo|as root/, 'memtop as nobody with CAP_BPF+CAP_PERFMON');
    assert.doesNotMatch(line, /not mounted/, 'tracefs is mounted: it is only not readable by this user');
  });

  // On a stock Debian host debugfs is mounted at /sys/kernel/debug, and its tracing/ is an
  // automount of tracefs that comes back when touched after an unmount: hiding tracefs means
  // unmounting debugfs as well. Both happen in a private mount namespace.
  const hideTracefs = [
    'umount /sys/kernel/tracing 2>/dev/null; umount -l /sys/kernel/debug 2>/dev/null',
    'if [ -e /sys/kernel/tracing/events ] || [ -e /sys/kernel/debug/tracing/events ]; then echo "tracefs still mounted" >&2; exit 99; fi',
  ];

  it('tracefs not mounted, and memtop may not mount it (no CAP_SYS_ADMIN)', async t => {
    if (cannotRun(t)) return;
    const script = [...hideTracefs, 'exec setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin "$0" "$@"'].join('\n');
    const result = await run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, process.execPath, CLI, '--batch', '--tab', 'brk']);
    assert.notEqual(result.exitCode, 99, `tracefs is gone inside the namespace: ${result.stderr}`);
    assertOneLineError(result, /tracefs/, /mount -t tracefs/, 'memtop without tracefs');
  });

  it('tracefs not mounted: memtop, as root, mounts it and traces', async t => {
    if (cannotRun(t)) return;
    const script = [...hideTracefs, '"$0" "$@" || exit', 'mountpoint -q /sys/kernel/tracing || { echo "memtop did not mount tracefs" >&2; exit 98; }'].join('\n');
    const result = await execa('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, process.execPath, CLI, '--batch', '--json', '--tab', 'brk', '--iterations', '1'], {
      reject: false, stdin: 'ignore', timeout: 180_000, cwd: '/',
    });
    const shown = `exit ${result.exitCode}\nstdout: ${String(result.stdout).slice(0, 500)}\nstderr: ${String(result.stderr)}`;
    assert.equal(result.exitCode, 0, shown);
    const snapshot = JSON.parse(String(result.stdout).trim().split('\n').at(-1)!) as {tab?: string};
    assert.equal(snapshot.tab, 'brk', shown);
  });

  it('BTF missing', async t => {
    if (cannotRun(t)) return;
    const script = [
      'mount -t tmpfs none /sys/kernel/btf || exit 98',
      'if [ -e /sys/kernel/btf/vmlinux ]; then echo "BTF still there" >&2; exit 99; fi',
      'exec "$0" "$@"',
    ].join('\n');
    const result = await run('unshare', ['-m', 'sh', '-c', script, process.execPath, CLI, '--batch', '--tab', 'brk']);
    assert.ok(result.exitCode !== 98 && result.exitCode !== 99, `BTF is hidden inside the namespace: ${result.stderr}`);
    assertOneLineError(result, /BTF/, /CONFIG_DEBUG_INFO_BTF/, 'memtop without BTF');
  });

  it('libc not found for the malloc uprobe', async t => {
    if (cannotRun(t)) return;
    const result = await memtop(['--batch', '--tab', 'malloc', '--iterations', '1'], {MEMTOP_LIBC: '/nonexistent/libc.so.6'});
    assertOneLineError(result, /libc not found for the malloc uprobe/, /MEMTOP_LIBC/, 'memtop with MEMTOP_LIBC=/nonexistent');
  });

  it('a relative MEMTOP_LIBC is refused too', async t => {
    if (cannotRun(t)) return;
    const result = await memtop(['--batch', '--tab', 'malloc', '--iterations', '1'], {MEMTOP_LIBC: 'libc.so.6'});
    assertOneLineError(result, /libc not found/, /absolute path/, 'memtop with MEMTOP_LIBC=libc.so.6');
  });
});

describe('recordings', () => {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'memtop-input-'));
  after(() => rmSync(directory, {recursive: true, force: true}));

  it('replaying a file that does not exist', async t => {
    if (cannotRunCli(t)) return;
    const file = path.join(directory, 'missing.ndjson');
    const result = await memtop(['--batch', '--replay', file]);
    assertOneLineError(result, /cannot read .*missing\.ndjson/, /memtop --record|check the path/, 'memtop --replay missing');
  });

  it('replaying a file that is not a recording (garbage, an escape sequence)', async t => {
    if (cannotRunCli(t)) return;
    const file = path.join(directory, 'garbage.ndjson');
    writeFileSync(file, '\u001b]0;pwn\u0007not json\n{"x":1}\n');
    const result = await memtop(['--batch', '--replay', file]);
    const line = assertOneLineError(result, /not a memtop recording/, /memtop --record/, 'memtop --replay garbage');
    assert.equal(/[\u0000-\u0008\u000b-\u001f\u007f]/.test(line), false, 'no control characters from the file');
  });

  it('recording into a directory that does not exist', async t => {
    if (cannotRun(t)) return;
    const result = await memtop(['--batch', '--iterations', '1', '--tab', 'brk', '--record', path.join(directory, 'no', 'such', 'x.ndjson')]);
    assertOneLineError(result, /cannot record to/, /directory does not exist/, 'memtop --record into a missing directory');
  });

  it('recording onto a file that is not a recording leaves it untouched', async t => {
    if (cannotRun(t)) return;
    const file = path.join(directory, 'precious.txt');
    writeFileSync(file, 'do not overwrite me\n');
    const result = await memtop(['--batch', '--iterations', '1', '--tab', 'brk', '--record', file]);
    assertOneLineError(result, /not a memtop recording/, /choose another name/, 'memtop --record onto another file');
    assert.equal(readFileSync(file, 'utf8'), 'do not overwrite me\n');
  });
});

describe('checks and terminals', () => {
  it('memtop --check exits 0 here and prints one pass, warn or FAIL line per requirement', async t => {
    if (cannotRun(t)) return;
    const result = await memtop(['--check']);
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`);
    const lines = result.stdout.trimEnd().split('\n');
    for (const line of lines) assert.match(line, /^(pass|warn|FAIL) {2}\S/, `a pass/warn/FAIL line: ${line}`);
    for (const name of ['privileges', 'tracefs', 'BTF', 'libc', 'tracer bpftrace', 'tracer libc']) {
      assert.ok(lines.some(line => line.startsWith('pass') && line.includes(name)), `${name} passes here:\n${result.stdout}`);
    }
    // Every view's script compiles with this bpftrace (none attached).
    for (const view of [...TAB_IDS, 'slab by cache', ...TAB_IDS.map(tab => `${tab} stacks`)]) {
      assert.ok(lines.some(line => new RegExp(`^pass  bpftrace ${view} +\\S+\\.bt compiles$`).test(line)), `bpftrace ${view} compiles:\n${result.stdout}`);
    }
    assert.equal(result.stderr, '');
  });

  it('memtop --check fails a script bpftrace cannot compile, with bpftrace\'s own reason', async t => {
    if (cannotRun(t)) return;
    const fake = makeFakeBpftrace({fail: {script: 'stacks-brk.bt', stderr: 'stacks-brk.bt:53:2-80: ERROR: Type mismatch for $grow\n'}});
    try {
      const result = await memtop(['--check'], {PATH: fake.pathEnv});
      assert.notEqual(result.exitCode, 0, result.stdout);
      const line = result.stdout.split('\n').find(text => text.includes('bpftrace brk stacks'));
      assert.match(line ?? '', /^FAIL {2}bpftrace brk stacks +stacks-brk\.bt: Type mismatch for \$grow +→ fix: /, result.stdout);
      assert.ok(result.stdout.split('\n').some(text => /^pass {2}bpftrace brk +brk\.bt compiles$/.test(text)), result.stdout);
    } finally {
      fake.remove();
    }
  });

  it('memtop --check as nobody exits non-zero and names each failure with its fix', async t => {
    if (cannotRun(t)) return;
    const result = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, CLI, '--check']);
    assert.notEqual(result.exitCode, 0);
    const privileges = result.stdout.split('\n').find(line => line.includes('privileges'));
    assert.match(privileges ?? '', /^FAIL .*→ fix: .*root/, result.stdout);
    assert.equal(result.stderr.includes('    at '), false);
  });

  it('the TUI refuses a non-terminal with a one-line hint and exit 2', async t => {
    if (cannotRunCli(t)) return;
    const result = await memtop(['--tab', 'brk']);
    assertOneLineError(result, /needs a terminal/, /--batch/, 'memtop with stdout a pipe');
    assert.equal(result.exitCode, 2);
  });
});
