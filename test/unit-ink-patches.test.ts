// memtop's build-time changes to Ink and the packages it draws with, applied to the installed
// ones: each still finds what it changes, the measure cache it bounds really forgets old texts,
// and string-width with its fast path measures exactly what it measured without.
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, test} from 'node:test';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {INK_PATCHES, MEASURE_CACHE_ENTRIES, MEASURE_CACHE_MAX_LENGTH} from '../source/tools/ink-patches.js';

const NODE_MODULES = fileURLToPath(new URL('../node_modules/', import.meta.url));

test('every patch applies to the installed Ink', () => {
  for (const patch of INK_PATCHES) assert.doesNotThrow(() => patch.apply(readFileSync(NODE_MODULES + patch.file, 'utf8')), patch.file);
  assert.throws(() => INK_PATCHES.find(patch => patch.file === 'ink/build/measure-text.js')!.apply('export default () => 0;'), /measure-text\.js has changed/);
  assert.throws(() => INK_PATCHES.find(patch => patch.file === 'string-width/index.js')!.apply('export default () => 0;'), /string-width's index\.js has changed/);
});

test("the patched measure cache keeps a text while it is drawn and forgets it after 2 generations of others", async () => {
  const patch = INK_PATCHES.find(candidate => candidate.file === 'ink/build/measure-text.js')!;
  const source = patch.apply(readFileSync(NODE_MODULES + patch.file, 'utf8')).replace("import widestLine from 'widest-line';", 'const widestLine = text => Math.max(...text.split(\'\\n\').map(line => line.length));');
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
  // A long text (a frame's rows) is measured, and not kept to be found again.
  const lines = Math.ceil(MEASURE_CACHE_MAX_LENGTH / 20) + 1;
  const rows = Array.from({length: lines}, (_, index) => `row ${index}`.padEnd(20)).join('\n');
  const measured = measure(rows);
  assert.deepEqual(measured, {width: 20, height: lines});
  assert.notEqual(measure(rows), measured, 'measured again');
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

test("Ink's output with plain rows joined as text is byte for byte what Ink's grid makes, on random frames", async () => {
  const patch = INK_PATCHES.find(candidate => candidate.file === 'ink/build/output.js')!;
  const copy = path.join(NODE_MODULES, 'ink', 'build', `memtop-patched-output-${process.pid}.js`);
  writeFileSync(copy, patch.apply(readFileSync(NODE_MODULES + patch.file, 'utf8')));
  after(() => rmSync(copy, {force: true}));
  type Output = {write(x: number, y: number, text: string, options: {transformers: ((line: string, index: number) => string)[]}): void; clip(clip: Record<string, number | undefined>): void; unclip(): void; get(): {output: string; height: number}};
  type OutputClass = new (options: {width: number; height: number}) => Output;
  const {default: Patched} = (await import(pathToFileURL(copy).href)) as {default: OutputClass};
  const {default: Original} = (await import(pathToFileURL(NODE_MODULES + patch.file).href)) as {default: OutputClass};
  // A small deterministic generator, so that a failure names a frame that can be drawn again.
  let seed = 16;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const ESC = '\u001b';
  const pieces = ['  1234 bash', 'PID COMM', '   ', '▁▂▃█', '▲', '…', ' · ', '×', '←', '测试', 'e\u0301', '👍', '\t', `${ESC}[7mPID${ESC}[27m`, `${ESC}[36m▁▂${ESC}[39m`, `${ESC}[1mbold`, 'x'];
  const text = () => Array.from({length: 1 + Math.floor(random() * 3)}, () => Array.from({length: Math.floor(random() * 5)}, () => pick(pieces)).join('')).join('\n');
  const inverse = (line: string) => `${ESC}[7m${line}${ESC}[27m`;
  for (let frame = 0; frame < 3000; frame++) {
    const width = 1 + Math.floor(random() * 40);
    const height = 1 + Math.floor(random() * 8);
    const outputs = [new Original({width, height}), new Patched({width, height})];
    const operations: string[] = [];
    let clips = 0;
    for (let count = Math.floor(random() * 8); count > 0; count--) {
      const choice = random();
      if (choice < 0.12) {
        const clip = {x1: random() < 0.5 ? Math.floor(random() * width) : undefined, x2: random() < 0.5 ? Math.floor(random() * width) : undefined, y1: random() < 0.5 ? Math.floor(random() * height) : undefined, y2: random() < 0.5 ? Math.floor(random() * height) : undefined};
        clip.x2 = clip.x1 === undefined ? undefined : clip.x2 ?? width;
        clip.y2 = clip.y1 === undefined ? undefined : clip.y2 ?? height;
        for (const output of outputs) output.clip(clip);
        operations.push(`clip ${JSON.stringify(clip)}`);
        clips++;
      } else if (choice < 0.18 && clips > 0) {
        for (const output of outputs) output.unclip();
        operations.push('unclip');
        clips--;
      } else {
        const x = pick([0, 0, 1, 3, 7, width - 2, width, width + 3, -1]);
        const y = pick([0, 0, 1, 2, height - 1, height, -1]);
        const written = text();
        const transformers = random() < 0.2 ? [inverse] : [];
        for (const output of outputs) output.write(x, y, written, {transformers});
        operations.push(`write ${x},${y} ${JSON.stringify(written)}${transformers.length ? ' inverse' : ''}`);
      }
    }
    const [original, patched] = outputs.map(output => output.get());
    assert.deepEqual(patched, original, `frame ${frame}, ${width}x${height}:\n${operations.join('\n')}`);
  }
});
