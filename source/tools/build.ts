// `npm run build`: bundles memtop into dist/cli.js (the TUI in chunks batch mode never loads),
// with Ink patched as source/tools/ink-patches.ts says.
import {build, type Plugin} from 'esbuild';
import {chmodSync, readFileSync, rmSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {INK_PATCHES} from './ink-patches.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INK = path.join(ROOT, 'node_modules', 'ink') + path.sep;

const patchInk: Plugin = {
  name: 'memtop-ink-patches',
  setup(context) {
    context.onLoad({filter: /[\\/]node_modules[\\/]ink[\\/]build[\\/].*\.js$/}, args => {
      const patch = INK_PATCHES.find(candidate => args.path === path.join(INK, candidate.file));
      if (!patch) return undefined;
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
  banner: {js: "import {createRequire as __memtopRequire} from 'node:module'; const require = __memtopRequire(import.meta.url);"},
  logLevel: 'warning',
  plugins: [patchInk],
});
chmodSync(path.join(ROOT, 'dist', 'cli.js'), 0o755);
