// The allocator files of memtop -- COMMAND, found before COMMAND runs (it is held before its exec,
// so it has no mappings to read yet): its executable (a Go program, a static musl one, one linked
// with a static jemalloc), what its dynamic loader would load for it with COMMAND's own
// LD_PRELOAD and LD_LIBRARY_PATH (`ld.so --list`, as ldd asks: jemalloc, tcmalloc or mimalloc,
// linked or preloaded), and the libc command.bt takes as $3. A program COMMAND starts later that
// loads another allocator is not seen here: its libc calls still are.
import {realpathSync, statSync} from 'node:fs';
import path from 'node:path';
import {execa} from 'execa';
import {interpreterOf} from './elf-file.js';
import {readAllocatorFile, type AllocatorFile} from './allocators.js';

/**
 * Whether a loader an executable names is one memtop (root) may run to list its libraries: a
 * dynamic loader by name (ld-linux*, ld-musl*, ld64*), owned by root and writable by no one else.
 * COMMAND's own binary names it, and it may be anybody's.
 */
export function isSystemLoader(loader: string): boolean {
  if (!/^ld(?:-linux[\w.-]*|-musl[\w.-]*|64[\w.-]*)\.so[\w.-]*$/.test(path.basename(loader))) return false;
  try {
    const stats = statSync(loader);
    return stats.isFile() && stats.uid === 0 && (stats.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** The paths `ld.so --list` prints: "\tname => /path (0x...)" and "\t/path (0x...)" lines. */
export function parseLoaderList(text: string): string[] {
  const paths: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(?:\S+\s+=>\s+)?(\/\S+)\s+\(0x[0-9a-f]+\)\s*$/.exec(line);
    if (match) paths.push(match[1]!);
  }
  return paths;
}

/**
 * The allocator files COMMAND will run on, `libc` first: those of its `executable` (resolved as the
 * shell would) and of what its loader lists with COMMAND's environment `env`, each once by real
 * path. Never throws: a file it cannot read or a loader that fails leaves what it found.
 */
export async function commandAllocatorFiles(executable: string, env: Readonly<Record<string, string | undefined>>, libc: string): Promise<AllocatorFile[]> {
  const candidates = [libc, executable];
  const loader = interpreterOf(executable);
  if (loader && isSystemLoader(loader)) {
    // The loader lists what it would load, with COMMAND's own preloads and library path; it runs nothing of COMMAND's.
    const listed = await execa(loader, ['--list', executable], {
      env: {LD_PRELOAD: env.LD_PRELOAD ?? '', LD_LIBRARY_PATH: env.LD_LIBRARY_PATH ?? ''},
      extendEnv: false,
      reject: false,
      timeout: 10_000,
    });
    if (listed.exitCode === 0) candidates.push(...parseLoaderList(listed.stdout));
  }
  const files: AllocatorFile[] = [];
  const seen = new Set<string>();
  for (const candidate of candidates) {
    let real: string;
    try {
      real = realpathSync(candidate);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    const file = readAllocatorFile(candidate);
    if (file) files.push(file);
  }
  return files;
}
