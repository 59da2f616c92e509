import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { bundledDepsPlugin, callingServerPlugin, pagesPlugin, pageStatePlugin, turnPlugin } from './test/support/wtr-plugins.mjs';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const baseArgs = [
  '--no-sandbox',
  '--headless=new',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
const fakeMedia = ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required'];

const browser = (args) => chromeLauncher({ launchOptions: { executablePath: chromium, args: [...baseArgs, ...args] } });

export default {
  nodeResolve: true,
  concurrency: 1,
  testsFinishTimeout: 10 * 60_000,
  testFramework: { config: { timeout: 30_000 } },
  plugins: [callingServerPlugin(), bundledDepsPlugin(), pagesPlugin(), turnPlugin(), pageStatePlugin(), esbuildPlugin({ ts: true, target: 'es2022', tsconfig: 'tsconfig.json' })],
  filterBrowserLogs: ({ args }) => !String(args[0] ?? '').includes('Lit is in dev mode'),
  // Every test file runs in Chromium with fake camera and microphone. `web-test-runner <files>` runs just those.
  files: ['test/browser/**/*.test.ts', '!test/browser/**/*.denied.test.ts', '!test/browser/**/*.autoplay.test.ts'],
  browsers: [browser(fakeMedia)],
  groups: [
    // Camera and microphone refused: no fake-UI auto-accept, and permission prompts denied.
    {
      name: 'media-denied',
      files: ['test/browser/**/*.denied.test.ts'],
      browsers: [browser(['--use-fake-device-for-media-stream', '--deny-permission-prompts'])],
    },
    // Autoplay locked, as on a real first visit: no --autoplay-policy flag, so sound needs a user gesture.
    {
      name: 'autoplay-locked',
      files: ['test/browser/**/*.autoplay.test.ts'],
      browsers: [browser(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'])],
    },
  ],
};
