// Showing the notification for a call that rings while the page is hidden: a lazy chunk (notify-chunk.ts), fetched
// on idle or when such a call arrives. Imports types only (no class of the main bundle); the notifier makes the events.
import type { Call } from './events.js';
import { ANSWER_ACTION } from './notification-names.js';
import type { LocalNotification, NotificationShower, NotifierHost } from './notifications.js';

// `actions` is missing from TypeScript's NotificationOptions; browsers take it for persistent notifications.
interface PersistentNotificationOptions extends NotificationOptions {
  actions?: Array<{ action: string; title: string }>;
}

/** Shows `call`'s notification (permission granted, page hidden) and closes it once the call stops ringing. */
export async function showIncomingCallNotification(host: NotifierHost, call: Call, shower: NotificationShower): Promise<void> {
  if (Notification.permission === 'denied') {
    shower.denied(call);
    return;
  }
  if (Notification.permission !== 'granted') return;
  const custom = host.localNotificationForIncomingCall?.(call);
  if (custom === null) return;
  const caller = call.callType === 'conference' ? { displayName: call.remoteDisplayName } : call.participants[0];
  const content: LocalNotification = {
    title: custom?.title ?? caller?.displayName ?? call.remoteUserId,
    body: custom?.body ?? 'Incoming call',
    actionTitle: custom?.actionTitle ?? 'Answer',
  };
  const tag = `call-${call.id}`;
  const options: PersistentNotificationOptions = { body: content.body, tag, requireInteraction: true, data: { callId: call.id } };
  let notification: Notification | null = null;
  let close: () => void;
  const registration = host.notificationServiceWorker;
  try {
    if (registration) {
      shower.listenToWorker();
      const withAction: PersistentNotificationOptions = { ...options, actions: [{ action: ANSWER_ACTION, title: content.actionTitle }] };
      await registration.showNotification(content.title, withAction);
      close = () => { void registration.getNotifications({ tag }).then((list) => list.forEach((n) => n.close())); };
    } else {
      const shown = new Notification(content.title, options);
      shown.onclick = () => {
        window.focus();
        shown.close();
      };
      notification = shown;
      close = () => shown.close();
    }
  } catch {
    // A notification is a courtesy: failing to show one must not disturb the call.
    return;
  }
  const done = () => {
    call.removeEventListener('statechange', onState);
    shower.open.delete(call.id);
    close();
  };
  const onState = () => { if (call.state !== 'ringing') done(); };
  call.addEventListener('statechange', onState);
  shower.open.set(call.id, done);
  shower.shown(call, notification, content, tag);
  // The call may have stopped ringing while the notification was being shown.
  if (call.state !== 'ringing') done();
}
