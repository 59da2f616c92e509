// The esbuild options every self-contained browser bundle of ours shares (dist, tests, bench): the aliases and the
// PeerJS fix keep it small and safe, the CSS squeeze keeps Lit's styles small.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { browserAliases, peerjsFixPlugin } from './aliases.mjs';
import { minifyCssPlugin } from './minify-css.mjs';

export const browserBundle = {
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  // Module scripts are always decoded as UTF-8: no need for \u escapes (the Swedish strings shrink).
  charset: 'utf8',
  alias: browserAliases,
  plugins: [minifyCssPlugin, peerjsFixPlugin],
  logLevel: 'warning',
};

/**
 * esbuild plugin: the SDK's lazy chunks (`src/core/*-chunk.ts`, imported only with `import()`, see core/chunks.ts)
 * are built as bundles of their own into `<outdir>/chunks/<name>-<hash>.js`, and the entry's `import()` points there,
 * relative to the entry's own URL. esbuild's own code splitting would put its runtime helpers, which entry and
 * chunks share, into a third chunk that the entry imports statically: one more round trip before the first paint.
 */
/** What each lazy chunk was built from (esbuild metafile outputs, by path), for `npm run size` and `analyze`. */
export const lazyChunkOutputs = new Map();

/**
 * esbuild plugin for a lazy chunk's own build: `src/elements/shared/chunk-host.ts` (Lit, the element base, the
 * context, translations, icons) becomes an import of the entry (`../<entry>.js`, which exports it as `__chunkHost`),
 * so an element chunk uses the bundle's one copy of each instead of its own. The names are read from the host's
 * `chunkHost` object literal.
 */
const chunkHostPlugin = (entry) => ({
  name: 'chunk-host',
  setup(b) {
    b.onResolve({ filter: /\/chunk-host\.js$/ }, (args) => ({ path: join(args.resolveDir, args.path.replace(/\.js$/, '.ts')), namespace: 'chunk-host' }));
    b.onLoad({ filter: /.*/, namespace: 'chunk-host' }, (args) => {
      const names = /export const chunkHost = \{([^}]*)\}/.exec(readFileSync(args.path, 'utf8'))[1].split(',').map((n) => n.trim()).filter(Boolean);
      return { contents: `import { __chunkHost as host } from ${JSON.stringify(`../${entry}.js`)};\nexport const { ${names.join(', ')} } = host;\n`, loader: 'js' };
    });
    b.onResolve({ filter: /.*/, namespace: 'chunk-host' }, (args) => ({ path: args.path, external: true }));
  },
});

const lazyChunksPlugin = {
  name: 'lazy-chunks',
  setup(b) {
    const outdir = b.initialOptions.outdir ?? 'dist';
    const entryPoints = b.initialOptions.entryPoints;
    const entry = entryPoints && !Array.isArray(entryPoints) ? Object.keys(entryPoints)[0] : 'calling-elements';
    const done = new Map();
    b.onResolve({ filter: /-chunk\.js$/ }, async (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const source = join(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      if (!done.has(source)) {
        done.set(source, (async () => {
          const out = await build({
            ...browserBundle, entryPoints: [source], outdir: undefined, write: false, metafile: true, legalComments: 'none',
            plugins: [...browserBundle.plugins, chunkHostPlugin(entry)],
          });
          const code = out.outputFiles[0].contents;
          const name = `${basename(source, '.ts')}-${createHash('sha256').update(code).digest('hex').slice(0, 8)}.js`;
          mkdirSync(join(outdir, 'chunks'), { recursive: true });
          writeFileSync(join(outdir, 'chunks', name), code);
          lazyChunkOutputs.set(join(outdir, 'chunks', name), Object.values(out.metafile.outputs)[0]);
          return `./chunks/${name}`;
        })());
      }
      return { path: await done.get(source), external: true };
    });
  },
};

/** dist/calling-elements.js: one module with everything a page needs to paint; the rest in chunks/ beside it. */
export const elementsBundle = {
  ...browserBundle,
  entryPoints: { 'calling-elements': 'src/index.ts' },
  plugins: [...browserBundle.plugins, lazyChunksPlugin],
  metafile: true,
  legalComments: 'none',
};
