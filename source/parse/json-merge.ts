// A JSON parser for tracer output that keeps what JSON.parse drops: when one object holds the
// same key twice, the two values are merged instead of the last one winning. bpftrace 0.23 prints
// one stack twice in a map when two probes took it (two stack ids, one text), and bpftrace 0.24+
// strips spaces from keys, so two keys can print alike: both are parts of one row. Pure.

/** A value parsed from a line: what JSON.parse gives, objects merged by key. */
export type JsonValue = null | boolean | number | string | JsonValue[] | {[key: string]: JsonValue};

/** Thrown for text that is not JSON; the caller counts the line as skipped. */
export class JsonSyntaxError extends Error {
  constructor(at: number) {
    super(`not JSON at character ${at}`);
    this.name = 'JsonSyntaxError';
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A decimal integer, as a number when exact, else as its digits (bpftrace 0.24+ prints such as strings). */
function integerValue(value: bigint): number | string {
  return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value.toString();
}

function bigOf(value: JsonValue): bigint | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d{1,40}$/.test(value)) return BigInt(value);
  return undefined;
}

/**
 * Two values printed under one key, as one: integers (counts, sums, also as digit strings) add
 * up exactly; stats objects ({count, average, total}) add their count and total and take the
 * average of the sum; anything else (a name) keeps the later value, as JSON.parse would.
 */
export function mergeValues(earlier: JsonValue, later: JsonValue): JsonValue {
  const a = bigOf(earlier);
  const b = bigOf(later);
  if (a !== undefined && b !== undefined) return integerValue(a + b);
  if (isStats(earlier) && isStats(later)) {
    const count = mergeValues(earlier.count!, later.count!);
    const total = mergeValues(earlier.total!, later.total!);
    const countNumber = Number(count);
    return {...later, count, total, average: countNumber > 0 ? Math.trunc(Number(total) / countNumber) : 0};
  }
  return later;
}

function isStats(value: JsonValue): value is {[key: string]: JsonValue} {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'count' in value && 'total' in value;
}

/**
 * bpftrace (0.17 to 0.27 at least) escapes every byte of a string from 0x80 up as if it were a
 * negative control character: "é" (bytes c3 a9) prints as \uffffffc3\uffffffa9, which JSON reads
 * as U+FFFF and the letters "ffc3". Each run of such escapes is the UTF-8 of the text it stood for.
 */
export function undoSignedByteEscapes(raw: string): string {
  // A run counts only where its backslash is not itself escaped (an even number before it).
  return raw.replace(/(?<!\\)((?:\\\\)*)((?:\\uffffff[89a-f][0-9a-f])+)/gi, (_whole, backslashes: string, run: string) => {
    const bytes = run.split('\\uffffff').slice(1).map(hex => Number.parseInt(hex, 16));
    return backslashes + Buffer.from(bytes).toString('utf8');
  });
}

/** The keys of a parsed value's objects, at every depth. */
function keysIn(value: JsonValue): number {
  if (typeof value !== 'object' || value === null) return 0;
  let keys = 0;
  if (Array.isArray(value)) {
    for (const item of value) keys += keysIn(item);
    return keys;
  }
  for (const key in value) keys += 1 + keysIn(value[key]!);
  return keys;
}

/** A key's closing quote and its colon: a quote no backslash escapes (an even number of them before it). */
const KEY_END = /(\\*)"\s*:/g;

/** The keys written in a line of JSON: each unescaped quote followed by a colon ends one (a string's closing quote never is). */
function keysWritten(text: string): number {
  let keys = 0;
  for (const match of text.matchAll(KEY_END)) if (match[1]!.length % 2 === 0) keys++;
  return keys;
}

/**
 * The line as JSON.parse reads it, where that is what parseJsonMerging's own reading would give:
 * no key written twice in an object (as many keys parsed as written), no integer past 2^53 (15
 * digits at most), no byte escape of bpftrace's. Undefined otherwise, or for text JSON.parse
 * refuses. JSON.parse is native: memtop runs with --no-opt (its shebang), where the reader below
 * is interpreted, and a 28 KB map line of 500 processes took 2.5 ms with it and 0.56 ms this way
 * (Node 20 with memtop's flags, a quiet machine, medians of 3 rounds of 2,000), the exporter's
 * main cost under a churn of new processes.
 */
function parsedNatively(text: string): JsonValue | undefined {
  if (/\d{16}/.test(text) || text.includes('\\uffffff')) return undefined;
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
  return keysIn(value) === keysWritten(text) ? value : undefined;
}

/**
 * Parse one line of JSON. A key "__proto__" is an ordinary own key, as with JSON.parse, and a
 * repeated key's values are merged with mergeValues. Throws JsonSyntaxError.
 */
export function parseJsonMerging(text: string): JsonValue {
  const native = parsedNatively(text);
  if (native !== undefined) return native;
  return parseJsonOwn(text);
}

/** parseJsonMerging's own reader, for lines JSON.parse would read otherwise. Exported for its tests. */
export function parseJsonOwn(text: string): JsonValue {
  let at = 0;
  const length = text.length;

  const fail = (): never => {
    throw new JsonSyntaxError(at);
  };
  const skipSpace = () => {
    while (at < length) {
      const code = text.charCodeAt(at);
      if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) break;
      at++;
    }
  };
  const readString = (): string => {
    // at is on the opening quote
    const start = at + 1;
    let end = text.indexOf('"', start);
    let escaped = false;
    for (;;) {
      if (end === -1) fail();
      // Count the backslashes before this quote: an odd number escapes it.
      let slashes = 0;
      for (let back = end - 1; back >= start && text.charCodeAt(back) === 0x5c; back--) slashes++;
      if (slashes % 2 === 0) break;
      escaped = true;
      end = text.indexOf('"', end + 1);
    }
    at = end + 1;
    const raw = text.slice(start, end);
    if (!escaped && raw.indexOf('\\') === -1) {
      for (let index = 0; index < raw.length; index++) if (raw.charCodeAt(index) < 0x20) fail();
      return raw;
    }
    try {
      return JSON.parse(`"${raw.includes('\\uffffff') ? undoSignedByteEscapes(raw) : raw}"`) as string;
    } catch {
      return fail();
    }
  };
  const readNumber = (): number | string => {
    const start = at;
    if (text.charCodeAt(at) === 0x2d) at++;
    const digits = at;
    while (at < length) {
      const code = text.charCodeAt(at);
      if (code < 0x30 || code > 0x39) break;
      at++;
    }
    const next = at < length ? text.charCodeAt(at) : 0;
    if (next !== 0x2e && next !== 0x65 && next !== 0x45) {
      // An integer: the common case, without a regular expression.
      const count = at - digits;
      if (count === 0 || (count > 1 && text.charCodeAt(digits) === 0x30)) fail();
      const raw = text.slice(start, at);
      return count <= 15 ? Number(raw) : integerValue(BigInt(raw));
    }
    while (at < length) {
      const code = text.charCodeAt(at);
      if ((code >= 0x30 && code <= 0x39) || code === 0x2e || code === 0x65 || code === 0x45 || code === 0x2b || code === 0x2d) at++;
      else break;
    }
    const raw = text.slice(start, at);
    if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(raw)) fail();
    return Number(raw);
  };
  const readLiteral = (word: string, value: JsonValue): JsonValue => {
    if (text.startsWith(word, at)) {
      at += word.length;
      return value;
    }
    return fail();
  };
  const readValue = (): JsonValue => {
    skipSpace();
    const code = text.charCodeAt(at);
    if (code === 0x7b) return readObject();
    if (code === 0x5b) return readArray();
    if (code === 0x22) return readString();
    if (code === 0x2d || (code >= 0x30 && code <= 0x39)) return readNumber();
    if (code === 0x74) return readLiteral('true', true);
    if (code === 0x66) return readLiteral('false', false);
    if (code === 0x6e) return readLiteral('null', null);
    return fail();
  };
  const readArray = (): JsonValue[] => {
    at++;
    const values: JsonValue[] = [];
    skipSpace();
    if (text.charCodeAt(at) === 0x5d) {
      at++;
      return values;
    }
    for (;;) {
      values.push(readValue());
      skipSpace();
      const code = text.charCodeAt(at++);
      if (code === 0x5d) return values;
      if (code !== 0x2c) fail();
    }
  };
  const readObject = (): {[key: string]: JsonValue} => {
    at++;
    const object: {[key: string]: JsonValue} = {};
    skipSpace();
    if (text.charCodeAt(at) === 0x7d) {
      at++;
      return object;
    }
    for (;;) {
      skipSpace();
      if (text.charCodeAt(at) !== 0x22) fail();
      const key = readString();
      skipSpace();
      if (text.charCodeAt(at++) !== 0x3a) fail();
      const value = readValue();
      if (Object.hasOwn(object, key)) object[key] = mergeValues(object[key]!, value);
      else if (key === '__proto__') Object.defineProperty(object, key, {value, enumerable: true, writable: true, configurable: true});
      else object[key] = value;
      skipSpace();
      const code = text.charCodeAt(at++);
      if (code === 0x7d) return object;
      if (code !== 0x2c) fail();
    }
  };

  const value = readValue();
  skipSpace();
  if (at !== length) fail();
  return value;
}
