// memtop -- COMMAND's pure parts: the flags after `--`, the figures and stacks read from
// command.bt's maps, the summary's totals, text and JSON line, and a shell's exit status.
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {parseFlags, UsageError} from '../source/flags.js';
import {buildSummary, leakStacks, processFigures, summaryJson, summaryText} from '../source/model/command-summary.js';
import {exitStatus} from '../source/command/held-command.js';

describe('-- COMMAND flags', () => {
  it('takes everything after -- as COMMAND, flags included', () => {
    const options = parseFlags(['--batch', '--json', '--', 'python3', '--batch', '-c', 'pass']);
    assert.deepEqual(options.command, ['python3', '--batch', '-c', 'pass']);
    assert.equal(options.json, true);
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
    const summary = buildSummary({command: ['prog'], exitStatus: 3, processes: [...processFigures(maps).values()], stacks: [...leakStacks(maps).values()].flat(), untracked: 0, heldMs: 12.4});
    assert.equal(summary.total.allocations, 7);
    assert.equal(summary.total.inUseBytes, 264);
    const text = summaryText(summary, 10).join('\n');
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
