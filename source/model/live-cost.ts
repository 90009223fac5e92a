// What the live view costs each traced allocation with its free, as the status line says it while
// the view is on: a figure measured by bench 5 (`npm run bench -- --only live`, the workload's own
// CPU per allocation under memtop's live table, less its untraced run), for the bpftrace release
// and the glibc probe sites it was measured with. The cost is the traps: a uprobe on the
// allocating call, a uretprobe at its return and a uprobe on free, each a second trap where its
// instruction single-steps. A release and set of single-stepping probes that bench 5 has not
// measured gets the traps counted, and no figure: no number that was not measured is shown.
import type {LiveCost} from '../types.js';

/** One bench 5 measurement: memtop's live table at 100k allocations a second asked, medians. */
interface Measured {
  /** bpftrace's release, "0.17". */
  bpftrace: string;
  /** The glibc entry points whose probe single-steps there (steppedEntries), sorted, joined by ",". */
  stepped: string;
  /** The glibc it was measured on. */
  glibc: string;
  /** ns of the workload's CPU per allocation with its free, beyond its untraced run, one figure per sitting. */
  ns: readonly number[];
}

// Each sitting's median over untraced at 100k allocations a second asked, on the same 2-vCPU VM
// (readme, Performance: the live view). The same bench read 12.4 µs on 0.17 one day and 31.3 µs
// another: a trap's cost moves with the host under the VM, so the status line shows the range of
// sittings, and says it was this project's VM.
const MEASURED: readonly Measured[] = [
  // Sittings: b561a6d (12.4 µs), and f4dd888 on 2026-12-06 (31.3 µs).
  {bpftrace: '0.17', stepped: 'free', glibc: '2.36', ns: [12_400, 31_300]},
  // f4dd888 on 2026-12-06: free's probe past its entry, nothing single-steps.
  {bpftrace: '0.23', stepped: '', glibc: '2.41', ns: [2_500]},
  // f4dd888 on 2026-12-06: malloc's probe stays on its entry, which single-steps, for its uretprobe.
  {bpftrace: '0.27', stepped: 'malloc', glibc: '2.43', ns: [31_600]},
];

/** The traps a live-view allocation with its free takes: the allocating call's uprobe and uretprobe, and free's uprobe. */
const TRAPS = 3;

/**
 * The live view's cost per allocation with its free on this bpftrace (major.minor) with these
 * glibc probes single-stepping: measured where bench 5 measured the same, else the traps only.
 */
export function liveCost(bpftrace: {major: number; minor: number}, stepped: readonly string[]): LiveCost {
  const release = `${bpftrace.major}.${bpftrace.minor}`;
  const key = [...stepped].sort().join(',');
  const found = MEASURED.find(row => row.bpftrace === release && row.stepped === key);
  return {
    traps: TRAPS,
    stepped: stepped.length,
    bpftrace: release,
    ...(found ? {ns: {low: Math.min(...found.ns), high: Math.max(...found.ns)}, glibc: found.glibc} : {}),
  };
}

/** A µs figure of a range in ns: "12", "12-33". */
function microseconds(low: number, high: number): string {
  const us = (ns: number) => String(Math.round(ns / 1000));
  return us(low) === us(high) ? us(low) : `${us(low)}-${us(high)}`;
}

/** The cost in words for the status line and batch text, with a short form. */
export function liveCostText(cost: LiveCost): {text: string; short: string} {
  const steps = cost.stepped > 0 ? `, ${cost.stepped} single-stepped` : '';
  if (!cost.ns) return {text: `live view: ${cost.traps} traps an allocation with its free${steps} (cost not measured with bpftrace ${cost.bpftrace}: npm run bench -- --only live)`, short: `${cost.traps} traps/alloc`};
  const figure = microseconds(cost.ns.low, cost.ns.high);
  return {text: `live view costs ~${figure} µs an allocation with its free (${cost.traps} traps${steps}; measured: bench 5, bpftrace ${cost.bpftrace}, glibc ${cost.glibc ?? '?'}, a 2-vCPU VM)`, short: `~${figure} µs/alloc`};
}
