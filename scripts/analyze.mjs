// `npm run analyze`: what dist/calling-elements.js is made of, biggest first (minified bytes per input).
import { build } from 'esbuild';
import { browserAliases, peerjsFixPlugin } from './aliases.mjs';
import { minifyCssPlugin } from './minify-css.mjs';

const { metafile } = await build({
  entryPoints: ['src/index.ts'], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true,
  write: false, metafile: true, legalComments: 'none', charset: 'utf8', alias: browserAliases, plugins: [minifyCssPlugin, peerjsFixPlugin], logLevel: 'warning',
});
const output = Object.values(metafile.outputs)[0];
const byPackage = new Map();
for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  const key = m ? m[1] : path.split('/').slice(0, 3).join('/');
  byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
}
for (const [key, bytes] of [...byPackage].sort((a, b) => b[1] - a[1])) console.log(`${(bytes / 1024).toFixed(1).padStart(7)} KB  ${key}`);
console.log(`${(output.bytes / 1024).toFixed(1).padStart(7)} KB  total (minified, before gzip)`);
