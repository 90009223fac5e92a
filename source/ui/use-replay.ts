// The TUI's data source in replay mode: a position on a recording's timeline that plays at a
// speed, pauses, and steps one interval of the current view, shaped like the live tracer hooks.
import {useEffect, useMemo, useState} from 'react';
import {targetName, type StackTarget, type TabId, type ViewId} from '../types.js';
import type {TabData} from '../model/table.js';
import {nextSpeed, type EventFilter, type ReplayTimeline} from '../record/replay.js';
import type {DrillState, TracerStatus} from './use-tracer.js';

/** What the screen shows in replay mode: a tab's table, or a drill-down's stacks. */
export interface ReplayView {
  tab: TabId;
  drill?: {tab: TabId; view?: ViewId} & StackTarget;
}

/** The events a step moves between for a view: that tab's table intervals, or that process's stacks. */
export function viewFilter(view: ReplayView): EventFilter {
  if (!view.drill) return {kind: 'table', tab: view.tab};
  return view.drill.cache !== undefined ? {kind: 'stacks', tab: view.drill.tab, cache: view.drill.cache} : {kind: 'stacks', tab: view.drill.tab, pid: view.drill.pid, view: view.drill.view ?? 'tab'};
}

/**
 * The index one interval of `view` forward (+1) or back (-1) from what is shown at `index`
 * (the view's latest event at or before it); `index` itself when there is none that way.
 */
export function stepIndex(timeline: ReplayTimeline, index: number, direction: 1 | -1, view: ReplayView): number {
  const filter = viewFilter(view);
  if (direction === 1) return timeline.nextIndex(index, filter) ?? index;
  const shown = timeline.previousIndex(index + 1, filter);
  return (shown === undefined ? undefined : timeline.previousIndex(shown, filter)) ?? index;
}

export interface ReplayState {
  /** Table data of the shown tab at the position (the same shape useTableTracer returns). */
  data: Partial<Record<TabId, TabData>>;
  status: Partial<Record<TabId, TracerStatus>>;
  drill: DrillState;
  /** Position on the timeline, 0 to length - 1. */
  index: number;
  length: number;
  speed: number;
  /** Recorded time of the position. */
  time?: string;
  /** Playback has reached the last event. */
  atEnd: boolean;
  stepForward: () => void;
  stepBack: () => void;
  cycleSpeed: () => void;
}

/**
 * Play `timeline` from its first event: while not `paused`, move one event on after
 * playbackDelayMs(index, speed). The data returned is what the live UI showed at that point.
 */
export function useReplay(timeline: ReplayTimeline, view: ReplayView, options: {paused: boolean; initialSpeed?: number}): ReplayState {
  const [index, setIndex] = useState(0);
  const [speed, setSpeed] = useState(options.initialSpeed ?? 1);

  useEffect(() => {
    if (options.paused) return undefined;
    const delay = timeline.playbackDelayMs(index, speed);
    if (delay === undefined) return undefined;
    const timer = setTimeout(() => setIndex(current => Math.min(current + 1, timeline.length - 1)), delay);
    return () => clearTimeout(timer);
  }, [timeline, index, speed, options.paused]);

  const data = useMemo(() => ({[view.tab]: timeline.tableDataAt(view.tab, index)}) as Partial<Record<TabId, TabData>>, [timeline, view.tab, index]);
  const status = useMemo(() => {
    if (timeline.tableSnapshotAt(view.tab, index)) return {};
    const later = timeline.nextIndex(index, {kind: 'table', tab: view.tab}) !== undefined;
    return {[view.tab]: {error: later ? `no ${view.tab} data recorded up to here: step forward (]) or play` : `the ${view.tab} tab was not recorded`}};
  }, [timeline, view.tab, index]);
  const drill = useMemo((): DrillState => {
    if (!view.drill) return {exited: false, status: {}};
    const snapshot = timeline.stacksAt(index, view.drill.cache !== undefined ? view.drill : {...view.drill, view: view.drill.view ?? 'tab'});
    if (snapshot) return {snapshot, exited: false, status: {}};
    return {exited: false, status: {error: `no stacks of ${targetName(view.drill)} recorded up to here (a recording has them only for what was drilled into while recording)`}};
  }, [timeline, view.drill, index]);

  return {
    data,
    status,
    drill,
    index,
    length: timeline.length,
    speed,
    time: timeline.timeAt(index),
    atEnd: index >= timeline.length - 1,
    stepForward: () => setIndex(current => stepIndex(timeline, current, 1, view)),
    stepBack: () => setIndex(current => stepIndex(timeline, current, -1, view)),
    cycleSpeed: () => setSpeed(nextSpeed),
  };
}
