// Helpers for the element tests: providers on the run's calling server (call behaviour) or on the stories' fake
// client (what the elements render: states, a11y, i18n, theming — no server), shadow-part lookups, real clicks.
import { fixture, html } from '@open-wc/testing';
import { sendMouse } from '@web/test-runner-commands';
import type { TemplateResult } from 'lit';
import { CallClient } from '../../../src/core/index.js';
import '../../../src/elements/index.js';
import type { CallProviderElement } from '../../../src/elements/index.js';
import { asCallClient, FakeCallClient, type FakeClientOptions } from '../../../stories/support/fake-client.js';
import { callingServer, uniqueUser, waitFor } from '../helpers.js';

export { callingServer, uniqueUser, waitFor };
export type { FakeCall } from '../../../stories/support/fake-client.js';

/** Scripted outgoing calls that progress, ring and are answered quickly (the stories' pace is for people). */
export const QUICK = { progress: 20, ring: 60, answer: 120 };

/** A provider on a fresh fake client (connected unless `options` say otherwise), around `inner`. */
export async function fakeProvider(
  inner: TemplateResult = fullUi,
  options: FakeClientOptions = {},
  lang = 'en',
): Promise<{ provider: CallProviderElement; client: FakeCallClient }> {
  const client = new FakeCallClient({ script: QUICK, ...options });
  const provider = await fixture<CallProviderElement>(html`<call-provider lang=${lang} .client=${asCallClient(client)}>${inner}</call-provider>`);
  return { provider, client };
}

/** The full calling UI of the plain-HTML example, inside one provider. */
export const fullUi = html`<call-dialer></call-dialer><incoming-call></incoming-call>
  <video-view source="remote"></video-view><video-view source="local"></video-view>
  <call-status></call-status><call-controls></call-controls>`;

/** A provider for a fresh user on the test server, connected. */
export async function connectedProvider(
  name: string,
  inner: TemplateResult = fullUi,
  extra: { displayName?: string; lang?: string } = {},
): Promise<CallProviderElement> {
  const server = await callingServer();
  const el = await fixture<CallProviderElement>(html`<call-provider server=${server} token-url="/__calling-token" user-id=${uniqueUser(name)}
    display-name=${extra.displayName ?? ''} lang=${extra.lang ?? 'en'}>${inner}</call-provider>`);
  await waitFor(() => el.connectionState === 'connected', 10_000, `${name} connected`);
  return el;
}

/** Two providers in one page: alice and bob. */
export async function alicePlusBob(inner: TemplateResult = fullUi, extra: { aliceName?: string } = {}) {
  const server = await callingServer();
  const aliceId = uniqueUser('alice');
  const bobId = uniqueUser('bob');
  const root = await fixture<HTMLDivElement>(html`<div>
    <call-provider id="alice" token-url="/__calling-token" server=${server} user-id=${aliceId} display-name=${extra.aliceName ?? 'Alice'}>${inner}</call-provider>
    <call-provider id="bob" token-url="/__calling-token" server=${server} user-id=${bobId} display-name="Bob">${inner}</call-provider>
  </div>`);
  const alice = root.querySelector<CallProviderElement>('#alice')!;
  const bob = root.querySelector<CallProviderElement>('#bob')!;
  await waitFor(() => alice.connectionState === 'connected' && bob.connectionState === 'connected', 10_000, 'both connected');
  return { alice, bob, aliceId, bobId };
}

/** The first element matching `selector` under `provider`. */
export function child<K extends keyof HTMLElementTagNameMap>(provider: Element, tag: K): HTMLElementTagNameMap[K] {
  const el = provider.querySelector(tag);
  if (!el) throw new Error(`no <${tag}>`);
  return el;
}

/** An element of `host`'s shadow root by part name. */
export function part<T extends Element = HTMLElement>(host: Element, name: string): T {
  const el = host.shadowRoot?.querySelector<T>(`[part~="${name}"]`);
  if (!el) throw new Error(`no part "${name}" in <${host.localName}>`);
  return el;
}
export function maybePart(host: Element, name: string): Element | null {
  return host.shadowRoot?.querySelector(`[part~="${name}"]`) ?? null;
}

/** The visible text of a host's shadow root, whitespace collapsed. */
export function shadowText(host: Element): string {
  return (host.shadowRoot?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

/** A real mouse click in the middle of `el` (a user gesture, as a person's click is). */
export async function click(el: Element): Promise<void> {
  el.scrollIntoView({ block: 'center' });
  const r = el.getBoundingClientRect();
  await sendMouse({ type: 'click', position: [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)] });
}

/** The element that has focus, through shadow roots. */
export function deepActive(): Element | null {
  let el = document.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  return el;
}

/**
 * Lets the test's calls end on both sides before the fixtures (and so the clients) are torn down: a peer
 * destroyed while PeerJS still sets up a connection throws an uncaught error into the next test. (A fake client keeps
 * its last call listed after it ended, and has no PeerJS to wait for.)
 */
export async function settle(): Promise<void> {
  const clients = [...document.querySelectorAll('call-provider')].map((p) => p.client).filter((c) => c !== null);
  for (const c of clients) for (const call of c.activeCalls) call.hangup();
  await waitFor(() => clients.every((c) => c.activeCalls.every((call) => call.state === 'ended')), 5000, 'calls ended').catch(() => undefined);
  if (clients.some((c) => c instanceof CallClient)) await new Promise((r) => setTimeout(r, 400));
}
