// End-to-end security: nothing the user types reaches the tracer's program or command line, a
// process that names itself with escape sequences cannot act on the terminal through memtop, and
// memtop runs only the probe scripts shipped in its own probes/ folder. Real memtop, real bpftrace, as root.
import assert from 'node:assert/strict';
import {execa} from 'execa';
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, afterEach, describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';
import {startLineChild, type LineChild} from './helpers/child-lines.js';
import {makeFakeBpftrace} from './helpers/fake-bpftrace.js';
import {cannotRun, CLI} from './helpers/requirements.js';
import {startMemtopTerminal, type MemtopTerminal} from './helpers/memtop-terminal.js';
import {startTerminal, type Terminal} from './helpers/tmux.js';
import {environ, tracersOf, type TracerProcess} from './helpers/tracer-processes.js';
import {waitForValue} from './helpers/wait-for-value.js';

const PROBES = fileURLToPath(new URL('../probes/bpftrace/', import.meta.url));
const HOSTILE_SOURCE = fileURLToPath(new URL('./fixtures/hostile-name.c', import.meta.url));
/** The name hostile-name.c gives itself, as the kernel keeps it (15 bytes). */
const HOSTILE_COMM = '\u001b]0;pwn\u0007\u001b[31m\u001b[';
/** That name with every control character shown as '?'. */
const HOSTILE_SHOWN = '?]0;pwn??[31m?[';
/** Control bytes a terminal acts on (newline and tab aside). */
const CONTROL_BYTES = /[\u0000-\u0008\u000b-\u001f\u007f]/;

let children: LineChild[] = [];
let terminals: (Terminal | MemtopTerminal)[] = [];
const directories: string[] = [];
afterEach(async () => {
  for (const child of children) await child.stop('SIGKILL', 100);
  for (const terminal of terminals) {
    if ('close' in terminal) await terminal.close();
    else terminal.kill();
  }
  children = [];
  terminals = [];
});
after(() => {
  for (const directory of directories) rmSync(directory, {recursive: true, force: true});
});

function temporaryDirectory(): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'memtop-security-'));
  directories.push(directory);
  return directory;
}

function batch(args: string[], options: {env?: Record<string, string>; cwd?: string} = {}): LineChild {
  const child = startLineChild(process.execPath, [CLI, '--batch', ...args], {what: `memtop --batch ${args.join(' ')}`, ...options});
  children.push(child);
  return child;
}

/** Wait for memtop's one tracer (past the setpriv that execs it) and return it. */
async function theTracer(memtop: LineChild): Promise<TracerProcess> {
  return waitForValue(() => {
    const tracers = tracersOf(memtop.pid);
    return tracers.length === 1 && path.basename(tracers[0]!.argv[0] ?? '') !== 'setpriv' ? tracers[0] : undefined;
  }, {timeoutMs: 15_000, what: `the tracer of ${memtop.what}`}, () => `${memtop.describe()}\ntracers: ${JSON.stringify(tracersOf(memtop.pid))}`);
}

/**
 * The tracer's argv is exactly: an absolute bpftrace, bpftrace's own flags, the absolute path of
 * `script` in this repository's probes/bpftrace/, and whole numbers.
 */
function assertTracerArgv(argv: string[], script: string): void {
  const shown = JSON.stringify(argv);
  assert.ok(path.isAbsolute(argv[0] ?? '') && path.basename(argv[0]!) === 'bpftrace', `an absolute bpftrace: ${shown}`);
  const flagValues: Record<string, RegExp> = {'-B': /^line$/, '-f': /^json$/, '-p': /^\d+$/};
  let index = 1;
  while (argv[index]?.startsWith('-')) {
    const pattern = flagValues[argv[index]!];
    assert.ok(pattern, `only known bpftrace flags: ${shown}`);
    assert.match(argv[index + 1] ?? '', pattern, `flag ${argv[index]} has a plain value: ${shown}`);
    index += 2;
  }
  assert.equal(argv[index], path.join(PROBES, script), `the script is this repository's probes/bpftrace/${script}: ${shown}`);
  for (const argument of argv.slice(index + 1)) assert.match(argument, /^\d+$/, `the script's parameters are whole numbers: ${shown}`);
}

describe('nothing a user types reaches the tracer', () => {
  const hostile = ['a"b', 'x}{system("id")}', 'a;b', '$(id)', '`id`', "'; exit(); '", '@count[0] = 1;', '--', '-e BEGIN{}'];

  for (const comm of hostile) {
    it(`--comm ${JSON.stringify(comm)} leaves the tracer command line, environment and program unchanged`, async t => {
      if (cannotRun(t)) return;
      const script = readFileSync(path.join(PROBES, 'brk.bt'));
      const memtop = batch(['--json', '--tab', 'brk', '--interval', '300', `--comm=${comm}`]);
      const tracer = await theTracer(memtop);
      assertTracerArgv(tracer.argv, 'brk.bt');
      // What the test runner's own environment already holds (npm puts its command line there,
      // "--" and all) is inherited, not typed into memtop.
      const inherited = new Set(Object.entries(process.env).map(([name, value]) => `${name}=${value}`));
      for (const text of [...tracer.argv, ...environ(tracer.pid).filter(entry => !inherited.has(entry))]) {
        assert.equal(text.includes(comm), false, `${JSON.stringify(comm)} is not in the tracer's argv or environment: ${text}`);
      }
      assert.deepEqual(readFileSync(tracer.script), script, 'the script the tracer runs is the shipped one, byte for byte');
      await memtop.waitForRecord(record => Array.isArray(record.rows), 'a snapshot', 15_000);
    });
  }

  it('a --comm with a newline or another control character is refused with one line', async t => {
    if (cannotRun(t)) return;
    for (const comm of ['a\nb', 'a\tb', 'a\u001b[2Jb', 'a\rb']) {
      const result = await execa(process.execPath, [CLI, '--batch', '--comm', comm], {reject: false, stdin: 'ignore', timeout: 10_000});
      assert.equal(result.exitCode, 2, `${JSON.stringify(comm)} is refused: ${result.stderr}`);
      const lines = String(result.stderr).trimEnd().split('\n');
      assert.equal(lines.length, 1, `one line: ${result.stderr}`);
      assert.match(lines[0]!, /^memtop: --comm must not contain control characters/);
      assert.equal(CONTROL_BYTES.test(lines[0]!), false, 'the error does not echo the control character');
    }
  });
});

/** Whether a line as tmux's capture-pane -e prints it sets a red foreground (SGR 31 or 91). */
function isRed(line: string): boolean {
  return [...line.matchAll(/\u001b\[([\d;]*)m/g)].some(match => match[1]!.split(';').some(parameter => parameter === '31' || parameter === '91'));
}

describe('a process that names itself with escape sequences', () => {
  let binary: string | undefined;
  async function hostileBinary(): Promise<string> {
    if (binary) return binary;
    const built = path.join(temporaryDirectory(), 'hostile-name');
    await execa('gcc', ['-O1', '-Wall', '-o', built, HOSTILE_SOURCE]);
    binary = built;
    return built;
  }

  /** Start the process and wait until it has renamed itself. */
  async function startHostile(): Promise<LineChild> {
    const child = startLineChild(await hostileBinary(), ['20'], {what: 'hostile-name'});
    children.push(child);
    await waitForValue(() => {
      try {
        return readFileSync(`/proc/${child.pid}/comm`, 'utf8') === `${HOSTILE_COMM}\n`;
      } catch {
        return false;
      }
    }, {timeoutMs: 5000, what: 'hostile-name to rename itself'});
    return child;
  }

  it('batch text output carries no control bytes and shows the name sanitised', async t => {
    if (cannotRun(t)) return;
    const hostile = await startHostile();
    const result = await execa(process.execPath, [CLI, '--batch', '--tab', 'brk', '--interval', '500', '--iterations', '3'], {
      reject: false, stdin: 'ignore', timeout: 20_000, encoding: 'buffer',
    });
    assert.equal(result.exitCode, 0, Buffer.from(result.stderr).toString());
    const text = Buffer.from(result.stdout).toString('latin1');
    const bad = [...text].findIndex(char => CONTROL_BYTES.test(char));
    assert.equal(bad, -1, `no control byte in the output; found one at ${bad}: ${JSON.stringify(text.slice(Math.max(0, bad - 40), bad + 40))}`);
    const row = Buffer.from(result.stdout).toString('utf8').split('\n').find(line => line.trimStart().startsWith(`${hostile.pid} `));
    assert.ok(row, `a row for the hostile process ${hostile.pid}:\n${Buffer.from(result.stdout).toString('utf8')}`);
    assert.ok(row.includes(HOSTILE_SHOWN), `the name shows as ${HOSTILE_SHOWN}: ${row}`);
  });

  it('batch JSON escapes the name: no raw control bytes, and the name parses back exactly', async t => {
    if (cannotRun(t)) return;
    const hostile = await startHostile();
    const result = await execa(process.execPath, [CLI, '--batch', '--json', '--tab', 'brk', '--interval', '500', '--iterations', '3'], {
      reject: false, stdin: 'ignore', timeout: 20_000,
    });
    assert.equal(result.exitCode, 0, String(result.stderr));
    const stdout = String(result.stdout);
    assert.equal(CONTROL_BYTES.test(stdout), false, 'no raw control byte in the JSON lines');
    const rows = stdout.trim().split('\n').flatMap(line => (JSON.parse(line) as {rows: {pid: number; comm: string}[]}).rows);
    const row = rows.find(candidate => candidate.pid === hostile.pid);
    assert.ok(row, `a row for the hostile process ${hostile.pid}`);
    assert.equal(row.comm, HOSTILE_COMM, 'the JSON carries the name as it is, escaped');
  });

  it('in the TUI it neither retitles the terminal, nor colours its row, nor clears the screen', async t => {
    if (cannotRun(t)) return;
    // Control: this terminal does act on the sequences in that name.
    // (The name ends in a cut-off CSI: "1m" completes it as bold, and RED is then drawn in red.)
    const raw = `${HOSTILE_COMM}1mRED`.replace(/\u001b/g, '\\033').replace(/\u0007/g, '\\007');
    const control = startTerminal(['sh', '-c', `printf '${raw}\\n'; sleep 10`], 80, 10);
    terminals.push(control);
    await waitForValue(() => control.title() === 'pwn', {timeoutMs: 5000, what: 'the control terminal to be retitled pwn'}, () => control.title());
    const redLine = await waitForValue(() => control.screenWithEscapes().split('\n').find(line => line.includes('RED')), {timeoutMs: 5000, what: 'RED on the control terminal'});
    assert.ok(isRed(redLine), `the control terminal drew in red: ${JSON.stringify(redLine)}`);

    const hostile = await startHostile();
    const terminal = startMemtopTerminal(['--tab', 'brk', '--interval', '500'], {wrap: ['sh', '-c', 'echo MARKER-BEFORE-MEMTOP; exec "$@"', 'sh']});
    terminals.push(terminal);
    const titleBefore = terminal.title();
    const screen = await terminal.waitFor(screen => screen.includes(HOSTILE_SHOWN), 'the hostile process on the brk tab', 15_000);
    // Another interval, so that the name has been drawn more than once.
    await new Promise(resolve => setTimeout(resolve, 700));
    assert.equal(terminal.title(), titleBefore, 'the pane title is unchanged');
    assert.doesNotMatch(terminal.title(), /pwn/);
    const escaped = terminal.screenWithEscapes().split('\n');
    const row = escaped.find(line => line.includes(`${hostile.pid} `) && line.includes('pwn'));
    assert.ok(row, `the hostile row is on screen:\n${screen}`);
    assert.equal(isRed(row), false, `no red on the row: ${JSON.stringify(row)}`);
    assert.ok(terminal.screen().includes('MARKER-BEFORE-MEMTOP'), `the screen was not cleared:\n${terminal.screen()}`);
  });
});

describe('what the tracer says is untrusted too', () => {
  it('a tracer error that quotes an escape sequence (a hostile binary path) reaches stderr without control bytes', async t => {
    if (cannotRun(t)) return;
    const fake = makeFakeBpftrace({fail: {script: 'brk.bt', stderr: `ERROR: Could not resolve symbol: /tmp/${HOSTILE_COMM}2J/evil:malloc\n`}});
    directories.push(fake.dir);
    const result = await execa(process.execPath, [CLI, '--batch', '--tab', 'brk', '--iterations', '1'], {
      reject: false, stdin: 'ignore', timeout: 15_000, env: {PATH: fake.pathEnv}, extendEnv: true,
    });
    assert.notEqual(result.exitCode, 0);
    const stderr = String(result.stderr);
    assert.equal(stderr.trimEnd().split('\n').length, 1, `one line: ${JSON.stringify(stderr)}`);
    assert.match(stderr, /Could not resolve symbol/);
    assert.equal(CONTROL_BYTES.test(stderr.trimEnd()), false, `no control bytes from the tracer's message: ${JSON.stringify(stderr)}`);
  });
});

describe('memtop runs only its own probe scripts', () => {
  it('not a probes/ folder in the working directory, nor a script or bpftrace found on PATH', async t => {
    if (cannotRun(t)) return;
    const cwd = temporaryDirectory();
    const decoy = 'BEGIN { printf("decoy\\n"); exit(); }\n';
    mkdirSync(path.join(cwd, 'probes', 'bpftrace'), {recursive: true});
    writeFileSync(path.join(cwd, 'probes', 'bpftrace', 'brk.bt'), decoy);
    const onPath = path.join(cwd, 'on-path');
    mkdirSync(onPath);
    writeFileSync(path.join(onPath, 'brk.bt'), decoy);
    // An executable bpftrace in the working directory, reachable only through relative PATH entries.
    const ran = path.join(cwd, 'decoy-bpftrace-ran');
    writeFileSync(path.join(cwd, 'bpftrace'), `#!/bin/sh\ntouch ${ran}\nexit 1\n`);
    chmodSync(path.join(cwd, 'bpftrace'), 0o755);
    const env = {PATH: `.::probes/bpftrace:${onPath}:${process.env.PATH ?? '/usr/bin:/bin'}`};
    const memtop = batch(['--json', '--tab', 'brk', '--interval', '500'], {cwd, env});
    const tracer = await theTracer(memtop);
    assertTracerArgv(tracer.argv, 'brk.bt');
    assert.equal(tracer.argv[0]!.startsWith(cwd), false, `not the bpftrace in the working directory: ${tracer.argv[0]}`);
    assert.equal(existsSync(ran), false, 'the bpftrace in the working directory never ran');
    assert.notEqual(readFileSync(tracer.script, 'utf8'), decoy);
    await memtop.waitForRecord(record => Array.isArray(record.rows), 'a snapshot', 15_000);
  });
});
