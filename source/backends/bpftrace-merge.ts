// Several views' generated bpftrace scripts as one program, so that one bpftrace (its LLVM, its
// runtime, its printing) serves every tab memtop --serve exports instead of one process a view.
// Each script's maps get a prefix of their own (@count_a of brk becomes @brk__count_a); its
// probes and blocks are kept (a list of attach points as one block a point: splitProbeLists); the tick every script ends with (tick.bt) is put in
// once, with every script's BEGIN block, prints and clears in turn, so one parity, one
// `interval:ms:100` and one `memtop-end` line serve them all. $1 (interval) and $2 (pid) mean
// the same in every script merged here. Then each interval's maps are split back by prefix into
// one interval per view, read as that view's own script's output would be. Pure.
import type {IntervalMaps} from '../parse/bpftrace-json.js';

/** The maps the tick keeps for itself: one of each in a merged program, never prefixed. */
const TICK_MAP = /^memtop_/;

/** A script to merge: its generated text (probes/bpftrace/*.bt) and the prefix of its maps. */
export interface MergePart {
  prefix: string;
  text: string;
}

/** The prefix of a view's maps in a merged program: `brk__`, or `slab_cache__` for a tab's other views. */
export function mergePrefix(tab: string, view: string, firstView: boolean): string {
  if (!/^\w+$/.test(tab) || !/^\w+$/.test(view)) throw new Error(`a tab or view that cannot name a map: ${tab} ${view}`);
  return firstView ? `${tab}__` : `${tab}_${view}__`;
}

/** A generated script cut where its tick fills in what the script adds. */
interface ScriptParts {
  body: string[];
  begin: string[];
  printA: string[];
  printB: string[];
  kept: string[];
  clears: string[];
  /** The tick with each of the five regions as one placeholder line. */
  tick: string[];
}

type Region = 'begin' | 'printA' | 'printB' | 'kept' | 'clears';

/** The text without its comments (whole-line `//` comments and `/* ... *\/` blocks) and blank lines: what bpftrace reads. */
function withoutComments(text: string): string[] {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .filter(line => line.trim() !== '' && !/^\s*\/\//.test(line));
}

/**
 * A generated script's body and the parts of its tick (probes/src/bpftrace/tick.bt as the
 * generator fills it in). Throws when the text is not shaped so.
 */
function cut(text: string): ScriptParts {
  const lines = withoutComments(text);
  const beginAt = lines.lastIndexOf('BEGIN');
  if (beginAt < 0 || lines[beginAt + 1] !== '{') throw new Error('no tick BEGIN in the script');
  const body = lines.slice(0, beginAt);
  const tickLines = lines.slice(beginAt);
  const parts: ScriptParts = {body, begin: [], printA: [], printB: [], kept: [], clears: [], tick: []};
  // Each region runs from the line after its opening line to the line before its closing line.
  const bounds: [Region, RegExp, RegExp][] = [
    ['begin', /^\{$/, /^\t@memtop_ticks = \$1 \/ 100;$/],
    ['printA', /^\t\tif \(@memtop_parity\) \{$/, /^\t\t\} else \{$/],
    ['printB', /^\t\t\} else \{$/, /^\t\t\}$/],
    ['kept', /^\t\t\}$/, /^\t\tprintf\("memtop-end /],
    ['clears', /^END$/, /^\}$/],
  ];
  let index = 0;
  for (const [region, open, close] of bounds) {
    while (index < tickLines.length && !open.test(tickLines[index]!)) parts.tick.push(tickLines[index++]!);
    if (index >= tickLines.length) throw new Error(`the script's tick has no ${region} region`);
    parts.tick.push(tickLines[index++]!);
    // END's body starts after its brace.
    if (region === 'clears') parts.tick.push(tickLines[index++]!);
    while (index < tickLines.length && !close.test(tickLines[index]!)) parts[region].push(tickLines[index++]!);
    if (index >= tickLines.length) throw new Error(`the script's tick does not close its ${region} region`);
    parts.tick.push(`\u0000${region}`);
  }
  parts.tick.push(...tickLines.slice(index));
  return parts;
}

/**
 * The body with each list of attach points (`a,` then `b /pred/` then its block) as one block per
 * point. bpftrace 0.17 fails to load a program where a tracepoint is in such a list and also
 * probed alone by a block that reads other fields of it (slab's and slab by cache's
 * kmem_cache_alloc: "Error loading program"); one block per point loads, and it is what bpftrace
 * compiles a list into anyway, one BPF program per point.
 */
export function splitProbeLists(body: readonly string[]): string[] {
  const out: string[] = [];
  for (let index = 0; index < body.length; ) {
    const line = body[index]!;
    if (!/^\S.*,\s*$/.test(line) || line.startsWith('/') || line.startsWith('{')) {
      out.push(line);
      index++;
      continue;
    }
    const points: string[] = [];
    while (index < body.length && /,\s*$/.test(body[index]!)) points.push(...body[index++]!.split(',').map(point => point.trim()).filter(Boolean));
    const last = (body[index++] ?? '').trim();
    const split = /^([^\s,]+(?:\s*,\s*[^\s,]+)*)\s*(.*)$/.exec(last);
    points.push(...(split?.[1] ?? '').split(',').map(point => point.trim()).filter(Boolean));
    const sameLine = split?.[2] ?? '';
    // The rest of the block, up to its closing brace at the start of a line, unless it closed on the points' line.
    const block: string[] = [];
    if (!(sameLine.includes('{') && sameLine.endsWith('}'))) {
      while (index < body.length && body[index] !== '}') block.push(body[index++]!);
      if (index >= body.length) throw new Error(`the block of ${points.join(', ')} does not close`);
      block.push(body[index++]!);
    }
    for (const point of points) out.push(sameLine === '' ? point : `${point} ${sameLine}`, ...block);
  }
  return out;
}

/** Every map a line names, but the tick's own, with `prefix` put before it; the names of exited processes go to the one map they share. */
function prefixed(line: string, prefix: string): string {
  return line.replace(/@(\w+)/g, (whole, name: string) => (TICK_MAP.test(name) ? whole : SHARED_NAMES.test(name) ? `@memtop_${name}` : `@${prefix}${name}`));
}

/**
 * The map of each process that exited in the interval, pid -> comm (`@names_a[pid] = comm` and
 * `@names_b`), which every script that names rows keeps alike: one map in a merged program,
 * `@memtop_names_a|_b`, printed once and given to every view (splitMaps). Each script's block
 * that only fills it is then the same text as the others' and runs once (withoutRepeatedBlocks).
 * Under a churn of short-lived processes these were most of the keys the agent's tracer printed
 * and memtop read: one per tab for each process that exited, against one or two of its events.
 */
const SHARED_NAMES = /^names_[ab]$/;
const SHARED_NAMES_MAP = 'memtop_names';

/** The body with each probe block (its attach line to its closing brace at the start of a line, or one line) kept once where two are the same text. */
export function withoutRepeatedBlocks(body: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (let index = 0; index < body.length; ) {
    const line = body[index]!;
    if (/^[\s{}]/.test(line) || line === '') {
      out.push(line);
      index++;
      continue;
    }
    // A block on one line (`point /pred/ { ...; }`) ends there.
    const end = /\{.*\}\s*$/.test(line) ? index : body.indexOf('}', index);
    if (end === -1) {
      out.push(...body.slice(index));
      break;
    }
    const block = body.slice(index, end + 1);
    const text = block.join('\n');
    if (!seen.has(text)) {
      seen.add(text);
      out.push(...block);
    }
    index = end + 1;
  }
  return out;
}

/**
 * One bpftrace program from generated scripts: each script's maps prefixed, its probes kept,
 * one tick printing every script's maps in turn. `title` is its first line (a comment naming
 * what it runs, for whoever reads the process list). Throws when a script is not shaped as the
 * generator makes them or two prefixes could name one map.
 */
export function mergeScripts(parts: readonly MergePart[], title: string): string {
  if (parts.length === 0) throw new Error('no script to merge');
  for (const part of parts) {
    if (!/^\w+__$/.test(part.prefix)) throw new Error(`a map prefix ends in "__": ${part.prefix}`);
    const clash = parts.find(other => other !== part && other.prefix.startsWith(part.prefix));
    if (clash) throw new Error(`map prefixes ${part.prefix} and ${clash.prefix} overlap`);
  }
  const cuts = parts.map(part => ({prefix: part.prefix, parts: cut(part.text)}));
  const joined = (region: Region) => cuts.flatMap(({prefix, parts: script}) => script[region].map(line => prefixed(line, prefix)));
  const tick = cuts[0]!.parts.tick.flatMap(line => (line.startsWith('\u0000') ? joined(line.slice(1) as Region) : [line]));
  // Prints and clears of the tick's own maps and of the shared names are in every script: once is enough.
  const once = new Set<string>();
  const tickOnce = tick.filter(line => !/^\t+(?:print|clear)\(@memtop_\w+\);$/.test(line) || (!once.has(line) && Boolean(once.add(line))));
  const bodies = withoutRepeatedBlocks(cuts.flatMap(({prefix, parts: script}) => splitProbeLists(script.body).map(line => prefixed(line, prefix))));
  return [`// ${title.replace(/\n/g, ' ')}`, ...bodies, ...tickOnce].join('\n') + '\n';
}

/**
 * One interval of a merged program as one interval per prefix, each map under its name in its
 * own script, and the shared names of exited processes in each as `names`. A map of no prefix
 * given is left out.
 */
export function splitMaps(interval: IntervalMaps, prefixes: readonly string[]): Map<string, IntervalMaps> {
  const split = new Map<string, IntervalMaps>(prefixes.map(prefix => [prefix, {maps: new Map(), hists: new Map(), endNs: interval.endNs}]));
  const owner = (name: string) => prefixes.find(prefix => name.startsWith(prefix));
  for (const [name, map] of interval.maps) {
    if (name === SHARED_NAMES_MAP) {
      for (const view of split.values()) view.maps.set('names', map);
      continue;
    }
    const prefix = owner(name);
    if (prefix !== undefined) split.get(prefix)!.maps.set(name.slice(prefix.length), map);
  }
  for (const [name, hist] of interval.hists) {
    const prefix = owner(name);
    if (prefix !== undefined) split.get(prefix)!.hists.set(name.slice(prefix.length), hist);
  }
  return split;
}
