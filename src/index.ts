/** Public entry point: the calling SDK, the context and controller, and the custom elements (tags registered). */
export * from './core/index.js';
export * from './context/index.js';
export * from './elements/index.js';
export { CallWidgetElement } from './elements/call-widget/define.js';
export type { WidgetPosition } from './elements/call-widget/call-widget.js';
/** Internal: what the lazy element chunks of the one-file bundle share with it (see elements/shared/chunk-host.ts). */
export { chunkHost as __chunkHost } from './elements/shared/chunk-host.js';
