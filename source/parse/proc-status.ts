// /proc/PID/status's memory fields (RssAnon, VmData...) in bytes, and a measure's formula over them.
import type {StatusFormula} from '../tabs/types.js';

/** The fields of a status text given in kB ("VmData:\t  1234 kB"), in bytes. */
export function statusBytes(text: string): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (match) fields[match[1]!] = Number(match[2]) * 1024;
  }
  return fields;
}

/** The formula's value over the fields, or undefined when one of them is missing (a kernel without it, a kernel thread). */
export function statusValue(fields: Record<string, number>, formula: StatusFormula): number | undefined {
  let value = 0;
  for (const name of formula.plus) {
    const field = fields[name];
    if (field === undefined) return undefined;
    value += field;
  }
  for (const name of formula.minus ?? []) {
    const field = fields[name];
    if (field === undefined) return undefined;
    value -= field;
  }
  return Math.max(0, value);
}
