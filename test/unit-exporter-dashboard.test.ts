// The Grafana dashboard in the repository is the one the registry makes now (npm run readme
// writes it), and it has a row per tab with a panel for every exported metric.
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {test} from 'node:test';
import {fileURLToPath} from 'node:url';
import {exportedViews, SELF_METRICS} from '../source/model/metrics.js';
import {TABS, TAB_IDS} from '../source/registry.js';
import {DASHBOARD_FILE, grafanaDashboard, grafanaDashboardText} from '../source/tools/grafana-dashboard.js';

interface Panel {
  type: string;
  title: string;
  gridPos: {x: number; y: number; w: number; h: number};
  targets?: {expr: string}[];
}

test(`${DASHBOARD_FILE} is current: run npm run readme when the registry changes`, () => {
  const file = readFileSync(fileURLToPath(new URL(`../${DASHBOARD_FILE}`, import.meta.url)), 'utf8');
  assert.equal(file, grafanaDashboardText(), `${DASHBOARD_FILE} is stale: run npm run readme`);
});

test('a row per tab, a panel per exported metric under it, and the tracers\' health', () => {
  const panels = grafanaDashboard().panels as Panel[];
  const rows = panels.filter(panel => panel.type === 'row').map(panel => panel.title);
  assert.deepEqual(rows, [...TAB_IDS.map(tab => TABS[tab].title), 'memtop']);
  const exprs = panels.flatMap(panel => panel.targets?.map(target => target.expr) ?? []);
  for (const metric of exportedViews(TAB_IDS).flatMap(view => view.metrics)) {
    // A counter as its rate, a gauge (a process's RSS) as it is.
    const shown = metric.type === 'gauge' ? `(${metric.name}{` : `rate(${metric.name}{`;
    assert.ok(exprs.some(expr => expr.includes(shown)), `a panel shows ${metric.name} as ${shown}`);
  }
  for (const metric of SELF_METRICS.slice(1)) assert.ok(exprs.some(expr => expr.includes(metric.name)), `a panel shows ${metric.name}`);
  // No two panels overlap.
  const cells = new Set<string>();
  for (const panel of panels) {
    for (let x = panel.gridPos.x; x < panel.gridPos.x + panel.gridPos.w; x++) {
      for (let y = panel.gridPos.y; y < panel.gridPos.y + panel.gridPos.h; y++) {
        assert.ok(!cells.has(`${x},${y}`), `${panel.title} overlaps another panel at ${x},${y}`);
        cells.add(`${x},${y}`);
      }
    }
  }
});
