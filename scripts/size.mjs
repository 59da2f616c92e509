// `npm run size`: builds the bundle and fails when its first load (dist/calling-elements.js and the chunks it
// imports statically) or its total (every chunk) is over budget, gzip -9 per file as served.
// Prints the figures either way, with the files of each, so the cause is one look away.
import { execFileSync } from 'node:child_process';
import { bundleSizes, readBundleMeta } from './bundle-sizes.mjs';

export const FIRST_LOAD_BUDGET_KB = 40;
export const TOTAL_BUDGET_KB = 70;

if (!process.argv.includes('--no-build')) {
  execFileSync(process.execPath, ['scripts/build.mjs', '--bundle-only'], { stdio: 'ignore' });
}
const { firstLoad, total, files } = bundleSizes(readBundleMeta());
const kb = (n) => (n / 1024).toFixed(1);
for (const f of files.sort((a, b) => b.gzip - a.gzip)) {
  console.log(`  ${kb(f.gzip).padStart(5)} KB gz  ${f.firstLoad ? 'first load' : 'lazy      '}  ${f.file}`);
}
const checks = [
  ['first load', firstLoad.gzip / 1024, FIRST_LOAD_BUDGET_KB],
  ['total', total.gzip / 1024, TOTAL_BUDGET_KB],
];
let over = false;
for (const [name, gz, budget] of checks) {
  const line = `${name}: ${gz.toFixed(1)} KB gzipped (budget ${budget} KB)`;
  if (gz > budget) {
    over = true;
    console.error(`size: OVER BUDGET — ${line}. Run \`npm run analyze\` to see what grew.`);
  } else console.log(`size: ok — ${line}, ${(budget - gz).toFixed(1)} KB to spare`);
}
if (over) process.exit(1);
