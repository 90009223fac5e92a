// The Prometheus text exposition of the metrics model, through prom-client: one counter per
// exported measure (set to the model's cumulative totals at each scrape), one gauge per exported
// gauge measure (the latest interval's values), the tracers' health,
// and memtop_build_info. A fresh registry: no default process metrics.
import {Counter, Gauge, Registry} from 'prom-client';
import {SELF_METRICS, type MetricsModel} from '../model/metrics.js';

/** What memtop_build_info says. */
export interface BuildInfo {
  version: string;
  backend: string;
  /** The tracer's version ("" when it has none to say). */
  bpftrace: string;
}

/** One scrape's answer. */
export interface Exposition {
  contentType: string;
  body: string;
}

const [BUILD_INFO, TRACER_UP, TRACER_RESTARTS, TRACER_SKIPPED] = SELF_METRICS;

type TracerState = ReturnType<MetricsModel['tracers']>[number];

/**
 * A prom-client registry that reads `model` at every scrape. Counters are absolute totals, so
 * each collect starts from zero and adds the total (prom-client's Counter has no set).
 */
export function metricsRegistry(model: MetricsModel, info: BuildInfo): Registry {
  const registry = new Registry();
  for (const family of model.series()) {
    if (family.metric.type === 'gauge') {
      new Gauge({
        name: family.metric.name,
        help: family.metric.help,
        labelNames: family.labelNames,
        registers: [registry],
        collect() {
          this.reset();
          for (const series of model.family(family.metric.name)?.series ?? []) this.set(series.labels, series.value);
        },
      });
      continue;
    }
    new Counter({
      name: family.metric.name,
      help: family.metric.help,
      labelNames: family.labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const series of model.family(family.metric.name)?.series ?? []) this.inc(series.labels, series.value);
      },
    });
  }
  new Gauge({name: BUILD_INFO.name, help: BUILD_INFO.help, labelNames: [...BUILD_INFO.labels], registers: [registry]}).set({...info}, 1);
  new Gauge({
    name: TRACER_UP.name,
    help: TRACER_UP.help,
    labelNames: [...TRACER_UP.labels],
    registers: [registry],
    collect() {
      for (const tracer of model.tracers()) this.set({tab: tracer.tab}, tracer.up ? 1 : 0);
    },
  });
  // Per-tab counters of the tracers' health, set to the model's totals.
  for (const [metric, valueOf] of [
    [TRACER_RESTARTS, (tracer: TracerState) => tracer.restarts],
    [TRACER_SKIPPED, (tracer: TracerState) => tracer.skippedLines],
  ] as const) {
    new Counter({
      name: metric.name,
      help: metric.help,
      labelNames: [...metric.labels],
      registers: [registry],
      collect() {
        this.reset();
        for (const tracer of model.tracers()) this.inc({tab: tracer.tab}, valueOf(tracer));
      },
    });
  }
  return registry;
}

/** The exposition now. */
export async function expose(registry: Registry): Promise<Exposition> {
  return {contentType: registry.contentType, body: await registry.metrics()};
}
