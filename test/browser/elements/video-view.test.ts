import { expect, fixture, html } from '@open-wc/testing';
import { initials, type VideoViewElement } from '../../../src/elements/video-view/video-view.js';
import '../../../src/elements/index.js';
import { alicePlusBob, child, fakeProvider, part, settle, shadowText, waitFor } from './element-helpers.js';

const ui = html`<call-dialer></call-dialer><incoming-call></incoming-call>
  <video-view source="remote"></video-view><video-view source="local"></video-view>`;

describe('<video-view>', () => {
  afterEach(settle);

  it('makes initials from names and ids', () => {
    expect(initials('Ada Lovelace')).to.equal('AL');
    expect(initials('bob')).to.equal('B');
    expect(initials('bob-k3-1')).to.equal('BK');
    expect(initials('')).to.equal('?');
  });

  it('shows a handset, not a digit, for a phone number', async () => {
    const { provider } = await fakeProvider(ui, { call: { callType: 'phone', remote: { id: '+46000000000' }, state: 'ringing' } });
    const remote = provider.querySelector('video-view')!;
    await waitFor(() => remote.shadowRoot!.querySelector('[part="initials"] svg') !== null, 2000, 'handset');
  });

  it('shows a placeholder with initials when there is no call, accessibly', async () => {
    const { provider } = await fakeProvider(html`<video-view source="local"></video-view><video-view></video-view>`, { displayName: 'Carol Ann' });
    const [local, remote] = provider.querySelectorAll('video-view');
    await local.updateComplete;
    expect(part(local, 'placeholder').getAttribute('aria-label')).to.equal('Your camera');
    expect(part(local, 'initials').textContent).to.equal('CA');
    expect(part<HTMLVideoElement>(local, 'video').hidden).to.equal(true);
    expect(remote.source).to.equal('remote');
    await expect(local).to.be.accessible();
    await expect(remote).to.be.accessible();
  });

  it('mirrors only the local view, honours fit, and is localized', async () => {
    const wrap = await fixture<HTMLDivElement>(html`<div lang="sv"><video-view source="local"></video-view><video-view fit="contain"></video-view></div>`);
    const [local, remote] = wrap.querySelectorAll('video-view');
    await local.updateComplete;
    // Shown for the check: a hidden element has no transform to compute.
    for (const v of [local, remote]) part<HTMLVideoElement>(v, 'video').hidden = false;
    expect(getComputedStyle(part(local, 'video')).transform).to.equal('matrix(-1, 0, 0, 1, 0, 0)');
    expect(getComputedStyle(part(remote, 'video')).transform).to.equal('none');
    expect(getComputedStyle(part(remote, 'video')).objectFit).to.equal('contain');
    expect(getComputedStyle(part(local, 'video')).objectFit).to.equal('cover');
    expect(part(local, 'placeholder').getAttribute('aria-label')).to.equal('Din kamera');
  });

  it('shows live video of both sides during a video call, with a picture-in-picture button where supported', async () => {
    const { alice, bob, bobId } = await alicePlusBob(ui);
    const dialer = child(alice, 'call-dialer');
    dialer.video = true;
    dialer.value = bobId;
    dialer.dial();
    const incoming = child(bob, 'incoming-call');
    await waitFor(() => incoming.open, 10_000, 'incoming');
    bob.client!.activeCalls[0].answer();
    const [remote, local] = alice.querySelectorAll<VideoViewElement>('video-view');
    await waitFor(() => part<HTMLVideoElement>(remote, 'video').videoWidth > 0, 15_000, 'remote frames');
    await waitFor(() => part<HTMLVideoElement>(local, 'video').videoWidth > 0, 5000, 'local frames');
    expect(remote.showsVideo).to.equal(true);
    expect(part(remote, 'video').getAttribute('aria-label')).to.equal('Video of Bob'); // the callee's display name
    expect(remote.shadowRoot!.querySelector('[part="placeholder"]')).to.equal(null);
    if (document.pictureInPictureEnabled) expect(part(remote, 'pip-button').getAttribute('aria-label')).to.equal('Picture in picture');
    await expect(remote).to.be.accessible();

    // The other side pauses its camera: the placeholder with Bob's initials replaces the video.
    bob.client!.activeCalls[0].pauseVideo();
    await waitFor(() => !remote.showsVideo, 5000, 'remote paused');
    await remote.updateComplete;
    expect(shadowText(remote)).to.contain('B');
    alice.client!.activeCalls[0].hangup();
    await waitFor(() => part<HTMLVideoElement>(remote, 'video').srcObject === null, 5000, 'video released');
  });
});
