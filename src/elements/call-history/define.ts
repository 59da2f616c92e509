import { defineElement } from '../shared/chunk-host.js';
import { CallHistoryElement } from './call-history.js';

// Imported eagerly by bundlers using the library modules; the one-file bundle fetches it lazily (loader.ts).
defineElement('call-history', CallHistoryElement);
export { CallHistoryElement };
export { isMissed, missedSince } from '../../core/call-history.js';
