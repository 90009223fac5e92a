// Number and text formatting for the table, and the sanitising of names from the traced system.

/** 1234567 -> "1.2M"; small numbers stay exact. */
export function humanCount(value: number): string {
  const abs = Math.abs(value);
  if (abs < 10_000) return String(Math.round(value));
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [size, unit] of units) {
    if (abs >= size) return `${(value / size).toFixed(abs / size >= 100 ? 0 : 1)}${unit}`;
  }
  return String(Math.round(value));
}

/** Bytes in binary units: 1536 -> "1.5K". Negative values (a shrinking heap) keep their sign. */
export function humanBytes(value: number): string {
  const abs = Math.abs(value);
  if (abs < 1024) return `${Math.round(value)}B`;
  const units = ['K', 'M', 'G', 'T', 'P'];
  let scaled = abs;
  let unit = -1;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  const sign = value < 0 ? '-' : '';
  return `${sign}${scaled.toFixed(scaled >= 100 ? 0 : 1)}${units[unit]}`;
}

/** A duration in milliseconds: "0.4ms", "12ms", "3.2s", "4.5m". */
export function humanMs(value: number): string {
  const abs = Math.abs(value);
  if (abs < 10) return `${value.toFixed(1)}ms`;
  if (abs < 1000) return `${Math.round(value)}ms`;
  if (abs < 60_000) return `${(value / 1000).toFixed(1)}s`;
  return `${(value / 60_000).toFixed(1)}m`;
}

/** A rate per second with one decimal below 100. */
export function humanRate(value: number): string {
  if (Math.abs(value) < 100) return value.toFixed(1);
  return humanCount(value);
}

// C0 and C1 control characters and DEL, the Unicode line separators and the bidirectional
// overrides: anything that could move the cursor, change colours, retitle the terminal or
// reorder what follows when a traced process or symbol names itself with it.
// eslint-disable-next-line no-control-regex -- finding control characters is what it is for
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Whether a text holds a control character (see CONTROL): user input that has one is refused. */
export function hasControlCharacters(text: string): boolean {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text);
}

/** The text without its control characters (what the filter prompt keeps of a paste). */
export function withoutControlCharacters(text: string): string {
  return text.replace(CONTROL, '');
}

/**
 * Make a name from the traced system safe to print: control characters become '?', so an
 * escape sequence in a process name shows as text and never reaches the terminal as one.
 */
export function sanitize(text: string): string {
  return text.replace(CONTROL, '?');
}

/** How many terminal cells a text takes. */
export function textWidth(text: string): number {
  return [...text].length;
}

/** Cut or pad to a width; cut text ends with '…'. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const chars = [...text];
  if (chars.length > width) return width === 1 ? '…' : chars.slice(0, width - 1).join('') + '…';
  const pad = ' '.repeat(width - chars.length);
  return align === 'right' ? pad + text : text + pad;
}
