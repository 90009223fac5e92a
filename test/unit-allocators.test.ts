// Allocator discovery's pure parts: the ELF reader on bytes built here, what an object is from
// its functions, which object serves a process, and a malloc script expanded over many files.
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';
import {buildIdFromNotes, definedFunctions, parseElfHeader, parseSections, parseSegments, PT_NOTE} from '../source/parse/elf.js';
import {classifyObject, coverageText, providerIndex, type AllocatorObject} from '../source/model/allocators.js';
import {liveCost, liveCostText} from '../source/model/live-cost.js';
import {columnsFor} from '../source/model/columns.js';
import {applySnapshot, emptyTabData} from '../source/model/table.js';
import {tableText} from '../source/model/batch-output.js';
import {viewOf} from '../source/registry.js';
import {layoutStatus, statusFields, type StatusInput} from '../source/ui/status-line.js';
import type {TracerSnapshot} from '../source/types.js';
import {allocatorChecks, formatChecks} from '../source/check.js';
import {expandForFiles, highestPositional, type ScriptFile} from '../source/model/allocator-script.js';
import {executableFiles, isPrivateLibcPath} from '../source/system/allocators.js';
import {allowsExec} from '../source/backends/tracer-libc.js';

const PROBES = fileURLToPath(new URL('../probes/bpftrace/', import.meta.url));

/** A little-endian ELF64 file: .shstrtab, .strtab, .symtab with `symbols`, and a PT_NOTE with a GNU build id. */
function elf64(symbols: {name: string; type: number; binding: number; section: number}[], buildId: Buffer): Buffer {
  const names = ['', '.shstrtab', '.strtab', '.symtab'];
  const shstrtab = Buffer.from(names.join('\0') + '\0');
  const nameOffset = (name: string) => shstrtab.indexOf(Buffer.from(`${name}\0`));
  const strtab = Buffer.from(['', ...symbols.map(symbol => symbol.name)].join('\0') + '\0');
  const symtab = Buffer.alloc(24 * (symbols.length + 1));
  let stringAt = 1;
  symbols.forEach((symbol, index) => {
    const at = 24 * (index + 1);
    symtab.writeUInt32LE(stringAt, at);
    stringAt += symbol.name.length + 1;
    symtab[at + 4] = (symbol.binding << 4) | symbol.type;
    symtab.writeUInt16LE(symbol.section, at + 6);
  });
  const note = Buffer.alloc(12 + 4 + buildId.length);
  note.writeUInt32LE(4, 0);
  note.writeUInt32LE(buildId.length, 4);
  note.writeUInt32LE(3, 8);
  note.write('GNU\0', 12, 'latin1');
  buildId.copy(note, 16);
  const header = Buffer.alloc(64);
  const programAt = 64;
  const noteAt = programAt + 56;
  const shstrtabAt = noteAt + note.length;
  const strtabAt = shstrtabAt + shstrtab.length;
  const symtabAt = strtabAt + strtab.length;
  const sectionsAt = symtabAt + symtab.length;
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(header);
  header.writeUInt16LE(3, 16);
  header.writeBigUInt64LE(BigInt(programAt), 32);
  header.writeBigUInt64LE(BigInt(sectionsAt), 40);
  header.writeUInt16LE(56, 54);
  header.writeUInt16LE(1, 56);
  header.writeUInt16LE(64, 58);
  header.writeUInt16LE(4, 60);
  header.writeUInt16LE(1, 62);
  const program = Buffer.alloc(56);
  program.writeUInt32LE(PT_NOTE, 0);
  program.writeBigUInt64LE(BigInt(noteAt), 8);
  program.writeBigUInt64LE(BigInt(note.length), 32);
  const section = (name: string, type: number, offset: number, size: number, link = 0) => {
    const entry = Buffer.alloc(64);
    entry.writeUInt32LE(name === '' ? 0 : nameOffset(name), 0);
    entry.writeUInt32LE(type, 4);
    entry.writeBigUInt64LE(BigInt(offset), 24);
    entry.writeBigUInt64LE(BigInt(size), 32);
    entry.writeUInt32LE(link, 40);
    return entry;
  };
  const sections = Buffer.concat([section('', 0, 0, 0), section('.shstrtab', 3, shstrtabAt, shstrtab.length), section('.strtab', 3, strtabAt, strtab.length), section('.symtab', 2, symtabAt, symtab.length, 2)]);
  return Buffer.concat([header, program, note, shstrtab, strtab, symtab, sections]);
}

describe('the ELF reader', () => {
  const FUNC = 2;
  const OBJECT = 1;
  const GLOBAL = 1;
  const WEAK = 2;
  const LOCAL = 0;
  const file = elf64(
    [
      {name: 'malloc', type: FUNC, binding: GLOBAL, section: 5},
      {name: 'free', type: FUNC, binding: WEAK, section: 5},
      {name: 'calloc', type: FUNC, binding: GLOBAL, section: 0},
      {name: 'helper', type: FUNC, binding: LOCAL, section: 5},
      {name: 'mallctl', type: OBJECT, binding: GLOBAL, section: 5},
    ],
    Buffer.from('0123456789abcdef0123', 'latin1'),
  );
  const header = parseElfHeader(file)!;
  const sections = parseSections(header, file.subarray(header.sectionOffset), (offset, size) => file.subarray(offset, offset + size));

  it('reads the header and names the sections', () => {
    assert.equal(header.is64, true);
    assert.equal(header.littleEndian, true);
    assert.deepEqual(
      sections.map(section => section.name),
      ['', '.shstrtab', '.strtab', '.symtab'],
    );
    assert.equal(parseElfHeader(Buffer.from('#!/bin/sh\n'.padEnd(64))), undefined);
  });

  it('finds the global and weak functions a symbol table defines, not those it only refers to', () => {
    const symtab = sections[3]!;
    const strtab = sections[symtab.link]!;
    const found = definedFunctions(header, file.subarray(symtab.offset, symtab.offset + symtab.size), file.subarray(strtab.offset, strtab.offset + strtab.size), () => true);
    assert.deepEqual([...found].sort(), ['free', 'malloc']);
  });

  it('reads the GNU build id of a note segment', () => {
    const [note] = parseSegments(header, file.subarray(header.programOffset)).filter(segment => segment.type === PT_NOTE);
    assert.ok(note);
    assert.equal(buildIdFromNotes(file.subarray(note.offset, note.offset + note.size), true), Buffer.from('0123456789abcdef0123', 'latin1').toString('hex'));
  });
});

describe('what an allocator object is', () => {
  const object = (...names: string[]) => classifyObject(new Set(names));
  it('tells the allocators apart by their own functions', () => {
    assert.equal(object('malloc', 'free', '__libc_malloc', 'gnu_get_libc_version')?.kind, 'glibc');
    assert.equal(object('malloc', 'free', '__libc_malloc', '__init_libc', '__libc_start_main')?.kind, 'musl');
    assert.equal(object('malloc', 'mallctl', 'free')?.kind, 'jemalloc');
    assert.equal(object('malloc', 'tc_malloc')?.kind, 'tcmalloc');
    assert.equal(object('malloc', 'mi_malloc')?.kind, 'mimalloc');
    assert.equal(object('runtime.mallocgc', 'malloc')?.kind, 'go');
    assert.equal(object('malloc')?.kind, 'other');
    assert.equal(object('free', 'printf'), undefined);
  });

  it('knows a jemalloc linked in under a prefix, and probes its prefixed entry points', () => {
    assert.deepEqual(object('je_malloc', 'je_mallctl', 'je_free'), {kind: 'jemalloc', prefix: 'je_', entries: ['malloc', 'free']});
    assert.equal(object('foo_malloc', 'foo_mallctl'), undefined);
  });

  it('picks the object that serves a process: its own executable, then a replacement allocator, then its C library', () => {
    const glibc = object('malloc', '__libc_malloc')!;
    const jemalloc = object('malloc', 'mallctl')!;
    const go = object('runtime.mallocgc')!;
    assert.equal(providerIndex([undefined, glibc, jemalloc]), 2);
    assert.equal(providerIndex([go, glibc]), 0);
    assert.equal(providerIndex([undefined, glibc]), 1);
    assert.equal(providerIndex([undefined, undefined]), -1);
  });

  it('reads the executable mappings of a maps text, each file once', () => {
    const maps = [
      '55d0c0a00000-55d0c0a01000 r--p 00000000 fe:00 2146992                    /usr/bin/wl',
      '55d0c0a01000-55d0c0a02000 r-xp 00001000 fe:00 2146992                    /usr/bin/wl',
      '7f0000000000-7f0000100000 r-xp 00028000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6',
      '7f0000200000-7f0000201000 r-xp 00000000 00:00 0 ',
      '7f0000300000-7f0000301000 r-xp 00000000 fe:00 12                         /tmp/gone (deleted)',
      '7ffd00000000-7ffd00001000 r-xp 00000000 00:00 0                          [vdso]',
    ].join('\n');
    assert.deepEqual(executableFiles(maps), [
      {path: '/usr/bin/wl', inode: 2146992, range: '55d0c0a01000-55d0c0a02000', id: 'fe:00:2146992'},
      {path: '/usr/lib/x86_64-linux-gnu/libc.so.6', inode: 339380, range: '7f0000000000-7f0000100000', id: 'fe:00:339380'},
    ]);
  });
});

describe('a malloc script over many allocator files', () => {
  const file = (kind: AllocatorObject['kind'], path: string, entries: string[], prefix = ''): ScriptFile => ({kind, path, entries, prefix});
  const glibc = file('glibc', '/lib/libc.so.6', ['malloc', 'calloc', 'realloc', 'reallocarray', 'free', 'posix_memalign', 'aligned_alloc', 'memalign', 'valloc', 'pvalloc']);
  const jemalloc = file('jemalloc', '/usr/bin/redis', ['malloc', 'calloc', 'realloc', 'free'], 'je_');
  const musl = file('musl', '/app/static', ['malloc', 'free']);
  const go = file('go', '/app/server', ['runtime.mallocgc']);
  const text = (name: string) => readFileSync(`${PROBES}${name}`, 'utf8');

  it('puts the malloc probe on every file, one positional each, and Go\'s on runtime.mallocgc with its size in AX', () => {
    const source = text('malloc.bt');
    const {program, paths} = expandForFiles(source, [glibc, jemalloc, go], {firstPositional: highestPositional(source) + 1, go: true});
    assert.match(program, /^uprobe:\$4:malloc, uprobe:\$5:je_malloc$/m);
    assert.match(program, /^uprobe:\$6:runtime\.mallocgc$/m);
    assert.match(program, /@calls_a\[pid\] = stats\(reg\("ax"\)\);/);
    assert.doesNotMatch(program, /\$3:/);
    assert.deepEqual(paths, ['/lib/libc.so.6', '/usr/bin/redis', '/app/server']);
  });

  it('reads the positionals a program uses from its code, not from its comments', () => {
    assert.equal(highestPositional('/* $9 in a comment */\n// and $8 here\nuprobe:$3:malloc { @[$2] = count(); }'), 3);
    // command.bt's probes go on positionals from $4 on, the files memtop passes after libc's $3.
    const source = text('command.bt');
    assert.equal(highestPositional(source), 3);
    const {program, paths} = expandForFiles(source, [glibc, jemalloc], {firstPositional: highestPositional(source) + 1, go: false});
    const used = new Set([...program.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '').matchAll(/\$(\d+)/g)].map(match => Number(match[1])));
    assert.deepEqual([...used].sort(), [1, 2, 3, 4, 5]);
    assert.equal(paths.length, 2);
    // _exit is no allocator entry point: it stays on libc's $3.
    assert.match(program, /^uprobe:\$3:_exit\b/m);
  });

  it('puts each live probe only on the files that define its entry point, and leaves Go out', () => {
    const source = text('malloc-live.bt');
    const {program, probed} = expandForFiles(source, [musl, go], {firstPositional: highestPositional(source) + 1, go: false});
    assert.match(program, /^uprobe:\$5:malloc\n\/\$2 == 0/m);
    assert.match(program, /^uretprobe:\$5:malloc\n/m);
    assert.match(program, /^uprobe:\$5:free\n/m);
    assert.doesNotMatch(program, /calloc|posix_memalign|runtime\.mallocgc|\$3:/);
    assert.deepEqual(probed, [musl]);
  });

  it('moves a uprobe where the site chooser says, with the entry\'s argument count, never a uretprobe or Go\'s', () => {
    const source = text('malloc-live.bt');
    const asked: string[] = [];
    const site = (chosen: ScriptFile, entry: string, needs: {arguments: number; returnProbe?: boolean}) => {
      asked.push(`${chosen.kind} ${entry} ${needs.arguments} ${needs.returnProbe ? 'ret' : 'no-ret'}`);
      return needs.returnProbe ? `${chosen.prefix}${entry}` : `${chosen.prefix}${entry}+3`;
    };
    const {program} = expandForFiles(source, [glibc, jemalloc], {firstPositional: highestPositional(source) + 1, go: false, site});
    assert.match(program, /^uprobe:\$5:free\+3, uprobe:\$6:je_free\+3\n/m, 'free has no uretprobe: its probe moves');
    assert.match(program, /^uprobe:\$5:malloc, /m, 'malloc has a uretprobe at its entry: its uprobe stays there');
    assert.doesNotMatch(program, /uretprobe:\$\d+:\w+\+/, 'a uretprobe is never moved');
    assert.ok(asked.includes('glibc free 1 no-ret') && asked.includes('glibc posix_memalign 3 ret') && asked.includes('jemalloc calloc 2 ret'), asked.join('\n'));
    const calls = expandForFiles(text('malloc.bt'), [glibc, go], {firstPositional: 4, go: true, site});
    assert.match(calls.program, /^uprobe:\$4:malloc\+3$/m);
    assert.match(calls.program, /^uprobe:\$5:runtime\.mallocgc$/m, 'Go\'s size is in AX, which the chooser does not guard: it stays at the entry');
  });

  it('keeps a drill-down\'s malloc probe at the entry: it reads the caller at the stack pointer, which a live view\'s uretprobe replaces there', () => {
    const source = text('stacks-malloc.bt');
    const asked: string[] = [];
    const site = (chosen: ScriptFile, entry: string, needs: {arguments: number; returnAddress?: boolean}) => {
      asked.push(`${entry} ${needs.returnAddress ? 'return-address' : 'arguments'}`);
      return needs.returnAddress ? `${chosen.prefix}${entry}` : `${chosen.prefix}${entry}+3`;
    };
    const {program} = expandForFiles(source, [glibc], {firstPositional: highestPositional(source) + 1, go: false, site});
    assert.match(program, /^uprobe:\$4:malloc\n\/pid == \$2\/\n\{\n\t\$caller = usym\(\*\(uint64 \*\)reg\("sp"\)\);/m);
    assert.match(program, /^uprobe:\$4:calloc\+3$/m, 'a probe that only counts still moves');
    assert.ok(asked.includes('malloc return-address') && asked.includes('calloc arguments'), asked.join('\n'));
  });

  it('counts the Go entry point under its own name in a drill-down', () => {
    const source = text('stacks-malloc.bt');
    const {program} = expandForFiles(source, [go], {firstPositional: highestPositional(source) + 1, go: true});
    assert.match(program, /^uprobe:\$4:runtime\.mallocgc$/m);
    assert.match(program, /@entry_a\["runtime\.mallocgc"\] = count\(\);/);
    assert.doesNotMatch(program, /uprobe:\$\d+:(?:calloc|free)/);
  });
});

describe('the malloc tab\'s script (a tracer started beside the running one for a new allocator file)', () => {
  it('has no cast: on bpftrace 0.17 one runs the clang parser, 210,000 mallocs that each trap while the malloc probes are on', () => {
    for (const name of ['malloc.bt']) {
      const text = readFileSync(fileURLToPath(new URL(`../probes/bpftrace/${name}`, import.meta.url)), 'utf8');
      const program = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      assert.doesNotMatch(program, /\(\s*(?:u?int(?:8|16|32|64)|struct\s+\w+)\s*\**\s*\)/, `${name} casts`);
    }
  });
});

describe('what allocator probes see is shown', () => {
  const summary = {files: 5, kinds: {go: 1, glibc: 3, jemalloc: 1}, unprobed: 2, unprobedNames: ['stripped-app', 'evil\u001b[2J']};
  const snapshot: TracerSnapshot = {
    tab: 'malloc',
    backend: 'bpftrace',
    probe: 'uprobe:malloc of every allocator',
    time: '2026-12-05T12:00:00.000Z',
    elapsedMs: 1000,
    rows: [
      {pid: 10, comm: 'redis-server', count: 500, bytes: 64_000},
      {pid: 11, comm: 'gosvc', count: 20, bytes: 2048},
    ],
    allocators: summary,
  };

  it('says the files by kind and names the processes it cannot probe, with nothing a name holds reaching the terminal', () => {
    const text = coverageText(summary);
    assert.equal(text.files, '5 allocator files (3 glibc, 1 jemalloc, 1 go)');
    assert.equal(text.short, '5 allocator files');
    assert.equal(text.unprobed, '2 processes not probed: stripped-app, evil?[2J');
    assert.equal(coverageText({files: 1, kinds: {musl: 1}, unprobed: 0}).unprobed, undefined);
  });

  it('keeps the processes not probed on a narrow status line, after the files\' count goes', () => {
    const input: StatusInput = {table: {probe: snapshot.probe, backend: 'bpftrace', capped: false, skippedLines: 0, allocators: summary}, cumulative: false, filter: '', cgroupFilter: '', filtering: false, intervalMs: 1000};
    assert.match(layoutStatus(statusFields(input), 200), /probe uprobe:malloc of every allocator · 5 allocator files \(3 glibc, 1 jemalloc, 1 go\) · 2 processes not probed: stripped-app, evil\?\[2J · bpftrace/);
    const narrow = layoutStatus(statusFields(input), 50);
    assert.match(narrow, /2 (?:processes )?not probed/);
    assert.doesNotMatch(narrow, /allocator files/);
  });

  it('says while a new file\'s tracer attaches that its calls are not counted yet, kept on a narrow status line', () => {
    assert.equal(coverageText(summary).attaching, undefined);
    assert.equal(coverageText({...summary, attaching: 1}).attaching, '1 new file attaching: its calls are not counted yet');
    assert.equal(coverageText({...summary, attaching: 2}).attaching, '2 new files attaching: their calls are not counted yet');
    const input: StatusInput = {table: {probe: snapshot.probe, backend: 'bpftrace', capped: false, skippedLines: 0, allocators: {...summary, attaching: 1}}, cumulative: false, filter: '', cgroupFilter: '', filtering: false, intervalMs: 1000};
    assert.match(layoutStatus(statusFields(input), 300), /5 allocator files \(3 glibc, 1 jemalloc, 1 go\) · 1 new file attaching: its calls are not counted yet/);
    assert.match(layoutStatus(statusFields(input), 50), /1 attaching/);
    assert.match(tableText({...snapshot, allocators: {...summary, attaching: 1}}, viewOf('malloc', 'process'), []), /· 1 new file attaching: its calls are not counted yet/);
  });

  it('says which probes single-step and what that costs a call, on the status line and in batch text', () => {
    const stepping = {...summary, singleSteps: ['malloc', 'free']};
    const text = coverageText(stepping);
    assert.equal(text.singleSteps, 'malloc and free probes single-step: a second trap each call (~9 µs against ~0.7 µs measured; memtop --check says why)');
    assert.equal(coverageText({...summary, singleSteps: ['free']}).singleStepsShort, 'free single-steps');
    assert.equal(coverageText(summary).singleSteps, undefined);
    const input: StatusInput = {table: {probe: snapshot.probe, backend: 'bpftrace', capped: false, skippedLines: 0, allocators: stepping}, cumulative: false, filter: '', cgroupFilter: '', filtering: false, intervalMs: 1000};
    assert.match(layoutStatus(statusFields(input), 400), /not probed: stripped-app, evil\?\[2J · malloc and free probes single-step: a second trap each call/);
    assert.match(tableText({...snapshot, allocators: stepping}, viewOf('malloc', 'process'), []), /· malloc and free probes single-step: a second trap each call/);
  });

  it('says what the live view costs an allocation with its free: bench 5\'s figure where it measured the release and probes, else only the traps', () => {
    // The three releases CI runs, each with the probes that single-step there.
    const host = liveCost({major: 0, minor: 17}, ['free']);
    assert.equal(host.traps, 3);
    assert.equal(host.stepped, 1);
    assert.equal(host.glibc, '2.36');
    assert.ok(host.ns && host.ns.low > 0 && host.ns.low <= host.ns.high);
    assert.ok(liveCost({major: 0, minor: 23}, []).ns, 'measured on Debian 13');
    assert.ok(liveCost({major: 0, minor: 27}, ['malloc']).ns, 'measured on Debian unstable');
    const text = liveCostText(host);
    assert.match(text.text, /^live view costs ~\d+(?:-\d+)? µs an allocation with its free \(3 traps, 1 single-stepped; measured: bench 5, bpftrace 0\.17, glibc 2\.36, a 2-vCPU VM\)$/);
    assert.match(text.short, /^~\d+(?:-\d+)? µs\/alloc$/);
    // A release or set of single-stepping probes bench 5 has not run: the traps, no figure.
    const unmeasured = liveCost({major: 0, minor: 20}, ['free']);
    assert.equal(unmeasured.ns, undefined);
    assert.equal(liveCostText(unmeasured).text, 'live view: 3 traps an allocation with its free, 1 single-stepped (cost not measured with bpftrace 0.20: npm run bench -- --only live)');
    assert.equal(liveCost({major: 0, minor: 23}, ['free', 'malloc']).ns, undefined);
    // Kept on a narrow status line, in its short form; and in batch text.
    const live = {...summary, liveCost: host};
    const input: StatusInput = {table: {probe: snapshot.probe, backend: 'bpftrace', capped: false, skippedLines: 0, allocators: live}, cumulative: false, filter: '', cgroupFilter: '', filtering: false, intervalMs: 1000};
    assert.ok(layoutStatus(statusFields(input), 400).includes(text.text));
    assert.ok(layoutStatus(statusFields(input), 100).includes(text.short));
    assert.ok(tableText({...snapshot, allocators: live}, viewOf('malloc', 'process'), []).includes(`· ${text.text}`));
  });

  it('names each row\'s allocator in an ALLOC column, from the recording when it has them, else from the lookup', () => {
    const view = viewOf('malloc', 'process');
    let table = applySnapshot(emptyTabData(), {...snapshot, rowAllocators: {'10': 'jemalloc'}}).process!;
    assert.deepEqual(table.rowAllocators, {'10': 'jemalloc'});
    assert.deepEqual(table.allocators, summary);
    // A later interval without pid 10 keeps its row, and its kind with it.
    table = applySnapshot({process: table}, {...snapshot, rows: [snapshot.rows[1]!], rowAllocators: {'11': 'go'}}).process!;
    assert.deepEqual(table.rowAllocators, {'10': 'jemalloc', '11': 'go'});
    const columns = columnsFor(view, {allocatorOf: pid => table.rowAllocators?.[String(pid)]});
    const alloc = columns.find(column => column.id === 'allocator')!;
    assert.equal(alloc.title, 'ALLOC');
    assert.deepEqual([...table.rows.values()].map(row => alloc.format(row)).sort(), ['go', 'jemalloc']);
    assert.equal(columnsFor(view).some(column => column.id === 'allocator'), false, 'no column where no allocator probes count');
  });

  it('batch text has the column and the coverage in its heading', () => {
    const view = viewOf('malloc', 'process');
    const rows = [...applySnapshot(emptyTabData(), snapshot).process!.rows.values()];
    const text = tableText(snapshot, view, rows, pid => (pid === 10 ? 'jemalloc' : 'go'));
    const [heading, header, ...lines] = text.split('\n');
    assert.match(heading!, / · 5 allocator files \(3 glibc, 1 jemalloc, 1 go\) · 2 processes not probed: stripped-app, evil\?\[2J$/);
    assert.match(header!, /ALLOC/);
    assert.ok(lines.some(line => /redis-server .* jemalloc/.test(line)), text);
    assert.doesNotMatch(tableText({...snapshot, allocators: undefined}, view, rows, () => 'go').split('\n')[1]!, /ALLOC/);
  });

  it('--check lists the files by kind with their processes, and names those it cannot probe by reason', () => {
    const file = (kind: AllocatorObject['kind'], path: string, prefix = '') => ({kind, prefix, entries: ['malloc'], path, id: path});
    const libcs = [1, 2, 3, 4, 5].map(index => file('glibc', `/proc/${100 + index}/root/usr/lib/libc.so.6`));
    const redis = file('jemalloc', '/usr/bin/redis-server', 'je_');
    const scan = {
      files: [...libcs, redis],
      processes: new Map([
        [101, {pid: 101, kind: 'glibc' as const, file: libcs[0]!}],
        [102, {pid: 102, kind: 'glibc' as const, file: libcs[0]!}],
        [7, {pid: 7, kind: 'jemalloc' as const, file: redis}],
      ]),
      unprobed: [
        {pid: 9, comm: 'esbuild', reason: 'a static executable without symbols'},
        {pid: 10, comm: 'bad\u001b]0;x\u0007', reason: 'a static executable without symbols'},
        {pid: 11, comm: 'lua', reason: 'no object it maps defines malloc or runtime.mallocgc'},
      ],
    };
    const lines = formatChecks(allocatorChecks(scan)).split('\n');
    assert.match(lines[0]!, /^pass {2}allocators \(malloc tab\) +6 allocator files \(5 glibc, 1 jemalloc\)/);
    assert.match(lines[1]!, /^pass {2}allocator glibc +\/proc\/101\/root\/usr\/lib\/libc\.so\.6 \(2 processes\), \/proc\/102\S+ \(0 processes\), .*, and 1 more$/);
    assert.match(lines[2]!, /^pass {2}allocator jemalloc +\/usr\/bin\/redis-server \(je_malloc\) \(1 process\)$/);
    assert.match(lines[3]!, /^warn {2}allocator not probed +3 processes: esbuild \(9\), bad\?\]0;x\? \(10\): a static executable without symbols; lua \(11\): no object/);
    assert.equal(lines.length, 4);
    assert.doesNotMatch(lines.join('\n'), /[\u0000-\u0008\u000b-\u001f]/);
  });
});

describe("memtop's tracers on a private copy of libc", () => {
  const mountinfo = [
    '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
    '25 22 0:23 / /tmp rw,nosuid,nodev,noexec shared:5 - tmpfs tmpfs rw',
    '26 22 0:24 / /run rw,nosuid,nodev shared:6 - tmpfs tmpfs rw,mode=755',
    '27 26 0:25 / /run/user/0 rw,nosuid,nodev,noexec shared:7 - tmpfs tmpfs rw',
    '28 22 0:26 / /mnt/with\\040space rw shared:8 - tmpfs tmpfs rw',
  ].join('\n');

  it('goes only where its filesystem maps libraries executable (the deepest mount decides)', () => {
    assert.equal(allowsExec('/var/tmp', mountinfo), true);
    assert.equal(allowsExec('/tmp', mountinfo), false);
    assert.equal(allowsExec('/tmp/sub', mountinfo), false);
    assert.equal(allowsExec('/tmpfoo', mountinfo), true);
    assert.equal(allowsExec('/run', mountinfo), true);
    assert.equal(allowsExec('/run/user/0/x', mountinfo), false);
    assert.equal(allowsExec('/mnt/with space/x', mountinfo), true);
    assert.equal(allowsExec('/anything', ''), false);
  });

  it('is known by its path, and a process that maps it is not one to show', () => {
    assert.equal(isPrivateLibcPath('/tmp/memtop-libc-4242-AbC123/libc.so.6'), true);
    assert.equal(isPrivateLibcPath('/var/tmp/memtop-libc-1-x/libc.so.6'), true);
    assert.equal(isPrivateLibcPath('/tmp/memtop-libc-x-AbC123/libc.so.6'), false);
    assert.equal(isPrivateLibcPath('/usr/lib/x86_64-linux-gnu/libc.so.6'), false);
    assert.equal(isPrivateLibcPath('/tmp/memtop-libc-4242-AbC123/libm.so.6'), false);
  });
});
