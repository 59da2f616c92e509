// `npm run build`: dist/calling-elements.js (one self-contained ES module, every dependency bundled) and .d.ts files.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { browserAliases } from './aliases.mjs';

const result = await build({
  entryPoints: { 'calling-elements': 'src/index.ts' },
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  metafile: true,
  alias: browserAliases,
  logLevel: 'warning',
});

// `--bundle-only` (used by `npm start`) skips the type declarations.
if (!process.argv.includes('--bundle-only')) {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}

const js = readFileSync('dist/calling-elements.js');
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`dist/calling-elements.js: ${kb(js.length)} minified, ${kb(gzipSync(js, { level: 9 }).length)} gzipped`);
void result;
