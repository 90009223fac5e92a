// What memtop exports to Prometheus, as pure data and pure accumulation: the metrics the registry
// names (every measure with a `metric`, per view), and per metric the cumulative total of each
// label set taken from the snapshots' per-interval values, so that counters never go backwards
// when a tracer restarts; a gauge's values (the live view's memory, a process's RSS beside the
// growth tab's counters) are the latest interval's. Cardinality is bounded: per view at most `top` label sets have series
// of their own, and one `other` series carries the rest; memory is bounded by folding the
// smallest idle label sets away. Time comes in as an argument; nothing here reads a clock.
import {isGaugeView, TABS, type Measure, type RowKind, type TabDefinition, type ViewDefinition, type ViewId} from '../registry.js';
import {measureOf, type RawRow, type TabId} from '../types.js';

/** Every metric name starts with this. */
export const METRIC_PREFIX = 'memtop_';

/** One exported counter: a measure of a view of a tab. */
export interface ExportedMetric {
  tab: string;
  view: ViewId;
  /** The measure's id in rows ("count", "bytes"). */
  measure: string;
  /** memtop_<metric.name>_total (a gauge's: memtop_<metric.name>). */
  name: string;
  type: 'counter' | 'gauge';
  /** What a row's value is multiplied by for Prometheus: a time in ms is exported in seconds. */
  scale: number;
  help: string;
  /** Label sets are processes (comm, cgroup[, pid]) or slab caches (cache). */
  rows: RowKind;
}

/** The metrics of one view, which share their label sets (the first measure ranks them). */
export interface ExportedView {
  tab: string;
  view: ViewId;
  rows: RowKind;
  /** Its metrics are gauges: what is outstanding now, per label set. */
  gauge?: boolean;
  metrics: ExportedMetric[];
}

/** Whether a measure becomes a Prometheus counter: it names a metric and adds up (a max does not). */
function exported(measure: Measure): measure is Measure & {metric: NonNullable<Measure['metric']>} {
  return measure.metric !== undefined && measure.kind === 'counter';
}

/** Whether a measure becomes a Prometheus gauge: a value now that names a metric. */
function exportedGauge(measure: Measure): measure is Measure & {metric: NonNullable<Measure['metric']>} {
  return measure.metric !== undefined && measure.kind === 'gauge';
}

/**
 * The views of gauges alone (the live view): --serve exports them only when --export names them,
 * for their tracers' cost. A view of counters exports its gauges (the growth tab's RSS) beside
 * them, from the same tracer.
 */
export const GAUGE_VIEWS: readonly {tab: TabId; view: ViewId}[] = (Object.keys(TABS) as TabId[]).flatMap(tab =>
  TABS[tab].views.filter(view => isGaugeView(view) && view.measures.some(exportedGauge)).map(view => ({tab, view: view.id})),
);

/** The views of `tabs` that have exported counters, then the `gauges` views, each with its metrics, in registry order. */
export function exportedViews(tabs: readonly string[], registry: Readonly<Record<string, TabDefinition>> = TABS, gauges: readonly {tab: string; view: ViewId}[] = []): ExportedView[] {
  const views: ExportedView[] = [];
  const add = (tab: string, view: ViewDefinition, gauge: boolean) => {
    // A view of counters carries its gauges along (a process's RSS beside its growth); a view of gauges alone is named by --export.
    const metrics = view.measures.filter(measure => (gauge ? exportedGauge(measure) : exported(measure) || (!isGaugeView(view) && exportedGauge(measure)))).map(measure => ({
      tab,
      view: view.id,
      measure: measure.id,
      name: `${METRIC_PREFIX}${measure.metric!.name}${measure.kind === 'gauge' ? '' : '_total'}`,
      type: measure.kind === 'gauge' ? ('gauge' as const) : ('counter' as const),
      scale: measure.unit === 'ms' ? 1 / 1000 : 1,
      help: measure.metric!.help,
      rows: view.rows,
    }));
    if (metrics.length > 0) views.push({tab, view: view.id, rows: view.rows, ...(gauge ? {gauge} : {}), metrics});
  };
  for (const tab of tabs) for (const view of registry[tab]?.views ?? []) if (!isGaugeView(view)) add(tab, view, false);
  for (const {tab, view} of gauges) {
    const definition = registry[tab]?.views.find(candidate => candidate.id === view);
    if (definition) add(tab, definition, true);
  }
  return views;
}

/** The label names of a view's series. */
export function labelNames(rows: RowKind, pidLabel: boolean): string[] {
  return rows === 'cache' ? ['cache'] : pidLabel ? ['comm', 'cgroup', 'pid'] : ['comm', 'cgroup'];
}

/** The labels of the series that carries every label set without a series of its own. */
export function otherLabels(rows: RowKind, pidLabel: boolean): Record<string, string> {
  return Object.fromEntries(labelNames(rows, pidLabel).map(name => [name, 'other']));
}

/** The metrics about memtop itself, for the readme and the exposition. */
export const SELF_METRICS = [
  {name: `${METRIC_PREFIX}build_info`, type: 'gauge', labels: ['version', 'backend', 'bpftrace'], help: 'memtop build and tracer: always 1'},
  {name: `${METRIC_PREFIX}tracer_up`, type: 'gauge', labels: ['tab'], help: "1 while every exported view of the tab has its tracer running, 0 while one is failing"},
  {name: `${METRIC_PREFIX}tracer_restarts_total`, type: 'counter', labels: ['tab'], help: "Restarts of the tab's tracers after a failure"},
  {name: `${METRIC_PREFIX}tracer_skipped_lines_total`, type: 'counter', labels: ['tab'], help: "Lines of tracer output memtop could not read"},
] as const;

/** One series as exposed: its labels and its value. */
export interface Series {
  labels: Record<string, string>;
  value: number;
}

/** One exported metric, its label names and its series. */
export interface MetricFamily {
  metric: ExportedMetric;
  labelNames: string[];
  series: Series[];
}

/** Options of {@link MetricsModel}. */
export interface MetricsModelOptions {
  /** Label sets per view with series of their own (the rest go to `other`). */
  top: number;
  /** Add a pid label to process series. */
  pidLabel: boolean;
  /** Label sets remembered per view (exposed or not); past this the smallest idle ones are folded away. Default max(1000, 20 x top). */
  maxTracked?: number;
  /** An exposed label set without events for this long loses its series. Default 5 minutes. */
  idleMs?: number;
  /** Half-life of the recent rate that ranks label sets. Default 60 s. */
  halfLifeMs?: number;
  /** A label set takes the place of the weakest exposed one only when its recent rate is this many times higher. Default 2. */
  hysteresis?: number;
}

/** A row's label set, from the exporter (which knows names and cgroups). */
export type LabelsOf = (row: RawRow) => Record<string, string>;

interface Tracked {
  /** Its labels' labelKey: its key in the view's `tracked`. */
  key: string;
  labels: Record<string, string>;
  /** Cumulative total per measure. */
  totals: number[];
  /** Recent rate of the first measure, decayed to `scoredAt`. */
  score: number;
  scoredAt: number;
  lastActive: number;
  exposed: boolean;
  /** The gauges' values (per metric, 0 for a counter) of the latest interval the label set had a row in; undefined when it had none. */
  now: number[] | undefined;
  /** `score` decayed to the time of the latest ranking (set by rerank for the label sets it ranks). */
  rank: number;
}

interface ViewState {
  definition: ExportedView;
  tracked: Map<string, Tracked>;
  exposedCount: number;
  /** Cumulative total per measure of everything that went to `other`. */
  other: number[];
  /** A gauge view: each metric's series from the latest interval. */
  current?: Series[][];
  /** A view of counters with gauges: the latest interval's gauge values of everything not exposed (per metric). */
  otherNow?: number[];
  /** labelKey of the view's `other` label set, once worked out. */
  otherKey?: string;
}

/** Each tab's tracer health. */
export interface TracerHealth {
  /** Per view: whether its tracer is running. */
  up: Map<ViewId, boolean>;
  restarts: number;
  skippedLines: number;
  /** Per view: the tracer's own cumulative skipped count last seen (it starts again at 0 when the tracer restarts). */
  lastSkipped: Map<ViewId, number>;
}

/** Cumulative counters per label set with bounded cardinality (see the module header). */
export class MetricsModel {
  readonly views: ExportedView[];
  private readonly states = new Map<string, ViewState>();
  private readonly health = new Map<string, TracerHealth>();
  private readonly top: number;
  private readonly pidLabel: boolean;
  private readonly maxTracked: number;
  private readonly idleMs: number;
  private readonly halfLifeMs: number;
  private readonly hysteresis: number;

  constructor(views: ExportedView[], options: MetricsModelOptions) {
    this.views = views;
    this.top = Math.max(1, options.top);
    this.pidLabel = options.pidLabel;
    this.maxTracked = Math.max(this.top + 1, options.maxTracked ?? Math.max(1000, 20 * this.top));
    this.idleMs = options.idleMs ?? 300_000;
    this.halfLifeMs = options.halfLifeMs ?? 60_000;
    this.hysteresis = options.hysteresis ?? 2;
    for (const definition of views) {
      this.states.set(viewKey(definition.tab, definition.view), {definition, tracked: new Map(), exposedCount: 0, other: definition.metrics.map(() => 0)});
      if (!this.health.has(definition.tab)) this.health.set(definition.tab, {up: new Map(), restarts: 0, skippedLines: 0, lastSkipped: new Map()});
      this.health.get(definition.tab)!.up.set(definition.view, false);
    }
  }

  /** Label sets remembered for a view now (exposed or not). */
  trackedCount(tab: string, view: ViewId): number {
    return this.states.get(viewKey(tab, view))?.tracked.size ?? 0;
  }

  /**
   * Add one interval's rows of a view at time `now` (ms). A row's increments go to its label
   * set's totals, and to `other` when that label set has no series once this interval has been
   * ranked. A negative increment (heap growth net of shrinks in an interval where the heap
   * shrank) adds nothing.
   */
  record(tab: string, view: ViewId, rows: readonly RawRow[], labelsOf: LabelsOf, now: number): void {
    const state = this.states.get(viewKey(tab, view));
    if (!state) return;
    if (state.definition.gauge) return this.recordGauges(state, rows, labelsOf);
    const {metrics} = state.definition;
    const count = metrics.length;
    const otherKey = (state.otherKey ??= labelKey(otherLabels(state.definition.rows, this.pidLabel)));
    // Under churn an interval brings hundreds of rows of processes seen once: nothing is
    // allocated for a row until it is known to add something (the exporter's CPU under churn,
    // issue 27, went largely to this loop's garbage).
    const added: Tracked[] = [];
    const addedIncrements: number[][] = [];
    // Gauges (a process's RSS) are this interval's values: a label set without a row has none.
    const gauges = metrics.some(metric => metric.type === 'gauge');
    const otherNow = gauges ? new Array<number>(count).fill(0) : undefined;
    if (gauges) for (const tracked of state.tracked.values()) tracked.now = undefined;
    const addNow = (into: number[], values: number[]) => {
      for (let index = 0; index < count; index++) into[index]! += values[index]!;
    };
    // One pass over a row's measures into scratch arrays; copies are kept only of a row that adds something.
    const scratch = new Array<number>(count);
    const scratchValues = gauges ? new Array<number>(count) : undefined;
    for (let at = 0; at < rows.length; at++) {
      const row = rows[at]!;
      let counted = false;
      let gauged = false;
      for (let index = 0; index < count; index++) {
        const metric = metrics[index]!;
        const value = measureOf(row, metric.measure);
        const increment = metric.type === 'counter' ? Math.max(0, value) * metric.scale : 0;
        scratch[index] = increment;
        if (increment !== 0) counted = true;
        if (scratchValues) {
          const gaugeValue = metric.type === 'gauge' ? value * metric.scale : 0;
          scratchValues[index] = gaugeValue;
          if (gaugeValue !== 0) gauged = true;
        }
      }
      if (!counted && !gauged) continue;
      const increments = scratch.slice();
      const values = scratchValues?.slice();
      const labels = labelsOf(row);
      const key = labelKey(labels);
      if (key === otherKey) {
        for (let index = 0; index < count; index++) state.other[index]! += increments[index]!;
        if (values) addNow(otherNow!, values);
        continue;
      }
      let tracked = state.tracked.get(key);
      if (values) {
        // A label set is ranked by its counters: gauges alone do not make it one to follow.
        if (tracked) addNow((tracked.now ??= new Array<number>(count).fill(0)), values);
        else if (!counted) addNow(otherNow!, values);
        if (!counted) continue;
      }
      if (!tracked) {
        tracked = {key, labels, totals: new Array<number>(count).fill(0), score: 0, scoredAt: now, lastActive: now, exposed: false, rank: 0, now: values};
        state.tracked.set(key, tracked);
      }
      for (let index = 0; index < count; index++) tracked.totals[index]! += increments[index]!;
      tracked.score = this.decayed(tracked, now) + increments[0]!;
      tracked.scoredAt = now;
      tracked.lastActive = now;
      added.push(tracked);
      addedIncrements.push(increments);
    }
    this.rerank(state, now);
    for (let at = 0; at < added.length; at++) {
      if (added[at]!.exposed) continue;
      const increments = addedIncrements[at]!;
      for (let index = 0; index < count; index++) state.other[index]! += increments[index]!;
    }
    if (otherNow) {
      for (const tracked of state.tracked.values()) if (!tracked.exposed && tracked.now) addNow(otherNow, tracked.now);
      state.otherNow = otherNow;
    }
  }

  /**
   * A gauge view's interval: each label set's values summed over its rows, the top N by the
   * first metric with series of their own, the rest summed in `other`, which has no series
   * while nothing is in it. A label set not in this interval (its process exited) has none.
   */
  private recordGauges(state: ViewState, rows: readonly RawRow[], labelsOf: LabelsOf): void {
    const {metrics} = state.definition;
    const other = otherLabels(state.definition.rows, this.pidLabel);
    const sets = new Map<string, {labels: Record<string, string>; values: number[]}>();
    for (const row of rows) {
      const labels = labelsOf(row);
      const key = labelKey(labels);
      const set = sets.get(key) ?? {labels, values: metrics.map(() => 0)};
      metrics.forEach((metric, index) => (set.values[index]! += measureOf(row, metric.measure) * metric.scale));
      sets.set(key, set);
    }
    const otherKey = labelKey(other);
    const ranked = [...sets.entries()].sort(([, a], [, b]) => b.values[0]! - a.values[0]!);
    const shown = ranked.filter(([key]) => key !== otherKey).slice(0, this.top);
    const rest = ranked.filter(entry => !shown.includes(entry));
    state.current = metrics.map((_, index) => [
      ...shown.map(([, set]) => ({labels: set.labels, value: set.values[index]!})),
      ...(rest.length > 0 ? [{labels: other, value: rest.reduce((sum, [, set]) => sum + set.values[index]!, 0)}] : []),
    ]);
    state.exposedCount = shown.length;
  }

  private decayed(tracked: Tracked, now: number): number {
    return tracked.score * 0.5 ** (Math.max(0, now - tracked.scoredAt) / this.halfLifeMs);
  }

  /** Demote the idle, promote the busiest (with hysteresis), and fold the smallest idle label sets away. */
  private rerank(state: ViewState, now: number): void {
    // Each label set's score decayed to now, worked out once per call (in `rank`).
    const exposed: Tracked[] = [];
    const candidates: Tracked[] = [];
    state.tracked.forEach(tracked => {
      if (tracked.exposed && now - tracked.lastActive > this.idleMs) tracked.exposed = false;
      if (tracked.exposed) {
        tracked.rank = this.decayed(tracked, now);
        exposed.push(tracked);
      } else if (now - tracked.lastActive <= this.idleMs) {
        tracked.rank = this.decayed(tracked, now);
        if (tracked.rank > 0) candidates.push(tracked);
      }
    });
    exposed.sort((a, b) => a.rank - b.rank);
    // The candidates strongest first, each taken out as it comes (the first of equals first), as
    // far as the loop goes: once every series is taken it ends at the first candidate that does
    // not beat the weakest, so sorting them all (a thousand under churn, every interval) is waste.
    for (;;) {
      let best = -1;
      for (let at = 0; at < candidates.length; at++) if (best === -1 || candidates[at]!.rank > candidates[best]!.rank) best = at;
      if (best === -1) break;
      const candidate = candidates[best]!;
      candidates.splice(best, 1);
      if (exposed.length < this.top) {
        candidate.exposed = true;
        exposed.push(candidate);
        continue;
      }
      // exposed is kept weakest first: a candidate must beat the weakest by the hysteresis factor.
      const weakest = exposed[0]!;
      if (candidate.rank <= this.hysteresis * weakest.rank) break;
      weakest.exposed = false;
      exposed.shift();
      candidate.exposed = true;
      const at = exposed.findIndex(other => other.rank > candidate.rank);
      exposed.splice(at === -1 ? exposed.length : at, 0, candidate);
    }
    state.exposedCount = exposed.length;
    const excess = state.tracked.size - this.maxTracked;
    if (excess > 0) {
      // Their increments are in `other` already: forgetting them loses nothing that is exposed.
      // Oldest first (by lastActive, which takes one value per interval), the smallest first among
      // equals: whole intervals go unsorted, and only the one the cut falls in is sorted.
      const byTime = new Map<number, Tracked[]>();
      state.tracked.forEach(tracked => {
        if (tracked.exposed) return;
        const group = byTime.get(tracked.lastActive);
        if (group) group.push(tracked);
        else byTime.set(tracked.lastActive, [tracked]);
      });
      let left = excess;
      for (const time of [...byTime.keys()].sort((a, b) => a - b)) {
        const group = byTime.get(time)!;
        if (group.length > left) group.sort((a, b) => a.totals[0]! - b.totals[0]!);
        for (let at = 0; at < group.length && left > 0; at++, left--) state.tracked.delete(group[at]!.key);
        if (left === 0) break;
      }
    }
  }

  /** A tracer of a view started delivering (up) or failed (down, and a restart follows). */
  tracerState(tab: string, view: ViewId, up: boolean): void {
    this.health.get(tab)?.up.set(view, up);
  }

  /** A tracer of the tab is being restarted after a failure. */
  tracerRestarted(tab: string, view: ViewId): void {
    const health = this.health.get(tab);
    if (!health) return;
    health.restarts++;
    health.up.set(view, false);
    health.lastSkipped.set(view, 0);
  }

  /** A snapshot's cumulative count of unreadable lines from a view's tracer (counted since that tracer started). */
  tracerSkipped(tab: string, view: ViewId, cumulative: number): void {
    const health = this.health.get(tab);
    if (!health) return;
    const last = health.lastSkipped.get(view) ?? 0;
    if (cumulative > last) health.skippedLines += cumulative - last;
    health.lastSkipped.set(view, Math.max(last, cumulative));
  }

  /** Each exported tab's health: up (every view's tracer running), restarts, skipped lines. */
  tracers(): {tab: string; up: boolean; restarts: number; skippedLines: number}[] {
    return [...this.health.entries()].map(([tab, health]) => ({
      tab,
      up: [...health.up.values()].every(Boolean),
      restarts: health.restarts,
      skippedLines: health.skippedLines,
    }));
  }

  /** Every exported metric with its label names and its series now: the exposed label sets, then `other`. */
  series(): MetricFamily[] {
    return this.views.flatMap(definition => definition.metrics.map(metric => this.family(metric.name)!));
  }

  /** One exported metric with its series now, or undefined when no view exports it. */
  family(name: string): MetricFamily | undefined {
    for (const state of this.states.values()) {
      const index = state.definition.metrics.findIndex(metric => metric.name === name);
      if (index === -1) continue;
      const {definition} = state;
      if (definition.gauge) return {metric: definition.metrics[index]!, labelNames: labelNames(definition.rows, this.pidLabel), series: state.current?.[index] ?? []};
      const series: Series[] = [];
      if (definition.metrics[index]!.type === 'gauge') {
        // A gauge beside counters: the exposed label sets' values now, and `other` only once something is in it.
        for (const tracked of state.tracked.values()) if (tracked.exposed && tracked.now) series.push({labels: tracked.labels, value: tracked.now[index]!});
        const rest = state.otherNow?.[index] ?? 0;
        if (rest !== 0) series.push({labels: otherLabels(definition.rows, this.pidLabel), value: rest});
        return {metric: definition.metrics[index]!, labelNames: labelNames(definition.rows, this.pidLabel), series};
      }
      for (const tracked of state.tracked.values()) if (tracked.exposed) series.push({labels: tracked.labels, value: tracked.totals[index]!});
      series.push({labels: otherLabels(definition.rows, this.pidLabel), value: state.other[index]!});
      return {metric: definition.metrics[index]!, labelNames: labelNames(definition.rows, this.pidLabel), series};
    }
    return undefined;
  }
}

function viewKey(tab: string, view: ViewId): string {
  return `${tab}\0${view}`;
}

/** The last label names labelKey sorted, and them sorted: rows of one view come with their names in one order. */
let lastNames: string[] = [];
let lastSorted: string[] = [];

/** A label set as a Map key: its JSON with the names in order (JSON.stringify's own, which builds one string). */
function labelKey(labels: Record<string, string>): string {
  const names = Object.keys(labels);
  let same = names.length === lastNames.length;
  for (let at = 0; same && at < names.length; at++) same = names[at] === lastNames[at];
  if (!same) {
    lastNames = names;
    lastSorted = [...names].sort();
  }
  return JSON.stringify(labels, lastSorted);
}

/** The rows of `view` in a snapshot: its own rows when it is that view, else the rows it measured alongside. */
export function rowsOfView(snapshot: {tab: TabId; view?: ViewId; rows: RawRow[]; otherViews?: Partial<Record<ViewId, RawRow[]>>}, view: ViewId): RawRow[] | undefined {
  const main = snapshot.view ?? TABS[snapshot.tab].views[0]!.id;
  return main === view ? snapshot.rows : snapshot.otherViews?.[view];
}
