// Where the screen's data comes from: live tracers, or a recording's timeline, in one shape.
import type {ReplayTimeline} from '../record/replay.js';
import type {UiState} from '../state/reducer.js';
import {isGaugeView, viewOf, type ViewId} from '../registry.js';
import type {Backend, TabId} from '../types.js';
import type {TabData} from '../model/table.js';
import {useStackTracer, useTableTracer, type DrillState, type TracerStatus} from './use-tracer.js';
import {useReplay, type ReplayState} from './use-replay.js';
import {shownName} from '../system/process-names.js';
import {allocatorKindOf} from '../system/allocators.js';

/** The data a frame draws from. */
export interface Source {
  data: Partial<Record<TabId, TabData>>;
  status: Partial<Record<TabId, TracerStatus>>;
  /**
   * Whether a view's rows are of now (live: its tracer has given an interval since it started;
   * replay: that view was recorded up to the shown point). Rows that are not are marked stale.
   */
  isCurrent: (tab: TabId, view: ViewId) => boolean;
  /** Why rows that are not current are shown (the status line says it beside their time). */
  staleReason: string;
  drill: DrillState;
  replay?: ReplayState;
  /** A process's cgroup path as the source knows it (live: /proc; replay: as recorded at the shown point). */
  cgroupOf?: (pid: number) => string | undefined;
  /** A process's name as shown, for a row the tracer left unnamed (live: /proc; a recording's rows are named). */
  nameOf?: (pid: number) => string;
  /** A process's allocator kind (live: from /proc; a recording's tables carry their rows'). */
  allocatorOf?: (pid: number) => string | undefined;
}

/**
 * Whether the table tracer runs: always but in a drill-down, and in a gauge view's own
 * drill-down too when the table traces one process (--pid): the live view's figures are of what
 * it tracked since it began, and stopping it would lose them. A machine-wide live table stays
 * off while its stacks are open: its probes trap every allocation on the machine, the drill-down
 * tracer's own compile included, and where libc's malloc and free begin with an instruction the
 * kernel single-steps (glibc 2.43) that compile took over a minute.
 */
export function tableRunsWhileDrilling(state: Pick<UiState, 'tab' | 'view' | 'drill'>, pid?: number): boolean {
  return state.drill === undefined || (pid !== undefined && state.drill.view !== undefined && isGaugeView(viewOf(state.tab, state.view)));
}

/** The live source: the tracers the current view needs, running (none once `stopped`: -- COMMAND has exited). */
export function useLiveSource(backend: Backend, state: UiState, options: {pid?: number; cgroupOf?: (pid: number) => string | undefined; sampleBytes?: number; stopped?: boolean}): Source {
  const table = useTableTracer(backend, !options.stopped && tableRunsWhileDrilling(state, options.pid) ? state.tab : undefined, {intervalMs: state.intervalMs, pid: options.pid, paused: state.paused, view: state.view});
  const drill = useStackTracer(backend, options.stopped ? undefined : state.drill, {intervalMs: state.intervalMs, paused: state.paused, sampleBytes: options.sampleBytes});
  const current = table.current;
  return {
    data: table.data,
    status: table.status,
    isCurrent: (tab, view) => current?.tab === tab && current.view === view,
    staleReason: "until this view's tracer gives its first interval",
    drill,
    cgroupOf: options.cgroupOf,
    nameOf: shownName,
    allocatorOf: pid => allocatorKindOf(pid),
  };
}

/** The replay source: a position on the recording's timeline. */
export function useReplaySource(timeline: ReplayTimeline, state: UiState, initialSpeed?: number): Source {
  const replay = useReplay(timeline, {tab: state.tab, drill: state.drill}, {paused: state.paused, initialSpeed});
  return {
    data: replay.data,
    status: replay.status,
    isCurrent: (tab, view) => timeline.tableIsCurrent(tab, view, replay.index),
    staleReason: 'not recorded since',
    drill: replay.drill,
    replay,
    cgroupOf: pid => timeline.cgroupAt(pid, replay.index),
  };
}
