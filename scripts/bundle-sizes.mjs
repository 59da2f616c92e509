// Sizes of the split browser bundle, from esbuild's metafile (dist/bundle-meta.json):
// - first load: dist/calling-elements.js and every chunk it imports statically (transitively) — what the browser
//   must fetch before the bundle runs, so before the widget's launcher can paint;
// - total: every .js file of the bundle, lazy chunks included.
// Each file is gzipped on its own (-9), as a server sends it.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export const ENTRY = 'dist/calling-elements.js';

/** { firstLoad, total, files }: bytes and gzip bytes; files lists each output with whether it is in the first load. */
export function bundleSizes(metafile) {
  const js = Object.keys(metafile.outputs).filter((f) => f.endsWith('.js'));
  const first = new Set();
  const visit = (file) => {
    if (first.has(file)) return;
    first.add(file);
    for (const i of metafile.outputs[file]?.imports ?? []) if (i.kind === 'import-statement') visit(i.path);
  };
  visit(ENTRY);
  const files = js.map((file) => {
    const code = readFileSync(file);
    return { file, bytes: code.length, gzip: gzipSync(code, { level: 9 }).length, firstLoad: first.has(file), inputs: metafile.outputs[file].inputs };
  });
  const sum = (list) => ({ bytes: list.reduce((n, f) => n + f.bytes, 0), gzip: list.reduce((n, f) => n + f.gzip, 0) });
  return { firstLoad: sum(files.filter((f) => f.firstLoad)), total: sum(files), files };
}

export function readBundleMeta() {
  return JSON.parse(readFileSync('dist/bundle-meta.json', 'utf8'));
}
