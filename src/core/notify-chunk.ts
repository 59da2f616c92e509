// The lazily loaded notification chunk (see notification-show.ts).
export { showIncomingCallNotification } from './notification-show.js';
