// The one owner of process names: a name read from /proc, kept a few seconds, and GONE_NAME once the process has gone.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {once} from 'node:events';
import {readFileSync} from 'node:fs';
import {test} from 'node:test';
import {forgetProcessName, GONE_NAME, processExists, processName, shownName} from '../source/system/process-names.js';

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

test('a process that has exec\'d is named anew once forgotten, not after the cache\'s few seconds', async () => {
  const child = spawn('sh', ['-c', 'read line; exec sleep 30'], {stdio: ['pipe', 'ignore', 'ignore']});
  await once(child, 'spawn');
  const pid = child.pid!;
  try {
    const now = Date.now();
    assert.equal(processName(pid, now), 'sh');
    child.stdin!.end('go\n');
    for (let tries = 0; tries < 200 && !readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('sleep'); tries++) await new Promise(resolve => setTimeout(resolve, 10));
    assert.equal(processName(pid, now + 1000), 'sh', 'the cached name stands until someone says the process exec\'d');
    forgetProcessName(pid);
    assert.equal(processName(pid, now + 1000), 'sleep');
  } finally {
    child.kill('SIGKILL');
  }
});
