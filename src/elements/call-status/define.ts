import { defineElement } from '../shared/call-element.js';
import { CallStatusElement } from './call-status.js';

defineElement('call-status', CallStatusElement);
export { CallStatusElement };
