// The Grafana dashboard in source/exporter/grafana-dashboard.json, made from the registry: a row
// per tab with a panel per exported metric (the top 10 label sets' rate, `other` included), and
// a row of memtop's own health. `npm run readme` writes it; a unit test checks it is current, so
// a tab added to the registry gets its panels. Pure.
import {TABS, TAB_IDS, type Unit} from '../registry.js';
import {exportedViews, SELF_METRICS} from '../model/metrics.js';

/** Where the dashboard is kept, from the checkout's root. */
export const DASHBOARD_FILE = 'source/exporter/grafana-dashboard.json';

const DATASOURCE = {type: 'prometheus', uid: '${datasource}'};
const WIDTH = 12;
const HEIGHT = 8;

/** Grafana's unit for a rate of a measure. */
function grafanaUnit(unit: Unit): string {
  return unit === 'bytes' ? 'Bps' : unit === 'pages' ? 'short' : 'ops';
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: {x: number; y: number; w: number; h: number};
  [field: string]: unknown;
}

/** The dashboard as an object (JSON.stringify it to import it into Grafana). */
export function grafanaDashboard(): Record<string, unknown> {
  const panels: Panel[] = [];
  let y = 0;
  let id = 1;
  const row = (title: string) => {
    panels.push({id: id++, type: 'row', title, collapsed: false, gridPos: {x: 0, y, w: 24, h: 1}, panels: []});
    y += 1;
  };
  const graphs = (items: {title: string; description: string; expr: string; legend: string; unit: string}[]) => {
    items.forEach((item, index) => {
      panels.push({
        id: id++,
        type: 'timeseries',
        title: item.title,
        description: item.description,
        datasource: DATASOURCE,
        gridPos: {x: (index % 2) * WIDTH, y: y + Math.floor(index / 2) * HEIGHT, w: WIDTH, h: HEIGHT},
        fieldConfig: {defaults: {unit: item.unit, min: 0}, overrides: []},
        options: {legend: {displayMode: 'table', placement: 'right', calcs: ['mean', 'max']}, tooltip: {mode: 'multi', sort: 'desc'}},
        targets: [{refId: 'A', datasource: DATASOURCE, expr: item.expr, legendFormat: item.legend}],
      });
    });
    y += Math.ceil(items.length / 2) * HEIGHT;
  };
  for (const tab of TAB_IDS) {
    const views = exportedViews([tab]);
    if (views.length === 0) continue;
    row(TABS[tab].title);
    graphs(
      views.flatMap(view =>
        view.metrics.map(metric => {
          const measure = TABS[tab].views.find(candidate => candidate.id === view.view)!.measures.find(candidate => candidate.id === metric.measure)!;
          const by = view.rows === 'cache' ? 'cache' : 'comm, cgroup';
          // A gauge (a process's RSS) is drawn as it is, the largest first; a counter as its rate.
          if (metric.type === 'gauge') {
            return {
              title: metric.help,
              description: `${metric.name}: the 10 largest ${view.rows === 'cache' ? 'caches' : 'processes (by name and cgroup)'} of those with series`,
              expr: `topk(10, sum by (${by}) (${metric.name}{instance=~"$instance"}))`,
              legend: view.rows === 'cache' ? '{{cache}}' : '{{comm}} {{cgroup}}',
              unit: measure.unit === 'bytes' ? 'bytes' : 'short',
            };
          }
          return {
            title: `${metric.help} per second`,
            description: `rate(${metric.name}): the 10 busiest ${view.rows === 'cache' ? 'caches' : 'processes (by name and cgroup)'}; "other" is every label set without a series of its own`,
            expr: `topk(10, sum by (${by}) (rate(${metric.name}{instance=~"$instance"}[$__rate_interval])))`,
            legend: view.rows === 'cache' ? '{{cache}}' : '{{comm}} {{cgroup}}',
            unit: grafanaUnit(measure.unit),
          };
        }),
      ),
    );
  }
  const [, up, restarts, skipped] = SELF_METRICS;
  row('memtop');
  graphs([
    {title: 'Tracers up', description: up.help, expr: `min by (tab) (${up.name}{instance=~"$instance"})`, legend: '{{tab}}', unit: 'short'},
    {title: 'Tracer restarts and unreadable lines', description: `${restarts.help}; ${skipped.help}`, expr: `sum by (tab) (increase(${restarts.name}{instance=~"$instance"}[$__rate_interval]) + increase(${skipped.name}{instance=~"$instance"}[$__rate_interval]))`, legend: '{{tab}}', unit: 'short'},
  ]);
  return {
    title: 'memtop',
    uid: 'memtop',
    description: 'Per-process memory events from memtop --serve (generated from memtop\'s registry)',
    tags: ['memtop'],
    editable: true,
    schemaVersion: 39,
    time: {from: 'now-1h', to: 'now'},
    refresh: '30s',
    templating: {
      list: [
        {name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0},
        {
          name: 'instance',
          label: 'Host',
          type: 'query',
          datasource: DATASOURCE,
          query: {query: 'label_values(memtop_build_info, instance)', refId: 'instance'},
          definition: 'label_values(memtop_build_info, instance)',
          refresh: 2,
          includeAll: true,
          multi: true,
          allValue: '.*',
          current: {},
          hide: 0,
        },
      ],
    },
    panels,
  };
}

/** The dashboard file's text. */
export function grafanaDashboardText(): string {
  return JSON.stringify(grafanaDashboard(), null, 2) + '\n';
}
