// A drill-down's reader of its process's mappings: what it read last holds once the process has gone (a zombie's maps read empty).
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {once} from 'node:events';
import {readFileSync} from 'node:fs';
import {setTimeout as sleep} from 'node:timers/promises';
import {test} from 'node:test';
import {followMappings} from '../source/system/processes.js';

function state(pid: number): string | undefined {
  try {
    return /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

test('an exited process (a zombie, whose maps read empty) keeps the mappings read while it ran: its code and the names of its addresses', async () => {
  // sleep 30 becomes the parent of the background sleep and never reaps it: a zombie that stays.
  const parent = spawn('sh', ['-c', 'sleep 0.5 & echo $!; exec sleep 30'], {stdio: ['ignore', 'pipe', 'ignore']});
  try {
    const [line] = await once(parent.stdout!, 'data') as [Buffer];
    const pid = Number(line.toString().trim());
    const read = followMappings(pid);
    const running = read();
    assert.ok(running.code && running.code.length > 0, 'a running process has code');
    const [low] = running.code[0]!;
    const name = running.mappingOf!(Number(low));
    assert.equal(name, 'sleep', 'the first executable mapping is the program');
    for (let tries = 0; state(pid) !== 'Z' && tries < 100; tries++) await sleep(50);
    assert.equal(state(pid), 'Z', 'the background sleep became a zombie');
    assert.equal(readFileSync(`/proc/${pid}/maps`, 'utf8'), '', 'a zombie\'s maps read empty');
    const gone = read();
    assert.deepEqual(gone.code, running.code);
    assert.equal(gone.mappingOf!(Number(low)), 'sleep');
    assert.equal(gone.mappingOf!(1), undefined, 'an address no mapping held is no mapping\'s');
    assert.deepEqual(followMappings(pid)(), {}, 'a reader that never saw it running knows nothing');
  } finally {
    parent.kill('SIGKILL');
  }
});
