// The malloc workload (wl_malloc.c) built against each allocator memtop must see: jemalloc,
// tcmalloc and mimalloc linked by their .so's full path (the Debian roots have no -dev packages),
// musl statically, glibc in a root of its own (a copy of libc and the loader, for a chroot or a
// container image); and the Go workload (wl_go/main.go).
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync} from 'node:fs';
import {mkdir, rename} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {WORKLOAD_BIN_DIR, buildWorkload} from './workloads.js';

const SOURCE_DIR = fileURLToPath(new URL('../fixtures/workloads/', import.meta.url));
const CFLAGS = ['-O1', '-g', '-fno-omit-frame-pointer', '-fno-inline', '-Wall', '-Wextra'];
const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'];

/** The allocators a C workload is linked against here. */
export type LinkedAllocator = 'jemalloc' | 'tcmalloc' | 'mimalloc';

const LIBRARIES: Record<LinkedAllocator, RegExp> = {
  jemalloc: /^libjemalloc\.so\.2$/,
  tcmalloc: /^libtcmalloc_minimal\.so\.4$/,
  mimalloc: /^libmimalloc\.so\.\d+$/,
};

/** The installed shared library of an allocator (its soname file), or undefined. */
export function findAllocatorLibrary(allocator: LinkedAllocator): string | undefined {
  for (const directory of LIBRARY_DIRS) {
    let names: string[];
    try {
      names = readdirSync(directory);
    } catch {
      continue;
    }
    const name = names.filter(candidate => LIBRARIES[allocator].test(candidate)).sort().at(-1);
    if (name) return path.join(directory, name);
  }
  return undefined;
}

/** Run a compiler with `-o <a temporary name>` first (go build takes flags before its files), then put the output in place. */
async function compile(output: string, command: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  await mkdir(WORKLOAD_BIN_DIR, {recursive: true});
  const temporary = `${output}.${process.pid}.tmp`;
  const [first, ...rest] = command === 'go' ? args : ['', ...args];
  const result = await execa(command, [...(first ? [first] : []), '-o', temporary, ...rest], {reject: false, all: true, env});
  if (result.exitCode !== 0) throw new Error(`${command} failed to build ${path.basename(output)} (exit ${result.exitCode}):\n${result.all ?? ''}`);
  await rename(temporary, output);
  return output;
}

/** wl_malloc linked against an allocator's shared library. */
export async function buildLinked(allocator: LinkedAllocator): Promise<{binary: string; library: string}> {
  const library = findAllocatorLibrary(allocator);
  if (!library) throw new Error(`no ${allocator} library in ${LIBRARY_DIRS.join(', ')}: install it (.ci/install)`);
  const binary = await compile(path.join(WORKLOAD_BIN_DIR, `wl_malloc-${allocator}`), 'gcc', [...CFLAGS, path.join(SOURCE_DIR, 'wl_malloc.c'), library]);
  return {binary, library: realpathSync(library)};
}

/** A workload (wl_malloc by default) linked statically with musl (musl-gcc): its malloc is in the executable. */
export async function buildMuslStatic(workload = 'wl_malloc'): Promise<string> {
  return compile(path.join(WORKLOAD_BIN_DIR, `${workload}-musl`), 'musl-gcc', ['-static', ...CFLAGS, path.join(SOURCE_DIR, `${workload}.c`)]);
}

/** The Go workload. */
export async function buildGo(): Promise<string> {
  const cache = path.join(WORKLOAD_BIN_DIR, 'go-cache');
  mkdirSync(cache, {recursive: true});
  return compile(path.join(WORKLOAD_BIN_DIR, 'wl_go'), 'go', ['build', path.join(SOURCE_DIR, 'wl_go', 'main.go')], {GOCACHE: cache, HOME: cache});
}

/**
 * A root of its own for the glibc wl_malloc: the program as /wl_malloc and copies of the libc and
 * loader it maps, at the paths they have here (other files than the host's: other inodes).
 * Returns the directory and the libc copy's path inside it.
 */
export async function buildOwnRoot(): Promise<{directory: string; libcInRoot: string}> {
  const binary = await buildWorkload('wl_malloc');
  const directory = mkdtempSync(path.join(os.tmpdir(), 'memtop-alloc-root-'));
  copyFileSync(binary, path.join(directory, 'wl_malloc'));
  const ldd = await execa('ldd', [binary]);
  let libcInRoot = '';
  // Each library at the path the loader names it by (one copy: the process maps that one).
  for (const line of ldd.stdout.split('\n')) {
    const file = /(\/\S+) \(0x/.exec(line)?.[1];
    if (!file) continue;
    const target = path.join(directory, file);
    mkdirSync(path.dirname(target), {recursive: true});
    copyFileSync(realpathSync(file), target);
    if (/\/libc\.so\.6$/.test(file)) libcInRoot = file;
  }
  if (!libcInRoot) throw new Error(`ldd named no libc for ${binary}:\n${ldd.stdout}`);
  return {directory, libcInRoot};
}

/** Whether a command is installed. */
export function hasCommand(name: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some(directory => existsSync(path.join(directory, name)));
}

/** This system's name in a test title: "host" or the Debian root's codename. */
export function systemLabel(): string {
  const release = readFileSync('/etc/os-release', 'utf8');
  return /VERSION_CODENAME=(\w+)/.exec(release)?.[1] ?? 'this system';
}
