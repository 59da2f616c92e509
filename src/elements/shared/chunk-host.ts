/**
 * What the lazy element chunks (e.g. `<call-history>`'s) share with the bundle that loads them: the one copy of
 * Lit, the element base, the provider's context and the icons. Element chunks import these from here only. In
 * `dist/calling-elements.js` the entry exports `chunkHost` as `__chunkHost`, and the chunk build
 * (`scripts/bundle-options.mjs`) turns an import of this module into one of the entry itself, so a chunk never
 * carries (or re-registers) its own copy; from source or `dist/lib` it is this plain module.
 */
import { css, html, nothing } from 'lit';
import { CallElement, defineElement } from './call-element.js';
import { CallController } from '../../context/call-controller.js';
import { icon, icons } from './icons.js';
import { formatPhone } from '../call-dialer/phone-format.js';

export { css, html, nothing, CallElement, defineElement, CallController, icon, icons, formatPhone };

/** The same as one object (the chunk build reads its member names from this literal). */
export const chunkHost = { css, html, nothing, CallElement, defineElement, CallController, icon, icons, formatPhone };
