/**
 * The custom elements. Importing this module registers every tag (guarded, so a second copy does not throw);
 * import an element's class from its own module to register nothing.
 */
import { registerTranslation } from './shared/localize.js';
import en from './shared/translations/en.js';
import sv from './shared/translations/sv.js';

// Explicit registration (a bare import of a translation file may be dropped as side-effect free by bundlers).
registerTranslation(en, sv);
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
export { LocalizeController, registerTranslation } from './shared/localize.js';
export type { Translation } from './shared/localize.js';
