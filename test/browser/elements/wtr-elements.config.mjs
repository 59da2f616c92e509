// Runs only the element tests, in the same Chromium setup as the main config, without its other groups:
// `NODE_OPTIONS="--import tsx" npx web-test-runner --config test/browser/elements/wtr-elements.config.mjs`
import base from '../../../web-test-runner.config.mjs';

export default {
  ...base,
  files: ['test/browser/elements/**/*.test.ts'],
  groups: [],
};
