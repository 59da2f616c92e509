// <call-controls> microphone / camera / speaker menus and the share button, and <video-view> showing a shared screen,
// with two real providers calling through the run's server. The second camera is this page's stub (fake-devices.ts);
// microphones and outputs are Chromium's own fake ones (it lists two of each, with labels once permission is granted).
// The speaker menu needs `setSinkId`, which this Chromium has.
import { expect } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { html } from 'lit';
import type { VideoViewElement } from '../../../src/elements/index.js';
import { alicePlusBob, child, click, deepActive, maybePart, part, settle, waitFor } from '../elements/element-helpers.js';
import { DOC_CAMERA, installFakeDevices, removeFakeDevices } from './fake-devices.js';

const ui = html`<call-dialer></call-dialer><video-view source="remote"></video-view><call-controls></call-controls>`;

beforeEach(installFakeDevices);
afterEach(async () => {
  await settle();
  removeFakeDevices();
});

async function videoCall() {
  const providers = await alicePlusBob(ui);
  const { alice, bob, bobId } = providers;
  const dialer = child(alice, 'call-dialer');
  dialer.video = true;
  dialer.value = bobId;
  const call = dialer.dial()!;
  await waitFor(() => bob.client!.activeCalls[0]?.state === 'ringing', 10_000, 'ringing');
  const inc = bob.client!.activeCalls[0]!;
  inc.answer();
  await waitFor(() => call.state === 'established' && inc.state === 'established', 15_000, 'established');
  return { ...providers, call, inc, controls: child(alice, 'call-controls') };
}

describe('<call-controls> devices and screen sharing', () => {
  it('chooses the microphone and camera from menus by keyboard: the call\'s tracks switch, the choice shows; axe-clean', async () => {
    const { alice, call, controls } = await videoCall();
    await waitFor(() => !!maybePart(controls, 'microphone-select') && !!maybePart(controls, 'camera-select'), 5000, 'device menus');
    const mic = part<HTMLSelectElement>(controls, 'microphone-select');
    expect(mic.getAttribute('aria-label')).to.equal('Microphone');
    expect(mic.value, 'the default is chosen').to.equal('');
    await expect(controls).to.be.accessible();

    const oldMic = call.localStream!.getAudioTracks()[0]!;
    mic.focus();
    await sendKeys({ press: 'ArrowDown' });
    await waitFor(() => !!alice.client!.chosenDevices.audioInput, 5000, 'microphone chosen');
    expect(mic.value).to.equal(alice.client!.chosenDevices.audioInput);
    await waitFor(() => oldMic.readyState === 'ended', 5000, 'old microphone stopped');

    const camera = part<HTMLSelectElement>(controls, 'camera-select');
    const oldCamera = call.localStream!.getVideoTracks()[0]!;
    camera.focus();
    await sendKeys({ press: 'End' });
    await waitFor(() => alice.client!.chosenDevices.videoInput === DOC_CAMERA.deviceId, 5000, 'camera chosen');
    await waitFor(() => oldCamera.readyState === 'ended', 5000, 'old camera stopped');
    expect(deepActive()).to.equal(camera);

    // The speaker: the client's choice, which the provider applies to the call's sound.
    const output = part<HTMLSelectElement>(controls, 'output-select');
    output.focus();
    await sendKeys({ press: 'ArrowDown' });
    await waitFor(() => !!alice.client!.chosenDevices.audioOutput, 5000, 'output chosen');
    const audio = alice.shadowRoot!.querySelector('audio')!;
    await waitFor(() => audio.sinkId === alice.client!.chosenDevices.audioOutput, 5000, 'the call\'s sound on the chosen output');
    call.hangup();
  });

  it('a share button toggles screen sharing (aria-pressed); the other side\'s <video-view> shows the screen whole', async () => {
    const { bob, call, inc, controls } = await videoCall();
    await controls.updateComplete;
    const share = part<HTMLButtonElement>(controls, 'share-button');
    expect(share.textContent).to.contain('Share screen');
    expect(share.getAttribute('aria-pressed')).to.equal('false');
    await click(share);
    await waitFor(() => share.getAttribute('aria-pressed') === 'true', 8000, 'sharing');
    expect(call.isScreenSharing).to.equal(true);
    const view = child(bob, 'video-view') as VideoViewElement;
    await waitFor(() => inc.isRemoteScreenSharing && part(view, 'video').classList.contains('screen'), 5000, 'remote screen shown');
    const video = part<HTMLVideoElement>(view, 'video');
    expect(getComputedStyle(video).objectFit).to.equal('contain');
    expect(video.getAttribute('aria-label')).to.equal('Screen of Alice');
    await expect(controls).to.be.accessible();

    share.focus();
    await sendKeys({ press: 'Enter' });
    await waitFor(() => share.getAttribute('aria-pressed') === 'false' && !inc.isRemoteScreenSharing, 8000, 'stopped');
    await waitFor(() => getComputedStyle(part(view, 'video')).objectFit === 'cover', 5000, 'camera fit back');
    call.hangup();
  });

  it('has no share button on audio calls, and Swedish labels', async () => {
    const { alice, bobId, bob } = await alicePlusBob(ui);
    alice.lang = 'sv';
    const dialer = child(alice, 'call-dialer');
    dialer.value = bobId;
    const call = dialer.dial()!;
    await waitFor(() => bob.client!.activeCalls[0]?.state === 'ringing', 10_000, 'ringing');
    bob.client!.activeCalls[0]!.answer();
    await waitFor(() => call.state === 'established', 15_000, 'established');
    const controls = child(alice, 'call-controls');
    await waitFor(() => !!maybePart(controls, 'microphone-select'), 5000, 'microphone menu');
    expect(maybePart(controls, 'share-button')).to.equal(null);
    expect(maybePart(controls, 'camera-select'), 'no camera menu on audio calls').to.equal(null);
    expect(part(controls, 'microphone-select').getAttribute('aria-label')).to.equal('Mikrofon');
    call.hangup();
  });
});
