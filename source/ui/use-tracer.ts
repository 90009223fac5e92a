// React hooks that keep exactly the tracers the current view needs running, followed under the one
// policy of backends/supervise.ts: the active tab's table tracer, the drill-down's stack tracer, or
// both while a gauge view's own stacks are open (its table keeps what it tracks); each stops when
// its view goes. Pause holds what is shown and keeps collecting.
import {useCallback, useEffect, useRef, useState} from 'react';
import type {ViewId} from '../registry.js';
import type {Backend, StackTarget, TabId, TracerStackSnapshot} from '../types.js';
import {applySnapshot, emptyTabData, type TabData} from '../model/table.js';
import {follow} from '../backends/supervise.js';

export interface TracerStatus {
  /** What failed, in one line. */
  error?: string;
  /** What to do about it. */
  hint?: string;
  retryInMs?: number;
}

/**
 * The value to show, a setter for the latest one and one that shows a value at once (a view that
 * has gone): while `paused`, what is shown stays as it was and the latest is kept; unpausing
 * shows the latest.
 */
export function useHeldWhilePaused<T>(initial: T, paused: boolean): [shown: T, offer: (value: T) => void, reset: (value: T) => void] {
  const [shown, setShown] = useState(initial);
  const latest = useRef(initial);
  // Read by the tracer's callbacks: set as the frame that shows PAUSED is made, so that no later item slips through.
  const pausedNow = useRef(paused);
  pausedNow.current = paused;
  useEffect(() => {
    if (!paused) setShown(latest.current);
  }, [paused]);
  const offer = useCallback((value: T) => {
    latest.current = value;
    if (!pausedNow.current) setShown(value);
  }, []);
  const reset = useCallback((value: T) => {
    latest.current = value;
    setShown(value);
  }, []);
  return [shown, offer, reset];
}

/** What the table tracer gives the screen. */
export interface TableTracerState {
  /** Every tab's data gathered so far. */
  data: Partial<Record<TabId, TabData>>;
  status: Partial<Record<TabId, TracerStatus>>;
  /**
   * The tab and view whose tracer has given its first interval since it started: the rows of
   * any other (a tab switched to, before its first interval) are from an earlier run.
   */
  current?: {tab: TabId; view: ViewId};
}

/** Data for every tab gathered so far; only `active` has a tracer running. */
export function useTableTracer(backend: Backend, active: TabId | undefined, options: {intervalMs: number; pid?: number; paused: boolean; view: ViewId}): TableTracerState {
  const collected = useRef<Partial<Record<TabId, TabData>>>({});
  const [data, offer] = useHeldWhilePaused<Partial<Record<TabId, TabData>>>({}, options.paused);
  const [status, setStatus] = useState<Partial<Record<TabId, TracerStatus>>>({});
  const [current, setCurrent] = useState<{tab: TabId; view: ViewId}>();

  useEffect(() => {
    if (!active) return undefined;
    const controller = new AbortController();
    const view = options.view;
    let first = true;
    void follow({
      signal: controller.signal,
      ...(options.pid !== undefined ? {pid: options.pid} : {}),
      start: signal => backend.start({tab: active, pid: options.pid, intervalMs: options.intervalMs, signal, view}),
      onItem: snapshot => {
        collected.current = {...collected.current, [active]: applySnapshot(collected.current[active] ?? emptyTabData(), snapshot)};
        if (first) setCurrent({tab: active, view});
        first = false;
        setStatus(previous => (previous[active] ? {...previous, [active]: undefined} : previous));
        offer(collected.current);
      },
      onRetry: (error, retryInMs) => setStatus(previous => ({...previous, [active]: {error: error.message, hint: error.hint, retryInMs}})),
    }).then(end => {
      if (end?.kind === 'exited') setStatus(previous => ({...previous, [active]: {error: `process ${options.pid} has exited: showing its last data`}}));
    });
    return () => controller.abort();
  }, [backend, active, options.intervalMs, options.pid, options.view, offer]);

  const live = current && current.tab === active && current.view === options.view ? current : undefined;
  return {data, status, ...(live ? {current: live} : {})};
}

export interface DrillState {
  snapshot?: TracerStackSnapshot;
  exited: boolean;
  status: TracerStatus;
}

const NO_DRILL: DrillState = {exited: false, status: {}};

/** The drill-down's stack tracer for one process or cache, running only while `target` is set. */
export function useStackTracer(
  backend: Backend,
  target: ({tab: TabId; view?: ViewId} & StackTarget) | undefined,
  options: {intervalMs: number; paused: boolean; sampleBytes?: number},
): DrillState {
  const [snapshot, offer, reset] = useHeldWhilePaused<TracerStackSnapshot | undefined>(undefined, options.paused);
  const [state, setState] = useState<Omit<DrillState, 'snapshot'>>(NO_DRILL);

  useEffect(() => {
    reset(undefined);
    setState(NO_DRILL);
    if (!target) return undefined;
    const controller = new AbortController();
    void follow({
      signal: controller.signal,
      // A process can exit; a cache does not go away.
      ...(target.pid !== undefined ? {pid: target.pid} : {}),
      start: signal =>
        backend.startStacks(
          target.cache !== undefined
            ? {tab: target.tab, cache: target.cache, intervalMs: options.intervalMs, signal}
            : {tab: target.tab, pid: target.pid, intervalMs: options.intervalMs, signal, ...(target.view ? {view: target.view} : {}), ...(options.sampleBytes ? {sampleBytes: options.sampleBytes} : {})},
        ),
      onItem: item => {
        offer(item);
        setState(previous => (previous === NO_DRILL ? previous : NO_DRILL));
      },
      onRetry: (error, retryInMs) => setState({exited: false, status: {error: error.message, hint: error.hint, retryInMs}}),
    }).then(end => {
      if (end?.kind === 'exited') setState({exited: true, status: {}});
    });
    return () => controller.abort();
  }, [backend, target, options.intervalMs, options.sampleBytes, offer, reset]);

  return {...state, ...(snapshot ? {snapshot} : {})};
}
