// Themes on the stories' fake client (no server): what the elements render, idle, with an error, ringing and in a call.
import { expect } from '@open-wc/testing';
import { child, fakeProvider, part, settle, waitFor } from './element-helpers.js';

const TAGS = ['call-dialer', 'incoming-call', 'video-view', 'call-status', 'call-controls'] as const;

describe('themes', () => {
  afterEach(settle);

  for (const theme of ['light', 'dark'] as const) {
    it(`every element is axe-clean in the ${theme} theme, idle, with an error, and during a call`, async () => {
      const { provider: alice } = await fakeProvider();
      const { provider: bob, client: bobClient } = await fakeProvider();
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
      bobClient.ringIn({ id: 'alice', displayName: 'Alice' }, true);
      const incoming = child(bob, 'incoming-call');
      await waitFor(() => incoming.open, 2000, 'incoming');
      await incoming.updateComplete;
      await expect(incoming).to.be.accessible();
      dialer.value = 'bob';
      dialer.video = true;
      const call = dialer.dial()!;
      await waitFor(() => call.state === 'established', 2000, 'established');
      call.mute();
      for (const tag of TAGS) {
        const el = child(alice, tag);
        await el.updateComplete;
        await expect(el).to.be.accessible();
      }
    });
  }

  it('dark and light differ, and a page-level --call-* token reaches every element', async () => {
    const { provider } = await fakeProvider();
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
