// The five tabs as data: titles, what each measures, and its key in the tab bar.
import type {TabId} from './types.js';

export interface TabInfo {
  id: TabId;
  title: string;
  /** What one counted event is, for column titles. */
  eventName: string;
  /** Whether the tab measures bytes as well as events. */
  hasBytes: boolean;
  /** What the bytes are. */
  bytesName?: string;
  /** Whether the tab can group by slab cache. */
  hasCacheGrouping: boolean;
}

export const TABS: Record<TabId, TabInfo> = {
  malloc: {id: 'malloc', title: 'malloc', eventName: 'CALLS', hasBytes: true, bytesName: 'BYTES', hasCacheGrouping: false},
  brk: {id: 'brk', title: 'brk', eventName: 'BRK', hasBytes: true, bytesName: 'GROWTH', hasCacheGrouping: false},
  slab: {id: 'slab', title: 'slab', eventName: 'ALLOCS', hasBytes: true, bytesName: 'BYTES', hasCacheGrouping: true},
  majfault: {id: 'majfault', title: 'major faults', eventName: 'FAULTS', hasBytes: false, hasCacheGrouping: false},
  anonpgin: {id: 'anonpgin', title: 'anon page-ins', eventName: 'PAGES', hasBytes: false, hasCacheGrouping: false},
};
