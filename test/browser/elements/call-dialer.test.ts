import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { CallDialDetail, CallDialerElement } from '../../../src/elements/index.js';
import type { CallProviderElement } from '../../../src/elements/index.js';
import { child, click, connectedProvider, deepActive, fakeProvider, part, settle, shadowText, uniqueUser, waitFor } from './element-helpers.js';

const dialerOnly = html`<call-dialer></call-dialer>`;

/**
 * A dialer in a connected provider: on the stories' fake client for what the dialer renders and dials, or (`real`)
 * on the run's calling server where the client's own typed errors are the point.
 */
async function dialer(lang = 'en', real = false) {
  const provider: CallProviderElement = real
    ? await connectedProvider('dialer', dialerOnly, { lang })
    : (await fakeProvider(dialerOnly, {}, lang)).provider;
  const el = child(provider, 'call-dialer');
  await el.updateComplete;
  return { provider, el };
}

/** Types into the destination input with real key presses and presses Enter. */
async function typeAndEnter(el: CallDialerElement, text: string): Promise<void> {
  part<HTMLInputElement>(el, 'input').focus();
  if (text) await sendKeys({ type: text });
  await sendKeys({ press: 'Enter' });
  await el.updateComplete;
}

async function selectMode(el: CallDialerElement, mode: string): Promise<void> {
  el.mode = mode as CallDialerElement['mode'];
  await el.updateComplete;
}

describe('<call-dialer>', () => {
  afterEach(settle);

  it('is disabled while not connected', async () => {
    const el = await fixture<CallDialerElement>(html`<call-dialer></call-dialer>`);
    expect(part<HTMLButtonElement>(el, 'call-button').disabled).to.equal(true);
    expect(el.dial()).to.equal(null);
    await el.updateComplete;
    expect(shadowText(el)).to.contain('Not connected');
    await expect(el).to.be.accessible();
  });

  it('renders every mode accessibly, and arrow keys switch modes', async () => {
    const { el } = await dialer();
    expect(part<HTMLButtonElement>(el, 'call-button').disabled).to.equal(false);
    for (const mode of ['user', 'phone', 'sip', 'conference']) {
      await selectMode(el, mode);
      await expect(el).to.be.accessible();
    }
    await selectMode(el, 'user');
    const radios = el.shadowRoot!.querySelectorAll<HTMLInputElement>('input[type="radio"]');
    radios[0].focus();
    await sendKeys({ press: 'ArrowRight' });
    await el.updateComplete;
    expect(el.mode).to.equal('phone');
    expect(part(el, 'label').textContent).to.equal('Phone number');
    expect(part(el, 'mode-selected').textContent).to.contain('Phone');
  });

  it('invalid input in every mode shows an announced inline message, marks the field and dials nothing', async () => {
    const { provider, el } = await dialer();
    let dials = 0;
    el.addEventListener('call-dial', () => dials++);
    const cases: Array<[string, string, RegExp]> = [
      ['user', 'not valid!', /user id/],
      ['user', '', /user id/],
      ['phone', '4155550101', /\+14155550101/],
      ['phone', '+0123', /E\.164 form/],
      ['sip', 'no-domain', /user@domain/],
      ['sip', 'a@b@', /SIP address/],
      ['conference', 'has space', /conference id/],
      ['conference', 'x'.repeat(65), /1 to 64/],
    ];
    for (const [mode, text, message] of cases) {
      await selectMode(el, mode);
      el.value = '';
      await el.updateComplete;
      await typeAndEnter(el, text);
      const error = part(el, 'error');
      expect(error.getAttribute('role')).to.equal('alert');
      expect(error.textContent, `${mode} "${text}"`).to.match(message);
      const input = part<HTMLInputElement>(el, 'input');
      expect(input.getAttribute('aria-invalid')).to.equal('true');
      expect(input.getAttribute('aria-describedby')).to.equal('error');
      expect(deepActive()).to.equal(input);
      await expect(el).to.be.accessible();
    }
    expect(dials).to.equal(0);
    expect(provider.client!.activeCalls).to.have.length(0);
  });

  it('SIP headers accept only x- names, added and removed by keyboard', async () => {
    const { el } = await dialer();
    await selectMode(el, 'sip');
    part(el, 'add-header').focus();
    await sendKeys({ press: 'Enter' });
    await el.updateComplete;
    expect(deepActive()).to.equal(part(el, 'header-name'));
    await sendKeys({ type: 'Subject' });
    await sendKeys({ press: 'Tab' });
    await sendKeys({ type: 'hello' });
    el.value = 'alice@example.com';
    await el.updateComplete;
    const seen: CallDialDetail[] = [];
    el.addEventListener('call-dial', (e) => {
      seen.push(structuredClone(e.detail));
      e.preventDefault();
    });
    await typeAndEnter(el, '');
    expect(part(el, 'error').textContent).to.contain('start with "x-"');
    expect(part(el, 'header-name').getAttribute('aria-invalid')).to.equal('true');
    expect(seen).to.have.length(0);
    await expect(el).to.be.accessible();

    part<HTMLInputElement>(el, 'header-name').select();
    await sendKeys({ type: 'X-Subject' });
    await typeAndEnter(el, '');
    expect(seen).to.deep.equal([{ mode: 'sip', destination: 'alice@example.com', video: false, headers: { 'X-Subject': 'hello' } }]);

    // Header values are text: markup in them is sent as typed and never rendered.
    const value = part<HTMLInputElement>(el, 'header-value');
    value.select();
    await sendKeys({ type: '<img src=x onerror="window.__xssHeader=1">' });
    el.value = '"<img src=x onerror=alert(1)>"@example.com';
    await typeAndEnter(el, '');
    expect(part(el, 'error').textContent).to.contain('user@domain');
    el.value = 'alice@example.com';
    await typeAndEnter(el, '');
    expect(seen[1].headers).to.deep.equal({ 'X-Subject': '<img src=x onerror="window.__xssHeader=1">' });
    expect(el.shadowRoot!.querySelector('img')).to.equal(null);
    expect((window as { __xssHeader?: number }).__xssHeader).to.equal(undefined);

    part(el, 'remove-header').focus();
    await sendKeys({ press: 'Enter' });
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[part="header-row"]')).to.equal(null);
    expect(deepActive()).to.equal(part(el, 'add-header'));
  });

  it('formats phone numbers as they are typed, has a keypad and a test number shortcut', async () => {
    const { el } = await dialer();
    await selectMode(el, 'phone');
    part<HTMLInputElement>(el, 'input').focus();
    await sendKeys({ type: '+14155550101' });
    await el.updateComplete;
    expect(part<HTMLInputElement>(el, 'input').value).to.equal('+1 415 555 0101');

    el.value = '';
    await el.updateComplete;
    const keys = [...el.shadowRoot!.querySelectorAll<HTMLButtonElement>('[part="key"]')];
    const key = (k: string) => keys.find((b) => b.textContent === k)!;
    for (const k of ['+', '4', '6', '7', '0']) await click(key(k));
    await el.updateComplete;
    expect(part<HTMLInputElement>(el, 'input').value).to.equal('+46 70');

    await click(part(el, 'test-number'));
    await el.updateComplete;
    expect(part<HTMLInputElement>(el, 'input').value).to.equal('+46 000 000 000');
    const seen: CallDialDetail[] = [];
    el.addEventListener('call-dial', (e) => {
      seen.push(structuredClone(e.detail));
      e.preventDefault();
    });
    await click(part(el, 'call-button'));
    expect(seen[0]).to.deep.include({ mode: 'phone', destination: '+46000000000' });
  });

  it('a vetoed call-dial dials nothing; a changed one dials what the page says', async () => {
    const { provider, el } = await dialer();
    const veto = (e: Event) => e.preventDefault();
    el.addEventListener('call-dial', veto);
    await typeAndEnter(el, 'somebody');
    expect(provider.client!.activeCalls).to.have.length(0);
    expect(part(el, 'error').textContent).to.equal('');
    el.removeEventListener('call-dial', veto);

    el.addEventListener('call-dial', (e) => { e.detail.destination = 'bob'; }, { once: true });
    await typeAndEnter(el, '');
    expect(provider.client!.activeCalls.map((c) => c.remoteUserId)).to.deep.equal(['bob']);
    provider.client!.activeCalls[0].hangup();
  });

  it('shows the client\'s typed error: calling yourself, and a phone call the gateway cannot take', async () => {
    const { provider, el } = await dialer('en', true);
    await typeAndEnter(el, provider.client!.userId);
    expect(part(el, 'error').textContent).to.equal('You cannot call yourself.');

    await selectMode(el, 'phone');
    const errors: string[] = [];
    el.addEventListener('call-dial-error', (e) => errors.push(e.detail.error.message));
    await typeAndEnter(el, '+46000000000');
    const call = provider.client!.activeCalls[0] ?? null;
    expect(call).to.not.equal(null);
    // Until the gateway runs the call ends `unavailable` with a typed error, which the dialer shows.
    await waitFor(() => call.state === 'ended' || call.state === 'established', 15_000, 'phone call outcome');
    if (call.details.error) {
      await waitFor(() => part(el, 'error').textContent === call.details.error!.message, 3000, 'error shown');
      expect(errors).to.deep.equal([call.details.error.message]);
    } else {
      call.hangup();
    }
  });

  it('speaks Swedish from the lang attribute and renders what is typed as text only', async () => {
    const { provider, el } = await dialer('sv', true);
    expect(part(el, 'label').textContent).to.equal('Användar-id');
    expect(part(el, 'call-button').textContent).to.contain('Ring');
    await typeAndEnter(el, '<img src=x onerror="window.__xss=1">');
    expect(part(el, 'error').textContent).to.contain('Ange ett användar-id');
    expect((window as { __xss?: number }).__xss).to.equal(undefined);
    expect(el.shadowRoot!.querySelector('img')).to.equal(null);
    // The client's typed errors in Swedish too.
    el.value = provider.client!.userId;
    el.dial();
    await el.updateComplete;
    expect(part(el, 'error').textContent).to.equal('Du kan inte ringa dig själv.');
    document.documentElement.lang = 'en';
  });

  it('is themeable: --call-* properties, theme="dark", and ::part', async () => {
    const style = document.createElement('style');
    style.textContent = 'call-dialer.themed::part(call-button) { border-width: 3px; }';
    document.head.append(style);
    try {
      const el = await fixture<CallDialerElement>(html`<call-dialer class="themed" style="--call-color-success: rgb(1, 2, 3)"></call-dialer>`);
      const button = part(el, 'call-button');
      expect(getComputedStyle(button).backgroundColor).to.equal('rgb(1, 2, 3)');
      expect(getComputedStyle(button).borderTopWidth).to.equal('3px');
      const input = part(el, 'input');
      el.theme = 'light';
      await el.updateComplete;
      const light = getComputedStyle(input).backgroundColor;
      el.theme = 'dark';
      await el.updateComplete;
      expect(el.getAttribute('data-theme')).to.equal('dark');
      expect(getComputedStyle(input).backgroundColor).to.not.equal(light);
      await expect(el).to.be.accessible();
    } finally {
      style.remove();
    }
  });

  it('inherits the theme of an ancestor such as the provider', async () => {
    const wrap = await fixture<HTMLDivElement>(html`<div theme="dark"><call-dialer></call-dialer></div>`);
    const el = wrap.querySelector('call-dialer')!;
    await el.updateComplete;
    expect(el.getAttribute('data-theme')).to.equal('dark');
    wrap.setAttribute('theme', 'light');
    await waitFor(() => el.getAttribute('data-theme') === 'light', 2000, 'theme follows');
    void uniqueUser;
  });
});
