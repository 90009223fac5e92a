// The tabs, each defined once: what it counts, its views and their measures (and so its columns,
// batch JSON, recording and metrics), the script each tracer runs for it, and how their output
// maps to rows and stacks. Everything that knows about a tab reads it from here: the tab bar,
// keys, help, footer, --help, --check, the parsers, the model and the readme's tables (a test
// checks those). Pure data and pure functions only.
import {malloc, brk, slab, majfault, anonpgin, minfault, reclaim, growth} from './tabs/index.js';
import type {BpftraceDrill, DtraceDefinition, ProfileTypes, ScriptChoice, StapDefinition, TabDefinition, Unit, ViewDefinition, ViewId} from './tabs/types.js';

export * from './tabs/types.js';
export type * from './parse/bpftrace-specs.js';

const DEFINITIONS = {malloc, brk, slab, majfault, anonpgin, minfault, reclaim, growth} satisfies Record<string, TabDefinition>;

/** A tab's id: its key in DEFINITIONS. */
export type TabId = keyof typeof DEFINITIONS;

/** Every tab, in the tab bar's order (key 1 first). */
export const TAB_IDS = Object.keys(DEFINITIONS) as TabId[];

/** Every tab's definition. */
export const TABS: Readonly<Record<TabId, TabDefinition>> = DEFINITIONS;

/** Whether a string names a tab. */
export function isTabId(value: unknown): value is TabId {
  return typeof value === 'string' && Object.hasOwn(DEFINITIONS, value);
}

/** The key that selects a tab: its place in the tab bar, from 1. */
export function tabKey(tab: TabId): string {
  return String(TAB_IDS.indexOf(tab) + 1);
}

/** A tab's view, or its first (default) view when it has no such view. */
export function viewOf(tab: TabId, view: ViewId | undefined): ViewDefinition {
  const views = TABS[tab].views;
  return views.find(candidate => candidate.id === view) ?? views[0]!;
}

/** Whether a tab has this view. */
export function hasView(tab: TabId, view: ViewId): boolean {
  return TABS[tab].views.some(candidate => candidate.id === view);
}

/** The view after `view` on a tab (wrapping round); the same view when the tab has one. */
export function nextView(tab: TabId, view: ViewId): ViewId {
  const views = TABS[tab].views;
  const index = views.findIndex(candidate => candidate.id === view);
  return views[(index + 1) % views.length]!.id;
}

/** The key a measure's since-start total has in rows and batch JSON: count -> totalCount. */
export function totalKey(measure: string): string {
  return `total${measure.charAt(0).toUpperCase()}${measure.slice(1)}`;
}

/** Each measure's unit, by id. */
export function unitsOf(view: ViewDefinition): Record<string, Unit> {
  return Object.fromEntries(view.measures.map(measure => [measure.id, measure.unit]));
}

/** Whether a view measures bytes. */
export function hasBytes(view: ViewDefinition): boolean {
  return view.measures.some(measure => measure.id === 'bytes');
}

/**
 * The view whose own drill-down Enter opens from `view` (the live view's stacks of outstanding
 * memory), or undefined when the view drills into the tab's drill-down.
 */
export function drillView(tab: TabId, view: ViewId | undefined): ViewId | undefined {
  return view !== undefined && TABS[tab].bpftrace.views[view]?.stacks !== undefined ? view : undefined;
}

/** The pprof sample types of the drill-down `view` opens (its own, or the tab's), or undefined when it writes no profile. */
export function profileTypes(tab: TabId, view: ViewId | undefined): ProfileTypes | undefined {
  const own = drillView(tab, view);
  return own !== undefined ? viewOf(tab, own).profile : TABS[tab].profile;
}

/** The bpftrace drill-down a view opens: its own, or the tab's. */
export function bpftraceDrill(tab: TabId, view: ViewId | undefined): BpftraceDrill {
  return (view !== undefined ? TABS[tab].bpftrace.views[view]?.stacks : undefined) ?? TABS[tab].bpftrace.stacks;
}

/** A tab's SystemTap or DTrace script and drill-down for a view: the view's own where it has them. */
export function tracerScripts(definition: StapDefinition | DtraceDefinition, view: ViewId | undefined): {script: ScriptChoice; stacks: ScriptChoice} {
  return (view !== undefined ? definition.views?.[view] : undefined) ?? {script: definition.script, stacks: definition.stacks};
}
