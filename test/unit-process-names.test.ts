// The one owner of process names: a name read from /proc, kept a few seconds, and GONE_NAME once the process has gone.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {once} from 'node:events';
import {test} from 'node:test';
import {GONE_NAME, processExists, processName, shownName} from '../source/system/process-names.js';

test('a process is named from /proc, the read kept a few seconds, and GONE_NAME once it has gone', async () => {
  const child = spawn('sleep', ['30'], {stdio: 'ignore'});
  await once(child, 'spawn');
  const pid = child.pid!;
  const now = Date.now();
  assert.equal(processName(pid, now), 'sleep');
  assert.equal(shownName(pid), 'sleep');
  assert.ok(processExists(pid));
  child.kill('SIGKILL');
  await once(child, 'exit');
  assert.equal(processExists(pid), false, 'existence is read now');
  assert.equal(processName(pid, now + 1000), 'sleep', 'a name read a second ago is not read again');
  assert.equal(processName(pid, now + 6000), undefined, 'after a few seconds it is read again: gone');
  assert.equal(shownName(pid), GONE_NAME);
});
