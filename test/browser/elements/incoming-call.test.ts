// What <incoming-call> renders, on the stories' fake client (no server): answering for real, with real media, is
// end-to-end.test.ts's part.
import { expect, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { child, click, deepActive, fakeProvider, part, settle, shadowText, waitFor } from './element-helpers.js';

const ui = html`<call-dialer></call-dialer><incoming-call></incoming-call><call-status></call-status>`;

describe('<incoming-call>', () => {
  afterEach(settle);

  it('is hidden (and axe-clean) while nothing rings', async () => {
    const { provider } = await fakeProvider(ui);
    const el = child(provider, 'incoming-call');
    await el.updateComplete;
    expect(el.open).to.equal(false);
    expect(getComputedStyle(el).display).to.equal('none');
    await expect(el).to.be.accessible();
  });

  it('announces a video call as an alert dialog, takes focus, answers with audio only by keyboard', async () => {
    const { provider, client } = await fakeProvider(ui);
    child(provider, 'call-dialer').focus();
    const call = client.ringIn({ id: 'alice-1', displayName: 'Alice' }, true);
    const answers: Array<{ video?: boolean }> = [];
    const answer = call.answer.bind(call);
    call.answer = (options = {}) => { answers.push(options); answer(options); };
    const el = child(provider, 'incoming-call');
    await waitFor(() => el.open, 2000, 'incoming');
    await el.updateComplete;
    const base = part(el, 'base');
    expect(base.getAttribute('role')).to.equal('alertdialog');
    expect(base.getAttribute('aria-labelledby')).to.equal('title caller');
    expect(part(el, 'caller').textContent).to.equal('Alice');
    // The display name is the caller's choice: the id under it is not.
    expect(part(el, 'caller-id').textContent).to.equal('alice-1');
    expect(part(el, 'kind').textContent).to.equal('Video call');
    expect(deepActive()).to.equal(part(el, 'answer-button'));
    await expect(el).to.be.accessible();
    await sendKeys({ press: 'Tab' });
    expect(deepActive()).to.equal(part(el, 'answer-audio-button'));
    await sendKeys({ press: 'Enter' });
    expect(answers).to.deep.equal([{ video: false }]);
    await waitFor(() => !el.open, 2000, 'closed once answered');
  });

  it('renders a hostile display name as text: nothing executes', async () => {
    const evil = '<img src=x onerror="window.__xssIncoming=1"><b>Eve</b>';
    const { provider, client } = await fakeProvider(ui);
    client.ringIn({ id: 'eve', displayName: evil });
    const el = child(provider, 'incoming-call');
    await waitFor(() => el.open, 2000, 'incoming');
    await el.updateComplete;
    const status = child(provider, 'call-status');
    await status.updateComplete;
    expect(part(el, 'caller').textContent).to.equal(evil);
    expect(shadowText(status)).to.contain(evil);
    for (const host of [el, status]) {
      expect(host.shadowRoot!.querySelector('img, b')).to.equal(null);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect((window as { __xssIncoming?: number }).__xssIncoming).to.equal(undefined);
  });

  it('speaks Swedish and offers "enable sound" while the audio controller reports autoplay blocked', async () => {
    const { provider, client } = await fakeProvider(ui, { autoplayBlocked: true }, 'sv');
    let unlocked = 0;
    client.audioController.addEventListener('autoplayunlocked', () => unlocked++);
    client.ringIn({ id: 'alice', displayName: 'Alice' });
    const el = child(provider, 'incoming-call');
    await waitFor(() => el.open, 2000, 'incoming');
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
  });

  it('is themeable through parts and properties', async () => {
    const { provider, client } = await fakeProvider(ui);
    const el = child(provider, 'incoming-call');
    el.style.setProperty('--call-color-danger', 'rgb(9, 8, 7)');
    client.ringIn();
    await waitFor(() => el.open, 2000, 'incoming');
    await el.updateComplete;
    expect(getComputedStyle(part(el, 'decline-button')).backgroundColor).to.equal('rgb(9, 8, 7)');
    for (const name of ['base', 'title', 'caller', 'kind', 'actions', 'answer-button', 'decline-button']) part(el, name);
  });
});
