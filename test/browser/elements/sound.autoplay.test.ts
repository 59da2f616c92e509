// Runs in the autoplay-locked group (no --autoplay-policy flag): sound needs a real user gesture.
import { expect } from '@open-wc/testing';
import { alicePlusBob, child, click, maybePart, part, settle, waitFor } from './element-helpers.js';

describe('elements with autoplay blocked', () => {
  afterEach(settle);

  it('<incoming-call> and <call-controls> offer "Enable sound"; a real click enables it and the control goes away', async function () {
    const { alice, bob, bobId } = await alicePlusBob();
    const client = bob.client!;
    if (!('audioController' in client)) this.skip(); // no audio controller in the core: nothing reports the lock
    const ac = (client as unknown as { audioController: { locked: boolean } }).audioController;
    // Picked up by a plain `web-test-runner <glob>` too, where Chromium allows autoplay: then there is no lock.
    await waitFor(() => ac.locked, 3000, 'sound locked').catch(() => this.skip());

    const controls = child(bob, 'call-controls');
    await waitFor(() => maybePart(controls, 'sound-button') !== null, 3000, 'controls offer sound');
    const dialer = child(alice, 'call-dialer');
    dialer.value = bobId;
    dialer.dial();
    const incoming = child(bob, 'incoming-call');
    await waitFor(() => incoming.open, 10_000, 'incoming');
    await incoming.updateComplete;
    const sound = part(incoming, 'sound-button');
    expect(sound.textContent).to.contain('Enable sound');
    await expect(incoming).to.be.accessible();
    await expect(controls).to.be.accessible();

    await click(sound);
    await waitFor(() => !ac.locked, 5000, 'unlocked');
    await waitFor(() => maybePart(incoming, 'sound-button') === null && maybePart(controls, 'sound-button') === null, 3000, 'controls gone');
    // The ringing call is untouched: it still waits for an answer.
    expect(incoming.open).to.equal(true);
    client.activeCalls[0].hangup();
  });
});
