// The tracer-output JSON parser: what JSON.parse gives, except that a key printed twice in one
// object is merged (counts added) instead of the last one winning.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {JsonSyntaxError, mergeValues, parseJsonMerging} from '../source/parse/json-merge.js';

test('reads what JSON.parse reads, the same', () => {
  const samples = [
    '{"type": "map", "data": {"@count_a": {"1,bash": 3, "22,a b": 4}}}',
    '{"type": "hist", "data": {"@sizes_a": [{"min": 16, "max": 31, "count": 90},{"min": 32, "max": 63, "count": 0}]}}',
    '{"type": "printf", "data": "memtop-end 2468774938367\\n"}',
    '{"a": [true, false, null, -1, 0, 2.5, 1e3, -0.25E-2, "x\\"y\\\\z\\u0041\\t"], "b": {}, "c": []}',
    '  {"spaced" :  [ 1 , 2 ] }  ',
    '"just a string"',
    '12345',
  ];
  for (const sample of samples) assert.deepEqual(parseJsonMerging(sample), JSON.parse(sample), sample);
});

test('a key printed twice adds up: counts, stats and integers too large for a double', () => {
  assert.deepEqual(parseJsonMerging('{"k": 2, "k": 3, "j": 1}'), {k: 5, j: 1});
  assert.deepEqual(parseJsonMerging('{"s": {"count": 2, "average": 10, "total": 20}, "s": {"count": 6, "average": 5, "total": 30}}'), {
    s: {count: 8, average: 6, total: 50},
  });
  assert.deepEqual(parseJsonMerging('{"big": "18446744073709551615", "big": 1}'), {big: '18446744073709551616'});
  assert.deepEqual(parseJsonMerging('{"n": 9007199254740993}'), {n: '9007199254740993'});
  // Names are not counts: the later one wins, as with JSON.parse.
  assert.deepEqual(parseJsonMerging('{"name": "a", "name": "b"}'), {name: 'b'});
  assert.equal(mergeValues(1, 'x'), 'x');
});

test('"__proto__" is an ordinary key, as with JSON.parse', () => {
  const value = parseJsonMerging('{"__proto__": {"polluted": 1}, "x": 2}') as Record<string, unknown>;
  assert.deepEqual(Object.keys(value), ['__proto__', 'x']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(parseJsonMerging('{"__proto__": 1, "__proto__": 2}'), JSON.parse('{"__proto__": 3}'));
});

test('anything that is not JSON throws JsonSyntaxError, never something else', () => {
  for (const bad of ['', '{', '{"a": }', '{"a" 1}', '[1,]', '{"a": 1,}', 'tru', '01', '1.', '"unterminated', '{"a": "raw\ncontrol"}', '{"a": 1} x', '{"a": "\\q"}']) {
    assert.throws(() => parseJsonMerging(bad), JsonSyntaxError, JSON.stringify(bad));
  }
});

test("bpftrace's escapes of bytes from 0x80 (\\uffffffXX) read as the UTF-8 text they stood for", () => {
  assert.deepEqual(parseJsonMerging('{"data": "\\uffffffc3\\uffffffbc\\n"}'), {data: 'ü\n'});
  assert.deepEqual(parseJsonMerging('{"\\uffffffe6\\uffffffb5\\uffffff8b\\uffffffe8\\uffffffaf\\uffffff95,\\uffffffe5": 1}'), {'测试,\ufffd': 1}, 'a character the kernel cut becomes one replacement character');
  assert.deepEqual(parseJsonMerging('{"a\\\\uffffffc3": 1}'), {'a\\uffffffc3': 1}, 'an escaped backslash before it is text');
});

test('JSON.parse reads a line where it gives what memtop\'s own reader gives: every line bpftrace printed in the captured outputs of 0.17, 0.23 and 0.27, and lines made to fall back', async () => {
  const {readdirSync, readFileSync} = await import('node:fs');
  const {parseJsonOwn} = await import('../source/parse/json-merge.js');
  const root = new URL('fixtures/bpftrace-output/', import.meta.url);
  let lines = 0;
  for (const release of ['0.17.0', '0.23.2', '0.27.1']) {
    for (const file of readdirSync(new URL(`${release}/`, root)).filter(name => name.endsWith('.ndjson'))) {
      for (const line of readFileSync(new URL(`${release}/${file}`, root), 'utf8').split('\n')) {
        if (!line.trim().startsWith('{')) continue;
        assert.deepEqual(parseJsonMerging(line), parseJsonOwn(line), `${release}/${file}: ${line.slice(0, 200)}`);
        lines++;
      }
    }
  }
  assert.ok(lines > 100, `only ${lines} lines captured`);
  // Each of these would read differently through JSON.parse: a key twice, an escaped quote before a colon, a key spaced from its colon beside a repeated one, an integer past 2^53, bpftrace's byte escapes.
  const fallbacks = [
    '{"@x": {"1": 2, "1": 3}}',
    '{"@x": {"a\\":": 2, "b": {"c": 1, "c": 1}}}',
    '{"@x": {"a" : 2, "b": 1, "b": 1}}',
    '{"@x": {"1": 18446744073709551615}}',
    '{"@x": {"1,caf\\uffffffc3\\uffffffa9": 1}}',
  ];
  for (const line of fallbacks) assert.deepEqual(parseJsonMerging(line), parseJsonOwn(line), line);
  assert.deepEqual(parseJsonMerging(fallbacks[0]!), {'@x': {1: 5}});
  assert.deepEqual(parseJsonMerging(fallbacks[3]!), {'@x': {1: '18446744073709551615'}});
  assert.deepEqual(parseJsonMerging(fallbacks[4]!), {'@x': {'1,café': 1}});
  assert.throws(() => parseJsonMerging('{"a": 1,}'), JsonSyntaxError);
  assert.deepEqual(parseJsonMerging('{"__proto__": {"a": 1}}'), JSON.parse('{"__proto__": {"a": 1}}'));
  assert.equal(Object.getPrototypeOf(parseJsonMerging('{"__proto__": {"a": 1}}')), Object.prototype);
});
