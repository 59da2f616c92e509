import { defineElement } from '../shared/call-element.js';
import { CallControlsElement } from './call-controls.js';

defineElement('call-controls', CallControlsElement);
export { CallControlsElement };
