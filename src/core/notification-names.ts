// Names shared by the page and the service worker (and by the notification chunk, which imports nothing else).
/** The `type` of the message a service worker posts to the page when a call notification is clicked. */
export const NOTIFICATION_CLICK_MESSAGE = 'calling-elements:notificationclick';
/** The notification action that answers the call. */
export const ANSWER_ACTION = 'answer';
