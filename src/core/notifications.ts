// Local notifications for calls that arrive while the page is in the background (Sinch's
// `localNotificationForIncomingCall`), on the Notification API.
import type { Call } from './events.js';
import { CallingError } from './errors.js';
import type { CallClientEventMap } from './events.js';
import type { TypedEventTarget } from './typed-event-target.js';

/** What an incoming-call notification says. */
export interface LocalNotification {
  /** Default: the caller's display name, else their id. */
  title: string;
  /** Default: "Incoming call". */
  body: string;
  /** The answer button's label (service-worker notifications only). Default: "Answer". */
  actionTitle: string;
}

/**
 * Customises the notification for an incoming call: return the fields to change, or `null` for no notification.
 * Set as `client.localNotificationForIncomingCall = (call) => ({ title, body, actionTitle })`.
 */
export type LocalNotificationFactory = (call: Call) => Partial<LocalNotification> | null | undefined;

/** The `type` of the message a service worker posts to the page when a call notification is clicked. */
export const NOTIFICATION_CLICK_MESSAGE = 'calling-elements:notificationclick';
/** The notification action that answers the call. */
export const ANSWER_ACTION = 'answer';

/**
 * `notificationpermissiondenied`: notifications are blocked, so calls arriving in the background cannot be
 * announced. `call` is the call that could not be announced (null after `requestNotificationPermission()`).
 */
export class NotificationPermissionDeniedEvent extends Event {
  static readonly type = 'notificationpermissiondenied';
  constructor(readonly call: Call | null) { super(NotificationPermissionDeniedEvent.type); }
}

/**
 * `incomingcallnotification`: a notification for `call` is showing. `notification` is the `Notification` object,
 * or null when a service worker showed it (find it with `registration.getNotifications({ tag })`).
 */
export class IncomingCallNotificationEvent extends Event {
  static readonly type = 'incomingcallnotification';
  constructor(
    readonly call: Call,
    readonly notification: Notification | null,
    readonly content: Readonly<LocalNotification>,
    readonly tag: string,
  ) { super(IncomingCallNotificationEvent.type); }
}

export interface NotificationEventMap {
  notificationpermissiondenied: NotificationPermissionDeniedEvent;
  incomingcallnotification: IncomingCallNotificationEvent;
}

/** What the notifier needs from the client. */
export interface NotifierHost extends TypedEventTarget<CallClientEventMap> {
  localNotificationForIncomingCall: LocalNotificationFactory | null;
  notificationServiceWorker: ServiceWorkerRegistration | null;
  readonly activeCalls: readonly Call[];
}

// `actions` is missing from TypeScript's NotificationOptions; browsers take it for persistent notifications.
interface PersistentNotificationOptions extends NotificationOptions {
  actions?: Array<{ action: string; title: string }>;
}

/**
 * Shows a notification for every incoming call that arrives while `document.visibilityState` is `hidden` and
 * notification permission is granted; closes it once the call stops ringing (answered, declined, canceled, ended).
 * With a service worker registration (`client.notificationServiceWorker`) the notification has an "Answer" button;
 * the worker forwards clicks to the page (see the README), which answers. A plain notification focuses the page
 * when clicked, with the call still ringing.
 */
export class IncomingCallNotifier {
  private readonly open = new Map<string, () => void>();
  private listeningToWorker = false;

  constructor(private readonly host: NotifierHost) {
    host.addEventListener('incomingcall', (e) => { void this.onIncoming(e.call); });
  }

  /** Asks for notification permission (call from a user gesture). On `denied`, dispatches `notificationpermissiondenied`. */
  async requestPermission(): Promise<NotificationPermission> {
    if (typeof Notification === 'undefined') {
      throw new CallingError('capability', 'notifications-not-supported', 'This browser cannot show notifications.');
    }
    const permission = await Notification.requestPermission();
    if (permission === 'denied') this.host.dispatchEvent(new NotificationPermissionDeniedEvent(null));
    return permission;
  }

  /** Closes every notification still showing. */
  closeAll(): void {
    for (const close of [...this.open.values()]) close();
  }

  private async onIncoming(call: Call): Promise<void> {
    if (typeof document === 'undefined' || document.visibilityState !== 'hidden' || typeof Notification === 'undefined') return;
    if (Notification.permission === 'denied') {
      this.host.dispatchEvent(new NotificationPermissionDeniedEvent(call));
      return;
    }
    if (Notification.permission !== 'granted') return;
    const custom = this.host.localNotificationForIncomingCall?.(call);
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
    const registration = this.host.notificationServiceWorker;
    try {
      if (registration) {
        // Only clients that use a service worker listen to it (a page may hold many clients).
        if (!this.listeningToWorker && navigator.serviceWorker) {
          this.listeningToWorker = true;
          navigator.serviceWorker.addEventListener('message', (e) => this.onWorkerMessage(e));
        }
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
      this.open.delete(call.id);
      close();
    };
    const onState = () => { if (call.state !== 'ringing') done(); };
    call.addEventListener('statechange', onState);
    this.open.set(call.id, done);
    this.host.dispatchEvent(new IncomingCallNotificationEvent(call, notification, content, tag));
    // The call may have stopped ringing while the notification was being shown.
    if (call.state !== 'ringing') done();
  }

  private onWorkerMessage(e: MessageEvent): void {
    const data: unknown = e.data;
    if (typeof data !== 'object' || data === null) return;
    const { type, callId, action } = data as { type?: unknown; callId?: unknown; action?: unknown };
    if (type !== NOTIFICATION_CLICK_MESSAGE || typeof callId !== 'string') return;
    const call = this.host.activeCalls.find((c) => c.id === callId);
    if (call && action === ANSWER_ACTION && call.direction === 'incoming' && call.state === 'ringing') call.answer();
  }
}
