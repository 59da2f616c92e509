import { setCustomElementsManifest, type Decorator, type Preview } from '@storybook/web-components-vite';
import { html } from 'lit';
import manifest from '../custom-elements.json';
import '../src/index.js';

// Autodocs and controls come from the manifest that `npm run manifest` writes from the elements' JSDoc.
setCustomElementsManifest(manifest);

/** Theme and language from the toolbar, on a wrapper the elements read them from (`theme`, `lang`). */
const withThemeAndLanguage: Decorator = (story, context) => {
  const theme = context.globals.theme === 'dark' ? 'dark' : 'light';
  const lang = context.globals.lang === 'sv' ? 'sv' : 'en';
  return html`<div theme=${theme} lang=${lang} data-story-root
    style="padding: 1rem; min-height: 100vh; box-sizing: border-box; background: ${theme === 'dark' ? '#0d1117' : '#ffffff'}; color: ${theme === 'dark' ? '#e6edf3' : '#1d232a'}">
    ${story()}
  </div>`;
};

const preview: Preview = {
  decorators: [withThemeAndLanguage],
  globalTypes: {
    theme: {
      description: 'Theme of the elements',
      toolbar: { title: 'Theme', icon: 'contrast', items: [{ value: 'light', title: 'Light' }, { value: 'dark', title: 'Dark' }], dynamicTitle: true },
    },
    lang: {
      description: 'Language of the elements',
      toolbar: { title: 'Language', icon: 'globe', items: [{ value: 'en', title: 'English' }, { value: 'sv', title: 'Svenska' }], dynamicTitle: true },
    },
  },
  initialGlobals: { theme: 'light', lang: 'en' },
  parameters: {
    layout: 'fullscreen',
    controls: { expanded: true },
  },
  tags: ['autodocs'],
};
export default preview;
