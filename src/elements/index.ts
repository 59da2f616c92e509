/**
 * The custom elements. Importing this module registers every tag (guarded, so a second copy does not throw);
 * import an element's class from its own module to register nothing.
 */
import { addPreload } from '../core/chunks.js';
import { loadTranslation, registerLazyTranslation, registerTranslation } from './shared/localize.js';
import en from './shared/translations/en.js';

// Explicit registration (a bare import of a translation file may be dropped as side-effect free by bundlers).
// Swedish is fetched when an element first needs it (or on idle), so English pages do not carry it.
registerTranslation(en);
registerLazyTranslation('sv', () => import('./shared/translations/sv-chunk.js').then((m) => m.default));
addPreload(() => loadTranslation('sv'));
if (typeof document === 'object' && document.documentElement.lang) loadTranslation(document.documentElement.lang).catch(() => undefined);
export { CallProviderElement } from './call-provider/define.js';
export { CallDialerElement } from './call-dialer/define.js';
export { IncomingCallElement } from './incoming-call/define.js';
export { VideoViewElement } from './video-view/define.js';
export { CallControlsElement } from './call-controls/define.js';
export { CallStatusElement } from './call-status/define.js';
export { loadCallHistoryElement } from './call-history/loader.js';
export type { CallHistoryElement } from './call-history/call-history.js';
export type { CallDialDetail, DialMode } from './call-dialer/call-dialer.js';
export { CallElement, defineElement } from './shared/call-element.js';
export { LocalizeController, loadTranslation, registerLazyTranslation, registerTranslation } from './shared/localize.js';
export type { Translation } from './shared/localize.js';
