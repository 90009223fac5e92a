// `npm run build`: bundles memtop into dist/cli.js (the TUI in chunks batch mode never loads),
// with Ink and the packages it draws with patched as source/tools/ink-patches.ts says.
import {build, type Plugin} from 'esbuild';
import {chmodSync, readFileSync, realpathSync, rmSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {INK_PATCHES} from './ink-patches.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// esbuild names files by their real path: a worktree's node_modules may be a link to another's.
const NODE_MODULES = realpathSync(path.join(ROOT, 'node_modules')) + path.sep;
const applied = new Set<string>();

const patchInk: Plugin = {
  name: 'memtop-ink-patches',
  setup(context) {
    context.onLoad({filter: /[\\/]node_modules[\\/].*\.js$/}, args => {
      const patch = INK_PATCHES.find(candidate => args.path === path.join(NODE_MODULES, candidate.file));
      if (!patch) return undefined;
      applied.add(patch.file);
      return {contents: patch.apply(readFileSync(args.path, 'utf8')), loader: 'js'};
    });
  },
};

rmSync(path.join(ROOT, 'dist'), {recursive: true, force: true});
await build({
  entryPoints: [path.join(ROOT, 'source', 'cli.tsx')],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: path.join(ROOT, 'dist'),
  entryNames: 'cli',
  chunkNames: '[name]-[hash]',
  external: ['react-devtools-core'],
  // React's, Ink's and the scheduler's development builds (checks and warnings on every render)
  // are never what memtop runs, yet each module's source stays in memory once its chunk loads.
  // cli.tsx still sets NODE_ENV at run time for whatever reads it unbundled.
  define: {'process.env.NODE_ENV': '"production"'},
  logOverride: {'assign-to-define': 'silent'},
  banner: {js: "import {createRequire as __memtopRequire} from 'node:module'; const require = __memtopRequire(import.meta.url);"},
  logLevel: 'warning',
  plugins: [patchInk],
});
// A patch whose file the bundle never loaded (a package moved or nested anew) is a patch not applied.
const missed = INK_PATCHES.filter(patch => !applied.has(patch.file)).map(patch => patch.file);
if (missed.length > 0) throw new Error(`the bundle did not load ${missed.join(', ')}: review source/tools/ink-patches.ts`);
chmodSync(path.join(ROOT, 'dist', 'cli.js'), 0o755);
