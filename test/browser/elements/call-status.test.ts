import { expect, fixture, html } from '@open-wc/testing';
import type { CallEndCause } from '../../../src/core/index.js';
import type { CallStatusElement } from '../../../src/elements/index.js';
import { LocalizeController } from '../../../src/elements/index.js';
import { callingServer, child, fakeProvider, part, settle, shadowText, waitFor } from './element-helpers.js';

const ui = html`<call-dialer></call-dialer><call-status></call-status>`;
const CAUSES: CallEndCause[] = ['hungUp', 'denied', 'canceled', 'noAnswer', 'unavailable', 'timeout', 'failure', 'otherDeviceAnswered'];

describe('<call-status>', () => {
  afterEach(settle);

  it('says Offline outside a provider, in an aria-live region, axe-clean', async () => {
    const el = await fixture<CallStatusElement>(html`<call-status></call-status>`);
    const state = part(el, 'state');
    expect(state.textContent).to.equal('Offline');
    expect(state.getAttribute('aria-live')).to.equal('polite');
    expect(state.getAttribute('role')).to.equal('status');
    await expect(el).to.be.accessible();
  });

  // On the stories' fake client: what the status says in each state. That the callee's display name reaches the caller
  // when its device rings is calls.test.ts's part.
  it('follows a call: calling, ringing, connected with a running timer, ended — in English and Swedish', async () => {
    // Slow enough that each state is on screen for a while.
    const { provider: alice } = await fakeProvider(ui, { script: { progress: 200, ring: 500, answer: 900 } });
    const statusA = child(alice, 'call-status');
    await statusA.updateComplete;
    expect(shadowText(statusA)).to.equal('Ready');
    const dialer = child(alice, 'call-dialer');
    dialer.value = 'bob';
    const call = dialer.dial()!;
    await waitFor(() => /^Calling bob/.test(shadowText(statusA)), 2000, 'calling');
    await waitFor(() => shadowText(statusA) === 'Ringing bob…', 2000, 'ringing');
    await expect(statusA).to.be.accessible();
    await waitFor(() => shadowText(statusA).startsWith('Connected'), 2000, 'connected');
    expect(part(statusA, 'timer').textContent).to.match(/^00:0\d$/);
    expect(part(statusA, 'timer').getAttribute('role')).to.equal('timer');
    await waitFor(() => part(statusA, 'timer').textContent !== '00:00', 3000, 'timer runs');
    await expect(statusA).to.be.accessible();
    call.hangup();
    await waitFor(() => shadowText(statusA) === 'Call ended', 2000, 'ended');

    const { provider: bob, client } = await fakeProvider(ui, {}, 'sv');
    const statusB = child(bob, 'call-status');
    await waitFor(() => shadowText(statusB) === 'Redo', 2000, 'sv ready');
    const incoming = client.ringIn({ id: 'alice', displayName: 'Alice' });
    await waitFor(() => shadowText(statusB) === 'Inkommande samtal från Alice', 2000, 'incoming sv');
    incoming.answer();
    await waitFor(() => /^Ansluten 00:0\d$/.test(shadowText(statusB)), 2000, 'connected sv');
    incoming.hangup();
    await waitFor(() => shadowText(statusB) === 'Samtalet avslutat', 2000, 'ended sv');
  });

  it('has a human message for every end cause, in both languages', async () => {
    const el = await fixture<CallStatusElement>(html`<call-status></call-status>`);
    const l = new LocalizeController(el);
    for (const lang of ['en', 'sv']) {
      el.lang = lang;
      const seen = new Set(CAUSES.map((c) => l.t.ended[c]));
      expect(seen.size, lang).to.equal(CAUSES.length);
    }
    expect(l.duration(83)).to.equal('01:23');
    expect(l.duration(3723)).to.equal('1:02:03');
  });

  it('shows the typed error of a call that failed', async () => {
    const { provider } = await fakeProvider(ui, { outcome: 'failure' });
    const dialer = child(provider, 'call-dialer');
    dialer.value = 'bob';
    const call = dialer.dial()!;
    const status = child(provider, 'call-status');
    await waitFor(() => call.state === 'ended', 2000, 'failed');
    await waitFor(() => part(status, 'error').textContent === call.details.error!.message, 2000, 'error shown');
    expect(shadowText(status)).to.contain('Call ended');
    await expect(status).to.be.accessible();
  });

  it('shows the error of a connection that failed (a token that cannot be had)', async () => {
    const server = await callingServer();
    const failing = await fixture(html`<call-provider server=${server} user-id="nobody-here" token-url="/__no-such-token"><call-status></call-status></call-provider>`);
    const s2 = failing.querySelector('call-status')!;
    await waitFor(() => (part(s2, 'error').textContent ?? '').length > 0, 10_000, 'connection error');
    expect(part(s2, 'error').textContent).to.equal('Could not get a token for the calling server.');
    expect(part(s2, 'state').textContent).to.equal('Offline');
    await expect(s2).to.be.accessible();
  });

  it('follows the document language, live', async () => {
    const el = await fixture<CallStatusElement>(html`<call-status></call-status>`);
    try {
      document.documentElement.lang = 'sv';
      await waitFor(() => part(el, 'state').textContent === 'Frånkopplad', 2000, 'Swedish');
      document.documentElement.lang = 'en-GB';
      await waitFor(() => part(el, 'state').textContent === 'Offline', 2000, 'English from en-GB');
    } finally {
      document.documentElement.lang = 'en';
    }
  });

  it('exposes its parts for styling', async () => {
    const el = await fixture<CallStatusElement>(html`<call-status style="--call-color-danger: rgb(4, 5, 6)"></call-status>`);
    expect(getComputedStyle(part(el, 'error')).color).to.equal('rgb(4, 5, 6)');
    for (const name of ['base', 'state', 'error']) part(el, name);
  });
});

describe('elements inside a shadow root', () => {
  it('follow lang changes made inside that shadow root', async () => {
    const host = await fixture<HTMLDivElement>(html`<div></div>`);
    const root = host.attachShadow({ mode: 'open' });
    root.innerHTML = '<section lang="en"><call-status></call-status></section>';
    const el = root.querySelector('call-status')!;
    await el.updateComplete;
    expect(part(el, 'state').textContent).to.equal('Offline');
    root.querySelector('section')!.lang = 'sv';
    await waitFor(() => part(el, 'state').textContent === 'Frånkopplad', 2000, 'Swedish inside the shadow root');
  });
});
