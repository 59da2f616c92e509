// Runs only the element tests, in the same Chromium setups as the main config (including its autoplay-locked group):
// `NODE_OPTIONS="--import tsx" npx web-test-runner --config test/browser/elements/wtr-elements.config.mjs`
import base from '../../../web-test-runner.config.mjs';

export default {
  ...base,
  files: ['test/browser/elements/**/*.test.ts', '!test/browser/elements/**/*.autoplay.test.ts'],
  groups: (base.groups ?? [])
    .filter((g) => g.name === 'autoplay-locked')
    .map((g) => ({ ...g, files: ['test/browser/elements/**/*.autoplay.test.ts'] })),
};
