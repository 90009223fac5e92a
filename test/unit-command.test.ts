// memtop -- COMMAND's pure parts: the flags after `--`, the figures and stacks read from
// command.bt's maps, the summary's totals, text and JSON line, a shell's exit status; the TUI's
// rows of COMMAND's processes only and its status field; and how a held COMMAND is ended.
import assert from 'node:assert/strict';
import {closeSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, it} from 'node:test';
import {Profile} from 'pprof-format';
import {buildProfile} from '../source/model/pprof.js';
import {summaryProfile} from '../source/model/command-profile.js';
import {isSystemLoader, parseLoaderList} from '../source/system/command-allocators.js';
import {interpreterOf} from '../source/system/elf-file.js';
import {checkProfileFile} from '../source/system/pprof-file.js';
import {parseFlags, UsageError} from '../source/flags.js';
import {buildSummary, leakStacks, processFigures, summaryJson, summaryText} from '../source/model/command-summary.js';
import {CommandError, exitStatus, openCommandOutput, startHeld} from '../source/command/held-command.js';
import {runTime} from '../source/command/run-command.js';
import {withPids, type CommandView} from '../source/command/command-tui.js';
import {applyRows, emptyTable} from '../source/model/table.js';
import {columnsFor} from '../source/model/columns.js';
import {selectRows} from '../source/model/select-rows.js';
import {viewOf} from '../source/registry.js';
import {layoutStatus, statusFields, type StatusInput} from '../source/ui/status-line.js';

describe('-- COMMAND flags', () => {
  it('takes everything after -- as COMMAND, flags included', () => {
    const options = parseFlags(['--batch', '--json', '--', 'python3', '--batch', '-c', 'pass']);
    assert.deepEqual(options.command, ['python3', '--batch', '-c', 'pass']);
    assert.equal(options.json, true);
  });
  it('runs COMMAND in the TUI without --batch, its output to --output FILE', () => {
    const options = parseFlags(['--tab', 'brk', '--output', 'run.log', '--', 'make', '-j4']);
    assert.deepEqual(options.command, ['make', '-j4']);
    assert.equal(options.batch, false);
    assert.equal(options.output, 'run.log');
    assert.throws(() => parseFlags(['--output', 'run.log']), /--output goes with -- COMMAND/);
    assert.throws(() => parseFlags(['--output', '', '--', 'true']), /--output needs a file name/);
    assert.throws(() => parseFlags(['--iterations', '2', '--', 'true']), /--iterations/);
  });
  it('refuses an empty command, --pid beside it, and --user without it', () => {
    assert.throws(() => parseFlags(['--batch', '--']), UsageError);
    assert.throws(() => parseFlags(['--batch', '--pid', '1', '--', 'true']), /--pid/);
    assert.throws(() => parseFlags(['--user', 'alice']), /--user goes with/);
    assert.throws(() => parseFlags(['--batch', '--user=a;b', '--', 'true']), /not a user name/);
  });
});

const maps = new Map<string, Record<string, unknown>>([
  ['allocs', {'10': 5, '11': 2}],
  ['frees', {'10': 3}],
  ['allocated', {'10': 500, '11': 64}],
  ['inuse_bytes', {'10': 200, '11': 64}],
  ['inuse_blocks', {'10': 2, '11': 1}],
  ['peak', {'10': 300}],
  ['brk_start', {'10': 1000}],
  ['brk_end', {'10': 5096}],
  ['leak_bytes', {'10,\n    leaky+12\n    main+4\n': 200, '10,\n    tidy+3\n    main+4\n': 0, '11,\n    child+1\n': 64}],
  ['leak_blocks', {'10,\n    leaky+12\n    main+4\n': 2, '10,\n    tidy+3\n    main+4\n': 0, '11,\n    child+1\n': 1}],
]);

describe('command summary', () => {
  it('reads each process and its stacks not freed (freed ones left out)', () => {
    const processes = processFigures(maps);
    assert.equal(processes.get(10)?.allocations, 5);
    assert.equal(processes.get(10)?.brkGrowth, 4096);
    assert.equal(processes.get(11)?.frees, 0);
    const stacks = leakStacks(maps);
    assert.deepEqual(stacks.get(10), [{pid: 10, bytes: 200, blocks: 2, frames: ['leaky', 'main']}]);
  });
  it('adds processes up and prints valgrind\'s words and one JSON line', () => {
    const summary = buildSummary({command: ['prog'], exitStatus: 3, processes: [...processFigures(maps).values()], stacks: [...leakStacks(maps).values()].flat(), untracked: 0, heldMs: 12.4, ranMs: 3});
    assert.equal(summary.total.allocations, 7);
    assert.equal(summary.total.inUseBytes, 264);
    const text = summaryText(summary, {limit: 10}).join('\n');
    assert.match(text, /in use at exit: 264 bytes in 3 blocks/);
    assert.match(text, /total heap usage: 7 allocs, 3 frees, 564 bytes allocated/);
    const json = summaryJson(summary, 1).summary;
    assert.equal(json.exitStatus, 3);
    assert.deepEqual((json.stacks as {frames: string[]}[]).map(stack => stack.frames[0]), ['leaky']);
  });
  it('reports a death by signal as a shell does', () => {
    assert.equal(exitStatus(null, 'SIGTERM'), 143);
    assert.equal(exitStatus(7, null), 7);
  });
});

describe('-- COMMAND in the TUI', () => {
  const view = viewOf('malloc', 'process');
  const meta = {elapsedMs: 1000, probe: 'p', backend: 'bpftrace' as const, time: 't', capped: false, skippedLines: 0};
  const table = applyRows(emptyTable(), [{pid: 10, comm: 'make', count: 5}, {pid: 11, comm: 'cc1', count: 50}, {pid: 99, comm: 'other', count: 500}], meta, view);
  const query = {view, sortColumn: 'count' as const, descending: true, cumulative: false, filter: '', limit: 10};

  it("shows only COMMAND's processes, as its tracer learns them", () => {
    let command: CommandView = {phase: 'running', pids: new Set()};
    command = withPids(command, 10, []);
    assert.deepEqual(selectRows(table.rows.values(), columnsFor(view), {...query, pids: command.pids}).map(row => row.pid), [10]);
    const before = command;
    command = withPids(command, 10, [10, 11]);
    assert.deepEqual(selectRows(table.rows.values(), columnsFor(view), {...query, pids: command.pids}).map(row => row.pid), [11, 10]);
    assert.equal(withPids(command, 10, [11]), command, 'no new process: the same view, no re-render');
    assert.notEqual(command, before);
    assert.deepEqual(selectRows(table.rows.values(), columnsFor(view), query).map(row => row.pid), [99, 11, 10], 'without -- COMMAND every process');
  });

  it('says where COMMAND is and where its output goes, and only that beside its summary', () => {
    const input: StatusInput = {cumulative: false, filter: '', cgroupFilter: '', filtering: false, intervalMs: 1000, table: {probe: 'uprobe:malloc', capped: false, skippedLines: 0}};
    const command = {command: ['make', '-j4'], pid: 10, output: '/dev/null', phase: 'running' as const};
    assert.match(layoutStatus(statusFields({...input, command}), 200), /^COMMAND make -j4 \(PID 10\) · its output to \/dev\/null · probe uprobe:malloc/);
    assert.match(layoutStatus(statusFields({...input, command}), 30), /^COMMAND PID 10/);
    assert.match(layoutStatus(statusFields({...input, command: {...command, phase: 'ending'}}), 200), /^ending make -j4: SIGTERM sent, SIGKILL in 5 s/);
    assert.equal(layoutStatus(statusFields({...input, command: {...command, phase: 'summary', exitStatus: 3}}), 200), 'make -j4 exited with status 3 · q quits');
    // --pprof in the TUI: where the profile at exit went, or why it did not.
    assert.equal(layoutStatus(statusFields({...input, command: {...command, phase: 'summary', exitStatus: 3, profile: {file: '/tmp/exit.pb.gz'}}}), 200), 'make -j4 exited with status 3 · profile in /tmp/exit.pb.gz · q quits');
    assert.equal(layoutStatus(statusFields({...input, command: {...command, phase: 'summary', exitStatus: 0, profile: {file: 'x', error: 'cannot write the profile to x: \u001b[2J ENOSPC'}}}), 200), 'make -j4 exited with status 0 · no profile: cannot write the profile to x: ?[2J ENOSPC · q quits');
    assert.equal(layoutStatus(statusFields({...input, command: {...command, phase: 'summary', exitStatus: 0, profile: {file: '/a/very/long/path/to/a/profile/exit.pb.gz'}}}), 34), 'exit 0 · profile written · q quits');
    assert.match(layoutStatus(statusFields({...input, command: {...command, command: ['evil\u001b[2J']}}), 200), /^COMMAND evil\?\[2J/);
  });

  it('fits the summary to a screen: the first frames of each stack, the stacks before the processes', () => {
    const summary = buildSummary({command: ['prog'], exitStatus: 0, processes: [...processFigures(maps).values()], stacks: [...leakStacks(maps).values()].flat(), untracked: 0, heldMs: 1, ranMs: 1});
    const text = summaryText(summary, {limit: 10, frames: 1, stacksFirst: true});
    assert.ok(text.includes('      leaky') && !text.includes('      main'), text.join('\n'));
    const stacks = text.findIndex(line => line.startsWith('not freed at exit'));
    const processes = text.findIndex(line => line.startsWith('process 10 '));
    assert.ok(stacks > 0 && processes > stacks, text.join('\n'));
    const batch = summaryText(summary, {limit: 10});
    assert.ok(batch.findIndex(line => line.startsWith('process 10 ')) < batch.findIndex(line => line.startsWith('not freed at exit')), 'batch keeps valgrind\'s order');
    assert.ok(batch.includes('      main'));
  });

  it('writes what was in use at exit as a pprof profile: one sample per stack, blocks and bytes', () => {
    const summary = buildSummary({command: ['prog'], exitStatus: 0, processes: [...processFigures(maps).values()], stacks: [...leakStacks(maps).values()].flat(), untracked: 0, heldMs: 1, ranMs: 2000});
    const profile = Profile.decode(buildProfile(summaryProfile(summary, 10_000)).encode());
    const name = (index: number | bigint) => String(profile.stringTable.strings[Number(index)]);
    assert.deepEqual(profile.sampleType.map(type => name(type.type)), ['inuse_objects', 'inuse_space']);
    const functionName = (locationId: number | bigint) => {
      const location = profile.location.find(candidate => Number(candidate.id) === Number(locationId))!;
      return name(profile.function.find(fn => Number(fn.id) === Number(location.line[0]!.functionId))!.name);
    };
    const samples = profile.sample.map(sample => ({frames: sample.locationId.map(functionName), values: sample.value.map(Number)}));
    assert.deepEqual(
      samples,
      summary.stacks.map(stack => ({frames: stack.frames, values: [stack.blocks, stack.bytes]})),
    );
    assert.equal(Number(profile.durationNanos), 2000 * 1e6);
  });
});

describe('--pprof with -- COMMAND', () => {
  it('goes with --batch and with the TUI, and is checked before COMMAND runs', () => {
    assert.equal(parseFlags(['--batch', '--pprof', 'exit.pb.gz', '--', 'ls']).pprof, 'exit.pb.gz');
    assert.equal(parseFlags(['--pprof', 'exit.pb.gz', '--', 'ls']).pprof, 'exit.pb.gz');
    assert.throws(() => checkProfileFile('/no-such-directory/exit.pb.gz'), /^Error: cannot write the profile to \/no-such-directory\/exit.pb.gz: ENOENT/);
    assert.throws(() => checkProfileFile(tmpdir()), /it is a directory/);
  });
});

describe("COMMAND's --output FILE", () => {
  it('is emptied as a shell\'s > does, and never opened through a symbolic link', () => {
    const directory = mkdtempSync(join(tmpdir(), 'memtop-output-'));
    try {
      const file = join(directory, 'run.log');
      writeFileSync(file, 'old output');
      closeSync(openCommandOutput(file));
      assert.equal(readFileSync(file, 'utf8'), '');
      const target = join(directory, 'precious');
      writeFileSync(target, 'keep');
      symlinkSync(target, join(directory, 'link.log'));
      assert.throws(() => openCommandOutput(join(directory, 'link.log')), (error: unknown) => error instanceof CommandError && error.status === 2 && /symbolic link/.test(error.message));
      assert.equal(readFileSync(target, 'utf8'), 'keep');
      assert.throws(() => openCommandOutput(join(directory, 'no-such-dir', 'x.log')), /--output .*ENOENT/);
    } finally {
      rmSync(directory, {recursive: true, force: true});
    }
  });
});

describe('ending a held COMMAND', () => {
  it('SIGTERM ends it; one that ignores SIGTERM is killed after the grace (its whole group in the TUI)', async () => {
    const polite = await startHeld(['sleep', '30'], {quiet: true});
    polite.release();
    await new Promise(resolve => setTimeout(resolve, 200));
    assert.equal(await polite.end(2000), 143);
    const stubborn = await startHeld(['sh', '-c', 'trap "" TERM; sleep 30 & wait; sleep 30'], {quiet: true});
    stubborn.release();
    const children = () => readFileSync(`/proc/${stubborn.pid}/task/${stubborn.pid}/children`, 'utf8').trim();
    for (let tries = 0; tries < 100 && children() === ''; tries++) await new Promise(resolve => setTimeout(resolve, 20));
    const sleeper = Number(children());
    const started = Date.now();
    assert.equal(await stubborn.end(300), 137);
    assert.ok(Date.now() - started >= 250, 'SIGKILL only after the grace');
    // The sleep it started is killed with it (left a zombie where nobody reaps orphans).
    const running = () => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${sleeper}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    for (let tries = 0; tries < 50 && running(); tries++) await new Promise(resolve => setTimeout(resolve, 20));
    assert.ok(sleeper > 0 && !running(), 'its group (the sleep it started) is gone too');
  });
});

describe("COMMAND's allocator files", () => {
  it('reads the loader list as ldd prints it, and runs only a root-owned dynamic loader to get it', () => {
    const listed = [
      '\tlinux-vdso.so.1 (0x00007ffc1a5e9000)',
      '\t/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 (0x00007f0e3c000000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0e3be00000)',
      '\tlibmissing.so => not found',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f0e3c3f0000)',
    ].join('\n');
    assert.deepEqual(parseLoaderList(listed), ['/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
    const loader = interpreterOf(process.execPath);
    assert.ok(loader && isSystemLoader(loader), `node's own loader ${loader} is a system one`);
    // A loader a binary names that is no loader by name, or not root's, is never run.
    assert.equal(isSystemLoader('/tmp/ld-linux-x86-64.so.2'), false);
    assert.equal(isSystemLoader('/bin/sh'), false);
    assert.equal(isSystemLoader('/no/such/ld-linux-x86-64.so.2'), false);
  });
});

describe('COMMAND\'s run time (ranMs)', () => {
  it('runs to the exit the tracer saw, not to memtop reaping it; memtop\'s wait where the tracer saw none or its clock disagrees', () => {
    const released = 5_000_000_000n;
    assert.equal(runTime(released, released + 37_500_000n, 93.2), 37.5, 'exited 37.5 ms after its release, reaped 93.2 ms after');
    assert.equal(runTime(released, undefined, 93.2), 93.2, 'no exit seen');
    assert.equal(runTime(released, released - 1_000_000n, 93.2), 93.2, 'an exit before the release: another clock');
    assert.equal(runTime(released, released + 200_000_000n, 93.2), 93.2, 'an exit after the reaping: another clock');
  });
});
