// All five workloads at once, each at a steady pace until stopped: the busy machine of the
// cost and latency sections.
import {type TabId} from '../../../source/types.js';
import {TAB_IDS} from '../../../source/registry.js';
import {CGROUP_TABS, startWorkload, workloadExtra, type Launcher, type ReadyWorkload} from './workloads.js';

/** Events per second of each workload (scaled by --busy-scale). */
export const BUSY_RATES: Readonly<Record<TabId, number>> = {
  malloc: 50_000,
  brk: 20_000,
  slab: 5_000,
  majfault: 500,
  anonpgin: 500,
  minfault: 20_000,
  reclaim: 2_000,
  growth: 20_000,
};

export interface Busy {
  workloads: Record<TabId, ReadyWorkload>;
  stop(): Promise<void>;
}

/** Start every workload (anonpgin's and reclaim's inside the memory cgroup, when a launcher is given). */
export async function startBusy(options: {scale: number; swapLauncher?: Launcher}): Promise<Busy> {
  const workloads: Partial<Record<TabId, ReadyWorkload>> = {};
  const started: ReadyWorkload[] = [];
  try {
    for (const tab of TAB_IDS) {
      if (CGROUP_TABS.has(tab) && !options.swapLauncher) continue;
      const workload = await startWorkload(tab, {
        events: 0,
        eventsPerSecond: BUSY_RATES[tab] * options.scale,
        extra: workloadExtra(tab),
        launcher: CGROUP_TABS.has(tab) ? options.swapLauncher : undefined,
        waitForGo: false,
      });
      started.push(workload);
      workloads[tab] = workload;
    }
  } catch (error) {
    await Promise.all(started.map(workload => workload.child.stop('SIGKILL')));
    throw error;
  }
  return {
    workloads: workloads as Record<TabId, ReadyWorkload>,
    async stop() {
      await Promise.all(started.map(workload => workload.child.stop('SIGKILL')));
    },
  };
}
