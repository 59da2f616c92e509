// Sizes of the browser bundle, from esbuild's metafile (dist/bundle-meta.json):
// - first load: dist/calling-elements.js and every file it imports statically (transitively) — what the browser
//   must fetch before the bundle runs, so before the widget's launcher can paint;
// - total: that and every chunk it imports with `import()` (the lazy chunks in dist/chunks/).
// Each file is gzipped on its own (-9), as a server sends it.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const ENTRY = 'dist/calling-elements.js';

/**
 * { firstLoad, total, files }: bytes and gzip bytes; files lists each file with whether it is in the first load.
 * `entry` is the entry's output path as the metafile names it (relative to the working directory).
 */
export function bundleSizes(metafile, entry = ENTRY) {
  const seen = new Map();
  const visit = (file, firstLoad) => {
    if (seen.has(file) && (seen.get(file) || !firstLoad)) return;
    seen.set(file, firstLoad);
    for (const i of metafile.outputs[file]?.imports ?? []) {
      // Chunks built on their own are external to the entry's build, named relative to the importing file.
      const path = i.external ? join(dirname(file), i.path) : i.path;
      if (i.external && !/^\.\.?\//.test(i.path)) continue;
      visit(path, firstLoad && i.kind === 'import-statement');
    }
  };
  visit(entry, true);
  const files = [...seen].map(([file, firstLoad]) => {
    const code = readFileSync(file);
    return { file, bytes: code.length, gzip: gzipSync(code, { level: 9 }).length, firstLoad, inputs: metafile.outputs[file]?.inputs ?? {} };
  });
  const sum = (list) => ({ bytes: list.reduce((n, f) => n + f.bytes, 0), gzip: list.reduce((n, f) => n + f.gzip, 0) });
  return { firstLoad: sum(files.filter((f) => f.firstLoad)), total: sum(files), files };
}

export function readBundleMeta() {
  return JSON.parse(readFileSync('dist/bundle-meta.json', 'utf8'));
}
