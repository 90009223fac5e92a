// The test helpers that kill processes touch only their own. On Debian unstable (tmux 3.8) a dead
// pane's pane_pid is empty, which Number() read as pid 0, whose "descendants" are every process:
// closing a terminal whose memtop had exited SIGKILLed every memtop on the machine two seconds
// later (another test's, or another user's). Run in every root CI runs, each with its own tmux.
import assert from 'node:assert/strict';
import {spawn, type ChildProcess} from 'node:child_process';
import {after, describe, it} from 'node:test';
import {descendantPids, isRunning} from './helpers/child-lines.js';
import {startMemtopTerminal} from './helpers/memtop-terminal.js';
import {CLI, cannotRunCli} from './helpers/requirements.js';
import {isMemtop} from './helpers/tracer-processes.js';
import {waitForValue} from './helpers/wait-for-value.js';

const started: number[] = [];
after(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** A process that looks like a memtop to the helpers (node running dist/cli.js) but is not one the test started in a terminal. */
function bystander(): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)', CLI], {stdio: 'ignore'});
  started.push(child.pid!);
  return child;
}

describe('test helpers', () => {
  it('refuse the descendants of pid 0 or 1, which are every process', async () => {
    assert.throws(() => descendantPids(0), /every process/);
    assert.throws(() => descendantPids(1), /every process/);
    assert.throws(() => descendantPids(Number('')), /every process/);
    const parent = spawn('sh', ['-c', 'sleep 30 & wait'], {stdio: 'ignore'});
    started.push(parent.pid!);
    await waitForValue(() => descendantPids(parent.pid!).length === 1 || undefined, {timeoutMs: 5000, what: 'the shell\'s sleep'});
  });

  it('closing a terminal whose memtop has exited kills no other memtop', async t => {
    if (cannotRunCli(t)) return;
    const other = bystander();
    const ended = new Promise<string>(resolve => other.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)));
    await waitForValue(() => isMemtop(other.pid!) || undefined, {timeoutMs: 5000, what: 'the bystander to look like a memtop'});
    // memtop --version prints and exits at once: the pane is dead when the terminal closes.
    const terminal = startMemtopTerminal(['--version']);
    await waitForValue(() => !terminal.alive() || undefined, {timeoutMs: 20_000, what: 'memtop --version to exit in its pane'});
    assert.throws(() => terminal.panePid(), /pane's process has exited/);
    // close() waits up to two seconds for the memtops it noted in the pane, then SIGKILLs them;
    // a kill takes a moment to land, so the bystander is given one.
    await terminal.close();
    const fate = await Promise.race([ended, new Promise(resolve => setTimeout(() => resolve(undefined), 1000))]);
    assert.equal(fate, undefined, 'a process that only looks like memtop, outside the terminal, was killed');
    assert.ok(isRunning(other.pid!));
  });
});
