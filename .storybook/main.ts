// Storybook 10 for the calling elements. Offline, telemetry off (also `--disable-telemetry` and
// STORYBOOK_DISABLE_TELEMETRY=1 in the npm scripts). Stories run on the scripted fake client in stories/support.
import type { StorybookConfig } from '@storybook/web-components-vite';
import { mergeConfig } from 'vite';
import { browserAliases } from '../scripts/aliases.mjs';

const config: StorybookConfig = {
  stories: ['../stories/**/*.stories.ts'],
  addons: ['@storybook/addon-docs'],
  framework: { name: '@storybook/web-components-vite', options: {} },
  core: { disableTelemetry: true, disableWhatsNewNotifications: true },
  docs: { defaultName: 'Docs' },
  viteFinal: (vite) =>
    mergeConfig(vite, {
      resolve: { alias: browserAliases },
      // Lit's decorators as TypeScript compiles them (experimentalDecorators, no define semantics for fields).
      esbuild: { tsconfigRaw: { compilerOptions: { experimentalDecorators: true, useDefineForClassFields: false } } },
      build: { chunkSizeWarningLimit: 4096 },
      logLevel: 'warn',
    }),
};
export default config;
