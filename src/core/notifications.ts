// Local notifications for calls that arrive while the page is in the background (Sinch's
// `localNotificationForIncomingCall`), on the Notification API.
import type { Call } from './events.js';
import { CallingError } from './errors.js';
import type { CallClientEventMap } from './events.js';
import type { TypedEventTarget } from './typed-event-target.js';
import { loadNotifyChunk } from './chunks.js';
import { ANSWER_ACTION, NOTIFICATION_CLICK_MESSAGE } from './notification-names.js';

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

export { ANSWER_ACTION, NOTIFICATION_CLICK_MESSAGE } from './notification-names.js';

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

/** How the notification code (notification-show.ts, a lazy chunk) reports back to the notifier. */
export interface NotificationShower {
  /** Closers of the notifications showing, by call id. */
  readonly open: Map<string, () => void>;
  denied(call: Call): void;
  shown(call: Call, notification: Notification | null, content: LocalNotification, tag: string): void;
  listenToWorker(): void;
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
    try {
      const { showIncomingCallNotification } = await loadNotifyChunk();
      await showIncomingCallNotification(this.host, call, this.shower);
    } catch {
      // A notification is a courtesy: failing to show one (or to fetch its code) must not disturb the call.
    }
  }

  /** What the notification code (a lazy chunk) reports back; the events are made here, with the main bundle's classes. */
  private readonly shower: NotificationShower = {
    open: this.open,
    denied: (call) => this.host.dispatchEvent(new NotificationPermissionDeniedEvent(call)),
    shown: (call, notification, content, tag) => this.host.dispatchEvent(new IncomingCallNotificationEvent(call, notification, content, tag)),
    listenToWorker: () => {
      // Only clients that use a service worker listen to it (a page may hold many clients).
      if (this.listeningToWorker || !navigator.serviceWorker) return;
      this.listeningToWorker = true;
      navigator.serviceWorker.addEventListener('message', (e) => this.onWorkerMessage(e));
    },
  };

  private onWorkerMessage(e: MessageEvent): void {
    const data: unknown = e.data;
    if (typeof data !== 'object' || data === null) return;
    const { type, callId, action } = data as { type?: unknown; callId?: unknown; action?: unknown };
    if (type !== NOTIFICATION_CLICK_MESSAGE || typeof callId !== 'string') return;
    const call = this.host.activeCalls.find((c) => c.id === callId);
    if (call && action === ANSWER_ACTION && call.direction === 'incoming' && call.state === 'ringing') call.answer();
  }
}
