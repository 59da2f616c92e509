// Call waiting and hold through the elements (issue #16): three providers in one page (alice, bob, carol), real
// clients on the run's calling server, real clicks.
import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { Call } from '../../../src/core/index.js';
import '../../../src/index.js'; // registers <call-widget> too
import type { CallProviderElement, CallWidgetElement } from '../../../src/index.js';
import {
  callingServer, child, click, deepActive, fullUi, maybePart, part, settle, shadowText, uniqueUser, waitFor,
} from '../elements/element-helpers.js';

/** Providers for alice, bob and carol (display names Alice, Bob, Carol); `bobMaxCalls` sets bob's `max-calls`. */
async function threeProviders(bobMaxCalls?: number) {
  const server = await callingServer();
  const ids = { alice: uniqueUser('alice'), bob: uniqueUser('bob'), carol: uniqueUser('carol') };
  const root = await fixture<HTMLDivElement>(html`<div>
    <call-provider id="alice" lang="en" token-url="/__calling-token" server=${server} user-id=${ids.alice} display-name="Alice">${fullUi}</call-provider>
    <call-provider id="bob" lang="en" token-url="/__calling-token" server=${server} user-id=${ids.bob} display-name="Bob"
      max-calls=${bobMaxCalls ?? 2}>${fullUi}</call-provider>
    <call-provider id="carol" lang="en" token-url="/__calling-token" server=${server} user-id=${ids.carol} display-name="Carol">${fullUi}</call-provider>
  </div>`);
  const [alice, bob, carol] = (['alice', 'bob', 'carol'] as const).map((id) => root.querySelector<CallProviderElement>(`#${id}`)!);
  await waitFor(() => [alice, bob, carol].every((p) => p.connectionState === 'connected'), 10_000, 'all connected');
  return { alice, bob, carol, ids };
}

/** `from` calls bob; bob answers with a click; resolves when both are connected, with both ends of the call. */
async function callBob(from: CallProviderElement, bob: CallProviderElement, bobId: string): Promise<{ out: Call; inc: Call }> {
  const out = from.client!.callUser(bobId);
  const incoming = child(bob, 'incoming-call');
  await waitFor(() => incoming.open, 10_000, 'bob rings');
  await incoming.updateComplete;
  await click(part(incoming, 'answer-button'));
  await waitFor(() => out.state === 'established', 15_000, 'established');
  const inc = bob.client!.activeCalls.find((c) => c.id === out.id)!;
  await waitFor(() => inc.state === 'established', 5000, 'bob established');
  return { out, inc };
}

/** `from` calls bob while bob is in a call; resolves when bob's `<incoming-call>` shows the waiting call. */
async function waitingCall(from: CallProviderElement, bob: CallProviderElement, bobId: string): Promise<Call> {
  const out = from.client!.callUser(bobId);
  const incoming = child(bob, 'incoming-call');
  await waitFor(() => incoming.open, 10_000, 'the waiting call shows');
  await incoming.updateComplete;
  return out;
}

const statusOf = (p: CallProviderElement) => shadowText(child(p, 'call-status'));
/** The visible text of one element, whitespace collapsed. */
const textOf = (el: Element) => (el.textContent ?? '').replace(/\s+/g, ' ').trim();

describe('call waiting and hold in the elements', () => {
  afterEach(settle);

  it('Hold and answer, Swap, then hanging up each call leaves the other held until resumed', async () => {
    const { alice, bob, carol, ids } = await threeProviders();
    const a = await callBob(alice, bob, ids.bob);

    // Hold and Resume on the one call: bob holds, alice is told.
    const controlsB = child(bob, 'call-controls');
    await controlsB.updateComplete;
    expect(maybePart(controlsB, 'swap-button'), 'no Swap with one call').to.equal(null);
    const hold = part(controlsB, 'hold-button');
    expect(hold.getAttribute('aria-pressed')).to.equal('false');
    await click(hold);
    expect(a.inc.isOnHold).to.equal(true);
    await controlsB.updateComplete;
    expect(part(controlsB, 'hold-button').getAttribute('aria-pressed')).to.equal('true');
    await waitFor(() => statusOf(alice).includes('Bob put you on hold'), 5000, 'alice sees she is held');
    expect(statusOf(bob)).to.contain('On hold: Alice');
    await click(part(controlsB, 'hold-button'));
    await waitFor(() => statusOf(alice).includes('Connected') && !a.out.isRemoteOnHold, 5000, 'alice resumed');

    // Carol calls: bob's call goes on, the waiting call shows with its three choices, focus on Hold and answer.
    const c = await waitingCall(carol, bob, ids.bob);
    const incoming = child(bob, 'incoming-call');
    expect(shadowText(incoming)).to.contain('Call waiting').and.contain('Carol');
    expect(maybePart(incoming, 'answer-button')).to.equal(null);
    expect(deepActive()).to.equal(part(incoming, 'hold-answer-button'));
    part(incoming, 'end-answer-button');
    part(incoming, 'decline-button');
    expect(bob.client!.audioController.currentSound).to.equal('callWaiting');
    expect(statusOf(bob)).to.contain('Connected');
    await expect(incoming).to.be.accessible();

    // Keyboard: Enter on the focused "Hold and answer".
    await sendKeys({ press: 'Enter' });
    await waitFor(() => c.state === 'established', 15_000, 'carol connected');
    const cInc = bob.client!.activeCalls.find((x) => x.id === c.id)!;
    expect(a.inc.isOnHold).to.equal(true);
    expect(cInc.isOnHold).to.equal(false);
    await waitFor(() => statusOf(alice).includes('Bob put you on hold'), 5000, 'alice held');
    const statusB = child(bob, 'call-status');
    await waitFor(() => shadowText(statusB).includes('Connected') && maybePart(statusB, 'held') !== null, 5000, 'bob sees the held call');
    expect(textOf(part(statusB, 'held'))).to.match(/On hold: Alice\s+\d\d:\d\d/);
    expect(incoming.open).to.equal(false);
    // The provider's snapshot: both calls, carol's the active one.
    const calls = () => bob.client!.activeCalls;
    expect(calls()).to.have.length(2);

    // Swap: alice back, carol held.
    await controlsB.updateComplete;
    await expect(controlsB).to.be.accessible();
    await click(part(controlsB, 'swap-button'));
    expect(cInc.isOnHold).to.equal(true);
    expect(a.inc.isOnHold).to.equal(false);
    await waitFor(() => textOf(part(statusB, 'held')).includes('On hold: Carol'), 5000, 'carol is the held one');
    await waitFor(() => statusOf(carol).includes('Bob put you on hold') && statusOf(alice).includes('Connected'), 5000, 'both told');
    await expect(statusB).to.be.accessible();

    // Bob hangs up on alice: carol stays held (no surprise audio); the status and controls are carol's now.
    await click(part(controlsB, 'hangup-button'));
    await waitFor(() => a.out.state === 'ended', 5000, 'alice ended');
    await waitFor(() => statusOf(bob).includes('On hold: Carol'), 5000, 'bob sees carol held');
    expect(cInc.isOnHold).to.equal(true);
    expect(c.isRemoteOnHold).to.equal(true);
    await controlsB.updateComplete;
    expect(part(controlsB, 'hold-button').getAttribute('aria-pressed')).to.equal('true');
    expect(maybePart(controlsB, 'swap-button')).to.equal(null);
    await click(part(controlsB, 'hold-button'));
    await waitFor(() => statusOf(carol).includes('Connected') && !c.isRemoteOnHold, 5000, 'carol resumed');

    // And the other way round: a new waiting call from alice, bob holds carol and answers, then hangs up on alice.
    const a2 = await waitingCall(alice, bob, ids.bob);
    await click(part(incoming, 'hold-answer-button'));
    await waitFor(() => a2.state === 'established', 15_000, 'alice connected again');
    await waitFor(() => c.isRemoteOnHold, 5000, 'carol held');
    await controlsB.updateComplete;
    await click(part(controlsB, 'hangup-button'));
    await waitFor(() => a2.state === 'ended', 5000, 'alice ended again');
    expect(cInc.isOnHold).to.equal(true);
    expect(cInc.state).to.equal('established');
    cInc.hangup();
  });

  it('End and answer hangs up the call going on and connects the waiting one', async () => {
    const { alice, bob, carol, ids } = await threeProviders();
    const a = await callBob(alice, bob, ids.bob);
    const c = await waitingCall(carol, bob, ids.bob);
    await click(part(child(bob, 'incoming-call'), 'end-answer-button'));
    await waitFor(() => a.out.state === 'ended', 5000, 'alice ended');
    expect(a.out.details.endCause).to.equal('hungUp');
    await waitFor(() => c.state === 'established', 15_000, 'carol connected');
    expect(bob.client!.activeCalls).to.have.length(1);
    expect(bob.client!.activeCalls[0].isOnHold).to.equal(false);
    expect(c.isRemoteOnHold).to.equal(false);
    await waitFor(() => statusOf(bob).includes('Connected'), 5000, 'bob connected');
    expect(maybePart(child(bob, 'call-status'), 'held')).to.equal(null);
  });

  it('Decline on the waiting call leaves the call going on untouched', async () => {
    const { alice, bob, carol, ids } = await threeProviders();
    const a = await callBob(alice, bob, ids.bob);
    const c = await waitingCall(carol, bob, ids.bob);
    await click(part(child(bob, 'incoming-call'), 'decline-button'));
    await waitFor(() => c.state === 'ended', 5000, 'carol declined');
    expect(c.details.endCause).to.equal('denied');
    expect(a.inc.isOnHold).to.equal(false);
    expect(a.inc.state).to.equal('established');
    expect(statusOf(bob)).to.contain('Connected');
  });

  it('max-calls="1" keeps the old behaviour: a second call is declined, the first stays on screen', async () => {
    const { alice, bob, carol, ids } = await threeProviders(1);
    expect(bob.client!.maxCalls).to.equal(1);
    const a = await callBob(alice, bob, ids.bob);
    const second = carol.client!.callUser(ids.bob);
    await waitFor(() => second.state === 'ended', 10_000, 'second declined');
    expect(second.details.endCause).to.equal('denied');
    expect(child(bob, 'incoming-call').open).to.equal(false);
    expect(a.inc.state).to.equal('established');
    expect(a.inc.isOnHold).to.equal(false);
    expect(statusOf(bob)).to.contain('Connected');
  });

  it('<call-widget>: a call waiting opens the closed panel, and Hold and answer stays audio only without `video`', async () => {
    const server = await callingServer();
    const ids = { alice: uniqueUser('alice'), bob: uniqueUser('bob'), carol: uniqueUser('carol') };
    const root = await fixture<HTMLDivElement>(html`<div>
      <call-provider id="alice" lang="en" token-url="/__calling-token" server=${server} user-id=${ids.alice} display-name="Alice"></call-provider>
      <call-provider id="carol" lang="en" token-url="/__calling-token" server=${server} user-id=${ids.carol} display-name="Carol"></call-provider>
      <call-widget lang="en" token-url="/__calling-token" server=${server} user-id=${ids.bob} display-name="Bob"></call-widget>
    </div>`);
    const alice = root.querySelector<CallProviderElement>('#alice')!;
    const carol = root.querySelector<CallProviderElement>('#carol')!;
    const widget = root.querySelector<CallWidgetElement>('call-widget')!;
    await waitFor(() => [alice, carol].every((p) => p.connectionState === 'connected') && widget.client?.connectionState === 'connected', 10_000, 'connected');
    const bob = widget.client!;
    const first = alice.client!.callUser(ids.bob);
    await waitFor(() => bob.activeCalls[0]?.state === 'ringing', 10_000, 'bob rings');
    bob.activeCalls[0].answer();
    await waitFor(() => first.state === 'established', 15_000, 'established');
    widget.toggle(false);
    await widget.updateComplete;

    const second = carol.client!.callUserVideo(ids.bob);
    await waitFor(() => widget.open, 10_000, 'the panel opens for the waiting call');
    await widget.updateComplete;
    expect(part(widget, 'launcher').getAttribute('aria-label')).to.equal('Incoming call: Carol');
    const incoming = widget.shadowRoot!.querySelector('incoming-call')!;
    await waitFor(() => incoming.open, 5000, 'waiting call shown');
    await incoming.updateComplete;
    await click(part(incoming, 'hold-answer-button'));
    await waitFor(() => second.state === 'established', 15_000, 'carol connected');
    const carolAtBob = bob.activeCalls.find((c) => c.id === second.id)!;
    expect(carolAtBob.hasVideo, 'answered with audio only').to.equal(false);
    expect(bob.activeCalls.find((c) => c.id === first.id)!.isOnHold).to.equal(true);
    await waitFor(() => first.isRemoteOnHold, 5000, 'alice held');
  });
});
