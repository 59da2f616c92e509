import { defineElement } from '../shared/call-element.js';
import { CallWidgetElement } from './call-widget.js';

defineElement('call-widget', CallWidgetElement);
export { CallWidgetElement };
