// The registry against what it names: every script it lists exists for its tracer, every bpftrace
// map it reads is one the script prints each interval, the generated bpftrace scripts are current
// with their sources, and measures cannot collide with a row's own fields.
import assert from 'node:assert/strict';
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {test} from 'node:test';
import {fileURLToPath} from 'node:url';
import {isGaugeView, TABS, TAB_IDS, totalKey, type BpftraceRows, type BpftraceStacks, type ScriptChoice} from '../source/registry.js';
import {bpftraceFragments, declaredMaps, generateBpftraceScript} from '../source/tools/probe-generator.js';
import {README_BLOCKS, updateReadme} from '../source/tools/readme-tables.js';
import {columnHelp, columnsFor} from '../source/model/columns.js';

const PROBES = fileURLToPath(new URL('../probes/', import.meta.url));
const SOURCES = path.join(PROBES, 'src', 'bpftrace');

/** The map names (without a stats field) a row spec reads. */
function mapsOfRows(rows: BpftraceRows): string[] {
  const sources = Object.values(rows.measures).flatMap(measure => [...measure.from, ...(measure.minus ?? [])]);
  const live = rows.live ? Object.values(rows.live) : [];
  const sizes = Object.values(rows.objectBytes ?? {}).map(product => product.size);
  return [...sources, ...live, ...sizes, ...(rows.sizeClasses ? [rows.sizeClasses] : []), ...(rows.names ? [rows.names] : [])].map(source => source.split('.')[0]!);
}

function mapsOfStacks(read: BpftraceStacks): string[] {
  const sources = read.maps.flatMap(map => [map.count, ...(map.bytes ? [map.bytes] : []), ...(map.minus ? [map.minus] : [])]);
  const live = read.live ? Object.values(read.live).filter((value): value is string => typeof value === 'string') : [];
  return [...sources, ...live, ...(read.histogram ? [read.histogram] : []), ...(read.entryPoints ? [read.entryPoints] : [])].map(source => source.split('.')[0]!);
}

/** The maps a script prints every interval: cleared after (interval) or kept adding up (print). */
function printedMaps(script: ScriptChoice): string[] {
  const declared = declaredMaps(readFileSync(path.join(SOURCES, script.file), 'utf8'));
  return [...declared.interval, ...declared.print];
}

test('every script the registry names exists for its tracer', () => {
  for (const tab of TAB_IDS) {
    const definition = TABS[tab];
    const bpftrace = [...Object.values(definition.bpftrace.views).flatMap(view => [...view.scripts, ...(view.stacks ? [view.stacks.script] : [])]), definition.bpftrace.stacks.script];
    for (const script of bpftrace) {
      assert.ok(existsSync(path.join(PROBES, 'bpftrace', script.file)), `${tab}: probes/bpftrace/${script.file}`);
      assert.ok(existsSync(path.join(SOURCES, script.file)), `${tab}: probes/src/bpftrace/${script.file}`);
    }
    for (const tracer of ['stap', 'dtrace'] as const) {
      const scripts = [definition[tracer].script, definition[tracer].stacks, ...Object.values(definition[tracer].views ?? {}).flatMap(view => [view.script, view.stacks])];
      for (const script of scripts) assert.ok(existsSync(path.join(PROBES, tracer, script.file)), `${tab}: probes/${tracer}/${script.file}`);
    }
    for (const view of definition.views) {
      const own = definition.bpftrace.views[view.id]?.stacks !== undefined;
      for (const tracer of ['stap', 'dtrace'] as const) {
        assert.equal(definition[tracer].views?.[view.id] !== undefined, own, `${tab} ${view.id}: ${tracer} has its own scripts exactly where bpftrace has the view's own drill-down`);
      }
    }
  }
});

test('every bpftrace map the registry reads is one its script prints each interval', () => {
  for (const tab of TAB_IDS) {
    for (const [view, {scripts, rows}] of Object.entries(TABS[tab].bpftrace.views)) {
      assert.ok(TABS[tab].views.some(definition => definition.id === view), `${tab}: bpftrace view ${view} is one of the tab's views`);
      for (const script of scripts) {
        const printed = printedMaps(script);
        // A script that lacks a measure (an older kernel's fallback) need not print its maps.
        const given = {...rows, measures: Object.fromEntries(Object.entries(rows.measures).filter(([id]) => !script.lacks?.includes(id)))};
        for (const map of mapsOfRows(given)) assert.ok(printed.includes(map), `${tab} ${view}: ${script.file} prints @${map} (it prints ${printed.join(', ')})`);
        for (const id of script.lacks ?? []) assert.ok(id in rows.measures, `${tab} ${view}: ${script.file} lacks ${id}, a measure of the view`);
        for (const measure of TABS[tab].views.find(definition => definition.id === view)!.measures) {
          // A live view's rows are read whole from its maps: bytes, count and the oldest age; /proc gives a procStatus one.
          assert.ok(measure.id in rows.measures || measure.procStatus !== undefined || measure.id in (rows.objectBytes ?? {}) || (rows.live !== undefined && ['bytes', 'count', 'age'].includes(measure.id)), `${tab} ${view}: the registry says how bpftrace gives ${measure.id}`);
        }
      }
    }
    const drills = [TABS[tab].bpftrace.stacks, ...Object.values(TABS[tab].bpftrace.views).flatMap(view => (view.stacks ? [view.stacks] : []))];
    for (const {script, read} of drills) {
      const printed = printedMaps(script);
      for (const map of mapsOfStacks(read)) assert.ok(printed.includes(map), `${tab} stacks: ${script.file} prints @${map} (it prints ${printed.join(', ')})`);
    }
  }
});

test('the bpftrace scripts are current with their sources and the shared tick (npm run probes)', () => {
  const tick = readFileSync(path.join(SOURCES, 'tick.bt'), 'utf8');
  const fragments = bpftraceFragments(path.join(SOURCES, 'include'));
  const sources = readdirSync(SOURCES).filter(file => file.endsWith('.bt') && file !== 'tick.bt').sort();
  const generated = readdirSync(path.join(PROBES, 'bpftrace')).filter(file => file.endsWith('.bt')).sort();
  assert.deepEqual(generated, sources, 'one generated script per source, and no other');
  for (const file of sources) {
    const expected = generateBpftraceScript(file, readFileSync(path.join(SOURCES, file), 'utf8'), tick, fragments);
    assert.equal(readFileSync(path.join(PROBES, 'bpftrace', file), 'utf8'), expected, `probes/bpftrace/${file} is stale: run npm run probes`);
  }
});

test('the generator doubles a buffered block into parity halves and fills in the tick', () => {
  const source = 'kprobe:f\n{\n\t// memtop-double-buffer {\n\t@count[pid] = count();\n\t@other = 1;\n\t// }\n}\n\n// memtop-maps: interval=count state=seen\n';
  const tick = 'BEGIN {}\ninterval:ms:100\n{\n\tif (@memtop_parity) {\n\t\t// memtop-print a\n\t} else {\n\t\t// memtop-print b\n\t}\n}\nEND\n{\n\t// memtop-clear\n}\n';
  const script = generateBpftraceScript('x.bt', source, tick);
  assert.match(script, /if \(@memtop_parity\) \{\n\t\t@count_b\[pid\] = count\(\);\n\t\t@other = 1;\n\t\} else \{\n\t\t@count_a\[pid\] = count\(\);/);
  assert.match(script, /\t\tprint\(@count_a\);\n\t\tclear\(@count_a\);/);
  assert.match(script, /clear\(@count_a\);\n\tclear\(@count_b\);\n\tclear\(@seen\);\n\tclear\(@memtop_ticks\);/);
  assert.doesNotMatch(script, /memtop-maps|memtop-double-buffer/);
  assert.throws(() => generateBpftraceScript('y.bt', 'BEGIN {}\n', tick), /no "\/\/ memtop-maps/);
  assert.throws(() => generateBpftraceScript('z.bt', '\t// memtop-double-buffer {\n\t@a = 1;\n// memtop-maps: interval=a\n', tick), /not closed/);
});

test('the generator puts in fragments with their flagged blocks, expands defined blocks, and prints kept maps without clearing them', () => {
  const tick = 'BEGIN\n{\n\t// memtop-begin\n\t@memtop_ticks = 0;\n}\ninterval:ms:100\n{\n\tif (@memtop_parity) {\n\t\t// memtop-print a\n\t} else {\n\t\t// memtop-print b\n\t}\n\t// memtop-print kept\n}\nEND\n{\n\t// memtop-clear\n}\n';
  const fragment = '// memtop-define begin\n\t@start = nsecs;\n// memtop-end begin\n// memtop-define bump\n\t@live[pid] = sum(1);\n\t// memtop-if extra {\n\t@extra = count();\n\t// }\n// memtop-end bump\nkprobe:f\n{\n\tif (arg0) {\n\t\t// memtop-expand bump\n\t}\n}\n';
  const source = '// memtop-include shared.bt extra\n\n// memtop-maps: print=live state=start\n';
  const script = generateBpftraceScript('x.bt', source, tick, {'shared.bt': fragment});
  assert.match(script, /kprobe:f\n\{\n\tif \(arg0\) \{\n\t\t@live\[pid\] = sum\(1\);\n\t\t@extra = count\(\);\n\t\}/);
  assert.match(script, /BEGIN\n\{\n\t@start = nsecs;\n\t@memtop_ticks = 0;/);
  assert.match(script, /\t\}\n\tprint\(@live\);\n\}/, 'kept maps are printed after the parity branches');
  assert.doesNotMatch(script, /clear\(@live\);\n\}\nEND/);
  assert.match(script, /END\n\{\n\tclear\(@live\);\n\tclear\(@start\);/);
  assert.doesNotMatch(script, /memtop-(define|end|expand|include|if|begin)/);
  const without = generateBpftraceScript('y.bt', '// memtop-include shared.bt\n// memtop-maps: print=live\n', tick, {'shared.bt': fragment});
  assert.doesNotMatch(without, /@extra/, 'a block flagged for another script is left out');
  assert.throws(() => generateBpftraceScript('z.bt', '// memtop-include missing.bt\n// memtop-maps: print=live\n', tick, {}), /no fragment missing\.bt/);
  assert.throws(() => generateBpftraceScript('z.bt', '\t// memtop-expand nothing\n// memtop-maps: print=live\n', tick), /names no "\/\/ memtop-define nothing"/);
  assert.throws(() => generateBpftraceScript('z.bt', '// memtop-maps: state=live\n', tick), /names no map to print/);
});

test('measures never collide with a row\'s own fields, and every tab has a view and a key', () => {
  const own = new Set(['key', 'pid', 'comm', 'cache', 'rate', 'lastSeen', 'history']);
  for (const tab of TAB_IDS) {
    assert.ok(TABS[tab].views.length > 0, tab);
    assert.ok((TABS[tab].views.length > 1) === (TABS[tab].viewKey !== undefined), `${tab}: a view key exactly when there is a view to switch to`);
    for (const view of TABS[tab].views) {
      // The first measure ranks, rates and trends by default (reclaim's is stall time, live memory's live bytes); every view counts its events (a gauge view, those outstanding).
      assert.ok(view.measures.some(measure => measure.id === 'count' && (measure.kind === 'counter' || isGaugeView(view))), `${tab} ${view.id}: an event count`);
      assert.ok(view.measures.every(measure => measure.kind === 'gauge' || measure.totalTitle !== undefined), `${tab} ${view.id}: a counter or max adds up since start, so it has a total`);
      for (const measure of view.measures) {
        assert.ok(!own.has(measure.id) && !own.has(totalKey(measure.id)), `${tab}: measure ${measure.id}`);
        assert.match(measure.id, /^[a-z][A-Za-z]*$/, `${tab}: measure ${measure.id} is a JSON-friendly name`);
      }
    }
  }
  assert.ok(TAB_IDS.length <= 9, 'tab keys are single digits');
});

test('readme.md\'s tab and key tables are the ones the code makes (npm run readme)', () => {
  const readme = readFileSync(fileURLToPath(new URL('../readme.md', import.meta.url)), 'utf8');
  for (const [name, make] of Object.entries(README_BLOCKS)) {
    assert.ok(readme.includes(`<!-- generated: ${name} -->\n${make()}\n<!-- /generated -->`), `readme.md's ${name} table is stale: run npm run readme`);
  }
  assert.equal(updateReadme(readme), readme);
});

test('the help screen says what every column of every view shows, in words of its own', () => {
  for (const tab of Object.values(TABS)) {
    for (const view of tab.views) {
      const columns = columnsFor(view, {trend: {ascii: true}, allocatorOf: () => 'glibc', cgroupOf: () => '/'});
      const help = columnHelp(view, columns);
      assert.equal(help.length, columns.length);
      for (const [index, line] of help.entries()) {
        assert.notEqual(line.text, columns[index]!.id, `${tab.title} ${view.id}: column ${line.title} has no help`);
        assert.ok(!line.text.startsWith(`${line.title},`), `${tab.title} ${view.id}: column ${line.title} is described by its title only: give its measure a help`);
      }
    }
  }
});
