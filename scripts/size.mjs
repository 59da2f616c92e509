// `npm run size`: builds dist/calling-elements.js and fails when it is over the budget (gzip -9).
// Prints the figure either way, with the biggest inputs when over, so the cause is one look away.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export const BUDGET_KB = 55;

if (!process.argv.includes('--no-build')) {
  execFileSync(process.execPath, ['scripts/build.mjs', '--bundle-only'], { stdio: 'ignore' });
}
const js = readFileSync('dist/calling-elements.js');
const gz = gzipSync(js, { level: 9 }).length / 1024;
const line = `dist/calling-elements.js: ${(js.length / 1024).toFixed(1)} KB minified, ${gz.toFixed(1)} KB gzipped (budget ${BUDGET_KB} KB gzipped)`;
if (gz > BUDGET_KB) {
  console.error(`size: OVER BUDGET — ${line}. Run \`npm run analyze\` to see what grew.`);
  process.exit(1);
}
console.log(`size: ok — ${line}, ${(BUDGET_KB - gz).toFixed(1)} KB to spare`);
