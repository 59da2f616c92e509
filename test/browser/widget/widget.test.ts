import { expect } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import '../../../src/index.js';
import type { CallWidgetElement } from '../../../src/index.js';
import { asCallClient, FakeCallClient } from '../../../stories/support/fake-client.js';
import { callingServer, nextEvent, startClient, stopClients, uniqueUser, waitFor } from '../helpers.js';
import type { CallHistoryElement, IncomingCallEvent } from '../../../src/index.js';

/** A second real tab with the bundle (dist/calling-elements.js, loaded twice) and a `<call-widget>` for `user`. */
class WidgetPage {
  private constructor(readonly id: string) {}

  static async open(user = ''): Promise<WidgetPage> {
    const id = await executeServerCommand<string, { path: string }>('open-page', {
      path: `/test/browser/widget/fixtures/widget.html${user ? `?user=${encodeURIComponent(user)}` : ''}`,
    });
    const page = new WidgetPage(id);
    await page.run(`const end = Date.now() + 10000; while (!window.widgetReady) { if (Date.now() > end) throw new Error('page not ready'); await new Promise((r) => setTimeout(r, 20)); } return true;`);
    return page;
  }

  /** Runs an async function body in the page, with `w` = the page's widget and `part(el, name)` a shadow query. */
  run<T = unknown>(body: string): Promise<T> {
    const prelude = `const w = document.querySelector('call-widget');
      const part = (host, name) => host?.shadowRoot?.querySelector('[part~="' + name + '"]') ?? null;
      const inner = (tag) => w.shadowRoot.querySelector(tag);
      const until = async (pred, what, ms = 15000) => { const end = Date.now() + ms; while (!(await pred())) { if (Date.now() > end) throw new Error('timed out: ' + what); await new Promise((r) => setTimeout(r, 25)); } };`;
    return executeServerCommand<T, { id: string; body: string }>('page-eval', { id: this.id, body: prelude + body });
  }

  close(): Promise<unknown> {
    return executeServerCommand('close-page', { id: this.id });
  }
}

const part = (host: Element | null | undefined, name: string) => host?.shadowRoot?.querySelector<HTMLElement>(`[part~="${name}"]`) ?? null;
const inner = <K extends keyof HTMLElementTagNameMap>(w: CallWidgetElement, tag: K) => w.shadowRoot!.querySelector(tag);

async function makeWidget(user: string, attrs: Record<string, string> = {}): Promise<CallWidgetElement> {
  const w = document.createElement('call-widget');
  if (user) {
    w.setAttribute('server', await callingServer());
    w.setAttribute('user-id', user);
    w.setAttribute('token-url', `/__calling-token?userId=${encodeURIComponent(user)}`);
  }
  for (const [k, v] of Object.entries(attrs)) w.setAttribute(k, v);
  document.body.append(w);
  await w.updateComplete;
  return w;
}

function statusText(w: CallWidgetElement): string {
  return part(inner(w, 'call-status'), 'state')?.textContent?.trim() ?? '';
}

describe('<call-widget>', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it("alice's widget calls bob's widget in another tab; bob answers from the popped-open panel; each side hangs up once", async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const w = await makeWidget(alice, { video: '', modes: 'user' });
    cleanup.push(() => w.remove());
    const page = await WidgetPage.open(bob);
    cleanup.push(() => page.close());

    await waitFor(() => w.client?.connectionState === 'connected', 15_000, "alice's widget online");
    await page.run(`await until(() => w.client?.connectionState === 'connected', 'bob online'); return true;`);
    expect(await page.run<boolean>('return w.open;')).to.equal(false);

    // Alice opens her panel from the launcher and dials bob with video.
    part(w, 'launcher')!.click();
    await w.updateComplete;
    expect(w.open).to.equal(true);
    expect(part(w, 'launcher')!.getAttribute('aria-expanded')).to.equal('true');
    const dialer = inner(w, 'call-dialer')!;
    dialer.value = bob;
    dialer.video = true;
    await dialer.updateComplete;
    part(dialer, 'call-button')!.click();

    // Bob's panel pops open by itself with the incoming call; he answers there.
    await page.run(`await until(() => w.open && inner('incoming-call')?.open, 'panel popped open with the incoming call');
      part(inner('incoming-call'), 'answer-button').click(); return true;`);
    await waitFor(() => w.client?.activeCalls[0]?.state === 'established', 15_000, 'established at alice');
    await waitFor(() => statusText(w) === 'Connected', 5_000, 'status says connected');
    // Video call: the panel shows both video views and bob's remote view renders alice's camera.
    await waitFor(() => w.shadowRoot!.querySelectorAll('video-view').length === 2, 5_000, 'video views');
    await page.run(`await until(() => inner('video-view[source="remote"]')?.showsVideo === true, 'bob sees video'); return true;`);
    expect(inner(w, 'call-dialer')!.hidden, 'dialer hidden during the call').to.equal(true);

    // Alice hangs up from her controls; both panels say the call ended.
    part(inner(w, 'call-controls'), 'hangup-button')!.click();
    await waitFor(() => statusText(w).startsWith('Call ended'), 10_000, 'alice: ended');
    await page.run(`await until(() => part(inner('call-status'), 'state').textContent.startsWith('Call ended'), 'bob: ended'); return true;`);

    // Now bob calls back (audio only); alice's panel is closed and pops open; she answers; bob hangs up.
    w.toggle(false);
    await w.updateComplete;
    await page.run(`const d = inner('call-dialer'); d.value = ${JSON.stringify(alice)}; d.video = false; await d.updateComplete;
      part(d, 'call-button').click(); return true;`);
    await waitFor(() => w.open && inner(w, 'incoming-call')!.open, 15_000, "alice's panel popped open");
    expect(part(inner(w, 'incoming-call'), 'caller')!.textContent).to.equal(`Widget ${bob}`);
    expect(part(w, 'launcher')!.getAttribute('aria-label')).to.contain(`Widget ${bob}`);
    part(inner(w, 'incoming-call'), 'answer-button')!.click();
    await waitFor(() => w.client?.activeCalls[0]?.state === 'established', 15_000, 'second call established');
    await page.run(`await until(() => w.client.activeCalls[0]?.state === 'established', 'bob established');
      part(inner('call-controls'), 'hangup-button').click(); return true;`);
    await waitFor(() => w.client?.activeCalls.length === 0 && statusText(w).startsWith('Call ended'), 10_000, 'alice sees bob hang up');

    expect(await page.run<string[]>('return window.pageErrors;')).to.deep.equal([]);
  });

  it('a page that loads the bundle twice still works and throws nothing', async () => {
    const page = await WidgetPage.open();
    cleanup.push(() => page.close());
    const result = await page.run<{ errors: string[]; defined: boolean; rendered: boolean }>(`
      document.body.append(document.createElement('call-widget'));
      await customElements.whenDefined('call-widget');
      const el = document.querySelector('call-widget');
      await el.updateComplete;
      return { errors: window.pageErrors, defined: !!customElements.get('call-widget'), rendered: !!part(el, 'launcher') };`);
    expect(result).to.deep.equal({ errors: [], defined: true, rendered: true });
    // And a copy of the bundle on top of the source modules in this page: no throw either.
    await import(/* @vite-ignore */ `${location.origin}/dist/calling-elements.js?third-copy`);
  });

  it('hostile global CSS on the page changes nothing inside the widget', async () => {
    const w = await makeWidget('', { modes: 'user phone' });
    cleanup.push(() => w.remove());
    w.toggle(true);
    await w.updateComplete;
    const dialer = inner(w, 'call-dialer')!;
    await dialer.updateComplete;
    const probes = (): Record<string, HTMLElement> => ({
      launcher: part(w, 'launcher')!,
      panel: part(w, 'panel')!,
      title: part(w, 'title')!,
      input: part(dialer, 'input')!,
      callButton: part(dialer, 'call-button')!,
      mode: part(dialer, 'mode')!,
    });
    const props = ['color', 'background-color', 'font-family', 'font-weight', 'font-style', 'display', 'visibility', 'opacity',
      'border-top-style', 'border-top-width', 'text-transform', 'letter-spacing', 'width', 'height', 'padding-top', 'box-shadow'] as const;
    const measure = () => Object.fromEntries(Object.entries(probes()).map(([k, el]) => {
      const cs = getComputedStyle(el);
      return [k, Object.fromEntries(props.map((p) => [p, cs.getPropertyValue(p)]))];
    }));
    const host = () => { const cs = getComputedStyle(w); return [cs.position, cs.display, cs.visibility, cs.opacity, cs.zIndex].join(' '); };
    const before = measure();
    const hostBefore = host();

    const style = document.createElement('style');
    style.textContent = `
      * { color: red !important; background: yellow !important; font-family: "Comic Sans MS", cursive !important;
          font-weight: 900 !important; font-style: italic !important; letter-spacing: 6px !important;
          text-transform: uppercase !important; border: 7px dashed lime !important; box-shadow: 0 0 0 9px purple !important;
          padding: 30px !important; display: inline !important; visibility: hidden !important; opacity: 0.2 !important;
          position: static !important; z-index: -1 !important; transition: none !important; }
      div, section, button, input, label, p, h2, form, fieldset, span, svg { display: none !important; width: 1px !important; height: 1px !important; }
      button { all: unset !important; }
      [part], [part="launcher"], .primary, #panel, #dest { display: none !important; }
      call-widget { position: static !important; display: none !important; visibility: hidden !important; }
    `;
    document.head.append(style);
    cleanup.push(() => style.remove());
    await new Promise((r) => requestAnimationFrame(r));

    expect(host()).to.equal(hostBefore);
    expect(measure()).to.deep.equal(before);
    // Still on top and clickable where it was.
    const r = part(w, 'launcher')!.getBoundingClientRect();
    expect(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)).to.equal(w);
  });

  it('attributes: position, theme, lang, modes, video', async () => {
    const w = await makeWidget('', { position: 'top-left', theme: 'dark', lang: 'sv', modes: 'phone' });
    cleanup.push(() => w.remove());
    w.toggle(true);
    await w.updateComplete;
    const r = w.getBoundingClientRect();
    expect(r.left).to.be.below(100);
    expect(r.top).to.be.below(100);
    const dialer = inner(w, 'call-dialer')!;
    await dialer.updateComplete;
    expect(dialer.mode).to.equal('phone');
    expect(part(dialer, 'modes'), 'one mode: no mode picker').to.equal(null);
    expect(part(dialer, 'call-button')!.textContent!.trim()).to.equal('Ring');
    expect(part(w, 'title')!.textContent).to.equal('Samtal');
    expect(dialer.getAttribute('data-theme')).to.equal('dark');
    // Switching language and theme reaches the elements inside.
    w.setAttribute('lang', 'en');
    w.setAttribute('theme', 'light');
    await w.updateComplete;
    await dialer.updateComplete;
    expect(part(dialer, 'call-button')!.textContent!.trim()).to.equal('Call');
    expect(dialer.getAttribute('data-theme')).to.equal('light');
    // Without `video` the dialer offers no video toggle.
    w.setAttribute('modes', 'user');
    await w.updateComplete;
    await dialer.updateComplete;
    expect(getComputedStyle(part(dialer, 'video-toggle')!).display).to.equal('none');
    w.toggleAttribute('video', true);
    await w.updateComplete;
    expect(getComputedStyle(part(dialer, 'video-toggle')!).display).to.not.equal('none');
    // Escape closes the panel and gives focus to the launcher.
    part(dialer, 'input')!.focus();
    part(dialer, 'input')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, composed: true }));
    await w.updateComplete;
    expect(w.open).to.equal(false);
    expect(w.shadowRoot!.activeElement).to.equal(part(w, 'launcher'));
  });

  it('without `video`, a video call ringing in is answered with audio only', async () => {
    for (const video of [false, true]) {
      const w = await makeWidget('', video ? { video: '' } : {});
      const client = new FakeCallClient();
      w.client = asCallClient(client);
      await w.updateComplete;
      client.ringIn({ id: 'bob', displayName: 'Bob' }, true);
      await waitFor(() => w.open && inner(w, 'incoming-call')!.open, 5_000, 'popped open');
      await inner(w, 'incoming-call')!.updateComplete;
      const shown = (name: string) => getComputedStyle(part(inner(w, 'incoming-call'), name)!).display !== 'none';
      expect([shown('answer-button'), shown('answer-audio-button')], `video=${video}`).to.deep.equal([video, true]);
      w.remove();
    }
  });
  it('Recent: a call missed while away shows as a count on the launcher; the Recent view lists it, clears the count and calls back', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const caller = await startClient(alice);
    cleanup.push(() => stopClients());
    const w = await makeWidget(bob, { modes: 'user' });
    cleanup.push(() => w.remove());
    await waitFor(() => w.client?.connectionState === 'connected', 15_000, "bob's widget online");
    expect(part(w, 'missed-count')).to.equal(null);

    // Alice calls and gives up while bob's widget rings: a missed call for bob.
    const call = caller.callUser(bob);
    await waitFor(() => w.client!.activeCalls.some((c) => c.state === 'ringing'), 10_000, 'ringing at bob');
    call.hangup();
    await waitFor(() => part(w, 'missed-count')?.textContent === '1', 10_000, 'missed count on the launcher');
    w.toggle(false);
    await w.updateComplete;
    expect(part(w, 'launcher')!.getAttribute('aria-label')).to.equal('Open calls, 1 missed call');

    // Bob opens the panel and its Recent view: the call is there, marked missed; the count is gone.
    w.toggle(true);
    await w.updateComplete;
    const recent = part(w, 'recent-button') as HTMLButtonElement;
    expect(recent.getAttribute('aria-label')).to.equal('Recent calls, 1 missed call');
    recent.click();
    await w.updateComplete;
    expect(recent.getAttribute('aria-pressed')).to.equal('true');
    expect(inner(w, 'call-dialer')!.hidden).to.equal(true);
    const history = w.shadowRoot!.querySelector('call-history') as CallHistoryElement;
    await waitFor(() => history.entries?.length === 1 && !!part(history, 'row'), 10_000, 'history row');
    expect(history.entries[0]!.remote).to.equal(alice);
    expect(part(history, 'row')!.getAttribute('part')).to.contain('missed');
    expect(part(w, 'missed-count')).to.equal(null);
    await expect(w).to.be.accessible();

    // Calling back from the row rings alice.
    const ringing = nextEvent<IncomingCallEvent>(caller, 'incomingcall', 10_000);
    (part(history, 'call-back-button') as HTMLButtonElement).click();
    const back = (await ringing).call;
    expect(back.remoteUserId).to.equal(bob);
    back.hangup();
    await waitFor(() => w.client!.activeCalls.length === 0, 10_000, 'call-back ended');

    // Looked at: a new widget for bob in this browser counts nothing missed.
    w.remove();
    const again = await makeWidget(bob, { modes: 'user' });
    cleanup.push(() => again.remove());
    await waitFor(() => again.client?.connectionState === 'connected', 15_000, 'bob online again');
    await new Promise((r) => setTimeout(r, 1000));
    expect(part(again, 'missed-count')).to.equal(null);
  });
});
