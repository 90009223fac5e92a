// Which of a list of address ranges holds an address: a binary search over [low, high) ranges in
// address order (a process's mappings, its executable mappings). Pure.

/** The range of `ranges` (in address order, not overlapping) that holds `at`, if any. */
export function rangeAt<T extends {low: number | bigint; high: number | bigint}>(ranges: readonly T[], at: number | bigint): T | undefined {
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const range = ranges[middle]!;
    if (at < range.low) high = middle - 1;
    else if (at >= range.high) low = middle + 1;
    else return range;
  }
  return undefined;
}
