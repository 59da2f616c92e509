// Runs only the history tests: `NODE_OPTIONS="--import tsx" npx web-test-runner --config test/browser/history/wtr-history.config.mjs`
import base from '../../../web-test-runner.config.mjs';
export default { ...base, files: ['test/browser/history/**/*.test.ts'], groups: [] };
