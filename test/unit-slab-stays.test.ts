// A slab cache's drill-down: what stays of the objects allocated since it began, per kernel path,
// read from its maps, ranked by it when the table is sorted by NET, and said in text and JSON.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {stackRows, staysUntracked} from '../source/parse/bpftrace-stacks.js';
import {stackRankFor, staysSummary, topStacks} from '../source/model/stacks.js';
import {stackText, stacksJson} from '../source/model/batch-output.js';
import {stackHeader, stackLines} from '../source/ui/stack-view.js';
import {TABS} from '../source/registry.js';
import type {TracerStackSnapshot} from '../source/types.js';

const read = TABS.slab.bpftrace.cacheStacks!.read;
const CREATE = '\n        kmem_cache_alloc_lru_noprof+565\n        __d_alloc+45\n        d_alloc_parallel+57\n        path_openat+2806\n';
const PIPE = '\n        bpf_prog_c9f16681edaf9071_rawtracepoint_kmem_cache_alloc_1+1606\n        bpf_trace_run5+274\n        kmem_cache_alloc_lru_noprof+565\n        __d_alloc+45\n        d_alloc_pseudo+10\n        create_pipe_files+228\n';
const GONE = '\n        kmem_cache_alloc_lru_noprof+565\n        __d_alloc+45\n        d_alloc+23\n        lookup_one_qstr_excl+139\n';

function maps(): Map<string, Record<string, unknown>> {
  return new Map<string, Record<string, unknown>>([
    // This interval: the pipe path allocated most; the create path a little.
    ['stacks', {[PIPE]: {count: 50, average: 192, total: 9600}, [CREATE]: {count: 10, average: 192, total: 1920}}],
    // Since the drill-down began: the create path's objects stay; the pipe's were freed; one path allocated earlier, all freed.
    ['stay_count', {[CREATE]: 900, [PIPE]: 2, [GONE]: 0}],
    ['stay_bytes', {[CREATE]: 172800, [PIPE]: 384, [GONE]: 0}],
    ['stay_untracked', {'': 7}],
  ]);
}

test('stack rows carry what stays on their path, the tracing frames dropped, a path with nothing left not listed', () => {
  const rows = stackRows(read, maps(), true);
  const create = rows.find(row => row.frames.includes('path_openat'))!;
  const pipe = rows.find(row => row.frames.includes('create_pipe_files'))!;
  assert.deepEqual([create.count, create.bytes, create.stays, create.staysBytes], [10, 1920, 900, 172800]);
  assert.deepEqual([pipe.count, pipe.stays, pipe.staysBytes], [50, 2, 384]);
  assert.equal(pipe.frames[0], 'kmem_cache_alloc_lru_noprof');
  assert.equal(rows.length, 2);
  assert.equal(staysUntracked(read.stays!, maps()), 7);
});

test('a path whose objects stay though it allocated nothing this interval is a row of its own', () => {
  const only = new Map(maps());
  only.set('stacks', {});
  const rows = stackRows(read, only, true);
  assert.deepEqual(rows.map(row => [row.count, row.stays]).sort(), [[0, 2], [0, 900]]);
});

function snapshot(): TracerStackSnapshot {
  return {tab: 'slab', backend: 'bpftrace', probe: 'p', cache: 'dentry', time: '2026-12-06T20:00:05.000Z', elapsedMs: 1000, kernel: true, stacks: stackRows(read, maps(), true), stays: {since: '2026-12-06T20:00:00.000Z', untracked: 7}};
}

test('ranked by this interval\'s allocations, or by what stays when the table is sorted by NET', () => {
  assert.equal(stackRankFor('net'), 'stays');
  assert.equal(stackRankFor('totalNetBytes'), 'stays');
  assert.equal(stackRankFor('count'), 'events');
  const byEvents = topStacks(snapshot(), 10, 0, 'events');
  assert.ok(byEvents.stacks[0]!.frames.includes('create_pipe_files'));
  const byStays = topStacks(snapshot(), 10, 0, 'stays');
  assert.ok(byStays.stacks[0]!.frames.includes('path_openat'));
  assert.deepEqual(byStays.stays, {since: '2026-12-06T20:00:00.000Z', count: 902, bytes: 173184, untracked: 7, ranked: true});
  assert.match(staysSummary(byStays.stays!), /^stays: 902 objects, 169K, allocated since \d\d:\d\d:\d\d and not freed · paths ranked by what stays · CAPPED: 7 objects not kept$/);
  assert.match(staysSummary(byEvents.stays!, true), /sort the table by NET to rank paths by what stays/);
  assert.match(staysSummary(byEvents.stays!), /paths ranked by this interval's allocations/);
});

test('batch text and JSON say what stays, per path and in all', () => {
  const json = stacksJson(snapshot(), {cache: 'dentry'}, 10, 0) as {stays: Record<string, unknown>; stacks: {stays: number; staysBytes: number; frames: string[]}[]};
  assert.deepEqual(json.stays, {since: '2026-12-06T20:00:00.000Z', count: 902, bytes: 173184, untracked: 7});
  const create = json.stacks.find(stack => stack.frames.includes('path_openat'))!;
  assert.deepEqual([create.stays, create.staysBytes], [900, 172800]);
  const text = stackText(snapshot(), '', 10, 0);
  assert.match(text, /\nstays: 902 objects/);
  assert.match(text, /\n10 1\.9K stays 900 169K /);
});

test('the drill-down on screen: STAYS and STAYS B beside each path, under their header', () => {
  const data = topStacks(snapshot(), 10, 0, 'stays');
  const header = stackHeader(data, true);
  assert.match(header, /^\s+COUNT\s+BYTES\s+STAYS\s+STAYS B\s+SHARE\s+KERNEL STACK/);
  const first = stackLines(data, 40).find(line => line.bold && /\d/.test(line.text))!;
  assert.match(first.text, /^\s+10\s+1\.9K\s+900\s+169K\s+16\.7%\s+kmem_cache_alloc_lru_noprof$/);
  assert.equal(first.text.indexOf('900') + 3, header.indexOf('STAYS') + 5);
});
