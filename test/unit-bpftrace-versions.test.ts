// The bpftrace output parser on what each bpftrace release really printed for memtop's scripts
// (test/fixtures/bpftrace-output/<version>/, recorded by capture.ts against the test workloads):
// the same rows, the same counts and the same whole frames from every release.
import assert from 'node:assert/strict';
import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {describe, it, test} from 'node:test';
import {fileURLToPath} from 'node:url';
import {BpftraceJsonParser} from '../source/parse/bpftrace-json.js';
import {cacheRows, cacheStackRows, liveRowsOf, liveStacksOf, stackRows, tabRows} from './helpers/bpftrace-rows.js';
import {topStacks} from '../source/model/stacks.js';
import {
  atLeast,
  compileOnlyArgs,
  escapesKeysTwice,
  mapKeysEnv,
  parseBpftraceVersion,
  readsDataLocStrings,
} from '../source/backends/bpftrace-version.js';
import type {TabId} from '../source/types.js';
import {LEAK_WORKLOAD, WORKLOADS} from './helpers/workloads.js';
import {mappingAt, parseMapsLine} from '../source/system/processes.js';

const FIXTURES = fileURLToPath(new URL('fixtures/bpftrace-output/', import.meta.url));
const VERSIONS = readdirSync(FIXTURES).filter(name => /^\d+\.\d+\.\d+$/.test(name)).sort();

interface Capture {
  script: string;
  tab: TabId;
  pid: number;
  events: number;
  code: [string, string][];
  /** wl_leak: the bytes and blocks it kept. */
  kept?: number;
  keptBlocks?: number;
  /** The workload's /proc/PID/maps lines (minfault's drill-down names mappings from them). */
  maps?: string[];
}

/** Every interval of one recorded output, parsed as memtop parses that version's output. */
function intervals(version: string, name: string) {
  const parser = new BpftraceJsonParser(escapesKeysTwice(parseBpftraceVersion(version)!));
  const text = readFileSync(path.join(FIXTURES, version, `${name}.ndjson`), 'utf8');
  const parsed = text.split('\n').flatMap(line => parser.feed(line) ?? []);
  return {parsed, skipped: parser.skipped};
}

function capture(version: string, name: string): Capture {
  return JSON.parse(readFileSync(path.join(FIXTURES, version, `${name}.json`), 'utf8')) as Capture;
}

test('recorded output of three bpftrace releases is here', () => {
  assert.deepEqual(VERSIONS, ['0.17.0', '0.23.2', '0.27.1']);
});

for (const version of VERSIONS) {
  describe(`bpftrace ${version}'s output`, () => {
    for (const name of ['malloc', 'brk', 'slab', 'majfault']) {
      it(`${name}.bt: the workload's one row counts every event`, () => {
        const meta = capture(version, name);
        const {parsed, skipped} = intervals(version, name);
        assert.equal(skipped, 0);
        assert.ok(parsed.length >= 2, 'at least two intervals');
        let total = 0;
        for (const interval of parsed) {
          const {rows, bad} = tabRows(meta.tab, interval.maps);
          assert.equal(bad, 0);
          for (const row of rows) {
            assert.equal(row.pid, meta.pid, `only the workload was traced: ${JSON.stringify(row)}`);
            total += row.count;
          }
        }
        // The tracer saw its own start too: the workload's events, and for slab a few more per round.
        if (name === 'slab') assert.ok(total >= meta.events * 3, `${total} slab allocations for ${meta.events} rounds`);
        else assert.equal(total, meta.events);
      });
    }

    it('faults in bytes: each of wl_majflt\'s faults (no readahead) read one page; wl_minflt\'s faults made one page each resident', () => {
      const sum = (name: string, measure: string) => {
        let total = 0;
        for (const interval of intervals(version, name).parsed) for (const row of tabRows(capture(version, name).tab, interval.maps).rows) total += Number(row[measure] ?? 0);
        return total;
      };
      const major = capture(version, 'majfault');
      assert.equal(sum('majfault', 'read'), major.events * 4096);
      // The first change of a counter gives its size only: one page short at most.
      const minor = capture(version, 'minfault');
      const bytes = sum('minfault', 'bytes');
      assert.ok(bytes <= minor.events * 4096 && bytes >= (minor.events - 1) * 4096, `${bytes} bytes for ${minor.events} fresh pages`);
    });

    it('slab by cache: real cache names, the workload\'s files in filp', () => {
      const name = readdirSync(path.join(FIXTURES, version)).find(file => /^slab-cache.*\.ndjson$/.test(file))!.replace(/\.ndjson$/, '');
      const meta = capture(version, name);
      const {parsed, skipped} = intervals(version, name);
      assert.equal(skipped, 0);
      const rows = parsed.flatMap(interval => cacheRows(interval.maps));
      for (const row of rows) assert.match(row.cache!, /^[\x21-\x7e]+$/, `a cache without a real name: ${JSON.stringify(row)}`);
      const filp = rows.filter(row => row.cache === 'filp').reduce((sum, row) => sum + row.count, 0);
      assert.ok(filp >= meta.events * 3, `filp ${filp} for ${meta.events} rounds of four files`);
      assert.ok(rows.some(row => /^kmalloc-\d+$/.test(row.cache!)));
      // NET: the frees are counted (whoever frees: the capture traces one pid), times the object size kept.
      const filpNet = rows.filter(row => row.cache === 'filp').reduce((sum, row) => sum + (row.net as number), 0);
      assert.ok(filpNet < filp / 2, `filp: NET ${filpNet} of ${filp} allocations: its files are closed`);
      for (const row of rows.filter(each => each.cache === 'filp' && each.net !== 0)) assert.ok(Number.isInteger((row.netBytes as number) / (row.net as number)) && (row.netBytes as number) / (row.net as number) >= 64, JSON.stringify(row));
      for (const row of rows.filter(each => /^kmalloc-\d+$/.test(each.cache!))) assert.deepEqual([row.net, row.netBytes], [undefined, undefined], row.cache);
    });

    it('into the filp cache: whole kernel frames from the allocator down, the workload\'s four files a round', () => {
      const name = readdirSync(path.join(FIXTURES, version)).find(file => /^stacks-slab-cache.*\.ndjson$/.test(file))!.replace(/\.ndjson$/, '');
      const meta = capture(version, name);
      const {parsed, skipped} = intervals(version, name);
      assert.equal(skipped, 0);
      assert.ok(parsed.length >= 2, 'at least two intervals');
      let workload = 0;
      const paths: string[][] = [];
      for (const interval of parsed) {
        const {stacks, processes} = cacheStackRows(interval.maps);
        for (const stack of stacks) {
          paths.push(stack.frames);
          assert.match(stack.frames[0]!, /^kmem_cache_alloc/, `the allocator is the innermost frame: ${stack.frames.join(' <- ')}`);
          for (const frame of stack.frames) assert.doesNotMatch(frame, /[\\\n\s]|\+\d+$|^bpf_prog_[0-9a-f]{16}|^bpf_trace_run|^__traceiter_/, `frame ${JSON.stringify(frame)}`);
          assert.ok(stack.bytes! >= stack.count * 64, `bytes ${stack.bytes} for ${stack.count} files`);
        }
        for (const share of processes) {
          assert.ok(share.pid > 0 && share.count > 0);
          if (share.pid === meta.pid) workload += share.count;
        }
      }
      // pipe2 makes two files, openat and socket one each.
      assert.equal(workload, meta.events * 4, `${workload} files for ${meta.events} rounds`);
      for (const call of ['__x64_sys_pipe2', '__x64_sys_openat', '__x64_sys_socket']) {
        assert.ok(paths.some(frames => frames.includes(call)), `no path through ${call}:\n${paths.map(frames => frames.join(' <- ')).join('\n')}`);
      }
    });

    it('malloc-live.bt: the workload\'s one row holds exactly what it kept, its oldest allocation no older than the script', () => {
      const meta = capture(version, 'malloc-live');
      const {parsed, skipped} = intervals(version, 'malloc-live');
      assert.equal(skipped, 0);
      assert.ok(parsed.length >= 2, 'at least two intervals');
      const last = parsed.at(-1)!;
      const {rows, bad, untracked} = liveRowsOf(last.maps, last.endNs);
      assert.equal(bad, 0);
      assert.equal(untracked, 0);
      assert.deepEqual(rows.map(row => [row.pid, row.count, row.bytes]), [[meta.pid, meta.keptBlocks, meta.kept]]);
      const age = rows[0]!.age as number;
      const ran = Number(last.endNs - parsed[0]!.endNs) / 1e9;
      assert.ok(age > 0.5 && age <= ran + 0.5, `oldest ${age} s, the script ran ${ran} s and more`);
    });

    it('stacks-malloc-live.bt: the keeping function holds all that is outstanding, the freeing one nothing, whole frames', () => {
      const meta = capture(version, 'stacks-malloc-live');
      const code = meta.code.map(([low, high]) => [BigInt(low), BigInt(high)] as const);
      const isCode = (address: bigint) => code.some(([low, high]) => address >= low && address < high);
      const {parsed, skipped} = intervals(version, 'stacks-malloc-live');
      assert.equal(skipped, 0);
      const last = parsed.at(-1)!;
      const read = liveStacksOf(last.maps, last.endNs, isCode);
      assert.equal(read.untracked, 0);
      const total = read.totals.reduce((sum, amount) => sum + amount.bytes, 0);
      assert.equal(total, meta.kept, 'the process\'s total is exact');
      const snapshot = {tab: 'malloc' as const, backend: 'bpftrace' as const, probe: 'p', pid: meta.pid, time: 't', elapsedMs: 500, stacks: read.stacks, live: {since: 't', classes: read.classes, totals: read.totals, untracked: 0}};
      const view = topStacks(snapshot, 10);
      assert.deepEqual(view.stacks.map(stack => [stack.frames.slice(0, 3), stack.count, stack.bytes]), [[[...LEAK_WORKLOAD.chain, 'main'], meta.keptBlocks, meta.kept]]);
      for (const frame of view.stacks[0]!.frames) assert.doesNotMatch(frame, /[\\\n\s]|\+\d+$/, `frame ${JSON.stringify(frame)}`);
      assert.ok(!read.stacks.some(stack => stack.frames.includes('wl_churn_leak')), 'what was freed is not outstanding');
    });

    it('minfault.bt: the workload\'s minor faults, one per page it wrote, and no major ones', () => {
      const meta = capture(version, 'minfault');
      const {parsed, skipped} = intervals(version, 'minfault');
      assert.equal(skipped, 0);
      let minor = 0;
      let major = 0;
      for (const interval of parsed) {
        const {rows, bad} = tabRows('minfault', interval.maps);
        assert.equal(bad, 0);
        for (const row of rows.filter(candidate => candidate.pid === meta.pid)) {
          minor += row.count;
          major += row.major as number;
        }
      }
      // Besides its pages, a first call of clock_gettime may fault in the vDSO's data page.
      assert.ok(minor >= meta.events && minor <= meta.events + 5, `${minor} minor faults for ${meta.events} pages`);
      assert.equal(major, 0);
    });

    it('reclaim.bt: the workload\'s stalls with their time, longest and pages', () => {
      const meta = capture(version, 'reclaim');
      const {parsed, skipped} = intervals(version, 'reclaim');
      assert.equal(skipped, 0);
      const rows = parsed.flatMap(interval => tabRows('reclaim', interval.maps).rows).filter(row => row.pid === meta.pid);
      assert.ok(rows.length > 0, 'no stalls of the workload');
      for (const row of rows) {
        const [stallMs, maxMs, pages] = [row.stallMs, row.maxMs, row.pages] as number[];
        assert.ok(row.count > 0 && stallMs! > 0 && pages! > 0, JSON.stringify(row));
        assert.ok(maxMs! > 0 && maxMs! <= stallMs! && maxMs! >= stallMs! / row.count, `longest ${maxMs} ms of ${row.count} stalls taking ${stallMs} ms`);
        // Times arrive in ns and are kept in ms: a stall of this workload takes microseconds to tens of ms.
        assert.ok(stallMs! / row.count > 0.001 && stallMs! / row.count < 1000, `${stallMs} ms for ${row.count} stalls`);
      }
    });

    it('stacks-minfault.bt: each fault where it was (anonymous memory), the workload\'s chain', () => {
      const meta = capture(version, 'stacks-minfault');
      const mappings = meta.maps!.map(parseMapsLine).filter(mapping => mapping !== undefined);
      const {parsed, skipped} = intervals(version, 'stacks-minfault');
      assert.equal(skipped, 0);
      const stacks = parsed.flatMap(interval => stackRows('minfault', interval.maps, undefined, address => mappingAt(mappings, address)));
      const chain = stacks.filter(stack => stack.frames.slice(0, 3).join(' ') === 'wl_leaf_minflt wl_outer_minflt main');
      const faults = chain.reduce((sum, stack) => sum + stack.count, 0);
      assert.equal(faults, meta.events, `the chain's stacks count ${faults} faults for ${meta.events} pages`);
      for (const stack of chain) assert.deepEqual(stack.where, [{mapping: 'anon', count: stack.count}], JSON.stringify(stack));
      for (const stack of stacks) assert.equal(stack.where?.reduce((sum, place) => sum + place.count, 0), stack.count);
    });

    it('stacks-reclaim.bt: the stall\'s user stack, its time, and a length histogram of every stall', () => {
      const {parsed, skipped} = intervals(version, 'stacks-reclaim');
      assert.equal(skipped, 0);
      const stacks = parsed.flatMap(interval => stackRows('reclaim', interval.maps));
      const chain = stacks.filter(stack => stack.frames.slice(0, 3).join(' ') === 'wl_leaf_reclaim wl_outer_reclaim main');
      assert.ok(chain.length > 0, stacks.map(stack => stack.frames.join(' <- ')).join('\n'));
      for (const stack of stacks) assert.ok(stack.ms! > 0 && stack.ms! / stack.count < 1000, JSON.stringify(stack));
      const stalls = stacks.reduce((sum, stack) => sum + stack.count, 0);
      const lengths = parsed.flatMap(interval => interval.hists.get('latency') ?? []).reduce((sum, bucket) => sum + bucket.count, 0);
      assert.equal(lengths, stalls);
    });

    for (const tab of ['malloc', 'brk', 'slab', 'majfault'] as const) {
      it(`stacks-${tab}.bt: whole frames, innermost first, the workload's chain, nothing past its entry`, () => {
        const meta = capture(version, `stacks-${tab}`);
        const code = meta.code.map(([low, high]) => [BigInt(low), BigInt(high)] as const);
        const isCode = (address: bigint) => code.some(([low, high]) => address >= low && address < high);
        const {parsed, skipped} = intervals(version, `stacks-${tab}`);
        assert.equal(skipped, 0);
        const stacks = parsed.flatMap(interval => stackRows(tab, interval.maps, isCode));
        const chain = WORKLOADS[tab].chain;
        const outer = chain.at(-1)!;
        for (const stack of stacks) {
          for (const frame of stack.frames) {
            assert.doesNotMatch(frame, /[\\\n\s]|\+\d+$/, `frame ${JSON.stringify(frame)} in ${stack.frames.join(' <- ')}`);
            if (/^0x/.test(frame)) assert.ok(isCode(BigInt(frame)), `frame ${frame} is not code: ${stack.frames.join(' <- ')}`);
          }
          const main = stack.frames.indexOf('main');
          if (main !== -1) assert.ok(stack.frames.length - main - 1 <= 3, `frames past main: ${stack.frames.join(' <- ')}`);
        }
        const shown = stacks.find(stack => stack.frames.some((frame, index) => chain.includes(frame) && stack.frames[index + 1] === outer && stack.frames[index + 2] === 'main'));
        assert.ok(shown, `no stack shows ${chain.join('/')} <- main:\n${stacks.map(stack => stack.frames.join(' <- ')).join('\n')}`);
        const total = stacks.reduce((sum, stack) => sum + stack.count, 0);
        if (tab === 'slab') assert.ok(total >= meta.events * 3, `${total} slab allocations for ${meta.events} rounds`);
        else assert.equal(total, meta.events);
      });
    }
  });
}

test('what memtop does differently per release, for 0.17 to 0.27 and the releases between', () => {
  const v = (text: string) => parseBpftraceVersion(text)!;
  assert.deepEqual(v('bpftrace v0.23.2'), {major: 0, minor: 23, patch: 2});
  assert.deepEqual(v('bpftrace v0.20.2-1ubuntu1'), {major: 0, minor: 20, patch: 2});
  assert.equal(parseBpftraceVersion('no version here'), undefined);
  // Keys escaped twice: 0.22 and 0.23 only (0.20 of Ubuntu 24.04 prints as 0.17 does).
  assert.deepEqual(['0.17.0', '0.20.2', '0.21.0', '0.22.1', '0.23.5', '0.24.0', '0.27.1'].map(text => escapesKeysTwice(v(text))), [false, false, false, true, true, false, false]);
  // The __data_loc string bug: 0.23 only.
  assert.deepEqual(['0.17.0', '0.20.2', '0.22.1', '0.23.2', '0.24.0'].map(text => readsDataLocStrings(v(text))), [true, true, true, false, true]);
  assert.deepEqual(compileOnlyArgs(v('0.17.0'), '/tmp/x.o'), ['--emit-elf', '/tmp/x.o']);
  assert.deepEqual(compileOnlyArgs(v('0.23.2'), '/tmp/x.o'), ['--emit-elf', '/tmp/x.o']);
  assert.deepEqual(compileOnlyArgs(v('0.27.1'), '/tmp/x.o'), ['--mode', 'codegen']);
  assert.deepEqual(mapKeysEnv(4096), {BPFTRACE_MAP_KEYS_MAX: '4096', BPFTRACE_MAX_MAP_KEYS: '4096'});
  assert.ok(atLeast(v('1.0.0'), 0, 24));
});

test('keys escaped twice (0.22, 0.23) come out as other releases print them, and alike keys merge', () => {
  const twice = new BpftraceJsonParser(true);
  twice.feed(JSON.stringify({type: 'map', data: {'@count_a': {'12,a\\\\b\\"c': 2, '12,a\\\\b\\"c ': 1}}}));
  twice.feed(JSON.stringify({type: 'stats', data: {'@stacks_a': {'\\n        f+1\\n        main+2\\n,g': {count: 1, average: 3, total: 3}}}}));
  const interval = twice.feed(JSON.stringify({type: 'printf', data: 'memtop-end 5\n'}))!;
  assert.deepEqual(interval.maps.get('count'), {'12,a\\b"c': 2, '12,a\\b"c ': 1});
  assert.deepEqual(stackRows('malloc', interval.maps).map(row => row.frames), [['f', 'g', 'main']]);
});

test('non-ASCII names and symbols from every release: bytes escaped as \\uffffffXX, twice in 0.22-0.23 keys', () => {
  const once = new BpftraceJsonParser(false);
  once.feed('{"type": "map", "data": {"@names_a": {"7": "zq\\uffffffe6\\uffffffb5\\uffffff8b"}}}');
  once.feed('{"type": "map", "data": {"@count_a": {"7": 2}}}');
  const interval = once.feed('{"type": "printf", "data": "memtop-end 1\\n"}')!;
  assert.equal(tabRows('majfault', interval.maps).rows[0]!.comm, 'zq测');
  const twice = new BpftraceJsonParser(true);
  twice.feed('{"type": "map", "data": {"@stacks_a": {"\\\\n        sbrk+4\\\\n        \\\\uffffffe8\\\\uffffffbf\\\\uffffff99+8\\\\n,main": 3}}}');
  const stacks = twice.feed('{"type": "printf", "data": "memtop-end 1\\n"}')!;
  assert.deepEqual(stackRows('majfault', stacks.maps).map(row => row.frames), [['sbrk', 'main', '这']]);
});
