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
export const MEASURE_CACHE_ENTRIES = 256;
/** Texts longer than this are measured every time they are laid out, not kept. */
export const MEASURE_CACHE_MAX_LENGTH = 256;

/**
 * Ink 6.8 keeps the measured size of every distinct text it has laid out (build/measure-text.js,
 * a Map that is never emptied). A top redraws every row every interval with new numbers, so that
 * map grows without end: memtop's RSS kept growing over a long session. The patch keeps two
 * generations of MEASURE_CACHE_ENTRIES texts: when the newer fills up it becomes the older and
 * the oldest is dropped, so what is drawn every frame (titles, the footer) stays measured once.
 * Only short texts are kept: the table's rows are one text of up to a hundred lines that is new
 * every frame, and measuring it again (a width per line, string-width's fast path) costs less
 * than keeping thousands of frames' worth of them until the generation turns over.
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
      .replace(declaration, `let cache = new Map();\nlet olderCache = new Map();\nconst MEMTOP_MEASURE_CACHE_ENTRIES = ${MEASURE_CACHE_ENTRIES};\nconst MEMTOP_MEASURE_CACHE_MAX_LENGTH = ${MEASURE_CACHE_MAX_LENGTH};`)
      .replace(lookup, 'const cachedDimensions = cache.get(text) ?? olderCache.get(text);')
      .replace(store, 'if (text.length > MEMTOP_MEASURE_CACHE_MAX_LENGTH) { return dimensions; }\n    if (cache.size >= MEMTOP_MEASURE_CACHE_ENTRIES) { olderCache = cache; cache = new Map(); }\n    cache.set(text, dimensions);');
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


/** Styled lines kept from one frame to the next (two generations of this many), for the rows that still need them. */
export const STYLED_LINE_CACHE_ENTRIES = 32;

/** Replace `expected` in `source` with `replacement`, or fail naming the file and the patch. */
function replaceExactly(source: string, file: string, expected: string, replacement: string): string {
  if (!source.includes(expected)) throw new Error(`Ink's ${file} has changed (no "${expected.trim().split('\n')[0]}"): review the patch in source/tools/ink-patches.ts`);
  return source.replace(expected, replacement);
}

/**
 * Ink draws a frame by making a grid of the terminal's size out of one object per cell, cutting
 * every line of every text into styled characters (a tokenizer, then an object a character),
 * placing them, and joining the grid back into strings, every frame, with nothing kept from the
 * frame before: at 100 rows some 30,000 objects a frame, most of memtop's CPU and its garbage.
 * The patch gathers the lines written to each row first. A row whose lines are one-cell
 * characters (format.ts ONE_CELL_EACH), each plain or in one style (one SGR code and the code
 * that ends it: the selected row, the header, the footer), that do not overlap and where no two
 * styled lines touch, is those lines joined with spaces between them, which is exactly what the
 * grid would have made of them. Any other row (the tab bar's nested styles, wide or combining
 * characters, overlaps) goes through Ink's grid as before, and the styled characters of a line
 * drawn in two frames are kept for the next. A unit test draws random frames both ways and
 * requires the same output, byte for byte.
 */
const plainRowsAsText: InkPatch = {
  file: 'ink/build/output.js',
  reason: "join rows of one-cell text, plain or in one style, as strings instead of Ink's grid of styled characters",
  apply(source) {
    const file = 'output.js';
    let patched = replaceExactly(
      source,
      file,
      `    getStyledChars(line) {
        let cached = this.styledChars.get(line);
        if (cached === undefined) {
            cached = styledCharsFromTokens(tokenize(line));
            this.styledChars.set(line, cached);
        }
        return cached;
    }`,
      `    getStyledChars(line) {
        // memtop: a line seen in an earlier frame keeps its styled characters; a line seen for the
        // first time (a row that changed) is only noted, as null.
        const known = memtopStyledLines.get(line) ?? memtopOlderStyledLines.get(line);
        const cached = known ?? styledCharsFromTokens(tokenize(line));
        if (memtopStyledLines.get(line) !== cached) {
            if (memtopStyledLines.size >= ${STYLED_LINE_CACHE_ENTRIES}) {
                memtopOlderStyledLines = memtopStyledLines;
                memtopStyledLines = new Map();
            }
            memtopStyledLines.set(line, known === undefined ? null : cached);
        }
        return cached;
    }`,
    );
    patched = replaceExactly(
      patched,
      file,
      `class OutputCaches {`,
      `// memtop: styled characters of lines drawn before (null: drawn once), in two generations (see getStyledChars).
let memtopStyledLines = new Map();
let memtopOlderStyledLines = new Map();
const memtopOneCellEach = /${ONE_CELL_EACH.source}/;
// A line in one style: one SGR code, one-cell text, the code that ends it (chalk's pairs).
const memtopStyledLine = /^\\x1b\\[(\\d+)m([^\\x1b]+)\\x1b\\[(\\d+)m$/;
const memtopSgrClose = new Map([[1, 22], [2, 22], [3, 23], [4, 24], [7, 27], [9, 29]]);
for (const code of [30, 31, 32, 33, 34, 35, 36, 37, 90, 91, 92, 93, 94, 95, 96, 97]) memtopSgrClose.set(code, 39);
for (const code of [40, 41, 42, 43, 44, 45, 46, 47, 100, 101, 102, 103, 104, 105, 106, 107]) memtopSgrClose.set(code, 49);
// The text of a line in one style that Ink's grid would write back byte for byte, else undefined.
const memtopStyledText = line => {
    const match = memtopStyledLine.exec(line);
    return match && memtopSgrClose.get(Number(match[1])) === Number(match[3]) ? match[2] : undefined;
};
// memtop: a row's lines as text when they are one-cell text, plain or in one style (a selected
// row, a header, a footer: see memtopStyledText), that do not overlap, else undefined. Cells
// before the width that nothing wrote are spaces; past it, the grid has holes that Ink drops. A
// styled line goes out with the two codes it came with, as Ink's grid writes it.
const memtopPlainRow = (segments, width) => {
    if (segments.length === 0) {
        return '';
    }
    const placed = [];
    for (const { x, line } of segments) {
        if (!Number.isInteger(x) || x < 0) {
            return undefined;
        }
        const styled = line.includes('\\x1b');
        const visible = styled ? memtopStyledText(line) : line;
        if (visible === undefined || !memtopOneCellEach.test(visible)) {
            return undefined;
        }
        placed.push({ x, line, cells: visible.length, styled });
    }
    if (placed.length > 1) {
        placed.sort((a, b) => a.x - b.x);
    }
    let text = '';
    let cell = 0;
    // Where the last styled line ended: a styled line starting there would be one run of styles
    // to Ink, which its grid writes differently.
    let styledUpTo = -1;
    for (const { x, line, cells, styled } of placed) {
        if (x < cell || (styled && x === styledUpTo)) {
            return undefined;
        }
        text += ' '.repeat(Math.max(0, Math.min(x, width) - cell)) + line;
        cell = x + cells;
        if (styled) {
            styledUpTo = cell;
        }
    }
    return text.trimEnd();
};
class OutputCaches {`,
    );
    patched = replaceExactly(
      patched,
      file,
      `        const output = [];
        for (let y = 0; y < this.height; y++) {
            const row = [];
            for (let x = 0; x < this.width; x++) {
                row.push({
                    type: 'char',
                    value: ' ',
                    fullWidth: false,
                    styles: [],
                });
            }
            output.push(row);
        }`,
      `        // memtop: each row holds the lines written to it, in order, made into text below.
        const output = [];
        for (let y = 0; y < this.height; y++) {
            output.push([]);
        }`,
    );
    const placement = `                    const characters = this.caches.getStyledChars(line);
                    let offsetX = x;
                    for (const character of characters) {
                        currentLine[offsetX] = character;
                        // Determine printed width using string-width to align with measurement
                        const characterWidth = Math.max(1, this.caches.getStringWidth(character.value));
                        // For multi-column characters, clear following cells to avoid stray spaces/artifacts
                        if (characterWidth > 1) {
                            for (let index = 1; index < characterWidth; index++) {
                                currentLine[offsetX + index] = {
                                    type: 'char',
                                    value: '',
                                    fullWidth: false,
                                    styles: character.styles,
                                };
                            }
                        }
                        offsetX += characterWidth;
                    }
`;
    patched = replaceExactly(patched, file, placement, `                    currentLine.push({ x, line });\n`);
    patched = replaceExactly(
      patched,
      file,
      `        const generatedOutput = output
            .map(line => {
            // See https://github.com/vadimdemedes/ink/pull/564#issuecomment-1637022742
            const lineWithoutEmptyItems = line.filter(item => item !== undefined);
            return styledCharsToString(lineWithoutEmptyItems).trimEnd();
        })
            .join('\\n');`,
      `        const generatedOutput = output
            .map(segments => memtopPlainRow(segments, this.width) ?? this.memtopGridRow(segments))
            .join('\\n');`,
    );
    // Ink's own placement of styled characters, for one row.
    const gridRow = `    memtopGridRow(segments) {
        const currentLine = [];
        for (let x = 0; x < this.width; x++) {
            currentLine.push({
                type: 'char',
                value: ' ',
                fullWidth: false,
                styles: [],
            });
        }
        for (const { x, line } of segments) {
${placement.replace(/^ {8}/gm, '')}        }
        // See https://github.com/vadimdemedes/ink/pull/564#issuecomment-1637022742
        const lineWithoutEmptyItems = currentLine.filter(item => item !== undefined);
        return styledCharsToString(lineWithoutEmptyItems).trimEnd();
    }
    get() {`;
    return replaceExactly(patched, file, `    get() {`, gridRow);
  },
};

export const INK_PATCHES: readonly InkPatch[] = [boundedMeasureCache, oneCellFastPath, plainRowsAsText];
