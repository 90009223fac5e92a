// Unit tests for the folded-stack export: outermost-first lines, hostile frames made safe,
// read back as flame graph tools read them, and the generated file name and file.
import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {foldedFileName, foldedStacks, foldFrame} from '../source/model/folded.js';
import {writeFoldedFile} from '../source/system/folded-file.js';
import type {StackRow} from '../source/types.js';

/** Folded text as flamegraph.pl reads it: frames split on ';', the count after the last space. Throws on a malformed line. */
function parseFolded(text: string): {frames: string[]; count: number}[] {
  return text
    .split('\n')
    .filter(line => line.trim() !== '')
    .map((line, index) => {
      const match = /^(.*) (\d+(?:\.\d+)?)$/.exec(line);
      if (!match || match[1] === '') throw new Error(`folded line ${index + 1} has no "frames count" shape: ${JSON.stringify(line.slice(0, 80))}`);
      return {frames: match[1]!.split(';'), count: Number(match[2])};
    });
}

const dir = mkdtempSync(join(tmpdir(), 'memtop-folded-'));
after(() => rmSync(dir, {recursive: true, force: true}));

const STACKS: StackRow[] = [
  {count: 42, bytes: 4200, frames: ['malloc', 'wl_leaf', 'wl_outer', 'main']},
  {count: 7, bytes: 70, frames: ['malloc', 'other', 'main']},
];

test('one line per stack, outermost frame first, a space and the count', () => {
  assert.equal(foldedStacks(STACKS), 'main;other;malloc 7\nmain;wl_outer;wl_leaf;malloc 42\n');
  assert.equal(foldedStacks(STACKS, 'bytes'), 'main;other;malloc 70\nmain;wl_outer;wl_leaf;malloc 4200\n');
  assert.equal(foldedStacks([]), '');
});

test('parsing the folded text back gives the stacks, outermost first, with their counts', () => {
  const parsed = parseFolded(foldedStacks(STACKS));
  assert.deepEqual(parsed, [
    {frames: ['main', 'other', 'malloc'], count: 7},
    {frames: ['main', 'wl_outer', 'wl_leaf', 'malloc'], count: 42},
  ]);
  for (const [index, line] of parsed.entries()) {
    const original = STACKS.find(stack => stack.count === line.count)!;
    assert.deepEqual(line.frames, [...original.frames].reverse(), `line ${index}`);
  }
  assert.throws(() => parseFolded('main;malloc\n'), /folded line 1 has no "frames count" shape/);
});

test('frames with ; newlines, control characters or bidi overrides are made safe with _', () => {
  assert.equal(foldFrame('std::vector<int>::push_back(int const&)'), 'std::vector<int>::push_back(int const&)');
  assert.equal(foldFrame('a;b'), 'a_b');
  assert.equal(foldFrame('line\nbreak\r\ttab\u001b[31m\u007f\u0085\u2028\u202e'), 'line_break__tab_[31m____');
  assert.equal(foldFrame(''), '[unknown]');
  const hostile: StackRow[] = [{count: 3, frames: ['leaf\n999', 'mid;dle', '']}, {count: 5, frames: []}];
  const text = foldedStacks(hostile);
  assert.equal(text, '[unknown] 5\n[unknown];mid_dle;leaf_999 3\n');
  assert.deepEqual(parseFolded(text).map(line => line.count), [5, 3], 'every stack stays one line with its own count');
});

test('stacks that fold alike are summed; empty, zero and negative weights are left out', () => {
  const stacks: StackRow[] = [
    {count: 2, bytes: -100, frames: ['brk', 'a;b']},
    {count: 3, bytes: 50, frames: ['brk', 'a_b']},
    {count: 0, bytes: 0, frames: ['brk', 'idle']},
  ];
  assert.equal(foldedStacks(stacks), 'a_b;brk 5\n');
  assert.equal(foldedStacks(stacks, 'bytes'), 'a_b;brk 50\n', 'a shrinking brk stack has no place in a flame graph of growth');
});

test('the file name is memtop-<tab>-<pid>-<UTC time>.folded and cannot be steered elsewhere', () => {
  assert.equal(foldedFileName('malloc', 4242, new Date('2025-03-04T05:06:07.890Z')), 'memtop-malloc-4242-20250304T050607Z.folded');
  assert.throws(() => foldedFileName('../etc' as 'malloc', 1, new Date()), /unknown tab/);
  assert.throws(() => foldedFileName('brk', -1, new Date()), /not a PID/);
  assert.throws(() => foldedFileName('brk', 1.5, new Date()), /not a PID/);
  assert.equal(foldedFileName('slab', {cache: 'kmalloc-64'}, new Date('2025-03-04T05:06:07.890Z')), 'memtop-slab-cache-kmalloc-64-20250304T050607Z.folded');
  assert.throws(() => foldedFileName('slab', {cache: '../../etc/passwd'}, new Date()), /not a cache name/);
  assert.throws(() => foldedFileName('slab', {cache: ''}, new Date()), /not a cache name/);
});

test('writeFoldedFile writes a new file and never overwrites one', () => {
  const now = new Date('2025-03-04T05:06:07Z');
  const first = writeFoldedFile(dir, 77, 'slab', foldedStacks(STACKS), {now});
  assert.equal(first, join(dir, 'memtop-slab-77-20250304T050607Z.folded'));
  assert.deepEqual(parseFolded(readFileSync(first, 'utf8')).map(line => line.count), [7, 42]);
  const second = writeFoldedFile(dir, 77, 'slab', foldedStacks(STACKS.slice(0, 1), 'bytes'), {now});
  assert.equal(second, join(dir, 'memtop-slab-77-20250304T050607Z-2.folded'));
  assert.equal(readFileSync(second, 'utf8'), 'main;wl_outer;wl_leaf;malloc 4200\n');
  assert.deepEqual(parseFolded(readFileSync(first, 'utf8')).length, 2, 'the first file is untouched');

  writeFileSync(join(dir, 'target'), 'keep');
  symlinkSync(join(dir, 'target'), join(dir, 'memtop-brk-1-20250304T050607Z.folded'));
  const beside = writeFoldedFile(dir, 1, 'brk', foldedStacks(STACKS), {now});
  assert.match(beside, /-2\.folded$/);
  assert.equal(readFileSync(join(dir, 'target'), 'utf8'), 'keep', 'a planted link is not followed');
  assert.throws(() => writeFoldedFile(join(dir, 'missing'), 1, 'brk', foldedStacks(STACKS)), /^Error: cannot write stacks to .*missing: ENOENT/);
  assert.ok(readdirSync(dir).every(name => /^(target|memtop-[a-z]+-\d+-\d{8}T\d{6}Z(-\d+)?\.folded)$/.test(name)));
});
