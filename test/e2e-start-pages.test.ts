// End-to-end, memtop --serve in a memory cgroup of its own, as in a pod: once its tracer has
// attached, memtop asks the cgroup to give back the file pages that starting took (cgroup v2's
// memory.reclaim, v1's memory.force_empty; this project's CI host has v1). Which pages a tracer's
// LLVM libraries are charged to depends on who read them first (another bpftrace on a busy
// machine), so the test charges pages to the cgroup itself: the shell that becomes memtop writes
// and syncs a 64 MiB file inside the cgroup first, clean page cache that nothing else holds. The
// cgroup's page cache must then fall by most of it, while the file's pages are nobody's but the
// cgroup's: without memory pressure (none here) only memtop's request takes them.
import assert from 'node:assert/strict';
import {mkdirSync, readFileSync, rmdirSync, rmSync} from 'node:fs';
import path from 'node:path';
import {after, afterEach, describe, it} from 'node:test';
import {ownMemoryCgroup} from '../source/system/start-pages.js';
import {childTracker, startLineChild, stopWithDescendants} from './helpers/child-lines.js';
import {freePort} from './helpers/prometheus.js';
import {CLI, cannotRun} from './helpers/requirements.js';
import {diskDirectory} from './helpers/workloads.js';

const FILE_MIB = 64;

/** A memory cgroup beside the test's own (memtop's choice of one: ownMemoryCgroup), and the page-cache field of its memory.stat. */
function makeCgroup(): {directory: string; cacheField: string} | string {
  const own = ownMemoryCgroup();
  if ('skipped' in own) return `needs a memory cgroup (v2 with memory.reclaim, or v1): ${own.skipped}`;
  const directory = path.join(path.dirname(own.cgroup), `memtop-start-pages-${process.pid}`);
  mkdirSync(directory);
  return {directory, cacheField: own.how === 'memory.reclaim' ? 'file' : 'cache'};
}

/** The cgroup's own page cache in bytes, from memory.stat. */
function pageCache(directory: string, field: string): number {
  const match = new RegExp(`^${field} (\\d+)$`, 'm').exec(readFileSync(path.join(directory, 'memory.stat'), 'utf8'));
  return Number(match?.[1] ?? Number.NaN);
}

const children = childTracker();

describe('memtop --serve gives back its start pages', () => {
  afterEach(async () => {
    await children.stopAll();
  });

  after(() => {
    assert.deepEqual(children.killLeftovers(), [], 'processes left running after the tests (killed now)');
  });

  it(`alone in a memory cgroup: the cgroup's page cache falls by most of a ${FILE_MIB} MiB file once the tracer has attached`, {timeout: 120_000}, async t => {
    if (cannotRun(t)) return;
    const cgroup = makeCgroup();
    if (typeof cgroup === 'string') {
      cannotRun(t, cgroup);
      return;
    }
    const file = path.join(await diskDirectory(), `memtop-start-pages-${process.pid}`);
    try {
      const port = await freePort();
      // The shell joins the cgroup, charges the file's pages to it, and becomes memtop (exec), whose tracer starts inside.
      const script = 'echo $$ > "$0/cgroup.procs" && dd if=/dev/zero of="$1" bs=1M count="$2" conv=fsync status=none && shift 2 && exec "$@"';
      const memtop = children.track(startLineChild('/bin/sh', ['-c', script, cgroup.directory, file, String(FILE_MIB), process.execPath, CLI, '--serve', `127.0.0.1:${port}`, '--export', 'brk'], {what: 'memtop --serve in a cgroup of its own'}));
      const samples: {at: number; cache: number}[] = [];
      const started = Date.now();
      let up = false;
      while (Date.now() - started < 60_000 && !memtop.hasExited()) {
        samples.push({at: Date.now() - started, cache: pageCache(cgroup.directory, cgroup.cacheField)});
        if (!up) {
          const body = await fetch(`http://127.0.0.1:${port}/metrics`).then(async response => response.text(), () => '');
          up = body.includes('memtop_tracer_up{tab="brk"} 1');
        }
        // Past the file's write, with the tracer up: the release follows its start within moments.
        const peak = Math.max(...samples.map(sample => sample.cache));
        if (up && peak >= FILE_MIB * 1024 * 1024 && samples.at(-1)!.cache < peak - (FILE_MIB * 3 / 4) * 1024 * 1024) break;
        await new Promise(resolve => setTimeout(resolve, 200));
      }
      const peak = Math.max(...samples.map(sample => sample.cache));
      const last = samples.at(-1)!.cache;
      const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
      t.diagnostic(`page cache of ${cgroup.directory} (${cgroup.cacheField}): peak ${mib(peak)}, then ${mib(last)} at ${samples.at(-1)!.at} ms`);
      assert.ok(up, `memtop's tracer did not come up\n${memtop.describe()}`);
      assert.ok(peak >= FILE_MIB * 1024 * 1024, `the file's pages were not charged to the cgroup (peak ${mib(peak)})`);
      assert.ok(last < peak - (FILE_MIB * 3 / 4) * 1024 * 1024, `the cgroup kept its page cache: ${mib(peak)} at its peak, ${mib(last)} after memtop started\n${memtop.describe()}`);
      await stopWithDescendants(memtop, children.descendants);
    } finally {
      rmSync(file, {force: true});
      await children.stopAll();
      // A cgroup goes once its processes have; they are gone once stopAll has returned.
      for (let tries = 0; tries < 50; tries++) {
        try {
          rmdirSync(cgroup.directory);
          break;
        } catch {
          await new Promise(resolve => setTimeout(resolve, 100));
        }
      }
    }
  });
});
