// How one bpftrace map value and key read: counts and stats() fields, "pid,comm" and "<key>,<class>" keys. Pure.

/**
 * A map value as a finite number: bpftrace prints integers; a stats() value
 * ({count, average, total}) counts as its count; anything else counts as 0.
 */
export function toCount(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  if (typeof value === 'object' && value !== null && 'count' in value) return toCount((value as {count: unknown}).count);
  return 0;
}

/** The total of a stats() value ({count, average, total}), else the value itself. */
export function toTotal(value: unknown): number {
  if (typeof value === 'object' && value !== null && 'total' in value) return toCount((value as {total: unknown}).total);
  return toCount(value);
}

/**
 * Split a "pid,comm" key, or a bare "pid" (the name then is ''). The pid comes first and is all
 * digits, so everything after the first comma is the name, commas and all.
 */
export function splitPidKey(key: string): {pid: number; comm: string} | undefined {
  const match = /^(\d+)(?:,([\s\S]*))?$/.exec(key);
  if (!match) return undefined;
  return {pid: Number(match[1]), comm: match[2] ?? ''};
}

/** What pid 0 is called: the idle task (swapper/<cpu>), which interrupts taken while idle run as. */
export const IDLE_NAME = 'swapper';

/** A measure's source, "map" or "map.count"/"map.total" (a stats() field), as the map's name and the field. */
export function splitSource(source: string): [name: string, field: string | undefined] {
  return source.split('.') as [string, string | undefined];
}

/** One value of a map as a source reads it: a stats() value's total for "total", else its count (see toCount). */
export function fieldValue(value: unknown, field: string | undefined): number {
  return field === 'total' ? toTotal(value) : toCount(value);
}

/** A map's value as one measure reads it: "map" the value, "map.count"/"map.total" a stats() field. */
export function readSource(maps: Map<string, Record<string, unknown>>, source: string): Record<string, unknown> | undefined {
  const [name, field] = splitSource(source);
  return maps.get(name) && field ? mapValues(maps.get(name)!, field) : maps.get(name);
}

function mapValues(map: Record<string, unknown>, field: string): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(map)) values[key] = fieldValue(value, field);
  return values;
}

/** A map's value as a BigInt (bpftrace prints integers past 2^53 as strings from 0.24 on), or undefined. */
export function toBigInt(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return BigInt(Math.round(value));
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return undefined;
}

/** Split a "<something>,<class>" key at its last comma: the part before and the age class. */
export function splitClass(key: string): [string, number] | undefined {
  const comma = key.lastIndexOf(',');
  const match = comma === -1 ? null : /^\d{1,3}$/.exec(key.slice(comma + 1));
  return match ? [key.slice(0, comma), Number(match[0])] : undefined;
}
