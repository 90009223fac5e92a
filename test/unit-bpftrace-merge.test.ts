// Several views' bpftrace scripts merged into one program (source/backends/bpftrace-merge.ts):
// each script's maps renamed under a prefix of its own, probe lists split, one tick that prints
// every script's maps; each interval split back into each view's maps; and which views the
// bpftrace backend puts in one tracer.
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {test} from 'node:test';
import {mergePrefix, mergeScripts, splitMaps, splitProbeLists, withoutRepeatedBlocks} from '../source/backends/bpftrace-merge.js';
import {mergeGroups} from '../source/backends/bpftrace.js';
import {TABS, viewOf} from '../source/registry.js';
import {probeScript} from '../source/backends/probe-files.js';
import {exportedViews} from '../source/model/metrics.js';
import {DEFAULT_EXPORT} from '../source/flags.js';
import type {TabId, ViewRef} from '../source/types.js';

const script = (file: string) => readFileSync(probeScript('bpftrace', file), 'utf8');

/** The maps a program's code names (without the @), its comments left out. */
function mapsOf(program: string): Set<string> {
  const code = program.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return new Set([...code.matchAll(/@(\w+)/g)].map(match => match[1]!));
}

test('a merged program: every map of each script under its prefix, the tick\'s own maps once, one tick, one BEGIN and one END', () => {
  const files = {brk__: 'brk.bt', slab__: 'slab.bt', slab_cache__: 'slab-cache.bt', majfault__: 'majfault.bt'};
  const program = mergeScripts(Object.entries(files).map(([prefix, file]) => ({prefix, text: script(file)})), 'memtop: test');
  for (const [prefix, file] of Object.entries(files)) {
    for (const name of mapsOf(script(file))) {
      if (name.startsWith('memtop_')) assert.ok(mapsOf(program).has(name), `the tick's @${name}`);
      else if (/^names_[ab]$/.test(name)) assert.ok(mapsOf(program).has(`memtop_${name}`), `${file}'s @${name} as the shared @memtop_${name}`);
      else assert.ok(mapsOf(program).has(`${prefix}${name}`), `${file}'s @${name} as @${prefix}${name}`);
    }
  }
  for (const name of mapsOf(program)) {
    assert.ok(name.startsWith('memtop_') || Object.keys(files).some(prefix => name.startsWith(prefix)), `@${name} is the tick's or under a prefix`);
  }
  assert.equal(program.split('\n')[0], '// memtop: test');
  assert.equal(program.match(/^interval:/gm)?.length, 1, 'one interval probe (one tick for every script)');
  assert.equal(program.match(/^BEGIN$/gm)?.length, 1);
  assert.equal(program.match(/^END$/gm)?.length, 1);
  assert.equal(program.match(/printf\("memtop-end /g)?.length, 1, 'one memtop-end line an interval');
  assert.equal(program.match(/^\tclear\(@memtop_parity\);$/gm)?.length, 1, 'the tick\'s maps cleared once at END');
  // Both halves of each double-buffered map are printed, each on its side of the parity.
  const printA = program.slice(program.indexOf('if (@memtop_parity) {', program.indexOf('interval:')), program.indexOf('} else {', program.indexOf('interval:')));
  for (const name of ['brk__count_a', 'slab__proc_a', 'slab_cache__cache_a', 'majfault__count_a']) assert.match(printA, new RegExp(`print\\(@${name}\\);\\n\\t+clear\\(@${name}\\);`));
  assert.doesNotMatch(program, /\u0000|memtop-print|memtop-clear/, 'no placeholder of the tick left');
  // The names of exited processes: one map, filled by one block where the scripts' blocks were the same, printed once a side.
  assert.equal(program.match(/^\t+print\(@memtop_names_a\);$/gm)?.length, 1, 'the shared names printed once');
  assert.equal(program.match(/^\t+clear\(@memtop_names_a\);$/gm)?.length, 2, 'and cleared once after it, once at END');
  const exits = program.match(/^tracepoint:sched:sched_process_exit \/pid == tid && \(\$2 == 0 \|\| pid == \$2\)\/$/gm)?.length;
  assert.equal(exits, 1, 'slab\'s, slab by cache\'s and majfault\'s name-only blocks as one');
  assert.match(program, /^tracepoint:sched:sched_process_exit \/pid == tid\/\n\{\n\tif \(@brk__brk_now\[pid\] != 0\)/m, 'brk\'s block, which does more, kept');
});

test('withoutRepeatedBlocks keeps a block once where it repeats as text, and keeps blocks that differ, lines outside blocks, and an unclosed tail', () => {
  const block = ['a:x /p/', '{', '	@memtop_names_a[pid] = comm;', '}'];
  const other = ['a:x /q/', '{', '	@memtop_names_a[pid] = comm;', '}'];
  assert.deepEqual(withoutRepeatedBlocks([...block, ...other, ...block, '{', ...block]), [...block, ...other, '{']);
  assert.deepEqual(withoutRepeatedBlocks(['b:y', '{', '	x;']), ['b:y', '{', '	x;']);
  const oneLine = 'c:z /p/ { @memtop_names_a[pid] = comm; }';
  assert.deepEqual(withoutRepeatedBlocks([oneLine, ...block, oneLine, ...other]), [oneLine, ...block, ...other], 'a one-line block is a block of its own');
});

test('the merged program keeps each script\'s probes, a list of attach points as one block a point', () => {
  const program = mergeScripts([{prefix: 'slab__', text: script('slab.bt')}, {prefix: 'slab_cache__', text: script('slab-cache.bt')}], 'memtop: slab');
  assert.doesNotMatch(program, /^tracepoint:kmem:kmem_cache_alloc,$/m, 'slab.bt\'s list is split');
  assert.equal(program.match(/^tracepoint:kmem:kmem_cache_alloc\b/gm)?.length, 2, 'kmem_cache_alloc probed by each view');
  assert.equal(program.match(/^tracepoint:kmem:kmalloc\b/gm)?.length, 2);
  assert.match(program, /^tracepoint:kmem:kmalloc\n\/\(\$2 == 0 \|\| pid == \$2\) && \(\$3 == 0 \|\| pid != \$3\)\/\n\{\n\tif \(@memtop_parity\) \{\n\t\t@slab__proc_b\[pid\] = stats\(args->bytes_alloc\);/m);
});

test('splitProbeLists: points on several lines and several a line, a predicate on the last line or its own, a one-line block', () => {
  assert.deepEqual(splitProbeLists(['a:x,', 'a:y', '/p/', '{', '\tbody;', '}', 'b:z { one; }']), ['a:x', '/p/', '{', '\tbody;', '}', 'a:y', '/p/', '{', '\tbody;', '}', 'b:z { one; }']);
  assert.deepEqual(splitProbeLists(['a:x, a:y,', 'a:z /p/', '{', '}']), ['a:x /p/', '{', '}', 'a:y /p/', '{', '}', 'a:z /p/', '{', '}']);
  assert.deepEqual(splitProbeLists(['a:x,', 'a:y { one; }']), ['a:x { one; }', 'a:y { one; }']);
  assert.throws(() => splitProbeLists(['a:x,', 'a:y', '{', '\tnever closed;']), /does not close/);
});

test('mergeScripts refuses prefixes that could name one map and a script without the tick', () => {
  assert.throws(() => mergeScripts([{prefix: 'slab__', text: script('slab.bt')}, {prefix: 'slab__x__', text: script('brk.bt')}], 't'), /overlap/);
  assert.throws(() => mergeScripts([{prefix: 'brk', text: script('brk.bt')}], 't'), /ends in "__"/);
  assert.throws(() => mergeScripts([{prefix: 'brk__', text: 'tracepoint:a:b { @x = count(); }\n'}], 't'), /no tick BEGIN/);
  assert.throws(() => mergeScripts([], 't'), /no script/);
});

test('mergePrefix: a tab\'s first view by the tab, its others by tab and view; no prefix of one is another\'s start', () => {
  assert.equal(mergePrefix('brk', 'process', true), 'brk__');
  assert.equal(mergePrefix('slab', 'cache', false), 'slab_cache__');
  assert.throws(() => mergePrefix('a b', 'process', true), /cannot name a map/);
});

test('splitMaps: each prefix\'s maps under their own names, the shared names in each, a map of no prefix left out, the interval\'s end kept', () => {
  const interval = {
    maps: new Map<string, Record<string, unknown>>([
      ['brk__count_a', {'1': 2}],
      ['slab__proc_a', {'1': {count: 1}}],
      ['slab_cache__cache_a', {filp: {count: 3}}],
      ['stray', {'1': 1}],
      ['memtop_names', {'7': 'gone'}],
    ]),
    hists: new Map(),
    endNs: 42n,
  } as unknown as Parameters<typeof splitMaps>[0];
  const split = splitMaps(interval, ['brk__', 'slab__', 'slab_cache__']);
  assert.deepEqual([...split.get('brk__')!.maps.keys()].sort(), ['count_a', 'names']);
  assert.deepEqual([...split.get('slab__')!.maps.keys()].sort(), ['names', 'proc_a'], 'slab__ does not take slab_cache__\'s maps');
  assert.deepEqual([...split.get('slab_cache__')!.maps.keys()].sort(), ['cache_a', 'names']);
  assert.deepEqual(split.get('slab__')!.maps.get('names'), {'7': 'gone'}, 'the shared names are every view\'s');
  assert.equal(split.get('brk__')!.endNs, 42n);
});

test('mergeGroups: the default export\'s views in one group; malloc (uprobes on each allocator file) and a view with no script here apart', () => {
  const views = exportedViews(DEFAULT_EXPORT).map(view => ({tab: view.tab as TabId, view: view.view}));
  const first = (ref: ViewRef) => TABS[ref.tab].bpftrace.views[viewOf(ref.tab, ref.view).id]!.scripts[0]!;
  assert.deepEqual(mergeGroups(views, first), [views]);
  const withMalloc = mergeGroups([{tab: 'malloc', view: 'process'}, ...views], first);
  assert.deepEqual(withMalloc, [views], 'malloc runs apart');
  const noScript = mergeGroups(views, ref => {
    if (ref.tab === 'anonpgin') throw new Error('no probe for anonpgin here');
    return first(ref);
  });
  assert.deepEqual(noScript, [views.filter(view => view.tab !== 'anonpgin')], 'anonpgin runs alone, and fails there saying why');
  assert.deepEqual(mergeGroups([views[0]!], first), [], 'one view is no group');
});
