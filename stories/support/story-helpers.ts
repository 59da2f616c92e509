import { html, type TemplateResult } from 'lit';
import { ref } from 'lit/directives/ref.js';
import type { CallProviderElement } from '../../src/index.js';
import { asCallClient, FakeCallClient, type FakeClientOptions } from './fake-client.js';

/**
 * A `<call-provider>` running on a fresh fake client, around `content`. The client is injected through the
 * provider's `client` property, exactly as a page shares its own `CallClient`.
 */
export function onFakeClient(options: FakeClientOptions, content: TemplateResult, onClient?: (c: FakeCallClient) => void): TemplateResult {
  const client = new FakeCallClient(options);
  onClient?.(client);
  return html`<call-provider ${ref((el) => {
    if (el) (el as CallProviderElement).client = asCallClient(client);
  })}>${content}</call-provider>`;
}

/** A story-level wait: lets timers (e.g. the fake connecting) and renders settle. */
export const settle = (ms = 50) => new Promise<void>((r) => setTimeout(r, ms));
