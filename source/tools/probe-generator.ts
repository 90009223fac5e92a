// Makes memtop's bpftrace scripts (probes/bpftrace/*.bt) from their sources in probes/src/bpftrace:
// bpftrace 0.17 has no include, so the parts scripts share are written once and put in here. A
// source is a plain bpftrace program with these marks:
//   // memtop-double-buffer {  ...  // }
//       statements that update interval maps; they become `if (@memtop_parity) { ..._b } else
//       { ..._a }`, so that events go to one half while the tick prints the other
//   // memtop-maps: interval=calls,names print=bytes state=brk_now
//       the maps printed and cleared every interval (interval), printed every interval and never
//       cleared (print: what the script keeps adding up), and the other maps to clear at the end
//   // memtop-include live-allocations.bt stacks
//       the file of that name in probes/src/bpftrace/include/, with its `// memtop-if FLAG {
//       ... // }` blocks kept where the line names FLAG and dropped where it does not
//   // memtop-define NAME ... // memtop-end NAME, and later // memtop-expand NAME
//       a block of statements written once and put in wherever it is expanded (bpftrace 0.17
//       has no functions), indented as the expand line is; a block named `begin` goes into the
//       tick's BEGIN (bpftrace allows one BEGIN per script)
// and the tick (tick.bt) is appended with its print and clear statements filled in. Pure but for
// bpftraceFragments, which reads the include directory; the CLI that writes the files is
// generate-probes.ts; a unit test checks the files are current.

import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';

const DIRECTIVE = /^\/\/ memtop-maps:((?: (?:interval|print|state)=[\w,]+)+)\s*$/m;

/** The maps a source declares: cleared every interval, printed every interval and kept, cleared at the end. */
export interface DeclaredMaps {
  interval: string[];
  print: string[];
  state: string[];
}

/** The maps a source declares. Throws when it declares none it prints. */
export function declaredMaps(source: string): DeclaredMaps {
  const match = DIRECTIVE.exec(source);
  if (!match) throw new Error('no "// memtop-maps: interval=..." line');
  const maps: DeclaredMaps = {interval: [], print: [], state: []};
  for (const part of match[1]!.trim().split(' ')) {
    const [kind, names] = part.split('=') as [keyof DeclaredMaps, string];
    maps[kind] = names.split(',');
  }
  if (maps.interval.length === 0 && maps.print.length === 0) throw new Error('a "// memtop-maps:" line names no map to print (interval= or print=)');
  return maps;
}

/** The lines of a `// memtop-if FLAG {` ... `// }` block structure with the blocks of `flags` kept (without their marks) and the others dropped. */
function keepFlagged(text: string, flags: readonly string[], file: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)\/\/ memtop-if (\w+) \{\s*$/.exec(lines[index]!);
    if (!open) {
      out.push(lines[index]!);
      continue;
    }
    const [, indent, flag] = open;
    const body: string[] = [];
    for (index++; index < lines.length && !new RegExp(`^${indent}// \\}\\s*$`).test(lines[index]!); index++) body.push(lines[index]!);
    if (index >= lines.length) throw new Error(`${file}: a "// memtop-if ${flag} {" block is not closed by "${indent}// }"`);
    if (flags.includes(flag!)) out.push(keepFlagged(body.join('\n'), flags, file));
  }
  return out.join('\n');
}

/** The source with each `// memtop-include FILE FLAGS` line replaced by that fragment (see the module header). */
function includeFragments(source: string, fragments: Readonly<Record<string, string>>): string {
  return source.replace(/^\/\/ memtop-include ([\w.-]+)((?: \w+)*)\s*$/gm, (_line, file: string, flags: string) => {
    const fragment = fragments[file];
    if (fragment === undefined) throw new Error(`no fragment ${file} in probes/src/bpftrace/include/`);
    return keepFlagged(fragment.trimEnd(), flags.trim().split(/\s+/).filter(Boolean), file);
  });
}

/** A source's `// memtop-define` blocks by name, and the source without them. */
function takeDefinitions(source: string): {definitions: Map<string, string[]>; rest: string[]} {
  const definitions = new Map<string, string[]>();
  const lines = source.split('\n');
  const rest: string[] = [];
  for (let index = 0; index < lines.length; index++) {
    const define = /^\/\/ memtop-define (\w+)\s*$/.exec(lines[index]!);
    if (!define) {
      rest.push(lines[index]!);
      continue;
    }
    const name = define[1]!;
    const body: string[] = [];
    for (index++; index < lines.length && !new RegExp(`^// memtop-end ${name}\\s*$`).test(lines[index]!); index++) body.push(lines[index]!);
    if (index >= lines.length) throw new Error(`"// memtop-define ${name}" is not closed by "// memtop-end ${name}"`);
    definitions.set(name, body);
  }
  return {definitions, rest};
}

/** Each `// memtop-expand NAME` line replaced by its block, indented as the line is. */
function expandDefinitions(lines: string[], definitions: ReadonlyMap<string, string[]>): string[] {
  const expand = (line: string, depth: number): string[] => {
    const use = /^(\s*)\/\/ memtop-expand (\w+)\s*$/.exec(line);
    if (!use) return [line];
    const body = definitions.get(use[2]!);
    if (!body) throw new Error(`"// memtop-expand ${use[2]}" names no "// memtop-define ${use[2]}" block`);
    if (depth > 8) throw new Error(`"// memtop-expand ${use[2]}" expands itself`);
    // A block is written one tab in (as a probe's body is): it takes the expand line's indentation instead.
    return body.flatMap(inner => expand(inner.replace(/^\t/, use[1]!), depth + 1));
  };
  return lines.flatMap(line => expand(line, 0));
}

/** Each double-buffered block as its parity branches. */
function expandBlocks(source: string, interval: string[]): string {
  const lines = source.split('\n');
  const out: string[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)\/\/ memtop-double-buffer \{\s*$/.exec(lines[index]!);
    if (!open) {
      out.push(lines[index]!);
      continue;
    }
    const indent = open[1]!;
    const body: string[] = [];
    for (index++; index < lines.length && !new RegExp(`^${indent}// \\}\\s*$`).test(lines[index]!); index++) body.push(lines[index]!);
    if (index >= lines.length) throw new Error(`a "// memtop-double-buffer {" block is not closed by "${indent}// }"`);
    const half = (suffix: string) =>
      body.map(line => `\t${interval.reduce((text, map) => text.replace(new RegExp(`@${map}\\b(?!_)`, 'g'), `@${map}_${suffix}`), line)}`);
    out.push(`${indent}if (@memtop_parity) {`, ...half('b'), `${indent}} else {`, ...half('a'), `${indent}}`);
  }
  return out.join('\n');
}

/**
 * The script generated from one source (file name `name`, e.g. "brk.bt"), the shared tick and
 * the fragments of probes/src/bpftrace/include/ by file name. Throws with the reason when a
 * source is malformed.
 */
export function generateBpftraceScript(name: string, source: string, tick: string, fragments: Readonly<Record<string, string>> = {}): string {
  const {interval, print, state} = declaredMaps(source);
  const {definitions, rest} = takeDefinitions(includeFragments(source.replace(DIRECTIVE, '').trimEnd(), fragments));
  const body = expandBlocks(expandDefinitions(rest, definitions).join('\n'), interval);
  const prints = (suffix: 'a' | 'b') => interval.flatMap(map => [`print(@${map}_${suffix});`, `clear(@${map}_${suffix});`]);
  const clears = [...interval.flatMap(map => [`@${map}_a`, `@${map}_b`]), ...print.map(map => `@${map}`), ...state.map(map => `@${map}`), '@memtop_ticks', '@memtop_first', '@memtop_parity'].map(map => `clear(${map});`);
  const filled = tick
    .trimEnd()
    .split('\n')
    .flatMap(line => {
      const mark = /^(\s*)\/\/ memtop-(print a|print b|print kept|clear|begin)\s*$/.exec(line);
      if (!mark) return [line];
      // What a script adds to the one BEGIN bpftrace allows: its `begin` block, if it has one.
      if (mark[2] === 'begin') return definitions.has('begin') ? expandDefinitions([`${mark[1]}// memtop-expand begin`], definitions) : [];
      const statements =
        mark[2] === 'print a' ? prints('a') : mark[2] === 'print b' ? prints('b') : mark[2] === 'print kept' ? print.map(map => `print(@${map});`) : clears;
      return statements.map(statement => `${mark[1]}${statement}`);
    });
  const generated = `// Generated by \`npm run probes\` from probes/src/bpftrace/${name} and tick.bt: edit those, not this.`;
  return `${generated}\n${body}\n\n${filled.join('\n')}\n`;
}

/** The fragments in a directory (probes/src/bpftrace/include), by file name. */
export function bpftraceFragments(directory: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(directory)
      .filter(file => file.endsWith('.bt'))
      .map(file => [file, readFileSync(path.join(directory, file), 'utf8')]),
  );
}
