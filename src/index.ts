/** Public entry point: the calling SDK (and, as they land, the custom elements). */
export * from './core/index.js';
