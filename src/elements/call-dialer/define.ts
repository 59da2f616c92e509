import { defineElement } from '../shared/call-element.js';
import { CallDialerElement } from './call-dialer.js';

defineElement('call-dialer', CallDialerElement);
export { CallDialerElement };
