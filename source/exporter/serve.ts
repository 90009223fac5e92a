// memtop as a Prometheus exporter: keeps the exported tabs' tracers running (supervised, through
// the shared backend, so a TUI beside it starts no second tracer for the same view; the views the
// tracer can run together share one tracer process: bpftrace-merge.ts), feeds every
// snapshot to the metrics model with each row's labels, and counts the tracers' restarts.
import {exitedText, follow, restartText} from '../backends/supervise.js';
import {TABS, viewOf} from '../registry.js';
import {rowsOfView, type ExportedView, type MetricsModel} from '../model/metrics.js';
import {GONE_NAME, shownName} from '../system/process-names.js';
import type {SharedBackend} from '../backends/shared-backend.js';
import type {CgroupCache} from '../system/cgroups.js';
import type {Backend, RawRow, TabId, TracerError} from '../types.js';

export interface ExporterOptions {
  /** The backend; a shared one runs the views it can together in one tracer. */
  backend: Backend & Partial<Pick<SharedBackend, 'shareTracer'>>;
  model: MetricsModel;
  /** The interval of every exported tracer (--export-interval), whatever the TUI shows. */
  intervalMs: number;
  /** Trace only this process. */
  pid?: number;
  pidLabel: boolean;
  cgroups: CgroupCache;
  signal: AbortSignal;
  /** One line about a tracer failure. */
  warn: (text: string) => void;
  /** Milliseconds now (tests). */
  now?: () => number;
  /**
   * Called a moment after tracers (re)started and delivered their first interval: the
   * exporter's start pages go back then (system/start-pages.ts). Default: none.
   */
  afterStart?: () => void;
}

/** How long after a tracer's first interval the start pages go back: time for the others started with it to attach. */
const AFTER_START_MS = 3000;

/**
 * A process row's labels: its name, its cgroup's label (container id or the path's last two
 * parts), and its pid when asked. A process in `exited` (the tracer saw it exit) keeps the cgroup
 * memtop last read for it, and /proc is not asked.
 */
export function processLabels(row: RawRow, cgroups: CgroupCache, pidLabel: boolean, exited?: ReadonlySet<number>): Record<string, string> {
  if (row.cache !== undefined) return {cache: row.cache};
  const pid = row.pid ?? 0;
  const comm = row.comm || (pid > 0 ? shownName(pid) : GONE_NAME);
  const cgroup = pid > 0 ? ((exited?.has(pid) ? cgroups.remembered(pid) : cgroups.info(pid))?.label ?? 'unknown') : '/';
  return pidLabel ? {comm, cgroup, pid: String(pid)} : {comm, cgroup};
}

/** Run every exported view's tracer until the signal aborts. */
export async function runExporter(options: ExporterOptions): Promise<void> {
  const now = options.now ?? Date.now;
  // One call for tracers started together: each first interval puts it off a little.
  let afterStartTimer: NodeJS.Timeout | undefined;
  const started = () => {
    if (!options.afterStart || options.signal.aborted) return;
    clearTimeout(afterStartTimer);
    afterStartTimer = setTimeout(options.afterStart, AFTER_START_MS);
    afterStartTimer.unref();
  };
  options.signal.addEventListener('abort', () => clearTimeout(afterStartTimer), {once: true});
  // Each view is still followed on its own (its restarts, its tracer_up): starting any view of a
  // group starts the group's one tracer, and a failure of it restarts every view of it.
  await options.backend.shareTracer?.(
    options.model.views.map(exported => ({tab: exported.tab as TabId, view: exported.view})),
    options.pid,
    options.intervalMs,
    error => options.warn(`the exported tabs' shared tracer failed (${error instanceof Error ? error.message : String(error)}); each tab runs in a tracer of its own`),
  );
  await Promise.all(options.model.views.map(async (exported: ExportedView) => {
    const tab = exported.tab as TabId;
    const name = TABS[tab].views[0]!.id === exported.view ? tab : `${tab} ${viewOf(tab, exported.view).label}`;
    // Set at each (re)start, cleared by its first interval.
    let fresh = false;
    const end = await follow({
      signal: options.signal,
      ...(options.pid !== undefined ? {pid: options.pid} : {}),
      start: signal => {
        fresh = true;
        return options.backend.start({tab, view: exported.view, pid: options.pid, intervalMs: options.intervalMs, signal});
      },
      onItem: snapshot => {
        if (fresh) started();
        fresh = false;
        options.model.tracerState(tab, exported.view, true);
        if (snapshot.skippedLines !== undefined) options.model.tracerSkipped(tab, exported.view, snapshot.skippedLines);
        const rows = rowsOfView(snapshot, exported.view);
        const exited = new Set(snapshot.exited);
        if (rows) options.model.record(tab, exported.view, rows, row => processLabels(row, options.cgroups, options.pidLabel, exited), now());
      },
      onRetry: (error: TracerError, retryInMs) => {
        options.model.tracerRestarted(tab, exported.view);
        options.warn(`${name}: ${restartText(error, retryInMs, {hint: true})}`);
      },
    });
    if (end?.kind === 'exited') {
      options.model.tracerState(tab, exported.view, false);
      options.warn(`${name}: ${exitedText(options.pid, 'its series stay at their last values')}`);
    }
  }));
}
