// Registers `<call-history>` eagerly (bundlers importing the library modules); the one-file bundle loads it lazily (loader.ts).
export { CallHistoryElement } from './call-history-chunk.js';
