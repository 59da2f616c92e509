import { expect } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { alicePlusBob, child, click, deepActive, part, settle, shadowText, waitFor } from './element-helpers.js';

function videoOf(view: Element): HTMLVideoElement {
  return part<HTMLVideoElement>(view, 'video');
}

describe('elements end to end: two providers in one page', () => {
  afterEach(settle);

  it('alice types bob and presses Call, bob answers, both see live video, toggles change the tracks, hang up ends both', async () => {
    const { alice, bob, bobId } = await alicePlusBob();
    const dialer = child(alice, 'call-dialer');
    await dialer.updateComplete;

    // Real key presses: type the user id, tick "Video" with Space; then a real click on Call.
    part<HTMLInputElement>(dialer, 'input').focus();
    await sendKeys({ type: bobId });
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Space' });
    expect(dialer.video).to.equal(true);
    await click(part(dialer, 'call-button'));

    const incoming = child(bob, 'incoming-call');
    await waitFor(() => incoming.open, 10_000, "bob's incoming call");
    await incoming.updateComplete;
    expect(shadowText(incoming)).to.contain('Alice').and.contain('Video call');
    // Focus moved to Answer; the ringtone plays where the core's audio controller exists.
    expect(deepActive()).to.equal(part(incoming, 'answer-button'));
    if ('audioController' in bob.client!) {
      const ac = (bob.client as unknown as { audioController: { currentSound: unknown } }).audioController;
      await waitFor(() => ac.currentSound === 'ringtone', 3000, 'ringtone');
    }
    await waitFor(() => shadowText(child(alice, 'call-status')).includes('Ringing'), 5000, 'alice sees ringing');
    await expect(incoming).to.be.accessible();

    await click(part(incoming, 'answer-button'));
    const statusA = child(alice, 'call-status');
    const statusB = child(bob, 'call-status');
    await waitFor(() => shadowText(statusA).includes('Connected') && shadowText(statusB).includes('Connected'), 15_000, 'connected');
    expect(incoming.open).to.equal(false);

    const [remoteA, localA] = alice.querySelectorAll('video-view');
    const [remoteB, localB] = bob.querySelectorAll('video-view');
    for (const view of [remoteA, localA, remoteB, localB]) {
      await waitFor(() => videoOf(view).videoWidth > 0, 10_000, `${view.getAttribute('source')} video frames`);
    }

    const callA = alice.client!.activeCalls[0];
    const callB = bob.client!.activeCalls[0];
    const controlsA = child(alice, 'call-controls');
    const mute = part(controlsA, 'mute-button');
    await click(mute);
    expect(callA.localStream!.getAudioTracks()[0].enabled).to.equal(false);
    await controlsA.updateComplete;
    expect(mute.getAttribute('aria-pressed')).to.equal('true');
    await click(mute);
    expect(callA.localStream!.getAudioTracks()[0].enabled).to.equal(true);

    const camera = part(controlsA, 'camera-button');
    await click(camera);
    expect(callA.localStream!.getVideoTracks()[0].enabled).to.equal(false);
    await controlsA.updateComplete;
    expect(camera.getAttribute('aria-pressed')).to.equal('true');
    // Bob is told: his remote view falls back to Alice's initials.
    await waitFor(() => remoteB.shadowRoot!.querySelector('[part="placeholder"]') !== null, 5000, 'remote placeholder');
    expect(shadowText(remoteB)).to.contain('A');
    await click(camera);
    expect(callA.localStream!.getVideoTracks()[0].enabled).to.equal(true);

    await expect(controlsA).to.be.accessible();
    await expect(statusA).to.be.accessible();
    await expect(remoteA).to.be.accessible();

    await click(part(controlsA, 'hangup-button'));
    await waitFor(() => shadowText(statusA).includes('Call ended') && shadowText(statusB).includes('Call ended'), 10_000, 'ended');
    expect(callA.details.endCause).to.equal('hungUp');
    expect(callB.details.endCause).to.equal('hungUp');
    expect(part<HTMLButtonElement>(controlsA, 'hangup-button').disabled).to.equal(true);
    expect(videoOf(remoteA).srcObject).to.equal(null);
  });

  it('bob declines: alice sees "declined", bob\'s focus returns where it was', async () => {
    const { alice, bob, bobId } = await alicePlusBob();
    const before = child(bob, 'call-dialer');
    await before.updateComplete;
    part<HTMLInputElement>(before, 'input').focus();
    const dialer = child(alice, 'call-dialer');
    dialer.value = bobId;
    dialer.dial();
    const incoming = child(bob, 'incoming-call');
    await waitFor(() => incoming.open, 10_000, 'incoming');
    await incoming.updateComplete;
    expect(shadowText(incoming)).to.contain('Audio call');
    expect(incoming.shadowRoot!.querySelector('[part~="answer-audio-button"]')).to.equal(null);
    // Keyboard: focus is on Answer; Tab to Decline, Enter.
    await sendKeys({ press: 'Tab' });
    expect(deepActive()).to.equal(part(incoming, 'decline-button'));
    await sendKeys({ press: 'Enter' });
    await waitFor(() => shadowText(child(alice, 'call-status')).includes('declined'), 10_000, 'declined');
    await waitFor(() => !incoming.open, 5000, 'incoming closed');
    expect(deepActive()).to.equal(part(before, 'input'));
  });

  it('alice cancels before bob answers: both show canceled and bob\'s incoming call goes away', async () => {
    const { alice, bob, bobId } = await alicePlusBob();
    const dialer = child(alice, 'call-dialer');
    dialer.value = bobId;
    dialer.dial();
    const incoming = child(bob, 'incoming-call');
    await waitFor(() => incoming.open, 10_000, 'incoming');
    await click(part(child(alice, 'call-controls'), 'hangup-button'));
    await waitFor(() => !incoming.open, 10_000, 'incoming closed');
    await waitFor(() => shadowText(child(bob, 'call-status')).includes('canceled'), 5000, 'bob sees canceled');
    expect(shadowText(child(alice, 'call-status'))).to.contain('canceled');
  });

  it('a video call answered with audio only has no video on the answering side', async () => {
    const { alice, bob, bobId } = await alicePlusBob();
    const dialer = child(alice, 'call-dialer');
    dialer.video = true;
    dialer.value = bobId;
    dialer.dial();
    const incoming = child(bob, 'incoming-call');
    await waitFor(() => incoming.open, 10_000, 'incoming');
    await incoming.updateComplete;
    await click(part(incoming, 'answer-audio-button'));
    const statusB = child(bob, 'call-status');
    await waitFor(() => shadowText(statusB).includes('Connected'), 15_000, 'connected');
    const callB = bob.client!.activeCalls[0];
    expect(callB.localStream!.getVideoTracks()).to.have.length(0);
    const controlsB = child(bob, 'call-controls');
    await controlsB.updateComplete;
    expect(controlsB.shadowRoot!.querySelector('[part~="camera-button"]')).to.equal(null);
    // Bob's own view shows his initials, not video.
    const localB = bob.querySelectorAll('video-view')[1];
    expect(shadowText(localB)).to.contain('B');
    callB.hangup();
  });
});
