// Number and text formatting for the table, and the sanitising of names from the traced system.
// Widths are terminal cells: a CJK character or an emoji takes two, a combining mark none.
import stringWidth from 'string-width';

/**
 * value.toFixed(digits) for 0 to 3 digits, without Number.prototype.toFixed: V8 builds that text
 * in memory from malloc, and on the malloc tab every malloc memtop makes goes through its own
 * uprobe (~1.5 us each here, 20x the call itself). The same text but at values within a rounding
 * error of a tie (toFixed rounds the exact binary value, this its product by 10^digits).
 */
export function toFixed(value: number, digits: 0 | 1 | 2 | 3): string {
  const abs = Math.abs(value);
  if (!(abs < 1e12)) return value.toFixed(digits);
  const scale = digits === 0 ? 1 : digits === 1 ? 10 : digits === 2 ? 100 : 1000;
  const scaled = Math.round(abs * scale);
  const sign = value < 0 ? '-' : '';
  if (digits === 0) return sign + String(scaled);
  const whole = Math.floor(scaled / scale);
  const fraction = String(scaled - whole * scale);
  return `${sign}${whole}.${fraction.length < digits ? '0'.repeat(digits - fraction.length) + fraction : fraction}`;
}

/** 1234567 -> "1.2M"; small numbers stay exact. */
export function humanCount(value: number): string {
  const abs = Math.abs(value);
  if (abs < 10_000) return String(Math.round(value));
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [size, unit] of units) {
    if (abs >= size) return `${toFixed(value / size, abs / size >= 100 ? 0 : 1)}${unit}`;
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
  return `${sign}${toFixed(scaled, scaled >= 100 ? 0 : 1)}${units[unit]}`;
}

/** A duration in milliseconds: "0.4ms", "12ms", "3.2s", "4.5m". */
export function humanMs(value: number): string {
  const abs = Math.abs(value);
  if (abs < 10) return `${toFixed(value, 1)}ms`;
  if (abs < 1000) return `${Math.round(value)}ms`;
  if (abs < 60_000) return `${toFixed(value / 1000, 1)}s`;
  return `${toFixed(value / 60_000, 1)}m`;
}

/** A length in microseconds (a histogram's edge): whole µs below a millisecond, written "us" (ASCII everywhere). */
export function humanMicros(value: number): string {
  return Math.abs(value) < 1000 ? `${Math.round(value)}us` : humanMs(value / 1000);
}

/** An age in seconds: "0.4s", "45s", "12m", "3.4h", "2.1d". */
export function humanAge(seconds: number): string {
  const abs = Math.abs(seconds);
  if (abs < 10) return `${toFixed(seconds, 1)}s`;
  if (abs < 120) return `${Math.round(seconds)}s`;
  if (abs < 7200) return `${Math.round(seconds / 60)}m`;
  if (abs < 172_800) return `${toFixed(seconds / 3600, 1)}h`;
  return `${toFixed(seconds / 86_400, 1)}d`;
}

/** A change of bytes per second, signed: "+1.5K", "-300B", "0B". */
export function humanBytesRate(value: number): string {
  return `${value > 0 ? '+' : ''}${humanBytes(value)}`;
}

/** An ISO 8601 time as the local wall clock's HH:MM:SS ("?" when it is not a time). */
export function clockTime(iso: string): string {
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return '?';
  return [time.getHours(), time.getMinutes(), time.getSeconds()].map(part => String(part).padStart(2, '0')).join(':');
}

/** A rate per second with one decimal below 100. */
export function humanRate(value: number): string {
  if (Math.abs(value) < 100) return toFixed(value, 1);
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

/**
 * Texts of one cell per UTF-16 unit: printable ASCII and the non-ASCII characters memtop draws
 * itself (sparkline blocks, sort arrows, the ellipsis, separators and arrows in the status line,
 * help and stack view, a floor's ≥). None of them joins a neighbour into a grapheme. A row with a sparkline
 * in it would otherwise go through string-width grapheme by grapheme, every row every frame.
 */
export const ONE_CELL_EACH = /^[\x20-\x7e\u00b7\u00d7\u2026\u2190-\u2193\u2265\u2581-\u2588\u25b2\u25bc]*$/;
const graphemes = new Intl.Segmenter();

/** How many terminal cells a text takes. */
export function textWidth(text: string): number {
  return ONE_CELL_EACH.test(text) ? text.length : stringWidth(text);
}

/** The longest start of a text that takes at most `cells` cells, whole graphemes only. */
function cutToCells(text: string, cells: number): string {
  if (ONE_CELL_EACH.test(text)) return text.slice(0, cells);
  let cut = '';
  let used = 0;
  for (const {segment} of graphemes.segment(text)) {
    const width = stringWidth(segment);
    if (used + width > cells) break;
    cut += segment;
    used += width;
  }
  return cut;
}

/**
 * Cut or pad to exactly `width` cells; cut text ends with '…'. A wide character that would
 * straddle the edge is left out and a space takes its place, so that the next column starts
 * where it should.
 */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const used = textWidth(text);
  if (used > width) {
    if (width === 1) return '…';
    const cut = cutToCells(text, width - 1);
    return cut + '…' + ' '.repeat(width - 1 - textWidth(cut));
  }
  const pad = ' '.repeat(width - used);
  return align === 'right' ? pad + text : text + pad;
}
