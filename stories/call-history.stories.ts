import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import { CallingError, loadCallHistoryElement } from '../src/index.js';
import { historyEntry, type FakeClientOptions } from './support/fake-client.js';
import { onFakeClient } from './support/story-helpers.js';

// The element ships as a lazy chunk: a story page fetches it like any page does.
void loadCallHistoryElement();

interface Args { client: FakeClientOptions; lang?: string; limit: number }

const meta: Meta<Args> = {
  title: 'Elements/call-history',
  component: 'call-history',
  argTypes: { client: { table: { disable: true } }, lang: { control: 'select', options: ['en', 'sv'] }, limit: { control: 'number' } },
  args: { limit: 20 },
  render: (args) => onFakeClient(args.client, html`<call-history lang=${ifDefined(args.lang)} limit=${args.limit}></call-history>`),
};
export default meta;
type Story = StoryObj<Args>;

const recent = [
  historyEntry(3, { direction: 'incoming', remote: 'bob', remoteDisplayName: 'Bob Lindqvist', answered: false, duration: 0, endCause: 'canceled' }),
  historyEntry(42, { remote: '+46701234567', callType: 'phone', duration: 312 }),
  historyEntry(180, { direction: 'incoming', remote: 'carol', remoteDisplayName: 'Carol Berg', video: true, duration: 1260 }),
  historyEntry(60 * 26, { remote: 'dave', answered: false, duration: 0, endCause: 'denied' }),
  historyEntry(60 * 50, { remote: 'support@pbx.example', callType: 'sip', duration: 48 }),
  historyEntry(60 * 73, { remote: 'weekly-sync', callType: 'conference', duration: 1805 }),
];

export const List: Story = { args: { client: { history: recent } } };
export const Paged: Story = { name: 'Paged ("Show more")', args: { client: { history: recent }, limit: 3 } };
export const Empty: Story = { args: { client: { history: [] } } };
export const Loading: Story = { args: { client: { history: 'loading' } } };
export const LoadError: Story = {
  name: 'Error',
  args: { client: { history: new CallingError('network', 'history-timeout', 'The calling server did not answer the call history request.') } },
};
export const Swedish: Story = { name: 'Swedish (sv)', args: { client: { history: recent }, lang: 'sv' } };
export const Dark: Story = {
  args: { client: { history: recent } },
  render: (args) => onFakeClient(args.client, html`<call-history theme="dark" limit=${args.limit}></call-history>`),
};
