// Reading /proc/PID files of processes that may have gone: undefined for a gone one, the text for one that is there.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {once} from 'node:events';
import {test} from 'node:test';
import {procText} from '../source/system/proc-file.js';
import {readStatusBytes} from '../source/system/proc-status.js';
import {cgroupOf} from '../source/system/cgroups.js';

test('a process that is there has its files read; once it has gone and been reaped, each reader says so', async () => {
  const child = spawn('sleep', ['30'], {stdio: 'ignore'});
  await once(child, 'spawn');
  const pid = child.pid!;
  assert.equal(procText(pid, 'comm'), 'sleep\n');
  assert.equal(typeof readStatusBytes(pid), 'object');
  assert.equal(typeof cgroupOf(pid), 'string');
  child.kill('SIGKILL');
  await once(child, 'exit');
  assert.equal(procText(pid, 'comm'), undefined);
  assert.equal(readStatusBytes(pid), 'gone');
  assert.equal(cgroupOf(pid), undefined);
  assert.throws(() => procText(process.pid, 'no-such-file'), /ENOENT/, 'a missing file of a process that is there is an error, not a process gone');
});
