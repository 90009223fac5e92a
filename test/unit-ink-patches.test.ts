// memtop's build-time changes to Ink, applied to the installed Ink: each still finds what it
// changes, and the measure cache it bounds really forgets old texts.
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, test} from 'node:test';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {INK_PATCHES, MEASURE_CACHE_ENTRIES} from '../source/tools/ink-patches.js';

const INK = fileURLToPath(new URL('../node_modules/ink/', import.meta.url));

test('every patch applies to the installed Ink', () => {
  for (const patch of INK_PATCHES) assert.doesNotThrow(() => patch.apply(readFileSync(INK + patch.file, 'utf8')), patch.file);
  assert.throws(() => INK_PATCHES[0]!.apply('export default () => 0;'), /measure-text\.js has changed/);
});

test("the patched measure cache keeps a text while it is drawn and forgets it after 2 generations of others", async () => {
  const patch = INK_PATCHES.find(candidate => candidate.file === 'build/measure-text.js')!;
  const source = patch.apply(readFileSync(INK + patch.file, 'utf8')).replace("import widestLine from 'widest-line';", 'const widestLine = text => text.length;');
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
