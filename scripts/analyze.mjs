// `npm run analyze`: what the bundle is made of, per output file (first load, then the lazy chunks), biggest inputs
// first (minified bytes per package or source folder). Reads the metafile `npm run build` writes; builds if missing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { bundleSizes, readBundleMeta } from './bundle-sizes.mjs';

if (!existsSync('dist/bundle-meta.json') || process.argv.includes('--build')) {
  execFileSync(process.execPath, ['scripts/build.mjs', '--bundle-only'], { stdio: 'ignore' });
}
const kb = (n) => `${(n / 1024).toFixed(1).padStart(6)} KB`;
const { files, firstLoad, total } = bundleSizes(readBundleMeta());
for (const f of files.sort((a, b) => Number(b.firstLoad) - Number(a.firstLoad) || b.gzip - a.gzip)) {
  console.log(`${f.file} — ${f.firstLoad ? 'first load' : 'lazy chunk'}: ${kb(f.bytes).trim()} minified, ${kb(f.gzip).trim()} gzipped`);
  const byPackage = new Map();
  for (const [path, { bytesInOutput }] of Object.entries(f.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const key = m ? m[1] : path.split('/').slice(0, 3).join('/');
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  for (const [key, bytes] of [...byPackage].sort((a, b) => b[1] - a[1])) if (bytes >= 100) console.log(`  ${kb(bytes)}  ${key}`);
}
console.log(`first load ${kb(firstLoad.gzip).trim()} gzipped · all files ${kb(total.gzip).trim()} gzipped`);
