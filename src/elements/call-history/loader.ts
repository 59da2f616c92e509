/**
 * `<call-history>` is not needed to paint a page, so its definition is a lazy chunk: the bundle fetches it as soon as
 * a `<call-history>` is in the document (now or later; the element upgrades when defined), and otherwise on idle with
 * the SDK's chunks. A `<call-history>` inside a shadow root is not seen here: call `loadCallHistoryElement()`.
 */
import { addPreload, lazyChunk } from '../../core/chunks.js';

/**
 * Fetches and defines `<call-history>` (once per page) and resolves to its chunk: `{ CallHistoryElement, isMissed,
 * missedSince }`. Rejects with a `network` CallingError (`chunk-load-failed`) when the chunk cannot load.
 */
export const loadCallHistoryElement = lazyChunk(() => import('./call-history-chunk.js'));

addPreload(loadCallHistoryElement);
if (typeof document === 'object' && !customElements.get('call-history')) {
  const look = () => {
    if (document.querySelector('call-history')) loadCallHistoryElement().then(() => observer.disconnect(), () => undefined);
  };
  const observer = new MutationObserver(look);
  observer.observe(document, { childList: true, subtree: true });
  look();
}
