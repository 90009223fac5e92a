// Other people's tracers (a memtop or bpftrace the bench did not start) add probes that slow
// every variant alike: the bench waits for them to go, and marks the runs they were there for.
import {foreignTracers, sleep} from './proc.js';

/** After one wait for quiet ran out, later runs wait only briefly (the tracers are long-lived). */
let patient = true;
let lastSaid = '';

/** Wait up to `maxMs` for foreign tracers to go; returns those still running. */
export async function waitForQuiet(maxMs: number, log: (text: string) => void): Promise<string[]> {
  const deadline = Date.now() + (patient ? maxMs : Math.min(maxMs, 2000));
  let foreign = foreignTracers();
  let said = false;
  while (foreign.length > 0 && Date.now() < deadline) {
    if (!said && foreign.join() !== lastSaid) log(`  waiting up to ${Math.round((deadline - Date.now()) / 1000)}s for tracers the bench did not start: ${foreign.join(', ')}`);
    said = true;
    lastSaid = foreign.join();
    await sleep(1000);
    foreign = foreignTracers();
  }
  patient = foreign.length === 0;
  return foreign;
}

