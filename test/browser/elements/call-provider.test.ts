import { expect, fixture, html } from '@open-wc/testing';
import { LitElement } from 'lit';
import { CallController } from '../../../src/context/index.js';
import type { CallSnapshot } from '../../../src/context/index.js';
import { CallClient } from '../../../src/core/index.js';
import { defineElement, type CallProviderElement } from '../../../src/elements/index.js';
import { alicePlusBob, callingServer, settle, uniqueUser, waitFor } from './element-helpers.js';

/** A minimal consumer, as a third-party element built on the controller would be. */
class ProbeElement extends LitElement {
  readonly calling = new CallController(this);
  renders = 0;
  override render() {
    this.renders++;
    return null;
  }
}
customElements.define('probe-consumer', ProbeElement);

async function tokenFor(userId: string): Promise<string> {
  const res = await fetch(`/__calling-token?userId=${encodeURIComponent(userId)}`);
  return ((await res.json()) as { token: string }).token;
}

describe('<call-provider>', () => {
  afterEach(settle);

  it('connects from its attributes, reflects the connection state and tells with events', async () => {
    const server = await callingServer();
    const states: string[] = [];
    const el = await fixture<CallProviderElement>(html`<call-provider server=${server} user-id=${uniqueUser('p')}
      token-url="/__calling-token" @call-connection-change=${(e: CustomEvent<{ state: string }>) => states.push(e.detail.state)}></call-provider>`);
    await waitFor(() => el.connectionState === 'connected', 10_000, 'connected');
    expect(el.getAttribute('connection-state')).to.equal('connected');
    expect(states).to.deep.equal(['connecting', 'connected']);
    expect(el.client!.isCallingSupported).to.equal(true);
    await expect(el).to.be.accessible();
    const client = el.client!;
    el.remove();
    await waitFor(() => client.connectionState === 'disconnected', 5000, 'stopped when removed');
  });

  it('connects with a token given as an attribute', async () => {
    const userId = uniqueUser('tok');
    const el = await fixture<CallProviderElement>(html`<call-provider server=${await callingServer()} user-id=${userId}
      token=${await tokenFor(userId)}></call-provider>`);
    await waitFor(() => el.connectionState === 'connected', 10_000, 'connected');
  });

  it('shares the client and a new frozen call snapshot on every change with descendants', async () => {
    const { alice, bob, bobId } = await alicePlusBob(html`<probe-consumer></probe-consumer>`);
    const probe = alice.querySelector<ProbeElement>('probe-consumer')!;
    expect(probe.calling.client).to.equal(alice.client);
    expect(probe.calling.isConnected).to.equal(true);
    const snapshots: CallSnapshot[] = [];
    alice.addEventListener('call-change', (e) => { if (e.detail.call) snapshots.push(e.detail.call); });
    const call = alice.client!.callUser(bobId);
    await waitFor(() => bob.client!.activeCalls[0]?.state === 'ringing', 10_000, 'ringing');
    bob.client!.activeCalls[0].answer();
    await waitFor(() => probe.calling.snapshot?.state === 'established', 15_000, 'established');
    expect(probe.calling.activeCall).to.equal(call);
    call.hangup();
    await waitFor(() => probe.calling.snapshot?.state === 'ended', 5000, 'ended');
    expect(probe.calling.activeCall).to.equal(null);
    expect(new Set(snapshots).size).to.equal(snapshots.length);
    expect(snapshots.every((s) => Object.isFrozen(s))).to.equal(true);
    expect(snapshots.map((s) => s.state)).to.include.members(['progressing', 'ringing', 'answered', 'established', 'ended']);
    expect(probe.renders).to.be.greaterThan(3);
  });

  it('takes a client through its property, starts it, and does not stop it when removed', async () => {
    const userId = uniqueUser('ext');
    const client = new CallClient({ userId, server: await callingServer(), token: () => tokenFor(userId) });
    const el = await fixture<CallProviderElement>(html`<call-provider .client=${client}><call-status></call-status></call-provider>`);
    await waitFor(() => el.connectionState === 'connected', 10_000, 'connected');
    expect(client.isCallingSupported).to.equal(true);
    expect(el.client).to.equal(client);
    el.remove();
    await new Promise((r) => setTimeout(r, 100));
    expect(client.connectionState).to.equal('connected');
    await client.stop();
  });

  // A second call during a call: call waiting (and max-calls="1", the old decline) is tested in test/browser/hold/waiting.test.ts.

  it('registers every tag once: a second copy of the elements does not throw', async () => {
    const before = customElements.get('call-provider');
    expect(() => defineElement('call-provider', class extends HTMLElement {})).to.not.throw();
    // The built bundle is a second, separate copy of every class (npm test builds it before the browser tests).
    const bundle = new URL('/dist/calling-elements.js', location.href).href;
    if ((await fetch(bundle, { method: 'HEAD' })).ok) await import(bundle);
    expect(customElements.get('call-provider')).to.equal(before);
    for (const tag of ['call-provider', 'call-dialer', 'incoming-call', 'video-view', 'call-controls', 'call-status']) {
      expect(customElements.get(tag), tag).to.not.equal(undefined);
    }
  });
});
