// The lazy chunk of `<call-history>` (see loader.ts): loading it defines the tag, and elements already in the page upgrade.
import { defineElement } from '../shared/chunk-host.js';
import { CallHistoryElement } from './call-history.js';

defineElement('call-history', CallHistoryElement);
export { CallHistoryElement };
