import { defineElement } from '../shared/call-element.js';
import { CallProviderElement } from './call-provider.js';

defineElement('call-provider', CallProviderElement);
export { CallProviderElement };
