// End-to-end, memtop --batch -- COMMAND against valgrind's HEAP SUMMARY (Debian's valgrind, a
// reference nobody here wrote) on real programs: python3 on a fixed script, sort -n on a file of
// numbers, and wl_exit_leaks, which leaks known blocks from wl_keep_at_exit. Allocating calls,
// frees, bytes allocated and what is in use at exit must be within 1% of valgrind's, the leaking
// function on top; COMMAND's exit status is memtop's; a missing command is one line and 127; no
// process memtop started (its tracers, COMMAND), each seen by pid while memtop ran, outlives it.
import assert from 'node:assert/strict';
import {chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, describe, it} from 'node:test';
import {execa} from 'execa';
import {cannotRun, CLI} from './helpers/requirements.js';
import {descendantPids, processStart, stillRunning} from './helpers/child-lines.js';
import {leakProgram, pythonProgram, sortProgram} from './helpers/command-programs.js';
import {cannotRunPprof, pprof, topRows} from './helpers/go-pprof.js';
import {buildGo, buildMuslStatic, findAllocatorLibrary} from './helpers/allocator-workloads.js';
import {counterEnv, libcPath} from './helpers/independent-count.js';
import {startLineChild} from './helpers/child-lines.js';
import {freeSite} from '../source/backends/bpftrace-command.js';
import {bpftraceVersion} from '../source/backends/bpftrace.js';
import {takesProbeOffsets} from '../source/backends/allocator-probes.js';

const TOLERANCE = 0.01;
const directory = mkdtempSync(join(tmpdir(), 'memtop-command-'));
after(() => rmSync(directory, {recursive: true, force: true}));

interface HeapSummary {
  allocations: number;
  frees: number;
  bytesAllocated: number;
  inUseBytes: number;
  inUseBlocks: number;
}

/**
 * valgrind's HEAP SUMMARY of a command, of the run the program makes on its own: by default
 * valgrind calls glibc's __libc_freeres at exit, which frees glibc's own buffers (locale data,
 * stdio's) that no run outside valgrind frees. Those frees happen after COMMAND's _exit, where
 * memtop takes its figures, so --run-libc-freeres=no: the reference is what the program did.
 */
async function valgrind(command: string[], env: Record<string, string> = {}, flags: string[] = []): Promise<HeapSummary> {
  // A uprobe another tracer placed in libc (another memtop on a shared machine) is a breakpoint in
  // the code valgrind translates: the program dies of SIGTRAP part way, and its summary is of a
  // run cut short. Such a run is no reference: valgrind runs again, a few times, 5 s apart.
  const killedBy = (stderr: string) => /Process terminating with default action of signal \d+ \((\w+)\)/.exec(stderr)?.[1];
  let result = await execa('valgrind', ['--leak-check=summary', '--run-libc-freeres=no', ...flags, ...command], {reject: false, env, stdout: 'ignore'});
  for (let attempt = 1; attempt < 6 && killedBy(result.stderr) === 'SIGTRAP'; attempt++) {
    await new Promise(resolve => setTimeout(resolve, 5000));
    result = await execa('valgrind', ['--leak-check=summary', '--run-libc-freeres=no', ...flags, ...command], {reject: false, env, stdout: 'ignore'});
  }
  const killed = killedBy(result.stderr);
  assert.ok(!killed, `valgrind's run of ${command.join(' ')} died of ${killed} (SIGTRAP: another tracer's uprobe in libc), no reference:\n${result.stderr.slice(-1500)}`);
  const number = (text: string) => Number(text.replaceAll(',', ''));
  const inUse = /in use at exit: ([\d,]+) bytes in ([\d,]+) blocks/.exec(result.stderr);
  const usage = /total heap usage: ([\d,]+) allocs, ([\d,]+) frees, ([\d,]+) bytes allocated/.exec(result.stderr);
  assert.ok(inUse && usage, `valgrind printed no HEAP SUMMARY:\n${result.stderr.slice(-2000)}`);
  return {inUseBytes: number(inUse[1]!), inUseBlocks: number(inUse[2]!), allocations: number(usage[1]!), frees: number(usage[2]!), bytesAllocated: number(usage[3]!)};
}

interface MemtopSummary extends HeapSummary {
  exitStatus: number;
  allocators: string[];
  garbageCollected?: boolean;
  heldMs: number;
  stacks: {bytes: number; blocks: number; frames: string[]}[];
  processes: {pid: number}[];
}

/** Every process a memtop of these tests started (its tracers, COMMAND), by pid and start time, seen while it ran. */
const started = new Map<number, string>();

/** memtop --batch --json -- COMMAND: its last line's summary and its exit code. */
async function memtop(command: string[], env: Record<string, string> = {}, flags: string[] = []): Promise<{summary: MemtopSummary; exitCode: number; stderr: string; stdout: string}> {
  const run = execa(CLI, ['--batch', '--json', ...flags, '--', ...command], {reject: false, env, timeout: 240_000});
  const note = () => {
    for (const pid of run.pid ? descendantPids(run.pid) : []) {
      const start = processStart(pid);
      if (start !== undefined) started.set(pid, start);
    }
  };
  const watch = setInterval(note, 100);
  const result = await run.finally(() => clearInterval(watch));
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  let summary: MemtopSummary | undefined;
  try {
    summary = (JSON.parse(last) as {summary: MemtopSummary}).summary;
  } catch {
    assert.fail(`no summary line (exit ${result.exitCode}):\n${result.stdout.slice(-1000)}\n${result.stderr.slice(-1000)}`);
  }
  return {summary: summary!, exitCode: result.exitCode ?? -1, stderr: result.stderr, stdout: result.stdout};
}

function near(actual: number, expected: number, what: string): void {
  const allowed = Math.max(1, expected * TOLERANCE);
  assert.ok(Math.abs(actual - expected) <= allowed, `${what}: memtop ${actual}, valgrind ${expected} (within ${allowed})`);
}

function matchesValgrind(summary: HeapSummary, reference: HeapSummary): void {
  near(summary.allocations, reference.allocations, 'allocating calls');
  near(summary.frees, reference.frees, 'frees');
  near(summary.bytesAllocated, reference.bytesAllocated, 'bytes allocated');
  near(summary.inUseBytes, reference.inUseBytes, 'bytes in use at exit');
  near(summary.inUseBlocks, reference.inUseBlocks, 'blocks in use at exit');
}

/** The processes these tests' memtops started (tracers, COMMAND) that are still running: pids, each with its command line. */
function leftovers(): string[] {
  const args = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      return '(gone meanwhile)';
    }
  };
  return [...started].filter(([pid, start]) => stillRunning(pid, start)).map(([pid]) => `${pid} ${args(pid)}`);
}

describe('memtop -- COMMAND', {timeout: 900_000}, () => {
  it('counts wl_exit_leaks as valgrind does, its leaking function on top, in the summary and in its --pprof profile', async t => {
    if (cannotRun(t) || (await cannotRunPprof(t, directory))) return;
    const {command} = await leakProgram();
    const reference = await valgrind(command);
    const profile = join(directory, 'exit-leaks.pb.gz');
    const {summary, exitCode} = await memtop(command, {}, ['--pprof', profile]);
    assert.equal(exitCode, 0);
    matchesValgrind(summary, reference);
    assert.equal(summary.inUseBlocks, 12);
    assert.equal(summary.stacks[0]?.frames[0], 'wl_keep_at_exit', JSON.stringify(summary.stacks[0]));
    assert.equal(summary.stacks[0]?.bytes, 12 * 5000);
    assert.ok(summary.heldMs > 0);
    // go tool pprof reads the profile back: wl_keep_at_exit leads, with the summary's bytes and blocks.
    for (const [index, expected] of [['inuse_space', summary.stacks[0]!.bytes], ['inuse_objects', summary.stacks[0]!.blocks]] as const) {
      const top = topRows(await pprof(directory, ['-top', `-sample_index=${index}`, '-unit=B', profile]));
      assert.equal(top[0]?.name, 'wl_keep_at_exit', `${index}: ${JSON.stringify(top.slice(0, 5))}`);
      assert.equal(Number.parseFloat(top[0]!.flat), expected, `${index} of wl_keep_at_exit: ${top[0]!.flat}`);
    }
  });

  it("counts wl_exit_leaks on jemalloc as valgrind does, finds its leak on tcmalloc, mimalloc and static musl, and counts a Go program's calls and bytes", async t => {
    if (cannotRun(t)) return;
    const {command} = await leakProgram();
    /** The summary's stack of wl_keep_at_exit's 12 blocks of 5,000 bytes, by its allocating function, named. */
    const keptAtExit = (summary: MemtopSummary) => summary.stacks.find(stack => stack.frames[0] === 'wl_keep_at_exit');
    for (const allocator of ['jemalloc', 'tcmalloc', 'mimalloc'] as const) {
      const library = findAllocatorLibrary(allocator);
      assert.ok(library, `no ${allocator} library: .ci/install installs it`);
      // Preloaded, as a user runs a program on another allocator; memtop finds it with COMMAND's own LD_PRELOAD.
      const {summary, exitCode} = await memtop(command, {LD_PRELOAD: library});
      t.diagnostic(`${allocator}: ${JSON.stringify({...summary, stacks: summary.stacks.slice(0, 2), processes: undefined})}`);
      assert.equal(exitCode, 0);
      assert.ok(summary.allocators.includes(allocator), `${allocator} among the allocators probed: ${JSON.stringify(summary.allocators)}`);
      assert.deepEqual(keptAtExit(summary) && [keptAtExit(summary)!.bytes, keptAtExit(summary)!.blocks], [60_000, 12], JSON.stringify(summary.stacks));
      if (allocator === 'jemalloc') {
        // valgrind replaces jemalloc's entry points too when told its soname; jemalloc loads
        // libstdc++, whose exception pool valgrind would free at exit (--run-cxx-freeres): no run does.
        const reference = await valgrind(command, {LD_PRELOAD: library}, [`--soname-synonyms=somalloc=*jemalloc*`, '--run-cxx-freeres=no']);
        matchesValgrind(summary, reference);
      }
    }
    // Static musl: its allocator and its _Exit are in the executable.
    const musl = await buildMuslStatic('wl_exit_leaks');
    const {summary: muslSummary} = await memtop([musl, ...command.slice(1)]);
    assert.ok(muslSummary.allocators.includes('musl'), JSON.stringify(muslSummary.allocators));
    assert.deepEqual([muslSummary.inUseBytes, muslSummary.inUseBlocks], [60_000, 12]);
    assert.deepEqual(keptAtExit(muslSummary) && [keptAtExit(muslSummary)!.bytes, keptAtExit(muslSummary)!.blocks], [60_000, 12], JSON.stringify(muslSummary.stacks));
    // Go: runtime.mallocgc's calls and bytes, at least what the workload counted of its own burst
    // (runtime.MemStats), and its heap said to be garbage collected.
    const go = await buildGo();
    const {summary: goSummary, stdout} = await memtop([go, '5000', '1']);
    const done = stdout.split('\n').map(line => /^\{"phase":"done".*\}$/.test(line) ? (JSON.parse(line) as {events: number; bytes: number}) : undefined).find(Boolean);
    assert.ok(done, stdout.slice(-1000));
    t.diagnostic(`go: ${goSummary.allocations} calls, ${goSummary.bytesAllocated} bytes; the workload's burst ${done.events} allocations, ${done.bytes} bytes`);
    assert.ok(goSummary.allocators.includes('go'));
    assert.equal(goSummary.garbageCollected, true);
    assert.ok(goSummary.allocations >= done.events && goSummary.allocations <= done.events * 1.15, `${goSummary.allocations} calls against ${done.events}`);
    assert.ok(goSummary.bytesAllocated >= done.bytes && goSummary.bytesAllocated <= done.bytes * 1.15, `${goSummary.bytesAllocated} bytes against ${done.bytes}`);
  });

  it('counts python3 on a fixed script as valgrind does', async t => {
    if (cannotRun(t)) return;
    const {command, env} = pythonProgram();
    const reference = await valgrind(command, env);
    const {summary, exitCode} = await memtop(command, env);
    assert.equal(exitCode, 0);
    matchesValgrind(summary, reference);
  });

  it('counts sort -n on a file of numbers as valgrind does', async t => {
    if (cannotRun(t)) return;
    const {command} = sortProgram(directory);
    const reference = await valgrind(command);
    const {summary, exitCode} = await memtop(command);
    assert.equal(exitCode, 0);
    matchesValgrind(summary, reference);
  });

  it("counts sort -n's frees as a one-liner at free's entry does, free's probe past its null check where bpftrace takes an offset", async t => {
    if (cannotRun(t)) return;
    // sort under a name of its own: the counter's comm filter must not count another sort on this shared machine.
    const [sortPath, ...sortArgs] = sortProgram(directory).command as [string, ...string[]];
    const ownSort = join(directory, 'memtopsortfree');
    copyFileSync((await execa('sh', ['-c', `command -v ${sortPath}`])).stdout.trim(), ownSort);
    chmodSync(ownSort, 0o755);
    const command = [ownSort, ...sortArgs];
    const libc = libcPath();
    const version = await bpftraceVersion();
    const site = freeSite(libc, version);
    // memtop skips free(NULL) by where its probe is; this counter, at the entry, by looking at the argument.
    if (takesProbeOffsets(version)) assert.match(site, /^free\+\d+$/, `free's probe past the entry in ${libc}`);
    else assert.equal(site, 'free');
    const ready = 'memtop-test-free-ready';
    const program = [
      `BEGIN { printf("${ready}\\n"); }`,
      `uprobe:${libc}:realloc /comm == "memtopsortfree"/ { @inside[tid] = 1; if (arg0 != 0) { @frees = count(); } }`,
      `uretprobe:${libc}:realloc /comm == "memtopsortfree"/ { delete(@inside[tid]); }`,
      `uprobe:${libc}:free /comm == "memtopsortfree" && @inside[tid] == 0/ { if (arg0 != 0) { @frees = count(); } else { @nulls = count(); } }`,
    ].join(' ');
    const counter = startLineChild('bpftrace', ['-f', 'json', '-e', program], {what: "one-liner counting sort's frees at free's entry", env: await counterEnv()});
    try {
      await counter.waitForRecord(record => record.type === 'printf' && String(record.data).startsWith(ready), 'its BEGIN line (probes attached)', 30_000);
      const {summary, exitCode} = await memtop(command);
      assert.equal(exitCode, 0);
      await counter.stop('SIGINT', 5000);
      const count = (name: string) => {
        for (const record of counter.records) {
          const data = record.data as Record<string, unknown> | undefined;
          if (record.type === 'map' && data && `@${name}` in data) return Number(data[`@${name}`]);
        }
        return 0;
      };
      assert.ok(count('frees') > 0, counter.describe());
      assert.equal(summary.frees, count('frees'), `memtop's frees (probe at ${site}) against the one-liner's at the entry, which also saw ${count('nulls')} free(NULL)`);
    } finally {
      await counter.stop('SIGKILL');
    }
  });

  it("exits with COMMAND's status, 127 for a command that does not exist, and leaves no tracer", async t => {
    if (cannotRun(t)) return;
    const {summary, exitCode} = await memtop(['sh', '-c', 'exit 7']);
    assert.equal(exitCode, 7);
    assert.equal(summary.exitStatus, 7);
    const killed = await memtop(['sh', '-c', 'kill -TERM $$']);
    assert.equal(killed.exitCode, 143);
    const missing = await execa(CLI, ['--batch', '--', 'memtop-no-such-command'], {reject: false});
    assert.equal(missing.exitCode, 127);
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
    assert.match(missing.stderr, /memtop-no-such-command: command not found/);
    assert.ok(started.size > 0, 'the tracers were seen');
    assert.deepEqual(leftovers(), []);
  });
});
