// End-to-end, the slab tab's NET by cache: allocations less frees. Real memtop and bpftrace, as
// root, against wl_files, which creates two files on ext4 a round and removes one: the inode
// cache (ext4_inode_cache) allocates two inodes a round and frees one, the dentry cache keeps
// both dentries (a removed file's stays, negative), and each open() and unlink() takes a name
// from names_cache and gives it back (its NET stays near 0). The independent counter is
// /proc/slabinfo's active objects, read when memtop's first interval of the window arrives and
// when its last does, so that both cover the same time; the workload is big enough to dominate the
// rest of the machine. A removed file's inode is freed in an RCU callback, which lazy RCU can hold
// back for seconds and then run in a burst: the window closes only once memtop has seen them
// freed (all but the few it misses) and an interval went quiet, so that no burst falls between
// memtop's last interval and slabinfo's reading.
// Then the TUI: by allocations names_cache ranks above the caches that grow; sorted by NET
// (g, then > twice), dentry and ext4_inode_cache come first.
import assert from 'node:assert/strict';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import path from 'node:path';
import {afterEach, describe, it} from 'node:test';
import {execa} from 'execa';
import {startLineChild, type LineChild} from './helpers/child-lines.js';
import {startMemtopTerminal, type MemtopTerminal} from './helpers/memtop-terminal.js';
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

/** An ext4 directory of its own for wl_files, removed after the test whatever happens. */
async function filesDirectory(): Promise<string> {
  const disk = await diskDirectory();
  const filesystem = (await execa('stat', ['-f', '-c', '%T', disk])).stdout.trim();
  assert.equal(filesystem, 'ext2/ext3', `${disk} is on ${filesystem}: the test counts ext4's inode cache`);
  const directory = await mkdtemp(path.join(disk, 'memtop-slab-net-'));
  cleanups.push(() => rm(directory, {recursive: true, force: true}));
  return directory;
}

/** The data rows of a cache table on screen, top first: each one's cache and its cells. */
function screenRows(screen: string): {cache: string; cells: string[]}[] {
  const lines = screen.split('\n');
  const header = lines.findIndex(line => /^CACHE\s/.test(line));
  if (header === -1) return [];
  const rows = [];
  for (const line of lines.slice(header + 1)) {
    const [cache, ...cells] = line.trim().split(/\s+/);
    if (!cache || cells.length < 4 || !/^-?\d/.test(cells[0]!)) break;
    rows.push({cache, cells});
  }
  return rows;
}

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

describe('slab: NET by cache, real bpftrace', () => {
  it('files created, half removed: ext4_inode_cache and dentry NET within 15% of slabinfo; names_cache NET near 0; kmalloc NET unknown', {timeout: 240_000}, async t => {
    if (cannotRun(t)) return;
    const directory = await filesDirectory();
    // Runs behind its pace where other tracers slow the kernel down; lingers until told (a second SIGUSR1), then removes its files.
    const workload = await startProgram('wl_files', {eventsPerSecond: ROUNDS_PER_SECOND, seconds: SECONDS, lingerSeconds: 60, extra: [directory]}, {waitForGo: true});
    cleanups.push(() => workload.process.stop('SIGKILL'));
    await workload.ready();
    const memtop: LineChild = startLineChild(process.execPath, [CLI, '--batch', '--json', '--tab', 'slab', '--group', 'cache', '--limit', '100', '--interval', String(INTERVAL_MS), '--iterations', '2000'], {
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
    const rounds = Number(done.files);
    assert.equal(rounds, ROUNDS_PER_SECOND * SECONDS);
    const since = (first: number) => (memtop.records.filter(isInterval) as unknown as CacheInterval[]).slice(first);
    const sumOf = (intervals: CacheInterval[], cache: string, field: 'count' | 'net') => intervals.reduce((total, interval) => total + (interval.rows.find(row => row.cache === cache)?.[field] ?? 0), 0);
    const inodesFreed = () => sumOf(since(before.intervals), 'ext4_inode_cache', 'count') - sumOf(since(before.intervals), 'ext4_inode_cache', 'net');
    const freesIn = (interval: CacheInterval | undefined) => {
      const row = interval?.rows.find(each => each.cache === 'ext4_inode_cache');
      return row ? row.count - (row.net ?? 0) : 0;
    };
    // Every removed file's inode freed but those memtop misses (see the readme), and the last interval quiet.
    await memtop.waitForRecord(
      () => inodesFreed() >= rounds * (1 - TOLERANCE) && freesIn(since(before.intervals).at(-1)) < rounds / 100,
      `the removed files' ${rounds} inodes freed, then a quiet interval`,
      30_000,
    );
    const after = await arrived(memtop.records.filter(isInterval).length, 'an interval to close the window');
    const window = since(before.intervals).slice(0, after.intervals - before.intervals);
    workload.go();
    await workload.process.exited;
    await memtop.stop('SIGINT');

    const sum = (cache: string, field: 'count' | 'net') => sumOf(window, cache, field);
    t.diagnostic(`${rounds} rounds (files kept) in ${window.length} intervals of ${window[0]?.probe}; ext4_inode_cache frees seen ${sum('ext4_inode_cache', 'count') - sum('ext4_inode_cache', 'net')} for ${rounds} files removed`);
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

    const removed = await workload.process.waitForRecord(record => record.phase === 'removed', 'its files removed', 1000);
    assert.equal(Number(removed.files), rounds);
  });

  it("ext4_inode_cache's drill-down: what stays of the inodes allocated since it began, within 15% of the files kept, on ext4's creation path", {timeout: 180_000}, async t => {
    if (cannotRun(t)) return;
    const directory = await filesDirectory();
    // Few enough inodes for the drill-down's table (MEMTOP_MAP_KEYS_MAX, 16,384 by default): two a round, one freed.
    const rounds = 2000 * SECONDS;
    const workload = await startProgram('wl_files', {eventsPerSecond: 2000, seconds: SECONDS, lingerSeconds: 60, extra: [directory]}, {waitForGo: true});
    cleanups.push(() => workload.process.stop('SIGKILL'));
    await workload.ready();
    const memtop: LineChild = startLineChild(process.execPath, [CLI, '--batch', '--json', '--tab', 'slab', '--stacks', '--cache', 'ext4_inode_cache', '--limit', '100', '--interval', String(INTERVAL_MS), '--iterations', '2000'], {
      what: 'memtop --stacks --cache ext4_inode_cache',
    });
    cleanups.push(() => memtop.stop('SIGKILL'));
    type Stays = {stays: {since: string; count: number; bytes: number; untracked: number}; stacks: {count: number; stays: number; staysBytes: number; frames: string[]}[]; capped?: boolean};
    const isStays = (record: Record<string, unknown>) => record.cache === 'ext4_inode_cache' && Array.isArray(record.stacks) && typeof record.stays === 'object';
    await memtop.waitForRecord(isStays, 'its first stacks', 60_000);
    workload.go();
    const done = await workload.done(90_000);
    assert.equal(Number(done.files), rounds);
    // A removed file's inode is freed in an RCU callback, seconds later at times: what stays comes down to the files kept.
    const doneAt = Date.now();
    const settled = (await memtop.waitForRecord(
      record => isStays(record) && Date.parse(String(record.time)) > doneAt + INTERVAL_MS && (record as unknown as Stays).stays.count <= rounds * (1 + TOLERANCE),
      `what stays down to the ${rounds} files kept`,
      30_000,
    )) as unknown as Stays;
    workload.go();
    await memtop.stop('SIGINT');
    const top = [...settled.stacks].sort((a, b) => b.stays - a.stays)[0];
    assert.ok(top, `no stacks: ${JSON.stringify(settled).slice(0, 400)}`);
    t.diagnostic(`${rounds} files kept; stays ${settled.stays.count} objects, ${settled.stays.bytes} bytes, untracked ${settled.stays.untracked}; top path ${top.stays}: ${top.frames.slice(0, 8).join(' <- ')}`);
    assert.equal(settled.stays.untracked, 0);
    assert.ok(settled.stays.count >= rounds * (1 - TOLERANCE), `stays ${settled.stays.count} for ${rounds} files kept`);
    assert.ok(top.frames.some(frame => /^(ext4_create|__ext4_new_inode)$/.test(frame)), `the path most stays on creates an ext4 file: ${top.frames.join(' <- ')}`);
    assert.ok(top.stays >= rounds * (1 - TOLERANCE), `${top.stays} of ${settled.stays.count} on the creation path`);
    assert.ok(top.staysBytes / top.stays >= 512 && Number.isInteger(top.staysBytes / top.stays), `an inode's bytes: ${top.staysBytes} for ${top.stays}`);
  });

  it('the TUI: by ALLOCS names_cache is above dentry, kmalloc rows read ? for NET; sorted by NET dentry and ext4_inode_cache lead', {timeout: 120_000}, async t => {
    if (cannotRun(t)) return;
    const directory = await filesDirectory();
    // Busy for as long as the test looks; it removes its files itself after.
    const workload = await startProgram('wl_files', {eventsPerSecond: 10_000, seconds: 10, extra: [directory]}, {waitForGo: true});
    cleanups.push(() => workload.process.stop('SIGKILL'));
    await workload.ready();
    const terminal: MemtopTerminal = startMemtopTerminal(['--tab', 'slab', '--interval', String(INTERVAL_MS), '--limit', '50'], {columns: 140, rows: 60, env: {LANG: 'C.UTF-8'}});
    cleanups.push(() => terminal.close());
    await terminal.waitFor(screen => /probe .*kmem/.test(screen), 'the slab tab tracing', 60_000);
    terminal.keys('g');
    await terminal.waitFor(screen => /^CACHE\s+▼?ALLOCS\s+BYTES\s+NET\s+NET B\s/m.test(screen), 'the cache view with NET');
    workload.go();
    const rank = (rows: {cache: string}[], cache: string) => rows.findIndex(row => row.cache === cache);
    const byAllocations = await terminal.waitFor(screen => {
      const rows = screenRows(screen);
      return rank(rows, 'names_cache') !== -1 && rank(rows, 'dentry') > rank(rows, 'names_cache') && rows.some(row => /^kmalloc-\d+$/.test(row.cache));
    }, 'names_cache above dentry by allocations, and a kmalloc row', 30_000);
    t.diagnostic(byAllocations);
    for (const row of screenRows(byAllocations).filter(each => /^kmalloc-\d+$/.test(each.cache))) assert.deepEqual(row.cells.slice(2, 4), ['?', '?'], `${row.cache}: NET and NET B are not known`);
    terminal.keys('>', '>');
    const byNet = await terminal.waitFor(screen => {
      const rows = screenRows(screen).slice(0, 3).map(row => row.cache);
      return /▼NET\s/.test(screen) && rows.includes('dentry') && rows.includes('ext4_inode_cache');
    }, 'dentry and ext4_inode_cache among the top 3 by NET', 30_000);
    t.diagnostic(byNet);
    const rows = screenRows(byNet);
    const names = rows.find(row => row.cache === 'names_cache');
    if (names) assert.ok(rank(rows, 'names_cache') > rank(rows, 'ext4_inode_cache') && Math.abs(Number(names.cells[2])) <= 100, `names_cache: ${names.cells.join(' ')}`);
    // Enter on ext4_inode_cache (filtered to, as the order moves each interval), the table sorted
    // by NET: its kernel paths ranked by what stays, file creation first.
    terminal.keys('/');
    terminal.keys('ext4_inode_cache');
    terminal.keys('Enter');
    await terminal.waitFor(screen => screenRows(screen).length === 1 && screenRows(screen)[0]!.cache === 'ext4_inode_cache', 'the table filtered to ext4_inode_cache', 10_000);
    terminal.keys('Enter');
    const stays = await terminal.waitFor(screen => {
      const below = screen.includes('STAYS B') ? screen.slice(screen.indexOf('STAYS B')) : '';
      return /cache ext4_inode_cache/.test(screen) && /stays: [\d.]+[KM]? objects, .* paths ranked by what stays/.test(screen) && /ext4_create|__ext4_new_inode/.test(below);
    }, "ext4_inode_cache's paths ranked by what stays, through ext4's file creation", 30_000);
    t.diagnostic(stays);
    terminal.keys('q');
    await workload.process.waitForRecord(record => record.phase === 'removed', 'its files removed', 90_000);
  });
});
