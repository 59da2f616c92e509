import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { CallControlsElement } from '../../../src/elements/index.js';
import { child, deepActive, fakeProvider, maybePart, part, settle, waitFor } from './element-helpers.js';

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

  // On the stories' fake client: what the controls render and send to their call. That a toggle changes the real
  // tracks is end-to-end.test.ts's part.
  it('toggles mute and camera by keyboard with aria-pressed, then hangs up', async () => {
    const { provider, client } = await fakeProvider(ui, { call: { state: 'established', video: true } });
    const call = client.currentCall!;
    const el = child(provider, 'call-controls');
    await el.updateComplete;
    const mute = part<HTMLButtonElement>(el, 'mute-button');
    expect(mute.disabled).to.equal(false);
    expect(mute.getAttribute('aria-pressed')).to.equal('false');
    mute.focus();
    await sendKeys({ press: 'Space' });
    await el.updateComplete;
    expect(mute.getAttribute('aria-pressed')).to.equal('true');
    expect(call.isMuted).to.equal(true);
    await sendKeys({ press: 'Tab' });
    const camera = part(el, 'camera-button');
    expect(deepActive()).to.equal(camera);
    await sendKeys({ press: 'Enter' });
    await el.updateComplete;
    expect(camera.getAttribute('aria-pressed')).to.equal('true');
    expect(call.isVideoPaused).to.equal(true);
    await expect(el).to.be.accessible();
    // No keypad on app-to-app calls.
    expect(el.shadowRoot!.querySelector('[part~="keypad-button"]')).to.equal(null);

    let hangups = 0;
    el.addEventListener('call-hangup', () => hangups++);
    part(el, 'hangup-button').focus();
    await sendKeys({ press: 'Enter' });
    expect(call.state).to.equal('ended');
    expect(hangups).to.equal(1);
    await el.updateComplete;
    expect(part<HTMLButtonElement>(el, 'mute-button').disabled).to.equal(true);
  });

  it('offers a DTMF keypad on phone calls, with keys enabled once established', async () => {
    const { provider } = await fakeProvider(ui);
    const dialer = child(provider, 'call-dialer');
    dialer.mode = 'phone';
    await dialer.updateComplete;
    dialer.value = '+46000000000';
    const call = dialer.dial()!;
    const el = child(provider, 'call-controls');
    await waitFor(() => maybePart(el, 'keypad-button') !== null, 2000, 'keypad button');
    const toggle = part(el, 'keypad-button');
    expect(toggle.getAttribute('aria-expanded')).to.equal('false');
    toggle.click();
    await el.updateComplete;
    expect(toggle.getAttribute('aria-expanded')).to.equal('true');
    const keys = () => el.shadowRoot!.querySelectorAll<HTMLButtonElement>('[part="key"]');
    expect(keys()).to.have.length(12);
    expect(keys()[0].disabled).to.equal(call.state !== 'established');
    await waitFor(() => call.state === 'established', 2000, 'established');
    await el.updateComplete;
    expect(keys()[0].disabled).to.equal(false);
    await expect(el).to.be.accessible();
  });
});
