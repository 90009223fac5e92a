// Unit tests for the pure bpftrace JSON parser: snapshots, keys, stacks, hostile lines.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {BpftraceJsonParser} from '../source/parse/bpftrace-json.js';
import {joinCaller, splitStackAndSymbol, splitTwoStacks, stackFrames} from '../source/parse/bpftrace-stacks.js';
import {splitPidKey} from '../source/parse/bpftrace-values.js';
import {cacheRows, tabRows, stackRows} from './helpers/bpftrace-rows.js';
import {explainBpftraceFailure} from '../source/backends/bpftrace.js';

const lines = (...objects: unknown[]) => objects.map(object => JSON.stringify(object));

test('an interval ends at the memtop-end marker and carries every map printed before it', () => {
  const parser = new BpftraceJsonParser();
  const input = lines(
    {type: 'attached_probes', data: {probes: 3}},
    {type: 'stats', data: {'@calls_a': {'42,bash': {count: 7, average: 100, total: 700}, '43,a,b': {count: 2, average: 0, total: 0}}}},
    {type: 'printf', data: 'memtop-end 1000000\n'},
  );
  const results = input.map(line => parser.feed(line));
  assert.equal(parser.attached, true);
  assert.equal(results.slice(0, 2).filter(Boolean).length, 0);
  const interval = results[2]!;
  assert.equal(interval.endNs, 1000000n);
  const {rows, bad} = tabRows('malloc', interval.maps);
  assert.equal(bad, 0);
  assert.deepEqual(rows, [
    {pid: 42, comm: 'bash', count: 7, bytes: 700},
    {pid: 43, comm: 'a,b', count: 2, bytes: 0},
  ]);
});

test('garbage, truncated lines and foreign messages are skipped and counted, never thrown', () => {
  const parser = new BpftraceJsonParser();
  for (const line of ['WARNING: something', '{"type": "map", "data": {"@count": {"1,x"', '[]', 'null', '{"type":"lost_events","data":{"events":3}}', '{"type":"printf","data":"hello\\n"}']) {
    assert.equal(parser.feed(line), undefined);
  }
  assert.equal(parser.skipped, 6);
  assert.equal(parser.feed(''), undefined);
  assert.equal(parser.skipped, 6, 'blank lines are not errors');
});

test('double-buffered maps @x_a and @x_b both read as @x', () => {
  const parser = new BpftraceJsonParser();
  parser.feed(JSON.stringify({type: 'map', data: {'@stack_count_b': {'\n    f+1\n,g': 3}}}));
  parser.feed(JSON.stringify({type: 'hist', data: {'@sizes_b': [{min: 8, max: 15, count: 3}]}}));
  const interval = parser.feed(JSON.stringify({type: 'printf', data: 'memtop-end 5\n'}))!;
  assert.ok(interval.maps.has('stack_count'));
  assert.deepEqual(interval.hists.get('sizes'), [{min: 8, max: 15, count: 3}]);
});

test('pid keys: the pid is the digits before the first comma, the name is everything after', () => {
  assert.deepEqual(splitPidKey('12,a"b\u001b[31m,c'), {pid: 12, comm: 'a"b\u001b[31m,c'});
  assert.deepEqual(splitPidKey('7,'), {pid: 7, comm: ''});
  assert.equal(splitPidKey('x,bash'), undefined);
});

test('brk growth is growth minus shrinkage', () => {
  const {rows} = tabRows('brk', new Map([['count', {'5,app': 4}], ['grow', {'5,app': 8192}], ['shrink', {'5,app': 12288}]]));
  assert.deepEqual(rows, [{pid: 5, comm: 'app', count: 4, bytes: -4096}]);
});

test('tabs without bytes have no bytes field', () => {
  const {rows} = tabRows('anonpgin', new Map([['count', {'5,app': 4}]]));
  assert.deepEqual(rows, [{pid: 5, comm: 'app', count: 4}]);
});

test('major faults with the bytes they read into the page cache', () => {
  const {rows} = tabRows('majfault', new Map([['count', {'5': 4}], ['read_in', {'5': 1048576, '6': 4096}]]));
  assert.deepEqual(rows, [
    {pid: 5, comm: '', count: 4, read: 1048576},
    {pid: 6, comm: '', count: 0, read: 4096},
  ]);
});

test('a row named from the names map is of a process that exited in the interval: its pid is listed as exited', () => {
  const read = tabRows('majfault', new Map([['count', {'5': 4, '6': 1, '0': 2}], ['names', {'6': 'gone', '7': 'no row'}]]));
  assert.deepEqual(read.rows.map(row => [row.pid, row.comm]), [[0, 'swapper'], [5, ''], [6, 'gone']]);
  assert.deepEqual((read as {exited?: number[]}).exited, [6], 'only rows\' processes, named from the map');
  assert.equal((tabRows('majfault', new Map([['count', {'5': 4}]])) as {exited?: number[]}).exited, undefined, 'none exited: no list');
});

test('rows of one pid under two names (exec) merge into one row with the newest name', () => {
  const {rows} = tabRows('majfault', new Map([['count', {'9,sh': 1, '9,make': 2}]]));
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.count, 3);
});

test('slab cache rows name kmalloc size classes kmalloc-<size>', () => {
  const maps = new Map<string, Record<string, unknown>>([
    ['cache', {dentry: {count: 3, average: 192, total: 576}, filp: {count: 2, average: 256, total: 512}}],
    ['kmalloc', {'64': 10}],
  ]);
  assert.deepEqual(cacheRows(maps), [
    {cache: 'dentry', count: 3, bytes: 576, net: 3, netBytes: undefined},
    {cache: 'filp', count: 2, bytes: 512, net: 2, netBytes: undefined},
    {cache: 'kmalloc-64', count: 10, bytes: 640, net: undefined, netBytes: undefined},
  ]);
});

test('slab cache NET: allocations less frees, times the object size kept; unknown for size classes and unsized caches', () => {
  const maps = new Map<string, Record<string, unknown>>([
    ['cache', {dentry: {count: 3, average: 192, total: 576}, names_cache: {count: 40, average: 4096, total: 163840}}],
    // ext4_inode_cache only freed this interval: its size is the one kept from before; radix_tree_node's was never seen.
    ['freed', {dentry: 1, names_cache: 40, ext4_inode_cache: 5, radix_tree_node: 2}],
    ['kmalloc', {'64': 10}],
    ['size', {dentry: 192, names_cache: 4096, ext4_inode_cache: 1176, 'kmalloc-64': 64}],
  ]);
  assert.deepEqual(cacheRows(maps), [
    {cache: 'dentry', count: 3, bytes: 576, net: 2, netBytes: 384},
    {cache: 'names_cache', count: 40, bytes: 163840, net: 0, netBytes: 0},
    {cache: 'ext4_inode_cache', count: 0, bytes: 0, net: -5, netBytes: -5880},
    {cache: 'radix_tree_node', count: 0, bytes: 0, net: -2, netBytes: undefined},
    {cache: 'kmalloc-64', count: 10, bytes: 640, net: undefined, netBytes: undefined},
  ]);
});

test('stack strings become frames without offsets, innermost first', () => {
  assert.deepEqual(stackFrames('\n    __GI___libc_malloc+0\n    middle+44\n    main+38\n'), ['__GI___libc_malloc', 'middle', 'main']);
  assert.deepEqual(stackFrames(''), []);
});

test('stack and caller keys split at the last newline-comma, keeping commas in C++ names', () => {
  assert.deepEqual(splitStackAndSymbol('\n    malloc+0\n    g+3\n,std::map<int, int>::insert'), ['\n    malloc+0\n    g+3\n', 'std::map<int, int>::insert']);
  assert.deepEqual(splitStackAndSymbol(',leaf'), ['', 'leaf']);
});

test('two-stack keys split into both stacks and both callers, empty second stack included', () => {
  assert.deepEqual(splitTwoStacks('\n    __sbrk+0\n    main+16\n,grow,\n    malloc+0\n    mid+4\n,leaf'), ['\n    __sbrk+0\n    main+16\n', 'grow', '\n    malloc+0\n    mid+4\n', 'leaf']);
  assert.deepEqual(splitTwoStacks('\n    __sbrk+0\n,grow,,0'), ['\n    __sbrk+0\n', 'grow', '', '0']);
});

test('the caller found at the stack pointer goes in second, unless unknown or already there', () => {
  assert.deepEqual(joinCaller(['malloc', 'middle', 'main'], 'leaf'), ['malloc', 'leaf', 'middle', 'main']);
  assert.deepEqual(joinCaller(['malloc', 'leaf', 'main'], 'leaf'), ['malloc', 'leaf', 'main']);
  assert.deepEqual(joinCaller(['malloc', 'main'], '0x7ffd1234'), ['malloc', 'main']);
  assert.deepEqual(joinCaller(['malloc', 'main'], '0'), ['malloc', 'main']);
});

test('malloc stacks: glibc aliases read as the public name, same frames merge', () => {
  const maps = new Map<string, Record<string, unknown>>([
    ['stacks', {'\n    __GI___libc_malloc+0\n    mid+44\n    main+38\n,leaf': {count: 5, average: 100, total: 500}, '\n    __GI___libc_malloc+0\n    mid+44\n    main+38\n,leaf ': {count: 0, average: 0, total: 0}}],
  ]);
  const rows = stackRows('malloc', maps);
  assert.deepEqual(rows[0], {count: 5, bytes: 500, frames: ['malloc', 'leaf', 'mid', 'main']});
});

test('brk stacks: sbrk called by the allocator is shown with the allocator caller chain', () => {
  const key = '\n    __sbrk+0\n    0x7f00\n,__glibc_morecore,\n    __GI___libc_malloc+0\n    outer+10\n    main+5\n,leaf';
  const rows = stackRows('brk', new Map([['sbrk_count', {[key]: 2}], ['sbrk_grow', {[key]: 135168}], ['sbrk_shrink', {}]]));
  assert.deepEqual(rows, [{count: 2, bytes: 135168, frames: ['sbrk', '__glibc_morecore', 'malloc', 'leaf', 'outer', 'main']}]);
});

test('brk stacks: sbrk called directly keeps its own caller chain', () => {
  const key = '\n    __sbrk+0\n    main+16\n,grow_heap,,0';
  const rows = stackRows('brk', new Map([['sbrk_count', {[key]: 3}], ['sbrk_grow', {[key]: 4096}], ['sbrk_shrink', {[key]: 1024}]]));
  assert.deepEqual(rows, [{count: 3, bytes: 3072, frames: ['sbrk', 'grow_heap', 'main']}]);
});

test('counts past 2^53 stay numbers and hostile names stay data', () => {
  const parser = new BpftraceJsonParser();
  parser.feed('{"type": "map", "data": {"@count_b": {"1,\\u001b]0;pwned\\u0007": 18446744073709551615}}}');
  const interval = parser.feed('{"type": "printf", "data": "memtop-end 9\\n"}')!;
  const {rows} = tabRows('majfault', interval.maps);
  assert.equal(rows[0]!.comm, '\u001b]0;pwned\u0007');
  assert.ok(rows[0]!.count > 2 ** 53);
});

test('memtop-begin gives the first interval its start; it ends no interval itself', () => {
  const parser = new BpftraceJsonParser();
  assert.equal(parser.feed('{"type": "printf", "data": "memtop-begin 1000000\\n"}'), undefined);
  assert.equal(parser.beginNs, 1_000_000n);
  parser.feed('{"type": "map", "data": {"@count_a": {"7": 3}}}');
  const interval = parser.feed('{"type": "printf", "data": "memtop-end 151000000\\n"}')!;
  assert.equal(interval.endNs - parser.beginNs!, 150_000_000n);
  assert.equal(parser.skipped, 0);
});

test('bare pid keys: named from @names when the process exited, else left for /proc; pid 0 is the idle task', () => {
  const parser = new BpftraceJsonParser();
  parser.feed('{"type": "stats", "data": {"@calls_b": {"41": {"count": 2, "average": 8, "total": 16}, "42": {"count": 1, "average": 4, "total": 4}, "0": {"count": 5, "average": 1, "total": 5}}}}');
  parser.feed('{"type": "map", "data": {"@names_b": {"42": "short-lived"}}}');
  const interval = parser.feed('{"type": "printf", "data": "memtop-end 9\\n"}')!;
  const {rows, bad} = tabRows('malloc', interval.maps);
  assert.equal(bad, 0);
  const byPid = Object.fromEntries(rows.map(row => [row.pid, row]));
  assert.deepEqual([byPid[41]!.comm, byPid[41]!.count, byPid[41]!.bytes], ['', 2, 16]);
  assert.equal(byPid[42]!.comm, 'short-lived');
  assert.equal(byPid[0]!.comm, 'swapper');
});

test('brk rows keyed by pid: calls, growth net of shrinkage, names of exited processes', () => {
  const maps = new Map<string, Record<string, unknown>>([
    ['count', {'9': 4}],
    ['grow', {'9': 8192}],
    ['shrink', {'9': 4096}],
    ['names', {'9': 'gone'}],
  ]);
  const {rows} = tabRows('brk', maps);
  assert.deepEqual(rows, [{pid: 9, comm: 'gone', count: 4, bytes: 4096}]);
});

test('a failure under a path with "root" in it is not taken for a missing privilege', () => {
  const failure = explainBpftraceFailure('/root/memtop/probes/bpftrace/brk.bt:32:2-80: ERROR: Type mismatch for $grow', 1);
  assert.equal(failure.message, 'bpftrace: Type mismatch for $grow');
  assert.doesNotMatch(failure.hint ?? '', /as root/);
  const refused = explainBpftraceFailure('ERROR: bpftrace currently only supports running as the root user.', 1);
  assert.match(refused.hint ?? '', /as root/);
});

test('a delete of a key already gone, or a count()\'s first insert lost to another CPU (bpftrace 0.23\'s helper_errors, two CPUs racing), is not a skipped line; other helper errors are', () => {
  const parser = new BpftraceJsonParser();
  // As bpftrace 0.23 prints it for delete(@x[1]) when @x has no key 1.
  assert.equal(parser.feed('{"type": "helper_error", "msg": "Can\'t delete map element because it does not exist.", "helper": "map_delete_elem", "retcode": -2, "line": 1, "col": 18}'), undefined);
  assert.equal(parser.skipped, 0);
  // As bpftrace 0.23 printed it in CI for @freed_a[$name] = count(), two CPUs inserting one new key.
  assert.equal(parser.feed('{"type": "helper_error", "msg": "File exists", "helper": "map_update_elem", "retcode": -17, "line": 45, "col": 21}'), undefined);
  assert.equal(parser.skipped, 0);
  parser.feed('{"type": "helper_error", "msg": "Map full; can\'t update element.", "helper": "map_update_elem", "retcode": -7, "line": 3, "col": 2}');
  assert.equal(parser.skipped, 1);
});
