// Picks the tracer: the one asked for, or the first of bpftrace, stap, dtrace that can run here.
import type {Availability, Backend, BackendId} from '../types.js';
import {TracerError} from '../types.js';
import {bpftraceBackend} from './bpftrace.js';
import {dtraceBackend} from './dtrace.js';
import {systemtapBackend} from './systemtap.js';

/** Every backend, in auto-detection order. */
export const BACKENDS: Backend[] = [bpftraceBackend, systemtapBackend, dtraceBackend];

export function backendById(id: BackendId): Backend | undefined {
  return BACKENDS.find(backend => backend.id === id);
}

/** Each backend's availability, in order (what --check reports). */
export async function checkBackends(): Promise<{backend: Backend; availability: Availability}[]> {
  const results: {backend: Backend; availability: Availability}[] = [];
  for (const backend of BACKENDS) results.push({backend, availability: await backend.available()});
  return results;
}

/** The backend to use, or a TracerError naming what is missing and how to get it. */
export async function selectBackend(choice: 'auto' | BackendId): Promise<Backend> {
  if (choice !== 'auto') {
    const backend = backendById(choice);
    if (!backend) throw new TracerError(`backend ${choice} is not built into this memtop`, 'use --backend auto');
    const availability = await backend.available();
    if (!availability.ok) throw new TracerError(`${choice} cannot run here: ${availability.reason ?? 'unknown reason'}`, 'run memtop --check');
    return backend;
  }
  const reasons: string[] = [];
  for (const backend of BACKENDS) {
    const availability = await backend.available();
    if (availability.ok) return backend;
    reasons.push(`${backend.id}: ${availability.reason ?? 'unavailable'}`);
  }
  throw new TracerError(`no tracer can run here (${reasons.join('; ')})`, 'install bpftrace (apt-get install -y bpftrace) and run as root; memtop --check says more');
}
