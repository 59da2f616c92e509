import { expect, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { alicePlusBob, child, click, deepActive, part, settle, shadowText, waitFor } from './element-helpers.js';

const ui = html`<call-dialer></call-dialer><incoming-call></incoming-call><call-status></call-status>`;

describe('<incoming-call>', () => {
  afterEach(settle);

  it('is hidden (and axe-clean) while nothing rings', async () => {
    const { bob } = await alicePlusBob(ui);
    const el = child(bob, 'incoming-call');
    await el.updateComplete;
    expect(el.open).to.equal(false);
    expect(getComputedStyle(el).display).to.equal('none');
    await expect(el).to.be.accessible();
  });

  it('announces a video call as an alert dialog, takes focus, answers with audio only by keyboard', async () => {
    const { alice, bob, bobId } = await alicePlusBob(ui);
    child(bob, 'call-dialer').focus();
    const dialer = child(alice, 'call-dialer');
    dialer.video = true;
    dialer.value = bobId;
    dialer.dial();
    const el = child(bob, 'incoming-call');
    await waitFor(() => el.open, 10_000, 'incoming');
    await el.updateComplete;
    const base = part(el, 'base');
    expect(base.getAttribute('role')).to.equal('alertdialog');
    expect(base.getAttribute('aria-labelledby')).to.equal('title caller');
    expect(part(el, 'caller').textContent).to.equal('Alice');
    // The display name is the caller's choice: the id under it is not.
    expect(part(el, 'caller-id').textContent).to.equal(alice.client!.userId);
    expect(part(el, 'kind').textContent).to.equal('Video call');
    expect(deepActive()).to.equal(part(el, 'answer-button'));
    await expect(el).to.be.accessible();
    await sendKeys({ press: 'Tab' });
    expect(deepActive()).to.equal(part(el, 'answer-audio-button'));
    await sendKeys({ press: 'Enter' });
    await waitFor(() => bob.client!.activeCalls[0]?.state === 'established', 15_000, 'established');
    expect(bob.client!.activeCalls[0].hasVideo).to.equal(false);
    expect(el.open).to.equal(false);
    bob.client!.activeCalls[0].hangup();
  });

  it('renders a hostile display name as text: nothing executes', async () => {
    const evil = '<img src=x onerror="window.__xssIncoming=1"><b>Eve</b>';
    const { alice, bob, bobId } = await alicePlusBob(ui, { aliceName: evil });
    const dialer = child(alice, 'call-dialer');
    dialer.value = bobId;
    dialer.dial();
    const el = child(bob, 'incoming-call');
    await waitFor(() => el.open, 10_000, 'incoming');
    await el.updateComplete;
    const status = child(bob, 'call-status');
    await status.updateComplete;
    expect(part(el, 'caller').textContent).to.equal(evil);
    expect(shadowText(status)).to.contain(evil);
    for (const host of [el, status]) {
      expect(host.shadowRoot!.querySelector('img, b')).to.equal(null);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect((window as { __xssIncoming?: number }).__xssIncoming).to.equal(undefined);
    bob.client!.activeCalls[0].hangup();
  });

  it('speaks Swedish and offers "enable sound" while the audio controller reports autoplay blocked', async () => {
    const { alice, bob, bobId } = await alicePlusBob(ui);
    bob.lang = 'sv';
    const client = bob.client!;
    if (!('audioController' in client)) return; // the core's audio controller is not there: nothing to show
    const ac = (client as unknown as { audioController: EventTarget & { locked: boolean; unlock(): Promise<void> } }).audioController;
    let unlocked = 0;
    Object.defineProperty(ac, 'locked', { configurable: true, get: () => unlocked === 0 });
    Object.defineProperty(ac, 'unlock', { configurable: true, value: async () => { unlocked++; ac.dispatchEvent(new Event('autoplayunlocked')); } });
    ac.dispatchEvent(new Event('autoplayblocked'));

    const dialer = child(alice, 'call-dialer');
    dialer.value = bobId;
    dialer.dial();
    const el = child(bob, 'incoming-call');
    await waitFor(() => el.open, 10_000, 'incoming');
    await el.updateComplete;
    expect(part(el, 'title').textContent).to.equal('Inkommande samtal');
    expect(part(el, 'answer-button').textContent).to.contain('Svara');
    const sound = part(el, 'sound-button');
    expect(sound.textContent).to.contain('Slå på ljud');
    await expect(el).to.be.accessible();
    await click(sound);
    expect(unlocked).to.equal(1);
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[part~="sound-button"]')).to.equal(null);
    client.activeCalls[0].hangup();
  });

  it('is themeable through parts and properties', async () => {
    const { alice, bob, bobId } = await alicePlusBob(ui);
    const el = child(bob, 'incoming-call');
    el.style.setProperty('--call-color-danger', 'rgb(9, 8, 7)');
    const dialer = child(alice, 'call-dialer');
    dialer.value = bobId;
    dialer.dial();
    await waitFor(() => el.open, 10_000, 'incoming');
    await el.updateComplete;
    expect(getComputedStyle(part(el, 'decline-button')).backgroundColor).to.equal('rgb(9, 8, 7)');
    for (const name of ['base', 'title', 'caller', 'kind', 'actions', 'answer-button', 'decline-button']) part(el, name);
    bob.client!.activeCalls[0].hangup();
  });
});
