// Where the screen's data comes from: live tracers, or a recording's timeline, in one shape.
import type {ReplayTimeline} from '../record/replay.js';
import type {UiState} from '../state/reducer.js';
import type {Backend, TabId} from '../types.js';
import type {TabData} from '../model/table.js';
import {useStackTracer, useTableTracer, type DrillState, type TracerStatus} from './use-tracer.js';
import {useReplay, type ReplayState} from './use-replay.js';
import {shownName} from '../system/process-names.js';

/** The data a frame draws from. */
export interface Source {
  data: Partial<Record<TabId, TabData>>;
  status: Partial<Record<TabId, TracerStatus>>;
  drill: DrillState;
  replay?: ReplayState;
  /** A process's cgroup path as the source knows it (live: /proc; replay: as recorded at the shown point). */
  cgroupOf?: (pid: number) => string | undefined;
  /** A process's name as shown, for a row the tracer left unnamed (live: /proc; a recording's rows are named). */
  nameOf?: (pid: number) => string;
}

/** The live source: the tracer the current view needs, running. */
export function useLiveSource(backend: Backend, state: UiState, options: {pid?: number; cgroupOf?: (pid: number) => string | undefined; sampleBytes?: number}): Source {
  const drilling = state.drill !== undefined;
  const table = useTableTracer(backend, drilling ? undefined : state.tab, {intervalMs: state.intervalMs, pid: options.pid, paused: state.paused, view: state.view});
  const drill = useStackTracer(backend, state.drill, {intervalMs: state.intervalMs, paused: state.paused, sampleBytes: options.sampleBytes});
  return {data: table.data, status: table.status, drill, cgroupOf: options.cgroupOf, nameOf: shownName};
}

/** The replay source: a position on the recording's timeline. */
export function useReplaySource(timeline: ReplayTimeline, state: UiState, initialSpeed?: number): Source {
  const replay = useReplay(timeline, {tab: state.tab, drill: state.drill}, {paused: state.paused, initialSpeed});
  return {data: replay.data, status: replay.status, drill: replay.drill, replay, cgroupOf: pid => timeline.cgroupAt(pid, replay.index)};
}
