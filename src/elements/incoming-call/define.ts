import { defineElement } from '../shared/call-element.js';
import { IncomingCallElement } from './incoming-call.js';

defineElement('incoming-call', IncomingCallElement);
export { IncomingCallElement };
