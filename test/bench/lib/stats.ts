// Medians and plain-text tables for the bench's output.

/** The median of the finite values (the mean of the middle two for an even count); NaN when none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Per-run ratios a[i]/b[i] of runs measured together, then their median. */
export function medianRatio(numerators: readonly number[], denominators: readonly number[]): number {
  const ratios: number[] = [];
  for (let index = 0; index < Math.min(numerators.length, denominators.length); index++) {
    const denominator = denominators[index]!;
    if (denominator > 0) ratios.push(numerators[index]! / denominator);
  }
  return median(ratios);
}

/** Smallest and largest finite value, as "min–max". */
export function spread(values: readonly number[], digits = 2): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return '-';
  return `${Math.min(...finite).toFixed(digits)}–${Math.max(...finite).toFixed(digits)}`;
}

export function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

/** "1.03 ok" or "1.21 OVER" against a target that the value must not exceed. */
export function againstTarget(value: number, target: number, digits = 2): string {
  if (!Number.isFinite(value)) return '-';
  return `${value.toFixed(digits)} ${value <= target ? 'ok' : 'OVER'}`;
}

/** A plain table: a title, a header, rows, columns padded; numbers (and "-") right-aligned. */
export function table(title: string, header: string[], rows: string[][], notes: string[] = []): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map(row => (row[column] ?? '').length)));
  const numeric = (text: string) => /^[-+]?[\d.,]+(\s|%|$|[a-zA-Zµ×]+)|^-$/.test(text);
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column > 0 && numeric(cell) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map(width => '-'.repeat(width)).join('  ');
  return [title, '', line(header), rule, ...rows.map(line), ...(notes.length > 0 ? ['', ...notes] : []), ''].join('\n');
}
