// End-to-end, the slab tab's drill into one cache: which kernel code paths allocate from it, and
// which processes make them. Real memtop and bpftrace, as root, against wl_slab, whose every
// round opens four files (pipe2's two ends, openat, socket): four struct files from the filp
// cache, through three system calls. Batch JSON (--cache filp --stacks) and the TUI (g, a
// filter to the filp row, Enter, Esc).
import assert from 'node:assert/strict';
import {afterEach, describe, it} from 'node:test';
import {startLineChild, type LineChild} from './helpers/child-lines.js';
import {startMemtopTerminal, type MemtopTerminal} from './helpers/memtop-terminal.js';
import {cannotRun, CLI} from './helpers/requirements.js';
import {startWorkload} from './helpers/workloads.js';

const INTERVAL_MS = 500;
/** How far the workload's share may be from the files it opened (it is exact in the kernel). */
const TOLERANCE = 0.05;

/** One line of `memtop --batch --json --tab slab --cache NAME --stacks`. */
interface CacheDrill {
  tab: string;
  cache: string;
  time: string;
  stacks: {count: number; bytes: number; frames: string[]}[];
  processes: {pid: number; comm: string; count: number; bytes: number}[];
}

const isDrill = (record: Record<string, unknown>): boolean => record.cache === 'filp' && Array.isArray(record.stacks);

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

function startWorkloadFor(t: {diagnostic: (text: string) => void}, seconds: number) {
  return startWorkload('slab', {eventsPerSecond: 500, seconds, lingerSeconds: 1}, {waitForGo: true}).then(workload => {
    cleanups.push(() => workload.process.stop('SIGKILL'));
    t.diagnostic(`wl_slab pid ${workload.pid}`);
    return workload;
  });
}

describe('slab: drill into a cache, real bpftrace', () => {
  it('--cache filp --stacks: paths through pipe2, openat and socket, and wl_slab with its four files a round', {timeout: 120_000}, async t => {
    if (cannotRun(t)) return;
    const workload = await startWorkloadFor(t, 2);
    await workload.ready();
    const memtop: LineChild = startLineChild(
      process.execPath,
      [CLI, '--batch', '--json', '--tab', 'slab', '--cache', 'filp', '--stacks', '--limit', '100', '--interval', String(INTERVAL_MS), '--iterations', '200'],
      {what: 'memtop --cache filp --stacks'},
    );
    cleanups.push(() => memtop.stop('SIGKILL'));
    await memtop.waitForRecord(isDrill, 'its first interval', 60_000);
    workload.go();
    const done = await workload.done();
    const exitedAt = Date.now();
    await workload.process.exited;
    await memtop.waitForRecord(record => isDrill(record) && Date.parse(String(record.time)) > exitedAt + 50, 'an interval after wl_slab exited', 4 * INTERVAL_MS + 5000);
    await memtop.stop('SIGINT');
    const drills = memtop.records.filter(isDrill) as unknown as CacheDrill[];

    const rounds = Number(done.events);
    const shares = drills.flatMap(drill => drill.processes.filter(share => share.pid === workload.pid));
    const files = shares.reduce((sum, share) => sum + share.count, 0);
    t.diagnostic(`${rounds} rounds, ${files} files counted for wl_slab in ${shares.length} intervals`);
    assert.ok(shares.length > 0, `wl_slab is not among the cache's processes\n${memtop.describe()}`);
    for (const share of shares) {
      assert.equal(share.comm, 'wl_slab');
      assert.ok(share.bytes >= share.count * 64, `${share.bytes} bytes for ${share.count} struct files`);
    }
    assert.ok(Math.abs(files - rounds * 4) <= rounds * 4 * TOLERANCE, `wl_slab's share is ${files} files; it opened ${rounds * 4}`);

    const paths = drills.flatMap(drill => drill.stacks.map(stack => stack.frames));
    const seen = () => paths.slice(0, 12).map(frames => frames.join(' <- ')).join('\n');
    for (const frames of paths) {
      assert.match(frames[0] ?? '', /^kmem_cache_alloc/, `a path that does not start at the allocator: ${frames.join(' <- ')}`);
      for (const frame of frames) assert.doesNotMatch(frame, /\+\d+$|^0x|[\s\\]|^bpf_prog_[0-9a-f]{16}|^bpf_trace_run/, `a frame ${JSON.stringify(frame)}`);
    }
    for (const call of [/sys_pipe2$/, /sys_openat$/, /sys_socket$/]) {
      assert.ok(paths.some(frames => frames.some(frame => call.test(frame))), `no kernel path through ${call}:\n${seen()}`);
    }
  });

  it('the TUI: g, filter to filp, Enter shows its kernel paths and wl_slab; Esc goes back to the caches', {timeout: 120_000}, async t => {
    if (cannotRun(t)) return;
    // Busy for as long as the test looks (it is killed after).
    const workload = await startWorkloadFor(t, 60);
    await workload.ready();
    const terminal: MemtopTerminal = startMemtopTerminal(['--tab', 'slab', '--interval', String(INTERVAL_MS)], {columns: 120, rows: 40, env: {LANG: 'C.UTF-8'}});
    cleanups.push(() => terminal.close());
    await terminal.waitFor(screen => /probe .*kmem/.test(screen), 'the slab tab tracing', 60_000);
    terminal.keys('g');
    await terminal.waitFor(screen => /CACHE/.test(screen), 'the cache view');
    terminal.keys('/', 'f', 'i', 'l', 'p', 'Enter');
    workload.go();
    await terminal.waitFor(screen => /^filp\s+\d/m.test(screen), 'the filp row');
    terminal.keys('Enter');
    const screen = await terminal.waitFor(
      text => /kernel paths into cache filp/.test(text) && /\bwl_slab\b/.test(text) && /sys_openat|sys_pipe2|sys_socket/.test(text),
      'filp\'s kernel paths and wl_slab among its processes',
      30_000,
    );
    t.diagnostic(screen);
    assert.match(screen, new RegExp(`^\\s*${workload.pid} wl_slab\\s`, 'm'), 'wl_slab under its pid');
    assert.match(screen, /KERNEL STACK/);
    // At 40 rows the paths are shortened: the allocator frames they all share are said once.
    assert.match(screen, /^every path starts kmem_cache_alloc\w* ← /m, 'the paths start at the allocator');
    assert.match(screen, /^\s+COUNT\s+BYTES\s+STAYS\s+STAYS B\s+SHARE\s+KERNEL STACK/m, 'the paths\' columns: this interval\'s allocations, then what stays of them');
    assert.match(screen, /^\s+\S+\s+\S+\s+\S+\s+\S+\s+\d+\.\d%\s+\w+/m, 'each path with its count, bytes, what stays and share');
    terminal.keys('Escape');
    await terminal.waitFor(text => /^filp\s+\d/m.test(text) && !/kernel paths/.test(text), 'the cache table again');
    terminal.keys('q');
    await terminal.waitFor(() => !terminal.alive() || !/CACHE/.test(terminal.screen()), 'memtop to quit', 5000).catch(() => undefined);
  });
});
