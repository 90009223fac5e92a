// Changes memtop makes to Ink's code, and to the packages Ink draws with, when it bundles them
// (npm run build), each with its reason. Pure: the build applies them, a unit test applies them
// to the installed packages, so a release that no longer matches fails the build loudly instead
// of going unpatched.
import {ONE_CELL_EACH} from '../format.js';

/** One change to one file of Ink or of a package it draws with. */
export interface InkPatch {
  /** The file, under node_modules/. */
  file: string;
  /** Why. */
  reason: string;
  apply(source: string): string;
}

/** The most measured texts kept (two generations of this many). */
export const MEASURE_CACHE_ENTRIES = 4096;

/**
 * Ink 6.8 keeps the measured size of every distinct text it has laid out (build/measure-text.js,
 * a Map that is never emptied). A top redraws every row every interval with new numbers, so that
 * map grows without end: memtop's RSS kept growing over a long session. The patch keeps two
 * generations of MEASURE_CACHE_ENTRIES texts: when the newer fills up it becomes the older and
 * the oldest is dropped, so what is drawn every frame (titles, the footer) stays measured once.
 */
const boundedMeasureCache: InkPatch = {
  file: 'ink/build/measure-text.js',
  reason: "bound Ink's measure-text cache (it kept every text ever drawn)",
  apply(source) {
    const declaration = 'const cache = new Map();';
    const lookup = 'const cachedDimensions = cache.get(text);';
    const store = 'cache.set(text, dimensions);';
    for (const expected of [declaration, lookup, store]) {
      if (!source.includes(expected)) throw new Error(`Ink's measure-text.js has changed (no "${expected}"): review the patch in source/tools/ink-patches.ts`);
    }
    return source
      .replace(declaration, `let cache = new Map();\nlet olderCache = new Map();\nconst MEMTOP_MEASURE_CACHE_ENTRIES = ${MEASURE_CACHE_ENTRIES};`)
      .replace(lookup, 'const cachedDimensions = cache.get(text) ?? olderCache.get(text);')
      .replace(store, 'if (cache.size >= MEMTOP_MEASURE_CACHE_ENTRIES) { olderCache = cache; cache = new Map(); }\n    cache.set(text, dimensions);');
  },
};

/**
 * string-width (which Ink measures every text with, at layout and again when it draws) has a fast
 * path for printable ASCII only: any other character sends the whole text through a grapheme
 * segmenter and an emoji regex per grapheme. Every table row has a sparkline in it. The patch adds
 * a second fast path for the characters memtop draws itself (format.ts ONE_CELL_EACH, one cell
 * each, joining no neighbour), which memtop's own fit() already takes.
 */
const oneCellFastPath: InkPatch = {
  file: 'string-width/index.js',
  reason: "measure memtop's own one-cell characters without segmenting graphemes",
  apply(source) {
    const asciiFastPath = 'if (/^[\\u0020-\\u007E]*$/.test(string)) {\n\t\treturn string.length;\n\t}';
    if (!source.includes(asciiFastPath)) throw new Error(`string-width's index.js has changed (no ASCII fast path "${asciiFastPath}"): review the patch in source/tools/ink-patches.ts`);
    return source.replace(asciiFastPath, `${asciiFastPath}\n\tif (/${ONE_CELL_EACH.source}/.test(string)) {\n\t\treturn string.length;\n\t}`);
  },
};

export const INK_PATCHES: readonly InkPatch[] = [boundedMeasureCache, oneCellFastPath];
