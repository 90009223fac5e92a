// Unit tests for the CGROUP column: parsing /proc/<pid>/cgroup (v2, v1, hybrid), container ids
// of each runtime, labels, the filter, odd bytes, and the bounded cache.
import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {infoOfPath, containerId, labelOfPath, matchesCgroup, parseCgroupFile, type CgroupInfo} from '../source/model/cgroup.js';
import {CgroupCache, cgroupInfo, cgroupOf} from '../source/system/cgroups.js';

const ID = '4f3e2d1c0b0a99887766554433221100ffeeddccbbaa00112233445566778899';
const SHORT = ID.slice(0, 12);

const proc = mkdtempSync(join(tmpdir(), 'memtop-proc-'));
after(() => rmSync(proc, {recursive: true, force: true}));
function fakeProcess(pid: number, content: string | Buffer): void {
  mkdirSync(join(proc, String(pid)), {recursive: true});
  writeFileSync(join(proc, String(pid), 'cgroup'), content);
}

test('cgroup v2: the single 0:: line', () => {
  assert.equal(parseCgroupFile('0::/user.slice/user-1000.slice/session-3.scope\n'), '/user.slice/user-1000.slice/session-3.scope');
  assert.equal(parseCgroupFile('0::/\n'), '/');
});

test('cgroup v1 and hybrid: the memory controller\'s line, where memory is accounted', () => {
  const hybrid = ['9:name=systemd:/', '8:pids:/', '4:memory:/process_api/20a9307ae5a1', '2:cpu,cpuacct:/', '0::/', ''].join('\n');
  assert.equal(parseCgroupFile(hybrid), '/process_api/20a9307ae5a1');
  const v1 = ['12:cpuset:/docker/abc', `5:memory,hugetlb:/docker/${ID}`, '1:name=systemd:/docker/x'].join('\n');
  assert.equal(parseCgroupFile(v1), `/docker/${ID}`);
  assert.equal(parseCgroupFile('3:cpu:/first\n2:pids:/second\n'), '/first', 'no memory line, no v2 line: the first');
  assert.equal(parseCgroupFile('0::/kubepods.slice/removed (deleted)\n'), '/kubepods.slice/removed', 'a removed cgroup loses its mark');
  assert.equal(parseCgroupFile('0::/odd:name:with:colons\n'), '/odd:name:with:colons');
  assert.equal(parseCgroupFile(''), undefined);
  assert.equal(parseCgroupFile('garbage\n\n0:\n'), undefined);
});

test('container ids of docker, containerd, CRI-O, podman and kubepods, shortened to 12', () => {
  const paths: [string, string | undefined][] = [
    [`/system.slice/docker-${ID}.scope`, SHORT],
    [`/docker/${ID}`, SHORT],
    [`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/cri-containerd-${ID}.scope`, SHORT],
    [`/kubepods/burstable/pod0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/${ID}`, SHORT],
    [`/machine.slice/libpod-${ID}.scope/container`, SHORT],
    [`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`, SHORT],
    [`/system.slice/crio-${ID}.scope`, SHORT],
    [`/system.slice/runc-${ID}.scope`, SHORT],
    [`/docker/${'a'.repeat(64)}/docker/${ID}`, SHORT],
    [`/libpod_parent/libpod-${ID}`, SHORT],
    [`/libpod_parent/conmon`, undefined],
    [`/machine.slice/libpod-conmon-${ID}.scope`, undefined],
    [`/system.slice/${ID}.scope`, undefined],
    [`/docker-${ID}`, undefined],
    [`/docker/${ID.slice(0, 63)}`, undefined],
    [`/docker/${ID.toUpperCase()}`, undefined],
    ['/system.slice/sshd.service', undefined],
    ['/', undefined],
  ];
  for (const [path, expected] of paths) assert.equal(containerId(path), expected, path);
});

test('labels: the container id, else the last two components of the path', () => {
  assert.equal(labelOfPath(`/system.slice/docker-${ID}.scope`), SHORT);
  assert.equal(labelOfPath('/user.slice/user-1000.slice/session-3.scope'), 'user-1000.slice/session-3.scope');
  assert.equal(labelOfPath('/init.scope'), 'init.scope');
  assert.equal(labelOfPath('/system.slice/nginx.service/'), 'system.slice/nginx.service');
  assert.equal(labelOfPath('/'), '/');
  assert.deepEqual(infoOfPath(`/docker/${ID}`), {path: `/docker/${ID}`, containerId: SHORT, label: SHORT});
  assert.deepEqual(infoOfPath('/init.scope'), {path: '/init.scope', label: 'init.scope'});
});

test('reading /proc: a fake tree, a gone process, odd bytes that never throw, and this machine', () => {
  fakeProcess(100, `0::/system.slice/docker-${ID}.scope\n`);
  fakeProcess(101, '0::/user.slice/user-0.slice/session-1.scope\n');
  const odd = Buffer.concat([Buffer.from('0::/evil/\u001b[2J'), Buffer.from([0xff, 0xfe, 0x00, 0x80]), Buffer.from('name\n')]);
  fakeProcess(102, odd);
  assert.equal(cgroupOf(100, proc), `/system.slice/docker-${ID}.scope`);
  assert.deepEqual(cgroupInfo(100, proc), {path: `/system.slice/docker-${ID}.scope`, containerId: SHORT, label: SHORT});
  assert.deepEqual(cgroupInfo(101, proc), {path: '/user.slice/user-0.slice/session-1.scope', label: 'user-0.slice/session-1.scope'});
  const label = cgroupInfo(102, proc)?.label;
  assert.ok(label?.startsWith('evil/\u001b[2J') && label.endsWith('name'), 'raw: the UI sanitises, not this module');
  assert.equal(cgroupOf(999, proc), undefined, 'a process that has gone');
  assert.equal(cgroupOf(-1), undefined);
  assert.equal(cgroupOf(1.5), undefined);
  assert.equal(typeof cgroupOf(process.pid), 'string', 'this process has a cgroup');
});

test('the filter: a case-insensitive substring of the label or the whole path', () => {
  const docker: CgroupInfo = {path: `/system.slice/docker-${ID}.scope`, containerId: SHORT, label: SHORT};
  assert.equal(matchesCgroup(docker, 'DOCKER'), true);
  assert.equal(matchesCgroup(docker, '4F3E2D'), true);
  assert.equal(matchesCgroup(docker, 'user.slice'), false);
  assert.equal(matchesCgroup('user-1000.slice/session-3.scope', 'Session-3'), true);
  assert.equal(matchesCgroup('init.scope', 'nginx'), false);
  assert.equal(matchesCgroup(undefined, 'x'), false);
  assert.equal(matchesCgroup(undefined, ''), true);
});

test('the cache reads each process once while fresh, rereads when stale, and stays bounded', () => {
  let clock = 0;
  const reads: number[] = [];
  const cache = new CgroupCache({maxEntries: 3, ttlMs: 1000, now: () => clock, read: pid => {
    reads.push(pid);
    return pid === 4 ? undefined : {path: `/p${pid}`, label: `p${pid}`};
  }});
  assert.equal(cache.info(1)?.label, 'p1');
  assert.equal(cache.info(1)?.label, 'p1');
  assert.equal(cache.info(4), undefined);
  assert.equal(cache.info(4), undefined, 'an unreadable process is remembered too');
  assert.deepEqual(reads, [1, 4]);
  clock = 1000;
  cache.info(1);
  assert.deepEqual(reads, [1, 4, 1], 'stale after ttl');
  cache.info(2);
  cache.info(3);
  assert.equal(cache.size, 3);
  cache.info(1);
  cache.info(5);
  assert.equal(cache.size, 3, 'bounded');
  reads.length = 0;
  cache.info(1);
  cache.info(5);
  cache.info(3);
  assert.deepEqual(reads, [], 'recently used entries stay');
  cache.info(2);
  assert.deepEqual(reads, [2], 'the least recently used went first');
  reads.length = 0;
  clock = 5000;
  assert.equal(cache.remembered(2)?.label, 'p2', 'remembered: what was read, stale or not');
  assert.equal(cache.remembered(9), undefined, 'remembered: nothing for a process never read');
  assert.deepEqual(reads, [], 'remembered never reads /proc');
  const real = new CgroupCache();
  assert.deepEqual(real.info(process.pid), cgroupInfo(process.pid));
});
