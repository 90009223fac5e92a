// Sparklines of a rate over the last intervals, in block characters or an ASCII fallback, and
// the locale check that picks between them.

/** Levels from nothing to the most, Unicode: a space for zero, then eighth blocks. */
export const UNICODE_LEVELS = ' ▁▂▃▄▅▆▇█';
/** Levels from nothing to the most for terminals without UTF-8: a space for zero. */
export const ASCII_LEVELS = ' .:-=+*#%@';

/**
 * The last `width` values as a sparkline of exactly `width` characters, newest on the right,
 * padded on the left with spaces while the history is short. Each value is scaled to the
 * largest value shown (so a line shows shape, not magnitude). Zero, negative or non-finite
 * values draw as a space; any value above zero draws at least the lowest mark, so "a little"
 * never looks like "nothing".
 */
export function sparkline(values: readonly number[], width: number, ascii: boolean): string {
  if (!(width > 0)) return '';
  const levels = [...(ascii ? ASCII_LEVELS : UNICODE_LEVELS)];
  const top = levels.length - 1;
  const shown = values.slice(Math.max(0, values.length - width));
  const max = shown.reduce((most, value) => (Number.isFinite(value) && value > most ? value : most), 0);
  const marks = shown.map(value => {
    if (!(Number.isFinite(value) && value > 0 && max > 0)) return levels[0]!;
    return levels[Math.min(top, Math.max(1, Math.round((value / max) * top)))]!;
  });
  return ' '.repeat(width - marks.length) + marks.join('');
}

/**
 * Whether the terminal's locale can show the block characters: the first of LC_ALL, LC_CTYPE
 * and LANG that is set (and not empty), as the C library picks it, names UTF-8 ("UTF-8" or
 * "utf8", any case). None set means the C locale: no.
 */
export function supportsUnicode(env: NodeJS.ProcessEnv = process.env): boolean {
  const locale = [env.LC_ALL, env.LC_CTYPE, env.LANG].find(value => value !== undefined && value !== '');
  return locale !== undefined && /utf-?8/i.test(locale);
}
