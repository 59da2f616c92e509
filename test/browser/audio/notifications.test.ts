// Local notifications for calls arriving in the background. The page is really hidden (its window minimized, so
// `document.visibilityState` is 'hidden') and notification permission is really granted, through server commands.
import { expect } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import type { CallClient, IncomingCallEvent, IncomingCallNotificationEvent, NotificationPermissionDeniedEvent } from '../../../src/core/index.js';
import { nextEvent, startClient, stopClients, uniqueUser, waitFor } from '../helpers.js';

async function setHidden(hidden: boolean): Promise<void> {
  await executeServerCommand('page-visibility', { hidden });
  await waitFor(() => document.visibilityState === (hidden ? 'hidden' : 'visible'), 5000, `visibility ${hidden ? 'hidden' : 'visible'}`);
}

async function pair(): Promise<{ alice: CallClient; bob: CallClient }> {
  const aliceId = uniqueUser('alice');
  const [alice, bob] = await Promise.all([
    startClient(aliceId, { displayName: 'Alice Example', audio: false }),
    startClient(uniqueUser('bob'), { audio: false }),
  ]);
  return { alice, bob };
}

let registration: ServiceWorkerRegistration | undefined;
before(async () => {
  await executeServerCommand('page-permissions', { grant: ['notifications'] });
});
afterEach(async () => {
  await setHidden(false);
  await stopClients();
});
after(async () => {
  await registration?.unregister();
  await executeServerCommand('page-permissions', { clear: true });
});

describe('incoming-call notifications', () => {
  it('a call arriving while the page is hidden shows a notification with the defaults, closed when the caller cancels', async () => {
    expect(Notification.permission).to.equal('granted');
    const { alice, bob } = await pair();
    await setHidden(true);
    const shown = nextEvent<IncomingCallNotificationEvent>(bob, 'incomingcallnotification');
    const out = alice.callUser(bob.userId);
    const e = await shown;
    expect(e.content).to.deep.equal({ title: 'Alice Example', body: 'Incoming call', actionTitle: 'Answer' });
    const n = e.notification!;
    expect(n).to.be.instanceOf(Notification);
    expect(n.title).to.equal('Alice Example');
    expect(n.body).to.equal('Incoming call');
    expect(n.tag).to.equal(`call-${e.call.id}`);
    // Chromium's 'show' event: the notification reached the platform.
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no show event')), 5000);
      n.addEventListener('show', () => { clearTimeout(t); resolve(); });
    });
    const closed = new Promise<void>((resolve) => n.addEventListener('close', () => resolve()));
    out.hangup();
    await nextEvent(e.call, 'ended');
    expect(e.call.details.endCause).to.equal('canceled');
    await closed;
  });

  it('custom texts, an Answer action through a service worker, and the notification closes on cancel', async () => {
    registration = await navigator.serviceWorker.register('/test/browser/audio/fixtures/notify-sw.js', { scope: '/test/browser/audio/fixtures/' });
    await waitFor(() => registration!.active !== null, 5000, 'service worker');
    const { alice, bob } = await pair();
    bob.notificationServiceWorker = registration;
    bob.localNotificationForIncomingCall = (call) => ({ title: `Call from ${call.remoteUserId}`, body: 'Pick up!', actionTitle: 'Take it' });
    await setHidden(true);
    const shown = nextEvent<IncomingCallNotificationEvent>(bob, 'incomingcallnotification');
    const out = alice.callUser(bob.userId);
    const e = await shown;
    expect(e.notification).to.equal(null);
    // What the browser really shows, read back from the platform.
    const [n, ...rest] = await registration.getNotifications({ tag: e.tag });
    expect(rest).to.have.length(0);
    expect(n!.title).to.equal(`Call from ${alice.userId}`);
    expect(n!.body).to.equal('Pick up!');
    expect((n as Notification & { actions: Array<{ action: string; title: string }> }).actions.map((a) => [a.action, a.title])).to.deep.equal([['answer', 'Take it']]);

    out.hangup();
    await nextEvent(e.call, 'ended');
    await waitFor(async () => (await registration!.getNotifications({ tag: e.tag })).length === 0, 5000, 'notification closed');
  });

  it("the service worker's Answer click answers the call (click forwarded by the worker)", async () => {
    registration ??= await navigator.serviceWorker.register('/test/browser/audio/fixtures/notify-sw.js', { scope: '/test/browser/audio/fixtures/' });
    await waitFor(() => registration!.active !== null, 5000, 'service worker');
    const { alice, bob } = await pair();
    bob.notificationServiceWorker = registration;
    await setHidden(true);
    const shown = nextEvent<IncomingCallNotificationEvent>(bob, 'incomingcallnotification');
    const out = alice.callUser(bob.userId);
    const e = await shown;
    const established = Promise.all([nextEvent(out, 'established'), nextEvent(e.call, 'established')]);
    registration.active!.postMessage({ type: 'simulate-click', callId: e.call.id, action: 'answer' });
    await established;
    await waitFor(async () => (await registration!.getNotifications({ tag: e.tag })).length === 0, 5000, 'notification closed on answer');
  });

  it('no notification while the page is visible; declining closes it; the app can opt out per call', async () => {
    const { alice, bob } = await pair();
    const events: IncomingCallNotificationEvent[] = [];
    bob.addEventListener('incomingcallnotification', (e) => events.push(e));

    const first = nextEvent<IncomingCallEvent>(bob, 'incomingcall');
    const out1 = alice.callUser(bob.userId);
    await first;
    await new Promise((r) => setTimeout(r, 300));
    expect(events).to.have.length(0);
    out1.hangup();
    await waitFor(() => bob.activeCalls.length === 0, 5000, 'first call gone');

    await setHidden(true);
    const shown = nextEvent<IncomingCallNotificationEvent>(bob, 'incomingcallnotification');
    alice.callUser(bob.userId);
    const e = await shown;
    // A notification closed before Chromium showed it may get no 'close' event; a user declines after seeing it.
    await new Promise((resolve) => e.notification!.addEventListener('show', resolve));
    const closed = new Promise<void>((resolve) => e.notification!.addEventListener('close', () => resolve()));
    e.call.hangup(); // declined, e.g. from the page's own UI
    await closed;

    bob.localNotificationForIncomingCall = () => null;
    const third = nextEvent<IncomingCallEvent>(bob, 'incomingcall');
    alice.callUser(bob.userId);
    await third;
    await new Promise((r) => setTimeout(r, 1500));
    expect(events).to.have.length(1);
  });

  it('permission denied: an event tells the app, and the call still rings', async () => {
    await executeServerCommand('page-permissions', { grant: [] });
    try {
      expect(Notification.permission).to.equal('denied');
      const { alice, bob } = await pair();
      await setHidden(true);
      const denied = nextEvent<NotificationPermissionDeniedEvent>(bob, 'notificationpermissiondenied');
      alice.callUser(bob.userId);
      const e = await denied;
      expect(e.call!.state).to.equal('ringing');
      expect(await bob.requestNotificationPermission()).to.equal('denied');
    } finally {
      await executeServerCommand('page-permissions', { grant: ['notifications'] });
    }
  });
});
