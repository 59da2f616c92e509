// The widget is made of the public elements: registering it registers them.
import '../call-provider/define.js';
import '../call-dialer/define.js';
import '../incoming-call/define.js';
import '../video-view/define.js';
import '../call-controls/define.js';
import '../call-status/define.js';
import { defineElement } from '../shared/call-element.js';
import { CallWidgetElement } from './call-widget.js';

defineElement('call-widget', CallWidgetElement);
export { CallWidgetElement };
