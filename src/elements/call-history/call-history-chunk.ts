// The lazy chunk of `<call-history>` (see loader.ts): loading it defines the tag, and elements already in the page upgrade.
export { CallHistoryElement } from './define.js';
