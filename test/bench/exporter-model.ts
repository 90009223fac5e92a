// What the exporter's metrics model (source/model/metrics.ts) costs memtop --serve under churn:
// intervals of rows from processes seen once (as the agent bench's churn makes them: a new pid in
// each row), through every default exported view, each interval 5 s after the last. Prints the
// median and 90th percentile of the time one interval takes, and what it allocates (V8's sampling
// heap profiler, objects the collector took back included): under --no-opt, as memtop runs,
// allocation is most of the cost, in the collector's time.
//
//   node --no-opt --max-semi-space-size=1 --import tsx test/bench/exporter-model.ts [--rows 500] [--intervals 200]
//
// (memtop's own Node flags, from source/cli.tsx's shebang: without them the figures are not
// memtop's.) No tracer and no root needed. No figure here is asserted anywhere.
import {Session} from 'node:inspector/promises';
import {performance} from 'node:perf_hooks';
import {parseArgs} from 'node:util';
import {DEFAULT_EXPORT} from '../../source/help.js';
import {exportedViews, MetricsModel} from '../../source/model/metrics.js';
import type {RawRow} from '../../source/types.js';
import {fixed, median} from './lib/stats.js';

const {values} = parseArgs({options: {rows: {type: 'string', default: '500'}, intervals: {type: 'string', default: '200'}}});
const rowsPerInterval = Number(values.rows);
const intervals = Number(values.intervals);
const INTERVAL_MS = 5000;

const views = exportedViews(DEFAULT_EXPORT, undefined, undefined);
const model = new MetricsModel(views, {top: 20, pidLabel: true});
let pid = 1000;
let now = Date.now();

/** One interval's rows: new processes, each with every measure any view reads (the views read what they know). */
function churnRows(): RawRow[] {
  return Array.from({length: rowsPerInterval}, () => {
    pid++;
    return {pid, comm: 'wl_churn', count: 3, bytes: 28_672, total: 5, anon: 40_960, file: 8192, freed: 100, grows: 12, net: 40_000, read_in: 4096, stall: 1000, pages: 2, rss: 100_000};
  });
}

const labelsOf = (row: RawRow) => ({pid: String(row.pid), comm: String(row.comm), cgroup: '/system.slice/churn.service', container: ''});

function recordInterval(rows: RawRow[]): void {
  now += INTERVAL_MS;
  for (const view of views) model.record(view.tab, view.view, rows, labelsOf, now);
}

// Warm up to the steady state (the tracked label sets at their bound), then time.
for (let at = 0; at < 20; at++) recordInterval(churnRows());
const times: number[] = [];
for (let at = 0; at < intervals; at++) {
  const rows = churnRows();
  const start = performance.now();
  recordInterval(rows);
  times.push(performance.now() - start);
}

// Allocation, over intervals whose rows were made beforehand.
const session = new Session();
session.connect();
const prepared = Array.from({length: 50}, churnRows);
await session.post('HeapProfiler.startSampling', {samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true} as never);
for (const rows of prepared) recordInterval(rows);
const {profile} = (await session.post('HeapProfiler.stopSampling')) as {profile: {head: ProfileNode}};
interface ProfileNode {
  selfSize: number;
  children: ProfileNode[];
}
const total = (node: ProfileNode): number => node.selfSize + node.children.reduce((sum, child) => sum + total(child), 0);
session.disconnect();

const sorted = [...times].sort((a, b) => a - b);
console.log(`metrics model, ${views.length} views, ${rowsPerInterval} new processes an interval (node ${process.execArgv.filter(flag => flag.startsWith('--') && !flag.startsWith('--import')).join(' ') || 'without memtop\'s flags'})`);
console.log(`  time an interval: median ${fixed(median(times), 2)} ms, 90th percentile ${fixed(sorted[Math.floor(sorted.length * 0.9)]!, 2)} ms (${intervals} intervals)`);
console.log(`  allocated an interval: ${fixed(total(profile.head) / prepared.length / 1e6, 1)} MB`);
console.log(`  share of a core at one interval every ${INTERVAL_MS / 1000} s: ${fixed((median(times) / INTERVAL_MS) * 100, 2)}%`);
