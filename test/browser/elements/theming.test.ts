import { expect } from '@open-wc/testing';
import { alicePlusBob, child, connectedProvider, part, settle, waitFor } from './element-helpers.js';

const TAGS = ['call-dialer', 'incoming-call', 'video-view', 'call-status', 'call-controls'] as const;

describe('themes', () => {
  afterEach(settle);

  for (const theme of ['light', 'dark'] as const) {
    it(`every element is axe-clean in the ${theme} theme, idle, with an error, and during a call`, async () => {
      const { alice, bob, bobId } = await alicePlusBob();
      for (const p of [alice, bob]) p.setAttribute('theme', theme);
      const dialer = child(alice, 'call-dialer');
      dialer.value = 'not valid!';
      dialer.dial();
      await dialer.updateComplete;
      expect(part(dialer, 'error').textContent).to.not.equal('');
      for (const tag of TAGS) {
        const el = child(alice, tag);
        await el.updateComplete;
        expect(el.getAttribute('data-theme'), tag).to.equal(theme);
        await expect(el).to.be.accessible();
      }
      dialer.value = bobId;
      dialer.video = true;
      const call = dialer.dial()!;
      const incoming = child(bob, 'incoming-call');
      await waitFor(() => incoming.open, 10_000, 'incoming');
      await incoming.updateComplete;
      await expect(incoming).to.be.accessible();
      bob.client!.activeCalls[0].answer();
      await waitFor(() => call.state === 'established', 15_000, 'established');
      call.mute();
      for (const tag of TAGS) {
        const el = child(alice, tag);
        await el.updateComplete;
        await expect(el).to.be.accessible();
      }
      call.hangup();
    });
  }

  it('dark and light differ, and a page-level --call-* token reaches every element', async () => {
    const provider = await connectedProvider('tokens');
    provider.style.setProperty('--call-color-danger', 'rgb(200, 0, 100)');
    const controls = child(provider, 'call-controls');
    await controls.updateComplete;
    expect(getComputedStyle(part(controls, 'hangup-button')).backgroundColor).to.equal('rgb(200, 0, 100)');
    provider.setAttribute('theme', 'light');
    await waitFor(() => controls.getAttribute('data-theme') === 'light', 2000, 'light');
    const light = getComputedStyle(controls).color;
    provider.setAttribute('theme', 'dark');
    await waitFor(() => controls.getAttribute('data-theme') === 'dark', 2000, 'dark');
    expect(getComputedStyle(controls).color).to.not.equal(light);
    // The danger token set by the page wins in both themes.
    expect(getComputedStyle(part(controls, 'hangup-button')).backgroundColor).to.equal('rgb(200, 0, 100)');
  });
});
