// End-to-end, the slab tab's NET by cache: allocations less frees. Real memtop and bpftrace, as
// root, against wl_files, which creates two files on ext4 a round and removes one: the inode
// cache (ext4_inode_cache) allocates two inodes a round and frees one, the dentry cache keeps
// both dentries (a removed file's stays, negative), and each open() and unlink() takes a name
// from names_cache and gives it back (its NET stays near 0). The independent counter is /proc/slabinfo's active
// objects, read when memtop's first interval of the window arrives and when its last does, so
// that both cover the same time; the workload is big enough to dominate the rest of the machine.
import assert from 'node:assert/strict';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import path from 'node:path';
import {afterEach, describe, it} from 'node:test';
import {execa} from 'execa';
import {startLineChild, type LineChild} from './helpers/child-lines.js';
import {cannotRun, CLI} from './helpers/requirements.js';
import {diskDirectory, startProgram} from './helpers/workloads.js';

const INTERVAL_MS = 500;
const ROUNDS_PER_SECOND = 20_000;
const SECONDS = 3;
/** How far memtop's NET may be from slabinfo's change over the same window. */
const TOLERANCE = 0.15;
/** The caches that grow by one object a file. */
const GROWING = ['ext4_inode_cache', 'dentry'];

/** One row of `memtop --batch --json --tab slab --group cache`. */
interface CacheRow {
  cache: string;
  count: number;
  net: number | null;
  netBytes: number | null;
}

interface CacheInterval {
  time: string;
  probe: string;
  rows: CacheRow[];
  skippedLines?: number;
  skippedSample?: string;
}

const isInterval = (record: Record<string, unknown>): boolean => record.tab === 'slab' && record.view === 'cache' && Array.isArray(record.rows);

/** Active objects per cache, from /proc/slabinfo. */
async function activeObjects(): Promise<Map<string, number>> {
  const objects = new Map<string, number>();
  for (const line of (await readFile('/proc/slabinfo', 'utf8')).split('\n').slice(2)) {
    const [name, active] = line.split(/\s+/);
    if (name && active && /^\d+$/.test(active)) objects.set(name, Number(active));
  }
  return objects;
}

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

describe('slab: NET by cache, real bpftrace', () => {
  it('files created, half removed: ext4_inode_cache and dentry NET within 15% of slabinfo; names_cache NET near 0; kmalloc NET unknown', {timeout: 120_000}, async t => {
    if (cannotRun(t)) return;
    const disk = await diskDirectory();
    const filesystem = (await execa('stat', ['-f', '-c', '%T', disk])).stdout.trim();
    assert.equal(filesystem, 'ext2/ext3', `${disk} is on ${filesystem}: the test counts ext4's inode cache`);
    const directory = await mkdtemp(path.join(disk, 'memtop-slab-net-'));
    cleanups.push(() => rm(directory, {recursive: true, force: true}));
    // Runs behind its pace where other tracers slow the kernel down; lingers until memtop's interval after its last file has been read, then removes its files.
    const workload = await startProgram('wl_files', {eventsPerSecond: ROUNDS_PER_SECOND, seconds: SECONDS, lingerSeconds: 4, extra: [directory]}, {waitForGo: true});
    cleanups.push(() => workload.process.stop('SIGKILL'));
    await workload.ready();
    const memtop: LineChild = startLineChild(process.execPath, [CLI, '--batch', '--json', '--tab', 'slab', '--group', 'cache', '--limit', '100', '--interval', String(INTERVAL_MS), '--iterations', '200'], {
      what: 'memtop --tab slab --group cache',
    });
    cleanups.push(() => memtop.stop('SIGKILL'));

    // The window opens as an interval arrives: slabinfo is read then, and memtop's next intervals are summed.
    const arrived = async (after: number, what: string) => {
      await memtop.waitForRecord(record => isInterval(record) && memtop.records.filter(isInterval).length > after, what, 60_000);
      return {objects: await activeObjects(), intervals: memtop.records.filter(isInterval).length};
    };
    await memtop.waitForRecord(isInterval, 'its first interval', 60_000);
    const before = await arrived(memtop.records.filter(isInterval).length, 'an interval to open the window');
    workload.go();
    const done = await workload.done(90_000);
    const doneAt = Date.now();
    await memtop.waitForRecord(record => isInterval(record) && Date.parse(String(record.time)) > doneAt + 50, 'an interval after the last file', 4 * INTERVAL_MS + 5000);
    const after = await arrived(memtop.records.filter(isInterval).length, 'an interval to close the window');
    const window = (memtop.records.filter(isInterval) as unknown as CacheInterval[]).slice(before.intervals, after.intervals);
    await workload.process.exited;
    await memtop.stop('SIGINT');

    const rounds = Number(done.files);
    assert.equal(rounds, ROUNDS_PER_SECOND * SECONDS);
    const sum = (cache: string, field: 'count' | 'net') => window.reduce((total, interval) => total + (interval.rows.find(row => row.cache === cache)?.[field] ?? 0), 0);
    t.diagnostic(`${rounds} rounds (files kept) in ${window.length} intervals of ${window[0]?.probe}`);
    // A helper error (bpftrace 0.23 prints one for a delete of a key not there) would be a skipped line.
    const skipped = window.find(interval => interval.skippedLines);
    assert.equal(skipped, undefined, `memtop skipped tracer output: ${skipped?.skippedSample}`);
    for (const cache of GROWING) {
      const net = sum(cache, 'net');
      const change = after.objects.get(cache)! - before.objects.get(cache)!;
      t.diagnostic(`${cache}: memtop NET ${net}, slabinfo active objects ${before.objects.get(cache)} -> ${after.objects.get(cache)} (${change}), allocations ${sum(cache, 'count')}`);
      assert.ok(change >= rounds * 0.9, `${cache} grew by ${change} active objects for ${rounds} files kept: something else freed them`);
      assert.ok(Math.abs(net - change) <= change * TOLERANCE, `${cache}: memtop's NET is ${net}, slabinfo's change ${change}`);
    }
    // Two inodes a round, one freed: NET is not the allocations.
    assert.ok(sum('ext4_inode_cache', 'count') >= rounds * 1.8, `ext4_inode_cache: ${sum('ext4_inode_cache', 'count')} allocations for ${rounds} rounds`);
    const names = sum('names_cache', 'net');
    const taken = sum('names_cache', 'count');
    t.diagnostic(`names_cache: memtop NET ${names} of ${taken} allocations`);
    assert.ok(taken >= rounds * 3, `names_cache: ${taken} allocations for ${rounds * 3} opens and unlinks`);
    assert.ok(Math.abs(names) <= Math.max(100, taken * 0.01), `names_cache NET ${names} of ${taken} allocations: it is given back at once`);

    // NET bytes are NET times the object size; a kmalloc size class's NET is not known, never 0.
    const rows = window.flatMap(interval => interval.rows);
    for (const row of rows.filter(each => GROWING.includes(each.cache) && each.net !== 0)) {
      assert.ok(row.netBytes !== null && row.netBytes / row.net! >= 64 && Number.isInteger(row.netBytes / row.net!), `${row.cache}: NET ${row.net}, NET bytes ${row.netBytes}`);
    }
    const sizeClasses = rows.filter(row => /^kmalloc-\d+$/.test(row.cache));
    assert.ok(sizeClasses.length > 0, 'no kmalloc-<size> rows');
    for (const row of sizeClasses) assert.deepEqual([row.net, row.netBytes], [null, null], `${row.cache}: NET is not known`);

    const removed = await workload.process.waitForRecord(record => record.phase === 'removed', 'its files removed', 30_000);
    assert.equal(Number(removed.files), rounds);
  });
});
