// memtop's build-time changes to Ink and the packages it draws with, applied to the installed
// ones: each still finds what it changes, the measure cache it bounds really forgets old texts,
// and string-width with its fast path measures exactly what it measured without.
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, test} from 'node:test';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {INK_PATCHES, MEASURE_CACHE_ENTRIES} from '../source/tools/ink-patches.js';

const NODE_MODULES = fileURLToPath(new URL('../node_modules/', import.meta.url));

test('every patch applies to the installed Ink', () => {
  for (const patch of INK_PATCHES) assert.doesNotThrow(() => patch.apply(readFileSync(NODE_MODULES + patch.file, 'utf8')), patch.file);
  assert.throws(() => INK_PATCHES.find(patch => patch.file === 'ink/build/measure-text.js')!.apply('export default () => 0;'), /measure-text\.js has changed/);
  assert.throws(() => INK_PATCHES.find(patch => patch.file === 'string-width/index.js')!.apply('export default () => 0;'), /string-width's index\.js has changed/);
});

test("the patched measure cache keeps a text while it is drawn and forgets it after 2 generations of others", async () => {
  const patch = INK_PATCHES.find(candidate => candidate.file === 'ink/build/measure-text.js')!;
  const source = patch.apply(readFileSync(NODE_MODULES + patch.file, 'utf8')).replace("import widestLine from 'widest-line';", 'const widestLine = text => text.length;');
  const directory = mkdtempSync(path.join(os.tmpdir(), 'memtop-ink-patch-'));
  after(() => rmSync(directory, {recursive: true, force: true}));
  writeFileSync(path.join(directory, 'measure-text.mjs'), source);
  const {default: measure} = (await import(pathToFileURL(path.join(directory, 'measure-text.mjs')).href)) as {default: (text: string) => {width: number}};
  const title = measure('PID COMM');
  for (let index = 0; index < MEASURE_CACHE_ENTRIES; index++) measure(`row ${index}`);
  assert.equal(measure('PID COMM'), title, 'still cached one generation later');
  for (let index = 0; index < 2 * MEASURE_CACHE_ENTRIES; index++) measure(`next ${index}`);
  assert.notEqual(measure('PID COMM'), title, 'forgotten: the cache is bounded');
  assert.deepEqual(measure('PID COMM'), {width: 8, height: 1});
});

test('string-width with the one-cell fast path measures every text as it did without', async () => {
  const patch = INK_PATCHES.find(candidate => candidate.file === 'string-width/index.js')!;
  const original = readFileSync(NODE_MODULES + patch.file, 'utf8');
  assert.notEqual(patch.apply(original), original);
  // The patched copy sits beside the original, so that its imports resolve alike.
  const copy = path.join(NODE_MODULES, 'string-width', `memtop-patched-${process.pid}.js`);
  writeFileSync(copy, patch.apply(original));
  after(() => rmSync(copy, {force: true}));
  const {default: patched} = (await import(pathToFileURL(copy).href)) as {default: (text: string) => number};
  const {default: unpatched} = (await import('string-width')) as {default: (text: string) => number};
  const texts = [
    '  1234 bash        12.3k   ▁▂▃▄▅▆▇█  99',
    'PID ▼ALLOCS ▲TOTAL',
    'every path starts a ← b ← c, then:',
    'probe x · bpftrace · every 1.0s · all ▁▂█',
    'cut…', '×2', '↑↓→',
    '测试进程名字 ▁▂', 'e\u0301 ▁', '👍 ▁', '\u001b[7m▁▂\u001b[27m', '\u200b▁', '',
  ];
  for (const text of texts) assert.equal(patched(text), unpatched(text), JSON.stringify(text));
});
