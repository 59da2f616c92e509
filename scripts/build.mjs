// `npm run build`:
// - dist/calling-elements.js: the one module a page loads (every dependency bundled) that defines every element;
//   what a page needs only later (PeerJS once a client goes online, Howler for the first sound, …) is split into
//   dist/chunks/*.js, which the bundle imports relative to its own URL, so one script tag still works from any origin.
//   dist/bundle-meta.json is esbuild's metafile of it: `npm run size` reads first load and total from it;
// - dist/lib/**: the same sources as unbundled ES modules, one per source file, for bundlers (package `exports`,
//   tree-shakable: `calling-elements/core` never imports Lit);
// - dist/types/**: .d.ts files;
// - custom-elements.json: the manifest, from the elements' JSDoc;
// - dist/demo/react-app.js: the React demo's app (demo/react.html).
// `--bundle-only` (used by `npm start` and the size check) makes just dist/calling-elements.js and its chunks.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { browserBundle, elementsBundle, lazyChunkOutputs } from './bundle-options.mjs';
import { bundleSizes } from './bundle-sizes.mjs';
import { minifyCssPlugin } from './minify-css.mjs';

const bundleOnly = process.argv.includes('--bundle-only');

rmSync('dist/chunks', { recursive: true, force: true });
const { metafile } = await build({ ...elementsBundle, sourcemap: true });
for (const [path, output] of lazyChunkOutputs) metafile.outputs[path] = output;
writeFileSync('dist/bundle-meta.json', JSON.stringify(metafile));

// demo/react.html's app: React 19 and the kit from source, one module (served by `npm start` at /dist/demo/).
await build({
  ...browserBundle,
  entryPoints: { 'demo/react-app': 'demo/react-app.jsx' },
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
});

if (!bundleOnly) {
  // Library modules: every browser-side source file, transpiled one to one (dependencies stay imports).
  const sources = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return path === join('src', 'server') || path === join('src', 'vendor') ? [] : sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
  rmSync('dist/lib', { recursive: true, force: true });
  await build({
    entryPoints: sources('src'),
    outbase: 'src',
    outdir: 'dist/lib',
    bundle: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    plugins: [minifyCssPlugin],
    logLevel: 'warning',
  });
  rmSync('dist/types', { recursive: true, force: true });
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['node_modules/@custom-elements-manifest/analyzer/cem.js', 'analyze', '--config', 'custom-elements-manifest.config.mjs', '--quiet'], { stdio: 'inherit' });
}

const { firstLoad, total } = bundleSizes(metafile);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`dist/calling-elements.js: first load ${kb(firstLoad.gzip)} gzipped (${kb(firstLoad.bytes)} minified), all chunks ${kb(total.gzip)} gzipped`);
