import { defineElement } from '../shared/call-element.js';
import { VideoViewElement } from './video-view.js';

defineElement('video-view', VideoViewElement);
export { VideoViewElement };
