// source/'s layers, checked on its import statements: the pure layers (registry, tabs, types, format,
// model, parse, state) do no I/O and import no I/O layer; system/ (what /proc and /sys say) and
// backends/ (tracer processes) import no UI; and no module imports itself round a cycle.
import assert from 'node:assert/strict';
import {readdirSync, readFileSync, statSync} from 'node:fs';
import path from 'node:path';
import {test} from 'node:test';
import {fileURLToPath} from 'node:url';

const SOURCE = fileURLToPath(new URL('../source/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? files(file) : /\.tsx?$/.test(name) ? [file] : [];
  });
}

/** Each module (relative to source/, without extension) and what it imports: modules and packages. */
const graph = new Map<string, {modules: string[]; packages: string[]}>();
for (const file of files(SOURCE)) {
  const id = path.relative(SOURCE, file).replace(/\.tsx?$/, '');
  const modules: string[] = [];
  const packages: string[] = [];
  for (const match of readFileSync(file, 'utf8').matchAll(/^(import type|import|export)\b[^;]*?from '([^']+)';/gms)) {
    const target = match[2]!;
    if (target.startsWith('.')) modules.push(path.relative(SOURCE, path.resolve(path.dirname(file), target)).replace(/\.js$/, ''));
    // A type from a package (Ink's Key) is no I/O.
    else if (match[1] !== 'import type') packages.push(target);
  }
  // Dynamic imports load the TUI late (cli.tsx): they are edges too.
  for (const match of readFileSync(file, 'utf8').matchAll(/import\('(\.[^']+)'\)/g)) modules.push(path.relative(SOURCE, path.resolve(path.dirname(file), match[1]!)).replace(/\.js$/, ''));
  graph.set(id, {modules, packages});
}

const layerOf = (id: string): string => (id.includes('/') ? id.split('/')[0]! : id);
const PURE = new Set(['registry', 'tabs', 'types', 'format', 'model', 'parse', 'state']);
const IO_PACKAGES = /^(node:(fs|child_process|net|http|os|process)|execa|ink|react)(\/|$)/;

test('source/ was read', () => {
  assert.ok(graph.size > 30, `${graph.size} modules`);
  assert.ok(graph.has('registry') && graph.has('model/table'));
});

test('the pure layers do no I/O and import only pure layers', () => {
  for (const [id, {modules, packages}] of graph) {
    if (!PURE.has(layerOf(id))) continue;
    for (const pkg of packages) assert.doesNotMatch(pkg, IO_PACKAGES, `${id} imports ${pkg}`);
    for (const module of modules) assert.ok(PURE.has(layerOf(module)), `${id} (pure) imports ${module}`);
  }
});

test('system/ and backends/ import no UI, no state and no CLI', () => {
  for (const [id, {modules, packages}] of graph) {
    if (!['system', 'backends'].includes(layerOf(id))) continue;
    for (const module of modules) assert.ok(!['ui', 'state', 'app', 'cli', 'batch'].includes(layerOf(module)), `${id} imports ${module}`);
    for (const pkg of packages) assert.ok(!/^(ink|react)$/.test(pkg), `${id} imports ${pkg}`);
    if (layerOf(id) === 'system') for (const module of modules) assert.notEqual(layerOf(module), 'backends', `${id} imports ${module}`);
  }
});

test('exporter/ imports no UI and no state, and only cli loads it', () => {
  for (const [id, {modules, packages}] of graph) {
    if (layerOf(id) === 'exporter') {
      for (const module of modules) assert.ok(!['ui', 'state', 'app', 'cli', 'batch'].includes(layerOf(module)), `${id} imports ${module}`);
      for (const pkg of packages) assert.ok(!/^(ink|react)$/.test(pkg), `${id} imports ${pkg}`);
    } else if (id !== 'cli') {
      for (const module of modules) assert.notEqual(layerOf(module), 'exporter', `${id} imports ${module}: only cli loads the exporter (and prom-client)`);
    }
  }
});

test('no import cycles', () => {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, trail: string[]): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') assert.fail(`import cycle: ${[...trail.slice(trail.indexOf(id)), id].join(' -> ')}`);
    state.set(id, 'visiting');
    for (const next of graph.get(id)?.modules ?? []) visit(next, [...trail, id]);
    state.set(id, 'done');
  };
  for (const id of graph.keys()) visit(id, []);
});
