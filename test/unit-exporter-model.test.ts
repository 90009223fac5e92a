// The exporter's metrics model on plain inputs: names and help from the registry (a tab or view
// added later exports with no exporter change), counters that never go backwards across tracer
// restarts, the top N label sets plus one `other` series, and bounded memory under churn.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {TABS, TAB_IDS, type TabDefinition} from '../source/registry.js';
import {exportedViews, GAUGE_VIEWS, labelNames, MetricsModel, otherLabels, rowsOfView, type Series} from '../source/model/metrics.js';
import type {RawRow} from '../source/types.js';
import {processLabels} from '../source/exporter/serve.js';
import {CgroupCache} from '../source/system/cgroups.js';

const byComm = (row: RawRow): Record<string, string> => (row.cache !== undefined ? {cache: row.cache} : {comm: row.comm ?? '?', cgroup: 'test/cg'});
const withPid = (row: RawRow): Record<string, string> => ({comm: row.comm ?? '?', cgroup: 'test/cg', pid: String(row.pid)});

function seriesOf(model: MetricsModel, name: string): Series[] {
  const family = model.family(name);
  assert.ok(family, `no metric ${name}`);
  return family.series;
}

function valueOf(model: MetricsModel, name: string, comm: string): number | undefined {
  return seriesOf(model, name).find(series => series.labels.comm === comm)?.value;
}

const PROMETHEUS_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

test('every registry measure with a metric is a counter named memtop_<name>_total or a gauge named memtop_<name>, bytes in _bytes(_total), pages said in the help', () => {
  const views = exportedViews(TAB_IDS, TABS, GAUGE_VIEWS);
  const metrics = views.flatMap(view => view.metrics);
  const names = metrics.map(metric => metric.name);
  for (const name of ['memtop_malloc_calls_total', 'memtop_malloc_bytes_total', 'memtop_brk_calls_total', 'memtop_heap_growth_bytes_total', 'memtop_slab_allocations_total', 'memtop_slab_bytes_total', 'memtop_slab_cache_allocations_total', 'memtop_slab_cache_bytes_total', 'memtop_major_faults_total', 'memtop_anon_pageins_total']) {
    assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  }
  assert.equal(new Set(names).size, names.length, 'no two measures share a metric name');
  for (const tab of TAB_IDS) {
    for (const view of TABS[tab].views) {
      for (const measure of view.measures) {
        if (!measure.metric) continue;
        // The exporter exports counters and gauges: a max does not add up and has no value now.
        assert.notEqual(measure.kind, 'max', `${tab} ${view.id} ${measure.id}: a max names no metric`);
        const metric = metrics.find(candidate => candidate.tab === tab && candidate.view === view.id && candidate.measure === measure.id)!;
        assert.equal(metric.type, measure.kind);
        assert.match(metric.name, PROMETHEUS_NAME);
        const suffix = measure.kind === 'counter' ? '_total' : '';
        assert.match(metric.name, measure.kind === 'counter' ? /^memtop_[a-z0-9_]+_total$/ : /^memtop_[a-z0-9_]+[a-z0-9](?<!_total)$/);
        if (measure.unit === 'bytes') assert.ok(metric.name.endsWith(`_bytes${suffix}`), `${metric.name} is in bytes`);
        else assert.ok(!metric.name.endsWith(`_bytes${suffix}`), `${metric.name} is not in bytes`);
        if (measure.unit === 'pages') assert.match(metric.help, /pages/i, `${metric.name}'s help says pages`);
        // A time is exported in seconds, Prometheus' base unit.
        if (measure.unit === 'ms') assert.ok(/_seconds_total$/.test(metric.name) && metric.scale === 1 / 1000, `${metric.name} is in seconds`);
        else assert.equal(metric.scale, 1);
        assert.ok(metric.help.length > 0);
      }
    }
  }
  assert.equal(views.find(view => view.tab === 'slab' && view.view === 'cache')?.rows, 'cache');
  assert.deepEqual(labelNames('cache', true), ['cache']);
  assert.deepEqual(labelNames('process', false), ['comm', 'cgroup']);
  assert.deepEqual(labelNames('process', true), ['comm', 'cgroup', 'pid']);
});

test('a tab or a view added to the registry later is exported with no exporter change; a measure without a metric is not', () => {
  const registry: Record<string, TabDefinition> = {
    ...TABS,
    minfault: {
      ...TABS.majfault,
      title: 'minor faults',
      views: [{id: 'process', rows: 'process', label: 'by process', measures: [{id: 'count', title: 'FAULTS', totalTitle: 'TOTAL', unit: 'events', kind: 'counter', metric: {name: 'minor_faults', help: 'Minor page faults'}}]}],
    },
    malloc: {
      ...TABS.malloc,
      views: [
        ...TABS.malloc.views,
        {id: 'cache', rows: 'process', label: 'live', measures: [{id: 'count', title: 'LIVE', totalTitle: 'TOTAL', unit: 'events', kind: 'counter', metric: {name: 'malloc_live_calls', help: 'Calls still live'}}, {id: 'bytes', title: 'X', totalTitle: 'X', unit: 'bytes', kind: 'counter'}]},
      ],
    },
  };
  const names = exportedViews(['malloc', 'minfault'], registry).flatMap(view => view.metrics.map(metric => metric.name));
  assert.deepEqual(names, ['memtop_malloc_calls_total', 'memtop_malloc_bytes_total', 'memtop_malloc_live_calls_total', 'memtop_minor_faults_total']);
  const model = new MetricsModel(exportedViews(['minfault'], registry), {top: 5, pidLabel: false});
  model.record('minfault', 'process', [{pid: 1, comm: 'a', count: 3}], byComm, 0);
  assert.equal(valueOf(model, 'memtop_minor_faults_total', 'a'), 3);
});

test('reclaim\'s stall time is kept in ms and exported in seconds', () => {
  const model = new MetricsModel(exportedViews(['reclaim']), {top: 5, pidLabel: false});
  model.record('reclaim', 'process', [{pid: 10, comm: 'app', stallMs: 250, count: 40, maxMs: 30, pages: 900, throttled: 0}], byComm, 1000);
  model.record('reclaim', 'process', [{pid: 10, comm: 'app', stallMs: 1250, count: 10, maxMs: 900, pages: 100, throttled: 1}], byComm, 2000);
  assert.equal(valueOf(model, 'memtop_reclaim_stall_seconds_total', 'app'), 1.5);
  assert.equal(valueOf(model, 'memtop_reclaim_stalls_total', 'app'), 50);
  assert.equal(valueOf(model, 'memtop_reclaim_pages_total', 'app'), 1000);
  assert.equal(valueOf(model, 'memtop_reclaim_throttled_total', 'app'), 1);
});

test('counters add the per-interval values up, and never go backwards when the tracer restarts', () => {
  const model = new MetricsModel(exportedViews(['brk']), {top: 5, pidLabel: false});
  model.record('brk', 'process', [{pid: 10, comm: 'app', count: 100, bytes: 4096}], byComm, 1000);
  model.record('brk', 'process', [{pid: 10, comm: 'app', count: 50, bytes: -8192}], byComm, 2000);
  model.tracerState('brk', 'process', true);
  model.tracerRestarted('brk', 'process');
  // A restarted tracer starts from zero: its first interval is just that interval's values.
  model.record('brk', 'process', [{pid: 10, comm: 'app', count: 7, bytes: 1024}], byComm, 5000);
  assert.equal(valueOf(model, 'memtop_brk_calls_total', 'app'), 157);
  // An interval where the heap shrank adds nothing: a counter never goes down.
  assert.equal(valueOf(model, 'memtop_heap_growth_bytes_total', 'app'), 5120);
  assert.deepEqual(model.tracers(), [{tab: 'brk', up: false, restarts: 1, skippedLines: 0}]);
});

test('two processes of one name and cgroup are one label set; with the pid label they are two', () => {
  const rows = [{pid: 1, comm: 'worker', count: 2}, {pid: 2, comm: 'worker', count: 3}];
  const model = new MetricsModel(exportedViews(['majfault']), {top: 5, pidLabel: false});
  model.record('majfault', 'process', rows, byComm, 0);
  assert.deepEqual(seriesOf(model, 'memtop_major_faults_total'), [
    {labels: {comm: 'worker', cgroup: 'test/cg'}, value: 5},
    {labels: {comm: 'other', cgroup: 'other'}, value: 0},
  ]);
  const perPid = new MetricsModel(exportedViews(['majfault']), {top: 5, pidLabel: true});
  perPid.record('majfault', 'process', rows, withPid, 0);
  assert.deepEqual(
    seriesOf(perPid, 'memtop_major_faults_total').map(series => series.labels),
    [{comm: 'worker', cgroup: 'test/cg', pid: '1'}, {comm: 'worker', cgroup: 'test/cg', pid: '2'}, {comm: 'other', cgroup: 'other', pid: 'other'}],
  );
});

test('the top N label sets have series; the rest add up in other, which only ever increases', () => {
  const model = new MetricsModel(exportedViews(['majfault']), {top: 2, pidLabel: false});
  model.record('majfault', 'process', [{comm: 'a', count: 100}, {comm: 'b', count: 50}, {comm: 'c', count: 1}], byComm, 1000);
  let series = seriesOf(model, 'memtop_major_faults_total');
  assert.deepEqual(series.map(one => one.labels.comm).sort(), ['a', 'b', 'other']);
  assert.equal(valueOf(model, 'memtop_major_faults_total', 'other'), 1);
  // c gets busier than the weakest exposed one, but not by the hysteresis factor: nothing changes.
  model.record('majfault', 'process', [{comm: 'c', count: 60}], byComm, 2000);
  assert.equal(valueOf(model, 'memtop_major_faults_total', 'c'), undefined);
  assert.equal(valueOf(model, 'memtop_major_faults_total', 'other'), 61);
  // Now c is far busier than b: c takes b's place with its full total (this interval's 500 go
  // to its own series, not to other); b's later increments go to other.
  model.record('majfault', 'process', [{comm: 'c', count: 500}], byComm, 3000);
  assert.equal(valueOf(model, 'memtop_major_faults_total', 'c'), 561);
  assert.equal(valueOf(model, 'memtop_major_faults_total', 'b'), undefined);
  assert.equal(valueOf(model, 'memtop_major_faults_total', 'other'), 61);
  model.record('majfault', 'process', [{comm: 'b', count: 5}], byComm, 4000);
  assert.equal(valueOf(model, 'memtop_major_faults_total', 'other'), 66);
  series = seriesOf(model, 'memtop_major_faults_total');
  assert.ok(series.length <= 3);
});

test('a label set idle for longer than idleMs loses its series; its totals stay and come back with it', () => {
  const model = new MetricsModel(exportedViews(['majfault']), {top: 1, pidLabel: false, idleMs: 10_000});
  const faults = (comm: string) => valueOf(model, 'memtop_major_faults_total', comm);
  model.record('majfault', 'process', [{comm: 'a', count: 10}, {comm: 'b', count: 1}], byComm, 0);
  assert.deepEqual([faults('a'), faults('b'), faults('other')], [10, undefined, 1]);
  // a has been idle for 20 s: b takes the free place (its 100 of this interval in its own series).
  model.record('majfault', 'process', [{comm: 'b', count: 100}], byComm, 20_000);
  assert.deepEqual([faults('a'), faults('b'), faults('other')], [undefined, 101, 1]);
  // a is back but far below b: no series, its increments go to other.
  model.record('majfault', 'process', [{comm: 'a', count: 3}], byComm, 21_000);
  assert.deepEqual([faults('a'), faults('b'), faults('other')], [undefined, 101, 4]);
  // a outgrows b: its series comes back with its whole total, and b's goes.
  model.record('majfault', 'process', [{comm: 'a', count: 1000}], byComm, 22_000);
  assert.deepEqual([faults('a'), faults('b'), faults('other')], [1013, undefined, 4]);
});

test('a real label set that reads like other adds to other instead of making a second series', () => {
  const model = new MetricsModel(exportedViews(['slab']), {top: 5, pidLabel: false});
  model.record('slab', 'cache', [{cache: 'other', count: 4, bytes: 64}, {cache: 'filp', count: 1, bytes: 256}], byComm, 0);
  const series = seriesOf(model, 'memtop_slab_cache_allocations_total');
  assert.deepEqual(series, [{labels: {cache: 'filp'}, value: 1}, {labels: otherLabels('cache', false), value: 4}]);
});

test('churn: thousands of short-lived label sets keep at most N+1 series per metric, bounded memory, and every counter monotonic', () => {
  const top = 10;
  const maxTracked = 300;
  const model = new MetricsModel(exportedViews(['brk']), {top, pidLabel: true, maxTracked});
  const steady = {pid: 1, comm: 'steady', count: 1000, bytes: 65536};
  const last = new Map<string, number>();
  let pid = 100;
  for (let second = 0; second < 300; second++) {
    // ~2,000 new processes a minute, each doing a few brk calls in its one interval.
    const rows: RawRow[] = [steady];
    for (let index = 0; index < 34; index++) rows.push({pid: pid++, comm: `churn_${pid}`, count: 3 + (index % 5), bytes: 4096});
    model.record('brk', 'process', rows, withPid, second * 1000);
    for (const name of ['memtop_brk_calls_total', 'memtop_heap_growth_bytes_total']) {
      const series = seriesOf(model, name);
      assert.ok(series.length <= top + 1, `${series.length} series of ${name} at ${second} s`);
      for (const one of series) {
        const key = `${name}${JSON.stringify(one.labels)}`;
        assert.ok(one.value >= (last.get(key) ?? 0), `${key} went from ${last.get(key)} to ${one.value}`);
        last.set(key, one.value);
      }
    }
    assert.ok(model.trackedCount('brk', 'process') <= maxTracked, `${model.trackedCount('brk', 'process')} label sets tracked`);
  }
  assert.equal(seriesOf(model, 'memtop_brk_calls_total').find(series => series.labels.comm === 'steady')?.value, 300_000);
  // Most churn never had a series: it is in other.
  const churn = [...Array(300 * 34).keys()].reduce((sum, index) => sum + 3 + ((index % 34) % 5), 0);
  const other = seriesOf(model, 'memtop_brk_calls_total').find(series => series.labels.comm === 'other')!.value;
  assert.ok(other > churn / 2 && other <= churn, `other ${other}, churn ${churn}`);
});

test('tracer health: skipped lines are counted across restarts, up is every view of the tab', () => {
  const model = new MetricsModel(exportedViews(['slab']), {top: 5, pidLabel: false});
  model.tracerState('slab', 'process', true);
  assert.equal(model.tracers()[0]!.up, false, 'the cache view has not run yet');
  model.tracerState('slab', 'cache', true);
  model.tracerSkipped('slab', 'process', 3);
  model.tracerSkipped('slab', 'process', 5);
  model.tracerRestarted('slab', 'process');
  model.tracerSkipped('slab', 'process', 2);
  assert.deepEqual(model.tracers(), [{tab: 'slab', up: false, restarts: 1, skippedLines: 7}]);
});

test('rowsOfView takes a view from a snapshot that measured it alongside another (SystemTap prints both slab views)', () => {
  const snapshot = {tab: 'slab' as const, view: 'process' as const, rows: [{pid: 1, count: 1}], otherViews: {cache: [{cache: 'filp', count: 2}]}};
  assert.deepEqual(rowsOfView(snapshot, 'process'), [{pid: 1, count: 1}]);
  assert.deepEqual(rowsOfView(snapshot, 'cache'), [{cache: 'filp', count: 2}]);
  assert.equal(rowsOfView({tab: 'slab', view: 'process', rows: []}, 'cache'), undefined);
});

test('the live view exports gauges only when named: the latest interval per label set, the top N, other only when something is in it', () => {
  assert.ok(!exportedViews(TAB_IDS).some(view => view.gauge), 'no gauges unless asked');
  const views = exportedViews([], TABS, GAUGE_VIEWS);
  assert.deepEqual(views.map(view => [view.tab, view.view, view.metrics.map(metric => [metric.name, metric.type])]), [['malloc', 'live', [['memtop_live_bytes', 'gauge'], ['memtop_live_allocations', 'gauge']]]]);
  const model = new MetricsModel(views, {top: 2, pidLabel: false});
  const byComm = (row: RawRow) => ({comm: String(row.comm), cgroup: '/'});
  model.record('malloc', 'live', [{pid: 1, comm: 'a', bytes: 100, count: 2}, {pid: 2, comm: 'b', bytes: 50, count: 1}], byComm, 0);
  assert.deepEqual(model.family('memtop_live_bytes')!.series, [{labels: {comm: 'a', cgroup: '/'}, value: 100}, {labels: {comm: 'b', cgroup: '/'}, value: 50}]);
  // Two processes of one name are one label set; a third name goes to other; values are now's, not sums over time.
  model.record('malloc', 'live', [{pid: 1, comm: 'a', bytes: 10, count: 1}, {pid: 3, comm: 'a', bytes: 15, count: 1}, {pid: 2, comm: 'b', bytes: 40, count: 4}, {pid: 4, comm: 'c', bytes: 7, count: 3}], byComm, 1000);
  assert.deepEqual(model.family('memtop_live_bytes')!.series, [{labels: {comm: 'b', cgroup: '/'}, value: 40}, {labels: {comm: 'a', cgroup: '/'}, value: 25}, {labels: {comm: 'other', cgroup: 'other'}, value: 7}]);
  assert.deepEqual(model.family('memtop_live_allocations')!.series.map(series => series.value), [4, 2, 3]);
  // A process that exited has no series.
  model.record('malloc', 'live', [{pid: 2, comm: 'b', bytes: 40, count: 4}], byComm, 2000);
  assert.deepEqual(model.family('memtop_live_bytes')!.series, [{labels: {comm: 'b', cgroup: '/'}, value: 40}]);
});

test('gauges beside counters (the growth tab\'s RSS and untouched bytes) come with them, no --export needed: the exposed label sets\' values now, other only when something is in it', () => {
  const views = exportedViews(['growth']);
  assert.deepEqual(
    views.map(view => view.metrics.map(metric => [metric.name, metric.type])),
    [[['memtop_resident_anon_bytes_total', 'counter'], ['memtop_resident_file_bytes_total', 'counter'], ['memtop_resident_released_bytes_total', 'counter'], ['memtop_resident_bytes', 'gauge'], ['memtop_untouched_bytes', 'gauge']]],
  );
  assert.ok(!GAUGE_VIEWS.some(view => view.tab === 'growth'), 'the growth view is not one --export names as a gauge view');
  const model = new MetricsModel(views, {top: 1, pidLabel: false});
  const byComm = (row: RawRow) => ({comm: String(row.comm), cgroup: '/'});
  // a grows; b only has an RSS (printed every interval for every process seen): it is not ranked, its RSS is other's.
  model.record('growth', 'process', [{pid: 1, comm: 'a', anon: 4096, file: 0, freed: 0, rss: 1_000_000, count: 1}, {pid: 2, comm: 'b', anon: 0, file: 0, freed: 0, rss: 300, count: 1}], byComm, 0);
  assert.deepEqual(model.family('memtop_resident_bytes')!.series, [{labels: {comm: 'a', cgroup: '/'}, value: 1_000_000}, {labels: {comm: 'other', cgroup: 'other'}, value: 300}]);
  assert.equal(valueOf(model, 'memtop_resident_anon_bytes_total', 'a'), 4096);
  // The next interval's values, not sums over time; two processes of one name add up.
  model.record('growth', 'process', [{pid: 1, comm: 'a', anon: 0, file: 0, freed: 0, rss: 900_000, count: 1}, {pid: 3, comm: 'a', anon: 8192, file: 0, freed: 0, rss: 50_000, count: 1}], byComm, 1000);
  assert.deepEqual(model.family('memtop_resident_bytes')!.series, [{labels: {comm: 'a', cgroup: '/'}, value: 950_000}]);
  assert.equal(valueOf(model, 'memtop_resident_anon_bytes_total', 'a'), 12_288);
  // A label set with no row this interval (its processes exited) has no RSS series; its counters stay.
  model.record('growth', 'process', [{pid: 2, comm: 'b', anon: 0, file: 0, freed: 0, rss: 300, count: 1}], byComm, 2000);
  assert.deepEqual(model.family('memtop_resident_bytes')!.series, [{labels: {comm: 'other', cgroup: 'other'}, value: 300}]);
  assert.equal(valueOf(model, 'memtop_resident_anon_bytes_total', 'a'), 12_288);
});

test('processLabels: a process the tracer saw exit keeps the cgroup memtop last read for it, and /proc is not asked', () => {
  const reads: number[] = [];
  const cgroups = new CgroupCache({read: pid => {
    reads.push(pid);
    return {path: `/system.slice/p${pid}.service`, label: `p${pid}`};
  }});
  assert.deepEqual(processLabels({pid: 7, comm: 'a', count: 1}, cgroups, false), {comm: 'a', cgroup: 'p7'});
  assert.deepEqual(processLabels({pid: 7, comm: 'a', count: 1}, cgroups, false, new Set([7])), {comm: 'a', cgroup: 'p7'}, 'read while it ran');
  assert.deepEqual(processLabels({pid: 8, comm: 'b', count: 1}, cgroups, true, new Set([8])), {comm: 'b', cgroup: 'unknown', pid: '8'}, 'never read');
  assert.deepEqual(reads, [7]);
});
