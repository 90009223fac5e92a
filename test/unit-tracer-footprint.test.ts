// What keeps memtop --serve's tracers small: which memory cgroup directory (v2, or v1's memory
// controller) is its own, when it asks that cgroup to reclaim its tracers' start pages (and how)
// and when it does nothing. On files made here, not the machine's.
import assert from 'node:assert/strict';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';
import {cgroupV1MemoryDirectory, cgroupV2Directory, releaseStartPages} from '../source/system/start-pages.js';

const CGROUP2 = (id: number, root: string, point: string) => `${id} 23 0:27 ${root} ${point} rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate`;
const OTHER = '22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda rw';
const CGROUP1 = (id: number, root: string, point: string, controllers: string) => `${id} 23 0:3${id % 10} ${root} ${point} rw,nosuid,nodev,noexec,relatime shared:1${id} - cgroup cgroup rw,${controllers}`;

test('its cgroup v2 directory: a pod with its own namespace, a service, a hybrid host, a container without a namespace', () => {
  assert.equal(cgroupV2Directory('0::/\n', [OTHER, CGROUP2(30, '/', '/sys/fs/cgroup')].join('\n')), '/sys/fs/cgroup');
  assert.equal(cgroupV2Directory('0::/system.slice/memtop.service\n', CGROUP2(30, '/', '/sys/fs/cgroup')), '/sys/fs/cgroup/system.slice/memtop.service');
  // Hybrid (this project's CI host): v1 controllers, the unified hierarchy beside them.
  const hybrid = '4:memory:/process_api/354c\n1:cpu:/\n0::/\n';
  assert.equal(cgroupV2Directory(hybrid, CGROUP2(31, '/', '/sys/fs/cgroup/unified')), '/sys/fs/cgroup/unified');
  // A bind mount of the container's own part of the hierarchy.
  assert.equal(cgroupV2Directory('0::/kubepods/pod1/abc\n', CGROUP2(30, '/kubepods/pod1/abc', '/sys/fs/cgroup')), '/sys/fs/cgroup');
  assert.equal(cgroupV2Directory('0::/kubepods/pod1/abc/sub\n', CGROUP2(30, '/kubepods/pod1/abc', '/sys/fs/cgroup')), '/sys/fs/cgroup/sub');
  assert.equal(cgroupV2Directory('0::/elsewhere\n', CGROUP2(30, '/kubepods', '/sys/fs/cgroup')), undefined, 'a mount that does not show it');
  assert.equal(cgroupV2Directory('4:memory:/a\n', CGROUP2(30, '/', '/sys/fs/cgroup')), undefined, 'cgroup v1 only');
  assert.equal(cgroupV2Directory('0::/\n', OTHER), undefined, 'no cgroup2 mounted');
  assert.equal(cgroupV2Directory('0::/a b\n', CGROUP2(30, '/', '/sys/fs/cgroup\\040x')), '/sys/fs/cgroup x/a b');
});

test("its cgroup v1 memory directory: the CI host, controllers mounted together, a container's own part, none", () => {
  const host = '9:name=systemd:/\n8:pids:/\n4:memory:/process_api/928e\n1:cpu:/\n0::/\n';
  const mounts = [OTHER, CGROUP1(31, '/', '/sys/fs/cgroup/cpu', 'cpu'), CGROUP1(34, '/', '/sys/fs/cgroup/memory', 'memory'), CGROUP1(39, '/', '/sys/fs/cgroup/systemd', 'xattr,name=systemd')].join('\n');
  assert.equal(cgroupV1MemoryDirectory(host, mounts), '/sys/fs/cgroup/memory/process_api/928e');
  assert.equal(cgroupV1MemoryDirectory('5:cpu,memory:/pod/abc\n', CGROUP1(35, '/', '/sys/fs/cgroup/cpu,memory', 'cpu,memory')), '/sys/fs/cgroup/cpu,memory/pod/abc');
  assert.equal(cgroupV1MemoryDirectory('4:memory:/kubepods/pod1/abc\n', CGROUP1(34, '/kubepods/pod1/abc', '/sys/fs/cgroup/memory', 'memory')), '/sys/fs/cgroup/memory');
  assert.equal(cgroupV1MemoryDirectory('4:memory:/a\n', CGROUP1(31, '/', '/sys/fs/cgroup/cpu', 'cpu')), undefined, 'no memory hierarchy mounted');
  assert.equal(cgroupV1MemoryDirectory('9:name=memory:/a\n0::/\n', mounts), undefined, 'a named hierarchy is no controller');
  assert.equal(cgroupV1MemoryDirectory('0::/\n', CGROUP2(30, '/', '/sys/fs/cgroup')), undefined, 'cgroup v2 only');
});

/** A fake /proc with a status for each tracer, and a fake cgroup directory (v2's memory.reclaim, v1's memory.force_empty and memory.swappiness, or neither). */
function fakeSystem(tracers: Record<number, number>, procs: number[], reclaim: boolean | 'v1' = true): {proc: string; cgroup: string; done: () => void} {
  const root = mkdtempSync(path.join(os.tmpdir(), 'memtop-start-pages-'));
  const proc = path.join(root, 'proc');
  const cgroup = path.join(root, 'cgroup');
  mkdirSync(cgroup, {recursive: true});
  for (const [pid, fileKb] of Object.entries(tracers)) {
    mkdirSync(path.join(proc, pid), {recursive: true});
    writeFileSync(path.join(proc, pid, 'status'), `Name:\tbpftrace\nVmRSS:\t  ${fileKb + 30_000} kB\nRssAnon:\t   30000 kB\nRssFile:\t   ${fileKb} kB\n`);
    writeFileSync(path.join(proc, pid, 'clear_refs'), '');
  }
  writeFileSync(path.join(cgroup, 'cgroup.procs'), procs.map(pid => `${pid}\n`).join(''));
  if (reclaim === 'v1') {
    writeFileSync(path.join(cgroup, 'memory.force_empty'), '');
    writeFileSync(path.join(cgroup, 'memory.swappiness'), '60\n');
  } else if (reclaim) {
    writeFileSync(path.join(cgroup, 'memory.reclaim'), '');
  }
  return {proc, cgroup, done: () => rmSync(root, {recursive: true, force: true})};
}

test('alone in its cgroup with its tracers: their file pages marked unused, and as many bytes asked of memory.reclaim', async () => {
  const system = fakeSystem({201: 70_000, 202: 1000}, [100, 201, 202]);
  try {
    const result = await releaseStartPages([201, 202], {self: 100, proc: system.proc, cgroup: system.cgroup});
    assert.deepEqual(result, {asked: 71_000 * 1024, cgroup: system.cgroup, how: 'memory.reclaim'});
    assert.equal(readFileSync(path.join(system.cgroup, 'memory.reclaim'), 'utf8'), String(71_000 * 1024));
    for (const pid of [201, 202]) assert.equal(readFileSync(path.join(system.proc, String(pid), 'clear_refs'), 'utf8'), '3', 'file-backed pages only');
  } finally {
    system.done();
  }
});

test('nothing is reclaimed where the cgroup holds other processes, has no memory.reclaim, or the tracers hold no file pages', async () => {
  const shared = fakeSystem({201: 70_000}, [100, 201, 555]);
  const v1 = fakeSystem({201: 70_000}, [100, 201], false);
  const empty = fakeSystem({201: 0}, [100, 201]);
  try {
    const sharedResult = await releaseStartPages([201], {self: 100, proc: shared.proc, cgroup: shared.cgroup});
    assert.match('skipped' in sharedResult ? sharedResult.skipped : '', /holds other processes too \(555\)/);
    assert.equal(readFileSync(path.join(shared.cgroup, 'memory.reclaim'), 'utf8'), '', "a session's cache is not memtop's to drop");
    assert.equal(readFileSync(path.join(shared.proc, '201', 'clear_refs'), 'utf8'), '');
    const v1Result = await releaseStartPages([201], {self: 100, proc: v1.proc, cgroup: v1.cgroup});
    assert.match('skipped' in v1Result ? v1Result.skipped : '', /no .*memory\.reclaim or memory\.force_empty/);
    assert.deepEqual(await releaseStartPages([201], {self: 100, proc: empty.proc, cgroup: empty.cgroup}), {skipped: 'the tracers hold no file pages'});
    // A tracer not among those given is another process: nothing is done.
    assert.deepEqual(await releaseStartPages([999], {self: 100, proc: empty.proc, cgroup: empty.cgroup}), {skipped: `${empty.cgroup} holds other processes too (201)`});
  } finally {
    for (const system of [shared, v1, empty]) system.done();
  }
});

test('cgroup v1: memory.force_empty written with memory.swappiness at 0 meanwhile, then put back', async () => {
  const system = fakeSystem({201: 70_000}, [100, 201], 'v1');
  try {
    const result = await releaseStartPages([201], {self: 100, proc: system.proc, cgroup: system.cgroup});
    assert.deepEqual(result, {asked: 70_000 * 1024, cgroup: system.cgroup, how: 'memory.force_empty'});
    assert.equal(readFileSync(path.join(system.cgroup, 'memory.force_empty'), 'utf8'), '0');
    assert.equal(readFileSync(path.join(system.cgroup, 'memory.swappiness'), 'utf8'), '60', 'put back as it was');
    assert.equal(readFileSync(path.join(system.proc, '201', 'clear_refs'), 'utf8'), '', 'force_empty takes every file page: no marking');
  } finally {
    system.done();
  }
});

test('cgroup v1 without memory.swappiness, or a cgroup with cgroups below it: nothing is reclaimed', async () => {
  const noSwappiness = fakeSystem({201: 70_000}, [100, 201], 'v1');
  const parent = fakeSystem({201: 70_000}, [100, 201]);
  try {
    rmSync(path.join(noSwappiness.cgroup, 'memory.swappiness'));
    const result = await releaseStartPages([201], {self: 100, proc: noSwappiness.proc, cgroup: noSwappiness.cgroup});
    assert.ok('skipped' in result, 'anonymous pages could go to swap');
    assert.equal(readFileSync(path.join(noSwappiness.cgroup, 'memory.force_empty'), 'utf8'), '');
    mkdirSync(path.join(parent.cgroup, 'child'));
    assert.deepEqual(await releaseStartPages([201], {self: 100, proc: parent.proc, cgroup: parent.cgroup}), {skipped: `${parent.cgroup} has cgroups below it (child)`});
    assert.equal(readFileSync(path.join(parent.cgroup, 'memory.reclaim'), 'utf8'), '');
  } finally {
    noSwappiness.done();
    parent.done();
  }
});
